#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The state machine definition and the SAM template against the workflow contract (design.md §3,
//! §4.1, §4.4): each test names one behaviour, checks the real files, and, where the check is ours,
//! shows on a broken copy that it would catch the breakage.

use std::collections::BTreeSet;

use infra_checks::asl::{self, Asl};
use infra_checks::template::{Template, policy_statements, statement_actions};
use infra_checks::{read_repo_file, repo_root};
use serde_json::{Value, json};
use shared::workflow::ErrorName;

const ASL_PATH: &str = "infra/statemachine/publish.asl.json";
const TEMPLATE_PATH: &str = "infra/template.yaml";

fn definition() -> Asl {
    Asl::parse(&read_repo_file(ASL_PATH).unwrap()).unwrap()
}

fn template() -> Template {
    Template::parse(&read_repo_file(TEMPLATE_PATH).unwrap()).unwrap()
}

fn error_names() -> Vec<&'static str> {
    ErrorName::ALL.iter().map(|name| name.as_str()).collect()
}

/// The definition with one JSON value replaced (`pointer` into the document).
fn broken(pointer: &str, value: Value) -> Asl {
    let mut doc = definition().into_value();
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the ASL")) = value;
    Asl::from_value(doc)
}

/// The definition with one field removed.
fn without(pointer: &str) -> Asl {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut doc = definition().into_value();
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("{pointer} is not in the ASL"));
    Asl::from_value(doc)
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn assert_found(problems: Vec<String>, needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem mentioning {needle:?}, got {problems:#?}"
    );
}

fn lambda_task_names() -> Vec<String> {
    definition()
        .lambda_tasks()
        .iter()
        .map(|t| t.name.to_owned())
        .collect()
}

// ------------------------------------------------------------------ the two files agree

#[test]
fn placeholders_are_exactly_the_definition_substitutions() {
    let placeholders = definition().placeholders();
    let template = template();
    let substitutions: BTreeSet<String> = template
        .resource("PublishStateMachine")
        .and_then(|r| r.pointer("/Properties/DefinitionSubstitutions"))
        .and_then(Value::as_object)
        .expect("PublishStateMachine has DefinitionSubstitutions")
        .keys()
        .cloned()
        .collect();
    assert_eq!(placeholders, substitutions);
    assert_eq!(
        placeholders,
        [
            "CheckLastOperationFunctionArn",
            "NotificationTopicArn",
            "UpdateAndPublishFunctionArn",
            "ValidateAndGoLiveFunctionArn",
        ]
        .map(String::from)
        .into()
    );
}

#[test]
fn the_template_deploys_this_definition_as_a_standard_state_machine() {
    let template = template();
    let machines: Vec<_> = template
        .resources_of_type("AWS::Serverless::StateMachine")
        .collect();
    assert_eq!(machines.len(), 1, "one state machine");
    let props = &machines[0].1["Properties"];
    assert_eq!(props["Type"], "STANDARD", "waits of days need STANDARD");
    let uri = props["DefinitionUri"].as_str().unwrap();
    assert!(
        repo_root().join("infra").join(uri).ends_with(ASL_PATH),
        "DefinitionUri {uri} is not {ASL_PATH}"
    );
    assert!(repo_root().join("infra").join(uri).is_file());
}

#[test]
fn each_task_invokes_the_function_its_placeholder_names() {
    let definition = definition();
    for (task, placeholder) in [
        ("UpdateAndPublish", "${UpdateAndPublishFunctionArn}"),
        ("CheckLastOperation", "${CheckLastOperationFunctionArn}"),
        ("ValidateAndGoLive", "${ValidateAndGoLiveFunctionArn}"),
    ] {
        let state = definition.state(task).unwrap();
        assert_eq!(state.str("Resource"), Some(asl::LAMBDA_INVOKE), "{task}");
        assert_eq!(
            state.body["Parameters"],
            json!({"FunctionName": placeholder, "Payload.$": "$"}),
            "{task} hands the whole state to its function"
        );
        assert_eq!(
            state.str("OutputPath"),
            Some("$.Payload"),
            "{task}: the function returns the whole state"
        );
    }
    let template = template();
    let substitutions = template
        .resource("PublishStateMachine")
        .unwrap()
        .pointer("/Properties/DefinitionSubstitutions")
        .unwrap();
    for (key, function) in [
        ("UpdateAndPublishFunctionArn", "UpdateAndPublishFunction"),
        (
            "CheckLastOperationFunctionArn",
            "CheckLastOperationFunction",
        ),
        ("ValidateAndGoLiveFunctionArn", "ValidateAndGoLiveFunction"),
    ] {
        assert_eq!(
            substitutions[key],
            json!({"Fn::GetAtt": [function, "Arn"]}),
            "{key}"
        );
    }
    assert_eq!(
        substitutions["NotificationTopicArn"],
        json!({"Ref": "NotificationTopic"})
    );
}

// ------------------------------------------------------------------------- error names

#[test]
fn the_definition_names_only_known_errors() {
    assert_none(asl::unknown_error_names(&definition(), &error_names()));
    assert_found(
        asl::unknown_error_names(
            &broken(
                "/States/UpdateAndPublish/Catch/0/ErrorEquals/0",
                json!("InvalidInptu"),
            ),
            &error_names(),
        ),
        "InvalidInptu",
    );
    assert_found(
        asl::unknown_error_names(
            &broken(
                "/States/RecordOperationFailure/Parameters/Error",
                json!("OperationFail"),
            ),
            &error_names(),
        ),
        "OperationFail",
    );
}

#[test]
fn every_error_name_is_handled_by_name_in_every_lambda_task() {
    assert_eq!(lambda_task_names().len(), 3);
    assert_none(asl::unhandled_error_names(&definition(), &error_names()));
    assert_found(
        asl::unhandled_error_names(
            &broken(
                "/States/ValidateAndGoLive/Catch/0/ErrorEquals",
                json!(["InvalidInput"]),
            ),
            &error_names(),
        ),
        "ValidateAndGoLive does not name PollLimitExceeded",
    );
}

#[test]
fn the_definition_raises_operation_failed_for_failed_and_canceled_operations() {
    let raised = asl::raised_error_names(&definition());
    let failed: Vec<_> = raised
        .iter()
        .filter(|(_, name)| name == "OperationFailed")
        .collect();
    assert!(!failed.is_empty(), "{raised:?}");
    let definition = definition();
    let router = definition.state("RouteOnOperationStatus").unwrap();
    for (state, _) in failed {
        assert!(
            router.transitions().iter().any(|t| t.target == state),
            "{state} is reached from the operation status"
        );
    }
}

// --------------------------------------------------------------------- retry and catch

#[test]
fn every_task_has_a_timeout_retries_and_a_catch_all() {
    assert_none(asl::task_problems(&definition()));
    assert_found(
        asl::task_problems(&without("/States/CheckLastOperation/TimeoutSeconds")),
        "CheckLastOperation has no TimeoutSeconds",
    );
    assert_found(
        asl::task_problems(&without("/States/ValidateAndGoLive/Retry")),
        "ValidateAndGoLive has no Retry",
    );
    assert_found(
        asl::task_problems(&broken(
            "/States/UpdateAndPublish/Catch/1/ErrorEquals",
            json!(["CppRejected"]),
        )),
        "not [\"States.ALL\"] alone",
    );
    assert_found(
        asl::task_problems(&without("/States/NotifyLive/Catch")),
        "Parallel NotifyLive has no Catch",
    );
}

#[test]
fn lambda_tasks_follow_the_retry_policy_of_the_error_table() {
    let definition = definition();
    assert_none(asl::retry_policy_problems(&definition));
    for task in definition.lambda_tasks() {
        let busy = asl::retrier_for(&task, "OfferBusy");
        if task.function() == Some(asl::QUEUEING_FUNCTION) {
            assert!(busy.is_none(), "{}: queues instead", task.name);
        } else {
            let total = asl::total_retry_delay_seconds(busy.unwrap());
            assert!(
                (1800.0..=6.0 * 3600.0).contains(&total),
                "{}: OfferBusy waits {total} s in all",
                task.name
            );
        }
        assert!(
            task.u64("TimeoutSeconds").unwrap() > 90,
            "{}: the task outlives the function's own 90 s timeout",
            task.name
        );
    }
    let first_retrier = "/States/CheckLastOperation/Retry/1";
    assert_found(
        asl::retry_policy_problems(&without(&format!("{first_retrier}/JitterStrategy"))),
        "no full jitter",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/ValidateAndGoLive/Retry/2/IntervalSeconds",
            json!(5),
        )),
        "OfferBusy is retried after 5 s",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/2/ErrorEquals",
            json!(["CppConflict", "OfferBusy"]),
        )),
        "its OfferBusy means the queue gave up",
    );
    assert_found(
        asl::retry_policy_problems(&broken("/States/WaitForOffer/Next", json!("NotifyFailure"))),
        "a queue entry ($.queue) is not routed through a Wait",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/QueuedForOffer/Choices/1/Variable",
            json!("$.queued"),
        )),
        "a queue entry ($.queue) is not routed through a Wait",
    );
    assert_found(
        asl::retry_policy_problems(&broken("/TimeoutSeconds", json!(2_592_000))),
        "outlast the execution timeout",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/ValidateAndGoLive/Retry/2/MaxAttempts",
            json!(110),
        )),
        "a person is waiting, so hours, not days",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/2/ErrorEquals",
            json!(["CppConflict", "CppRejected"]),
        )),
        "retries CppRejected",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/0/ErrorEquals",
            json!(["Lambda.ServiceException"]),
        )),
        "does not retry Lambda.TooManyRequestsException",
    );
}

#[test]
fn caught_errors_are_notified_then_fail_the_execution_with_their_error_and_cause() {
    let definition = definition();
    assert_none(asl::failure_path_problems(&definition));
    assert_eq!(
        asl::follow_failure_path(&definition, "NotifyFailure"),
        Ok("PublishingFailed")
    );
    assert_found(
        asl::failure_path_problems(&broken(
            "/States/CheckLastOperation/Catch/1/ResultPath",
            json!("$.err"),
        )),
        "CheckLastOperation.Catch[1] does not keep the error in $.error",
    );
    assert_found(
        asl::failure_path_problems(&broken(
            "/States/NotifyFailure/Branches/0/States/SendFailureNotice/Resource",
            json!("arn:aws:states:::lambda:invoke"),
        )),
        "without a notice",
    );
    assert_found(
        asl::failure_path_problems(&broken(
            "/States/PublishingFailed/CausePath",
            json!("$.cause"),
        )),
        "not the caught $.error.Error and $.error.Cause",
    );
    assert_found(
        asl::failure_path_problems(&broken(
            "/States/RecordUnexpectedResult/ResultPath",
            json!("$.problem"),
        )),
        "RecordUnexpectedResult.Next enters the failure path",
    );
}

// -------------------------------------------------------------------------------- flow

#[test]
fn every_transition_names_a_state_and_every_state_is_reachable() {
    assert_none(asl::transition_problems(&definition()));
    assert_found(
        asl::transition_problems(&broken("/States/NotifyLive/Next", json!("PublishedAndLiv"))),
        "NotifyLive.Next names \"PublishedAndLiv\"",
    );
    assert_found(
        asl::transition_problems(&broken(
            "/States/RouteOnGoLiveOutcome/Choices/2/Next",
            json!("UpdateAndPublish"),
        )),
        "PublishBeforeGoLive cannot be reached",
    );
    assert_found(
        asl::transition_problems(&without(
            "/States/NotifyFailure/Branches/0/States/DescribeFailure/Next",
        )),
        "DescribeFailure neither ends nor says where to go next",
    );
}

#[test]
fn the_flow_starts_on_the_action() {
    let definition = definition();
    assert_eq!(definition.doc()["StartAt"], "ChooseAction");
    let entry = definition.state("ChooseAction").unwrap();
    assert_eq!(
        asl::choice_string_values(&entry, "$.action"),
        ["goLive", "publish"].map(String::from).into()
    );
    let targets: Vec<&str> = entry.transitions().iter().map(|t| t.target).collect();
    assert_eq!(
        targets,
        [
            "RejectUnknownAction",
            "UpdateAndPublish",
            "ValidateAndGoLive"
        ]
    );
}

#[test]
fn the_publish_path_waits_for_next_check_seconds_between_checks() {
    let definition = definition();
    let publish = definition.state("UpdateAndPublish").unwrap();
    assert_eq!(publish.str("Next"), Some("QueuedForOffer"));
    let queued = definition.state("QueuedForOffer").unwrap();
    assert_eq!(queued.str("Default"), Some("WaitForOperation"));
    assert_none(asl::retry_policy_problems(&definition));
    let wait = definition.state("WaitForOperation").unwrap();
    assert_eq!(wait.kind(), "Wait");
    assert_eq!(wait.str("SecondsPath"), Some("$.nextCheckSeconds"));
    assert_eq!(wait.str("Next"), Some("CheckLastOperation"));
    let check = definition.state("CheckLastOperation").unwrap();
    assert_eq!(check.str("Next"), Some("RouteOnOperationStatus"));
}

#[test]
fn the_operation_status_choice_covers_every_status() {
    let definition = definition();
    let router = definition.state("RouteOnOperationStatus").unwrap();
    assert_eq!(
        asl::choice_string_values(&router, "$.operationStatus"),
        ["canceled", "failed", "running", "succeeded"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        asl::choice_target(&router, "$.operationStatus", "running"),
        Some("WaitForOperation"),
        "running loops back to the wait"
    );
    assert_eq!(
        asl::choice_string_values(&router, "$.operation.kind"),
        ["goLive", "publish"].map(String::from).into(),
        "succeeded is told apart by the operation's kind"
    );
    let mut doc = definition.into_value();
    for pointer in [
        "/States/RouteOnOperationStatus/Choices/3/And/0/Or/1/StringEquals",
        "/States/RouteOnOperationStatus/Choices/4/Or/1/StringEquals",
    ] {
        *doc.pointer_mut(pointer).unwrap() = json!("cancelled");
    }
    let misspelt = Asl::from_value(doc);
    let router = misspelt.state("RouteOnOperationStatus").unwrap();
    assert!(
        !asl::choice_string_values(&router, "$.operationStatus").contains("canceled"),
        "a Choice that misses canceled is seen, even in nested rules"
    );
}

#[test]
fn a_ready_preview_goes_live_only_when_asked() {
    let definition = definition();
    let notice = definition.state("NotifyPreviewReady").unwrap();
    assert!(notice.notifies());
    assert_eq!(notice.str("Next"), Some("GoLiveNow"));
    let choice = definition.state("GoLiveNow").unwrap();
    assert_eq!(
        asl::choice_string_values(&choice, "$.goLive"),
        ["auto"].map(String::from).into()
    );
    assert_eq!(
        asl::choice_string_values(&choice, "$.action"),
        ["goLive"].map(String::from).into()
    );
    assert_eq!(choice.array("Choices")[0]["Next"], "ValidateAndGoLive");
    assert_eq!(choice.str("Default"), Some("StoppedAtPreview"));
    assert_eq!(
        definition.state("StoppedAtPreview").unwrap().kind(),
        "Succeed"
    );
}

#[test]
fn go_live_waits_for_its_operation_or_publishes_a_missing_version_once() {
    let definition = definition();
    let outcome = definition.state("RouteOnGoLiveOutcome").unwrap();
    assert_eq!(
        asl::choice_target(&outcome, "$.outcome", "goLiveStarted"),
        Some("WaitForOperation")
    );
    assert_eq!(
        asl::choice_target(&outcome, "$.outcome", "versionMissing"),
        Some("PublishBeforeGoLive")
    );
    let republish = definition.state("PublishBeforeGoLive").unwrap();
    assert_eq!(republish.str("Next"), Some("UpdateAndPublish"));
    let flag = republish.str("ResultPath").unwrap();
    let second_time = outcome
        .array("Choices")
        .iter()
        .find(|rule| rule.to_string().contains(&flag.replace("$.", "")))
        .expect("a rule on the republish flag");
    assert_eq!(second_time["Next"], "RecordVersionStillMissing");
    let live = definition.state("NotifyLive").unwrap();
    assert!(live.notifies());
    assert_eq!(
        definition.state(live.str("Next").unwrap()).unwrap().kind(),
        "Succeed"
    );
}

#[test]
fn the_execution_timeout_covers_a_sixteen_day_publication_and_go_live() {
    let seconds = definition().timeout_seconds().unwrap();
    let days = seconds as f64 / 86_400.0;
    assert!(
        (20.0..=90.0).contains(&days),
        "TimeoutSeconds is {days} days"
    );
}

#[test]
fn notices_never_carry_the_sas_url() {
    let definition = definition();
    assert_eq!(
        definition.sns_tasks().len(),
        4,
        "queued, preview ready, live, failed"
    );
    assert_none(asl::notice_problems(&definition));
    assert_found(
        asl::notice_problems(&broken(
            "/States/NotifyLive/Branches/0/States/SendLiveNotice/Parameters/Message/version.$",
            json!("$.notice.osVhdUrl"),
        )),
        "SAS URL",
    );
    assert_found(
        asl::notice_problems(&broken(
            "/States/NotifyFailure/Branches/0/States/SendFailureNotice/Parameters/Message",
            json!({"everything.$": "$"}),
        )),
        "SAS URL",
    );
    let failure = definition.state("SendFailureNotice").unwrap();
    let message = &failure.body["Parameters"]["Message"];
    assert_eq!(message["error.$"], "$.error.Error");
    assert_eq!(message["cause.$"], "$.error.Cause");
    for field in [
        "offerId.$",
        "planId.$",
        "version.$",
        "operationStatus.$",
        "step.$",
        "messages.$",
    ] {
        assert!(
            message.get(field).is_some(),
            "the failure notice shows {field}"
        );
    }
}

// ------------------------------------------------------------------------------ template

#[test]
fn yaml_short_tags_are_read_in_their_long_form() {
    let t = Template::parse(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      R: !Ref B\n      G: !GetAtt B.Arn\n      S: !Sub 'a-${B}'\n      I: !If [C, !Ref B, !Ref AWS::NoValue]\n      N: 90\n",
    )
    .unwrap();
    let p = &t.resource("A").unwrap()["Properties"];
    assert_eq!(p["R"], json!({"Ref": "B"}));
    assert_eq!(p["G"], json!({"Fn::GetAtt": ["B", "Arn"]}));
    assert_eq!(p["S"], json!({"Fn::Sub": "a-${B}"}));
    assert_eq!(
        p["I"],
        json!({"Fn::If": ["C", {"Ref": "B"}, {"Ref": "AWS::NoValue"}]})
    );
    assert_eq!(p["N"], json!(90));
    assert!(Template::parse("Parameters: {}\n").is_err());
    assert!(Template::parse("Resources: [\n").is_err());
}

/// The function crates: every folder of functions/ with a Cargo.toml.
fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_function_crate_is_deployed_as_an_arm64_rust_function_built_by_cargo_lambda() {
    let template = template();
    let functions: Vec<_> = template
        .resources_of_type("AWS::Serverless::Function")
        .collect();
    let mut binaries = BTreeSet::new();
    for (name, resource) in &functions {
        assert_eq!(
            resource.pointer("/Metadata/BuildMethod"),
            Some(&json!("rust-cargolambda")),
            "{name}"
        );
        let binary = resource
            .pointer("/Metadata/BuildProperties/Binary")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} names no Binary"));
        binaries.insert(binary.to_owned());
        let property = |key: &str| template.function_property(name, key);
        assert_eq!(
            property("Runtime"),
            Some(json!("provided.al2023")),
            "{name}"
        );
        assert_eq!(property("Architectures"), Some(json!(["arm64"])), "{name}");
        assert_eq!(property("Handler"), Some(json!("bootstrap")), "{name}");
        assert_eq!(property("MemorySize"), Some(json!(128)), "{name}");
        let timeout = property("Timeout").and_then(|t| t.as_u64()).unwrap_or(3);
        assert!(
            timeout > 60,
            "{name}: Timeout {timeout} s is not above the client's 60 s retry budget"
        );
        assert_eq!(
            property("LoggingConfig").map(|c| c["LogFormat"].clone()),
            Some(json!("JSON")),
            "{name}"
        );
    }
    assert_eq!(
        binaries,
        function_crates(),
        "one function per crate in functions/"
    );
}

#[test]
fn every_function_and_the_state_machine_log_to_a_group_with_retention() {
    let template = template();
    let mut groups = Vec::new();
    for (name, _) in template.resources_of_type("AWS::Serverless::Function") {
        let group = template
            .resource(name)
            .and_then(|r| r.pointer("/Properties/LoggingConfig/LogGroup"))
            .and_then(Template::ref_target)
            .unwrap_or_else(|| panic!("{name} names no log group"));
        groups.push(group.to_owned());
    }
    let machine = template.resource("PublishStateMachine").unwrap();
    let logging = machine.pointer("/Properties/Logging").unwrap();
    assert_eq!(
        logging["IncludeExecutionData"],
        json!(false),
        "the state carries a SAS URL: execution data is never logged"
    );
    let arn = &logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"];
    groups.push(arn["Fn::GetAtt"][0].as_str().unwrap().to_owned());
    for group in groups {
        let resource = template.resource(&group).unwrap();
        assert_eq!(resource["Type"], "AWS::Logs::LogGroup", "{group}");
        assert_eq!(
            resource["Properties"]["RetentionInDays"],
            json!({"Ref": "LogRetentionDays"}),
            "{group}"
        );
    }
}

#[test]
fn the_environment_is_the_designed_one_and_never_holds_the_secret() {
    let designed = [
        "CPP_API_BASE_URL",
        "CPP_LOGIN_BASE_URL",
        "CPP_API_VERSION",
        "CPP_TENANT_ID",
        "CPP_CLIENT_ID",
        "CPP_CLIENT_SECRET_ARN",
        "CPP_PUBLISHER_ID",
        "CPP_MAX_IMAGES_PER_PLAN",
        "CPP_SAS_MIN_VALIDITY_DAYS",
        "CPP_POLL_MIN_SECONDS",
        "CPP_POLL_MAX_SECONDS",
        "CPP_MAX_POLLS",
        "CPP_QUEUE_MAX_DAYS",
        "CPP_WATCH_OFFERS",
        "STATE_MACHINE_ARN",
        // build-finished's check of where a storage event comes from (README, Configuration).
        "MANIFEST_BUCKET",
        "MANIFEST_PREFIX",
    ];
    let template = template();
    for (name, _) in template.resources_of_type("AWS::Serverless::Function") {
        let env = template.function_environment(name);
        for key in env.keys() {
            assert!(
                designed.contains(&key.as_str()),
                "{name}: {key} is not in design.md §4.1"
            );
        }
        assert_eq!(
            env.get("CPP_CLIENT_SECRET_ARN"),
            Some(&json!({"Ref": "CppClientSecretArn"})),
            "{name}"
        );
        for required in ["CPP_TENANT_ID", "CPP_CLIENT_ID"] {
            assert!(env.contains_key(required), "{name} lacks {required}");
        }
    }
    assert!(
        template
            .function_environment("BuildFinishedFunction")
            .contains_key("STATE_MACHINE_ARN")
    );
    let text = read_repo_file(TEMPLATE_PATH).unwrap();
    assert!(
        !text.contains("CPP_CLIENT_SECRET:"),
        "the client secret itself is never in the template"
    );
}

#[test]
fn only_the_cpp_functions_read_the_secret_and_only_that_secret() {
    let template = template();
    let mut readers = BTreeSet::new();
    for (name, resource) in template.resources_of_type("AWS::Serverless::Function") {
        let policies = resource
            .pointer("/Properties/Policies")
            .cloned()
            .unwrap_or(Value::Null);
        for statement in policy_statements(&policies) {
            let actions = statement_actions(statement);
            assert!(
                !actions.iter().any(|a| a.ends_with(":*") || *a == "*"),
                "{name}: wildcard action in {statement}"
            );
            if actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                assert_eq!(actions, ["secretsmanager:GetSecretValue"], "{name}");
                assert_eq!(
                    statement["Resource"],
                    json!({"Ref": "CppClientSecretArn"}),
                    "{name}"
                );
                readers.insert(name.to_owned());
            }
        }
    }
    assert_eq!(
        readers,
        [
            "CheckLastOperationFunction",
            "UpdateAndPublishFunction",
            "ValidateAndGoLiveFunction"
        ]
        .map(String::from)
        .into()
    );
}

#[test]
fn build_finished_reads_manifests_and_starts_the_state_machine_by_its_built_arn() {
    let template = template();
    let function = template.resource("BuildFinishedFunction").unwrap();
    let statements = policy_statements(function.pointer("/Properties/Policies").unwrap());
    let actions: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| statement_actions(s))
        .collect();
    assert_eq!(
        actions,
        [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "states:StartExecution"
        ]
        .into()
    );
    let machine_name = template
        .resource("PublishStateMachine")
        .unwrap()
        .pointer("/Properties/Name/Fn::Sub")
        .and_then(Value::as_str)
        .unwrap();
    let arn = template.function_environment("BuildFinishedFunction")["STATE_MACHINE_ARN"]
        .pointer("/Fn::Sub")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    assert!(
        arn.ends_with(&format!(":stateMachine:{machine_name}")),
        "{arn} is not the ARN of {machine_name}"
    );
    let start = statements
        .iter()
        .find(|s| statement_actions(s) == ["states:StartExecution"])
        .unwrap();
    assert_eq!(start["Resource"]["Fn::Sub"], json!(arn));
    let event = function
        .pointer("/Properties/Events/ManifestUploaded")
        .unwrap();
    assert_eq!(event["Type"], "EventBridgeRule");
    let pattern = &event["Properties"]["Pattern"];
    assert_eq!(pattern["source"], json!(["aws.s3"]));
    assert_eq!(pattern["detail-type"], json!(["Object Created"]));
    assert_eq!(
        pattern["detail"]["object"]["key"],
        json!([{"wildcard": {"Fn::Sub": "${ManifestPrefix}*.json"}}])
    );
    // The function refuses what the rule would not deliver: the same bucket and prefix.
    let env = template.function_environment("BuildFinishedFunction");
    assert_eq!(
        json!([env["MANIFEST_BUCKET"]]),
        pattern["detail"]["bucket"]["name"]
    );
    assert_eq!(env["MANIFEST_PREFIX"], json!({"Ref": "ManifestPrefix"}));
}

#[test]
fn the_state_machine_may_invoke_the_three_workflow_functions_and_publish_notices() {
    let template = template();
    let machine = template.resource("PublishStateMachine").unwrap();
    let statements = policy_statements(machine.pointer("/Properties/Policies").unwrap());
    let invoke = statements
        .iter()
        .find(|s| statement_actions(s) == ["lambda:InvokeFunction"])
        .unwrap();
    let resources = invoke["Resource"].to_string();
    for function in [
        "UpdateAndPublishFunction",
        "CheckLastOperationFunction",
        "ValidateAndGoLiveFunction",
    ] {
        assert!(resources.contains(function), "{function}");
    }
    assert!(!resources.contains("BuildFinishedFunction"));
    let publish = statements
        .iter()
        .find(|s| statement_actions(s) == ["sns:Publish"])
        .unwrap();
    assert_eq!(publish["Resource"], json!({"Ref": "NotificationTopic"}));
}

#[test]
fn the_status_report_is_scheduled_on_check_last_operation_in_report_mode() {
    let template = template();
    let events = template
        .resource("CheckLastOperationFunction")
        .and_then(|r| r.pointer("/Properties/Events"))
        .and_then(Value::as_object)
        .unwrap();
    let schedule = events
        .values()
        .find(|e| matches!(e["Type"].as_str(), Some("ScheduleV2" | "Schedule")))
        .expect("a schedule");
    let input: Value =
        serde_json::from_str(schedule["Properties"]["Input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"mode": "report"}));
    assert_eq!(
        schedule["Properties"]["ScheduleExpression"],
        json!({"Ref": "StatusReportSchedule"})
    );
    assert!(
        schedule["Properties"]["State"]
            .to_string()
            .contains("StatusReportOn"),
        "the schedule can be turned off"
    );
}

#[test]
fn failed_and_timed_out_executions_raise_alarms_on_the_topic() {
    let template = template();
    let alarms: Vec<_> = template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .map(|(_, a)| &a["Properties"])
        .collect();
    for metric in ["ExecutionsFailed", "ExecutionsTimedOut"] {
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

#[test]
fn the_outputs_name_the_state_machine_the_bucket_and_the_topic() {
    let template = template();
    let outputs = template.doc()["Outputs"].as_object().unwrap();
    for key in ["StateMachineArn", "ManifestBucket", "NotificationTopicArn"] {
        assert!(outputs.contains_key(key), "{key}");
    }
}
