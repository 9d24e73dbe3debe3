//! # hostelpulse-connector-fdm
//!
//! FrontDesk Master documents no API at all — no endpoints, no tokens, no webhooks. What it does
//! offer is per-room iCal exports (dates taken, no details) and CSV/Excel report exports. This
//! connector is that composite, and its capability row says exactly so:
//!
//! - reads through [`hostelpulse_connector_ical`] over the per-room exports, keyed under the `fdm`
//!   connector kind (busy dates are *unavailable*: occupied, details unknown, unless the event's text
//!   says more);
//! - imports report exports through [`hostelpulse_csv`] with the FrontDesk Master preset, under the
//!   same kind and account, so guest details and history land on the same records;
//! - no writes; its notification e-mails are for the e-mail connector once a template is known.
//!
//! ```no_run
//! use hostelpulse_connector_fdm::FdmConnector;
//! use hostelpulse_connector_ical::{FeedConfig, IcalConfig};
//! use hostelpulse_core::model::{Allocation, ConnectorKind};
//! use secrecy::SecretString;
//!
//! # fn build() -> hostelpulse_core::Result<()> {
//! let room = Allocation { room_type: Some("dorm-a".into()), room: Some("dorm-a".into()), ..Allocation::default() };
//! let feeds = IcalConfig::builder("my-hostel", chrono_tz::Europe::Madrid)
//!     .feed(FeedConfig::new("dorm-a", SecretString::from("https://…/ical/dorm-a.ics"), room));
//! let fdm = FdmConnector::new(feeds)?;
//! # let _ = fdm; Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod connector;

pub use capabilities::declared as declared_capabilities;
pub use connector::FdmConnector;
