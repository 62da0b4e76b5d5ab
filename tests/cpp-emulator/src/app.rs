//! State shared by the HTTP handlers, the control API and the in-process handle.

use std::sync::{Mutex, MutexGuard, PoisonError};

use percent_encoding::percent_decode_str;
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::Tokens;
use crate::clock::VirtualClock;
use crate::config::EmulatorConfig;
use crate::error::ApiError;
use crate::faults::{FaultSet, merge_at};
use crate::federation::sts::Federation;
use crate::ingestion::Ingestion;
use crate::observe::{LoggedRequest, RequestLog};
use crate::offers::Store;
use crate::operations::{FailMark, step_index};

#[derive(Debug)]
pub(crate) struct App {
    pub config: EmulatorConfig,
    /// `http://127.0.0.1:PORT`, used for absolute `Operation-Location` headers.
    pub base_url: String,
    pub clock: VirtualClock,
    store: Mutex<Store>,
    tokens: Mutex<Tokens>,
    faults: Mutex<FaultSet>,
    log: Mutex<RequestLog>,
    ingestion: Mutex<Ingestion>,
    federation: Mutex<Federation>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    pub(crate) fn new(config: EmulatorConfig, base_url: String) -> Self {
        let clock = VirtualClock::new(0.0);
        let mut store = Store::default();
        if config.seed_default_offer
            && let Err(error) = store.seed(crate::default_offer(), clock.now())
        {
            tracing::error!(%error, "could not seed the default offer");
        }
        let ingestion = Ingestion::new(
            config.ingestion.clone(),
            config.seed_default_offer,
            clock.now(),
        );
        Self {
            config,
            base_url,
            clock,
            store: Mutex::new(store),
            tokens: Mutex::new(Tokens::default()),
            faults: Mutex::new(FaultSet::default()),
            log: Mutex::new(RequestLog::default()),
            ingestion: Mutex::new(ingestion),
            federation: Mutex::new(Federation::default()),
        }
    }

    /// The STS stand-in and the app's federated credentials.
    pub(crate) fn federation(&self) -> MutexGuard<'_, Federation> {
        lock(&self.federation)
    }

    /// The Product Ingestion state with every job whose time has come finished.
    pub(crate) fn ingestion(&self) -> MutexGuard<'_, Ingestion> {
        let mut ingestion = lock(&self.ingestion);
        ingestion.settle(self.clock.now());
        ingestion
    }

    /// Seeds a product; `published`: its draft is also live and in preview.
    pub(crate) fn seed_product(&self, tree: &Value, published: bool) -> Result<String, String> {
        if published {
            let now = self.clock.now();
            self.ingestion().seed_live(tree, now)
        } else {
            self.ingestion().seed(tree)
        }
    }

    pub(crate) fn ingestion_state(&self, external_id: &str) -> Option<Value> {
        self.ingestion().state(external_id)
    }

    pub(crate) fn arm_certification_failure(
        &self,
        external_id: &str,
        times: u32,
    ) -> Result<(), String> {
        let mut ingestion = self.ingestion();
        let product = ingestion
            .by_external_id(external_id)
            .ok_or_else(|| format!("No product with externalId '{external_id}'."))?;
        product.certification_failures += times;
        Ok(())
    }

    /// The store with every time-driven effect applied up to the virtual now.
    pub(crate) fn settled(&self) -> (MutexGuard<'_, Store>, OffsetDateTime) {
        let now = self.clock.now();
        let mut store = lock(&self.store);
        store.settle(now, &self.config);
        (store, now)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultSet> {
        lock(&self.faults)
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, RequestLog> {
        lock(&self.log)
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.log().entries()
    }

    pub(crate) fn seed(&self, doc: Value) -> Result<(), String> {
        let (mut store, now) = self.settled();
        store.seed(doc, now)
    }

    pub(crate) fn draft(&self, publisher: &str, offer: &str) -> Option<Value> {
        self.slot(publisher, offer, "draft")
    }

    pub(crate) fn slot(&self, publisher: &str, offer: &str, slot: &str) -> Option<Value> {
        let (store, now) = self.settled();
        let offer = store.offer(publisher, offer).ok()?;
        offer.render_slot(slot, now, &self.config).ok().flatten()
    }

    /// Another writer's change to the draft of the offer `path` names (`/api/publishers/{p}/offers/{o}...`):
    /// `patch` merged at `pointer`, and a fresh ETag.
    pub(crate) fn concurrent_write(
        &self,
        path: &str,
        pointer: &str,
        patch: &Value,
    ) -> Result<(), String> {
        let segments: Vec<String> = path
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let after = |name: &str| {
            segments
                .iter()
                .position(|s| s == name)
                .and_then(|i| segments.get(i + 1))
                .filter(|s| !s.is_empty())
        };
        let (Some(publisher), Some(offer_id)) = (after("publishers"), after("offers")) else {
            return Err(format!("{path} names no offer"));
        };
        let (mut store, now) = self.settled();
        let stamp = store.stamp(now);
        let offer = store
            .offer_mut(publisher, offer_id)
            .map_err(|e| e.message)?;
        let mut doc = offer.doc.clone();
        merge_at(&mut doc, pointer, patch)?;
        offer.replace_draft(doc, stamp);
        Ok(())
    }

    pub(crate) fn fail_at_step(
        &self,
        publisher: &str,
        offer: &str,
        step_id: &str,
        message_html: &str,
    ) -> Result<(), ApiError> {
        let step = step_index(step_id)
            .ok_or_else(|| ApiError::bad_request(format!("Unknown step id '{step_id}'.")))?;
        let (mut store, now) = self.settled();
        let offer = store.offer_mut(publisher, offer)?;
        let mark = FailMark {
            step,
            message_html: message_html.to_owned(),
            marked_at: now,
        };
        offer.mark_failure(mark, now, &self.config);
        Ok(())
    }
}
