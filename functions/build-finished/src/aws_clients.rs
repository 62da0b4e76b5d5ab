//! The AWS clients of build-finished, each built at the first invocation that calls it: a cold start
//! loads no SDK configuration, and a manifest sent directly builds no S3 client.

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

use crate::aws_timeouts;

#[derive(Debug, Default)]
pub struct AwsClients {
    sdk: OnceCell<SdkConfig>,
    s3: OnceCell<aws_sdk_s3::Client>,
    sfn: OnceCell<aws_sdk_sfn::Client>,
}

impl AwsClients {
    /// Clients from the environment (region, credentials, `AWS_ENDPOINT_URL*`), built when first used.
    pub fn from_env() -> Self {
        Self::default()
    }

    /// These clients (pointed at stand-ins, say), built already.
    pub fn given(s3: aws_sdk_s3::Client, sfn: aws_sdk_sfn::Client) -> Self {
        Self {
            sdk: OnceCell::new(),
            s3: OnceCell::new_with(Some(s3)),
            sfn: OnceCell::new_with(Some(sfn)),
        }
    }

    pub async fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3
            .get_or_init(|| async {
                // Local S3 stand-ins (moto, MinIO) serve only path-style; real S3 keeps virtual-hosted style.
                let local_s3 = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                    .iter()
                    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
                let config = aws_sdk_s3::config::Builder::from(self.sdk().await)
                    .force_path_style(local_s3)
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            })
            .await
    }

    pub async fn sfn(&self) -> &aws_sdk_sfn::Client {
        self.sfn
            .get_or_init(|| async { aws_sdk_sfn::Client::new(self.sdk().await) })
            .await
    }

    async fn sdk(&self) -> &SdkConfig {
        self.sdk
            .get_or_init(|| {
                aws_config::defaults(BehaviorVersion::latest())
                    .timeout_config(aws_timeouts())
                    .load()
            })
            .await
    }
}
