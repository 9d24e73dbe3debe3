//! HTTP plumbing shared by every HTTP connector (feature `http`): one client wrapper over reqwest
//! with base URL, timeouts, per-request tracing spans that never record secrets, JSON and form
//! bodies, path-keeping JSON decoding, retry with backoff, and per-account pacing.

mod auth;
mod client;
pub mod listener;
mod pacing;
mod retry;
mod transport;

pub use auth::{MemoryTokenStore, MintedToken, TokenCache, TokenKey, TokenStore};
pub use client::{HttpClient, HttpClientBuilder, Request, Response, ResponseInspector, decode_json};
pub use pacing::{CreditConfig, CreditHeaders, Pacer, PacingConfig, Permit, TokioClock, WaitTooLong};
pub use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
pub use retry::{Jitter, RetryPolicy, parse_retry_after, parse_seconds};
pub use transport::{BodyTooLarge, ForbiddenTarget, Incoming, Outgoing, ReqwestTransport, Transport, TransportError};

#[cfg(test)]
mod tests;
