//! A transport that hands requests straight to an emulator's router: no socket, no wall clock.
//! Pacing and retry tests run the real connector against the real emulator on tokio's paused
//! clock and assert exact request times.

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use hostelpulse_core::Applied;
use hostelpulse_core::http::{Incoming, Outgoing, Transport, TransportError};
use tower::ServiceExt;

/// Requests served by a router in the calling task.
#[derive(Clone)]
pub struct InProcess {
    router: Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").finish_non_exhaustive()
    }
}

impl InProcess {
    /// Serves requests with `router`.
    pub fn new(router: Router) -> Self {
        Self { router }
    }
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> TransportError {
    TransportError { applied: Applied::No, source: Box::new(e) }
}

#[async_trait]
impl Transport for InProcess {
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
        let uri = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let mut builder = http::Request::builder().method(req.method.as_str()).uri(uri);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let request = builder.body(Body::from(req.body.unwrap_or_default())).map_err(failed)?;
        let response = self.router.clone().oneshot(request).await.map_err(failed)?;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.map_err(|e| TransportError {
            applied: Applied::Maybe,
            source: Box::new(std::io::Error::other(e.to_string())),
        })?;
        Ok(Incoming { status: parts.status.as_u16(), headers: parts.headers, body: body.to_vec() })
    }
}
