#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bookings;
mod checkpoint;
mod lookup;
#[cfg(feature = "postgres")]
mod postgres;
mod retention;
mod sqlite;

pub use bookings::BookingStore;
pub use hostelpulse_core::sync::{AuditLog, MemoryStore, StoreError, SyncStore};
pub use lookup::{AnsweredBy, StayLookup, lookup_stay};
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PgStoreBuilder};
pub use retention::{Pruned, Retention};
pub use sqlite::SqliteStore;
