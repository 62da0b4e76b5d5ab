//! One emulator with everything the pipeline runs against, and the functions' handlers called in-process
//! in the order the state machine calls them (statemachine.rs runs the real definition).

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use cpp_emulator::{Emulator, EmulatorConfig, LoggedRequest, RunningEmulator};
use lambda_runtime::{Context, LambdaEvent};
use secrecy::SecretString;
use serde_json::Value;
use shared::clock::Clock;
use shared::config::TriggerConfig;
use shared::cpp::{ClientOptions, CppClient};
use shared::deps::Deps;
use shared::ingestion::{IngestionClient, IngestionOptions};
use shared::workflow::WorkflowError;

use crate::BenchResult;
use crate::aws::{self, AwsStandIn};
use crate::server::Server;
use crate::sim::{BenchClock, Participant, VirtualTime};
use crate::statemachine::{Definition, Ending, Execution, Tally};

pub const BUCKET: &str = "contoso-builds";
pub const MANIFEST_PREFIX: &str = "manifests/";
/// The Task timeout in the definition: each invocation's deadline.
const TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// The three functions that call Microsoft, each with its own client as separate Lambda functions have.
pub struct Functions {
    update: Deps,
    check: Deps,
    go_live: Deps,
    clock: Arc<BenchClock>,
}

impl Functions {
    /// The function a Task's `FunctionName` placeholder names.
    pub fn name_of(function: &str) -> Option<&'static str> {
        match function {
            "${UpdateAndPublishFunctionArn}" => Some("update-and-publish"),
            "${CheckLastOperationFunctionArn}" => Some("check-last-operation"),
            "${ValidateAndGoLiveFunctionArn}" => Some("validate-and-go-live"),
            _ => None,
        }
    }

    /// Calls a handler as Lambda would: the error comes back as its `errorType` and message.
    pub async fn invoke(&self, name: &str, payload: Value) -> Result<Value, (String, String)> {
        let event = LambdaEvent::new(payload, context(self.clock.as_ref(), name));
        let result = match name {
            "update-and-publish" => update_and_publish::handle(event, &self.update)
                .await
                .and_then(to_value),
            "check-last-operation" => check_last_operation::handle(event, &self.check).await,
            "validate-and-go-live" => validate_and_go_live::handle(event, &self.go_live)
                .await
                .and_then(to_value),
            other => return Err(("States.Runtime".into(), format!("no function {other}"))),
        };
        result.map_err(|e| (e.name.as_str().to_owned(), e.message))
    }

    /// A CPP client of its own, as the functions have, for reading what happened after a run.
    pub fn cpp(&self) -> &CppClient {
        &self.check.cpp
    }
}

fn to_value(state: impl serde::Serialize) -> Result<Value, WorkflowError> {
    serde_json::to_value(state).map_err(|e| WorkflowError::invalid_input(e.to_string()))
}

fn context(clock: &dyn Clock, function: &str) -> Context {
    let mut context = Context::default();
    let deadline = (clock.now() + TASK_TIMEOUT)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    context.deadline = deadline.as_millis() as u64;
    context.request_id = "bench-invocation".into();
    context.invoked_function_arn = format!(
        "arn:aws:lambda:{}:111122223333:function:{function}",
        aws::REGION
    );
    context
}

/// Everything one benchmark scenario runs against.
pub struct World {
    pub emulator: Arc<RunningEmulator>,
    pub clock: Arc<BenchClock>,
    pub functions: Functions,
    pub trigger: build_finished::Deps,
    pub aws: AwsStandIn,
    pub definition: Definition,
    pub time: Arc<VirtualTime>,
    _aws_server: Server,
}

impl World {
    /// An emulator with `emulator_config`, functions configured with `env` on top of the emulator's
    /// address and credentials.
    pub async fn start(emulator_config: EmulatorConfig, env: &[(&str, &str)]) -> BenchResult<Self> {
        let client_id = emulator_config.client_id.clone();
        let secret = emulator_config.client_secret.clone();
        let emulator = Arc::new(Emulator::start(emulator_config).await?);
        let base = emulator.base_url();
        let clock = Arc::new(BenchClock::default());
        let deps = || -> BenchResult<Deps> {
            let config = test_harness::functions_config(&base, &client_id, &secret, env)?;
            let options = ClientOptions {
                clock: clock.clone(),
                ..ClientOptions::default()
            };
            let client = CppClient::with_options(
                &config,
                SecretString::from(secret.clone()),
                options.clone(),
            )?;
            // Production pacing: draft jobs polled every 2 s (the emulator's take 2 s of real time).
            let ingestion = IngestionClient::with_options(
                &config,
                SecretString::from(secret.clone()),
                options,
                IngestionOptions::default(),
            )?;
            Ok(Deps {
                config,
                cpp: client,
                ingestion,
                clock: clock.clone(),
            })
        };
        let functions = Functions {
            update: deps()?,
            check: deps()?,
            go_live: deps()?,
            clock: clock.clone(),
        };
        let (aws, aws_server) = AwsStandIn::start(&secret).await?;
        let trigger = trigger_deps(&aws.url, clock.clone());
        let time = {
            let (emulator, clock) = (emulator.clone(), clock.clone());
            VirtualTime::new(move |by| {
                emulator.advance_clock(by);
                clock.advance(by);
            })
        };
        Ok(Self {
            emulator,
            clock,
            functions,
            trigger,
            aws,
            definition: Definition::load()?,
            time,
            _aws_server: aws_server,
        })
    }

    /// Moves the emulator's and the clients' clocks together (outside an execution).
    pub fn advance(&self, by: Duration) {
        self.emulator.advance_clock(by);
        self.clock.advance(by);
    }

    /// build-finished on a storage event: its output (the executions it started, the duplicates).
    pub async fn trigger(&self, event: Value) -> BenchResult<Value> {
        let output = build_finished::handle(
            LambdaEvent::new(event, context(self.clock.as_ref(), "build-finished")),
            &self.trigger,
        )
        .await
        .map_err(|e| format!("build-finished: {e}"))?;
        Ok(output)
    }

    /// build-finished on a storage event, then every execution it started, run to its end.
    pub async fn deliver(
        &self,
        event: Value,
        time: &Participant,
        seed: u64,
    ) -> BenchResult<Delivery> {
        let started = Instant::now();
        let output = self.trigger(event).await?;
        let mut delivery = Delivery {
            trigger_latency: started.elapsed(),
            duplicates: output["duplicates"].as_array().map_or(0, Vec::len),
            executions: Vec::new(),
            tally: Tally::default(),
        };
        for started in output["started"].as_array().into_iter().flatten() {
            let name = started["name"].as_str().unwrap_or_default().to_owned();
            let input = self
                .aws
                .input_of(&name)
                .ok_or_else(|| format!("no input recorded for execution {name}"))?;
            let (ending, seconds) = self
                .execute(
                    &name,
                    serde_json::from_str(&input)?,
                    time,
                    seed,
                    &mut delivery.tally,
                )
                .await?;
            delivery.executions.push((name, ending, seconds));
        }
        Ok(delivery)
    }

    /// Runs one execution of the state machine; returns how it ended and how long it took in simulated time.
    pub async fn execute(
        &self,
        name: &str,
        input: Value,
        time: &Participant,
        seed: u64,
        tally: &mut Tally,
    ) -> BenchResult<(Ending, u64)> {
        let begun = time.now();
        let ending = Execution::new(&self.definition, &self.functions, time, name, seed)
            .run(input, tally)
            .await?;
        self.aws.close(name);
        Ok((ending, time.now() - begun))
    }

    /// The requests the emulator received (either API) since the last call.
    pub fn take_requests(&self) -> Vec<LoggedRequest> {
        let requests = self.emulator.requests();
        self.emulator.clear_requests();
        requests
    }
}

/// What one storage event led to.
pub struct Delivery {
    pub trigger_latency: Duration,
    pub duplicates: usize,
    /// (execution name, ending, simulated seconds)
    pub executions: Vec<(String, Ending, u64)>,
    pub tally: Tally,
}

fn trigger_deps(url: &str, clock: Arc<BenchClock>) -> build_finished::Deps {
    let credentials = Credentials::new("AKIDBENCH", "bench-secret-key", None, None, "bench");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(url)
            .region(Region::new(aws::REGION))
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .timeout_config(build_finished::aws_timeouts())
            .retry_config(RetryConfig::standard())
            .build(),
    );
    let sfn = aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
            .endpoint_url(url)
            .region(aws_sdk_sfn::config::Region::new(aws::REGION))
            .credentials_provider(credentials)
            .timeout_config(build_finished::aws_timeouts())
            .build(),
    );
    build_finished::Deps {
        config: TriggerConfig {
            publisher_id: None,
            sas_min_validity_days: 21,
            state_machine_arn: aws::STATE_MACHINE_ARN.into(),
            release_state_machine_arn: Some(aws::RELEASE_STATE_MACHINE_ARN.into()),
            manifest_bucket: Some(BUCKET.into()),
            manifest_prefix: Some(MANIFEST_PREFIX.into()),
            marketplace_api: shared::marketplace::Api::Cpp,
        },
        aws: build_finished::AwsClients::given(s3, sfn),
        clock,
    }
}
