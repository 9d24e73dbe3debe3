//! # hostelpulse-connector-cloudbeds
//!
//! The Cloudbeds PMS API v1.3 connector for hostelpulse.
//!
//! - **Auth**: an API key (`x-api-key`, keys start `cbat_`), or OAuth 2.0 — build the authorize URL,
//!   exchange the code, refresh single-flight (any new refresh token goes to your token store), and
//!   the partner API-key grant. `check()` reads `/userinfo` and the property list.
//! - **Reads**: `getReservationsWithRateDetails` (UTC timestamps, `includeDeleted`), paging by
//!   `pageNumber` until `total`; rooms from `getRoomTypes` + `getRooms` (a shared type's beds grouped
//!   by `dormRoomName` into dorm rooms); availability from detailed rate plans; housekeeping; a
//!   one-call [`GuestStay`] for triage.
//! - **Writes** (form-encoded, never JSON): check-in/out per assigned room, reservation notes,
//!   housekeeping condition, and status changes via `putReservation`.
//! - **Pacing**: a strict per-property rate (5/s, 10/s for partners), shared by every client.
//! - **Webhooks**: subscribe/list/unsubscribe, and [`CloudbedsWebhooks`] turning deliveries into
//!   hints, authenticated by a URL secret.
//!
//! ```no_run
//! use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials};
//! use secrecy::SecretString;
//!
//! # fn demo() -> hostelpulse_core::Result<()> {
//! let key = std::env::var("CLOUDBEDS_API_KEY").unwrap_or_default();
//! let config = CloudbedsConfig::builder("173042", Credentials::ApiKey(SecretString::from(key))).build()?;
//! let cloudbeds = CloudbedsConnector::new(config)?;
//! # let _ = cloudbeds; Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod auth;
mod capabilities;
mod config;
mod connector;
pub mod convert;
mod inspect;
mod webhook;
pub mod wire;

pub use auth::TokenSet;
pub use capabilities::{declared as declared_capabilities, effective as effective_capabilities};
pub use config::{
    CloudbedsConfig, CloudbedsConfigBuilder, Credentials, DEFAULT_AUTHORIZE_URL, DEFAULT_BASE_URL, FilterZone,
    OAuthClient, RECOMMENDED_SCOPES,
};
pub use connector::{Assignment, CloudbedsConnector, GuestStay, pacing};
pub use webhook::{CloudbedsWebhookError, CloudbedsWebhooks, SYNC_EVENTS, generate_secret};
