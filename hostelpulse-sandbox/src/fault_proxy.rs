//! A fault-injecting HTTP proxy: one instance in front of an emulator serves every HTTP connector.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use futures_util::stream;
use hostelpulse_core::testkit::{Fault, FaultPlan, HttpFaults};

use crate::server::Running;

/// What the proxy injects.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// The fault schedule (share of requests, which faults, seed).
    pub plan: FaultPlan,
    /// Vendor-specific bodies for 200-with-error and expired-token faults.
    pub bodies: HttpFaults,
    /// How long a "timeout" fault stalls before answering (set the client's timeout below it).
    pub stall: Duration,
    /// Keep every exchange forwarded to the upstream untouched (see [`FaultProxy::exchanges`]).
    pub record: bool,
}

impl ProxyConfig {
    /// Faults from `plan`, default bodies, a 2 s stall.
    pub fn new(plan: FaultPlan) -> Self {
        Self { plan, bodies: HttpFaults::default(), stall: Duration::from_secs(2), record: false }
    }

    /// No faults: every request is forwarded as it is.
    pub fn passthrough() -> Self {
        Self::new(FaultPlan::new(0.0, &[], 0))
    }

    /// Keeps the exchanges forwarded untouched, to check them afterwards (against the vendor's
    /// OpenAPI description, feature `contract`).
    pub fn record(mut self) -> Self {
        self.record = true;
        self
    }

    /// Sets the vendor bodies.
    pub fn bodies(mut self, bodies: HttpFaults) -> Self {
        self.bodies = bodies;
        self
    }

    /// Sets the stall.
    pub fn stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    config: ProxyConfig,
    exchanges: std::sync::Mutex<Vec<Exchange>>,
}

/// One request forwarded to the upstream and its answer, as the proxy saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exchange {
    /// `GET`, `POST`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, undecoded.
    pub query: Option<String>,
    /// The request's `Content-Type`.
    pub request_content_type: Option<String>,
    /// The request body.
    pub request_body: Bytes,
    /// The response status.
    pub status: u16,
    /// The response's `Content-Type`.
    pub response_content_type: Option<String>,
    /// The response body.
    pub response_body: Bytes,
}

/// A running proxy. Point a connector's base URL at [`FaultProxy::url`] instead of the emulator's.
#[derive(Debug)]
pub struct FaultProxy {
    server: Running,
    shared: Arc<SharedHandle>,
}

/// Read access to the proxy's counters.
#[derive(Debug)]
struct SharedHandle(Arc<Shared>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("upstream", &self.upstream).finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:4100`).
    pub async fn start(upstream: impl Into<String>, config: ProxyConfig) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            upstream: upstream.into().trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().build().map_err(std::io::Error::other)?,
            config,
            exchanges: std::sync::Mutex::default(),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        Ok(Self { server: Running::serve(router).await?, shared: Arc::new(SharedHandle(shared)) })
    }

    /// The proxy's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Requests seen.
    pub fn requests(&self) -> u64 {
        self.shared.0.config.plan.calls()
    }

    /// Faults injected.
    pub fn injected(&self) -> u64 {
        self.shared.0.config.plan.injected()
    }

    /// The exchanges forwarded untouched so far, oldest first (empty unless the proxy was
    /// started with [`ProxyConfig::record`]).
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.0.exchanges.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn plain(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_owned()));
    *r.status_mut() = status;
    r
}

/// A response whose body fails after `keep` bytes: the client sees a cut connection.
fn cut(status: StatusCode, headers: HeaderMap, body: Bytes, keep: usize) -> Response<Body> {
    let head = body.slice(..keep.min(body.len()));
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(head), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected cut"))];
    let mut r = Response::new(Body::from_stream(stream::iter(chunks)));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    // Announce the full length so the client knows the body came up short.
    if let Ok(v) = HeaderValue::from_str(&body.len().to_string()) {
        r.headers_mut().insert(axum::http::header::CONTENT_LENGTH, v);
    }
    r
}

async fn upstream_call(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, HeaderMap, Bytes), Response<Body>> {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut req = shared.client.request(method, format!("{}{}", shared.upstream, path)).body(body);
    for (name, value) in headers.iter() {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            req = req.header(name, value);
        }
    }
    let resp = req.send().await.map_err(|e| plain(StatusCode::BAD_GATEWAY, &format!("proxy: {e}")))?;
    let status = resp.status();
    let mut headers = resp.headers().clone();
    headers.remove(axum::http::header::CONTENT_LENGTH);
    headers.remove(axum::http::header::TRANSFER_ENCODING);
    let bytes = resp.bytes().await.map_err(|e| plain(StatusCode::BAD_GATEWAY, &format!("proxy: {e}")))?;
    Ok((status, headers, bytes))
}

async fn forward(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("proxy: {e}")),
    };
    let fault = shared.config.plan.draw();
    let call = || upstream_call(&shared, parts.method.clone(), &parts.uri, parts.headers.clone(), body.clone());
    let bodies = &shared.config.bodies;
    match fault {
        None => match call().await {
            Ok((status, headers, bytes)) => {
                if shared.config.record {
                    let content_type = |h: &HeaderMap| {
                        h.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
                    };
                    let exchange = Exchange {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                        query: parts.uri.query().map(str::to_owned),
                        request_content_type: content_type(&parts.headers),
                        request_body: body.clone(),
                        status: status.as_u16(),
                        response_content_type: content_type(&headers),
                        response_body: bytes.clone(),
                    };
                    shared.exchanges.lock().unwrap_or_else(|e| e.into_inner()).push(exchange);
                }
                let mut r = Response::new(Body::from(bytes));
                *r.status_mut() = status;
                *r.headers_mut() = headers;
                r
            }
            Err(r) => r,
        },
        Some(Fault::TooManyRequests) => {
            let mut r = plain(StatusCode::TOO_MANY_REQUESTS, "");
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Some(Fault::ServerError) => plain(StatusCode::INTERNAL_SERVER_ERROR, "injected"),
        Some(Fault::Unavailable) => plain(StatusCode::SERVICE_UNAVAILABLE, "injected"),
        Some(Fault::Timeout) => {
            tokio::time::sleep(shared.config.stall).await;
            plain(StatusCode::GATEWAY_TIMEOUT, "injected stall")
        }
        Some(Fault::ErrorBody) => {
            let mut r = plain(StatusCode::OK, &bodies.error_body);
            r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Some(Fault::ExpiredToken) => plain(StatusCode::UNAUTHORIZED, &bodies.expired_body),
        // These reach the upstream first: a write here may have been applied.
        Some(Fault::ConnectionReset) => match call().await {
            Ok((status, headers, bytes)) => cut(status, headers, bytes, 0),
            Err(r) => r,
        },
        Some(Fault::TruncatedBody) => match call().await {
            Ok((status, headers, bytes)) => {
                let half = bytes.len() / 2;
                cut(status, headers, bytes, half)
            }
            Err(r) => r,
        },
        Some(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "injected"),
    }
}
