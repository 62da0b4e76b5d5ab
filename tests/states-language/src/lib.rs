//! The data flow of the Amazon States Language (JSONPath), as Step Functions runs it: reference paths,
//! payload templates with the intrinsics our definition uses, Choice rules, ResultSelector / ResultPath /
//! OutputPath, and which Retry or Catch rule matches an error. The benchmark runs whole executions on
//! it; the infrastructure checks follow the definition's routing with it.
//!
//! Covered: Choice (And/Or/Not, StringEquals, IsPresent, IsNull, Boolean and Numeric comparisons); paths
//! `$`, `$.a.b`, `$[0].a`, `$$.Execution.Id`; intrinsics States.JsonMerge, States.Format,
//! States.JsonToString.

use serde_json::{Map, Value, json};

/// A failed step: the error name and cause Step Functions would see.
pub struct StepError {
    pub error: String,
    pub cause: String,
}

impl StepError {
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self {
            error: "States.Runtime".into(),
            cause: cause.into(),
        }
    }
}

pub type Step<T> = Result<T, StepError>;

pub fn transition(state: &Value) -> Option<String> {
    if state["End"] == true {
        None
    } else {
        state["Next"].as_str().map(str::to_owned)
    }
}

/// Whether a Retry or Catch rule's `ErrorEquals` takes `error`. As in Step Functions, `States.ALL`
/// takes every error but the terminal ones: a runtime error (a path that matches nothing, a failed
/// intrinsic) and a payload over the size limit end the execution whatever the rules say.
pub fn matches(error_equals: &Value, error: &str) -> bool {
    let terminal = matches!(error, "States.Runtime" | "States.DataLimitExceeded");
    error_equals.as_array().into_iter().flatten().any(|e| {
        e == error
            || (e == "States.ALL" && !terminal)
            || (e == "States.TaskFailed"
                && error != "States.Timeout"
                && !error.starts_with("States."))
    })
}

/// A Catch that matches: the error goes to its ResultPath and the execution goes on at its Next.
pub fn catch(state: &Value, data: &Value, failure: StepError) -> Step<(Value, String)> {
    let catcher = state["Catch"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| matches(&c["ErrorEquals"], &failure.error));
    let Some(catcher) = catcher else {
        return Err(failure);
    };
    let error = json!({"Error": failure.error, "Cause": failure.cause});
    let mut out = data.clone();
    match catcher.get("ResultPath") {
        Some(Value::Null) => {}
        Some(Value::String(path)) => set_path(&mut out, path, error)?,
        _ => out = error,
    }
    let next = catcher["Next"].as_str().unwrap_or_default().to_owned();
    Ok((out, next))
}

pub fn input_path(state: &Value, data: &Value) -> Step<Value> {
    match state.get("InputPath") {
        None => Ok(data.clone()),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => get_path(data, path)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("InputPath {path} matches nothing"))),
        Some(other) => Err(StepError::runtime(format!("bad InputPath {other}"))),
    }
}

/// What a Task or Parallel state hands on: InputPath, then its Parameters template.
pub fn effective_input(state: &Value, data: &Value, context: &Value) -> Step<Value> {
    let effective = input_path(state, data)?;
    match state.get("Parameters") {
        Some(template) => resolve(template, &effective, context),
        None => Ok(effective),
    }
}

/// A Pass state: its Result, or its Parameters over the input, placed by ResultPath and OutputPath.
pub fn pass(state: &Value, data: &Value, context: &Value) -> Step<Value> {
    let effective = input_path(state, data)?;
    let result = match (state.get("Result"), state.get("Parameters")) {
        (Some(result), _) => result.clone(),
        (None, Some(template)) => resolve(template, &effective, context)?,
        (None, None) => effective,
    };
    output(state, data, result, context)
}

/// ResultSelector, ResultPath and OutputPath, in that order.
pub fn output(state: &Value, data: &Value, result: Value, context: &Value) -> Step<Value> {
    let result = match state.get("ResultSelector") {
        Some(selector) => resolve(selector, &result, context)?,
        None => result,
    };
    let merged = match state.get("ResultPath") {
        None => result,
        Some(Value::Null) => data.clone(),
        Some(Value::String(path)) => {
            let mut merged = data.clone();
            set_path(&mut merged, path, result)?;
            merged
        }
        Some(other) => return Err(StepError::runtime(format!("bad ResultPath {other}"))),
    };
    match state.get("OutputPath") {
        None => Ok(merged),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => get_path(&merged, path)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("OutputPath {path} matches nothing"))),
        Some(other) => Err(StepError::runtime(format!("bad OutputPath {other}"))),
    }
}

pub fn choose(state: &Value, data: &Value) -> Step<String> {
    for choice in state["Choices"].as_array().into_iter().flatten() {
        if rule(choice, data)? {
            return choice["Next"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| StepError::runtime("a choice without Next"));
        }
    }
    state["Default"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| StepError {
            error: "States.NoChoiceMatched".into(),
            cause: "no choice matched and there is no Default".into(),
        })
}

pub fn rule(rule: &Value, data: &Value) -> Step<bool> {
    if let Some(all) = rule["And"].as_array() {
        for r in all {
            if !self::rule(r, data)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(any) = rule["Or"].as_array() {
        for r in any {
            if self::rule(r, data)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if rule.get("Not").is_some() {
        return Ok(!self::rule(&rule["Not"], data)?);
    }
    let variable = rule["Variable"]
        .as_str()
        .ok_or_else(|| StepError::runtime("a choice rule without Variable"))?;
    let value = get_path(data, variable);
    if let Some(expected) = rule.get("IsPresent") {
        return Ok(value.is_some() == (expected == true));
    }
    // As in Step Functions: comparing a path that is not there is a runtime error.
    let value = value.ok_or_else(|| StepError::runtime(format!("Invalid path '{variable}': the choice state's condition path references an invalid value")))?;
    let number = |field: &str| rule[field].as_f64().zip(value.as_f64());
    Ok(if let Some(s) = rule.get("StringEquals") {
        value == s
    } else if let Some(b) = rule.get("BooleanEquals") {
        value == b
    } else if let Some(expected) = rule.get("IsNull") {
        value.is_null() == (expected == true)
    } else if let Some((want, got)) = number("NumericEquals") {
        got == want
    } else if let Some((want, got)) = number("NumericLessThan") {
        got < want
    } else if let Some((want, got)) = number("NumericGreaterThan") {
        got > want
    } else if let Some((want, got)) = number("NumericLessThanEquals") {
        got <= want
    } else if let Some((want, got)) = number("NumericGreaterThanEquals") {
        got >= want
    } else {
        return Err(StepError::runtime(format!(
            "unsupported choice rule {rule}"
        )));
    })
}

/// A payload template: `"key.$"` fields take a path's value or an intrinsic's result.
pub fn resolve(template: &Value, input: &Value, context: &Value) -> Step<Value> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, value) in fields {
                match (key.strip_suffix(".$"), value) {
                    (Some(key), Value::String(expression)) => {
                        out.insert(key.to_owned(), evaluate(expression, input, context)?);
                    }
                    _ => {
                        out.insert(key.clone(), resolve(value, input, context)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

pub fn evaluate(expression: &str, input: &Value, context: &Value) -> Step<Value> {
    let expression = expression.trim();
    if let Some(path) = expression.strip_prefix('$').filter(|p| p.starts_with('$')) {
        return get_path(context, path).cloned().ok_or_else(|| {
            StepError::runtime(format!("context path {expression} matches nothing"))
        });
    }
    if expression.starts_with('$') {
        return get_path(input, expression)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("path {expression} matches nothing")));
    }
    let (function, args) = expression
        .strip_suffix(')')
        .and_then(|e| e.split_once('('))
        .ok_or_else(|| StepError::runtime(format!("cannot evaluate {expression}")))?;
    let args: Vec<Value> = split_args(args)
        .into_iter()
        .map(|arg| argument(&arg, input, context))
        .collect::<Step<_>>()?;
    match function.trim() {
        "States.JsonMerge" => match (args.first(), args.get(1)) {
            (Some(Value::Object(base)), Some(Value::Object(over))) => {
                let mut merged = base.clone();
                merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(Value::Object(merged))
            }
            _ => Err(StepError::runtime("States.JsonMerge needs two objects")),
        },
        "States.JsonToString" => Ok(Value::String(
            args.first().map(Value::to_string).unwrap_or_default(),
        )),
        "States.Format" => {
            let template = args.first().and_then(Value::as_str).unwrap_or_default();
            let mut values = args.iter().skip(1);
            let mut text = String::new();
            for (i, part) in template.split("{}").enumerate() {
                if i > 0 {
                    match values.next() {
                        Some(Value::String(s)) => text.push_str(s),
                        Some(v) => text.push_str(&v.to_string()),
                        None => {}
                    }
                }
                text.push_str(part);
            }
            Ok(Value::String(text))
        }
        other => Err(StepError::runtime(format!("unsupported intrinsic {other}"))),
    }
}

fn argument(arg: &str, input: &Value, context: &Value) -> Step<Value> {
    let arg = arg.trim();
    if let Some(text) = arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
        return Ok(Value::String(text.replace("\\'", "'")));
    }
    if arg.starts_with('$') || arg.starts_with("States.") {
        return evaluate(arg, input, context);
    }
    serde_json::from_str(arg).map_err(|_| StepError::runtime(format!("cannot read argument {arg}")))
}

/// Splits intrinsic arguments on top-level commas (not inside quotes or parentheses).
fn split_args(args: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted, mut escaped) =
        (Vec::new(), String::new(), 0i32, false, false);
    for c in args.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

enum Segment {
    Field(String),
    Index(usize),
}

fn segments(path: &str) -> Option<Vec<Segment>> {
    let mut rest = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            out.push(Segment::Field(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            out.push(Segment::Index(after[..end].trim().parse().ok()?));
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

pub fn get_path<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    segments(path)?
        .iter()
        .try_fold(root, |value, segment| match segment {
            Segment::Field(name) => value.get(name),
            Segment::Index(i) => value.get(i),
        })
}

pub fn set_path(root: &mut Value, path: &str, value: Value) -> Step<()> {
    let segments = segments(path).ok_or_else(|| StepError::runtime(format!("bad path {path}")))?;
    let mut target = root;
    for segment in &segments {
        let Segment::Field(name) = segment else {
            return Err(StepError::runtime(format!(
                "cannot write into an array: {path}"
            )));
        };
        if !target.is_object() {
            *target = json!({});
        }
        target = target
            .as_object_mut()
            .map(|fields| fields.entry(name.clone()).or_insert(Value::Null))
            .ok_or_else(|| StepError::runtime(format!("cannot write {path}")))?;
    }
    *target = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_and_write() {
        let mut data = json!({"a": {"b": [1, {"c": "x"}]}});
        assert_eq!(get_path(&data, "$.a.b[1].c"), Some(&json!("x")));
        assert_eq!(get_path(&data, "$"), Some(&data.clone()));
        set_path(&mut data, "$.error", json!({"Error": "E"})).ok();
        assert_eq!(data["error"]["Error"], "E");
    }

    #[test]
    fn intrinsics_the_definition_uses() {
        let input = json!({"a": {"x": 1, "y": 2}, "b": {"y": 3}, "n": "v", "list": ["m"]});
        let context = json!({"Execution": {"Id": "id"}});
        let merged = evaluate("States.JsonMerge($.a, $.b, false)", &input, &context).ok();
        assert_eq!(merged, Some(json!({"x": 1, "y": 3})));
        let text = evaluate(
            "States.Format('{} is {}, said: {}', $.n, $.a.x, States.JsonToString($.list))",
            &input,
            &context,
        )
        .ok();
        assert_eq!(text, Some(json!("v is 1, said: [\"m\"]")));
        assert_eq!(
            evaluate("$$.Execution.Id", &input, &context).ok(),
            Some(json!("id"))
        );
    }

    #[test]
    fn states_all_does_not_catch_a_runtime_error() {
        let all = json!(["States.ALL"]);
        assert!(matches(&all, "OfferBusy"));
        assert!(matches(&all, "States.Timeout"));
        assert!(!matches(&all, "States.Runtime"));
        assert!(!matches(&all, "States.DataLimitExceeded"));
        assert!(matches(&json!(["States.Runtime"]), "States.Runtime"));
    }

    #[test]
    fn choice_rules() {
        let data = json!({"action": "publish", "operationStatus": "running"});
        let guarded = json!({"And": [{"Variable": "$.action", "IsPresent": true}, {"Variable": "$.action", "StringEquals": "publish"}]});
        assert!(rule(&guarded, &data).ok().unwrap_or(false));
        let missing = json!({"Variable": "$.outcome", "StringEquals": "x"});
        assert!(rule(&missing, &data).is_err());
    }
}
