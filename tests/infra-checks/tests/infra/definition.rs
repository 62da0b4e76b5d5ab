//! The state machine: its flow, errors, retries and notices.

use super::*;

// ------------------------------------------------------------------------- error names

#[test]
fn the_definition_names_only_known_errors() {
    assert_none(asl::unknown_error_names(&definition(), &error_names()));
    assert_found(
        asl::unknown_error_names(
            &broken(
                "/States/UpdateAndPublish/Retry/3/ErrorEquals/0",
                json!("CppConflcit"),
            ),
            &error_names(),
        ),
        "CppConflcit",
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

/// The functions' error names, and what Lambda and Step Functions raise when a function does not answer.
fn every_error_a_task_can_end_with() -> Vec<&'static str> {
    let mut errors = error_names();
    errors.extend(asl::LAMBDA_SERVICE_ERRORS);
    errors.extend(asl::LAMBDA_FUNCTION_FAILURES);
    errors
}

#[test]
fn every_error_of_every_lambda_task_is_notified_then_fails_the_execution_with_its_name_and_cause() {
    let definition = definition();
    assert_eq!(definition.lambda_tasks().len(), 3);
    assert_none(routing::error_problems(
        &definition,
        &every_error_a_task_can_end_with(),
    ));
    assert_none(routing::missing_cause_problems(&definition));
    assert_found(
        routing::error_problems(
            &broken(
                "/States/ValidateAndGoLive/Catch/0/ErrorEquals",
                json!(["OfferBusy"]),
            ),
            &["PollLimitExceeded"],
        ),
        "PollLimitExceeded from ValidateAndGoLive: no catcher takes it",
    );
    assert_found(
        routing::error_problems(
            &broken("/States/PublishingFailed/CausePath", json!("$.error.Error")),
            &["Rejected"],
        ),
        "stops at Fail",
    );
    assert_found(
        routing::error_problems(
            &broken("/States/Failed/Next", json!("PublishingFailed")),
            &["InvalidInput"],
        ),
        "notices [], not [\"failed\"]",
    );
    assert_found(
        routing::missing_cause_problems(&broken(
            "/States/CompleteError/Parameters/defaults",
            json!({}),
        )),
        "timing out without a cause",
    );
}

#[test]
fn a_notice_that_cannot_be_sent_does_not_stop_the_run() {
    let definition = definition();
    let sns_down = follow::World { sns_fails: true };
    let ready = routing::state_with(json!({"operationStatus": "succeeded", "goLive": "auto",
        "operation": {"kind": "publish", "location": "/api/operations/1"}}));
    let check = routing::task_for(&definition, routing::CHECK_FUNCTION).unwrap();
    let next = definition.state(check).unwrap().str("Next").unwrap();
    let route = follow::follow(&definition, next, ready, sns_down).unwrap();
    assert!(route.notices.is_empty());
    let go_live = routing::task_for(&definition, routing::GO_LIVE_FUNCTION).unwrap();
    assert_eq!(
        route.stop,
        Stop::Task(go_live.to_owned()),
        "{:?}",
        route.states
    );
    assert_eq!(route.data["notice"]["delivery"]["sent"], false);
    let failed = follow::after_failure(
        &definition,
        check,
        routing::sample_state(),
        "Rejected",
        "bad",
        sns_down,
    )
    .unwrap()
    .unwrap();
    assert!(matches!(failed.stop, Stop::Fail { ref error, .. } if error == "Rejected"));
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
            "/States/UpdateAndPublish/Catch/0/ErrorEquals",
            json!(["Rejected"]),
        )),
        "not [\"States.ALL\"] alone",
    );
    assert_found(
        asl::task_problems(&without("/States/Notify/Catch")),
        "Parallel Notify has no Catch",
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
    }
}

#[test]
fn each_lambda_task_outlives_its_functions_timeout() {
    let definition = definition();
    assert_none(task_timeout_problems(&definition, &template()));
    let text = read_repo_file(TEMPLATE_PATH).unwrap();
    assert!(
        text.contains("    Timeout: 90\n"),
        "the Globals timeout this test raises"
    );
    let longer = Template::parse(&text.replace("    Timeout: 90\n", "    Timeout: 150\n")).unwrap();
    assert_found(
        task_timeout_problems(&definition, &longer),
        "does not outlive its function's 150 s timeout",
    );
}

/// Each Lambda task's TimeoutSeconds is longer than its function's own timeout in the template: Lambda
/// ends a function that overruns (Sandbox.Timedout) before the task gives up on it (States.Timeout), so
/// a retry never runs beside an attempt that is still writing.
fn task_timeout_problems(definition: &Asl, template: &Template) -> Vec<String> {
    let substitutions = template
        .resource("PublishStateMachine")
        .and_then(|r| r.pointer("/Properties/DefinitionSubstitutions"))
        .cloned()
        .unwrap_or_default();
    let mut problems = Vec::new();
    for task in definition.lambda_tasks() {
        let placeholder = task.function().unwrap_or_default();
        let key = placeholder.trim_start_matches("${").trim_end_matches('}');
        let Some(function) = substitutions[key]["Fn::GetAtt"][0].as_str() else {
            problems.push(format!(
                "{}: {placeholder} is not a function of the template",
                task.name
            ));
            continue;
        };
        let timeout = template
            .function_property(function, "Timeout")
            .and_then(|t| t.as_u64())
            .unwrap_or(3);
        let task_timeout = task.u64("TimeoutSeconds").unwrap_or(u64::MAX);
        if task_timeout <= timeout {
            problems.push(format!(
                "{}: TimeoutSeconds {task_timeout} does not outlive its function's {timeout} s timeout",
                task.name
            ));
        }
    }
    problems
}

#[test]
fn the_retry_policy_check_catches_each_broken_rule() {
    let transient = "/States/CheckLastOperation/Retry/2";
    assert_found(
        asl::retry_policy_problems(&without(&format!("{transient}/JitterStrategy"))),
        "no full jitter",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/ValidateAndGoLive/Retry/3/IntervalSeconds",
            json!(5),
        )),
        "OfferBusy is retried after 5 s",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/3/ErrorEquals",
            json!(["WriteConflict", "OfferBusy"]),
        )),
        "its OfferBusy means the queue gave up",
    );
    assert_found(
        asl::retry_policy_problems(&broken("/TimeoutSeconds", json!(2_592_000))),
        "outlast the execution timeout",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/ValidateAndGoLive/Retry/3/MaxAttempts",
            json!(110),
        )),
        "a person is waiting, so hours, not days",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/3/ErrorEquals",
            json!(["WriteConflict", "Rejected"]),
        )),
        "retries Rejected",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/0/ErrorEquals",
            json!(["Lambda.ServiceException"]),
        )),
        "does not retry Lambda.ClientExecutionTimeoutException",
    );
}

#[test]
fn a_function_that_times_out_or_crashes_is_run_again_a_few_times() {
    let definition = definition();
    for task in definition.lambda_tasks() {
        for error in asl::LAMBDA_FUNCTION_FAILURES {
            let retrier = asl::retrier_for(&task, error)
                .unwrap_or_else(|| panic!("{} does not retry {error}", task.name));
            let attempts = retrier["MaxAttempts"].as_u64().unwrap();
            assert!((2..=5).contains(&attempts), "{}: {error}", task.name);
        }
    }
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/CheckLastOperation/Retry/1/ErrorEquals",
            json!(["Lambda.Unknown", "Runtime.ExitError", "States.Timeout"]),
        )),
        "CheckLastOperation does not retry Sandbox.Timedout",
    );
    assert_found(
        asl::retry_policy_problems(&broken(
            "/States/UpdateAndPublish/Retry/1/MaxAttempts",
            json!(50),
        )),
        "Lambda.Unknown is retried 50 times, not a few",
    );
}

// -------------------------------------------------------------------------------- flow

#[test]
fn every_transition_names_a_state_and_every_state_is_reachable() {
    assert_none(asl::transition_problems(&definition()));
    assert_found(
        asl::transition_problems(&broken("/States/Live/Next", json!("Notfiy"))),
        "Live.Next names \"Notfiy\"",
    );
    assert_found(
        asl::transition_problems(&broken(
            "/States/RouteOnGoLiveOutcome/Choices/1/Next",
            json!("UpdateAndPublish"),
        )),
        "RecordVersionStillMissing cannot be reached",
    );
    assert_found(
        asl::transition_problems(&without(
            "/States/Notify/Branches/0/States/FillDefaults/Next",
        )),
        "FillDefaults neither ends nor says where to go next",
    );
}

/// Where an execution goes from `start` with the sample state changed by `fields`.
fn from(definition: &Asl, start: &str, fields: Value) -> Result<Route, String> {
    follow::follow(
        definition,
        start,
        routing::state_with(fields),
        follow::World::default(),
    )
}

fn without_field(mut state: Value, field: &str) -> Value {
    state.as_object_mut().unwrap().remove(field);
    state
}

fn after(definition: &Asl, function: &str, fields: Value) -> Result<Route, String> {
    routing::after_task(definition, function, routing::state_with(fields))
}

fn running(kind: &str) -> Value {
    json!({"kind": kind, "location": "/api/publishers/contoso/offers/contoso-linux/operations/op-1", "id": "op-1"})
}

/// The seed's loop, outcome by outcome: what each function's answer leads to.
fn flow_problems(definition: &Asl) -> Vec<String> {
    use routing::Expected::*;
    let (publish, check, go_live) = (
        asl::QUEUEING_FUNCTION,
        routing::CHECK_FUNCTION,
        routing::GO_LIVE_FUNCTION,
    );
    let start = definition.doc()["StartAt"].as_str().unwrap_or_default();
    let succeeded = |kind: &str, extra: Value| {
        let mut fields = json!({"operationStatus": "succeeded", "operation": running(kind)});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        fields
    };
    type Case<'a> = (
        &'a str,
        Result<Route, String>,
        &'a [&'a str],
        routing::Expected<'a>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "action publish",
            from(definition, start, json!({"action": "publish"})),
            &[],
            Calls(publish),
        ),
        (
            "action goLive",
            from(definition, start, json!({"action": "goLive"})),
            &[],
            Calls(go_live),
        ),
        (
            "an unknown action",
            from(definition, start, json!({"action": "delete"})),
            &["failed"],
            FailsWith("InvalidInput", "action"),
        ),
        (
            "no action",
            follow::follow(
                definition,
                start,
                without_field(routing::sample_state(), "action"),
                follow::World::default(),
            ),
            &["failed"],
            FailsWith("InvalidInput", "action"),
        ),
        (
            "an operation still running",
            after(
                definition,
                check,
                json!({"operationStatus": "running", "operation": running("publish"), "nextCheckSeconds": 21600}),
            ),
            &[],
            WaitsThenCalls(check),
        ),
        (
            "preview ready, goLive manual",
            after(definition, check, succeeded("publish", json!({}))),
            &["previewReady"],
            Succeeds,
        ),
        (
            "preview ready, goLive auto",
            after(
                definition,
                check,
                succeeded("publish", json!({"goLive": "auto"})),
            ),
            &["previewReady"],
            Calls(go_live),
        ),
        (
            "preview ready in a goLive execution",
            after(
                definition,
                check,
                succeeded("publish", json!({"action": "goLive"})),
            ),
            &["previewReady"],
            Calls(go_live),
        ),
        (
            "live",
            after(definition, check, succeeded("goLive", json!({}))),
            &["live"],
            Succeeds,
        ),
        (
            "certification failed",
            after(
                definition,
                check,
                json!({"operationStatus": "failed", "operation": running("publish"), "messages": ["port 22 is open"]}),
            ),
            &["failed"],
            FailsWith("OperationFailed", "Microsoft said: [\"port 22 is open\"]"),
        ),
        (
            "canceled without a message",
            after(
                definition,
                check,
                json!({"operationStatus": "canceled", "operation": running("publish")}),
            ),
            &["failed"],
            FailsWith("OperationFailed", "ended canceled without a message"),
        ),
        (
            "a publish another submission came before",
            after(
                definition,
                check,
                json!({"operationStatus": "superseded", "operation": running("publish"), "messages": ["another submission came first"]}),
            ),
            &[],
            Calls(publish),
        ),
        (
            "a go-live whose preview another replaced",
            after(
                definition,
                check,
                json!({"operationStatus": "superseded", "operation": running("goLive"), "messages": ["another submission came first"]}),
            ),
            &[],
            Calls(publish),
        ),
        (
            "a go-live superseded again after publishing first",
            after(
                definition,
                check,
                json!({"operationStatus": "superseded", "operation": running("goLive"), "publishedForGoLive": true, "messages": ["another submission came first"]}),
            ),
            &["failed"],
            FailsWith("OperationFailed", "ended superseded"),
        ),
        (
            "a status the definition does not know",
            after(
                definition,
                check,
                json!({"operationStatus": "paused", "operation": running("publish")}),
            ),
            &["failed"],
            FailsWith("InvalidInput", "does not handle"),
        ),
        (
            "go-live started",
            after(
                definition,
                go_live,
                json!({"outcome": "goLiveStarted", "operation": running("goLive"), "nextCheckSeconds": 300}),
            ),
            &[],
            WaitsThenCalls(check),
        ),
        (
            "the preview lacks the version",
            after(definition, go_live, json!({"outcome": "versionMissing"})),
            &[],
            Calls(publish),
        ),
        (
            "the preview still lacks it after our publish",
            after(
                definition,
                go_live,
                json!({"outcome": "versionMissing", "publishedForGoLive": true}),
            ),
            &["failed"],
            FailsWith("VersionConflict", "is not published again"),
        ),
        (
            "an outcome the definition does not know",
            after(definition, go_live, json!({"outcome": "maybe"})),
            &["failed"],
            FailsWith("InvalidInput", "does not handle"),
        ),
    ];
    let mut problems = Vec::new();
    for (what, route, events, stop) in cases {
        problems.extend(routing::route_problems(
            definition,
            routing::Expect {
                what,
                route,
                events,
                stop,
            },
        ));
    }
    problems
}

#[test]
fn the_flow_is_the_seeds_loop_update_and_publish_wait_check_preview_go_live() {
    let definition = definition();
    assert_none(flow_problems(&definition));
    assert_none(routing::queue_problems(&definition));
    let republish = after(
        &definition,
        routing::GO_LIVE_FUNCTION,
        json!({"outcome": "versionMissing"}),
    )
    .unwrap();
    assert_eq!(
        republish.data["publishedForGoLive"], true,
        "a second versionMissing is an error, not a loop"
    );
    assert_found(
        flow_problems(&broken(
            "/States/GoLiveNow/Default",
            json!("ValidateAndGoLive"),
        )),
        "preview ready, goLive manual: stops at Task",
    );
    assert_found(
        flow_problems(&broken(
            "/States/RouteOnOperationStatus/Choices/0/Next",
            json!("CheckLastOperation"),
        )),
        "an operation still running: stops at Task",
    );
    assert_found(
        flow_problems(&broken("/States/Live/Parameters/event", json!("liv"))),
        "live: PublishingFailed",
    );
    assert_found(
        flow_problems(&broken(
            "/States/ChooseAction/Choices/0/Not/Variable",
            json!("$.actoin"),
        )),
        "action publish: stops at Fail",
    );
    let unguarded = definition.doc()["States"]["ChooseAction"]["Choices"]
        .as_array()
        .unwrap()[1..]
        .to_vec();
    assert_found(
        flow_problems(&broken("/States/ChooseAction/Choices", json!(unguarded))),
        "no action: ChooseAction: States.Runtime",
    );
    assert_found(
        routing::queue_problems(&broken(
            "/States/WaitForOffer/Next",
            json!("CheckLastOperation"),
        )),
        "a later queue entry: stops at Wait",
    );
    assert_found(
        routing::queue_problems(&broken(
            "/States/QueuedForOffer/Choices/1/NumericEquals",
            json!(0),
        )),
        "a first queue entry: notices [], not [\"queued\"]",
    );
    assert_found(
        routing::queue_problems(&broken("/States/Queued/Parameters/details", json!({}))),
        "the queued notice does not say what it waits for",
    );
    assert_found(
        routing::queue_problems(&broken(
            "/States/Queued/Parameters/headline.$",
            json!("States.Format('waits its turn: {}.', $.queue.waitingFor)"),
        )),
        "the queued notice does not say how long the run waits at most",
    );
}

#[test]
fn the_preview_ready_notice_says_what_this_run_does_next() {
    let definition = definition();
    let ready = |extra: Value| {
        let mut fields = json!({"operationStatus": "succeeded", "operation": running("publish")});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        after(&definition, routing::CHECK_FUNCTION, fields).unwrap()
    };
    let manual = ready(json!({"goLive": "manual"}));
    let notice = &manual.notices[0];
    assert_eq!(notice["goLiveNow"], false);
    let summary = notice["summary"].as_str().unwrap();
    assert!(
        summary.ends_with(
            "take it live with: mpub go-live arn:aws:states:eu-west-1:123456789012:execution:publish:run"
        ),
        "{summary}"
    );
    assert!(matches!(manual.stop, Stop::Succeed(ref s) if s == "StoppedAtPreview"));
    for extra in [json!({"goLive": "auto"}), json!({"action": "goLive"})] {
        let now = ready(extra);
        assert_eq!(now.notices[0]["goLiveNow"], true);
        assert!(
            now.notices[0]["summary"]
                .as_str()
                .unwrap()
                .contains("this run takes it live now")
        );
        assert_eq!(now.stop, Stop::Task("ValidateAndGoLive".into()));
    }
}

#[test]
fn the_definition_raises_operation_failed_for_failed_and_canceled_operations() {
    let raised = asl::raised_error_names(&definition());
    assert!(
        raised.iter().any(|(_, name)| name == "OperationFailed"),
        "{raised:?}"
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
fn one_state_sends_every_notice_and_none_carries_the_sas_url() {
    let definition = definition();
    assert_eq!(definition.sns_tasks().len(), 1, "one notice path");
    assert_none(asl::notice_problems(&definition));
    assert_found(
        asl::notice_problems(&broken(
            "/States/Notify/Branches/0/States/SendNotice/Parameters/Message.$",
            json!("$.run"),
        )),
        "SAS URL",
    );
    // What the notices actually say, on every route that sends one, with signed URLs in the state.
    assert_none(flow_problems(&definition));
    assert_found(
        flow_problems(&broken(
            "/States/PreviewReady/Parameters/details",
            json!({"goLiveNow": false, "image.$": "$.osVhdUrl"}),
        )),
        "a notice carries a SAS URL",
    );
}

#[test]
fn the_readme_diagram_is_the_definition_state_for_state() {
    let readme = read_repo_file("README.md").unwrap();
    assert_none(diagram::diagram_problems(&definition(), &readme));
    assert_found(
        diagram::diagram_problems(
            &broken("/States/GoLiveNow/Default", json!("Failed")),
            &readme,
        ),
        "the diagram lacks GoLiveNow --> Failed",
    );
    assert_found(
        diagram::diagram_problems(
            &broken("/States/GoLiveNow/Default", json!("Failed")),
            &readme,
        ),
        "the diagram draws GoLiveNow --> PreviewReady",
    );
    let edges = diagram::mermaid_edges(
        "```mermaid\nflowchart TD\n    A{a} -- x --> B[[b]] --> C & D\n    D -->|y| E((e))\n```\n",
    )
    .unwrap();
    let edges: Vec<String> = edges.iter().map(|(a, b)| format!("{a}>{b}")).collect();
    assert_eq!(edges, ["A>B", "B>C", "B>D", "D>E"]);
}

#[test]
fn the_definition_is_at_most_half_its_former_size() {
    // 798 lines and 35 states before the notices became one path and the catches one rule.
    let text = read_repo_file(ASL_PATH).unwrap();
    let lines = text.lines().count();
    assert!(lines <= 399, "{ASL_PATH} has {lines} lines");
}
