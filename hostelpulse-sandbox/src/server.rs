//! Serving an axum router on a loopback port, stopped on drop.

use std::net::SocketAddr;

use axum::Router;
use hostelpulse_core::http::listener::listen;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running on loopback. Dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Serves `router` on an ephemeral loopback port.
    pub async fn serve(router: Router) -> std::io::Result<Self> {
        // A queue deep enough for a fleet's first requests arriving at once (see `listen`).
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(shutdown).await {
                tracing::warn!(error = %e, "sandbox server stopped");
            }
        });
        Ok(Self { addr, stop: Some(tx), task })
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port` plus `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// A switch that takes an emulator down: while it is on, every request is answered
/// `503 Service Unavailable` (a PMS outage, for alert and retry tests).
#[derive(Debug, Clone, Default)]
pub struct Outage(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Outage {
    /// Turns the outage on or off.
    pub fn set(&self, down: bool) {
        self.0.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the emulator is down.
    pub fn is_down(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// `router`, answering 503 while the switch is on.
    pub(crate) fn wrap(&self, router: Router) -> Router {
        let switch = self.clone();
        router.layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            let down = switch.is_down();
            async move {
                if down {
                    use axum::response::IntoResponse;
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
                }
                next.run(req).await
            }
        }))
    }
}
