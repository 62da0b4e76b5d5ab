//! build-finished with its AWS clients pointed at the fakes, and the clock at [`NOW`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use build_finished::{AwsClients, Deps, handle};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::clock::ManualClock;
use shared::config::TriggerConfig;
use shared::workflow::WorkflowError;
use time::OffsetDateTime;
use time::macros::datetime;

use super::s3::FakeS3;
use super::sfn::FakeSfn;

pub const STATE_MACHINE: &str = "arn:aws:states:eu-west-1:111122223333:stateMachine:publish";
pub const RELEASE_STATE_MACHINE: &str =
    "arn:aws:states:eu-west-1:111122223333:stateMachine:release";
pub const NOW: OffsetDateTime = datetime!(2026-11-21 00:00 UTC);

pub struct Harness {
    pub deps: Deps,
    pub s3: FakeS3,
    pub sfn: FakeSfn,
}

impl Harness {
    pub async fn start() -> Self {
        let (s3, sfn) = (FakeS3::start().await, FakeSfn::start().await);
        let config = TriggerConfig {
            publisher_id: None,
            sas_min_validity_days: 21,
            state_machine_arn: STATE_MACHINE.into(),
            release_state_machine_arn: Some(RELEASE_STATE_MACHINE.into()),
            manifest_bucket: None,
            manifest_prefix: None,
            marketplace_api: shared::marketplace::Api::Cpp,
        };
        let (s3_client, sfn_client) = super::clients(&s3, &sfn, "test-secret-key");
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.unix_timestamp() as u64);
        let clock = Arc::new(ManualClock::new(start));
        let deps = Deps {
            config,
            aws: AwsClients::given(s3_client, sfn_client),
            clock,
        };
        Self { deps, s3, sfn }
    }

    pub async fn run(&self, event: Value) -> Result<Value, WorkflowError> {
        handle(LambdaEvent::new(event, Context::default()), &self.deps).await
    }
}
