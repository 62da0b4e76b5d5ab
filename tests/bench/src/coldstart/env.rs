//! The environment each measured process starts with: what Lambda gives a function as
//! infra/template.yaml configures it, pointed at the emulator and the AWS stand-ins.

use cpp_emulator::EmulatorConfig;

use super::{FLOOR, SignIn};
use crate::aws;
use crate::pipeline::{BUCKET, MANIFEST_PREFIX, World};

/// Lambda's own variables and dummy AWS credentials, then the function's configuration. Nothing
/// else: no HOME, so no AWS profile files are read, as in Lambda. The floor gets the same base and
/// no configuration, so a difference in init is the functions' own work.
pub fn environment(function: &str, sign_in: SignIn, world: &World) -> Vec<(String, String)> {
    let cpp = world.emulator.base_url();
    let mut env: Vec<(&str, String)> = vec![
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]bench".into(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", aws::REGION.into()),
        ("AWS_DEFAULT_REGION", aws::REGION.into()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCH".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench-secret-key".into()),
        ("AWS_SESSION_TOKEN", "bench-session-token".into()),
        ("AWS_ENDPOINT_URL", world.aws.url.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("TZ", ":UTC".into()),
    ];
    match function {
        FLOOR => {}
        "build-finished" => env.extend([
            ("STATE_MACHINE_ARN", aws::STATE_MACHINE_ARN.into()),
            ("MANIFEST_BUCKET", BUCKET.into()),
            ("MANIFEST_PREFIX", MANIFEST_PREFIX.into()),
        ]),
        _ => {
            env.extend([
                ("CPP_API_BASE_URL", cpp.clone()),
                ("CPP_LOGIN_BASE_URL", cpp),
                ("CPP_TENANT_ID", "bench-tenant".into()),
                ("CPP_CLIENT_ID", EmulatorConfig::default().client_id),
            ]);
            match sign_in {
                SignIn::SecretsManager => {
                    env.push(("CPP_CLIENT_SECRET_ARN", aws::SECRET_ARN.into()));
                }
                SignIn::Environment => {
                    env.push(("CPP_CLIENT_SECRET", EmulatorConfig::default().client_secret));
                }
                // No secret at all (the configuration refuses one): the role's STS token instead.
                SignIn::AwsFederation => env.extend([
                    ("CPP_CREDENTIAL", "awsFederation".into()),
                    ("AWS_ENDPOINT_URL_STS", world.emulator.sts_url()),
                ]),
                SignIn::None => {}
            }
        }
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
