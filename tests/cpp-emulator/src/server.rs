//! Starting and stopping the emulator: a hand-written accept loop so a fault can close a
//! connection without answering (axum::serve cannot do that).

use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::app::App;
use crate::config::EmulatorConfig;
use crate::faults::Fault;
use crate::ingestion::settings::IngestionSettings;
use crate::observe::{ConnAbort, LoggedRequest};

/// Entry point: `Emulator::start(config).await`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
        Self::start_on_port(config, 0).await
    }

    /// Listens on 127.0.0.1:`port` (0 = a free port).
    pub async fn start_on_port(
        config: EmulatorConfig,
        port: u16,
    ) -> std::io::Result<RunningEmulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let app = Arc::new(App::new(config, base_url.clone()));
        let router = crate::routes::router(app.clone());
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(accept_loop(listener, router, stopped));
        tracing::info!(%base_url, "CPP emulator listening");
        Ok(RunningEmulator {
            app,
            base_url,
            stop: Some(stop),
        })
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: oneshot::Receiver<()>) {
    // Dropping the set at the end aborts every open connection with the server.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => tracing::warn!(%error, "accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!("CPP emulator stopped");
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let abort = ConnAbort::default();
    let signal = abort.0.clone();
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(abort.clone());
        let router = router.clone();
        async move {
            Ok::<_, Infallible>(
                router
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {}),
            )
        }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        // Returning drops the connection: the socket closes and the client gets no response.
        () = signal.notified() => tracing::debug!("connection dropped by an injected fault"),
    }
}

/// A running emulator; stops when dropped or on `shutdown()`.
#[derive(Debug)]
pub struct RunningEmulator {
    app: Arc<App>,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`: the API root and the login root (token at `/{tenant}/oauth2/token`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Creates the publisher if needed and replaces the offer (fresh ETag, never published).
    /// The document needs string `publisherId` and `id`; it is not validated like a PUT.
    ///
    /// # Panics
    /// When `publisherId` or `id` is missing: a broken test fixture should fail loudly.
    pub fn seed_offer(&self, offer_doc: Value) {
        if let Err(error) = self.app.seed(offer_doc) {
            panic!("seed_offer: {error}");
        }
    }

    /// The stored draft as GET would return it (with status, version, changedTime).
    pub fn draft(&self, publisher: &str, offer: &str) -> Option<Value> {
        self.app.draft(publisher, offer)
    }

    /// `"draft"`, `"preview"` or `"production"` (any case); None when never filled.
    pub fn slot(&self, publisher: &str, offer: &str, slot: &str) -> Option<Value> {
        self.app.slot(publisher, offer, slot)
    }

    pub fn advance_clock(&self, by: Duration) {
        self.app.clock.advance(by);
    }

    /// 0 = frozen (the default), 86400 = a virtual day per real second.
    pub fn set_clock_scale(&self, virtual_seconds_per_real_second: f64) {
        self.app.clock.set_scale(virtual_seconds_per_real_second);
    }

    /// The virtual now.
    pub fn now(&self) -> OffsetDateTime {
        self.app.clock.now()
    }

    /// The step fails (`blocked`, error message, operation `failed`) when an operation reaches it;
    /// at once if the running operation is on it, else on the next operation that runs it.
    ///
    /// # Panics
    /// On an unknown offer or step id.
    pub fn fail_operation_at_step(
        &self,
        publisher: &str,
        offer: &str,
        step_id: &str,
        message_html: &str,
    ) {
        if let Err(error) = self
            .app
            .fail_at_step(publisher, offer, step_id, message_html)
        {
            panic!("fail_operation_at_step: {}", error.message);
        }
    }

    pub fn inject_fault(&self, fault: Fault) {
        self.app.faults().add(fault);
    }

    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// Token and `/api` requests in arrival order (control requests are not recorded).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.requests()
    }

    pub fn clear_requests(&self) {
        self.app.log().clear();
    }

    /// Every token issued so far now gets 401.
    pub fn revoke_tokens(&self) {
        self.app.tokens().revoke_all();
    }

    /// Every access token issued so far, revoked and expired ones included, oldest first. In-process
    /// only (never over the control API): for tests that check a client never logs or shows one.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.app.tokens().history()
    }

    /// `http://127.0.0.1:PORT/rp/product-ingestion`: a Product Ingestion client's base URL.
    pub fn ingestion_base_url(&self) -> String {
        format!("{}{}", self.base_url, crate::ingestion::PI_PREFIX)
    }

    /// Adds (or replaces, by GUID or externalId) a product from a resource-tree document (§7.1 shape);
    /// it starts with only the draft entry (no preview or live). Returns the product GUID.
    ///
    /// # Panics
    /// When the document has no `product/{P}` resource with `identity.externalId`.
    pub fn seed_product(&self, tree: Value) -> String {
        self.app
            .seed_product(&tree, false)
            .unwrap_or_else(|error| panic!("seed_product: {error}"))
    }

    /// As [`Self::seed_product`], with the draft also live and in preview (published a month ago).
    ///
    /// # Panics
    /// When the document has no `product/{P}` resource with `identity.externalId`.
    pub fn seed_published_product(&self, tree: Value) -> String {
        self.app
            .seed_product(&tree, true)
            .unwrap_or_else(|error| panic!("seed_published_product: {error}"))
    }

    /// `{"productId","draft","preview"|null,"live"|null,"submissions":[..],"jobs":[..]}`, trees
    /// unshuffled and every submission entry shown (as `GET /_emulator/ingestion/products/{id}`).
    pub fn ingestion_state(&self, external_id: &str) -> Option<Value> {
        self.app.ingestion_state(external_id)
    }

    /// The next `times` preview submissions of the product fail certification (§7.4(g)).
    ///
    /// # Panics
    /// On an unknown product.
    pub fn arm_certification_failure(&self, external_id: &str, times: u32) {
        if let Err(error) = self.app.arm_certification_failure(external_id, times) {
            panic!("arm_certification_failure: {error}");
        }
    }

    pub fn ingestion_settings(&self) -> IngestionSettings {
        self.app.ingestion().settings.clone()
    }

    /// Applies to jobs created from now on (running ones keep their end time).
    pub fn set_ingestion_settings(&self, settings: IngestionSettings) {
        self.app.ingestion().settings = settings;
    }

    /// The issuer of the STS stand-in's tokens: `{base}/sts-issuer`.
    pub fn sts_issuer(&self) -> String {
        crate::federation::sts::issuer(&self.app)
    }

    /// The STS endpoint, for `AWS_ENDPOINT_URL_STS`.
    pub fn sts_url(&self) -> String {
        format!("{}/sts", self.base_url)
    }

    /// Trusts tokens of `credential` on the app registration (as a federated identity credential does).
    pub fn add_federated_credential(&self, credential: crate::FederatedCredential) {
        self.app.federation().credentials.push(credential);
    }

    /// Signs the STS requests of access key `access_key_id` as `role_arn`.
    pub fn map_caller(&self, access_key_id: &str, role_arn: &str) {
        self.app
            .federation()
            .callers
            .insert(access_key_id.to_owned(), role_arn.to_owned());
    }

    /// Outbound identity federation on or off in the simulated AWS account.
    pub fn set_federation_enabled(&self, enabled: bool) {
        self.app.federation().enabled = enabled;
    }

    /// Every web identity token the STS stand-in issued.
    pub fn issued_web_identity_tokens(&self) -> Vec<String> {
        self.app.federation().issued.clone()
    }

    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The loop may already be gone (runtime shut down): nothing left to stop then.
            let _ = stop.send(());
        }
    }
}
