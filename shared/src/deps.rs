//! What a function builds once per cold start and reuses on every warm invocation: the
//! configuration and a client of each Microsoft API, and which of them a run speaks to.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, CredentialMode};
use crate::cpp::CppClient;
use crate::credential::Credential;
use crate::federation::WebIdentity;
use crate::http::{ClientOptions, http_client};
use crate::ingestion::{IngestionClient, IngestionOptions};
use crate::marketplace::{
    Activity, Api, Draft, MarketError, Marketplace, OfferId, OperationKind, OperationRef,
    OperationReport, PlanChange, PlanVersions, Slot,
};
use crate::secret::ClientSecret;
use crate::workflow::{ErrorName, WorkflowError};

#[derive(Debug)]
pub struct Deps {
    pub config: Config,
    pub cpp: CppClient,
    pub ingestion: IngestionClient,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    /// Reads the configuration and builds the clients; a problem fails the cold start. Nothing is
    /// fetched here: a Secrets Manager secret or an STS token is read by the first token request.
    pub async fn from_env() -> Result<Self, WorkflowError> {
        let config = Config::from_env()?;
        let credential: Credential = match (&config.credential, &config.client_secret) {
            (CredentialMode::AwsFederation, _) => WebIdentity::default().into(),
            (CredentialMode::Secret, Some(source)) => ClientSecret::new(source.clone()).into(),
            (CredentialMode::Secret, None) => {
                return Err(WorkflowError::new(
                    ErrorName::ConfigError,
                    "no client secret configured",
                ));
            }
        };
        let failed =
            |e: crate::http::ApiError| WorkflowError::new(ErrorName::ConfigError, e.to_string());
        // One credential for both: one Entra app serves both APIs, for a token of each audience;
        // and one TLS configuration and connection pool.
        let defaults = ClientOptions::default();
        let options = ClientOptions {
            http: Some(http_client(defaults.connect_timeout).map_err(failed)?),
            ..defaults
        };
        let cpp = CppClient::with_options(&config, credential.clone(), options.clone())
            .map_err(failed)?;
        let ingestion = IngestionClient::with_options(
            &config,
            credential,
            options,
            IngestionOptions::default(),
        )
        .map_err(failed)?;
        Ok(Self {
            config,
            cpp,
            ingestion,
            clock: Arc::new(SystemClock),
        })
    }

    /// The API `api` names, its calls bounded by this invocation's deadline.
    pub fn market(&self, api: Api, context: &lambda_runtime::Context) -> Backend {
        self.market_until(api, context.deadline())
    }

    /// The API `api` names, its calls ending by `deadline`.
    pub fn market_until(&self, api: Api, deadline: std::time::SystemTime) -> Backend {
        match api {
            Api::Cpp => Backend::Cpp(self.cpp.within_deadline(deadline)),
            Api::ProductIngestion => Backend::Ingestion(self.ingestion.within_deadline(deadline)),
        }
    }
}

/// One of the APIs, chosen per run.
#[derive(Debug, Clone)]
pub enum Backend {
    Cpp(CppClient),
    Ingestion(IngestionClient),
}

macro_rules! dispatch {
    ($self:ident, $m:ident => $call:expr) => {
        match $self {
            Backend::Cpp($m) => $call,
            Backend::Ingestion($m) => $call,
        }
    };
}

impl Marketplace for Backend {
    fn api(&self) -> Api {
        dispatch!(self, m => m.api())
    }

    async fn read_draft(&self, offer: &OfferId, plans: &[&str]) -> Result<Draft, MarketError> {
        dispatch!(self, m => m.read_draft(offer, plans).await)
    }

    async fn read_plan(
        &self,
        offer: &OfferId,
        plan: &str,
        slot: Slot,
    ) -> Result<Option<PlanVersions>, MarketError> {
        dispatch!(self, m => m.read_plan(offer, plan, slot).await)
    }

    async fn write_draft(
        &self,
        offer: &OfferId,
        draft: Draft,
        changes: &[PlanChange],
    ) -> Result<(), MarketError> {
        dispatch!(self, m => m.write_draft(offer, draft, changes).await)
    }

    async fn activity(&self, offer: &OfferId) -> Result<Vec<Activity>, MarketError> {
        dispatch!(self, m => m.activity(offer).await)
    }

    async fn publish(
        &self,
        offer: &OfferId,
        notification_emails: &str,
    ) -> Result<OperationRef, MarketError> {
        dispatch!(self, m => Marketplace::publish(m, offer, notification_emails).await)
    }

    async fn go_live(&self, offer: &OfferId) -> Result<OperationRef, MarketError> {
        dispatch!(self, m => Marketplace::go_live(m, offer).await)
    }

    async fn cancel(&self, offer: &OfferId, at: &OperationRef) -> Result<(), MarketError> {
        dispatch!(self, m => Marketplace::cancel(m, offer, at).await)
    }

    async fn operation(
        &self,
        offer: &OfferId,
        at: &OperationRef,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        dispatch!(self, m => m.operation(offer, at, kind).await)
    }
}
