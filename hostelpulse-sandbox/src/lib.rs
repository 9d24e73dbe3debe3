//! # hostelpulse-sandbox
//!
//! Nothing in hostelpulse's tests, benchmarks or demo reaches a vendor. Instead this crate runs, on
//! loopback, stateful emulators built from the vendors' specs, and a fault-injecting HTTP proxy
//! that can sit in front of any of them.
//!
//! - [`FaultProxy`] — forwards to an upstream and injects 429 with `Retry-After`, 500/503, stalls
//!   (client timeouts), connections cut after the upstream acted, truncated bodies, HTTP 200 with the
//!   vendor's error body, and expired-token 401s, on a seeded share of requests.
//! - [`Beds24Emulator`] — Beds24 API v2 (see [`beds24`]).
//! - [`CloudbedsEmulator`] — Cloudbeds PMS API v1.3 (see [`cloudbeds`]).
//! - [`IcalFeedServer`] — editable iCal feeds with conditional GET (see [`ical`]).
//! - [`SirvoySender`] — Sirvoy booking-event webhook deliveries (see [`sirvoy`]).
//! - [`BookingMailer`] and [`MaildirWriter`] — a booking inbox (Maildir) and the `.eml` samples
//!   built from the e-mail corpus (see [`mail`]).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod beds24;
pub mod cloudbeds;
mod fault_proxy;
pub mod ical;
mod in_process;
pub mod mail;
mod query;
mod server;
pub mod sirvoy;

pub use beds24::{Beds24Emulator, Beds24EmulatorBuilder, CreditHeaderNames};
pub use cloudbeds::{CloudbedsEmulator, CloudbedsEmulatorBuilder};
pub use fault_proxy::{FaultProxy, ProxyConfig};
pub use ical::IcalFeedServer;
pub use in_process::InProcess;
pub use mail::{BookingMailer, MaildirWriter};
pub use server::Running;
pub use sirvoy::SirvoySender;
