//! Fault injection: at the connector level (any connector) and, with feature `http`, at the
//! transport level (any HTTP connector), on a seeded schedule so failures reproduce.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::capability::Capabilities;
use crate::connector::{
    BookingBatch, BookingQuery, Connector, DateRange, Health, StayStatus, TransportStats, WriteReceipt,
};
use crate::error::{Applied, Error, ErrorKind, Result};
use crate::model::{AccountId, Availability, Condition, ConnectorKind, Housekeeping, Property, SourceId};

/// A fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 429 with `Retry-After: 1`.
    TooManyRequests,
    /// HTTP 500.
    ServerError,
    /// HTTP 503.
    Unavailable,
    /// The request timed out.
    Timeout,
    /// The connection was reset after the request was sent.
    ConnectionReset,
    /// The body ended early.
    TruncatedBody,
    /// HTTP 200 whose body says the request failed (the vendor's own error envelope).
    ErrorBody,
    /// The access token expired (HTTP 401).
    ExpiredToken,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 8] = [
        Self::TooManyRequests,
        Self::ServerError,
        Self::Unavailable,
        Self::Timeout,
        Self::ConnectionReset,
        Self::TruncatedBody,
        Self::ErrorBody,
        Self::ExpiredToken,
    ];
}

/// Which faults, how often, from which seed.
#[derive(Debug)]
pub struct FaultPlan {
    rate: f64,
    faults: Vec<Fault>,
    rng: Mutex<StdRng>,
    injected: AtomicU64,
    calls: AtomicU64,
}

impl FaultPlan {
    /// Faults on a share `rate` (0–1) of calls, drawn from `faults`, seeded.
    pub fn new(rate: f64, faults: &[Fault], seed: u64) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            faults: faults.to_vec(),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            injected: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    /// The next call's fault, if any.
    pub fn draw(&self) -> Option<Fault> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.faults.is_empty() {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if rng.random::<f64>() >= self.rate {
            return None;
        }
        self.injected.fetch_add(1, Ordering::Relaxed);
        Some(self.faults[rng.random_range(0..self.faults.len())])
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Calls seen so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Wraps any connector and fails a share of its calls the way a flaky source would.
#[derive(Debug)]
pub struct FaultyConnector<C> {
    inner: C,
    plan: FaultPlan,
}

impl<C: Connector> FaultyConnector<C> {
    /// Wraps `inner`.
    pub fn new(inner: C, plan: FaultPlan) -> Self {
        Self { inner, plan }
    }

    /// The fault schedule (for counts).
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    fn error(&self, fault: Fault) -> Error {
        let connector = self.inner.kind();
        let io = |kind| Error::Transport {
            connector: connector.clone(),
            endpoint: "fault".into(),
            applied: Applied::Maybe,
            source: Box::new(std::io::Error::new(kind, "injected")),
        };
        match fault {
            Fault::TooManyRequests => Error::Throttled { connector, until: Utc::now() + Duration::seconds(1) },
            Fault::ServerError | Fault::Unavailable => Error::Http {
                connector,
                endpoint: "fault".into(),
                status: if fault == Fault::ServerError { 500 } else { 503 },
                message: "injected".into(),
                applied: Applied::No,
            },
            Fault::Timeout => io(std::io::ErrorKind::TimedOut),
            Fault::ConnectionReset => io(std::io::ErrorKind::ConnectionReset),
            Fault::TruncatedBody => io(std::io::ErrorKind::UnexpectedEof),
            Fault::ErrorBody => Error::Vendor {
                connector,
                kind: ErrorKind::Transient,
                code: None,
                message: "injected error body".into(),
                applied: Applied::No,
            },
            Fault::ExpiredToken => Error::Auth { connector, message: "injected: token expired".into() },
        }
    }

    fn gate(&self) -> Result<()> {
        match self.plan.draw() {
            Some(f) => Err(self.error(f)),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl<C: Connector> Connector for FaultyConnector<C> {
    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }
    fn account(&self) -> &AccountId {
        self.inner.account()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn check(&self) -> Result<Health> {
        self.gate()?;
        self.inner.check().await
    }
    async fn rooms(&self) -> Result<Vec<Property>> {
        self.gate()?;
        self.inner.rooms().await
    }
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        self.gate()?;
        self.inner.bookings(query).await
    }
    async fn availability(&self, range: DateRange) -> Result<Vec<Availability>> {
        self.gate()?;
        self.inner.availability(range).await
    }
    async fn housekeeping(&self) -> Result<Vec<Housekeeping>> {
        self.gate()?;
        self.inner.housekeeping().await
    }
    async fn set_stay_status(&self, booking: &SourceId, status: StayStatus) -> Result<WriteReceipt> {
        self.gate()?;
        self.inner.set_stay_status(booking, status).await
    }
    async fn add_note(&self, booking: &SourceId, text: &str) -> Result<WriteReceipt> {
        self.gate()?;
        self.inner.add_note(booking, text).await
    }
    async fn set_housekeeping(&self, room: &SourceId, condition: Condition) -> Result<WriteReceipt> {
        self.gate()?;
        self.inner.set_housekeeping(room, condition).await
    }
    fn transport_stats(&self) -> Option<TransportStats> {
        self.inner.transport_stats()
    }
    // The state calls are the engine's bookkeeping, not the source: they pass through unfaulted,
    // so a stateful connector keeps its state under faults.
    fn keeps_state(&self) -> bool {
        self.inner.keeps_state()
    }
    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        self.inner.restore_state(saved).await
    }
    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        self.inner.save_state().await
    }
    async fn acknowledge(&self) -> Result<()> {
        self.inner.acknowledge().await
    }
    async fn ingest(&self, payload: &[u8]) -> Result<Vec<SourceId>> {
        self.gate()?;
        self.inner.ingest(payload).await
    }
}

#[cfg(feature = "http")]
pub use http_faults::{FaultyTransport, HttpFaults};

#[cfg(feature = "http")]
mod http_faults {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::{Fault, FaultPlan};
    use crate::error::Applied;
    use crate::http::{HeaderMap, HeaderValue, Incoming, Outgoing, Transport, TransportError};

    /// Vendor-specific bodies for the faults that have one.
    #[derive(Debug, Clone)]
    #[non_exhaustive]
    pub struct HttpFaults {
        /// The body of an HTTP 200 that reports an error (e.g. `{"success":false,...}`).
        pub error_body: String,
        /// The body of a 401 for an expired token.
        pub expired_body: String,
    }

    impl HttpFaults {
        /// The vendor's error envelope (sent with HTTP 200) and its expired-token body (sent with 401).
        pub fn new(error_body: impl Into<String>, expired_body: impl Into<String>) -> Self {
            Self { error_body: error_body.into(), expired_body: expired_body.into() }
        }
    }

    impl Default for HttpFaults {
        fn default() -> Self {
            Self {
                error_body: r#"{"success":false,"message":"injected failure"}"#.into(),
                expired_body: r#"{"error":"access_denied","message":"token expired"}"#.into(),
            }
        }
    }

    /// Wraps a transport and injects faults on a share of requests.
    #[derive(Debug)]
    pub struct FaultyTransport {
        inner: Arc<dyn Transport>,
        plan: FaultPlan,
        bodies: HttpFaults,
    }

    impl FaultyTransport {
        /// Wraps `inner`.
        pub fn new(inner: Arc<dyn Transport>, plan: FaultPlan, bodies: HttpFaults) -> Self {
            Self { inner, plan, bodies }
        }

        /// The fault schedule.
        pub fn plan(&self) -> &FaultPlan {
            &self.plan
        }
    }

    fn status(code: u16, body: &str, retry_after: Option<&'static str>) -> Incoming {
        let mut headers = HeaderMap::new();
        if let Some(ra) = retry_after {
            headers.insert("retry-after", HeaderValue::from_static(ra));
        }
        Incoming { status: code, headers, body: body.as_bytes().to_vec() }
    }

    fn io(applied: Applied, kind: std::io::ErrorKind) -> TransportError {
        TransportError { applied, source: Box::new(std::io::Error::new(kind, "injected")) }
    }

    #[async_trait]
    impl Transport for FaultyTransport {
        async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
            let Some(fault) = self.plan.draw() else { return self.inner.execute(req).await };
            match fault {
                Fault::TooManyRequests => Ok(status(429, "", Some("1"))),
                Fault::ServerError => Ok(status(500, "injected", None)),
                Fault::Unavailable => Ok(status(503, "injected", None)),
                Fault::Timeout => Err(io(Applied::Maybe, std::io::ErrorKind::TimedOut)),
                Fault::ErrorBody => Ok(status(200, &self.bodies.error_body, None)),
                Fault::ExpiredToken => Ok(status(401, &self.bodies.expired_body, None)),
                // These reach the server first: the request may have been applied.
                Fault::ConnectionReset => {
                    self.inner.execute(req).await?;
                    Err(io(Applied::Maybe, std::io::ErrorKind::ConnectionReset))
                }
                Fault::TruncatedBody => {
                    self.inner.execute(req).await?;
                    Err(io(Applied::Maybe, std::io::ErrorKind::UnexpectedEof))
                }
            }
        }
    }
}
