//! The conformance checks.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};

use super::{Modification, NewBooking, Upstream};
use crate::capability::{Operation, Visibility};
use crate::connector::{BookingIds, BookingQuery, Connector, DateRange, StayStatus};
use crate::model::{BookingStatus, Condition, Fingerprint, Fingerprinted, SourceId};
use crate::sync::{
    AuditRecord, ChangeClass, CollectingSink, MemoryStore, Outcome, Plan, SyncConfig, SyncEngine, SyncStore, Trigger,
};

/// Settings for the kit.
#[derive(Clone)]
#[non_exhaustive]
pub struct KitOptions {
    /// Engine settings (window, lookback).
    pub sync: SyncConfig,
    /// Days from today where the kit creates its own bookings (keep inside the window).
    pub create_at_days: i64,
    /// The store every check uses. Needed for push sources, whose deliveries wait in that store's
    /// inbox; without it each check gets a fresh in-memory store.
    pub store: Option<Arc<dyn SyncStore>>,
}

impl std::fmt::Debug for KitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KitOptions")
            .field("sync", &self.sync)
            .field("create_at_days", &self.create_at_days)
            .field("shared_store", &self.store.is_some())
            .finish()
    }
}

impl Default for KitOptions {
    fn default() -> Self {
        Self { sync: SyncConfig::default(), create_at_days: 20, store: None }
    }
}

impl KitOptions {
    /// Sets the engine settings.
    pub fn sync(mut self, sync: SyncConfig) -> Self {
        self.sync = sync;
        self
    }

    /// Runs every check on this store (push sources: the store their deliveries are queued in).
    pub fn store(mut self, store: Arc<dyn SyncStore>) -> Self {
        self.store = Some(store);
        self
    }
}

/// An engine over a fresh store. A connector that keeps state gets its current state saved there
/// first: the engine restores a stateful connector from the store before every run.
async fn engine_for(connector: &dyn Connector, opts: &KitOptions) -> SyncEngine {
    if let Some(shared) = &opts.store {
        return SyncEngine::new(shared.clone()).with_config(opts.sync.clone());
    }
    let store = Arc::new(MemoryStore::new());
    if connector.keeps_state()
        && let Some(v) = connector.save_state().await.expect("the connector's state")
    {
        store.set_connector_state(&crate::sync::Scope::new(connector.kind(), connector.account().clone()), v);
    }
    SyncEngine::new(store).with_config(opts.sync.clone())
}

fn assert_ok(run: &AuditRecord, what: &str) {
    assert!(
        matches!(run.outcome, Outcome::Ok),
        "{what}: expected the run to succeed, got {:?} (warnings: {:?}, failures: {:?})",
        run.outcome,
        run.warnings,
        run.failures
    );
}

async fn snapshot(connector: &dyn Connector, window: DateRange) -> BTreeMap<SourceId, Fingerprint> {
    let batch = connector.bookings(&BookingQuery::stay_window(window)).await.expect("full fetch");
    assert!(batch.complete, "a stay-window fetch must read every page");
    batch.bookings.iter().map(|b| (b.key.id.clone(), b.fingerprint())).collect()
}

/// Creates a fresh booking upstream and makes the engine know it (full sync). Returns its id.
async fn known_booking(
    connector: &dyn Connector,
    upstream: &dyn Upstream,
    engine: &SyncEngine,
    opts: &KitOptions,
    name: &str,
) -> SourceId {
    let arrival = Utc::now().date_naive() + Duration::days(opts.create_at_days);
    let id = upstream
        .create(NewBooking::new(arrival, arrival + Duration::days(2)).guest(name))
        .await
        .expect("upstream create");
    let run = engine.run(connector, Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    assert_ok(&run, "full sync after creating a booking upstream");
    id
}

/// Two full syncs of unchanged data give identical results; the second reports everything unchanged.
pub async fn full_sync_is_idempotent(connector: &dyn Connector, opts: &KitOptions) {
    let engine = engine_for(connector, opts).await;
    let window = engine.full_window();
    let scope = crate::sync::Scope::new(connector.kind(), connector.account().clone());
    let fresh = engine.store().load(&scope).await.expect("load").records.is_empty();
    let first_sink = CollectingSink::new();
    let first = engine.run(connector, Plan::Full, Trigger::ScheduledFull, &first_sink).await;
    assert_ok(&first, "first full sync");
    // Read after the run: a source that keeps state (an inbox, pushed deliveries) holds what
    // the run applied.
    let before = snapshot(connector, window).await;
    if fresh {
        assert_eq!(
            first.counts.inserted as usize,
            before.len(),
            "first full sync must insert every booking in the window"
        );
    }
    let second_sink = CollectingSink::new();
    let second = engine.run(connector, Plan::Full, Trigger::ScheduledFull, &second_sink).await;
    assert_ok(&second, "second full sync");
    assert_eq!(
        second.counts.changes(),
        0,
        "second full sync of unchanged data must report no change: {:?}",
        second.counts
    );
    if fresh {
        assert_eq!(second.counts.unchanged, first.counts.inserted, "every record must be unchanged the second time");
    }
    assert!(second_sink.take().is_empty(), "the sink must receive nothing on an unchanged re-run");
    assert_eq!(snapshot(connector, window).await, before, "two fetches of unchanged data must be identical");
}

/// After one upstream modification an incremental sync reports exactly that change.
pub async fn incremental_reports_exactly_the_change(
    connector: &dyn Connector,
    upstream: &dyn Upstream,
    opts: &KitOptions,
) {
    if !connector.capabilities().supports(Operation::ReadBookingsModified) {
        return;
    }
    let engine = engine_for(connector, opts).await;
    let id = known_booking(connector, upstream, &engine, opts, "Kit Modify").await;
    upstream.modify(&id, Modification::ExtendStay).await.expect("upstream modify");
    let sink = CollectingSink::new();
    let run = engine.run(connector, Plan::Incremental, Trigger::Poll, &sink).await;
    assert_ok(&run, "incremental sync after a modification");
    let changes = sink.take();
    assert_eq!(changes.len(), 1, "exactly one change expected, got {changes:#?}");
    assert_eq!(changes[0].key.id, id);
    assert_eq!(changes[0].class, ChangeClass::Updated);
    let b = changes[0].booking.as_ref().expect("updated booking");
    assert_eq!(b.nights(), 3, "the extended stay must be visible");
}

/// An upstream cancellation becomes `cancelled` (by incremental sync where offered, else full).
pub async fn cancellation_becomes_cancelled(connector: &dyn Connector, upstream: &dyn Upstream, opts: &KitOptions) {
    let engine = engine_for(connector, opts).await;
    let id = known_booking(connector, upstream, &engine, opts, "Kit Cancel").await;
    upstream.cancel(&id).await.expect("upstream cancel");
    let caps = connector.capabilities();
    let plan = if caps.supports(Operation::ReadBookingsModified) { Plan::Incremental } else { Plan::Full };
    let sink = CollectingSink::new();
    let mut run = engine.run(connector, plan.clone(), Trigger::Poll, &sink).await;
    let mut changes = sink.take();
    // Sources where a cancellation is only an absence need the second complete pass.
    if changes.is_empty() && caps.sync.cancellations == Visibility::SnapshotDiff {
        run = engine.run(connector, Plan::Full, Trigger::Poll, &sink).await;
        changes = sink.take();
    }
    assert_ok(&run, "sync after a cancellation");
    let change = changes
        .iter()
        .find(|c| c.key.id == id)
        .unwrap_or_else(|| panic!("no change for the cancelled booking: {changes:#?}"));
    match change.class {
        ChangeClass::Cancelled => {
            assert_eq!(change.booking.as_ref().map(|b| b.status), Some(BookingStatus::Cancelled));
        }
        ChangeClass::Disappeared => assert_eq!(caps.sync.cancellations, Visibility::SnapshotDiff),
        other => panic!("a cancellation must become cancelled, got {other:?}"),
    }
}

/// A deleted booking is declared gone only after two consecutive complete full fetches.
pub async fn deletion_is_detected_after_two_passes(
    connector: &dyn Connector,
    upstream: &dyn Upstream,
    opts: &KitOptions,
) {
    if connector.capabilities().sync.deletions == Visibility::NotVisible {
        return;
    }
    let engine = engine_for(connector, opts).await;
    let id = known_booking(connector, upstream, &engine, opts, "Kit Delete").await;
    upstream.delete(&id).await.expect("upstream delete");
    let first = engine.run(connector, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
    assert_ok(&first, "first full sync after a deletion");
    assert_eq!(first.counts.disappeared, 0, "one missing pass must not declare a booking gone");
    let sink = CollectingSink::new();
    let second = engine.run(connector, Plan::Full, Trigger::ScheduledFull, &sink).await;
    assert_ok(&second, "second full sync after a deletion");
    let changes = sink.take();
    assert_eq!(changes.len(), 1, "exactly the deleted booking must disappear: {changes:#?}");
    assert_eq!((changes[0].class, &changes[0].key.id), (ChangeClass::Disappeared, &id));
}

/// An incremental read from a cursor in the future returns nothing.
pub async fn future_cursor_returns_nothing(connector: &dyn Connector) {
    if !connector.capabilities().supports(Operation::ReadBookingsModified) {
        return;
    }
    let batch = connector
        .bookings(&BookingQuery::modified_since(Utc::now() + Duration::days(1)))
        .await
        .expect("incremental fetch");
    assert!(batch.bookings.is_empty(), "a future cursor returned {} bookings", batch.bookings.len());
}

/// Resuming from any saved cursor loses nothing: every change made after a cursor was saved is
/// returned by an incremental read from that cursor.
pub async fn resume_from_any_cursor_loses_nothing(
    connector: &dyn Connector,
    upstream: &dyn Upstream,
    opts: &KitOptions,
) {
    if !connector.capabilities().supports(Operation::ReadBookingsModified) {
        return;
    }
    let engine = engine_for(connector, opts).await;
    let mut cursors = Vec::new();
    let mut ids = Vec::new();
    let first = engine.run(connector, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
    assert_ok(&first, "initial full sync");
    cursors.push(first.cursor_after.expect("a full sync saves a cursor"));
    for n in 0..3 {
        let arrival = Utc::now().date_naive() + Duration::days(opts.create_at_days + n);
        ids.push(
            upstream
                .create(NewBooking::new(arrival, arrival + Duration::days(1)).guest(format!("Kit Resume {n}")))
                .await
                .expect("create"),
        );
        let run = engine.run(connector, Plan::Incremental, Trigger::Poll, &CollectingSink::new()).await;
        assert_ok(&run, "incremental sync");
        cursors.push(run.cursor_after.expect("an incremental sync saves a cursor"));
    }
    for (i, cursor) in cursors.iter().enumerate().take(3) {
        let batch = connector
            .bookings(&BookingQuery::modified_since(*cursor - opts.sync.lookback))
            .await
            .expect("resume fetch");
        let got: Vec<_> = batch.bookings.iter().map(|b| &b.key.id).collect();
        for id in &ids[i..] {
            assert!(got.contains(&id), "resuming from cursor #{i} ({cursor}) lost booking {id}");
        }
    }
}

/// Every operation declared unsupported returns `Unsupported`.
pub async fn unsupported_operations_say_so(connector: &dyn Connector) {
    let caps = connector.capabilities();
    let window = DateRange { start: Utc::now().date_naive(), end: Utc::now().date_naive() + Duration::days(7) };
    let some = SourceId::new("kit-nonexistent");
    for op in Operation::ALL {
        if caps.supports(op) {
            continue;
        }
        let result = match op {
            Operation::ReadRooms => connector.rooms().await.map(drop),
            Operation::ReadBookings => connector.bookings(&BookingQuery::stay_window(window)).await.map(drop),
            Operation::ReadBookingsModified => {
                connector.bookings(&BookingQuery::modified_since(Utc::now())).await.map(drop)
            }
            Operation::ReadBookingsById => {
                connector.bookings(&BookingQuery::ids(BookingIds::one(some.clone()))).await.map(drop)
            }
            Operation::ReadAvailability => connector.availability(window).await.map(drop),
            Operation::ReadHousekeeping => connector.housekeeping().await.map(drop),
            Operation::SetStayStatus => connector.set_stay_status(&some, StayStatus::CheckedIn).await.map(drop),
            Operation::AddNote => connector.add_note(&some, "kit").await.map(drop),
            Operation::SetHousekeeping => connector.set_housekeeping(&some, Condition::Clean).await.map(drop),
            Operation::LookupStay => {
                connector.lookup_stay(&crate::connector::StayQuery::Booking { id: some.clone() }).await.map(drop)
            }
            // Not a call of its own: guest details come with bookings, webhooks arrive by push.
            _ => continue,
        };
        match result {
            Err(crate::Error::Unsupported { connector: kind, operation, .. }) => {
                assert_eq!(kind, connector.kind());
                assert_eq!(operation, op, "the Unsupported error must name the operation");
            }
            other => panic!("{op} is declared unsupported but returned {other:?}"),
        }
    }
}

/// Every operation declared supported works (writes against a booking and a room of the source).
pub async fn supported_operations_work(connector: &dyn Connector, upstream: &dyn Upstream, opts: &KitOptions) {
    let caps = connector.capabilities();
    let today = Utc::now().date_naive();
    let window = DateRange { start: today, end: today + Duration::days(7) };
    if caps.supports(Operation::Check) {
        connector.check().await.expect("check");
    }
    let mut room = None;
    if caps.supports(Operation::ReadRooms) {
        let props = connector.rooms().await.expect("rooms");
        assert!(!props.is_empty(), "rooms() returned no property");
        room = props.iter().flat_map(|p| &p.room_types).flat_map(|t| &t.rooms).next().map(|r| r.key.id.clone());
    }
    if caps.supports(Operation::ReadAvailability) {
        let days = connector.availability(window).await.expect("availability");
        assert!(!days.is_empty(), "availability returned nothing for a week");
    }
    // Housekeeping is kept per room or per bed depending on the source: write to one it reports.
    if caps.supports(Operation::ReadHousekeeping) {
        let states = connector.housekeeping().await.expect("housekeeping");
        if let Some(first) = states.first() {
            room = Some(first.room.id.clone());
        }
    }
    let needs_booking =
        [Operation::SetStayStatus, Operation::AddNote, Operation::ReadBookingsById].iter().any(|op| caps.supports(*op));
    if needs_booking {
        let arrival = today + Duration::days(opts.create_at_days);
        let id = upstream
            .create(NewBooking::new(arrival, arrival + Duration::days(1)).guest("Kit Writes"))
            .await
            .expect("create");
        if connector.keeps_state() {
            // A pushed booking is applied by a run.
            let engine = engine_for(connector, opts).await;
            let run = engine.run(connector, Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
            assert_ok(&run, "full sync after creating a booking upstream");
        }
        if caps.supports(Operation::ReadBookingsById) {
            let batch =
                connector.bookings(&BookingQuery::ids(BookingIds::one(id.clone()))).await.expect("bookings by id");
            assert_eq!(batch.bookings.len(), 1, "by-id read must return the booking");
        }
        if caps.supports(Operation::AddNote) {
            connector.add_note(&id, "kit note").await.expect("add_note");
        }
        if caps.supports(Operation::SetStayStatus) {
            connector.set_stay_status(&id, StayStatus::CheckedIn).await.expect("set_stay_status");
        }
    }
    if caps.supports(Operation::SetHousekeeping) {
        let room = room.expect("set_housekeeping is supported, so rooms must be readable");
        connector.set_housekeeping(&room, Condition::Dirty).await.expect("set_housekeeping");
    }
}

/// With faults injected into `faulty` (the same source as `clean`, reached through a fault proxy
/// or wrapper), repeated full syncs must end with exactly the store contents of a fault-free full
/// sync of `clean`, and the sink must see every record exactly once. Returns the runs it took.
pub async fn full_sync_survives_faults(
    clean: &dyn Connector,
    faulty: &dyn Connector,
    opts: &KitOptions,
    max_runs: usize,
) -> usize {
    let clean_store = Arc::new(MemoryStore::new());
    let clean_engine = SyncEngine::new(clean_store.clone()).with_config(opts.sync.clone());
    let first = clean_engine.run(clean, Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    assert_ok(&first, "fault-free full sync");
    let scope = crate::sync::Scope::new(clean.kind(), clean.account().clone());
    let want = crate::sync::SyncStore::load(clean_store.as_ref(), &scope).await.expect("load").records;

    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone()).with_config(opts.sync.clone());
    let sink = CollectingSink::new();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= max_runs, "no full sync succeeded in {max_runs} runs through the faults");
        if engine.run(faulty, Plan::Full, Trigger::Manual, &sink).await.outcome.is_success() {
            break;
        }
    }
    let got = crate::sync::SyncStore::load(store.as_ref(), &scope).await.expect("load").records;
    assert!(
        got == want,
        "the store after faults differs from the fault-free run ({} vs {} records)",
        got.len(),
        want.len()
    );
    let mut keys: Vec<_> = sink.take().into_iter().map(|c| c.key).collect();
    let delivered = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!((keys.len(), delivered), (want.len(), want.len()), "every record must reach the sink exactly once");
    runs
}

/// Runs every check, each with a fresh store.
pub async fn run_all(connector: &dyn Connector, upstream: &dyn Upstream, opts: &KitOptions) {
    full_sync_is_idempotent(connector, opts).await;
    incremental_reports_exactly_the_change(connector, upstream, opts).await;
    cancellation_becomes_cancelled(connector, upstream, opts).await;
    deletion_is_detected_after_two_passes(connector, upstream, opts).await;
    future_cursor_returns_nothing(connector).await;
    resume_from_any_cursor_loses_nothing(connector, upstream, opts).await;
    unsupported_operations_say_so(connector).await;
    supported_operations_work(connector, upstream, opts).await;
}
