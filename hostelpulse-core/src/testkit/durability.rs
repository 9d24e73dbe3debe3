//! Durability checks: what a connector and the engine keep across restarts and crashes, run
//! against one shared store the way separate processes would use it.
//!
//! Each check builds connectors with a factory (a "process" is a fresh connector and a fresh
//! engine over the same store) and compares what the store holds: nothing known before may
//! vanish, nothing may be stored twice.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{KitOptions, NewBooking, Upstream};
use crate::capability::{Incremental, Visibility};
use crate::connector::{BookingBatch, BookingQuery, Connector};
use crate::error::{BoxError, Result};
use crate::model::{AccountId, ConnectorKind, SourceId};
use crate::sync::{
    AuditRecord, Change, ChangeClass, CollectingSink, Commit, Outcome, Plan, Scope, Sink, StoreError, SyncEngine,
    SyncState, SyncStore, Trigger,
};

/// Builds a fresh connector for the account under test, as a new process would.
pub type ConnectorFactory<'a> = &'a (dyn Fn() -> Arc<dyn Connector> + Send + Sync);

fn scope_of(c: &dyn Connector) -> Scope {
    Scope::new(c.kind(), c.account().clone())
}

/// The ids the store knows and has not declared gone.
async fn live_ids(store: &dyn SyncStore, scope: &Scope) -> BTreeSet<SourceId> {
    let state = store.load(scope).await.expect("load the store");
    state.records.iter().filter(|(_, r)| !r.gone).map(|(id, _)| id.clone()).collect()
}

/// A full run by a fresh engine over `store`.
async fn full_run(store: &Arc<dyn SyncStore>, c: &dyn Connector, opts: &KitOptions) -> AuditRecord {
    let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone());
    engine.run(c, Plan::Full, Trigger::Manual, &CollectingSink::new()).await
}

/// A first "process": a fresh connector's full sync into `store`, then gone. Returns its scope.
async fn first_process(make: ConnectorFactory<'_>, store: &Arc<dyn SyncStore>, opts: &KitOptions) -> Scope {
    let first = make();
    assert_committed(&full_run(store, first.as_ref(), opts).await, "first process: full sync");
    scope_of(first.as_ref())
}

fn assert_committed(run: &AuditRecord, what: &str) {
    assert!(
        run.outcome.is_success(),
        "{what}: expected the run to commit, got {:?} (warnings: {:?})",
        run.outcome,
        run.warnings
    );
    assert_eq!(run.counts.disappeared, 0, "{what}: nothing may be declared gone: {:?}", run.counts);
}

fn new_booking(opts: &KitOptions, offset: i64, name: &str) -> NewBooking {
    let arrival = Utc::now().date_naive() + Duration::days(opts.create_at_days + offset);
    NewBooking::new(arrival, arrival + Duration::days(2)).guest(name)
}

/// Restart: sync, drop connector and engine, let a booking arrive upstream, rebuild both on the
/// same store and sync again. Everything known before is still there, the new booking is there
/// once, nothing was declared gone, and a further run changes nothing.
pub async fn restart_loses_nothing(
    make: ConnectorFactory<'_>,
    upstream: &dyn Upstream,
    store: Arc<dyn SyncStore>,
    opts: &KitOptions,
) {
    let scope = first_process(make, &store, opts).await;
    let known = live_ids(store.as_ref(), &scope).await;
    let id = upstream.create(new_booking(opts, 1, "Kit Restart")).await.expect("upstream create");

    let second = make();
    let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone());
    let sink = CollectingSink::new();
    let run = engine.run(second.as_ref(), Plan::Full, Trigger::Manual, &sink).await;
    assert_committed(&run, "second process: full sync");
    let inserted: Vec<SourceId> =
        sink.take().into_iter().filter(|c| c.class == ChangeClass::Inserted).map(|c| c.key.id).collect();
    assert!(
        inserted.iter().all(|i| *i == id),
        "after a restart only the new booking may be inserted; also inserted again: {inserted:?}"
    );
    let after = live_ids(store.as_ref(), &scope).await;
    let lost: Vec<_> = known.difference(&after).collect();
    assert!(lost.is_empty(), "bookings lost across the restart: {lost:?}");
    assert!(after.contains(&id), "the booking created between the processes is missing");
    assert_eq!(after.len(), known.len() + 1, "exactly one booking more than before the restart");

    let third = make();
    let run = full_run(&store, third.as_ref(), opts).await;
    assert_committed(&run, "third process: full sync");
    assert_eq!(run.counts.changes(), 0, "an unchanged source after a restart changes nothing: {:?}", run.counts);
}

/// A store whose next commit fails, as if the process died after the sink and before the commit.
struct CommitFailsOnce {
    inner: Arc<dyn SyncStore>,
    armed: AtomicBool,
}

crate::forward_audit_and_inbox!(CommitFailsOnce, inner);

#[async_trait]
impl SyncStore for CommitFailsOnce {
    async fn load(&self, scope: &Scope) -> std::result::Result<SyncState, StoreError> {
        self.inner.load(scope).await
    }
    async fn load_head(&self, scope: &Scope) -> std::result::Result<Option<SyncState>, StoreError> {
        self.inner.load_head(scope).await
    }
    async fn load_records(&self, scope: &Scope) -> std::result::Result<crate::sync::RecordMap, StoreError> {
        self.inner.load_records(scope).await
    }
    async fn commit(&self, scope: &Scope, commit: &Commit) -> std::result::Result<(), StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Backend("the process died before the commit (kit)".into()));
        }
        self.inner.commit(scope, commit).await
    }
    async fn remember_event(
        &self,
        key: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        self.inner.remember_event(key, now, ttl).await
    }
    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError> {
        self.inner.save_paging_checkpoint(scope, checkpoint).await
    }
}

/// A sink that fails, as if the process died after the fetch and before anything was stored.
struct DeadSink;

#[async_trait]
impl Sink for DeadSink {
    async fn apply(&self, _: &[Change]) -> std::result::Result<(), BoxError> {
        Err("the process died before the sink (kit)".into())
    }
}

/// Kill between fetch and commit, at both points: before the sink saw anything, and after the
/// sink but before the store committed. Each time the next run (a fresh connector and engine)
/// delivers the new booking again, and the store ends with it exactly once.
pub async fn crash_before_commit_loses_nothing(
    make: ConnectorFactory<'_>,
    upstream: &dyn Upstream,
    store: Arc<dyn SyncStore>,
    opts: &KitOptions,
) {
    let scope = first_process(make, &store, opts).await;
    for (n, before_sink) in [(2, true), (3, false)] {
        let known = live_ids(store.as_ref(), &scope).await;
        let id = upstream.create(new_booking(opts, n, "Kit Crash")).await.expect("upstream create");
        let dying = make();
        let run = if before_sink {
            let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone());
            engine.run(dying.as_ref(), Plan::Full, Trigger::Manual, &DeadSink).await
        } else {
            let failing: Arc<dyn SyncStore> = Arc::new(CommitFailsOnce { inner: store.clone(), armed: true.into() });
            let engine = SyncEngine::new(failing).with_config(opts.sync.clone());
            engine.run(dying.as_ref(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await
        };
        assert!(matches!(run.outcome, Outcome::Failed { .. }), "the interrupted run must fail: {:?}", run.outcome);
        drop(dying);
        let what = if before_sink { "before the sink" } else { "before the commit" };
        assert_eq!(live_ids(store.as_ref(), &scope).await, known, "a run that died {what} changed the store");

        let next = make();
        let sink = CollectingSink::new();
        let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone());
        let run = engine.run(next.as_ref(), Plan::Full, Trigger::Manual, &sink).await;
        assert_committed(&run, "the run after the crash");
        let delivered = sink.take().into_iter().filter(|c| c.key.id == id).count();
        assert_eq!(delivered, 1, "after a crash {what}, the next run must deliver the new booking once");
        let after = live_ids(store.as_ref(), &scope).await;
        assert!(known.is_subset(&after), "bookings lost after a crash {what}");
        assert_eq!(after.len(), known.len() + 1, "after a crash {what}: exactly one booking more");
    }
}

/// Hands the inner connector's records out with some of them missing: what a push or inbox
/// source looks like after state went missing, or a filter upstream.
struct Forgetful {
    inner: Arc<dyn Connector>,
}

#[async_trait]
impl Connector for Forgetful {
    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }
    fn account(&self) -> &AccountId {
        self.inner.account()
    }
    fn capabilities(&self) -> crate::Capabilities {
        self.inner.capabilities()
    }
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        let mut batch = self.inner.bookings(query).await?;
        let keep = batch.bookings.len() / 2;
        batch.bookings.truncate(keep);
        batch.failures.clear();
        Ok(batch)
    }
}

/// For push and inbox sources (deletions not visible, or push-only): a booking missing from a
/// complete read is never cancelled or declared gone, however often it is missing. Other sources
/// pass trivially (their absence rules are checked by the deletion check).
pub async fn absence_is_never_a_cancellation(make: ConnectorFactory<'_>, opts: &KitOptions) {
    let c = make();
    let sync = c.capabilities().sync;
    if !(matches!(sync.deletions, Visibility::NotVisible | Visibility::Webhook)
        || sync.incremental == Incremental::PushOnly)
    {
        return;
    }
    let store: Arc<dyn SyncStore> = Arc::new(crate::sync::MemoryStore::new());
    let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone().confirm_passes(1));
    let run = engine.run(c.as_ref(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    assert_committed(&run, "full sync");
    let known = live_ids(store.as_ref(), &scope_of(c.as_ref())).await;
    let forgetful = Forgetful { inner: c };
    for pass in 1..=3 {
        let sink = CollectingSink::new();
        let run = engine.run(&forgetful, Plan::Full, Trigger::Manual, &sink).await;
        assert_committed(&run, &format!("pass {pass} with bookings missing"));
        let cancelled: Vec<_> = sink
            .take()
            .into_iter()
            .filter(|ch| matches!(ch.class, ChangeClass::Cancelled | ChangeClass::Disappeared))
            .collect();
        assert!(cancelled.is_empty(), "a push or inbox source must never cancel by absence: {cancelled:#?}");
    }
    assert_eq!(live_ids(store.as_ref(), &scope_of(&forgetful)).await, known);
}

/// Every durability check on one shared store (pass the store the source's deliveries go to,
/// for push sources).
pub async fn run_durability(
    make: ConnectorFactory<'_>,
    upstream: &dyn Upstream,
    store: Arc<dyn SyncStore>,
    opts: &KitOptions,
) {
    restart_loses_nothing(make, upstream, store.clone(), opts).await;
    crash_before_commit_loses_nothing(make, upstream, store, opts).await;
    absence_is_never_a_cancellation(make, opts).await;
}
