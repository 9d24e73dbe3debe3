//! # hostelpulse-connector-ical
//!
//! iCal feeds from OTAs and PMSs: fetched safely, parsed whatever state they are in, classified
//! per producer, and given identities that survive the producers' habits between fetches.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod classify;
pub mod parse;

pub use classify::{DateTimeRule, EventKind, Feed, FeedEvent, FeedOptions, FeedSource, read_feed};
pub use parse::Skipped;
