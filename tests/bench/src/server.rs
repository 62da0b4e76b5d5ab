//! A loopback HTTP server on a free port that stops when dropped.

use axum::Router;
use tokio::sync::oneshot;

pub struct Server {
    url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    pub async fn start(router: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                eprintln!("bench: a loopback server stopped: {e}");
            }
        });
        Ok(Self {
            url,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// `127.0.0.1:PORT`
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
