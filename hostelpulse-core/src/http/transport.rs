//! The transport under the HTTP client: reqwest in production, scripted fakes in tests.
//!
//! Keeping it behind a trait lets retry and pacing be tested under a paused clock (reqwest's own
//! timers would fire at once there) and lets fault injection wrap any connector.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

use crate::error::{Applied, BoxError};

/// A request ready to go on the wire.
#[derive(Clone)]
pub struct Outgoing {
    /// Method.
    pub method: Method,
    /// Full URL (may carry secrets: never log it).
    pub url: Url,
    /// Headers (secret ones are marked sensitive).
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Option<Vec<u8>>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Only the scheme and host of the URL, and the body's length: feed URLs carry their token in
/// the path or the query, and bodies carry guests.
impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = format!("{}://{}/…", self.url.scheme(), self.url.host_str().unwrap_or("?"));
        let headers: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Outgoing")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A target the client refuses to reach (an internal address, a scheme it does not follow): a
/// configuration error wherever it sits in an error chain, never retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to fetch from {0}: not a public http(s) address")]
pub struct ForbiddenTarget(pub String);

/// A response off the wire, body read in full.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// A failure below HTTP.
#[derive(Debug)]
pub struct TransportError {
    /// Whether the request may have reached the server.
    pub applied: Applied,
    /// The cause.
    pub source: BoxError,
}

/// Sends requests.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends one request and reads the whole body.
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError>;
}

/// The process's shared clients, by connect timeout and user agent.
type SharedClients = std::collections::HashMap<(Duration, String), reqwest::Client>;
static SHARED: std::sync::LazyLock<std::sync::Mutex<SharedClients>> = std::sync::LazyLock::new(Default::default);
static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The production transport.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
}

impl ReqwestTransport {
    /// A transport with these timeouts and a body size limit. Transports with the same connect
    /// timeout and user agent share one client — its connection pool and TLS configuration —
    /// for the life of the process: building a client parses the system's root certificates,
    /// and a host with a thousand accounts must not do that a thousand times.
    pub fn new(connect_timeout: Duration, user_agent: &str, max_body: usize) -> Result<Self, reqwest::Error> {
        let key = (connect_timeout, user_agent.to_owned());
        let mut clients = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        let client = match clients.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = reqwest::Client::builder()
                    .connect_timeout(connect_timeout)
                    .user_agent(user_agent)
                    .redirect(reqwest::redirect::Policy::limited(5))
                    .build()?;
                BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                clients.insert(key, c.clone());
                c
            }
        };
        Ok(Self { client, max_body })
    }

    /// How many clients this process has built (each distinct connect timeout and user agent
    /// builds one).
    pub fn clients_built() -> usize {
        BUILT.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Wraps an existing reqwest client.
    pub fn from_client(client: reqwest::Client, max_body: usize) -> Self {
        Self { client, max_body }
    }
}

/// The body was larger than allowed.
#[derive(Debug, thiserror::Error)]
#[error("response body larger than {limit} bytes")]
pub struct BodyTooLarge {
    /// The limit.
    pub limit: usize,
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
        let mut builder = self.client.request(req.method, req.url).headers(req.headers).timeout(req.timeout);
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let mut resp = builder.send().await.map_err(|e| TransportError {
            // A connect failure never reached the server; anything later may have.
            applied: if e.is_connect() { Applied::No } else { Applied::Maybe },
            source: Box::new(e.without_url()),
        })?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_body {
                        return Err(TransportError {
                            applied: Applied::Maybe,
                            source: Box::new(BodyTooLarge { limit: self.max_body }),
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(TransportError { applied: Applied::Maybe, source: Box::new(e.without_url()) }),
            }
        }
        Ok(Incoming { status, headers, body })
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_url_path_query_headers_values_or_body() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer tok-SECRET-1".parse().unwrap());
        let req = Outgoing {
            method: Method::GET,
            url: "https://www.airbnb.com/calendar/ical/99.ics?s=feedtoken-SECRET-2".parse().unwrap(),
            headers,
            body: Some(b"guest@example.com".to_vec()),
            timeout: Duration::from_secs(5),
        };
        let shown = format!("{req:?}");
        assert!(shown.contains("www.airbnb.com") && shown.contains("authorization"), "{shown}");
        for secret in ["SECRET", "99.ics", "guest@"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
