//! The room mapping and kept turnover tasks with their outbox, on PostgreSQL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::mapping::{self, Basis, HostRoom, MappingEntry, MappingReview, RoomMapping, SourceRoom};
use hostelpulse_core::model::{AccountId, ConnectorKind, SourceKey};
use hostelpulse_core::sync::{MappingStore, Scope, StoreError, review_for_run};
use hostelpulse_core::tasks::{TaskDelivery, TaskEvent, TaskStore, TurnoverTask, settle};
use tokio_postgres::types::Json;

use super::{PgStore, backend, corrupt};
use crate::BookingStore;

fn basis_name(b: Basis) -> Option<String> {
    serde_json::to_value(b).ok().and_then(|v| v.as_str().map(str::to_owned))
}

fn entry(r: &tokio_postgres::Row) -> Result<(SourceKey, MappingEntry), StoreError> {
    let get = |i: usize| r.try_get::<_, String>(i).map_err(|e| corrupt("room mapping", e));
    let key = SourceKey::new(ConnectorKind::new(get(0)?), AccountId::new(get(1)?), get(2)?);
    let host = HostRoom { id: get(3)?, name: get(4)? };
    let confirmed: bool = r.try_get(6).map_err(|e| corrupt("room mapping", e))?;
    let basis: Option<String> = r.try_get(7).map_err(|e| corrupt("room mapping", e))?;
    let basis: Option<Basis> = basis
        .map(|b| serde_json::from_value(serde_json::Value::String(b)).map_err(|e| corrupt("mapping basis", e)))
        .transpose()?;
    let mut e = match basis {
        Some(b) => MappingEntry::suggested(host, get(5)?, b),
        None => MappingEntry::confirmed(host, get(5)?),
    };
    e.confirmed = confirmed;
    Ok((key, e))
}

impl PgStore {
    /// The review of one account's mapping against its stored rooms and a run's rooms.
    pub(super) async fn review_mapping(
        &self,
        scope: &Scope,
        seen: &[SourceRoom],
    ) -> Result<Option<MappingReview>, StoreError> {
        let mapping = self.room_mapping().await?;
        if mapping.is_empty() {
            return Ok(None);
        }
        let known = self
            .properties()
            .await?
            .into_iter()
            .find(|(s, _)| s == scope)
            .map(|(_, props)| mapping::source_rooms(&props));
        Ok(review_for_run(&mapping, known, seen))
    }
}

#[async_trait]
impl MappingStore for PgStore {
    async fn room_mapping(&self) -> Result<RoomMapping, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT connector, account, source_id, host_id, host_name, source_name, confirmed, basis
                 FROM room_mapping",
                &[],
            )
            .await
            .map_err(backend)?;
        let mut mapping = RoomMapping::new();
        for r in &rows {
            let (k, e) = entry(r)?;
            mapping.entries.insert(k, e);
        }
        Ok(mapping)
    }

    async fn put_room_mapping(&self, pairs: &[(SourceKey, MappingEntry)]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let st = tx
            .prepare(
                "INSERT INTO room_mapping (connector, account, source_id, host_id, host_name, source_name, confirmed,
                   basis) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (connector, account, source_id) DO UPDATE SET host_id = excluded.host_id,
                   host_name = excluded.host_name, source_name = excluded.source_name,
                   confirmed = excluded.confirmed, basis = excluded.basis",
            )
            .await
            .map_err(backend)?;
        for (k, e) in pairs {
            let basis = e.basis.and_then(basis_name);
            tx.execute(
                &st,
                &[
                    &k.connector.as_str(),
                    &k.account.as_str(),
                    &k.id.as_str(),
                    &e.host.id,
                    &e.host.name,
                    &e.source_name,
                    &e.confirmed,
                    &basis,
                ],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn remove_room_mapping(&self, keys: &[SourceKey]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        for k in keys {
            tx.execute(
                "DELETE FROM room_mapping WHERE connector = $1 AND account = $2 AND source_id = $3",
                &[&k.connector.as_str(), &k.account.as_str(), &k.id.as_str()],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}

fn delivery(r: &tokio_postgres::Row) -> Result<TaskDelivery, StoreError> {
    let c = |e| corrupt("task event", e);
    let event = r.try_get::<_, Json<TaskEvent>>(2).map_err(c)?.0;
    let mut d = TaskDelivery::new(r.try_get(0).map_err(c)?, r.try_get::<_, String>(1).map_err(c)?, event);
    d.recorded_at = r.try_get(3).map_err(c)?;
    Ok(d)
}

#[async_trait]
impl TaskStore for PgStore {
    async fn kept_tasks(&self, property: &str) -> Result<BTreeMap<String, TurnoverTask>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT id, record FROM turnover_task WHERE property = $1", &[&property])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let c = |e| corrupt("turnover task", e);
                Ok((r.try_get::<_, String>(0).map_err(c)?, r.try_get::<_, Json<TurnoverTask>>(1).map_err(c)?.0))
            })
            .collect()
    }

    async fn record_task_events(
        &self,
        property: &str,
        events: &[TaskEvent],
        at: DateTime<Utc>,
    ) -> Result<Vec<TaskDelivery>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        // One property's events settle one transaction at a time across every worker: a task
        // two workers both plan is created once.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('turnover_task:' || $1))", &[&property])
            .await
            .map_err(backend)?;
        let mut out = Vec::new();
        for e in events {
            let id = e.task().id.as_str();
            let kept = tx
                .query_opt("SELECT record FROM turnover_task WHERE property = $1 AND id = $2", &[&property, &id])
                .await
                .map_err(backend)?
                .map(|r| r.try_get::<_, Json<TurnoverTask>>(0).map(|j| j.0).map_err(|e| corrupt("turnover task", e)))
                .transpose()?;
            let Some(settled) = settle(kept.as_ref(), e) else { continue };
            match &settled {
                TaskEvent::Withdrawn { .. } => {
                    tx.execute("DELETE FROM turnover_task WHERE property = $1 AND id = $2", &[&property, &id])
                        .await
                        .map_err(backend)?;
                }
                other => {
                    tx.execute(
                        "INSERT INTO turnover_task (property, id, record) VALUES ($1, $2, $3)
                         ON CONFLICT (property, id) DO UPDATE SET record = excluded.record",
                        &[&property, &id, &Json(other.task())],
                    )
                    .await
                    .map_err(backend)?;
                }
            }
            let row = tx
                .query_one(
                    "INSERT INTO task_outbox (property, event, recorded_at) VALUES ($1, $2, $3) RETURNING id",
                    &[&property, &Json(&settled), &at],
                )
                .await
                .map_err(backend)?;
            let mut d = TaskDelivery::new(row.get::<_, i64>(0), property, settled);
            d.recorded_at = at;
            out.push(d);
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn pending_task_events(&self, limit: usize) -> Result<Vec<TaskDelivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, property, event, recorded_at FROM task_outbox WHERE delivered_at IS NULL
                 ORDER BY id LIMIT $1",
                &[&limit],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(delivery).collect()
    }

    async fn acknowledge_task_events(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "UPDATE task_outbox SET delivered_at = $2 WHERE id = ANY($1) AND delivered_at IS NULL",
                &[&ids, &at],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }
}
