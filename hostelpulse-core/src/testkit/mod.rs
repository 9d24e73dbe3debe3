//! The conformance kit (feature `testkit`): public async checks every connector's tests call,
//! gated by the connector's declared capabilities, in the spirit of object_store's integration
//! suite and Airbyte's acceptance tests.
//!
//! The kit drives a controllable upstream through [`Upstream`] (an emulator, or the in-memory
//! [`ReferenceUpstream`]), runs the real [`crate::sync::SyncEngine`] against a fresh
//! [`crate::sync::MemoryStore`], and panics with a clear message when a rule is broken.
//!
//! ```
//! use hostelpulse_core::testkit::{self, KitOptions, ReferenceConnector};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let (connector, upstream) = ReferenceConnector::seeded(30);
//! testkit::run_all(&connector, upstream.as_ref(), &KitOptions::default()).await;
//! # });
//! ```

mod durability;
mod faults;
mod forward;
mod kit;
mod reference;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::error::Result;
use crate::model::SourceId;

pub use durability::{
    ConnectorFactory, absence_is_never_a_cancellation, crash_before_commit_loses_nothing, restart_loses_nothing,
    run_durability,
};
pub use faults::{Fault, FaultPlan, FaultyConnector};
#[cfg(feature = "http")]
pub use faults::{FaultyTransport, HttpFaults};
pub use kit::{
    KitOptions, cancellation_becomes_cancelled, deletion_is_detected_after_two_passes, full_sync_is_idempotent,
    full_sync_survives_faults, future_cursor_returns_nothing, incremental_reports_exactly_the_change,
    resume_from_any_cursor_loses_nothing, run_all, supported_operations_work, unsupported_operations_say_so,
};
pub use reference::{ReferenceConnector, ReferenceUpstream, days_from_today};

// What `forward_audit_and_inbox!` expands to needs, whatever the calling crate depends on.
#[doc(hidden)]
pub use async_trait::async_trait as __async_trait;
#[doc(hidden)]
pub use chrono as __chrono;

/// A retry policy for tests against emulators and fault proxies: many quick attempts, so injected
/// faults are ridden out in milliseconds rather than the production policy's seconds.
#[cfg(feature = "http")]
pub fn fast_retry() -> crate::http::RetryPolicy {
    use std::time::Duration;
    crate::http::RetryPolicy::default()
        .max_attempts(10)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(100))
        .max_wait(Duration::from_secs(5))
        .jitter(crate::http::Jitter::Full)
}

/// A booking to create upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewBooking {
    /// First night.
    pub arrival: NaiveDate,
    /// Checkout day.
    pub departure: NaiveDate,
    /// Guest name.
    pub guest_name: Option<String>,
    /// Adults.
    pub adults: u16,
    /// A bed id, for a dorm booking (else the upstream picks a private room).
    pub bed: Option<String>,
}

impl NewBooking {
    /// A one-adult booking.
    pub fn new(arrival: NaiveDate, departure: NaiveDate) -> Self {
        Self { arrival, departure, guest_name: None, adults: 1, bed: None }
    }

    /// Sets the guest name.
    pub fn guest(mut self, name: impl Into<String>) -> Self {
        self.guest_name = Some(name.into());
        self
    }
}

/// A change to make upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Modification {
    /// Move the checkout one day later.
    ExtendStay,
    /// Change the guest's name.
    RenameGuest(String),
}

/// Controls a source from the outside, as a guest or the owner would: the kit uses it to make
/// changes the connector must then see.
#[async_trait]
pub trait Upstream: Send + Sync {
    /// Creates a booking; returns its id at the source.
    async fn create(&self, booking: NewBooking) -> Result<SourceId>;
    /// Modifies a booking.
    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()>;
    /// Cancels a booking (a status change at the source).
    async fn cancel(&self, id: &SourceId) -> Result<()>;
    /// Deletes a booking outright.
    async fn delete(&self, id: &SourceId) -> Result<()>;
}
