//! Where the scheduled status report goes: the notification topic (`REPORT_TOPIC_ARN`), as a text
//! table for people (e-mail, SMS) and as JSON for programs (SQS, Lambda, HTTP, `email-json`
//! subscriptions), in one SNS message with a body per protocol.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sns::error::DisplayErrorContext;
use serde_json::{Value, json};
use shared::workflow::{ErrorName, WorkflowError};
use tokio::sync::OnceCell;

/// The variable that names the topic; unset, the report is only returned (and logged).
pub const REPORT_TOPIC_VARIABLE: &str = "REPORT_TOPIC_ARN";
/// SNS refuses a message over 256 KiB.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, Default)]
pub struct ReportDelivery {
    topic: Option<String>,
    /// Built by the first report: a check of a run never needs it.
    sns: OnceCell<aws_sdk_sns::Client>,
}

impl ReportDelivery {
    pub fn from_env() -> Self {
        Self {
            topic: std::env::var(REPORT_TOPIC_VARIABLE)
                .ok()
                .filter(|t| !t.trim().is_empty()),
            sns: OnceCell::new(),
        }
    }

    /// A client of its own (pointed at a stand-in, say).
    pub fn with_client(topic: String, client: aws_sdk_sns::Client) -> Self {
        Self {
            topic: Some(topic),
            sns: OnceCell::new_with(Some(client)),
        }
    }

    /// Publishes `report` (with its `text`); a failure fails the invocation, so the schedule's
    /// retry and failure destination take over.
    pub async fn send(&self, report: &Value) -> Result<(), WorkflowError> {
        let Some(topic) = &self.topic else {
            return Ok(());
        };
        let sns = self
            .sns
            .get_or_init(|| async {
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(Duration::from_secs(20))
                            .build(),
                    )
                    .load()
                    .await;
                aws_sdk_sns::Client::new(&sdk)
            })
            .await;
        let (subject, message) = message(report);
        sns.publish()
            .topic_arn(topic)
            .subject(subject)
            .message_structure("json")
            .message(message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                WorkflowError::new(
                    ErrorName::Transient,
                    format!(
                        "the status report could not be sent to {topic}: {}",
                        DisplayErrorContext(&e)
                    ),
                )
            })
    }
}

/// The subject and the per-protocol bodies: text by default, JSON for programs.
pub fn message(report: &Value) -> (String, String) {
    let checked = report["checked"].as_u64().unwrap_or(0);
    let failed = report["failed"].as_u64().unwrap_or(0);
    let subject = match failed {
        0 => format!("Azure Marketplace: status of {checked} offers"),
        _ => format!("Azure Marketplace: status of {checked} offers ({failed} unreadable)"),
    };
    let text = report["text"].as_str().unwrap_or_default().to_owned();
    let mut data = report.clone();
    if let Some(fields) = data.as_object_mut() {
        fields.remove("text");
    }
    let data = data.to_string();
    // E-mail and SMS take the default.
    let bodies = json!({
        "default": text,
        "email-json": data,
        "sqs": data,
        "lambda": data,
        "http": data,
        "https": data,
    })
    .to_string();
    if bodies.len() <= MAX_MESSAGE_BYTES {
        return (subject, bodies);
    }
    // A long watch list: the table alone (cut to fit); the JSON stays in the function's output and log.
    let note = "\n(the report's JSON is too large for one SNS message: see check-last-operation's log group)\n";
    let mut cut = text.len().min(MAX_MESSAGE_BYTES / 2 - note.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let table_only = json!({"default": format!("{}{note}", &text[..cut])});
    (subject, table_only.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_get_the_table_and_programs_the_json() {
        let report =
            json!({"checked": 2, "failed": 1, "offers": [{"offerId": "a"}], "text": "OFFER\na\n"});
        let (subject, message) = message(&report);
        assert_eq!(
            subject,
            "Azure Marketplace: status of 2 offers (1 unreadable)"
        );
        let bodies: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(bodies["default"], "OFFER\na\n");
        let data: Value = serde_json::from_str(bodies["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(data["offers"][0]["offerId"], "a");
        assert!(data.get("text").is_none(), "the JSON carries the data once");
    }

    #[test]
    fn a_report_too_large_for_sns_is_sent_as_its_table_alone() {
        let offers: Vec<Value> = (0..2_000)
            .map(|i| json!({"offerId": format!("offer-{i:04}"), "status": "running", "messages": ["x".repeat(100)]}))
            .collect();
        let text = "OFFER  STATUS\n".to_owned() + &"contoso/offer-0000  running\n".repeat(2_000);
        let report = json!({"checked": 2_000, "failed": 0, "offers": offers, "text": text});
        let (_, message) = message(&report);
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "{} bytes",
            message.len()
        );
        let bodies: Value = serde_json::from_str(&message).unwrap();
        let table = bodies["default"].as_str().unwrap();
        assert!(
            table.starts_with("OFFER  STATUS\ncontoso/offer-0000"),
            "{table:.40}"
        );
        assert!(table.contains("too large for one SNS message"));
        assert!(bodies.get("sqs").is_none());
    }
}
