//! An in-memory [`SyncStore`]: for tests, the conformance kit and one-shot tools.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::audit::AuditRecord;
use super::jobs::{JobRecord, JobStore, LeaseGrant};
use super::mapping_store::{MappingStore, review_for_run};
use super::store::{
    AuditLog, Commit, Inbox, InboxEntry, InboxItem, Queued, Scope, Settled, StoreError, SyncState, SyncStore,
};
use crate::mapping::{MappingEntry, MappingReview, RoomMapping, SourceRoom};
use crate::model::{SourceId, SourceKey};
use crate::tasks::{TaskDelivery, TaskEvent, TaskStore, TurnoverTask, settle};

#[derive(Debug, Default)]
struct Inner {
    states: HashMap<Scope, SyncState>,
    audit: Vec<AuditRecord>,
    events: HashMap<String, DateTime<Utc>>,
    inbox: Vec<InboxEntry>,
    next_inbox_id: i64,
    jobs: HashMap<Scope, JobRecord>,
    leases: HashMap<Scope, Lease>,
    workers: HashMap<String, DateTime<Utc>>,
    mapping: RoomMapping,
    tasks: HashMap<String, std::collections::BTreeMap<String, TurnoverTask>>,
    task_outbox: Vec<(TaskDelivery, bool)>,
    accounts: std::collections::BTreeMap<String, super::StoredAccount>,
}

#[derive(Debug, Default)]
struct Lease {
    holder: Option<String>,
    until: DateTime<Utc>,
    quiet_until: Option<DateTime<Utc>>,
}

/// A store in memory. Commits are atomic under one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Saves a connector's state outside a run (tests that start from a given state, the kit).
    pub fn set_connector_state(&self, scope: &Scope, value: serde_json::Value) {
        let mut inner = self.lock();
        let state = inner.states.entry(scope.clone()).or_default();
        state.connector_state = Some(value);
        state.state_version += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.lock().audit.push(record.clone());
        Ok(())
    }

    async fn recent(&self, scope: &Scope, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .audit
            .iter()
            .rev()
            .filter(|r| r.connector == scope.connector && r.account == scope.account)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        let inner = self.lock();
        let mut scopes: Vec<Scope> =
            inner.audit.iter().map(|r| Scope::new(r.connector.clone(), r.account.clone())).collect();
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }
}

#[async_trait]
impl SyncStore for MemoryStore {
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError> {
        Ok(self.lock().states.get(scope).cloned().unwrap_or_default())
    }

    async fn load_some(&self, scope: &Scope, ids: &[&SourceId]) -> Result<SyncState, StoreError> {
        let inner = self.lock();
        let Some(state) = inner.states.get(scope) else { return Ok(SyncState::default()) };
        let records = ids.iter().filter_map(|id| Some(((*id).clone(), state.records.get(*id)?.clone()))).collect();
        Ok(SyncState {
            cursor: state.cursor,
            records,
            connector_state: state.connector_state.clone(),
            state_version: state.state_version,
            paging_checkpoint: None,
        })
    }

    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let state = inner.states.entry(scope.clone()).or_default();
        if let Some(update) = &commit.connector_state {
            if update.expected_version != state.state_version {
                return Err(StoreError::Conflict { expected: update.expected_version, found: state.state_version });
            }
            state.connector_state = Some(update.value.clone());
            state.state_version += 1;
        }
        for (id, rec) in &commit.upserts {
            state.records.insert(id.clone(), rec.clone());
        }
        if let Some(c) = commit.cursor {
            state.cursor = Some(c);
        }
        state.paging_checkpoint = None;
        inner.audit.push(commit.audit.clone());
        Ok(())
    }

    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError> {
        self.lock().states.entry(scope.clone()).or_default().paging_checkpoint = Some(checkpoint.to_owned());
        Ok(())
    }

    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        inner.events.retain(|_, at| now - *at < ttl);
        if inner.events.contains_key(key) {
            return Ok(false);
        }
        inner.events.insert(key.to_owned(), now);
        Ok(true)
    }

    async fn mapping_review(&self, _scope: &Scope, seen: &[SourceRoom]) -> Result<Option<MappingReview>, StoreError> {
        // This store keeps no room lists: only the rooms the run's bookings name are judged.
        Ok(review_for_run(&self.lock().mapping, None, seen))
    }
}

#[async_trait]
impl MappingStore for MemoryStore {
    async fn room_mapping(&self) -> Result<RoomMapping, StoreError> {
        Ok(self.lock().mapping.clone())
    }

    async fn put_room_mapping(&self, pairs: &[(SourceKey, MappingEntry)]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (k, e) in pairs {
            inner.mapping.entries.insert(k.clone(), e.clone());
        }
        Ok(())
    }

    async fn remove_room_mapping(&self, keys: &[SourceKey]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for k in keys {
            inner.mapping.entries.remove(k);
        }
        Ok(())
    }
}

#[async_trait]
impl super::AccountConfigStore for MemoryStore {
    async fn stored_accounts(&self) -> Result<Vec<super::StoredAccount>, StoreError> {
        Ok(self.lock().accounts.values().cloned().collect())
    }

    async fn put_stored_account(&self, account: &super::StoredAccount) -> Result<(), StoreError> {
        self.lock().accounts.insert(account.account.clone(), account.clone());
        Ok(())
    }
}

#[async_trait]
impl TaskStore for MemoryStore {
    async fn kept_tasks(&self, property: &str) -> Result<std::collections::BTreeMap<String, TurnoverTask>, StoreError> {
        Ok(self.lock().tasks.get(property).cloned().unwrap_or_default())
    }

    async fn record_task_events(
        &self,
        property: &str,
        events: &[TaskEvent],
        at: DateTime<Utc>,
    ) -> Result<Vec<TaskDelivery>, StoreError> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        for e in events {
            let id = e.task().id.clone();
            let kept = inner.tasks.entry(property.to_owned()).or_default();
            let Some(settled) = settle(kept.get(&id), e) else { continue };
            match &settled {
                TaskEvent::Withdrawn { .. } => kept.remove(&id),
                other => kept.insert(id, other.task().clone()),
            };
            let delivery = TaskDelivery {
                id: inner.task_outbox.len() as i64 + 1,
                property: property.to_owned(),
                event: settled,
                recorded_at: at,
            };
            inner.task_outbox.push((delivery.clone(), false));
            out.push(delivery);
        }
        Ok(out)
    }

    async fn pending_task_events(&self, limit: usize) -> Result<Vec<TaskDelivery>, StoreError> {
        Ok(self.lock().task_outbox.iter().filter(|(_, done)| !done).take(limit).map(|(d, _)| d.clone()).collect())
    }

    async fn acknowledge_task_events(&self, ids: &[i64], _at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for (d, done) in &mut inner.task_outbox {
            if ids.contains(&d.id) {
                *done = true;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Inbox for MemoryStore {
    async fn inbox_put(
        &self,
        scope: &Scope,
        dedupe_key: &str,
        item: &InboxItem,
        now: DateTime<Utc>,
        keep_done: chrono::Duration,
    ) -> Result<Queued, StoreError> {
        let mut inner = self.lock();
        inner.inbox.retain(|e| e.done_at.is_none_or(|d| now - d < keep_done));
        if inner.inbox.iter().any(|e| &e.scope == scope && e.dedupe_key == dedupe_key) {
            return Ok(Queued::Duplicate);
        }
        inner.next_inbox_id += 1;
        let id = inner.next_inbox_id;
        inner.inbox.push(InboxEntry {
            id,
            scope: scope.clone(),
            dedupe_key: dedupe_key.to_owned(),
            received_at: now,
            item: item.clone(),
            attempts: 0,
            next_at: now,
            last_error: None,
            done_at: None,
            run_id: None,
        });
        Ok(Queued::New(id))
    }

    async fn inbox_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let inner = self.lock();
        let mut due: Vec<InboxEntry> =
            inner.inbox.iter().filter(|e| e.done_at.is_none() && e.next_at <= now).cloned().collect();
        due.sort_by_key(|e| (e.received_at, e.id));
        due.truncate(limit);
        Ok(due)
    }

    async fn inbox_settle(&self, id: i64, settled: &Settled) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let Some(e) = inner.inbox.iter_mut().find(|e| e.id == id) else {
            return Err(StoreError::Corrupt(format!("no inbox entry {id}")));
        };
        e.attempts += 1;
        match settled {
            Settled::Done { run_id, at } => {
                e.done_at = Some(*at);
                e.run_id = Some(run_id.clone());
                e.last_error = None;
            }
            Settled::Retry { at, error } => {
                e.next_at = *at;
                e.last_error = Some(error.clone());
            }
        }
        Ok(())
    }

    async fn inbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.lock().inbox.iter().filter(|e| e.done_at.is_none()).map(|e| e.next_at).min())
    }

    async fn inbox_entries(&self, scope: &Scope) -> Result<Vec<InboxEntry>, StoreError> {
        Ok(self.lock().inbox.iter().filter(|e| &e.scope == scope).cloned().collect())
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn jobs(&self) -> Result<Vec<(Scope, JobRecord)>, StoreError> {
        let mut all: Vec<_> = self.lock().jobs.iter().map(|(s, j)| (s.clone(), j.clone())).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    async fn job(&self, scope: &Scope) -> Result<Option<JobRecord>, StoreError> {
        Ok(self.lock().jobs.get(scope).cloned())
    }

    async fn save_job(&self, scope: &Scope, job: &JobRecord) -> Result<(), StoreError> {
        self.lock().jobs.insert(scope.clone(), job.clone());
        Ok(())
    }

    async fn lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<LeaseGrant, StoreError> {
        let mut inner = self.lock();
        let lease = inner.leases.entry(scope.clone()).or_default();
        match &lease.holder {
            Some(h) if h != holder && lease.until > now => Ok(LeaseGrant::Held { by: h.clone(), until: lease.until }),
            last => {
                let quiet_until = if last.as_deref() == Some(holder) { None } else { lease.quiet_until };
                let previous_holder = lease.holder.replace(holder.to_owned());
                lease.until = now + ttl;
                Ok(LeaseGrant::Granted { until: lease.until, quiet_until, previous_holder })
            }
        }
    }

    async fn release(&self, scope: &Scope, holder: &str, quiet_until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(lease) = inner.leases.get_mut(scope)
            && lease.holder.as_deref() == Some(holder)
        {
            lease.until = DateTime::<Utc>::UNIX_EPOCH;
            lease.quiet_until = quiet_until;
        }
        Ok(())
    }

    async fn heartbeat(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let mut inner = self.lock();
        inner.workers.insert(holder.to_owned(), now + ttl);
        inner.workers.retain(|_, until| *until > now);
        let mut alive: Vec<String> = inner.workers.keys().cloned().collect();
        alive.sort();
        Ok(alive)
    }

    async fn leave(&self, holder: &str) -> Result<(), StoreError> {
        self.lock().workers.remove(holder);
        Ok(())
    }
}
