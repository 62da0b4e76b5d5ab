//! What tells people how the publications go: the alarms, the queue metric and the dashboard, each
//! tied to what the functions really log.

use super::*;

fn alarms(template: &Template) -> Vec<Value> {
    template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .map(|(_, a)| a["Properties"].clone())
        .collect()
}

#[test]
fn failed_timed_out_and_aborted_executions_raise_alarms_on_the_topic() {
    let alarms = alarms(&template());
    for metric in [
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    ] {
        let alarm = alarms
            .iter()
            .find(|a| a["MetricName"] == metric)
            .unwrap_or_else(|| panic!("no alarm on {metric}"));
        assert_eq!(alarm["Namespace"], "AWS/States");
        assert_eq!(
            alarm["Dimensions"][0]["Value"],
            json!({"Ref": "PublishStateMachine"})
        );
        assert_eq!(alarm["AlarmActions"], json!([{"Ref": "NotificationTopic"}]));
    }
}

/// The message a metric filter pattern `{ $.fields.message = "..." }` matches.
fn filtered_message(pattern: &str) -> Option<&str> {
    pattern
        .trim()
        .strip_prefix("{ $.fields.message = \"")?
        .strip_suffix("\" }")
}

#[test]
fn a_publication_queued_too_long_raises_an_alarm_from_the_line_update_and_publish_logs() {
    let template = template();
    let (_, filter) = template
        .resources_of_type("AWS::Logs::MetricFilter")
        .next()
        .expect("a metric filter");
    let filter = &filter["Properties"];
    assert_eq!(
        filter["LogGroupName"],
        json!({"Ref": "UpdateAndPublishLogGroup"})
    );
    let message = filtered_message(filter["FilterPattern"].as_str().unwrap())
        .expect("a pattern on the log line's message");
    let code = read_repo_file("functions/update-and-publish/src/lib.rs").unwrap();
    assert!(
        code.contains(&format!("\"{message}\"")),
        "update-and-publish logs {message:?}"
    );
    let metric = &filter["MetricTransformations"][0];
    let field = metric["MetricValue"]
        .as_str()
        .and_then(|v| v.strip_prefix("$.fields."))
        .expect("a field of the log line");
    assert!(
        code.contains(&format!("{field} = ")),
        "update-and-publish logs {field}"
    );
    let alarm = alarms(&template)
        .into_iter()
        .find(|a| a["MetricName"] == metric["MetricName"])
        .expect("an alarm on the queue metric");
    assert_eq!(alarm["Namespace"], metric["MetricNamespace"]);
    assert_eq!(alarm["Statistic"], "Maximum");
    assert_eq!(alarm["Threshold"], json!({"Ref": "QueueAlarmDays"}));
    assert!(
        alarm["Period"].as_u64().unwrap() > 4 * 3_600,
        "longer than the 4 h between two visits of a queued run, so the alarm holds"
    );
    assert_eq!(alarm["AlarmActions"], json!([{"Ref": "NotificationTopic"}]));
    let days = &template.doc()["Parameters"]["QueueAlarmDays"];
    assert!(
        days["MaxValue"].as_u64().unwrap() <= u64::from(shared::config::QUEUE_MAX_DAYS_LIMIT),
        "an alarm after the longest queue could never go off"
    );
}

/// The dashboard's body with its `${...}` substitutions filled (numbers where a number stands).
fn dashboard_body(template: &Template) -> (String, Value) {
    let body = template
        .resource("Dashboard")
        .and_then(|d| d.pointer("/Properties/DashboardBody/Fn::Sub"))
        .and_then(Value::as_str)
        .expect("a dashboard whose body is a Fn::Sub")
        .to_owned();
    let mut filled = body.replace("${QueueAlarmDays}", "7");
    while let Some(start) = filled.find("${") {
        let end = start + filled[start..].find('}').unwrap();
        let name = filled[start + 2..end].replace("::", "-");
        filled.replace_range(start..=end, &format!("substituted-{name}"));
    }
    let doc = serde_json::from_str(&filled).expect("the dashboard body is JSON");
    (body, doc)
}

#[test]
fn the_dashboard_shows_outcomes_the_queue_failures_by_name_and_every_function() {
    let template = template();
    let (body, doc) = dashboard_body(&template);
    let titles: Vec<&str> = doc["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["properties"]["title"].as_str())
        .collect();
    for wanted in [
        "Executions by outcome",
        "Publications waiting in the queue",
        "Failed invocations by error name",
        "Function errors",
        "Function duration",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(wanted)),
            "{wanted}: {titles:?}"
        );
    }
    for (name, _) in template.resources_of_type("AWS::Serverless::Function") {
        assert!(
            body.contains(&format!("${{{name}}}")),
            "{name} on the dashboard"
        );
        let group = format!("{}LogGroup", name.trim_end_matches("Function"));
        assert!(
            body.contains(&format!("SOURCE '${{{group}}}'")),
            "{group} queried"
        );
    }
    for metric in [
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsAborted",
        "QueuedDays",
    ] {
        assert!(body.contains(metric), "{metric}");
    }
    // The failures widget counts the line every function logs when an invocation fails.
    let logged = read_repo_file("shared/src/workflow/error.rs").unwrap();
    assert!(body.contains("fields.message = 'invocation failed'"));
    assert!(logged.contains("\"invocation failed\"") && logged.contains("error_name = "));
    assert!(body.contains("by fields.error_name"));
    // Every substitution names a parameter, a resource or a pseudo parameter.
    let mut rest = body.as_str();
    while let Some(start) = rest.find("${") {
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 2..end];
        assert!(
            name.starts_with("AWS::")
                || template.resource(name).is_some()
                || template.doc()["Parameters"].get(name).is_some(),
            "the dashboard substitutes {name}, which the template does not define"
        );
        rest = &rest[end..];
    }
}

#[test]
fn the_outputs_give_the_dashboard() {
    let template = template();
    let url = &template.doc()["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"];
    assert!(
        url.as_str()
            .unwrap()
            .contains("#dashboards:name=${Dashboard}"),
        "{url}"
    );
}
