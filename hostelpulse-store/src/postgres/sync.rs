//! Record states, cursors, connector state, paging checkpoints, the audit log, webhook dedupe
//! keys and the durable inbox.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use hostelpulse_core::model::{AccountId, ConnectorKind, Fingerprint, SourceId};
use hostelpulse_core::sync::{
    AuditLog, AuditRecord, Commit, Inbox, InboxEntry, InboxItem, Origin, Queued, RecordMap, RecordState, Scope,
    Settled, StoreError, SyncState, SyncStore,
};
use tokio_postgres::types::Json;

use super::{PgStore, backend, corrupt};

/// Rows per statement when a commit writes record states: one round trip per chunk, not per row.
const UPSERT_CHUNK: usize = 5_000;

async fn insert_audit(c: &impl GenericClient, record: &AuditRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO audit_run (run_id, connector, account, started_at, finished_at, outcome, worker, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (run_id) DO UPDATE SET finished_at = excluded.finished_at, outcome = excluded.outcome,
           worker = excluded.worker, record = excluded.record",
        &[
            &record.run_id,
            &record.connector.as_str(),
            &record.account.as_str(),
            &record.started_at,
            &record.finished_at,
            &record.outcome.status(),
            &record.worker,
            &Json(record),
        ],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl AuditLog for PgStore {
    async fn append(&self, record: &AuditRecord) -> Result<(), StoreError> {
        insert_audit(&self.client().await?, record).await
    }

    async fn recent(&self, scope: &Scope, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT record FROM audit_run WHERE connector = $1 AND account = $2
                 ORDER BY started_at DESC, seq DESC LIMIT $3",
                &[&scope.connector.as_str(), &scope.account.as_str(), &limit],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| r.try_get::<_, Json<AuditRecord>>(0).map(|j| j.0).map_err(|e| corrupt("audit record", e)))
            .collect()
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT DISTINCT connector, account FROM audit_run ORDER BY connector, account", &[])
            .await
            .map_err(backend)?;
        Ok(rows.iter().map(|r| scope_of(r.get(0), r.get(1))).collect())
    }
}

pub(super) fn scope_of(connector: String, account: String) -> Scope {
    Scope::new(ConnectorKind::new(connector), AccountId::new(account))
}

const RECORD_COLUMNS: &str =
    "source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin";

fn record_row(r: &tokio_postgres::Row) -> Result<(SourceId, RecordState), StoreError> {
    let id: &str = r.try_get(0).map_err(|e| corrupt("sync_record", e))?;
    let fp: &[u8] = r.try_get(1).map_err(|e| corrupt("sync_record", e))?;
    let fp: [u8; 32] = fp.try_into().map_err(|_| StoreError::Corrupt(format!("fingerprint of {id}")))?;
    let origin: &str = r.try_get(8).map_err(|e| corrupt("sync_record", e))?;
    let passes: i16 = r.try_get(6).map_err(|e| corrupt("sync_record", e))?;
    let state = RecordState {
        fingerprint: Fingerprint::from_bytes(fp),
        modified_at: r.try_get(2).map_err(|e| corrupt("sync_record", e))?,
        arrival: r.try_get(3).map_err(|e| corrupt("sync_record", e))?,
        departure: r.try_get(4).map_err(|e| corrupt("sync_record", e))?,
        cancelled: r.try_get(5).map_err(|e| corrupt("sync_record", e))?,
        missing_passes: u8::try_from(passes).map_err(|_| StoreError::Corrupt(format!("missing passes of {id}")))?,
        gone: r.try_get(7).map_err(|e| corrupt("sync_record", e))?,
        origin: Origin::parse(origin).ok_or_else(|| StoreError::Corrupt(format!("origin `{origin}` of {id}")))?,
    };
    Ok((SourceId::from(id), state))
}

/// A scope's cursor, connector state and paging checkpoint around `records`.
async fn scope_state(c: &impl GenericClient, scope: &Scope, records: RecordMap) -> Result<SyncState, StoreError> {
    let (cn, ac) = (scope.connector.as_str(), scope.account.as_str());
    let row = c
        .query_one(
            "SELECT (SELECT cursor FROM sync_cursor WHERE connector = $1 AND account = $2),
                    (SELECT version FROM connector_state WHERE connector = $1 AND account = $2),
                    (SELECT state FROM connector_state WHERE connector = $1 AND account = $2),
                    (SELECT checkpoint FROM paging_checkpoint WHERE connector = $1 AND account = $2)",
            &[&cn, &ac],
        )
        .await
        .map_err(backend)?;
    let cursor: Option<DateTime<Utc>> = row.try_get(0).map_err(|e| corrupt("cursor", e))?;
    let version: Option<i64> = row.try_get(1).map_err(|e| corrupt("state version", e))?;
    let state: Option<Json<serde_json::Value>> =
        row.try_get(2).map_err(|e| corrupt(&format!("connector state of {cn}/{ac}"), e))?;
    let checkpoint: Option<String> = row.try_get(3).map_err(|e| corrupt("paging checkpoint", e))?;
    let state_version = match version {
        Some(v) => u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("state version {v}")))?,
        None => 0,
    };
    Ok(SyncState { cursor, records, connector_state: state.map(|j| j.0), state_version, paging_checkpoint: checkpoint })
}

/// Every record of a scope.
async fn scope_records(c: &impl GenericClient, scope: &Scope) -> Result<RecordMap, StoreError> {
    let rows = c
        .query(
            &format!("SELECT {RECORD_COLUMNS} FROM sync_record WHERE connector = $1 AND account = $2"),
            &[&scope.connector.as_str(), &scope.account.as_str()],
        )
        .await
        .map_err(backend)?;
    let mut records = RecordMap::default();
    records.reserve(rows.len());
    for r in &rows {
        let (id, state) = record_row(r)?;
        records.insert(id, state);
    }
    Ok(records)
}

/// A read-only transaction on one snapshot: the records and the cursor and state beside them
/// come from the same commit.
async fn snapshot(c: &mut deadpool_postgres::Object) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    c.build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(backend)
}

#[async_trait]
impl SyncStore for PgStore {
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError> {
        let mut c = self.client().await?;
        let tx = snapshot(&mut c).await?;
        let records = scope_records(&tx, scope).await?;
        let state = scope_state(&tx, scope, records).await?;
        tx.commit().await.map_err(backend)?;
        Ok(state)
    }

    async fn load_head(&self, scope: &Scope) -> Result<Option<SyncState>, StoreError> {
        let c = self.client().await?;
        scope_state(&c, scope, RecordMap::default()).await.map(Some)
    }

    async fn load_records(&self, scope: &Scope) -> Result<RecordMap, StoreError> {
        // A task of its own: on a multi-threaded runtime the rows are received and read on
        // another worker while the run fingerprints the source's first page.
        let (pool, scope) = (self.pool.clone(), scope.clone());
        tokio::spawn(async move {
            let c = pool.get().await.map_err(backend)?;
            scope_records(&c, &scope).await
        })
        .await
        .map_err(backend)?
    }

    async fn load_some(&self, scope: &Scope, ids: &[&SourceId]) -> Result<SyncState, StoreError> {
        let mut c = self.client().await?;
        let tx = snapshot(&mut c).await?;
        let wanted: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
        let rows = tx
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM sync_record WHERE connector = $1 AND account = $2 AND source_id = ANY($3)"
                ),
                &[&scope.connector.as_str(), &scope.account.as_str(), &wanted],
            )
            .await
            .map_err(backend)?;
        let mut records = RecordMap::default();
        for r in &rows {
            let (id, state) = record_row(r)?;
            records.insert(id, state);
        }
        let state = scope_state(&tx, scope, records).await?;
        tx.commit().await.map_err(backend)?;
        Ok(state)
    }

    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let (cn, ac) = (scope.connector.as_str(), scope.account.as_str());
        let tx = c.transaction().await.map_err(backend)?;
        if let Some(update) = &commit.connector_state {
            let expected = i64::try_from(update.expected_version)
                .map_err(|_| StoreError::Corrupt(format!("state version {}", update.expected_version)))?;
            // The version check and the write are one statement: two commits racing on the same
            // version cannot both pass (the row, or the key for a first insert, is locked by the
            // first until it commits).
            let written = tx
                .execute(
                    "INSERT INTO connector_state (connector, account, version, state) VALUES ($1, $2, 1, $4)
                     ON CONFLICT (connector, account) DO UPDATE SET version = connector_state.version + 1,
                       state = excluded.state
                     WHERE connector_state.version = $3",
                    &[&cn, &ac, &expected, &Json(&update.value)],
                )
                .await
                .map_err(backend)?;
            let found: i64 = tx
                .query_one("SELECT version FROM connector_state WHERE connector = $1 AND account = $2", &[&cn, &ac])
                .await
                .map_err(backend)?
                .get(0);
            if written == 0 || found != expected + 1 {
                let found_before = if written == 0 { found } else { found - 1 };
                return Err(StoreError::Conflict {
                    expected: update.expected_version,
                    found: u64::try_from(found_before).unwrap_or(0),
                });
            }
        }
        for chunk in commit.upserts.chunks(UPSERT_CHUNK) {
            let mut ids = Vec::with_capacity(chunk.len());
            let mut fps = Vec::with_capacity(chunk.len());
            let mut modified = Vec::with_capacity(chunk.len());
            let mut arrivals: Vec<NaiveDate> = Vec::with_capacity(chunk.len());
            let mut departures: Vec<NaiveDate> = Vec::with_capacity(chunk.len());
            let mut cancelled = Vec::with_capacity(chunk.len());
            let mut passes = Vec::with_capacity(chunk.len());
            let mut gone = Vec::with_capacity(chunk.len());
            let mut origins = Vec::with_capacity(chunk.len());
            for (id, s) in chunk {
                ids.push(id.as_str());
                fps.push(&s.fingerprint.as_bytes()[..]);
                modified.push(s.modified_at);
                arrivals.push(s.arrival);
                departures.push(s.departure);
                cancelled.push(s.cancelled);
                passes.push(i16::from(s.missing_passes));
                gone.push(s.gone);
                origins.push(s.origin.as_str());
            }
            tx.execute(
                "INSERT INTO sync_record
                   (connector, account, source_id, fingerprint, modified_at, arrival, departure, cancelled,
                    missing_passes, gone, origin)
                 SELECT $1, $2, * FROM unnest($3::text[], $4::bytea[], $5::timestamptz[], $6::date[], $7::date[],
                                              $8::bool[], $9::int2[], $10::bool[], $11::text[])
                 ON CONFLICT (connector, account, source_id) DO UPDATE SET
                   fingerprint = excluded.fingerprint, modified_at = excluded.modified_at,
                   arrival = excluded.arrival, departure = excluded.departure, cancelled = excluded.cancelled,
                   missing_passes = excluded.missing_passes, gone = excluded.gone, origin = excluded.origin",
                &[&cn, &ac, &ids, &fps, &modified, &arrivals, &departures, &cancelled, &passes, &gone, &origins],
            )
            .await
            .map_err(backend)?;
        }
        if let Some(cursor) = commit.cursor {
            tx.execute(
                "INSERT INTO sync_cursor (connector, account, cursor) VALUES ($1, $2, $3)
                 ON CONFLICT (connector, account) DO UPDATE SET cursor = excluded.cursor",
                &[&cn, &ac, &cursor],
            )
            .await
            .map_err(backend)?;
        }
        tx.execute("DELETE FROM paging_checkpoint WHERE connector = $1 AND account = $2", &[&cn, &ac])
            .await
            .map_err(backend)?;
        insert_audit(&tx, &commit.audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn mapping_review(
        &self,
        scope: &Scope,
        seen: &[hostelpulse_core::mapping::SourceRoom],
    ) -> Result<Option<hostelpulse_core::mapping::MappingReview>, StoreError> {
        crate::bookings::review_mapping(self, scope, seen).await
    }

    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute("DELETE FROM webhook_event WHERE seen_at < $1", &[&(now - ttl)]).await.map_err(backend)?;
        let inserted = tx
            .execute(
                "INSERT INTO webhook_event (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &now],
            )
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(inserted == 1)
    }

    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO paging_checkpoint (connector, account, checkpoint) VALUES ($1, $2, $3)
                 ON CONFLICT (connector, account) DO UPDATE SET checkpoint = excluded.checkpoint",
                &[&scope.connector.as_str(), &scope.account.as_str(), &checkpoint],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }
}

const INBOX_COLUMNS: &str =
    "id, connector, account, dedupe_key, received_at, item, attempts, next_at, last_error, done_at, run_id";

fn inbox_entry(r: &tokio_postgres::Row) -> Result<InboxEntry, StoreError> {
    let get = |e: tokio_postgres::Error| corrupt("inbox entry", e);
    let attempts: i32 = r.try_get(6).map_err(get)?;
    Ok(InboxEntry {
        id: r.try_get(0).map_err(get)?,
        scope: scope_of(r.try_get(1).map_err(get)?, r.try_get(2).map_err(get)?),
        dedupe_key: r.try_get(3).map_err(get)?,
        received_at: r.try_get(4).map_err(get)?,
        item: r.try_get::<_, Json<InboxItem>>(5).map_err(get)?.0,
        attempts: u32::try_from(attempts).unwrap_or(0),
        next_at: r.try_get(7).map_err(get)?,
        last_error: r.try_get(8).map_err(get)?,
        done_at: r.try_get(9).map_err(get)?,
        run_id: r.try_get(10).map_err(get)?,
    })
}

#[async_trait]
impl Inbox for PgStore {
    async fn inbox_put(
        &self,
        scope: &Scope,
        dedupe_key: &str,
        item: &InboxItem,
        now: DateTime<Utc>,
        keep_done: chrono::Duration,
    ) -> Result<Queued, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute("DELETE FROM webhook_inbox WHERE done_at IS NOT NULL AND done_at < $1", &[&(now - keep_done)])
            .await
            .map_err(backend)?;
        let row = tx
            .query_opt(
                "INSERT INTO webhook_inbox (connector, account, dedupe_key, received_at, item, next_at)
                 VALUES ($1, $2, $3, $4, $5, $4) ON CONFLICT (connector, account, dedupe_key) DO NOTHING
                 RETURNING id",
                &[&scope.connector.as_str(), &scope.account.as_str(), &dedupe_key, &now, &Json(item)],
            )
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(match row {
            Some(r) => Queued::New(r.get(0)),
            None => Queued::Duplicate,
        })
    }

    async fn inbox_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE done_at IS NULL AND next_at <= $1
                     ORDER BY received_at, id LIMIT $2"
                ),
                &[&now, &limit],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(inbox_entry).collect()
    }

    async fn inbox_settle(&self, id: i64, settled: &Settled) -> Result<(), StoreError> {
        let c = self.client().await?;
        let n = match settled {
            Settled::Done { run_id, at } => c
                .execute(
                    "UPDATE webhook_inbox SET attempts = attempts + 1, done_at = $2, run_id = $3, last_error = NULL
                     WHERE id = $1",
                    &[&id, at, run_id],
                )
                .await
                .map_err(backend)?,
            Settled::Retry { at, error } => c
                .execute(
                    "UPDATE webhook_inbox SET attempts = attempts + 1, next_at = $2, last_error = $3 WHERE id = $1",
                    &[&id, at, error],
                )
                .await
                .map_err(backend)?,
            _ => return Err(StoreError::Corrupt("unknown inbox settlement".into())),
        };
        if n == 0 {
            return Err(StoreError::Corrupt(format!("no inbox entry {id}")));
        }
        Ok(())
    }

    async fn inbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT MIN(next_at) FROM webhook_inbox WHERE done_at IS NULL", &[])
            .await
            .map_err(backend)?;
        row.try_get(0).map_err(|e| corrupt("inbox", e))
    }

    async fn inbox_entries(&self, scope: &Scope) -> Result<Vec<InboxEntry>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE connector = $1 AND account = $2
                     ORDER BY received_at, id"
                ),
                &[&scope.connector.as_str(), &scope.account.as_str()],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(inbox_entry).collect()
    }
}
