//! # hostelpulse-connector-email
//!
//! Booking confirmations forwarded to a dedicated inbox, read into bookings.
//!
//! - **Messages** come as raw RFC 822 bytes (for hosts that receive inbound mail by webhook) or
//!   from a Maildir (the embedded default) or, with the `imap` feature, an IMAP mailbox (TLS, or
//!   plain TCP for loopback tests); processed messages are flagged seen, never deleted unless
//!   configured.
//! - **MIME** is decoded by mail-parser: multipart, quoted-printable, base64, legacy charsets,
//!   HTML-only mail (converted to text keeping table rows and cells), attached `message/rfc822`.
//! - **Forwards** are unwrapped: the original sender, subject and date are read from Gmail,
//!   Android, Apple Mail and Outlook forward blocks, with labels in six languages.
//! - **Templates** per sender — Airbnb (host), Booking.com (host notification and guest
//!   confirmation), Expedia (partner), Hostelworld, Agoda, Trip.com — and a generic label-based
//!   fallback find values by labels and patterns, not positions; month names and labels in
//!   English, French, Spanish, German, Italian and Portuguese; missing years inferred from the send
//!   date.
//! - **Outcomes**: every result carries a confidence and its template's name; below the
//!   threshold it goes to review instead of syncing; a mail that is not a booking is a typed
//!   [`Outcome::NotABooking`] with its reason.
//! - **Privacy**: only extracted fields are kept; [`redact`] prepares exports. Bookings carry the
//!   channel and its reference, so an Airbnb `HM…` code seen here and in the iCal feed is one stay.
//!
//! ```
//! use hostelpulse_connector_email::{Outcome, ParseOptions, parse_message};
//!
//! let parsed = parse_message(b"From: friend@example.com\r\nSubject: lunch?\r\n\r\nSee you at noon.\r\n",
//!     &ParseOptions::default()).unwrap();
//! assert!(matches!(parsed.outcome, Outcome::NotABooking { .. }));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod config;
mod connector;
pub mod convert;
mod error;
mod extract;
mod find;
mod forward;
pub mod html;
#[cfg(feature = "imap")]
mod imap;
mod lang;
mod mime;
mod parse;
mod privacy;
mod source;
mod templates;

pub use capabilities::declared as declared_capabilities;
pub use config::{EmailConfig, EmailConfigBuilder};
pub use connector::{EmailConnector, Processed, Record};
pub use error::{MessageError, SourceError};
pub use extract::{Extracted, Extraction, MailKind, Outcome, ParsedMail};
#[cfg(feature = "imap")]
pub use imap::{ImapConfig, ImapSecurity, ImapSource};
pub use mime::{BodySource, Envelope};
pub use parse::{ParseOptions, parse_message};
pub use privacy::{initials, mask_email, mask_phone, redact};
pub use source::{Maildir, MessageSource, RawMessage, RawQueue};
pub use templates::names as template_names;
