//! What a long-running runtime keeps per account between processes: when each plan is next
//! due, the retry queue, alert state, and a lease so that only one process at a time works an
//! account (its rate limit then holds across processes).
//!
//! Stores implement [`JobStore`] next to [`SyncStore`]; the runtime (`hostelpulse-runtime`)
//! drives it. Keeping these times in the store, not in the process, is what makes a schedule
//! survive restarts and a deferred run actually happen at its `retry_at`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::{AuditRecord, PlanKind};
use super::store::{Scope, StoreError, SyncStore};

/// An account's schedule and retry state, as the runtime last saved it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobRecord {
    /// When the runtime first managed the account (lag and silence count from here until the
    /// first success or webhook).
    #[serde(default)]
    pub managed_since: Option<DateTime<Utc>>,
    /// When the next full sync is due (`None`: as soon as possible).
    #[serde(default)]
    pub next_full_at: Option<DateTime<Utc>>,
    /// When the next poll is due (`None`: the source is not polled, or as soon as possible for a
    /// new account — the runtime decides from the schedule).
    #[serde(default)]
    pub next_poll_at: Option<DateTime<Utc>>,
    /// A queued retry: the plan to run again and when.
    #[serde(default)]
    pub retry: Option<QueuedRetry>,
    /// Failed or deferred runs since the last success (drives the backoff).
    #[serde(default)]
    pub failures: u32,
    /// Set when the source rejected the credentials: no run is tried until they change.
    #[serde(default)]
    pub blocked: Option<Blocked>,
    /// Alert state by rule name.
    #[serde(default)]
    pub alerts: BTreeMap<String, AlertState>,
}

/// A run waiting in the retry queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedRetry {
    /// The plan to run again.
    pub plan: PlanKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Why the last attempt did not succeed.
    pub reason: String,
}

impl QueuedRetry {
    /// A retry of `plan` at `at`.
    pub fn new(plan: PlanKind, at: DateTime<Utc>, reason: impl Into<String>) -> Self {
        Self { plan, at, reason: reason.into() }
    }
}

/// Why an account is not being synced until something changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Blocked {
    /// Since when.
    pub since: DateTime<Utc>,
    /// A fingerprint of the credentials that were rejected (never the credentials): new ones
    /// lift the block.
    pub credentials: Option<String>,
    /// What the source said.
    pub reason: String,
}

impl Blocked {
    /// A block.
    pub fn new(since: DateTime<Utc>, credentials: Option<String>, reason: impl Into<String>) -> Self {
        Self { since, credentials, reason: reason.into() }
    }
}

/// One alert rule's state for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlertState {
    /// When the condition was first seen.
    pub since: DateTime<Utc>,
    /// When the alert was last delivered (firing or repeated).
    pub last_sent: DateTime<Utc>,
    /// Deliveries so far.
    pub sent: u32,
    /// The latest description of the condition.
    pub detail: String,
}

impl AlertState {
    /// A state that fired at `at`.
    pub fn fired(at: DateTime<Utc>, detail: impl Into<String>) -> Self {
        Self { since: at, last_sent: at, sent: 1, detail: detail.into() }
    }
}

/// The result of asking for an account's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseGrant {
    /// Held by the asker until `until`. `quiet_until`: the previous holder, another process,
    /// asked that no request be sent to the source before then (its rate window has not passed).
    Granted {
        /// The lease's expiry (renew before).
        until: DateTime<Utc>,
        /// Do not send before this time.
        quiet_until: Option<DateTime<Utc>>,
        /// Who held the lease last (`None`: nobody yet). When it is the asker, nobody else
        /// worked the account since: what it remembers of the account is current.
        previous_holder: Option<String>,
    },
    /// Another holder has it.
    Held {
        /// Who.
        by: String,
        /// Until when, unless renewed.
        until: DateTime<Utc>,
    },
}

/// One account's facts as the runtime reads them when it starts ([`JobStore::startup_facts`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StartupFacts {
    /// Its latest runs, newest first.
    pub recent: Vec<AuditRecord>,
    /// When its last webhook arrived, if one did.
    pub last_webhook: Option<DateTime<Utc>>,
}

impl StartupFacts {
    /// Facts from their parts (for stores that read them their own way).
    pub fn new(recent: Vec<AuditRecord>, last_webhook: Option<DateTime<Utc>>) -> Self {
        Self { recent, last_webhook }
    }
}

/// Per-account schedule, retry queue, alert state and leases.
#[async_trait]
pub trait JobStore: SyncStore {
    /// Every saved job record.
    async fn jobs(&self) -> Result<Vec<(Scope, JobRecord)>, StoreError>;
    /// One account's job record.
    async fn job(&self, scope: &Scope) -> Result<Option<JobRecord>, StoreError>;
    /// Saves an account's job record.
    async fn save_job(&self, scope: &Scope, job: &JobRecord) -> Result<(), StoreError>;
    /// Saves several accounts' job records, in one transaction where the store can (a fleet's
    /// schedules when the runtime starts).
    async fn save_jobs(&self, jobs: &[(Scope, JobRecord)]) -> Result<(), StoreError> {
        for (scope, job) in jobs {
            self.save_job(scope, job).await?;
        }
        Ok(())
    }
    /// What the runtime reads of each account when it starts, in the order of `scopes`: its
    /// latest runs (at most `limit`, newest first) and when its last webhook arrived. One read
    /// for them all where the store can: a fleet of thousands is read in milliseconds instead of
    /// a round trip per account and question.
    async fn startup_facts(&self, scopes: &[Scope], limit: usize) -> Result<Vec<StartupFacts>, StoreError> {
        let mut out = Vec::with_capacity(scopes.len());
        for scope in scopes {
            let recent = self.recent(scope, limit).await?;
            let last_webhook = self.inbox_entries(scope).await?.iter().map(|e| e.received_at).max();
            out.push(StartupFacts { recent, last_webhook });
        }
        Ok(out)
    }
    /// Takes or renews the account's lease for `holder` until `now + ttl`, unless another
    /// holder's lease has not expired.
    async fn lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<LeaseGrant, StoreError>;
    /// Gives the lease back (only `holder`'s), asking the next holder — when it is another
    /// process — to send nothing before `quiet_until`.
    async fn release(&self, scope: &Scope, holder: &str, quiet_until: Option<DateTime<Utc>>) -> Result<(), StoreError>;
    /// Says that worker `holder` is alive until `now + ttl`, forgets workers whose time has
    /// passed, and returns the workers alive at `now` (`holder` included), sorted. Workers
    /// sharing a store split the accounts between the ones alive (see the runtime's
    /// `Ownership`). The default, for stores one process uses, knows only `holder`.
    async fn heartbeat(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let _ = (now, ttl);
        Ok(vec![holder.to_owned()])
    }
    /// Worker `holder` stops: the others take its accounts at their next heartbeat instead of
    /// waiting for its time to pass.
    async fn leave(&self, holder: &str) -> Result<(), StoreError> {
        let _ = holder;
        Ok(())
    }
    /// Saves the account's job record and gives the lease back, in one transaction where the
    /// store can (a run's last two writes).
    async fn save_job_and_release(
        &self,
        scope: &Scope,
        job: &JobRecord,
        holder: &str,
        quiet_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.save_job(scope, job).await?;
        self.release(scope, holder, quiet_until).await
    }
}
