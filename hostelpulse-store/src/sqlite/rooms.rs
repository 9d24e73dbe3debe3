//! The room mapping and kept turnover tasks with their outbox, in SQLite.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::mapping::{Basis, HostRoom, MappingEntry, RoomMapping};
use hostelpulse_core::model::{AccountId, ConnectorKind, SourceKey};
use hostelpulse_core::sync::{AccountConfigStore, MappingStore, StoreError, StoredAccount};
use hostelpulse_core::tasks::{TaskDelivery, TaskEvent, TaskStore, TurnoverTask, settle};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, backend, parse_ts, ts};

fn basis_name(b: Basis) -> Option<String> {
    serde_json::to_value(b).ok().and_then(|v| v.as_str().map(str::to_owned))
}

fn corrupt(what: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

pub(super) fn load_mapping(c: &rusqlite::Connection) -> Result<RoomMapping, StoreError> {
    let mut st = c
        .prepare(
            "SELECT connector, account, source_id, host_id, host_name, source_name, confirmed, basis FROM room_mapping",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                SourceKey::new(
                    ConnectorKind::new(r.get::<_, String>(0)?),
                    AccountId::new(r.get::<_, String>(1)?),
                    r.get::<_, String>(2)?,
                ),
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })
        .map_err(backend)?;
    let mut mapping = RoomMapping::new();
    for row in rows {
        let (key, host_id, host_name, source_name, confirmed, basis) = row.map_err(backend)?;
        let basis: Option<Basis> = basis
            .map(|b| serde_json::from_value(serde_json::Value::String(b)).map_err(corrupt("mapping basis")))
            .transpose()?;
        let host = HostRoom { id: host_id, name: host_name };
        let mut entry = match basis {
            Some(b) => MappingEntry::suggested(host, source_name, b),
            None => MappingEntry::confirmed(host, source_name),
        };
        entry.confirmed = confirmed;
        mapping.entries.insert(key, entry);
    }
    Ok(mapping)
}

#[async_trait]
impl MappingStore for SqliteStore {
    async fn room_mapping(&self) -> Result<RoomMapping, StoreError> {
        self.read(|c| load_mapping(c)).await
    }

    async fn put_room_mapping(&self, pairs: &[(SourceKey, MappingEntry)]) -> Result<(), StoreError> {
        let pairs = pairs.to_vec();
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            {
                let mut st = tx
                    .prepare(
                        "INSERT INTO room_mapping (connector, account, source_id, host_id, host_name, source_name,
                           confirmed, basis) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (connector, account, source_id) DO UPDATE SET host_id = excluded.host_id,
                           host_name = excluded.host_name, source_name = excluded.source_name,
                           confirmed = excluded.confirmed, basis = excluded.basis",
                    )
                    .map_err(backend)?;
                for (k, e) in &pairs {
                    st.execute(params![
                        k.connector.as_str(),
                        k.account.as_str(),
                        k.id.as_str(),
                        e.host.id,
                        e.host.name,
                        e.source_name,
                        e.confirmed,
                        e.basis.and_then(basis_name),
                    ])
                    .map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn remove_room_mapping(&self, keys: &[SourceKey]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            {
                let mut st = tx
                    .prepare("DELETE FROM room_mapping WHERE connector = ?1 AND account = ?2 AND source_id = ?3")
                    .map_err(backend)?;
                for k in &keys {
                    st.execute(params![k.connector.as_str(), k.account.as_str(), k.id.as_str()]).map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }
}

fn delivery(r: &rusqlite::Row<'_>) -> Result<TaskDelivery, StoreError> {
    let event: String = r.get(2).map_err(backend)?;
    let recorded: String = r.get(3).map_err(backend)?;
    let mut d = TaskDelivery::new(
        r.get(0).map_err(backend)?,
        r.get::<_, String>(1).map_err(backend)?,
        serde_json::from_str(&event).map_err(corrupt("task event"))?,
    );
    d.recorded_at = parse_ts(&recorded)?;
    Ok(d)
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn kept_tasks(&self, property: &str) -> Result<BTreeMap<String, TurnoverTask>, StoreError> {
        let property = property.to_owned();
        self.read(move |c| {
            let mut st = c.prepare("SELECT id, record FROM turnover_task WHERE property = ?1").map_err(backend)?;
            let rows =
                st.query_map([&property], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(backend)?;
            rows.map(|row| {
                let (id, json) = row.map_err(backend)?;
                Ok((id, serde_json::from_str(&json).map_err(corrupt("turnover task"))?))
            })
            .collect()
        })
        .await
    }

    async fn record_task_events(
        &self,
        property: &str,
        events: &[TaskEvent],
        at: DateTime<Utc>,
    ) -> Result<Vec<TaskDelivery>, StoreError> {
        let (property, events) = (property.to_owned(), events.to_vec());
        self.with(move |c| {
            // IMMEDIATE: the kept task is read and written under the write lock, so two
            // processes reconciling the same property settle one after the other.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
            let mut out = Vec::new();
            for e in &events {
                let id = e.task().id.clone();
                let kept: Option<String> = tx
                    .query_row(
                        "SELECT record FROM turnover_task WHERE property = ?1 AND id = ?2",
                        params![property, id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(backend)?;
                let kept: Option<TurnoverTask> =
                    kept.map(|j| serde_json::from_str(&j).map_err(corrupt("turnover task"))).transpose()?;
                let Some(settled) = settle(kept.as_ref(), e) else { continue };
                match &settled {
                    TaskEvent::Withdrawn { .. } => {
                        tx.execute("DELETE FROM turnover_task WHERE property = ?1 AND id = ?2", params![property, id])
                            .map_err(backend)?;
                    }
                    other => {
                        let json = serde_json::to_string(other.task()).map_err(backend)?;
                        tx.execute(
                            "INSERT INTO turnover_task (property, id, record) VALUES (?1, ?2, ?3)
                             ON CONFLICT (property, id) DO UPDATE SET record = excluded.record",
                            params![property, id, json],
                        )
                        .map_err(backend)?;
                    }
                }
                let json = serde_json::to_string(&settled).map_err(backend)?;
                tx.execute(
                    "INSERT INTO task_outbox (property, event, recorded_at) VALUES (?1, ?2, ?3)",
                    params![property, json, ts(at)],
                )
                .map_err(backend)?;
                let mut d = TaskDelivery::new(tx.last_insert_rowid(), property.clone(), settled);
                d.recorded_at = at;
                out.push(d);
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
    }

    async fn pending_task_events(&self, limit: usize) -> Result<Vec<TaskDelivery>, StoreError> {
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, property, event, recorded_at FROM task_outbox WHERE delivered_at IS NULL
                     ORDER BY id LIMIT ?1",
                )
                .map_err(backend)?;
            let mut rows = st.query([limit as i64]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                out.push(delivery(r)?);
            }
            Ok(out)
        })
        .await
    }

    async fn acknowledge_task_events(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            {
                let mut st = tx
                    .prepare("UPDATE task_outbox SET delivered_at = ?2 WHERE id = ?1 AND delivered_at IS NULL")
                    .map_err(backend)?;
                for id in &ids {
                    st.execute(params![id, ts(at)]).map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl AccountConfigStore for SqliteStore {
    async fn stored_accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT property, account, config, updated_at FROM stored_account ORDER BY account")
                .map_err(backend)?;
            let mut rows = st.query([]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let (property, account, config, at): (String, String, Option<String>, String) = (
                    r.get(0).map_err(backend)?,
                    r.get(1).map_err(backend)?,
                    r.get(2).map_err(backend)?,
                    r.get(3).map_err(backend)?,
                );
                let config = config.map(|j| serde_json::from_str(&j)).transpose().map_err(corrupt("stored account"))?;
                out.push(StoredAccount::new(property, account, config, parse_ts(&at)?));
            }
            Ok(out)
        })
        .await
    }

    async fn put_stored_account(&self, account: &StoredAccount) -> Result<(), StoreError> {
        let a = account.clone();
        let config = a.config.as_ref().map(serde_json::to_string).transpose().map_err(backend)?;
        self.with(move |c| {
            c.execute(
                "INSERT INTO stored_account (account, property, config, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account) DO UPDATE SET property = excluded.property, config = excluded.config,
                   updated_at = excluded.updated_at",
                params![a.account, a.property, config, ts(a.updated_at)],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}
