//! The SAM template, read as YAML with CloudFormation's short tags turned into their long JSON form
//! (`!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` -> `{"Fn::Sub": s}`).

use serde_json::{Map, Number, Value, json};
use serde_yaml_ng::Value as Yaml;

#[derive(Clone, Debug)]
pub struct Template {
    doc: Value,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let yaml: Yaml =
            serde_yaml_ng::from_str(text).map_err(|e| format!("the template is not YAML: {e}"))?;
        let doc = to_json(yaml)?;
        if doc.get("Resources").and_then(Value::as_object).is_none() {
            return Err("the template has no Resources".into());
        }
        Ok(Self { doc })
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    pub fn resources(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.doc
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    pub fn resource(&self, name: &str) -> Option<&Value> {
        self.resources().get(name)
    }

    /// Logical ids and bodies of the resources of one type.
    pub fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.resources()
            .iter()
            .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(name, r)| (name.as_str(), r))
    }

    /// A function's property as SAM resolves it: its own value, or the `Globals.Function` one it
    /// inherits; maps are merged, its own keys winning.
    pub fn function_property(&self, function: &str, key: &str) -> Option<Value> {
        let own = self
            .resource(function)
            .and_then(|r| r.pointer(&format!("/Properties/{key}")));
        let global = self.doc.pointer(&format!("/Globals/Function/{key}"));
        match (global, own) {
            (Some(Value::Object(global)), Some(Value::Object(own))) => {
                let mut merged = global.clone();
                merged.extend(own.clone());
                Some(Value::Object(merged))
            }
            (global, own) => own.or(global).cloned(),
        }
    }

    /// A function's environment: the global variables with its own on top, as SAM merges them.
    pub fn function_environment(&self, function: &str) -> Map<String, Value> {
        let variables = |base: Option<&Value>| {
            base.and_then(|v| v.pointer("/Environment/Variables"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut env = variables(self.doc.pointer("/Globals/Function"));
        env.extend(variables(
            self.resource(function).and_then(|r| r.get("Properties")),
        ));
        env
    }

    /// The logical id a `{"Ref": id}` (or `!Ref id`) names.
    pub fn ref_target(value: &Value) -> Option<&str> {
        value.get("Ref").and_then(Value::as_str)
    }
}

/// IAM statements of a SAM `Policies` list (inline documents, including those behind `!If`).
pub fn policy_statements(policies: &Value) -> Vec<&Value> {
    fn documents<'a>(policy: &'a Value, out: &mut Vec<&'a Value>) {
        if let Some(branches) = policy.get("Fn::If").and_then(Value::as_array) {
            branches.iter().skip(1).for_each(|b| documents(b, out));
        } else if let Some(statements) = policy.get("Statement") {
            match statements {
                Value::Array(items) => out.extend(items),
                single => out.push(single),
            }
        }
    }
    let mut out = Vec::new();
    for policy in policies.as_array().into_iter().flatten() {
        documents(policy, &mut out);
    }
    out
}

/// A statement's actions, whether given as one string or a list.
pub fn statement_actions(statement: &Value) -> Vec<&str> {
    match statement.get("Action") {
        Some(Value::String(action)) => vec![action.as_str()],
        Some(Value::Array(actions)) => actions.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn to_json(yaml: Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("number {n} has no JSON form"))?
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Bool(b) => b.to_string(),
                    Yaml::Number(n) => n.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!').to_owned();
            let value = to_json(tagged.value)?;
            match tag.as_str() {
                "Ref" | "Condition" => json!({ tag: value }),
                "GetAtt" => match value {
                    Value::String(s) => {
                        let (resource, attribute) = s
                            .split_once('.')
                            .ok_or_else(|| format!("!GetAtt {s} names no attribute"))?;
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                _ => json!({ format!("Fn::{tag}"): value }),
            }
        }
    })
}
