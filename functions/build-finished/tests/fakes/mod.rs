//! In-process stand-ins for the two AWS APIs build-finished calls, recording what they receive.

pub mod harness;
pub mod s3;
pub mod sfn;

use axum::Router;

/// Serves `router` on an ephemeral loopback port and returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// SDK clients pointed at the two stand-ins. Retries are off, so a failure case answers at once
/// instead of backing off for real.
pub fn clients(
    s3: &s3::FakeS3,
    sfn: &sfn::FakeSfn,
    secret_key: &str,
) -> (aws_sdk_s3::Client, aws_sdk_sfn::Client) {
    use aws_sdk_s3::config::retry::RetryConfig;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new("AKIDTEST", secret_key, None, None, "test");
    let s3_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&s3.url)
            .region(Region::new("eu-west-1"))
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .timeout_config(build_finished::aws_timeouts())
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let sfn_client = aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
            .endpoint_url(&sfn.url)
            .region(aws_sdk_sfn::config::Region::new("eu-west-1"))
            .credentials_provider(credentials)
            .timeout_config(build_finished::aws_timeouts())
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    (s3_client, sfn_client)
}
