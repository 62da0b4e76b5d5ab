//! The SAM template: what it deploys, and how it wires the definition.

use super::*;

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
fn the_release_machine_starts_the_publish_machine_and_sends_its_summary_to_the_topic() {
    let release = Asl::parse(&read_repo_file(RELEASE_ASL_PATH).unwrap()).unwrap();
    let template = template();
    let resource = template.resource("ReleaseStateMachine").unwrap();
    let substitutions: BTreeSet<String> = resource
        .pointer("/Properties/DefinitionSubstitutions")
        .and_then(Value::as_object)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(release.placeholders(), substitutions);
    let statements = resource
        .pointer("/Properties/Policies/0/Statement")
        .and_then(Value::as_array)
        .unwrap();
    let allowed = |action: &str| {
        statements
            .iter()
            .filter(|s| statement_actions(s).contains(&action))
            .map(|s| s["Resource"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        allowed("states:StartExecution"),
        [json!({"Ref": "PublishStateMachine"})]
    );
    assert_eq!(
        allowed("sns:Publish"),
        [json!({"Ref": "NotificationTopic"})]
    );
    assert_eq!(
        allowed("states:DescribeExecution").len(),
        1,
        "it follows its children"
    );
    assert_eq!(
        resource.pointer("/Properties/Logging/IncludeExecutionData"),
        Some(&json!(false)),
        "the release's input holds SAS URLs"
    );
}

#[test]
fn the_template_deploys_this_definition_as_a_standard_state_machine() {
    let template = template();
    let machines: Vec<_> = template
        .resources_of_type("AWS::Serverless::StateMachine")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        machines,
        ["PublishStateMachine", "ReleaseStateMachine"],
        "one publication machine, one release machine"
    );
    for (machine, path) in [
        ("PublishStateMachine", ASL_PATH),
        ("ReleaseStateMachine", RELEASE_ASL_PATH),
    ] {
        let props = &template.resource(machine).unwrap()["Properties"];
        assert_eq!(props["Type"], "STANDARD", "waits of days need STANDARD");
        let uri = props["DefinitionUri"].as_str().unwrap();
        assert!(
            repo_root().join("infra").join(uri).ends_with(path),
            "DefinitionUri {uri} is not {path}"
        );
        assert!(repo_root().join("infra").join(uri).is_file());
    }
    let release = &template.resource("ReleaseStateMachine").unwrap()["Properties"];
    assert_eq!(
        release["DefinitionSubstitutions"]["PublishStateMachineArn"],
        json!({"Ref": "PublishStateMachine"})
    );
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
        "CPP_CREDENTIAL",
        "CPP_PUBLISHER_ID",
        "CPP_MAX_IMAGES_PER_PLAN",
        "CPP_SAS_MIN_VALIDITY_DAYS",
        "CPP_POLL_MIN_SECONDS",
        "CPP_POLL_MAX_SECONDS",
        "CPP_MAX_POLLS",
        "CPP_QUEUE_MAX_DAYS",
        "CPP_WATCH_OFFERS",
        "MARKETPLACE_API",
        "INGESTION_API_BASE_URL",
        "INGESTION_SCHEMA_VERSION",
        "INGESTION_KEEP_ACTIVE_VERSIONS",
        "STATE_MACHINE_ARN",
        "RELEASE_STATE_MACHINE_ARN",
        // build-finished's check of where a storage event comes from (README, Configuration).
        "MANIFEST_BUCKET",
        "MANIFEST_PREFIX",
        // check-last-operation's status report.
        "REPORT_TOPIC_ARN",
    ];
    let template = template();
    for (name, _) in template.resources_of_type("AWS::Serverless::Function") {
        let env = template.function_environment(name);
        for key in env.keys() {
            assert!(
                designed.contains(&key.as_str()),
                "{name}: {key} is not in the README's Configuration"
            );
        }
        assert_eq!(
            env.get("CPP_CLIENT_SECRET_ARN"),
            Some(
                &json!({"Fn::If": ["UseSecret", {"Ref": "CppClientSecretArn"}, {"Ref": "AWS::NoValue"}]})
            ),
            "{name}: the secret's ARN only in secret mode"
        );
        assert_eq!(
            env.get("CPP_CREDENTIAL"),
            Some(&json!({"Ref": "CredentialMode"})),
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

/// The statements of an IAM role's inline policies, each with the condition it is under (if any).
fn role_statements(role: &Value) -> Vec<(Option<&str>, &Value)> {
    let mut out = Vec::new();
    for policy in role
        .pointer("/Properties/Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (condition, policy) = match policy.get("Fn::If").and_then(Value::as_array) {
            Some(branches) => (branches[0].as_str(), &branches[1]),
            None => (None, policy),
        };
        let statements = policy
            .pointer("/PolicyDocument/Statement")
            .and_then(Value::as_array);
        out.extend(statements.into_iter().flatten().map(|s| (condition, s)));
    }
    out
}

#[test]
fn only_the_cpp_functions_read_the_secret_and_only_that_secret() {
    let template = template();
    let mut with_role = BTreeSet::new();
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
            assert!(
                !actions
                    .iter()
                    .any(|a| a.starts_with("secretsmanager:") || a.starts_with("sts:")),
                "{name}: {statement}"
            );
        }
        if resource.pointer("/Properties/Role")
            == Some(&json!({"Fn::GetAtt": ["PublisherRole", "Arn"]}))
        {
            assert!(
                resource.pointer("/Properties/Policies").is_none(),
                "{name}: a role and policies"
            );
            with_role.insert(name.to_owned());
        }
    }
    assert_eq!(
        with_role,
        [
            "CheckLastOperationFunction",
            "UpdateAndPublishFunction",
            "ValidateAndGoLiveFunction"
        ]
        .map(String::from)
        .into()
    );
    let role = template.resource("PublisherRole").unwrap();
    assert_eq!(
        role.pointer("/Properties/RoleName"),
        Some(
            &json!({"Fn::If": ["HasPublisherRoleName", {"Ref": "PublisherRoleName"}, {"Fn::Sub": "${AWS::StackName}-publisher"}]})
        ),
        "a fixed name, stack-derived unless given"
    );
    let statements = role_statements(role);
    for (condition, statement) in &statements {
        let actions = statement_actions(statement);
        assert!(
            !actions.iter().any(|a| a.ends_with(":*") || *a == "*"),
            "wildcard action in {statement}"
        );
        if actions
            .iter()
            .any(|a| a.starts_with("secretsmanager:") || a.starts_with("kms:"))
        {
            assert!(
                matches!(condition, Some("UseSecret" | "HasSecretKmsKey")),
                "the secret is read only in secret mode: {statement}"
            );
        }
        if actions.contains(&"secretsmanager:GetSecretValue") {
            assert_eq!(actions, ["secretsmanager:GetSecretValue"]);
            assert_eq!(statement["Resource"], json!({"Ref": "CppClientSecretArn"}));
        }
    }
    let (condition, token) = statements
        .iter()
        .find(|(_, s)| statement_actions(s) == ["sts:GetWebIdentityToken"])
        .expect("the role may get a web identity token");
    assert_eq!(
        *condition,
        Some("UseFederation"),
        "only in awsFederation mode"
    );
    assert_eq!(
        token["Condition"],
        json!({"ForAllValues:StringEquals": {"sts:IdentityTokenAudience": "api://AzureADTokenExchange"},
               "Null": {"sts:IdentityTokenAudience": "false"},
               "StringEquals": {"sts:SigningAlgorithm": "RS256"},
               "NumericLessThanEquals": {"sts:DurationSeconds": 300}}),
        "only for Entra's audience, RS256, five minutes at most"
    );
    let conditions = template.doc().pointer("/Conditions").unwrap();
    assert_eq!(
        conditions["UseFederation"],
        json!({"Fn::Equals": [{"Ref": "CredentialMode"}, "awsFederation"]})
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
    let release_arn =
        template.function_environment("BuildFinishedFunction")["RELEASE_STATE_MACHINE_ARN"]
            .pointer("/Fn::Sub")
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
    assert_eq!(release_arn, arn.replace("-publish", "-release"));
    let start = statements
        .iter()
        .find(|s| statement_actions(s) == ["states:StartExecution"])
        .unwrap();
    assert_eq!(
        start["Resource"],
        json!([{"Fn::Sub": arn}, {"Fn::Sub": release_arn}]),
        "it may start the two machines and nothing else"
    );
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
fn the_status_report_is_sent_to_the_topic_by_the_function_and_only_its_failure_by_lambda() {
    let template = template();
    let function = template.resource("CheckLastOperationFunction").unwrap();
    assert_eq!(
        function["Properties"]["Environment"]["Variables"]["REPORT_TOPIC_ARN"],
        json!({"Ref": "NotificationTopic"})
    );
    let destinations = &function["Properties"]["EventInvokeConfig"]["DestinationConfig"];
    assert!(
        destinations.get("OnSuccess").is_none(),
        "a success destination would send the report again, as an unreadable invocation record"
    );
    assert_eq!(
        destinations["OnFailure"]["Destination"],
        json!({"Ref": "NotificationTopic"})
    );
}

#[test]
fn the_outputs_name_the_state_machine_the_bucket_and_the_topic() {
    let template = template();
    let outputs = template.doc()["Outputs"].as_object().unwrap();
    for key in ["StateMachineArn", "ManifestBucket", "NotificationTopicArn"] {
        assert!(outputs.contains_key(key), "{key}");
    }
}
