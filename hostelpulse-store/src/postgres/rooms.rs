//! The room mapping and kept turnover tasks with their outbox, on PostgreSQL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::mapping::{Basis, HostRoom, MappingEntry, RoomMapping};
use hostelpulse_core::model::{AccountId, ConnectorKind, SourceKey};
use hostelpulse_core::sync::{AccountConfigStore, MappingStore, StoreError, StoredAccount};
use hostelpulse_core::tasks::{TaskDelivery, TaskEvent, TaskStore, TurnoverTask, settle};
use tokio_postgres::types::Json;

use super::{PgStore, backend, corrupt};

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
        // One read of the kept tasks the events name, the settling in memory, then one statement
        // per kind of write: a first reconcile of a large property is a handful of round trips.
        let ids: Vec<&str> = events.iter().map(|e| e.task().id.as_str()).collect();
        let mut kept: std::collections::HashMap<String, TurnoverTask> = tx
            .query("SELECT id, record FROM turnover_task WHERE property = $1 AND id = ANY($2)", &[&property, &ids])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| {
                let c = |e| corrupt("turnover task", e);
                Ok((r.try_get::<_, String>(0).map_err(c)?, r.try_get::<_, Json<TurnoverTask>>(1).map_err(c)?.0))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut settled_events = Vec::new();
        for e in events {
            let id = e.task().id.clone();
            let Some(settled) = settle(kept.get(&id), e) else { continue };
            match &settled {
                TaskEvent::Withdrawn { .. } => kept.remove(&id),
                other => kept.insert(id.clone(), other.task().clone()),
            };
            settled_events.push((id, settled));
        }
        let (mut put_ids, mut put_records, mut gone) = (Vec::new(), Vec::new(), Vec::new());
        for (id, e) in &settled_events {
            match e {
                TaskEvent::Withdrawn { .. } => gone.push(id.as_str()),
                other => {
                    put_ids.push(id.as_str());
                    put_records.push(serde_json::to_value(other.task()).map_err(backend)?);
                }
            }
        }
        if !gone.is_empty() {
            tx.execute("DELETE FROM turnover_task WHERE property = $1 AND id = ANY($2)", &[&property, &gone])
                .await
                .map_err(backend)?;
        }
        if !put_ids.is_empty() {
            tx.execute(
                "INSERT INTO turnover_task (property, id, record) SELECT $1, u.id, u.record
                 FROM unnest($2::text[], $3::jsonb[]) AS u(id, record)
                 ON CONFLICT (property, id) DO UPDATE SET record = excluded.record",
                &[&property, &put_ids, &put_records],
            )
            .await
            .map_err(backend)?;
        }
        let bodies: Vec<serde_json::Value> =
            settled_events.iter().map(|(_, e)| serde_json::to_value(e)).collect::<Result<_, _>>().map_err(backend)?;
        let rows = tx
            .query(
                "INSERT INTO task_outbox (property, event, recorded_at)
                 SELECT $1, u.event, $3 FROM unnest($2::jsonb[]) WITH ORDINALITY AS u(event, n) ORDER BY u.n
                 RETURNING id",
                &[&property, &bodies, &at],
            )
            .await
            .map_err(backend)?;
        let mut new_ids: Vec<i64> = rows.iter().map(|r| r.get::<_, i64>(0)).collect();
        new_ids.sort_unstable();
        let mut out = Vec::with_capacity(settled_events.len());
        for ((_, settled), id) in settled_events.into_iter().zip(new_ids) {
            let mut d = TaskDelivery::new(id, property, settled);
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

#[async_trait]
impl AccountConfigStore for PgStore {
    async fn stored_accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT property, account, config, updated_at FROM stored_account ORDER BY account", &[])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let config: Option<Json<serde_json::Value>> = r.try_get(2).map_err(|e| corrupt("stored account", e))?;
                Ok(StoredAccount::new(
                    r.try_get::<_, String>(0).map_err(|e| corrupt("stored account", e))?,
                    r.try_get::<_, String>(1).map_err(|e| corrupt("stored account", e))?,
                    config.map(|j| j.0),
                    r.try_get::<_, DateTime<Utc>>(3).map_err(|e| corrupt("stored account", e))?,
                ))
            })
            .collect()
    }

    async fn put_stored_account(&self, account: &StoredAccount) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO stored_account (account, property, config, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account) DO UPDATE SET property = excluded.property, config = excluded.config,
                   updated_at = excluded.updated_at",
                &[&account.account, &account.property, &account.config.as_ref().map(Json), &account.updated_at],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }
}
