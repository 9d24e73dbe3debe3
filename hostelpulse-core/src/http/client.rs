//! The HTTP client every HTTP connector uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use super::pacing::Pacer;
use super::retry::RetryPolicy;
use super::transport::{Incoming, Outgoing, ReqwestTransport, Transport};
use crate::connector::TransportStats;
use crate::error::{Applied, Error, ErrorKind, Result};
use crate::model::ConnectorKind;

/// Looks at a response before the client decides success: vendors that answer errors with HTTP
/// 200 (`success:false`, `validToken:false`) are classified here, from the body's structured fields.
pub trait ResponseInspector: Send + Sync + std::fmt::Debug {
    /// Returns an error for a response that is a failure despite its status.
    fn inspect(
        &self,
        connector: &ConnectorKind,
        endpoint: &str,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Error>;
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Vec<u8>),
    Form(String),
}

/// One logical request (retried as a whole).
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    absolute: Option<Url>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
    idempotent: bool,
}

impl Request {
    fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotent = method != Method::POST && method != Method::PATCH;
        Self {
            method,
            path: path.into(),
            absolute: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::None,
            idempotent,
        }
    }

    /// A GET of an absolute URL (an owner-pasted feed URL), ignoring the base URL. The URL's path
    /// and query often carry secrets, so logs and errors name only its host.
    pub fn get_url(url: Url) -> Self {
        let label = format!("{}/…", url.host_str().unwrap_or("?"));
        let mut r = Self::new(Method::GET, label);
        r.absolute = Some(url);
        r
    }

    /// A GET of `path` relative to the base URL.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A POST (not idempotent unless marked).
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A PUT.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A DELETE.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// The path, as logged.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Adds a query parameter. Call again with the same key to repeat it (`status=a&status=b`).
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// What the request asks, as text: method, path and query (never headers or body, where
    /// credentials travel). Two requests with the same identity read the same thing; a paged read
    /// uses it to resume where an earlier attempt stopped.
    pub fn identity(&self) -> String {
        let mut query = self.query.clone();
        query.sort();
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} {} ?{}", self.method, self.path, query.join("&"))
    }

    /// Adds a query parameter when the value is present.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Repeats `key` once per value.
    pub fn query_each<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: ToString,
    {
        for v in values {
            self.query.push((key.to_owned(), v.to_string()));
        }
        self
    }

    /// Adds a header. Invalid names or values are a configuration error.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let (n, v) = header_pair(name, value)?;
        self.headers.append(n, v);
        Ok(self)
    }

    /// Adds a secret header: marked sensitive, so it never appears in Debug output or logs.
    pub fn secret_header(mut self, name: &str, value: &SecretString) -> Result<Self> {
        let (n, mut v) = header_pair(name, value.expose_secret())?;
        v.set_sensitive(true);
        self.headers.append(n, v);
        Ok(self)
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::invalid_input(format!("request body: {e}")))?;
        self.body = Body::Json(bytes);
        Ok(self)
    }

    /// An `application/x-www-form-urlencoded` body from key/value pairs (keys may repeat).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Body::Form(ser.finish());
        self
    }

    /// Marks the request safe (or unsafe) to repeat. GET, PUT and DELETE are idempotent by default;
    /// POST is not.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::try_from(name).map_err(|_| Error::config(format!("invalid header name `{name}`")))?;
    let v = HeaderValue::try_from(value).map_err(|_| Error::config(format!("invalid value for header `{name}`")))?;
    Ok((n, v))
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
    endpoint: String,
    connector: ConnectorKind,
}

impl Response {
    /// Decodes the JSON body, keeping the JSON path of a failure.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.connector, &self.endpoint, &self.body)
    }
}

/// Decodes JSON with the path of a failure (`data[3].arrival`).
pub fn decode_json<T: DeserializeOwned>(connector: &ConnectorKind, what: &str, body: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::decode(connector.clone(), what, e))
}

#[derive(Debug)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled_ms: AtomicU64,
    /// The latest measured clock skew in seconds; [`NO_SKEW`] until a response had a `Date`.
    clock_skew_secs: AtomicI64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            throttled_ms: AtomicU64::new(0),
            clock_skew_secs: AtomicI64::new(NO_SKEW),
        }
    }
}

const NO_SKEW: i64 = i64::MIN;

/// The server's clock minus ours, in whole seconds, from a `Date` header (RFC 9110 §6.6.1: the
/// time the response was generated, to the second).
pub(super) fn clock_skew(headers: &HeaderMap, now: SystemTime) -> Option<i64> {
    let date = httpdate::parse_http_date(headers.get(reqwest::header::DATE)?.to_str().ok()?).ok()?;
    let secs = |t: SystemTime| match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
    };
    Some(secs(date)? - secs(now)?)
}

/// Builds an [`HttpClient`].
#[derive(Debug)]
#[must_use]
pub struct HttpClientBuilder {
    connector: ConnectorKind,
    base_url: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: String,
    max_body: usize,
    retry: RetryPolicy,
    pacer: Option<Arc<Pacer>>,
    inspector: Option<Arc<dyn ResponseInspector>>,
    transport: Option<Arc<dyn Transport>>,
}

impl HttpClientBuilder {
    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Whole-request timeout per attempt (default 30 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// User agent.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Largest response body accepted (default 32 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The account's shared pacer.
    pub fn pacer(mut self, pacer: Arc<Pacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    /// The vendor's response inspector.
    pub fn inspector(mut self, inspector: Arc<dyn ResponseInspector>) -> Self {
        self.inspector = Some(inspector);
        self
    }

    /// A custom transport (fault injection, tests).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let mut base =
            Url::parse(&self.base_url).map_err(|e| Error::config(format!("base URL `{}`: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::config(format!("base URL `{}` is not http(s)", self.base_url)));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => Arc::new(
                ReqwestTransport::new(self.connect_timeout, &self.user_agent, self.max_body)
                    .map_err(|e| Error::config(format!("HTTP client: {e}")))?,
            ),
        };
        Ok(HttpClient {
            inner: Arc::new(Inner {
                connector: self.connector,
                base,
                transport,
                retry: self.retry,
                pacer: self.pacer.unwrap_or_default(),
                inspector: self.inspector,
                request_timeout: self.request_timeout,
                counters: Counters::default(),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    connector: ConnectorKind,
    base: Url,
    transport: Arc<dyn Transport>,
    retry: RetryPolicy,
    pacer: Arc<Pacer>,
    inspector: Option<Arc<dyn ResponseInspector>>,
    request_timeout: Duration,
    counters: Counters,
}

/// An HTTP client for one connector and account: base URL, timeouts, pacing, retry, tracing.
/// Cheap to clone; clones share counters and the pacer.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl HttpClient {
    /// A builder for `connector` at `base_url`.
    pub fn builder(connector: ConnectorKind, base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            connector,
            base_url: base_url.into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: concat!("hostelpulse/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body: 32 * 1024 * 1024,
            retry: RetryPolicy::default(),
            pacer: None,
            inspector: None,
            transport: None,
        }
    }

    /// The connector this client serves.
    pub fn connector(&self) -> &ConnectorKind {
        &self.inner.connector
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The shared pacer.
    pub fn pacer(&self) -> &Arc<Pacer> {
        &self.inner.pacer
    }

    /// Counters so far.
    pub fn stats(&self) -> TransportStats {
        let c = &self.inner.counters;
        TransportStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled_ms: c.throttled_ms.load(Ordering::Relaxed),
            clock_skew_secs: Some(c.clock_skew_secs.load(Ordering::Relaxed)).filter(|s| *s != NO_SKEW),
        }
    }

    /// Sends a request: paced, retried by the policy, classified.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let span = tracing::info_span!(
            "http",
            connector = %self.inner.connector,
            method = %req.method,
            endpoint = %req.path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.send_with_retry(req).instrument(span).await
    }

    async fn send_with_retry(&self, req: Request) -> Result<Response> {
        let inner = &self.inner;
        let policy = &inner.retry;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempts", attempt);
            let permit = match inner.pacer.acquire(policy.max_wait.saturating_sub(started.elapsed())).await {
                Ok(p) => p,
                Err(too_long) => return Err(self.throttled(too_long.wait)),
            };
            self.add_throttled(permit.waited);
            let (result, headers) = self.send_once(&req).await;
            drop(permit);
            let err = match result {
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            let kind = err.kind();
            let throttled = kind == ErrorKind::Throttled;
            let hint = headers.as_ref().and_then(|h| policy.server_hint(h, throttled, SystemTime::now()));
            if throttled && let Some(h) = hint {
                inner.pacer.exhausted(h);
            }
            let may_repeat = req.idempotent || err.applied() == Applied::No;
            if !kind.is_retryable() || !may_repeat {
                return Err(err);
            }
            let wait = policy.backoff(attempt).max(hint.unwrap_or_default());
            let out_of_attempts = attempt >= policy.max_attempts;
            let too_long = wait > policy.max_wait || started.elapsed() + wait > policy.max_elapsed;
            if out_of_attempts || too_long {
                // A server that told us when to come back gets a typed "throttled until".
                return Err(if throttled || (too_long && hint.is_some()) { self.throttled(wait) } else { err });
            }
            if !inner.pacer.try_retry() {
                tracing::warn!("retry budget exhausted; not retrying");
                return Err(err);
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying");
            inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            if hint.is_some() {
                self.add_throttled(wait);
                inner.pacer.record_wait(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn throttled(&self, wait: Duration) -> Error {
        let until = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        Error::Throttled { connector: self.inner.connector.clone(), until }
    }

    fn add_throttled(&self, d: Duration) {
        self.inner.counters.throttled_ms.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
    }

    async fn send_once(&self, req: &Request) -> (Result<Response>, Option<HeaderMap>) {
        let inner = &self.inner;
        let connector = &inner.connector;
        let joined = match &req.absolute {
            Some(u) => Ok(u.clone()),
            None => inner.base.join(req.path.trim_start_matches('/')),
        };
        let mut url = match joined {
            Ok(u) => u,
            Err(e) => return (Err(Error::config(format!("endpoint `{}`: {e}", req.path))), None),
        };
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        let mut headers = req.headers.clone();
        let body = match &req.body {
            Body::None => None,
            Body::Json(b) => {
                headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Some(b.clone())
            }
            Body::Form(f) => {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                Some(f.clone().into_bytes())
            }
        };
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let out = Outgoing { method: req.method.clone(), url, headers, body, timeout: inner.request_timeout };
        let Incoming { status, headers, body } = match inner.transport.execute(out).await {
            Ok(r) => r,
            Err(te) => {
                let err = Error::Transport {
                    connector: connector.clone(),
                    endpoint: req.path.clone(),
                    applied: te.applied,
                    source: te.source,
                };
                tracing::debug!(error = %err, "transport error");
                return (Err(err), None);
            }
        };
        tracing::Span::current().record("status", status);
        inner.pacer.observe(&headers);
        if let Some(skew) = clock_skew(&headers, SystemTime::now()) {
            inner.counters.clock_skew_secs.store(skew, Ordering::Relaxed);
        }
        if let Some(err) =
            inner.inspector.as_ref().and_then(|i| i.inspect(connector, &req.path, status, &headers, &body))
        {
            return (Err(err), Some(headers));
        }
        if status >= 400 {
            let applied = match status {
                500 | 502 | 504 => Applied::Maybe,
                _ => Applied::No,
            };
            let err = Error::Http {
                connector: connector.clone(),
                endpoint: req.path.clone(),
                status,
                message: error_message(&body),
                applied,
            };
            return (Err(err), Some(headers));
        }
        (
            Ok(Response {
                status,
                headers: headers.clone(),
                body,
                endpoint: format!("{} {}", req.method, req.path),
                connector: connector.clone(),
            }),
            Some(headers),
        )
    }
}

/// A short, printable error message from an error body: the usual JSON fields, else the start of
/// the text.
fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["error_description", "message", "error"] {
            if let Some(s) = v.get(key).and_then(|m| m.as_str()) {
                return s.chars().take(300).collect();
            }
        }
    }
    String::from_utf8_lossy(body).chars().take(200).collect::<String>().trim().to_owned()
}
