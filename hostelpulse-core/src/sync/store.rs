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
    /// Which kind of read last wrote the record: only records a snapshot read wrote can be
    /// declared gone by a later snapshot's absence.
    #[serde(default)]
    pub origin: Origin,
}

/// Where a record came from, so each part of a composite source is diffed only against itself
/// (FrontDesk Master: the iCal snapshot vs rows imported from a CSV report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// Read from the source by the engine (full, incremental, hint or push runs).
    #[default]
    Fetch,
    /// Imported from a file or batch the host handed over ([`crate::sync::SyncEngine::apply_batch`]).
    Import,
}

impl Origin {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fetch => "fetch",
            Self::Import => "import",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fetch" => Some(Self::Fetch),
            "import" => Some(Self::Import),
            _ => None,
        }
    }
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
    /// What the connector accumulated (e-mail folds, push deliveries), as the last committed
    /// run saved it.
    pub connector_state: Option<serde_json::Value>,
    /// An unfinished paged read a failed or deferred run left (JSON text, see
    /// [`crate::Connector::paging_checkpoint`]); the next commit of the scope clears it.
    pub paging_checkpoint: Option<String>,
    /// How many times the connector state was committed: a commit that saves connector state
    /// must name the version it loaded, so two processes never overwrite each other's state.
    pub state_version: u64,
}

/// The connector state a commit saves, and the version it was derived from.
#[derive(Debug, Clone, PartialEq)]
pub struct StateUpdate {
    /// The new state.
    pub value: serde_json::Value,
    /// The [`SyncState::state_version`] the run loaded; the commit fails with
    /// [`StoreError::Conflict`] when another run committed since.
    pub expected_version: u64,
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
    /// The connector's accumulated state, for sources that keep one.
    pub connector_state: Option<StateUpdate>,
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
    /// Another run committed this account's state since this run loaded it; nothing was written.
    /// Run again: the next run starts from the newer state.
    #[error("another run saved this account's state first (expected version {expected}, found {found})")]
    Conflict {
        /// The version this run loaded.
        expected: u64,
        /// The version in the store.
        found: u64,
    },
    /// The store refuses the file or database it was pointed at.
    #[error("{0}")]
    Refused(String),
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

/// Fingerprints, modification times, disappearance candidates, cursors and connector state per
/// scope, webhook dedupe keys, and the durable webhook inbox.
#[async_trait]
pub trait SyncStore: AuditLog + Inbox {
    /// Loads a scope's state.
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError>;
    /// Loads a scope's state with only the records of `ids` (the ones a batch names): an import
    /// in chunks reads what each chunk touches, not the whole account again. Stores should
    /// override the default, which loads everything and drops the rest.
    async fn load_some(&self, scope: &Scope, ids: &[&SourceId]) -> Result<SyncState, StoreError> {
        let mut state = self.load(scope).await?;
        let wanted: std::collections::HashSet<&SourceId> = ids.iter().copied().collect();
        state.records.retain(|id, _| wanted.contains(id));
        Ok(state)
    }
    /// Loads a scope's state without its records (`records` left empty), for a store that reads
    /// them separately with [`SyncStore::load_records`]: a full run then reads every record of the
    /// account while the source's first page is fetched and fingerprinted, instead of before.
    /// `None` (the default) when the store has no cheaper way than [`SyncStore::load`].
    async fn load_head(&self, scope: &Scope) -> Result<Option<SyncState>, StoreError> {
        let _ = scope;
        Ok(None)
    }
    /// A scope's records, as [`SyncStore::load`] returns them. Stores that answer
    /// [`SyncStore::load_head`] override this; the default loads the whole state.
    async fn load_records(&self, scope: &Scope) -> Result<RecordMap, StoreError> {
        Ok(self.load(scope).await?.records)
    }
    /// Writes a run's results — record states, cursor and audit record — in one transaction.
    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError>;
    /// Records an event key for `ttl`; `true` the first time, `false` for a repeat within the TTL.
    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError>;
    /// Keeps the paging checkpoint of a run that failed or was deferred, replacing any earlier
    /// one; [`SyncStore::load`] returns it until the scope's next commit, which clears it.
    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError>;
    /// What the stored room mapping lacks for `scope`, given the rooms this run's bookings are
    /// allocated to (`seen`) and the rooms the store holds for the account; `None` when the
    /// store keeps no mapping (see [`crate::sync::review_for_run`]). The default keeps none.
    async fn mapping_review(
        &self,
        scope: &Scope,
        seen: &[crate::mapping::SourceRoom],
    ) -> Result<Option<crate::mapping::MappingReview>, StoreError> {
        let _ = (scope, seen);
        Ok(None)
    }
}

/// A verified webhook delivery waiting to be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboxItem {
    /// A PMS hint: re-read what it names.
    Hint(crate::webhook::Hint),
    /// A push source's delivery, which carries the data itself (Sirvoy): the verified body.
    Push {
        /// The body as received (UTF-8 JSON).
        body: String,
    },
}

/// An inbox entry as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// The store's id.
    pub id: i64,
    /// The account the delivery is for.
    pub scope: Scope,
    /// The sender's event identity: a re-delivery of the same key is not queued again.
    pub dedupe_key: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// What it says.
    pub item: InboxItem,
    /// Runs tried so far.
    pub attempts: u32,
    /// When it is due (again).
    pub next_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When its run committed (`None`: still pending).
    pub done_at: Option<DateTime<Utc>>,
    /// The run that processed it.
    pub run_id: Option<String>,
}

/// What putting a delivery into the inbox did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Queued {
    /// Stored under this id.
    New(i64),
    /// The same delivery (by dedupe key) is already queued or was processed within the retention.
    Duplicate,
}

/// How an attempt at an inbox entry ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settled {
    /// Its run committed.
    Done {
        /// The run.
        run_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Its run failed or was deferred: try again at `at`.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
}

/// The durable webhook inbox: a verified delivery is written here before it is acknowledged to
/// the sender, and marked done only when the run it caused has committed (at-least-once).
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Stores a delivery unless one with the same scope and dedupe key is pending or was done
    /// within `keep_done` of `now` (older done entries are pruned here).
    async fn inbox_put(
        &self,
        scope: &Scope,
        dedupe_key: &str,
        item: &InboxItem,
        now: DateTime<Utc>,
        keep_done: chrono::Duration,
    ) -> Result<Queued, StoreError>;
    /// Pending entries due at `now`, oldest first, at most `limit`.
    async fn inbox_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>, StoreError>;
    /// Records how an attempt ended (counts the attempt).
    async fn inbox_settle(&self, id: i64, settled: &Settled) -> Result<(), StoreError>;
    /// When the next pending entry is due, if any.
    async fn inbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Every entry of a scope, oldest first (status views, tests).
    async fn inbox_entries(&self, scope: &Scope) -> Result<Vec<InboxEntry>, StoreError>;
}
