//! What the sync engine remembers between runs, behind traits so hosts can choose the backend
//! (in memory, SQLite in `hostelpulse-store`, PostgreSQL for multi-worker deployments).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::audit::AuditRecord;
use crate::error::BoxError;
use crate::model::{AccountId, ConnectorKind, Fingerprint, SourceId};

/// One connector account: the unit the store keeps state for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// Connector.
    pub connector: ConnectorKind,
    /// Account.
    pub account: AccountId,
}

impl Scope {
    /// A scope.
    pub fn new(connector: ConnectorKind, account: AccountId) -> Self {
        Self { connector, account }
    }
}

/// What the store remembers of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordState {
    /// Content fingerprint last handed to the sink.
    pub fingerprint: Fingerprint,
    /// The source's modification time, when it gives one (for the newer-wins guard).
    pub modified_at: Option<DateTime<Utc>>,
    /// First night.
    pub arrival: NaiveDate,
    /// Checkout day.
    pub departure: NaiveDate,
    /// Whether the record is cancelled (or was declared disappeared).
    pub cancelled: bool,
    /// Consecutive complete full fetches of a window covering the stay that did not return it.
    pub missing_passes: u8,
    /// Declared disappeared.
    pub gone: bool,
}

/// Record states by source id. Keyed with a fast non-cryptographic hash: ids come from the
/// source we sync, and the diff looks up every fetched record here.
pub type RecordMap = rustc_hash::FxHashMap<SourceId, RecordState>;

/// Everything the engine needs to diff one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// The saved cursor.
    pub cursor: Option<DateTime<Utc>>,
    /// Records by source id.
    pub records: RecordMap,
}

/// What a successful run writes, atomically.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Records to insert or replace.
    pub upserts: Vec<(SourceId, RecordState)>,
    /// The new cursor (`None`: leave it).
    pub cursor: Option<DateTime<Utc>>,
    /// The run's audit record.
    pub audit: AuditRecord,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, locking, SQL).
    #[error("store backend: {0}")]
    Backend(#[source] BoxError),
    /// Stored data could not be read back.
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
}

/// Append-only log of sync runs.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends a record (used for runs that save nothing else: failed and deferred runs).
    async fn append(&self, record: &AuditRecord) -> Result<(), StoreError>;
    /// The newest `limit` records of a scope, newest first.
    async fn recent(&self, scope: &Scope, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;
    /// Every scope that has records.
    async fn scopes(&self) -> Result<Vec<Scope>, StoreError>;
}

/// Fingerprints, modification times, disappearance candidates and cursors per scope, and webhook
/// dedupe keys.
#[async_trait]
pub trait SyncStore: AuditLog {
    /// Loads a scope's state.
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError>;
    /// Writes a run's results — record states, cursor and audit record — in one transaction.
    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError>;
    /// Records an event key for `ttl`; `true` the first time, `false` for a repeat within the TTL.
    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError>;
}
