use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hostelpulse_core::error::BoxError;
use hostelpulse_core::model::{AccountId, Booking, ConnectorKind, Fingerprint, Property, SourceId};
use hostelpulse_core::model::{BookingStatus, Housekeeping};
use hostelpulse_core::sync::{
    AuditLog, AuditRecord, Change, ChangeClass, Commit, Inbox, InboxEntry, InboxItem, JobRecord, JobStore, LeaseGrant,
    Origin, Queued, RecordMap, RecordState, RoomRefresh, Scope, Settled, Sink, StartupFacts, StoreError, SyncState,
    SyncStore,
};
use rusqlite::{Connection, OptionalExtension, params};

mod queue;
mod rooms;

/// Ordered migrations; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sync_record (
    connector      TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    source_id      TEXT    NOT NULL,
    fingerprint    BLOB    NOT NULL,
    modified_at    TEXT,
    arrival        TEXT    NOT NULL,
    departure      TEXT    NOT NULL,
    cancelled      INTEGER NOT NULL,
    missing_passes INTEGER NOT NULL,
    gone           INTEGER NOT NULL,
    PRIMARY KEY (connector, account, source_id)
);
CREATE TABLE sync_cursor (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    cursor    TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE audit_run (
    run_id      TEXT PRIMARY KEY,
    connector   TEXT NOT NULL,
    account     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX audit_run_scope ON audit_run (connector, account, started_at DESC);
CREATE TABLE webhook_event (
    key     TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE booking (
    connector   TEXT NOT NULL,
    account     TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    arrival     TEXT NOT NULL,
    departure   TEXT NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (connector, account, source_id)
);
CREATE INDEX booking_stay ON booking (departure, arrival);
CREATE TABLE property (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
"#,
    r#"
CREATE TABLE credential (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (connector, account, name)
);
"#,
    r#"
ALTER TABLE sync_record ADD COLUMN origin TEXT NOT NULL DEFAULT 'fetch';
CREATE TABLE connector_state (
    connector TEXT    NOT NULL,
    account   TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    state     TEXT    NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE webhook_inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    dedupe_key  TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    item        TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT    NOT NULL,
    last_error  TEXT,
    done_at     TEXT,
    run_id      TEXT,
    UNIQUE (connector, account, dedupe_key)
);
CREATE INDEX webhook_inbox_due ON webhook_inbox (next_at) WHERE done_at IS NULL;
ALTER TABLE booking ADD COLUMN gone_at TEXT;
CREATE TABLE housekeeping (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
"#,
    r#"
CREATE TABLE runtime_job (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE account_lease (
    connector   TEXT NOT NULL,
    account     TEXT NOT NULL,
    holder      TEXT,
    until       TEXT NOT NULL,
    quiet_until TEXT,
    PRIMARY KEY (connector, account)
);
"#,
    r#"
CREATE TABLE paging_checkpoint (
    connector  TEXT NOT NULL,
    account    TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
"#,
    // The records clustered by their key: loading an account's records is one range scan of
    // the table, not a walk of a separate key index with a lookup per row.
    r#"
CREATE TABLE sync_record_clustered (
    connector      TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    source_id      TEXT    NOT NULL,
    fingerprint    BLOB    NOT NULL,
    modified_at    TEXT,
    arrival        TEXT    NOT NULL,
    departure      TEXT    NOT NULL,
    cancelled      INTEGER NOT NULL,
    missing_passes INTEGER NOT NULL,
    gone           INTEGER NOT NULL,
    origin         TEXT    NOT NULL DEFAULT 'fetch',
    PRIMARY KEY (connector, account, source_id)
) WITHOUT ROWID;
INSERT INTO sync_record_clustered
    (connector, account, source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin)
    SELECT connector, account, source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin
    FROM sync_record;
DROP TABLE sync_record;
ALTER TABLE sync_record_clustered RENAME TO sync_record;
"#,
    r#"
CREATE TABLE runtime_worker (
    holder TEXT PRIMARY KEY,
    until  TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE room_mapping (
    connector   TEXT NOT NULL,
    account     TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    host_id     TEXT NOT NULL,
    host_name   TEXT NOT NULL,
    source_name TEXT NOT NULL,
    confirmed   INTEGER NOT NULL,
    basis       TEXT,
    PRIMARY KEY (connector, account, source_id)
) WITHOUT ROWID;
CREATE TABLE turnover_task (
    property TEXT NOT NULL,
    id       TEXT NOT NULL,
    record   TEXT NOT NULL,
    PRIMARY KEY (property, id)
) WITHOUT ROWID;
CREATE TABLE task_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    property     TEXT NOT NULL,
    event        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX task_outbox_pending ON task_outbox (id) WHERE delivered_at IS NULL;
"#,
    r#"
CREATE TABLE stored_account (
    account    TEXT PRIMARY KEY,
    property   TEXT NOT NULL,
    config     TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
"#,
];

/// A [`SyncStore`] and [`AuditLog`] in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<queue::ConnQueue>,
    /// A second connection for reads (the same one for an in-memory store).
    reader: Arc<queue::ConnQueue>,
    path: Option<PathBuf>,
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Bounds for "every stay": dates are stored as ISO text, so they must stay four-digit years to
/// compare as text.
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1000, 1, 1).expect("a valid date");
const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A date as the tables keep it (`YYYY-MM-DD`, what `NaiveDate` displays), written without the
/// formatting machinery: an import formats four dates a row.
fn day(d: NaiveDate) -> String {
    use chrono::Datelike;
    match u32::try_from(d.year()) {
        Ok(y) if y <= 9999 => {
            let (m, dd) = (d.month(), d.day());
            let digits = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10, m / 10, m % 10, dd / 10, dd % 10];
            let mut out = String::with_capacity(10);
            for (i, n) in digits.into_iter().enumerate() {
                if i == 4 || i == 6 {
                    out.push('-');
                }
                out.push(char::from(b'0' + n as u8));
            }
            out
        }
        _ => d.to_string(),
    }
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

/// The reader connection of a store file: reads only (`query_only`), waiting for locks as the
/// writer does.
fn reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
    conn.pragma_update(None, "query_only", true).map_err(backend)?;
    Ok(conn)
}

fn parse_date(s: &str) -> Result<NaiveDate, StoreError> {
    // `YYYY-MM-DD`, as `day` writes it, read by hand; anything else (a year past 9999, a row from
    // elsewhere) goes through chrono's parser.
    match hostelpulse_core::dates::iso_date(s) {
        Some(date) => Ok(date),
        None => s.parse().map_err(|e| StoreError::Corrupt(format!("date `{s}`: {e}"))),
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the store at `path`.
    ///
    /// An existing file is checked before anything changes: a symbolic link, something that is not
    /// a regular file, or an SQLite database of another application is refused as it is (no
    /// permission change, no table added, no journal switch). A new file is created readable by
    /// its owner only.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<(Connection, Connection), StoreError> {
            let existed = check_path(&p)?;
            let mut conn = Connection::open(&p).map_err(backend)?;
            if !existed {
                // A new file: 16 KiB pages (the default is 4 KiB). Booking rows hold a JSON record
                // of about 600 bytes; larger pages write a large import with a third fewer page
                // writes. (Only an empty database takes it; an existing file is left as it is.)
                conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(backend)?;
            }
            // The busy timeout comes first: migrating and switching to WAL take locks another
            // process (a second `sync`, `webhook serve`) may hold.
            conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
            // Checked and migrated under one write lock: a file another process is creating right
            // now is waited for, and a file that is not ours is refused before anything changes.
            migrate_checked(&mut conn, &p)?;
            // The file can hold refresh tokens (feature `tokens`): readable by its owner only.
            // (Checked above: a regular file, not a link, and ours.)
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(backend)?;
            }
            // WAL lets readers (the status view) run beside a writing sync.
            wal(&conn)?;
            conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
            // Log folding runs on a thread of its own, off the writer's commits.
            crate::checkpoint::start(&mut conn, &p).map_err(backend)?;
            // 32 MiB of page cache for the writer (SQLite's default is 2 MiB): a large import
            // touches the booking and stay indexes all over, and with the small cache every
            // commit re-read their pages. Measured: a million-row import 10% faster.
            conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB).map_err(backend)?;
            // Every statement the store runs fits in the cache (rusqlite keeps 16 by default).
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            let reader = reader(&p)?;
            Ok((conn, reader))
        })
        .await
        .map_err(backend)??;
        let (conn, reader) = conn;
        Ok(Self {
            conn: Arc::new(queue::ConnQueue::new(conn)),
            reader: Arc::new(queue::ConnQueue::new(reader)),
            path: Some(path),
        })
    }

    /// Opens an existing store for commands that only read (the Today board, tasks, status): the
    /// file is never created, its permissions are left alone, and a file that is not a
    /// hostelpulse store is refused before anything in it changes.
    pub async fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let path = path.as_ref().to_path_buf();
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(StoreError::Refused(format!(
                "no state at {}: run `hostelpulse sync --config …` first (or pass --db)",
                path.display()
            )));
        }
        check_path(&path)?;
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let flags =
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
            let mut conn = Connection::open_with_flags(&p, flags).map_err(backend)?;
            conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
            ensure_ours(&conn, &p)?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(backend)??;
        // Commands that only read: one connection is enough.
        let conn = Arc::new(queue::ConnQueue::new(conn));
        Ok(Self { reader: conn.clone(), conn, path: Some(path) })
    }

    /// An in-memory SQLite store (tests).
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(backend)?;
        migrate(&mut conn)?;
        let conn = Arc::new(queue::ConnQueue::new(conn));
        Ok(Self { reader: conn.clone(), conn, path: None })
    }

    /// The file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs a read on the reader connection: in WAL mode it reads beside the writer (a sync's
    /// commit does not hold up the schedule, the inbox or another account's load).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.reader.run(f).await
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.conn.run(f).await
    }
}

/// Whether `path` exists (`false`: it will be created); refuses a link or a non-file.
fn check_path(path: &Path) -> Result<bool, StoreError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            Err(StoreError::Refused(format!("{} is a symbolic link: pass the state file's own path", path.display())))
        }
        Ok(m) if !m.is_file() => Err(StoreError::Refused(format!("{} is not a regular file", path.display()))),
        Ok(m) => Ok(m.len() > 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(backend(e)),
    }
}

/// Switches to WAL. Changing the journal mode needs the file to itself, and SQLite can answer
/// BUSY at once (without waiting) while another connection reads: try again for a while.
fn wal(conn: &Connection) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(backend(e)),
        }
    }
}

/// Migrates under an immediate transaction after checking, under the same lock, that the file
/// is ours or empty (a database with no table yet: new, or being created by another process).
fn migrate_checked(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(|e| {
        // "file is not a database": not SQLite at all.
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => refused(path),
            _ => backend(e),
        }
    })?;
    let tables: i64 = tx
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
        .map_err(|_| refused(path))?;
    if tables > 0 {
        ensure_ours(&tx, path)?;
    }
    run_migrations(&tx)?;
    tx.commit().map_err(backend)
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 96;

/// The page size of a new state file.
const PAGE_SIZE: i64 = 16 * 1024;
/// The writer's page cache, in KiB (negative: SQLite's unit for a size rather than a page count).
const WRITER_CACHE_KIB: i64 = -32 * 1024;

fn refused(path: &Path) -> StoreError {
    StoreError::Refused(format!("{} is not a hostelpulse state file: refusing to touch it", path.display()))
}

/// Refuses a file that is not a hostelpulse state file, before anything in it changes: it must be
/// an SQLite database whose schema is ours (our first table, and a schema version).
fn ensure_ours(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let refused = || refused(path);
    // Any read fails on a file that is not SQLite at all ("file is not a database").
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|_| refused())?;
    let ours: bool = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_record'", [], |_| Ok(true))
        .optional()
        .map_err(|_| refused())?
        .unwrap_or(false);
    if version == 0 || !ours {
        return Err(refused());
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // IMMEDIATE takes the write lock before the version is read: two processes creating the same
    // file at once run the migrations one after the other, and the second finds nothing to do.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
    run_migrations(&tx)?;
    tx.commit().map_err(backend)
}

/// The migrations not run yet, in `tx`.
fn run_migrations(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(backend)?;
    let version = usize::try_from(version).map_err(|_| StoreError::Corrupt(format!("schema version {version}")))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the store was written by a newer hostelpulse (schema {version}, this build knows {})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(backend)?;
    }
    Ok(())
}

/// Runs a statement through the connection's statement cache: the runtime's writes (leases,
/// schedules, audit records) repeat a handful of statements thousands of times.
fn exec(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

fn insert_audit(tx: &rusqlite::Transaction<'_>, record: &AuditRecord) -> Result<(), StoreError> {
    let json = serde_json::to_string(record).map_err(backend)?;
    let outcome = record.outcome.status();
    exec(tx,
        "INSERT INTO audit_run (run_id, connector, account, started_at, finished_at, outcome, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (run_id) DO UPDATE SET finished_at = excluded.finished_at, outcome = excluded.outcome, record = excluded.record",
        params![
            record.run_id,
            record.connector.as_str(),
            record.account.as_str(),
            ts(record.started_at),
            ts(record.finished_at),
            outcome,
            json
        ],
    )
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            insert_audit(&tx, &record)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn recent(&self, scope: &Scope, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let scope = scope.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(RECENT).map_err(backend)?;
            audit_rows(&mut stmt, scope.connector.as_str(), scope.account.as_str(), limit)
        })
        .await
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT DISTINCT connector, account FROM audit_run ORDER BY connector, account")
                .map_err(backend)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(backend)?;
            rows.map(|r| r.map(|(c, a)| Scope::new(ConnectorKind::new(c), AccountId::new(a))).map_err(backend))
                .collect()
        })
        .await
    }
}

/// An account's latest runs, newest first (connector, account, limit).
const RECENT: &str = "SELECT record FROM audit_run WHERE connector = ?1 AND account = ?2
                      ORDER BY started_at DESC, rowid DESC LIMIT ?3";

/// The runs [`RECENT`] selects.
fn audit_rows(
    stmt: &mut rusqlite::Statement<'_>,
    c: &str,
    a: &str,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = stmt.query_map(params![c, a, limit as i64], |r| r.get::<_, String>(0)).map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let json = row.map_err(backend)?;
        out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("audit record: {e}")))?);
    }
    Ok(out)
}

const RECORD_COLUMNS: &str =
    "source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin";

/// One `sync_record` row, selected as [`RECORD_COLUMNS`]. Read in place (no copy of a column
/// but the id): a full run loads every record of the account.
fn record_row(r: &rusqlite::Row<'_>) -> Result<(SourceId, RecordState), StoreError> {
    use rusqlite::types::ValueRef;
    let text = |i: usize| -> Result<Option<&str>, StoreError> {
        match r.get_ref(i).map_err(backend)? {
            ValueRef::Null => Ok(None),
            v => v.as_str().map(Some).map_err(backend),
        }
    };
    let required = |i: usize| text(i)?.ok_or_else(|| StoreError::Corrupt(format!("sync_record column {i} is null")));
    let id = required(0)?;
    let fp: [u8; 32] = r
        .get_ref(1)
        .map_err(backend)?
        .as_blob()
        .map_err(backend)?
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("fingerprint of {id}")))?;
    let origin = required(8)?;
    let state = RecordState {
        fingerprint: Fingerprint::from_bytes(fp),
        modified_at: text(2)?.map(parse_ts).transpose()?,
        arrival: parse_date(required(3)?)?,
        departure: parse_date(required(4)?)?,
        cancelled: r.get(5).map_err(backend)?,
        missing_passes: r.get(6).map_err(backend)?,
        gone: r.get(7).map_err(backend)?,
        origin: Origin::parse(origin).ok_or_else(|| StoreError::Corrupt(format!("origin `{origin}` of {id}")))?,
    };
    Ok((SourceId::from(id), state))
}

/// Every record of a scope.
fn scope_records(conn: &Connection, scope: &Scope) -> Result<RecordMap, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM sync_record WHERE connector = ?1 AND account = ?2"))
        .map_err(backend)?;
    let mut rows = stmt.query(params![scope.connector.as_str(), scope.account.as_str()]).map_err(backend)?;
    let mut records = RecordMap::default();
    while let Some(r) = rows.next().map_err(backend)? {
        let (id, state) = record_row(r)?;
        records.insert(id, state);
    }
    Ok(records)
}

/// A scope's cursor, connector state and paging checkpoint around the `records` already read.
fn scope_head(conn: &Connection, scope: &Scope, records: RecordMap) -> Result<SyncState, StoreError> {
    let (c, a) = (scope.connector.as_str(), scope.account.as_str());
    let mut state = scope_state(conn, c, a, records)?;
    state.paging_checkpoint = conn
        .query_row(
            "SELECT checkpoint FROM paging_checkpoint WHERE connector = ?1 AND account = ?2",
            params![c, a],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    Ok(state)
}

/// A scope's cursor and connector state around the `records` already read.
fn scope_state(conn: &Connection, c: &str, a: &str, records: RecordMap) -> Result<SyncState, StoreError> {
    let cursor: Option<String> = conn
        .query_row("SELECT cursor FROM sync_cursor WHERE connector = ?1 AND account = ?2", params![c, a], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    let saved: Option<(i64, String)> = conn
        .query_row(
            "SELECT version, state FROM connector_state WHERE connector = ?1 AND account = ?2",
            params![c, a],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(backend)?;
    let (state_version, connector_state) = match saved {
        Some((v, json)) => (
            u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("state version {v}")))?,
            Some(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("connector state of {c}/{a}: {e}")))?,
            ),
        ),
        None => (0, None),
    };
    Ok(SyncState {
        cursor: cursor.as_deref().map(parse_ts).transpose()?,
        records,
        connector_state,
        state_version,
        paging_checkpoint: None,
    })
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError> {
        let scope = scope.clone();
        self.read(move |conn| {
            // One read transaction: the records and the head are one snapshot.
            let tx = conn.transaction().map_err(backend)?;
            let records = scope_records(&tx, &scope)?;
            scope_head(&tx, &scope, records)
        })
        .await
    }

    async fn load_head(&self, scope: &Scope) -> Result<Option<SyncState>, StoreError> {
        let scope = scope.clone();
        self.read(move |conn| scope_head(conn, &scope, RecordMap::default()).map(Some)).await
    }

    async fn load_records(&self, scope: &Scope) -> Result<RecordMap, StoreError> {
        let scope = scope.clone();
        self.read(move |conn| scope_records(conn, &scope)).await
    }

    async fn load_some(&self, scope: &Scope, ids: &[&SourceId]) -> Result<SyncState, StoreError> {
        let scope = scope.clone();
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        self.read(move |conn| {
            let (c, a) = (scope.connector.as_str(), scope.account.as_str());
            // One read transaction: a file lock taken once, not once per lookup.
            let tx = conn.transaction().map_err(backend)?;
            let mut records = RecordMap::default();
            {
                // One primary-key lookup per id: the cost follows the batch, not the account's size.
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLUMNS} FROM sync_record WHERE connector = ?1 AND account = ?2 AND source_id = ?3"
                    ))
                    .map_err(backend)?;
                for id in &ids {
                    let mut rows = stmt.query(params![c, a, id]).map_err(backend)?;
                    if let Some(r) = rows.next().map_err(backend)? {
                        let (id, state) = record_row(r)?;
                        records.insert(id, state);
                    }
                }
            }
            let state = scope_state(&tx, c, a, records)?;
            tx.commit().map_err(backend)?;
            Ok(state)
        })
        .await
    }

    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError> {
        let scope = scope.clone();
        let commit = commit.clone();
        self.with(move |conn| {
            let (c, a) = (scope.connector.as_str(), scope.account.as_str());
            // IMMEDIATE: the state version is checked and bumped under the write lock.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            if let Some(update) = &commit.connector_state {
                let found: i64 = tx
                    .query_row(
                        "SELECT version FROM connector_state WHERE connector = ?1 AND account = ?2",
                        params![c, a],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(backend)?
                    .unwrap_or(0);
                let found = u64::try_from(found).map_err(|_| StoreError::Corrupt(format!("state version {found}")))?;
                if found != update.expected_version {
                    return Err(StoreError::Conflict { expected: update.expected_version, found });
                }
                let json = serde_json::to_string(&update.value).map_err(backend)?;
                exec(&tx,
                    "INSERT INTO connector_state (connector, account, version, state) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (connector, account) DO UPDATE SET version = excluded.version, state = excluded.state",
                    params![c, a, (found + 1) as i64, json],
                )
                .map_err(backend)?;
            }
            {
                let mut up = tx
                    .prepare_cached(
                        "INSERT INTO sync_record
                           (connector, account, source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                         ON CONFLICT (connector, account, source_id) DO UPDATE SET
                           fingerprint = excluded.fingerprint, modified_at = excluded.modified_at,
                           arrival = excluded.arrival, departure = excluded.departure, cancelled = excluded.cancelled,
                           missing_passes = excluded.missing_passes, gone = excluded.gone, origin = excluded.origin",
                    )
                    .map_err(backend)?;
                for (id, s) in &commit.upserts {
                    up.execute(params![
                        c,
                        a,
                        id.as_str(),
                        &s.fingerprint.as_bytes()[..],
                        s.modified_at.map(ts),
                        day(s.arrival),
                        day(s.departure),
                        s.cancelled,
                        s.missing_passes,
                        s.gone,
                        s.origin.as_str()
                    ])
                    .map_err(backend)?;
                }
            }
            if let Some(cursor) = commit.cursor {
                exec(&tx,
                    "INSERT INTO sync_cursor (connector, account, cursor) VALUES (?1, ?2, ?3)
                     ON CONFLICT (connector, account) DO UPDATE SET cursor = excluded.cursor",
                    params![c, a, ts(cursor)],
                )
                .map_err(backend)?;
            }
            exec(&tx, "DELETE FROM paging_checkpoint WHERE connector = ?1 AND account = ?2", params![c, a])
                .map_err(backend)?;
            insert_audit(&tx, &commit.audit)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError> {
        let (scope, checkpoint) = (scope.clone(), checkpoint.to_owned());
        self.with(move |conn| {
            exec(
                conn,
                "INSERT INTO paging_checkpoint (connector, account, checkpoint) VALUES (?1, ?2, ?3)
                 ON CONFLICT (connector, account) DO UPDATE SET checkpoint = excluded.checkpoint",
                params![scope.connector.as_str(), scope.account.as_str(), checkpoint],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn mapping_review(
        &self,
        scope: &Scope,
        seen: &[hostelpulse_core::mapping::SourceRoom],
    ) -> Result<Option<hostelpulse_core::mapping::MappingReview>, StoreError> {
        crate::bookings::review_mapping(self, scope, seen).await
    }

    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            exec(&tx, "DELETE FROM webhook_event WHERE seen_at < ?1", params![ts(now - ttl)]).map_err(backend)?;
            let inserted = tx
                .execute(
                    "INSERT INTO webhook_event (key, seen_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                    params![key, ts(now)],
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(inserted == 1)
        })
        .await
    }
}

/// The bookings and rooms themselves, for hosts without a database of their own: the
/// command-line tool and the demo keep them here to draw the Today board. A host application
/// normally implements [`Sink`] over its own tables instead.
impl SqliteStore {
    /// Bookings of every account whose stay overlaps `from..until` (exclusive), cancelled ones
    /// included. A booking the source no longer shows (declared disappeared) is returned as
    /// cancelled, with `status_raw` saying so and `cancelled_at` the time it was declared gone.
    pub async fn bookings_between(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<Booking>, StoreError> {
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT record, gone_at FROM booking WHERE arrival < ?2 AND departure > ?1
                     ORDER BY arrival, connector, source_id",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![from.to_string(), until.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .map_err(backend)?;
            rows.map(|r| {
                let (json, gone_at) = r.map_err(backend)?;
                booking_row(&json, gone_at.as_deref())
            })
            .collect()
        })
        .await
    }

    /// The stays of these accounts overlapping `from..until`, ordered by arrival.
    pub async fn bookings_of_between(
        &self,
        scopes: &[Scope],
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let scopes = scopes.to_vec();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT record, gone_at FROM booking WHERE connector = ?1 AND account = ?2
                     AND arrival < ?4 AND departure > ?3",
                )
                .map_err(backend)?;
            let mut out = Vec::new();
            for s in &scopes {
                let rows = st
                    .query_map(
                        params![s.connector.as_str(), s.account.as_str(), from.to_string(), until.to_string()],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
                    )
                    .map_err(backend)?;
                for r in rows {
                    let (json, gone_at) = r.map_err(backend)?;
                    out.push(booking_row(&json, gone_at.as_deref())?);
                }
            }
            out.sort_by(|a, b| (a.arrival, &a.key).cmp(&(b.arrival, &b.key)));
            Ok(out)
        })
        .await
    }

    /// Applies a retention policy (run it daily, as `hostelpulse prune` does): deletes old audit
    /// records and clears departed guests' contact details, in one transaction.
    pub async fn prune(&self, today: NaiveDate, retention: &crate::Retention) -> Result<crate::Pruned, StoreError> {
        let retention = *retention;
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            let mut pruned = crate::Pruned::default();
            if let Some(days) = retention.audit_days {
                let cutoff = format!("{}T00:00:00Z", today - chrono::Duration::days(i64::from(days)));
                pruned.audit_runs = tx
                    .execute(
                        "DELETE FROM audit_run AS a WHERE a.started_at < ?1
                           AND a.run_id <> (SELECT b.run_id FROM audit_run b
                                             WHERE b.connector = a.connector AND b.account = a.account
                                             ORDER BY b.started_at DESC LIMIT 1)
                           AND a.run_id <> COALESCE((SELECT b.run_id FROM audit_run b
                                             WHERE b.connector = a.connector AND b.account = a.account
                                               AND b.outcome IN ('ok', 'partial')
                                             ORDER BY b.started_at DESC LIMIT 1), '')",
                        params![cutoff],
                    )
                    .map_err(backend)? as u64;
            }
            if let Some(days) = retention.contact_days {
                let cutoff = (today - chrono::Duration::days(i64::from(days))).to_string();
                let rows: Vec<(String, String, String, String)> = {
                    let mut st = tx
                        .prepare("SELECT connector, account, source_id, record FROM booking WHERE departure < ?1")
                        .map_err(backend)?;
                    let rows = st
                        .query_map(params![cutoff], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                        .map_err(backend)?;
                    rows.collect::<Result<_, _>>().map_err(backend)?
                };
                let mut up = tx
                    .prepare("UPDATE booking SET record = ?4 WHERE connector = ?1 AND account = ?2 AND source_id = ?3")
                    .map_err(backend)?;
                for (connector, account, id, json) in rows {
                    let mut b: Booking =
                        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("booking record: {e}")))?;
                    if b.guest.email.is_none() && b.guest.phone.is_none() {
                        continue;
                    }
                    b.guest.email = None;
                    b.guest.phone = None;
                    let json = serde_json::to_string(&b).map_err(backend)?;
                    up.execute(params![connector, account, id, json]).map_err(backend)?;
                    pruned.contacts_cleared += 1;
                }
            }
            tx.commit().map_err(backend)?;
            Ok(pruned)
        })
        .await
    }

    /// Every booking row of one account, gone ones included (as [`SqliteStore::bookings_between`]
    /// returns them).
    pub async fn bookings_of(&self, scope: &Scope) -> Result<Vec<Booking>, StoreError> {
        let all = self.bookings_between(EARLIEST, LATEST).await?;
        Ok(all.into_iter().filter(|b| b.key.connector == scope.connector && b.key.account == scope.account).collect())
    }

    /// The housekeeping state last refreshed for an account.
    pub async fn housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, StoreError> {
        let (connector, account) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned());
        self.read(move |c| {
            let json: Option<String> = c
                .query_row(
                    "SELECT record FROM housekeeping WHERE connector = ?1 AND account = ?2",
                    params![connector, account],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("housekeeping: {e}"))))
                .transpose()
        })
        .await
    }

    /// Replaces an account's rooms (its properties with room types, rooms and beds).
    pub async fn save_properties(&self, scope: &Scope, properties: &[Property]) -> Result<(), StoreError> {
        self.put_account_record("property", scope, serde_json::to_string(properties).map_err(backend)?).await
    }

    /// Replaces the one JSON record an account has in `table` (`property`, `housekeeping`).
    async fn put_account_record(&self, table: &'static str, scope: &Scope, json: String) -> Result<(), StoreError> {
        let (connector, account) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned());
        self.with(move |c| {
            exec(
                c,
                &format!(
                    "INSERT INTO {table} (connector, account, record) VALUES (?1, ?2, ?3)
                     ON CONFLICT (connector, account) DO UPDATE SET record = excluded.record"
                ),
                params![connector, account, json],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    /// Every saved property, by account.
    pub async fn properties(&self) -> Result<Vec<(Scope, Vec<Property>)>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT connector, account, record FROM property ORDER BY connector, account")
                .map_err(backend)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
                .map_err(backend)?;
            rows.map(|r| {
                let (connector, account, json) = r.map_err(backend)?;
                let props =
                    serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("property record: {e}")))?;
                Ok((Scope::new(ConnectorKind::new(connector), AccountId::new(account)), props))
            })
            .collect()
        })
        .await
    }
}

#[async_trait]
impl Sink for SqliteStore {
    /// Upserts new, changed, cancelled and restored bookings; marks disappeared ones gone (the
    /// row stays). Idempotent by key.
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        let now = ts(Utc::now());
        let rows: Vec<(String, String, String, Option<(String, String, String)>)> = changes
            .iter()
            .map(|c| {
                let record = match (&c.booking, c.class) {
                    (Some(b), _) => Some((day(b.arrival), day(b.departure), serde_json::to_string(b)?)),
                    (None, ChangeClass::Disappeared) => None,
                    (None, _) => return Ok(None),
                };
                Ok(Some((
                    c.key.connector.as_str().to_owned(),
                    c.key.account.as_str().to_owned(),
                    c.key.id.as_str().to_owned(),
                    record,
                )))
            })
            .filter_map(Result::transpose)
            .collect::<Result<_, serde_json::Error>>()?;
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            for (connector, account, id, record) in rows {
                match record {
                    Some((arrival, departure, json)) => tx
                        .prepare_cached(
                            "INSERT INTO booking (connector, account, source_id, arrival, departure, record, gone_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)
                         ON CONFLICT (connector, account, source_id) DO UPDATE SET
                           arrival = excluded.arrival, departure = excluded.departure, record = excluded.record,
                           gone_at = NULL",
                        )
                        .and_then(|mut st| st.execute(params![connector, account, id, arrival, departure, json])),
                    // Gone is a status: the row and what it said stay.
                    None => tx
                        .prepare_cached(
                            "UPDATE booking SET gone_at = COALESCE(gone_at, ?4)
                         WHERE connector = ?1 AND account = ?2 AND source_id = ?3",
                        )
                        .and_then(|mut st| st.execute(params![connector, account, id, now])),
                }
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
        .map_err(Into::into)
    }

    /// Keeps the refreshed rooms and housekeeping (the parts the source could read).
    async fn apply_rooms(&self, scope: &Scope, rooms: &RoomRefresh) -> Result<(), BoxError> {
        if let Some(p) = &rooms.properties {
            self.save_properties(scope, p).await?;
        }
        if let Some(h) = &rooms.housekeeping {
            self.put_account_record("housekeeping", scope, serde_json::to_string(h)?).await?;
        }
        Ok(())
    }

    async fn kept_housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, BoxError> {
        Ok(crate::SqliteStore::housekeeping(self, scope).await?)
    }
}

/// A stored booking; one declared gone reads as cancelled, saying so.
fn booking_row(json: &str, gone_at: Option<&str>) -> Result<Booking, StoreError> {
    let mut b: Booking = serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("booking record: {e}")))?;
    if let Some(at) = gone_at {
        b.status = BookingStatus::Cancelled;
        b.status_raw = Some("gone: no longer in the source".into());
        b.cancelled_at = Some(parse_ts(at)?);
    }
    Ok(b)
}

#[async_trait]
impl hostelpulse_core::sync::PreviousBookings for SqliteStore {
    async fn bookings_by_key(&self, keys: &[hostelpulse_core::model::SourceKey]) -> Result<Vec<Booking>, StoreError> {
        let keys = keys.to_vec();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT record, gone_at FROM booking WHERE connector = ?1 AND account = ?2 AND source_id = ?3",
                )
                .map_err(backend)?;
            let mut out = Vec::new();
            for k in &keys {
                let row: Option<(String, Option<String>)> = st
                    .query_row(params![k.connector.as_str(), k.account.as_str(), k.id.as_str()], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(backend)?;
                if let Some((json, gone)) = row {
                    out.push(booking_row(&json, gone.as_deref())?);
                }
            }
            Ok(out)
        })
        .await
    }
}

fn inbox_entry(r: &rusqlite::Row<'_>) -> Result<InboxEntry, StoreError> {
    let get = |i: usize| -> Result<String, StoreError> { r.get(i).map_err(backend) };
    let opt = |i: usize| -> Result<Option<String>, StoreError> { r.get(i).map_err(backend) };
    let item: InboxItem =
        serde_json::from_str(&get(5)?).map_err(|e| StoreError::Corrupt(format!("inbox item: {e}")))?;
    Ok(InboxEntry {
        id: r.get(0).map_err(backend)?,
        scope: Scope::new(ConnectorKind::new(get(1)?), AccountId::new(get(2)?)),
        dedupe_key: get(3)?,
        received_at: parse_ts(&get(4)?)?,
        item,
        attempts: r.get(6).map_err(backend)?,
        next_at: parse_ts(&get(7)?)?,
        last_error: opt(8)?,
        done_at: opt(9)?.as_deref().map(parse_ts).transpose()?,
        run_id: opt(10)?,
    })
}

const INBOX_COLUMNS: &str =
    "id, connector, account, dedupe_key, received_at, item, attempts, next_at, last_error, done_at, run_id";

#[async_trait]
impl Inbox for SqliteStore {
    async fn inbox_put(
        &self,
        scope: &Scope,
        dedupe_key: &str,
        item: &InboxItem,
        now: DateTime<Utc>,
        keep_done: chrono::Duration,
    ) -> Result<Queued, StoreError> {
        let json = serde_json::to_string(item).map_err(backend)?;
        let (c, a, key) =
            (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned(), dedupe_key.to_owned());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            exec(
                &tx,
                "DELETE FROM webhook_inbox WHERE done_at IS NOT NULL AND done_at < ?1",
                params![ts(now - keep_done)],
            )
            .map_err(backend)?;
            let inserted = tx
                .execute(
                    "INSERT INTO webhook_inbox (connector, account, dedupe_key, received_at, item, next_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?4) ON CONFLICT (connector, account, dedupe_key) DO NOTHING",
                    params![c, a, key, ts(now), json],
                )
                .map_err(backend)?;
            let id = tx.last_insert_rowid();
            tx.commit().map_err(backend)?;
            Ok(if inserted == 1 { Queued::New(id) } else { Queued::Duplicate })
        })
        .await
    }

    async fn inbox_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(&format!(
                    "SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE done_at IS NULL AND next_at <= ?1
                     ORDER BY received_at, id LIMIT ?2"
                ))
                .map_err(backend)?;
            let mut rows = st.query(params![ts(now), limit as i64]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                out.push(inbox_entry(r)?);
            }
            Ok(out)
        })
        .await
    }

    async fn inbox_settle(&self, id: i64, settled: &Settled) -> Result<(), StoreError> {
        let settled = settled.clone();
        self.with(move |conn| {
            let n = match &settled {
                Settled::Done { run_id, at } => exec(
                    conn,
                    "UPDATE webhook_inbox SET attempts = attempts + 1, done_at = ?2, run_id = ?3, last_error = NULL
                     WHERE id = ?1",
                    params![id, ts(*at), run_id],
                ),
                Settled::Retry { at, error } => exec(
                    conn,
                    "UPDATE webhook_inbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![id, ts(*at), error],
                ),
                _ => return Err(StoreError::Corrupt("unknown inbox settlement".into())),
            }
            .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::Corrupt(format!("no inbox entry {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn inbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.read(|conn| {
            let next: Option<String> = conn
                .query_row("SELECT MIN(next_at) FROM webhook_inbox WHERE done_at IS NULL", [], |r| r.get(0))
                .map_err(backend)?;
            next.as_deref().map(parse_ts).transpose()
        })
        .await
    }

    async fn inbox_entries(&self, scope: &Scope) -> Result<Vec<InboxEntry>, StoreError> {
        let (c, a) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned());
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(&format!(
                    "SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE connector = ?1 AND account = ?2 ORDER BY received_at, id"
                ))
                .map_err(backend)?;
            let mut rows = st.query(params![c, a]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                out.push(inbox_entry(r)?);
            }
            Ok(out)
        })
        .await
    }
}

/// Rotated and newly minted refresh tokens, kept in the same file so they survive restarts (a
/// Beds24 invite code is single-use: without this, the second run could not log in). The file
/// is created readable by its owner only; hosts with a secrets vault implement `TokenStore`
/// over it instead.
#[async_trait]
impl JobStore for SqliteStore {
    async fn jobs(&self) -> Result<Vec<(Scope, JobRecord)>, StoreError> {
        self.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT connector, account, record FROM runtime_job ORDER BY connector, account")
                .map_err(backend)?;
            let mut rows = st.query([]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let (c, a, json): (String, String, String) =
                    (r.get(0).map_err(backend)?, r.get(1).map_err(backend)?, r.get(2).map_err(backend)?);
                let job = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("job {c}/{a}: {e}")))?;
                out.push((Scope::new(ConnectorKind::new(c), AccountId::new(a)), job));
            }
            Ok(out)
        })
        .await
    }

    async fn job(&self, scope: &Scope) -> Result<Option<JobRecord>, StoreError> {
        let (c, a) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned());
        self.read(move |conn| {
            let json: Option<String> = conn
                .query_row("SELECT record FROM runtime_job WHERE connector = ?1 AND account = ?2", params![c, a], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?;
            json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("job {c}/{a}: {e}"))))
                .transpose()
        })
        .await
    }

    async fn save_job(&self, scope: &Scope, job: &JobRecord) -> Result<(), StoreError> {
        self.save_jobs(&[(scope.clone(), job.clone())]).await
    }

    async fn save_jobs(&self, jobs: &[(Scope, JobRecord)]) -> Result<(), StoreError> {
        let rows = jobs
            .iter()
            .map(|(scope, job)| {
                let json = serde_json::to_string(job).map_err(backend)?;
                Ok((scope.connector.as_str().to_owned(), scope.account.as_str().to_owned(), json))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.with(move |conn| {
            // The write lock at once, waiting as the busy timeout allows (another worker may write).
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            {
                let mut st = tx
                    .prepare_cached(
                        "INSERT INTO runtime_job (connector, account, record) VALUES (?1, ?2, ?3)
                         ON CONFLICT (connector, account) DO UPDATE SET record = excluded.record",
                    )
                    .map_err(backend)?;
                for (c, a, json) in &rows {
                    st.execute(params![c, a, json]).map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn startup_facts(&self, scopes: &[Scope], limit: usize) -> Result<Vec<StartupFacts>, StoreError> {
        let scopes = scopes.to_vec();
        self.read(move |conn| {
            // One read transaction for the whole fleet: one snapshot, one lock.
            let tx = conn.transaction().map_err(backend)?;
            let mut out = Vec::with_capacity(scopes.len());
            {
                let mut runs = tx.prepare_cached(RECENT).map_err(backend)?;
                let mut webhook = tx
                    .prepare_cached("SELECT MAX(received_at) FROM webhook_inbox WHERE connector = ?1 AND account = ?2")
                    .map_err(backend)?;
                for scope in &scopes {
                    let (c, a) = (scope.connector.as_str(), scope.account.as_str());
                    let recent = audit_rows(&mut runs, c, a, limit)?;
                    let last: Option<String> = webhook.query_row(params![c, a], |r| r.get(0)).map_err(backend)?;
                    out.push(StartupFacts::new(recent, last.as_deref().map(parse_ts).transpose()?));
                }
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
    }

    async fn lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<LeaseGrant, StoreError> {
        let (c, a, h) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned(), holder.to_owned());
        let until = now + ttl;
        self.with(move |conn| {
            // IMMEDIATE: two processes asking at once are serialized by SQLite's write lock.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            let row: Option<(Option<String>, String, Option<String>)> = tx
                .query_row(
                    "SELECT holder, until, quiet_until FROM account_lease WHERE connector = ?1 AND account = ?2",
                    params![c, a],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            let previous_holder = row.as_ref().and_then(|r| r.0.clone());
            let quiet = match &row {
                Some((Some(other), other_until, _)) if *other != h && parse_ts(other_until)? > now => {
                    return Ok(LeaseGrant::Held { by: other.clone(), until: parse_ts(other_until)? });
                }
                // The quiet time protects the source from two processes' bursts; a holder
                // taking back its own lease knows its own pace.
                Some((Some(last), _, _)) if *last == h => None,
                Some((_, _, q)) => q.as_deref().map(parse_ts).transpose()?,
                None => None,
            };
            exec(
                &tx,
                "INSERT INTO account_lease (connector, account, holder, until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connector, account) DO UPDATE SET holder = excluded.holder, until = excluded.until",
                params![c, a, h, ts(until)],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(LeaseGrant::Granted { until, quiet_until: quiet, previous_holder })
        })
        .await
    }

    async fn save_job_and_release(
        &self,
        scope: &Scope,
        job: &JobRecord,
        holder: &str,
        quiet_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(job).map_err(backend)?;
        let (c, a, h) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned(), holder.to_owned());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            exec(
                &tx,
                "INSERT INTO runtime_job (connector, account, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT (connector, account) DO UPDATE SET record = excluded.record",
                params![c, a, json],
            )
            .map_err(backend)?;
            release_in(&tx, &c, &a, &h, quiet_until)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn release(&self, scope: &Scope, holder: &str, quiet_until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        let (c, a, h) = (scope.connector.as_str().to_owned(), scope.account.as_str().to_owned(), holder.to_owned());
        self.with(move |conn| release_in(conn, &c, &a, &h, quiet_until)).await
    }

    async fn heartbeat(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let h = holder.to_owned();
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            exec(
                &tx,
                "INSERT INTO runtime_worker (holder, until) VALUES (?1, ?2)
                 ON CONFLICT (holder) DO UPDATE SET until = excluded.until",
                params![h, ts(now + ttl)],
            )
            .map_err(backend)?;
            exec(&tx, "DELETE FROM runtime_worker WHERE until <= ?1", params![ts(now)]).map_err(backend)?;
            let alive = {
                let mut st = tx.prepare("SELECT holder FROM runtime_worker ORDER BY holder").map_err(backend)?;
                let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
            };
            tx.commit().map_err(backend)?;
            Ok(alive)
        })
        .await
    }

    async fn leave(&self, holder: &str) -> Result<(), StoreError> {
        let h = holder.to_owned();
        self.with(move |conn| {
            exec(conn, "DELETE FROM runtime_worker WHERE holder = ?1", params![h]).map(drop).map_err(backend)
        })
        .await
    }
}

/// Gives a lease back by expiring it now; the holder's name stays, so the quiet time it asks
/// for binds only the others.
fn release_in(
    conn: &Connection,
    c: &str,
    a: &str,
    h: &str,
    quiet_until: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE account_lease SET until = ?5, quiet_until = ?4 WHERE connector = ?1 AND account = ?2 AND holder = ?3",
        params![c, a, h, quiet_until.map(ts), ts(DateTime::<Utc>::UNIX_EPOCH)],
    )
    .map_err(backend)?;
    Ok(())
}

#[cfg(feature = "tokens")]
#[async_trait]
impl hostelpulse_core::http::TokenStore for SqliteStore {
    async fn load(
        &self,
        key: &hostelpulse_core::http::TokenKey,
    ) -> hostelpulse_core::Result<Option<secrecy::SecretString>> {
        let k = (key.connector.as_str().to_owned(), key.account.as_str().to_owned(), key.name.to_string());
        self.with(move |c| {
            c.query_row(
                "SELECT value FROM credential WHERE connector = ?1 AND account = ?2 AND name = ?3",
                params![k.0, k.1, k.2],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
        .map(|v| v.map(secrecy::SecretString::from))
        .map_err(|e| hostelpulse_core::Error::config(format!("token store: {e}")))
    }

    async fn save(
        &self,
        key: &hostelpulse_core::http::TokenKey,
        secret: secrecy::SecretString,
    ) -> hostelpulse_core::Result<()> {
        use secrecy::ExposeSecret;
        let k = (key.connector.as_str().to_owned(), key.account.as_str().to_owned(), key.name.to_string());
        let value = secret.expose_secret().to_owned();
        self.with(move |c| {
            exec(
                c,
                "INSERT INTO credential (connector, account, name, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connector, account, name) DO UPDATE SET value = excluded.value",
                params![k.0, k.1, k.2, value],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
        .map_err(|e| hostelpulse_core::Error::config(format!("token store: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_written_before_the_clustered_table_survive_its_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        let clustered = MIGRATIONS.iter().position(|m| m.contains("CREATE TABLE sync_record_clustered")).unwrap();
        for sql in &MIGRATIONS[..clustered] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", clustered as i64).unwrap();
        for n in 0..3 {
            exec(
                &tx,
                "INSERT INTO sync_record (connector, account, source_id, fingerprint, modified_at, arrival, departure,
                   cancelled, missing_passes, gone, origin) VALUES ('beds24', 'a', ?1, x'00ff', NULL, '2026-12-01',
                   '2026-12-03', 0, ?2, 0, 'import')",
                params![format!("b-{n}"), n],
            )
            .unwrap();
        }
        run_migrations(&tx).unwrap();
        let sql: String =
            tx.query_row("SELECT sql FROM sqlite_master WHERE name = 'sync_record'", [], |r| r.get(0)).unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        let rows: Vec<(String, i64, String)> = tx
            .prepare("SELECT source_id, missing_passes, origin FROM sync_record ORDER BY source_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [0, 1, 2].map(|n| (format!("b-{n}"), n, "import".to_owned())));
    }

    #[test]
    fn days_are_written_as_naive_date_displays_them() {
        for d in [
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(999, 10, 31).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-1, 1, 1).unwrap(),
            NaiveDate::MIN,
            NaiveDate::MAX,
        ] {
            assert_eq!(day(d), d.to_string());
            assert_eq!(parse_date(&day(d)).ok(), d.to_string().parse().ok());
        }
        assert!(parse_date("2026-13-01").is_err(), "not a month");
        assert!(parse_date("2026-02-30").is_err(), "not a day of February");
        assert!(parse_date("2026-1x-01").is_err());
        assert_eq!(parse_date("+12026-01-01").ok(), NaiveDate::from_ymd_opt(12026, 1, 1));
    }
}
