//! # hostelpulse-connector-beds24
//!
//! The [Beds24 API v2](https://beds24.com/api/v2/) connector for hostelpulse.
//!
//! - **Auth**: an invite code (exchanged once for a refresh token, handed to your
//!   [`TokenStore`](hostelpulse_core::http::TokenStore)), a refresh token (24-hour access tokens,
//!   cached and minted single-flight, refreshed once on rejection), or a read-only long-life token.
//!   `check()` reads `/authentication/details` and refines the capabilities from the token's scopes.
//! - **Reads**: properties with rooms and units (dorm units are beds), bookings by stay window,
//!   modification time or ids — every status asked for explicitly, every page read — availability
//!   from the inventory calendar, and unit status texts as housekeeping.
//! - **Writes**: check-in/out as info items with configurable codes, notes appended to `notes` or as
//!   info items, and (opt-in, unverified) unit status.
//! - **Pacing**: one request at a time per account and a credit budget fed by both spellings of
//!   the credit headers; 429 and the legacy usage codes wait for the reset or end the run as
//!   "throttled until".
//! - **Webhooks**: v1, v2 and inventory deliveries → [`Hint`](hostelpulse_core::webhook::Hint)s,
//!   authenticated by the custom header and/or a URL secret.
//!
//! ```no_run
//! use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector, Credentials};
//! use hostelpulse_core::Connector;
//! use secrecy::SecretString;
//!
//! # async fn demo() -> hostelpulse_core::Result<()> {
//! let token = std::env::var("BEDS24_REFRESH_TOKEN").unwrap_or_default();
//! let config = Beds24Config::builder(145678, Credentials::RefreshToken(SecretString::from(token)))
//!     .timezone(chrono_tz::Europe::Lisbon)
//!     .stay_codes("CHECKIN", "CHECKOUT")
//!     .build()?;
//! let beds24 = Beds24Connector::new(config)?;
//! let health = beds24.check().await?;
//! println!("scopes: {:?}", health.scopes);
//! # Ok(()) }
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

pub use capabilities::{declared as declared_capabilities, effective as effective_capabilities};
pub use config::{Beds24Config, Beds24ConfigBuilder, Credentials, DEFAULT_BASE_URL, NoteMode};
pub use connector::{Beds24Connector, pacing};
pub use webhook::{Beds24WebhookError, Beds24Webhooks};
