//! # hostelpulse-core
//!
//! The shared foundation of hostelpulse: a normalized model of a hostel's bookings, rooms and dorm
//! beds, availability and housekeeping; the [`Connector`] trait every source implements, with a
//! [`Capabilities`] matrix that says — as data — what each source can and cannot do; errors
//! classified for retrying; and the cross-cutting machinery that wraps connectors: the HTTP client
//! with retry and pacing (feature `http`) and webhook verification.
//!
//! ```
//! use hostelpulse_core::model::{Booking, BookingStatus, ConnectorKind, Fingerprinted, Provenance, SourceKey, Via};
//!
//! let key = SourceKey::new(ConnectorKind::BEDS24, "145678", 71234567u64);
//! let arrival = "2025-07-10".parse().unwrap();
//! let departure = "2025-07-13".parse().unwrap();
//! let fetched = Provenance::new(Via::Api, chrono::Utc::now());
//! let booking = Booking::new(key, fetched, BookingStatus::Confirmed, arrival, departure);
//! assert_eq!(booking.nights(), 3);
//!
//! // The fingerprint ignores when and how the record was fetched.
//! let mut refetched = booking.clone();
//! refetched.provenance = Provenance::new(Via::Webhook, chrono::Utc::now());
//! assert_eq!(booking.fingerprint(), refetched.fingerprint());
//! ```
//!
//! ## Features
//! - `http`: the shared HTTP client ([`http::HttpClient`]): timeouts, tracing, retry with full-jitter
//!   backoff honouring `Retry-After`, per-account pacing (governor rate limits and credit budgets),
//!   a single-flight token cache.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod board;
pub mod capability;
pub mod clock;
pub mod connector;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod mapping;
pub mod model;
pub mod sync;
pub mod tasks;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod webhook;

pub use capability::{Capabilities, CapabilityMatrix, Operation, Support};
pub use clock::{Clock, ManualClock, SystemClock};
pub use connector::{
    BookingBatch, BookingIds, BookingQuery, Connector, DateRange, Health, RecordFailure, StayStatus, TransportStats,
    WriteReceipt,
};
pub use error::{Advice, Applied, Error, ErrorKind, Result};
pub use model::{AccountId, ConnectorKind, SourceId, SourceKey};

#[cfg(test)]
mod model_tests;
