//! The worker side of the durable webhook inbox: takes the entries that are due, runs what each
//! one names, and marks it done only once that run has committed. A failed run is retried on a
//! backoff schedule (or at the time a rate limit names), across restarts of the process, since
//! the schedule lives in the store.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::audit::{AuditRecord, Outcome, Trigger};
use super::engine::{Plan, Sink, SyncEngine};
use super::store::{InboxEntry, InboxItem, Scope, Settled, StoreError};
use crate::connector::Connector;
use crate::webhook::Changed;

/// How long processed deliveries are remembered, so that a vendor's re-delivery of one is
/// recognised (Beds24 and Cloudbeds retry for up to a day).
pub const KEEP_DONE: Duration = Duration::days(2);

/// When failed inbox entries are tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxBackoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait; later failures keep retrying at this interval (an entry is never
    /// dropped: it waits for the source or the configuration to be fixed).
    pub max: Duration,
}

impl Default for InboxBackoff {
    fn default() -> Self {
        Self { first: Duration::seconds(10), max: Duration::minutes(30) }
    }
}

impl InboxBackoff {
    /// A schedule starting at `first`, doubling up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max: max.max(first) }
    }

    /// The wait after `failures` failed attempts (1 for the first): `first`, doubling, capped
    /// at `max`.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let factor = 1i32.checked_shl(doublings).unwrap_or(i32::MAX);
        self.first.checked_mul(factor).map_or(self.max, |d| d.min(self.max))
    }
}

/// The plan that processes an inbox item.
pub fn plan_for(item: &InboxItem) -> Plan {
    match item {
        InboxItem::Hint(h) => match &h.changed {
            Changed::Bookings(ids) => Plan::Hint(ids.clone()),
            Changed::Rooms(_) | Changed::Availability(_) => Plan::Rooms,
        },
        // The run applies every pending delivery of its account, this one included.
        InboxItem::Push { .. } => Plan::Push,
    }
}

/// What became of one inbox entry in a pass.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Processed {
    /// The entry as it was taken.
    pub entry: InboxEntry,
    /// The run it caused, when the account is configured.
    pub run: Option<AuditRecord>,
    /// How it was settled.
    pub settled: Settled,
}

/// Processes the inbox of a store with an engine.
#[derive(Debug, Clone)]
pub struct InboxWorker {
    engine: SyncEngine,
    backoff: InboxBackoff,
    batch: usize,
}

impl InboxWorker {
    /// A worker over the engine's store.
    pub fn new(engine: SyncEngine) -> Self {
        Self { engine, backoff: InboxBackoff::default(), batch: 100 }
    }

    /// Sets the retry schedule.
    pub fn backoff(mut self, backoff: InboxBackoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// When the next pending entry is due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.engine.store().inbox_next_due().await
    }

    /// Runs every entry due at `now`, oldest first. `connector` finds the connector of an
    /// account; an entry for an account that is not configured waits (with backoff) rather
    /// than being dropped.
    pub async fn process_due(
        &self,
        now: DateTime<Utc>,
        connector: &(dyn Fn(&Scope) -> Option<Arc<dyn Connector>> + Send + Sync),
        sink: &dyn Sink,
    ) -> Result<Vec<Processed>, StoreError> {
        let due = self.engine.store().inbox_due(now, self.batch).await?;
        self.process(due, now, connector, sink).await
    }

    /// Runs the entries of one account that are due at `now`, oldest first: a runtime that
    /// serializes each account's work processes its inbox this way, under the account's lease.
    pub async fn process_due_for(
        &self,
        now: DateTime<Utc>,
        scope: &Scope,
        connector: Arc<dyn Connector>,
        sink: &dyn Sink,
    ) -> Result<Vec<Processed>, StoreError> {
        let mut due = self.engine.store().inbox_due(now, usize::MAX >> 1).await?;
        due.retain(|e| &e.scope == scope);
        due.truncate(self.batch);
        let lookup = move |s: &Scope| (s == scope).then(|| connector.clone());
        self.process(due, now, &lookup, sink).await
    }

    async fn process(
        &self,
        due: Vec<InboxEntry>,
        now: DateTime<Utc>,
        connector: &(dyn Fn(&Scope) -> Option<Arc<dyn Connector>> + Send + Sync),
        sink: &dyn Sink,
    ) -> Result<Vec<Processed>, StoreError> {
        let store = self.engine.store().clone();
        let mut out = Vec::with_capacity(due.len());
        // One successful run of a push account applies all of its pending deliveries.
        let mut drained: Vec<Scope> = Vec::new();
        for entry in due {
            if matches!(entry.item, InboxItem::Push { .. }) && drained.contains(&entry.scope) {
                continue;
            }
            let failures = entry.attempts + 1;
            let (run, settled) = match connector(&entry.scope) {
                None => {
                    let error = format!("account {} is not configured here", entry.scope.account);
                    (None, Settled::Retry { at: now + self.backoff.delay(failures), error })
                }
                Some(c) => {
                    let run = self.engine.run(c.as_ref(), plan_for(&entry.item), Trigger::Webhook, sink).await;
                    let settled = match &run.outcome {
                        // A push delivery was settled by the run that applied it (or by an earlier
                        // run of the account, which applies every pending delivery).
                        Outcome::Ok | Outcome::Partial if matches!(entry.item, InboxItem::Push { .. }) => {
                            drained.push(entry.scope.clone());
                            let applied = store
                                .inbox_entries(&entry.scope)
                                .await?
                                .iter()
                                .any(|e| e.id == entry.id && e.done_at.is_some());
                            if applied {
                                let settled = Settled::Done { run_id: run.run_id.clone(), at: now };
                                out.push(Processed { entry, settled, run: Some(run) });
                                continue;
                            }
                            // The account's connector does not apply pushed deliveries (a
                            // configuration changed under the inbox): keep the entry, and wait.
                            Settled::Retry {
                                at: now + self.backoff.max,
                                error: "this account's connector does not apply pushed deliveries".into(),
                            }
                        }
                        Outcome::Ok | Outcome::Partial => Settled::Done { run_id: run.run_id.clone(), at: now },
                        Outcome::Deferred { retry_at } => Settled::Retry {
                            at: (*retry_at).max(now + self.backoff.first),
                            error: "deferred by the source's rate limit".into(),
                        },
                        Outcome::Failed { message, .. } => {
                            Settled::Retry { at: now + self.backoff.delay(failures), error: message.clone() }
                        }
                    };
                    (Some(run), settled)
                }
            };
            store.inbox_settle(entry.id, &settled).await?;
            tracing::debug!(entry = entry.id, ?settled, "inbox entry settled");
            out.push(Processed { entry, run, settled });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = InboxBackoff::default();
        let secs: Vec<i64> = (1..=10).map(|n| b.delay(n).num_seconds()).collect();
        assert_eq!(secs, [10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800]);
        assert_eq!(b.delay(u32::MAX), b.max);
    }
}
