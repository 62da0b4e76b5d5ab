//! What a CPP-calling function builds once per cold start and reuses on every warm invocation.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::cpp::CppClient;
use crate::secret::ClientSecret;
use crate::workflow::{ErrorName, WorkflowError};

#[derive(Debug)]
pub struct CppDeps {
    pub config: Config,
    pub client: CppClient,
    pub clock: Arc<dyn Clock>,
}

impl CppDeps {
    /// Reads the configuration and builds the client; a problem fails the cold start. A Secrets
    /// Manager secret is only started here: the first token request waits for it.
    pub async fn from_env() -> Result<Self, WorkflowError> {
        let config = Config::from_env()?;
        let secret = ClientSecret::new(config.client_secret.clone());
        secret.prefetch();
        let client = CppClient::new(&config, secret)
            .map_err(|e| WorkflowError::new(ErrorName::ConfigError, e.to_string()))?;
        Ok(Self {
            config,
            client,
            clock: Arc::new(SystemClock),
        })
    }

    /// The client bounded by this invocation's deadline.
    pub fn client_for(&self, context: &lambda_runtime::Context) -> CppClient {
        self.client.within_deadline(context.deadline())
    }
}
