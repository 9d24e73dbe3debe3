//! An in-memory [`SyncStore`]: for tests, the conformance kit and one-shot tools.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::audit::AuditRecord;
use super::store::{AuditLog, Commit, Scope, StoreError, SyncState, SyncStore};

#[derive(Debug, Default)]
struct Inner {
    states: HashMap<Scope, SyncState>,
    audit: Vec<AuditRecord>,
    events: HashMap<String, DateTime<Utc>>,
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

    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let state = inner.states.entry(scope.clone()).or_default();
        for (id, rec) in &commit.upserts {
            state.records.insert(id.clone(), rec.clone());
        }
        if let Some(c) = commit.cursor {
            state.cursor = Some(c);
        }
        inner.audit.push(commit.audit.clone());
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
}
