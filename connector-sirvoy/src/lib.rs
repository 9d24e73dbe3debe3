//! # hostelpulse-connector-sirvoy
//!
//! Sirvoy documents no pull API — only a booking-event webhook, on the Pro plan. This connector is
//! what that allows, and its capability row says so:
//!
//! - a receiver for the webhook (versions 1.0 and 2): GET health checks answered, POSTed events
//!   authenticated by a URL secret it generates and by Sirvoy's sender addresses (overridable)
//!   before anything is parsed, deliveries of the same booking ordered by `generatedAt` (older and
//!   repeated ones ignored), restored bookings un-cancelled;
//! - bookings read from the accumulated deliveries (push only: simulated reads), rooms from the
//!   room types and names seen plus those configured; no availability, housekeeping or writes;
//! - history from before the webhook existed is not resent by Sirvoy: import it by CSV.
//!
//! ```
//! use hostelpulse_connector_sirvoy::{SirvoyConfig, SirvoyConnector, generate_secret};
//!
//! let secret = generate_secret(); // put it in the callback URL you give Sirvoy
//! let sirvoy = SirvoyConnector::new(SirvoyConfig::builder("4711", secret).plan("Pro").build().unwrap());
//! # let _ = sirvoy;
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod config;
mod connector;
pub mod convert;
pub mod wire;

pub use capabilities::declared as declared_capabilities;
pub use config::{SIRVOY_SENDERS, SirvoyConfig, SirvoyConfigBuilder};
pub use connector::{Received, SirvoyConnector, SirvoyWebhookError, generate_secret};
