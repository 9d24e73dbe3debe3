#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod checkpoint;
mod retention;
mod sqlite;

pub use hostelpulse_core::sync::{AuditLog, MemoryStore, StoreError, SyncStore};
pub use retention::{Pruned, Retention};
pub use sqlite::SqliteStore;
