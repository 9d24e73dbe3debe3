//! Errors, classified for what the caller should do about them.
//!
//! Every error has an [`ErrorKind`] and from it an [`Advice`]: retry, re-authenticate, wait until a
//! time, or give up. Classification is by type — HTTP status codes, structured vendor fields, and
//! the `source()` chain of transport errors — never by matching message text.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::capability::Operation;
use crate::model::ConnectorKind;

/// A boxed error from a lower layer.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The result type of connectors and the HTTP layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The class of an error: it decides retrying, re-authentication and what the owner is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Credentials are invalid, expired or revoked: the owner must reconnect.
    Reauthenticate,
    /// The connector is misconfigured (bad base URL, missing scope, wrong property id).
    Configuration,
    /// The source asked us to slow down until a time.
    Throttled,
    /// A passing failure (timeout, reset, 5xx): retrying later may succeed.
    Transient,
    /// The request cannot succeed as sent.
    Permanent,
    /// The source cannot do this operation.
    Unsupported,
    /// The caller passed invalid input.
    InvalidInput,
    /// The source sent data we could not decode.
    UpstreamData,
}

impl ErrorKind {
    /// Whether retrying the same request may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient | Self::Throttled)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Reauthenticate => "reauthenticate",
            Self::Configuration => "configuration",
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::Permanent => "permanent",
            Self::Unsupported => "unsupported",
            Self::InvalidInput => "invalid_input",
            Self::UpstreamData => "upstream_data",
        };
        f.write_str(s)
    }
}

/// What to do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Advice {
    /// Retry with backoff.
    Retry,
    /// Retry no earlier than this time.
    WaitUntil(DateTime<Utc>),
    /// The owner must reconnect (new token / invite code / authorization).
    Reauthenticate,
    /// Do not retry; fix the request or the configuration.
    GiveUp,
}

/// Whether a failed write may already have taken effect at the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// Certainly not applied (the request never left, or the source rejected it before acting).
    No,
    /// Unknown: the request may have reached the source (a timeout after sending, a reset).
    Maybe,
    /// Some parts were applied and others not.
    Partly,
}

/// The error type of connectors, the HTTP layer and webhook verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Credentials were rejected.
    #[error("{connector}: credentials rejected: {message}")]
    Auth {
        /// Connector.
        connector: ConnectorKind,
        /// What the source said, or what we found.
        message: String,
    },
    /// The connector is misconfigured.
    #[error("configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The source asked us to wait beyond what the caller allowed.
    #[error("{connector}: throttled until {until}")]
    Throttled {
        /// Connector.
        connector: ConnectorKind,
        /// Retry no earlier than this.
        until: DateTime<Utc>,
    },
    /// The source cannot do this operation.
    #[error("{connector} does not support {operation}: {reason}")]
    Unsupported {
        /// Connector.
        connector: ConnectorKind,
        /// The operation asked for.
        operation: Operation,
        /// Why (plan, scope, or the source has no such feature).
        reason: String,
    },
    /// The caller's input is invalid.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// A payload did not decode.
    #[error("{connector}: could not decode {what} at `{path}`: {message}")]
    Decode {
        /// Connector.
        connector: ConnectorKind,
        /// What was being decoded (an endpoint or a record kind).
        what: String,
        /// The JSON path (or line/field) where decoding failed.
        path: String,
        /// The decoder's message.
        message: String,
    },
    /// The source answered with an HTTP error status.
    #[error("{connector}: HTTP {status} from {endpoint}: {message}")]
    Http {
        /// Connector.
        connector: ConnectorKind,
        /// Endpoint path (never the full URL: it may carry secrets).
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The source's error message, when it sent one.
        message: String,
        /// Whether a write may have been applied.
        applied: Applied,
    },
    /// The source reported an error in its body (often with HTTP 200: `success:false`,
    /// `validToken:false`). The connector classified it from the body's structured fields.
    #[error("{connector}: {message}")]
    Vendor {
        /// Connector.
        connector: ConnectorKind,
        /// The class the connector assigned.
        kind: ErrorKind,
        /// The vendor's code, when it sent one.
        code: Option<String>,
        /// The vendor's message.
        message: String,
        /// Whether a write may have been applied.
        applied: Applied,
    },
    /// The request failed below HTTP (connect, TLS, timeout, reset, truncated body).
    #[error("{connector}: request to {endpoint} failed: {source}")]
    Transport {
        /// Connector.
        connector: ConnectorKind,
        /// Endpoint path.
        endpoint: String,
        /// Whether the request may have reached the source.
        applied: Applied,
        /// The underlying error; its chain decides the kind.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// An `Unsupported` error.
    pub fn unsupported(connector: ConnectorKind, operation: Operation, reason: impl Into<String>) -> Self {
        Self::Unsupported { connector, operation, reason: reason.into() }
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config { message: message.into() }
    }

    /// An invalid-input error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput { message: message.into() }
    }

    /// A decode error from `serde_path_to_error`, keeping the JSON path of the failure.
    pub fn decode(
        connector: ConnectorKind,
        what: impl Into<String>,
        err: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let path = err.path().to_string();
        Self::Decode { connector, what: what.into(), path, message: err.into_inner().to_string() }
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Auth { .. } => ErrorKind::Reauthenticate,
            Self::Config { .. } => ErrorKind::Configuration,
            Self::Throttled { .. } => ErrorKind::Throttled,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
            Self::Decode { .. } => ErrorKind::UpstreamData,
            Self::Http { status, .. } => kind_of_status(*status),
            Self::Vendor { kind, .. } => *kind,
            Self::Transport { source, .. } => classify_chain(source.as_ref()),
        }
    }

    /// What to do about it.
    pub fn advice(&self) -> Advice {
        match (self, self.kind()) {
            (Self::Throttled { until, .. }, _) => Advice::WaitUntil(*until),
            (_, ErrorKind::Transient | ErrorKind::Throttled) => Advice::Retry,
            (_, ErrorKind::Reauthenticate) => Advice::Reauthenticate,
            _ => Advice::GiveUp,
        }
    }

    /// Whether a failed write may already have taken effect. Only `false` when it certainly did not.
    pub fn applied(&self) -> Applied {
        match self {
            Self::Http { applied, .. } | Self::Vendor { applied, .. } | Self::Transport { applied, .. } => *applied,
            _ => Applied::No,
        }
    }

    /// Whether a non-idempotent write may be retried after this error: only when it is retryable
    /// and certainly did not apply.
    pub fn write_retry_safe(&self) -> bool {
        self.kind().is_retryable() && self.applied() == Applied::No
    }

    /// The connector the error came from, when it names one.
    pub fn connector(&self) -> Option<&ConnectorKind> {
        match self {
            Self::Auth { connector, .. }
            | Self::Throttled { connector, .. }
            | Self::Unsupported { connector, .. }
            | Self::Decode { connector, .. }
            | Self::Http { connector, .. }
            | Self::Vendor { connector, .. }
            | Self::Transport { connector, .. } => Some(connector),
            Self::Config { .. } | Self::InvalidInput { .. } => None,
        }
    }
}

/// The class of an HTTP error status.
pub fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Reauthenticate,
        403 => ErrorKind::Configuration,
        408 | 425 | 500 | 502 | 503 | 504 => ErrorKind::Transient,
        429 => ErrorKind::Throttled,
        s if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// Classifies a lower-layer error by walking its `source()` chain, outermost first: the first
/// link we recognise decides. Unrecognised chains are permanent.
pub fn classify_chain(err: &(dyn StdError + 'static)) -> ErrorKind {
    // A refused target is the owner's configuration, wherever the client wrapped it (reqwest
    // reports a resolver's refusal as a connect error, which alone would read as transient).
    #[cfg(feature = "http")]
    {
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            if e.downcast_ref::<crate::http::ForbiddenTarget>().is_some() {
                return ErrorKind::Configuration;
            }
            cur = e.source();
        }
    }
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(kind) = classify_link(e) {
            return kind;
        }
        cur = e.source();
    }
    fallback_kind(err)
}

fn classify_link(e: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    if let Some(io) = e.downcast_ref::<io::Error>() {
        return Some(kind_of_io(io.kind()));
    }
    if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
        return Some(ErrorKind::Transient);
    }
    if e.downcast_ref::<url::ParseError>().is_some() {
        return Some(ErrorKind::Configuration);
    }
    if e.downcast_ref::<serde_json::Error>().is_some() {
        return Some(ErrorKind::UpstreamData);
    }
    #[cfg(feature = "http")]
    if let Some(r) = e.downcast_ref::<reqwest::Error>() {
        if r.is_timeout() || r.is_connect() || r.is_body() {
            return Some(ErrorKind::Transient);
        }
        if r.is_builder() {
            return Some(ErrorKind::Configuration);
        }
        if r.is_decode() {
            return Some(ErrorKind::UpstreamData);
        }
        if let Some(status) = r.status() {
            return Some(kind_of_status(status.as_u16()));
        }
        // Otherwise keep walking: the cause (an io::Error, a hyper error) decides.
    }
    #[cfg(feature = "http")]
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_incomplete_message() || h.is_closed() || h.is_canceled() || h.is_timeout() || h.is_body_write_aborted()
        {
            return Some(ErrorKind::Transient);
        }
        if h.is_parse() {
            return Some(ErrorKind::UpstreamData);
        }
        if h.is_user() {
            return Some(ErrorKind::Configuration);
        }
    }
    None
}

/// The class of a chain none of whose links was recognised: a request that failed in transit
/// (reqwest's "error sending request") is transient; anything else is permanent.
fn fallback_kind(err: &(dyn StdError + 'static)) -> ErrorKind {
    #[cfg(feature = "http")]
    {
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            if e.downcast_ref::<reqwest::Error>().is_some_and(|r| r.is_request()) {
                return ErrorKind::Transient;
            }
            cur = e.source();
        }
    }
    let _ = err;
    ErrorKind::Permanent
}

fn kind_of_io(kind: io::ErrorKind) -> ErrorKind {
    use io::ErrorKind as K;
    match kind {
        K::ConnectionReset
        | K::ConnectionAborted
        | K::ConnectionRefused
        | K::NotConnected
        | K::BrokenPipe
        | K::TimedOut
        | K::UnexpectedEof
        | K::Interrupted
        | K::WouldBlock
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown
        | K::AddrNotAvailable => ErrorKind::Transient,
        K::InvalidInput | K::AddrInUse => ErrorKind::Configuration,
        _ => ErrorKind::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(&'static str, Option<BoxError>);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn transport(source: BoxError) -> Error {
        Error::Transport {
            connector: ConnectorKind::BEDS24,
            endpoint: "/bookings".into(),
            applied: Applied::Maybe,
            source,
        }
    }

    #[test]
    fn a_reset_deep_in_the_chain_is_transient() {
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "peer reset");
        let chain = Wrapper("client error", Some(Box::new(Wrapper("hyper: connection error", Some(Box::new(reset))))));
        let err = transport(Box::new(chain));
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert_eq!(err.advice(), Advice::Retry);
        // It may have reached the server, so a non-idempotent write must not be retried.
        assert!(!err.write_retry_safe());
    }

    #[test]
    fn an_unrecognised_chain_is_permanent_and_a_bad_url_is_configuration() {
        let err = transport(Box::new(Wrapper("weird", None)));
        assert_eq!(err.kind(), ErrorKind::Permanent);
        assert_eq!(err.advice(), Advice::GiveUp);
        let url_err = url::Url::parse("not a url").unwrap_err();
        let err = transport(Box::new(Wrapper("building request", Some(Box::new(url_err)))));
        assert_eq!(err.kind(), ErrorKind::Configuration);
    }

    #[test]
    fn the_first_recognised_link_decides() {
        let denied = io::Error::new(io::ErrorKind::PermissionDenied, "no");
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "slow");
        let outer = io::Error::other(Wrapper("x", Some(Box::new(timeout))));
        // io::Error::other has kind Other, which we classify as permanent: outermost wins.
        assert_eq!(classify_chain(&outer), ErrorKind::Permanent);
        assert_eq!(classify_chain(&denied), ErrorKind::Permanent);
        let w = Wrapper("x", Some(Box::new(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"))));
        assert_eq!(classify_chain(&w), ErrorKind::Transient);
    }

    #[test]
    fn statuses_are_classified() {
        let cases = [
            (401, ErrorKind::Reauthenticate),
            (403, ErrorKind::Configuration),
            (400, ErrorKind::Permanent),
            (404, ErrorKind::Permanent),
            (429, ErrorKind::Throttled),
            (500, ErrorKind::Transient),
            (503, ErrorKind::Transient),
            (599, ErrorKind::Transient),
        ];
        for (status, kind) in cases {
            assert_eq!(kind_of_status(status), kind, "status {status}");
        }
    }

    #[test]
    fn vendor_errors_carry_the_connectors_classification_and_write_state() {
        let err = Error::Vendor {
            connector: ConnectorKind::BEDS24,
            kind: ErrorKind::Permanent,
            code: None,
            message: "item 2: invalid roomId".into(),
            applied: Applied::Partly,
        };
        assert_eq!(err.kind(), ErrorKind::Permanent);
        assert_eq!(err.applied(), Applied::Partly);
        assert!(!err.write_retry_safe());
        let t = Utc::now();
        let throttled = Error::Throttled { connector: ConnectorKind::BEDS24, until: t };
        assert_eq!(throttled.advice(), Advice::WaitUntil(t));
        assert_eq!(
            Error::Auth { connector: ConnectorKind::CLOUDBEDS, message: "x".into() }.advice(),
            Advice::Reauthenticate
        );
    }

    #[test]
    fn decode_errors_keep_the_json_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Row {
            id: u64,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Envelope {
            data: Vec<Row>,
        }
        let json = r#"{"data":[{"id":1},{"id":"x"}]}"#;
        let de = &mut serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<_, Envelope>(de).unwrap_err();
        let err = Error::decode(ConnectorKind::BEDS24, "GET /bookings", err);
        match &err {
            Error::Decode { path, .. } => assert_eq!(path, "data[1].id"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.kind(), ErrorKind::UpstreamData);
    }
}
