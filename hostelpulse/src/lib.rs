#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// Re-exported so hosts implement [`sync::Sink`], [`sync::SyncStore`] or [`Connector`] with the
/// same version the SDK uses.
pub use async_trait::async_trait;
/// The date and time types in the public API.
pub use chrono;
/// Time zones in the public API (`Config::property.timezone`).
pub use chrono_tz;
pub use hostelpulse_core as core;
pub use hostelpulse_core::{
    Capabilities, CapabilityMatrix, Connector, ConnectorKind, Error, ErrorKind, Operation, Result, Support, board,
    mapping, model, sync, tasks,
};
#[cfg(feature = "sqlite")]
pub use hostelpulse_store as store;
/// The secret types in the public API.
pub use secrecy;

pub mod config;
#[cfg(feature = "runtime")]
pub mod fleet;
#[cfg(feature = "sqlite")]
pub mod property;
pub mod registry;
pub mod stored;
pub mod webhooks;

pub use registry::{Account, Registry, WebhookEndpoint};

/// Beds24 API v2.
#[cfg(feature = "beds24")]
pub use hostelpulse_connector_beds24 as beds24;

/// Cloudbeds PMS API v1.3.
#[cfg(feature = "cloudbeds")]
pub use hostelpulse_connector_cloudbeds as cloudbeds;

/// iCal feeds.
#[cfg(feature = "ical")]
pub use hostelpulse_connector_ical as ical;

/// Sirvoy (booking-event webhook).
#[cfg(feature = "sirvoy")]
pub use hostelpulse_connector_sirvoy as sirvoy;

/// FrontDesk Master (iCal + CSV exports).
#[cfg(feature = "fdm")]
pub use hostelpulse_connector_fdm as fdm;

/// Booking e-mails forwarded to an inbox.
#[cfg(feature = "email")]
pub use hostelpulse_connector_email as email;

/// The runtime: schedules, retry queue, leases, alerts and metrics.
#[cfg(feature = "runtime")]
pub use hostelpulse_runtime as runtime;

/// CSV import.
#[cfg(feature = "csv")]
pub use hostelpulse_csv as csv;

/// The declared capabilities of every connector compiled in, in a fixed order.
pub fn capability_matrix() -> CapabilityMatrix {
    let rows: Vec<Capabilities> = vec![
        #[cfg(feature = "beds24")]
        hostelpulse_connector_beds24::declared_capabilities(false),
        #[cfg(feature = "cloudbeds")]
        hostelpulse_connector_cloudbeds::declared_capabilities(5),
        #[cfg(feature = "ical")]
        hostelpulse_connector_ical::declared_capabilities(),
        #[cfg(feature = "sirvoy")]
        hostelpulse_connector_sirvoy::declared_capabilities(),
        #[cfg(feature = "fdm")]
        hostelpulse_connector_fdm::declared_capabilities(),
        #[cfg(feature = "email")]
        hostelpulse_connector_email::declared_capabilities(),
    ];
    CapabilityMatrix::new(rows)
}
