//! S3, path-style: GET/HEAD `/{bucket}/{key}`, with S3's XML errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(Clone, Default)]
pub struct FakeS3 {
    state: Arc<Mutex<S3State>>,
    pub url: String,
}

#[derive(Default)]
struct S3State {
    objects: HashMap<(String, String), Vec<u8>>,
    /// (status, code) answered to every request instead of the object.
    fault: Option<(u16, String)>,
    reads: Vec<(String, String)>,
}

impl FakeS3 {
    pub async fn start() -> Self {
        let mut fake = Self::default();
        let router = Router::new()
            .route("/{bucket}/{*key}", get(get_object))
            .with_state(fake.clone());
        fake.url = super::serve(router).await;
        fake
    }

    pub fn put(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        let mut state = self.state.lock().unwrap();
        state
            .objects
            .insert((bucket.into(), key.into()), body.into());
    }

    /// Removes the object, as if it was deleted after the event about it was sent.
    #[allow(dead_code)] // used by tests/reliability, which shares these fakes
    pub fn delete(&self, bucket: &str, key: &str) {
        let mut state = self.state.lock().unwrap();
        state.objects.remove(&(bucket.to_owned(), key.to_owned()));
    }

    pub fn fail_with(&self, status: u16, code: &str) {
        self.state.lock().unwrap().fault = Some((status, code.into()));
    }

    /// Every (bucket, key) read, decoded, in order.
    pub fn reads(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().reads.clone()
    }
}

async fn get_object(
    State(fake): State<FakeS3>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    let mut state = fake.state.lock().unwrap();
    state.reads.push((bucket.clone(), key.clone()));
    if let Some((status, code)) = state.fault.clone() {
        return error(status, &code, "injected fault");
    }
    match state.objects.get(&(bucket, key)) {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => error(404, "NoSuchKey", "The specified key does not exist."),
    }
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fake</RequestId></Error>"
    );
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}
