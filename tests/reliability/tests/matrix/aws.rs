//! The build-finished side: the handler with in-process S3 and Step Functions stand-ins (the same
//! fakes build-finished's own tests use), on a fixed clock.

// Not every helper of the shared fakes is used here.
#[allow(dead_code)]
#[path = "../../../../functions/build-finished/tests/fakes/mod.rs"]
mod fakes;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use build_finished::{Deps, handle};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::clock::ManualClock;
use shared::config::TriggerConfig;
use shared::workflow::{ErrorName, WorkflowError};
use time::OffsetDateTime;
use time::macros::datetime;

pub use fakes::s3::FakeS3;
pub use fakes::sfn::FakeSfn;

pub const STATE_MACHINE: &str = "arn:aws:states:eu-west-1:111122223333:stateMachine:publish";
pub const BUCKET: &str = "contoso-builds";
pub const PREFIX: &str = "manifests/";
pub const KEY: &str = "manifests/contoso-linux/gen2/1.4.0.json";
/// The signature of the sample manifests' SAS URL; it must never show.
pub const SIGNATURE: &str = "EXAMPLEsignatureNOTreal";
pub const NOW: OffsetDateTime = datetime!(2026-11-21 00:00 UTC);
/// The secret access key the AWS clients sign with.
pub const AWS_SECRET_KEY: &str = "aws-secret-key-NEVER-shown";

pub struct Trigger {
    pub deps: Deps,
    pub s3: FakeS3,
    pub sfn: FakeSfn,
}

impl Trigger {
    /// build-finished accepting storage events from any bucket and key.
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// build-finished with its configuration changed by `configure`.
    pub async fn with(configure: impl FnOnce(&mut TriggerConfig)) -> Self {
        let (s3, sfn) = (FakeS3::start().await, FakeSfn::start().await);
        let mut config = TriggerConfig {
            publisher_id: None,
            sas_min_validity_days: 21,
            state_machine_arn: STATE_MACHINE.into(),
            release_state_machine_arn: None,
            manifest_bucket: None,
            manifest_prefix: None,
            marketplace_api: shared::marketplace::Api::Cpp,
        };
        configure(&mut config);
        let (s3_client, sfn_client) = fakes::clients(&s3, &sfn, AWS_SECRET_KEY);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.unix_timestamp() as u64);
        let deps = Deps {
            config,
            aws: build_finished::AwsClients::given(s3_client, sfn_client),
            clock: Arc::new(ManualClock::new(start)),
        };
        Self { deps, s3, sfn }
    }

    pub async fn run(&self, event: Value) -> Result<Value, WorkflowError> {
        handle(LambdaEvent::new(event, Context::default()), &self.deps).await
    }

    /// Asserts that nothing was started: no StartExecution reached Step Functions.
    pub fn assert_nothing_started(&self) {
        let calls = self.sfn.calls();
        assert!(calls.is_empty(), "StartExecution was called: {calls:?}");
    }
}

pub fn sample(name: &str) -> Value {
    let path = format!("{}/../../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The sample build manifest (a SAS valid until 2030, far beyond `NOW` + 21 days).
pub fn manifest() -> Value {
    sample("manifest-direct.json")
}

pub fn sas_url() -> String {
    manifest()["osVhdUrl"].as_str().unwrap().to_owned()
}

/// An S3 notification naming `key` in `bucket`, as S3 sends it (the key already form-encoded).
pub fn notification(bucket: &str, key: &str) -> Value {
    let mut event = sample("s3-notification.json");
    event["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    event["Records"][0]["s3"]["object"]["key"] = json!(key);
    event
}

/// An EventBridge "Object Created" event naming `key` in `bucket` (keys are not encoded there).
pub fn object_created(bucket: &str, key: &str) -> Value {
    let mut event = sample("eventbridge-object-created.json");
    event["detail"]["bucket"]["name"] = json!(bucket);
    event["detail"]["object"]["key"] = json!(key);
    event
}

/// An `InvalidInput` error whose message holds every one of `expected`, never the SAS signature.
pub fn assert_invalid(err: &WorkflowError, expected: &[&str]) {
    assert_eq!(err.name, ErrorName::InvalidInput, "{err}");
    for part in expected {
        assert!(err.message.contains(part), "{part:?} not in: {err}");
    }
    assert!(
        !err.message.contains(SIGNATURE),
        "the SAS signature shows: {err}"
    );
}
