#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod board;
pub mod capability;
pub mod clock;
pub mod connector;
pub mod dates;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod mapping;
pub mod model;
pub mod paging;
pub mod privacy;
pub mod sync;
pub mod tasks;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod webhook;

pub use capability::{Capabilities, CapabilityMatrix, Operation, Support};
pub use clock::{Clock, ManualClock, SystemClock, TokioWallClock};
pub use connector::{
    BookingBatch, BookingIds, BookingParts, BookingQuery, Connector, DateRange, DiscoveredProperty, Health,
    RecordFailure, StayQuery, StayStatus, TransportStats, WriteReceipt,
};
pub use error::{Advice, Applied, Error, ErrorKind, Result};
pub use model::{AccountId, ConnectorKind, SourceId, SourceKey};

#[cfg(test)]
mod model_tests;
