//! # hostelpulse-store
//!
//! Where the sync engine keeps fingerprints, source modification times, disappearance candidates,
//! cursors, webhook dedupe keys and the audit log.
//!
//! - [`MemoryStore`] — in memory, for tests and one-shot tools (re-exported from core).
//! - [`SqliteStore`] — the embedded default: one file, created and migrated on open, WAL mode, safe
//!   under concurrent runs for different accounts (and for the same account: commits are serialized
//!   transactions). A run's record states, cursor and audit record are written in one transaction.
//!
//! ## Why rusqlite (bundled)
//! The store's work is small synchronous transactions on a local file, so an async driver buys
//! nothing: rusqlite runs them on tokio's blocking pool. `bundled` compiles SQLite in, so the demo
//! and CI need no system library; sqlx would add compile-time macros, a pool and a much larger
//! build for the same SQL.
//!
//! ## Schema, and PostgreSQL later
//! Plain tables keyed by `(connector, account, source_id)`, timestamps as RFC 3339 UTC text, the
//! fingerprint as a 32-byte blob, the audit record as JSON beside indexed columns. Nothing is
//! SQLite-specific but the `INSERT … ON CONFLICT` upserts, which PostgreSQL spells the same; a
//! multi-worker deployment maps the text timestamps to `timestamptz`, the blob to `bytea`, the JSON
//! to `jsonb`, and takes a row lock on `sync_cursor` per scope for the run.
//!
//! ```
//! use std::sync::Arc;
//! use hostelpulse_core::sync::{SyncEngine, SyncStore};
//! use hostelpulse_store::SqliteStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
//! let engine = SyncEngine::new(store);
//! # let _ = engine;
//! # });
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod sqlite;

pub use hostelpulse_core::sync::{AuditLog, MemoryStore, StoreError, SyncStore};
pub use sqlite::SqliteStore;
