//! The webhook inbox: at-least-once intake, retried on its schedule while the source is down,
//! surviving a restart of the worker, and a re-delivery of a done entry recognised. Times are
//! passed explicitly: the schedule is asserted exactly, with no clock involved.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use hostelpulse_core::capability::Capabilities;
use hostelpulse_core::sync::inbox::{InboxBackoff, KEEP_DONE};
use hostelpulse_core::sync::{
    ChangeClass, CollectingSink, Inbox, InboxItem, InboxWorker, MemoryStore, Queued, Scope, Settled, SyncEngine,
};
use hostelpulse_core::testkit::{NewBooking, ReferenceConnector, ReferenceUpstream, Upstream};
use hostelpulse_core::webhook::{Changed, Hint};
use hostelpulse_core::{
    AccountId, Applied, BookingBatch, BookingIds, BookingQuery, Connector, ConnectorKind, Error, Result, SystemClock,
};

/// The reference connector behind a switch: while `down`, every read fails as a 503 would.
#[derive(Debug)]
struct Switchable {
    inner: ReferenceConnector,
    down: AtomicBool,
}

#[async_trait]
impl Connector for Switchable {
    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }
    fn account(&self) -> &AccountId {
        self.inner.account()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn rooms(&self) -> Result<Vec<hostelpulse_core::model::Property>> {
        self.inner.rooms().await
    }
    async fn housekeeping(&self) -> Result<Vec<hostelpulse_core::model::Housekeeping>> {
        self.inner.housekeeping().await
    }
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Http {
                connector: self.kind(),
                endpoint: "/bookings".into(),
                status: 503,
                message: "the PMS answered 503".into(),
                applied: Applied::No,
            });
        }
        self.inner.bookings(query).await
    }
}

#[tokio::test]
async fn a_delivery_made_while_the_source_is_down_lands_once_it_is_back() {
    let upstream = ReferenceUpstream::seeded("hostel-1", Arc::new(SystemClock), 3);
    let today = Utc::now().date_naive();
    let id = upstream.create(NewBooking::new(today, today + Duration::days(2)).guest("Late Hook")).await.unwrap();
    let pms = Arc::new(Switchable { inner: upstream.connector(), down: AtomicBool::new(true) });
    let scope = Scope::new(pms.kind(), pms.account().clone());
    let store = Arc::new(MemoryStore::new());
    let hint =
        Hint::bookings(scope.connector.clone(), scope.account.clone(), "booking", BookingIds::one(id.clone()), "evt-1");
    let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    let put = |at| {
        let (store, scope, hint) = (store.clone(), scope.clone(), hint.clone());
        async move { store.inbox_put(&scope, "evt-1", &InboxItem::Hint(hint), at, KEEP_DONE).await.unwrap() }
    };
    assert!(matches!(put(t0).await, Queued::New(_)));

    let lookup = {
        let pms = pms.clone();
        move |_: &Scope| -> Option<Arc<dyn Connector>> { Some(pms.clone()) }
    };
    let sink = CollectingSink::new();
    let worker = InboxWorker::new(SyncEngine::new(store.clone()));
    // Down: retried after 10 s, 20 s, 40 s, … (the default schedule), never dropped.
    let mut at = t0;
    let mut retries = Vec::new();
    for _ in 0..4 {
        let done = worker.process_due(at, &lookup, &sink).await.unwrap();
        assert_eq!(done.len(), 1);
        let Settled::Retry { at: next, ref error } = done[0].settled else { panic!("{:?}", done[0].settled) };
        assert!(error.contains("503"), "{error}");
        // Nothing is due before the retry time.
        assert!(worker.process_due(next - Duration::milliseconds(1), &lookup, &sink).await.unwrap().is_empty());
        retries.push((next - at).num_seconds());
        at = next;
    }
    assert_eq!(retries, [10, 20, 40, 80]);
    assert_eq!(worker.next_due().await.unwrap(), Some(at));
    // The sender retries the same delivery meanwhile: it is not queued twice.
    assert_eq!(put(at - Duration::seconds(5)).await, Queued::Duplicate);
    assert!(sink.take().is_empty());

    // The worker process restarts; the PMS is back. The entry is still there and lands.
    drop(worker);
    pms.down.store(false, Ordering::SeqCst);
    let worker = InboxWorker::new(SyncEngine::new(store.clone()));
    let done = worker.process_due(at, &lookup, &sink).await.unwrap();
    assert!(matches!(done[0].settled, Settled::Done { .. }), "{:?}", done[0].settled);
    let changes = sink.take();
    assert_eq!((changes.len(), changes[0].class, &changes[0].key.id), (1, ChangeClass::Inserted, &id));
    assert_eq!(worker.next_due().await.unwrap(), None);
    // A re-delivery of the done entry within the retention is recognised and causes no run.
    assert_eq!(put(at + Duration::hours(1)).await, Queued::Duplicate);
    assert!(worker.process_due(at + Duration::hours(1), &lookup, &sink).await.unwrap().is_empty());
    let entries = store.inbox_entries(&scope).await.unwrap();
    assert_eq!((entries.len(), entries[0].attempts), (1, 5));
}

#[tokio::test]
async fn a_room_hint_never_reads_bookings() {
    let upstream = ReferenceUpstream::seeded("hostel-2", Arc::new(SystemClock), 3);
    let pms = Arc::new(Switchable { inner: upstream.connector(), down: AtomicBool::new(true) });
    let scope = Scope::new(pms.kind(), pms.account().clone());
    let store = Arc::new(MemoryStore::new());
    let hint = Hint::new(scope.connector.clone(), scope.account.clone(), "SYNC_ROOM", Changed::Rooms(vec![]), "r-1");
    let now = Utc::now();
    store.inbox_put(&scope, "r-1", &InboxItem::Hint(hint), now, KEEP_DONE).await.unwrap();
    let lookup = {
        let pms = pms.clone();
        move |_: &Scope| -> Option<Arc<dyn Connector>> { Some(pms.clone()) }
    };
    let worker = InboxWorker::new(SyncEngine::new(store.clone())).backoff(InboxBackoff::default());
    // Bookings are "down": a room refresh does not touch them, so it succeeds.
    let done = worker.process_due(now, &lookup, &CollectingSink::new()).await.unwrap();
    let run = done[0].run.as_ref().unwrap();
    assert!(matches!(done[0].settled, Settled::Done { .. }), "{:?}", run.outcome);
    assert_eq!(run.plan, hostelpulse_core::sync::PlanKind::Rooms);
}

#[test]
fn an_empty_id_list_is_not_a_query() {
    assert!(BookingIds::new(Vec::new()).is_none());
    let err = serde_json::from_str::<BookingIds>("[]").unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");
    assert_eq!(BookingIds::new(["a".into(), "a".into(), "b".into()]).unwrap().len(), 2);
}

#[tokio::test]
async fn a_push_entry_its_connector_cannot_apply_waits_instead_of_spinning() {
    let upstream = ReferenceUpstream::seeded("hostel-3", Arc::new(SystemClock), 1);
    let pms: Arc<dyn Connector> = Arc::new(upstream.connector());
    let scope = Scope::new(pms.kind(), pms.account().clone());
    let store = Arc::new(MemoryStore::new());
    let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    store.inbox_put(&scope, "p-1", &InboxItem::Push { body: "{}".into() }, t0, KEEP_DONE).await.unwrap();
    let lookup = move |_: &Scope| -> Option<Arc<dyn Connector>> { Some(pms.clone()) };
    let worker = InboxWorker::new(SyncEngine::new(store.clone()));
    let done = worker.process_due(t0, &lookup, &CollectingSink::new()).await.unwrap();
    let Settled::Retry { at, .. } = done[0].settled else { panic!("{:?}", done[0].settled) };
    assert_eq!(at, t0 + InboxBackoff::default().max);
    assert!(worker.process_due(t0 + Duration::seconds(1), &lookup, &CollectingSink::new()).await.unwrap().is_empty());
    assert!(store.inbox_entries(&scope).await.unwrap()[0].done_at.is_none(), "kept, not dropped");
}
