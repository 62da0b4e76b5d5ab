//! build-finished: a build manifest arrives (S3 notification, EventBridge, or sent directly), is read and
//! validated, and starts the publishing state machine under a deterministic name.

pub mod aws_clients;
pub mod aws_error;
pub mod event;
pub mod execution_name;
pub mod manifest_object;
mod release;
pub mod start;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::clock::{Clock, SystemClock};
use shared::config::{ConfigError, TriggerConfig};
use shared::workflow::{
    Action, ErrorName, Manifest, ManifestRules, PublishRequest, WorkflowError, WorkflowState,
};
use time::OffsetDateTime;

pub use crate::aws_clients::AwsClients;
use crate::event::{ObjectRef, Trigger};
use crate::execution_name::execution_name;
use crate::start::{Started, start_execution};

/// What a handler needs, built once per cold start.
#[derive(Debug)]
pub struct Deps {
    pub config: TriggerConfig,
    pub aws: AwsClients,
    pub clock: Arc<dyn Clock>,
}

/// Every AWS call is bounded: a hung connection must not eat the invocation.
pub fn aws_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(25))
        .build()
}

impl Deps {
    /// The configuration from the environment; a missing `STATE_MACHINE_ARN` fails the cold start.
    /// The AWS clients are built by the first invocation that needs them.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            config: TriggerConfig::from_env()?,
            aws: AwsClients::from_env(),
            clock: Arc::new(SystemClock),
        })
    }

    fn rules(&self) -> ManifestRules<'_> {
        ManifestRules {
            default_publisher: self.config.publisher_id.as_deref(),
            default_api: self.config.marketplace_api,
            sas_min_validity_days: self.config.sas_min_validity_days,
            now: OffsetDateTime::from(self.clock.now()),
        }
    }
}

/// A validated manifest, ready to start.
struct Publish {
    target: String,
    name: String,
    input: String,
    /// The publish state machine, or the release state machine for a release.
    state_machine_arn: String,
}

/// Starts one execution per manifest the event delivers; output lists what was started and what was a duplicate.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, WorkflowError> {
    respond(event, deps)
        .await
        .inspect_err(WorkflowError::log_failure)
}

async fn respond(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, WorkflowError> {
    let publishes = prepare(Trigger::from_event(event.payload)?, deps).await?;
    let mut started = Vec::new();
    let mut duplicates = Vec::new();
    let mut seen = HashSet::new();
    for Publish {
        target,
        name,
        input,
        state_machine_arn,
    } in publishes
    {
        let outcome = if seen.insert(name.clone()) {
            start_execution(deps.aws.sfn().await, &state_machine_arn, &name, input).await?
        } else {
            Started::Duplicate
        };
        match outcome {
            Started::New { execution_arn } => {
                tracing::info!(%target, execution_name = %name, %execution_arn, "started publish execution");
                started
                    .push(json!({"executionArn": execution_arn, "name": name, "target": target}));
            }
            Started::Duplicate => {
                tracing::info!(%target, execution_name = %name, "execution already exists: duplicate delivery, nothing started");
                duplicates.push(json!({"name": name, "target": target}));
            }
        }
    }
    Ok(json!({"started": started, "duplicates": duplicates}))
}

/// Reads and validates every manifest before anything starts, so one bad record starts nothing.
async fn prepare(trigger: Trigger, deps: &Deps) -> Result<Vec<Publish>, WorkflowError> {
    let rules = deps.rules();
    match trigger {
        Trigger::Manifest(manifest) => {
            // Serialized again so the size limit applies to a direct payload too.
            let bytes = serde_json::to_vec(&manifest).map_err(|e| {
                WorkflowError::invalid_input(format!("manifest is not serializable: {e}"))
            })?;
            let manifest = Manifest::parse(&bytes, &rules)?;
            Ok(vec![start_of(manifest, &deps.config)?])
        }
        Trigger::Objects(objects) => {
            for object in &objects {
                check_source(object, &deps.config)?;
            }
            let mut publishes = Vec::with_capacity(objects.len());
            for object in &objects {
                let bytes = manifest_object::read_manifest(deps.aws.s3().await, object).await?;
                let manifest = Manifest::parse(&bytes, &rules)
                    .and_then(|manifest| start_of(manifest, &deps.config))
                    .map_err(|e| WorkflowError::new(e.name, format!("{object}: {}", e.message)))?;
                publishes.push(manifest);
            }
            Ok(publishes)
        }
    }
}

/// Storage events count only for the configured bucket and prefix (when set): another object is no
/// build manifest of this deployment, whatever it holds.
fn check_source(object: &ObjectRef, config: &TriggerConfig) -> Result<(), WorkflowError> {
    if let Some(bucket) = config
        .manifest_bucket
        .as_deref()
        .filter(|b| *b != object.bucket)
    {
        return Err(WorkflowError::invalid_input(format!(
            "{object}: bucket {:?} (key {:?}) is not the manifest bucket {bucket:?} (MANIFEST_BUCKET)",
            object.bucket, object.key
        )));
    }
    if let Some(prefix) = config
        .manifest_prefix
        .as_deref()
        .filter(|p| !object.key.starts_with(p))
    {
        return Err(WorkflowError::invalid_input(format!(
            "{object}: key {:?} (bucket {:?}) is not under the manifest prefix {prefix:?} (MANIFEST_PREFIX)",
            object.key, object.bucket
        )));
    }
    Ok(())
}

/// What a manifest starts: a publication, or a release where the release state machine is configured.
fn start_of(manifest: Manifest, config: &TriggerConfig) -> Result<Publish, WorkflowError> {
    match (manifest, &config.release_state_machine_arn) {
        (Manifest::Single(request), _) => publish(request, &config.state_machine_arn),
        (Manifest::Release(release), Some(arn)) => release::start(release, arn),
        (Manifest::Release(_), None) => Err(WorkflowError::invalid_input(
            "the manifest lists targets (a release), and this deployment has no release state machine (RELEASE_STATE_MACHINE_ARN); nothing was started",
        )),
    }
}

fn publish(request: PublishRequest, state_machine_arn: &str) -> Result<Publish, WorkflowError> {
    let target = request.target();
    let state = WorkflowState::start(request, Action::Publish);
    let input = serde_json::to_string(&state).map_err(|e| {
        WorkflowError::new(
            ErrorName::InvalidInput,
            format!("{target}: execution input is not serializable: {e}"),
        )
    })?;
    let name = execution_name(&state.request, &input);
    Ok(Publish {
        target,
        name,
        input,
        state_machine_arn: state_machine_arn.to_owned(),
    })
}
