//! In-process stand-ins for the two AWS APIs build-finished calls, recording what they receive.

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
