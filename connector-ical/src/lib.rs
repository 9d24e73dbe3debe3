#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
pub mod classify;
mod config;
mod connector;
pub mod convert;
mod fetch;
mod lines;
pub mod parse;
mod read;
mod recur;

pub use capabilities::declared as declared_capabilities;
pub use classify::{DateTimeRule, EventKind, Feed, FeedEvent, FeedOptions, FeedReading, FeedSource};
pub use config::{FeedConfig, IcalConfig, IcalConfigBuilder};
pub use connector::{FeedStatus, IcalConnector};
pub use fetch::{Forbidden, is_internal};
pub use parse::Skipped;
pub use read::{FeedEvents, FeedItem, read_feed};
