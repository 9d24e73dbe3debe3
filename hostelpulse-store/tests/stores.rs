//! The same behaviour from every store, plus what only a file store can show.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use hostelpulse_core::model::{AccountId, ConnectorKind, Fingerprint, SourceId};
use hostelpulse_core::sync::{
    AccountConfigStore, JobRecord, JobStore, LeaseGrant, MappingStore, PreviousBookings, Sink, StoredAccount,
};
use hostelpulse_core::sync::{
    AuditLog, CollectingSink, Commit, Inbox, InboxItem, Origin, Outcome, Plan, Queued, RecordState, Scope, Settled,
    StateUpdate, StoreError, SyncEngine, SyncStore, Trigger,
};
use hostelpulse_core::tasks::TaskStore;
use hostelpulse_core::testkit::{KitOptions, ReferenceUpstream};
use hostelpulse_core::{Connector, SystemClock, testkit};
use hostelpulse_store::{BookingStore, MemoryStore, SqliteStore};

/// Everything the SQLite store is, so each backend runs the same tests.
trait Full: JobStore + Sink + BookingStore + MappingStore + TaskStore + PreviousBookings + AccountConfigStore {}
impl<T: JobStore + Sink + BookingStore + MappingStore + TaskStore + PreviousBookings + AccountConfigStore> Full for T {}

/// Where a store keeps its data: opened again, a store must find everything written before.
enum Backend {
    Sqlite(std::path::PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String),
}

impl Backend {
    async fn open(&self) -> Arc<dyn Full> {
        match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open(path).await.unwrap()),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => Arc::new(hostelpulse_store::PgStore::open(url).await.unwrap()),
        }
    }
}

fn scope(account: &str) -> Scope {
    Scope::new(ConnectorKind::MEMORY, AccountId::new(account))
}

fn state(n: u8) -> RecordState {
    RecordState {
        fingerprint: Fingerprint::from_bytes([n; 32]),
        modified_at: Some(Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, n as u32).unwrap() + Duration::microseconds(123)),
        arrival: "2026-12-01".parse().unwrap(),
        departure: "2026-12-03".parse().unwrap(),
        cancelled: n.is_multiple_of(2),
        missing_passes: n % 3,
        gone: false,
        origin: if n.is_multiple_of(3) { Origin::Import } else { Origin::Fetch },
    }
}

/// A real audit record, from running the engine against an empty reference upstream.
async fn audit_for(account: &str) -> hostelpulse_core::sync::AuditRecord {
    let up = ReferenceUpstream::new(account, Arc::new(SystemClock));
    let mem = Arc::new(MemoryStore::new());
    SyncEngine::new(mem).run(&up.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await
}

async fn behaves_like_a_store(store: Arc<dyn SyncStore>) {
    let s = scope("a1");
    assert_eq!(store.load(&s).await.unwrap().records.len(), 0);
    let cursor = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + Duration::microseconds(5);
    let audit = audit_for("a1").await;
    let commit = Commit {
        upserts: (1..=3).map(|n| (SourceId::from(n as u64), state(n))).collect(),
        cursor: Some(cursor),
        audit,
        connector_state: None,
    };
    store.commit(&s, &commit).await.unwrap();
    let loaded = store.load(&s).await.unwrap();
    assert_eq!(loaded.cursor, Some(cursor));
    assert_eq!(loaded.records.len(), 3);
    assert_eq!(loaded.records[&SourceId::from(2u64)], state(2));
    // Other scopes are separate.
    assert!(store.load(&scope("a2")).await.unwrap().records.is_empty());

    // Upsert replaces; no cursor leaves it.
    let mut changed = state(1);
    changed.gone = true;
    let audit2 = audit_for("a1").await;
    store
        .commit(
            &s,
            &Commit {
                upserts: vec![(SourceId::from(1u64), changed.clone())],
                cursor: None,
                audit: audit2.clone(),
                connector_state: None,
            },
        )
        .await
        .unwrap();
    let loaded = store.load(&s).await.unwrap();
    assert_eq!(loaded.cursor, Some(cursor));
    assert_eq!(loaded.records[&SourceId::from(1u64)], changed);

    // Audit: newest first, per scope.
    let mut failed = audit_for("a2").await;
    failed.outcome =
        Outcome::Failed { stage: hostelpulse_core::sync::Stage::Fetch, kind: None, message: "down".into() };
    store.append(&failed).await.unwrap();
    let recent = store.recent(&s, 10).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].run_id, audit2.run_id);
    assert_eq!(store.recent(&scope("a2"), 10).await.unwrap()[0], failed);
    assert_eq!(store.scopes().await.unwrap(), vec![s.clone(), scope("a2")]);

    // Event dedupe with a TTL.
    let now = Utc::now();
    assert!(store.remember_event("cb:evt-1", now, Duration::hours(1)).await.unwrap());
    assert!(!store.remember_event("cb:evt-1", now + Duration::minutes(59), Duration::hours(1)).await.unwrap());
    assert!(store.remember_event("cb:evt-1", now + Duration::minutes(121), Duration::hours(1)).await.unwrap());

    keeps_connector_state_with_a_version(store.as_ref()).await;
    keeps_an_inbox(store.as_ref()).await;
    keeps_a_paging_checkpoint_until_the_next_commit(store.as_ref()).await;
    store.save_paging_checkpoint(&s, r#"{"next_page":7}"#).await.unwrap();
    for scope in [s, scope("stateful"), scope("never-seen")] {
        loads_in_two_steps(store.as_ref(), &scope).await;
    }
}

/// The state read in two steps is the state read at once: the head holds everything but the
/// records, and the records are the ones `load` returns.
async fn loads_in_two_steps(store: &dyn SyncStore, s: &Scope) {
    let whole = store.load(s).await.unwrap();
    if let Some(head) = store.load_head(s).await.unwrap() {
        assert!(head.records.is_empty(), "{s:?}: the head has no records");
        assert_eq!(hostelpulse_core::sync::SyncState { records: whole.records.clone(), ..head }, whole, "{s:?}");
    }
    assert_eq!(store.load_records(s).await.unwrap(), whole.records, "{s:?}");
}

/// A failed run's paging checkpoint is loaded with the state, replaced by a later one, and
/// cleared by the scope's next commit; other scopes never see it.
async fn keeps_a_paging_checkpoint_until_the_next_commit(store: &dyn SyncStore) {
    let s = scope("paged");
    assert_eq!(store.load(&s).await.unwrap().paging_checkpoint, None);
    store.save_paging_checkpoint(&s, r#"{"next_page":3}"#).await.unwrap();
    store.save_paging_checkpoint(&s, r#"{"next_page":5}"#).await.unwrap();
    assert_eq!(store.load(&s).await.unwrap().paging_checkpoint.as_deref(), Some(r#"{"next_page":5}"#));
    assert_eq!(store.load(&scope("a1")).await.unwrap().paging_checkpoint, None);
    let commit = Commit { upserts: vec![], cursor: None, audit: audit_for("paged").await, connector_state: None };
    store.commit(&s, &commit).await.unwrap();
    assert_eq!(store.load(&s).await.unwrap().paging_checkpoint, None, "a commit clears it");
}

/// Connector state is saved with a commit only when the run started from the current version.
async fn keeps_connector_state_with_a_version(store: &dyn SyncStore) {
    let s = scope("stateful");
    let loaded = store.load(&s).await.unwrap();
    assert_eq!((loaded.connector_state.as_ref(), loaded.state_version), (None, 0));
    let commit = |value: serde_json::Value, expected_version: u64| async move {
        Commit {
            upserts: vec![],
            cursor: None,
            audit: audit_for("stateful").await,
            connector_state: Some(StateUpdate { value, expected_version }),
        }
    };
    store.commit(&s, &commit(serde_json::json!({"mails": 1}), 0).await).await.unwrap();
    let loaded = store.load(&s).await.unwrap();
    assert_eq!((loaded.connector_state, loaded.state_version), (Some(serde_json::json!({"mails": 1})), 1));
    // A second process that loaded version 0 must not overwrite what the first saved.
    let err = store.commit(&s, &commit(serde_json::json!({"mails": 0}), 0).await).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 0, found: 1 }), "{err}");
    let loaded = store.load(&s).await.unwrap();
    assert_eq!((loaded.connector_state, loaded.state_version), (Some(serde_json::json!({"mails": 1})), 1));
    store.commit(&s, &commit(serde_json::json!({"mails": 2}), 1).await).await.unwrap();
    assert_eq!(store.load(&s).await.unwrap().state_version, 2);
}

/// The inbox: queued once per dedupe key, due in order, retried at its time, remembered when done.
async fn keeps_an_inbox(store: &dyn SyncStore) {
    let s = scope("hooks");
    let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
    let keep = Duration::days(2);
    let item = |n: u32| InboxItem::Push { body: format!("{{\"n\":{n}}}") };
    let Queued::New(first) = store.inbox_put(&s, "k1", &item(1), t0, keep).await.unwrap() else { panic!("new") };
    assert_eq!(store.inbox_put(&s, "k1", &item(1), t0, keep).await.unwrap(), Queued::Duplicate);
    let Queued::New(second) = store.inbox_put(&s, "k2", &item(2), t0 + Duration::seconds(1), keep).await.unwrap()
    else {
        panic!("new")
    };
    assert_eq!(store.inbox_next_due().await.unwrap(), Some(t0));
    let due = store.inbox_due(t0 + Duration::seconds(5), 10).await.unwrap();
    assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), vec![first, second]);
    assert_eq!(due[0].item, item(1));
    assert_eq!(due[0].scope, s);

    let retry_at = t0 + Duration::seconds(30);
    store.inbox_settle(first, &Settled::Retry { at: retry_at, error: "PMS down".into() }).await.unwrap();
    store.inbox_settle(second, &Settled::Done { run_id: "run-2".into(), at: t0 + Duration::seconds(6) }).await.unwrap();
    assert!(store.inbox_due(t0 + Duration::seconds(29), 10).await.unwrap().is_empty(), "not before its retry time");
    let due = store.inbox_due(retry_at, 10).await.unwrap();
    assert_eq!((due.len(), due[0].attempts, due[0].last_error.as_deref()), (1, 1, Some("PMS down")));
    assert_eq!(store.inbox_next_due().await.unwrap(), Some(retry_at));
    // A re-delivery of a done entry is still recognised within the retention, and forgotten after.
    assert_eq!(store.inbox_put(&s, "k2", &item(2), t0 + Duration::days(1), keep).await.unwrap(), Queued::Duplicate);
    assert!(matches!(store.inbox_put(&s, "k2", &item(2), t0 + Duration::days(3), keep).await.unwrap(), Queued::New(_)));
    let entries = store.inbox_entries(&s).await.unwrap();
    assert_eq!(entries.len(), 2, "the pending entry stays, however old: {entries:?}");
    assert!(entries.iter().any(|e| e.id == first && e.done_at.is_none()));
}

#[tokio::test]
async fn memory_store_behaves() {
    behaves_like_a_store(Arc::new(MemoryStore::new())).await;
    keeps_jobs_leases_and_workers(&MemoryStore::new()).await;
}

/// Job records, leases (held, expired, released with a quiet time) and the worker registry.
async fn keeps_jobs_leases_and_workers(store: &dyn JobStore) {
    let (a, b) = (scope("j1"), scope("j2"));
    let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let ttl = Duration::seconds(60);
    assert!(store.jobs().await.unwrap().is_empty());
    let mut job = JobRecord::default();
    job.next_full_at = Some(t0 + Duration::hours(3));
    job.failures = 2;
    store.save_job(&a, &job).await.unwrap();
    assert_eq!(store.job(&a).await.unwrap(), Some(job.clone()));
    assert_eq!(store.job(&b).await.unwrap(), None);
    assert_eq!(store.jobs().await.unwrap(), vec![(a.clone(), job.clone())]);

    let granted = store.lease(&a, "w1", t0, ttl).await.unwrap();
    assert_eq!(granted, LeaseGrant::Granted { until: t0 + ttl, quiet_until: None, previous_holder: None });
    assert_eq!(
        store.lease(&a, "w2", t0 + Duration::seconds(30), ttl).await.unwrap(),
        LeaseGrant::Held { by: "w1".into(), until: t0 + ttl }
    );
    // Another account is free; the holder renews its own.
    assert!(matches!(store.lease(&b, "w2", t0, ttl).await.unwrap(), LeaseGrant::Granted { .. }));
    assert!(matches!(
        store.lease(&a, "w1", t0 + Duration::seconds(30), ttl).await.unwrap(),
        LeaseGrant::Granted { previous_holder: Some(ref p), .. } if p == "w1"
    ));
    // Released with a quiet time: the next holder is told to wait, the same holder is not.
    let quiet = t0 + Duration::seconds(32);
    job.failures = 0;
    store.save_job_and_release(&a, &job, "w1", Some(quiet)).await.unwrap();
    assert_eq!(store.job(&a).await.unwrap(), Some(job));
    assert_eq!(
        store.lease(&a, "w2", t0 + Duration::seconds(31), ttl).await.unwrap(),
        LeaseGrant::Granted {
            until: t0 + Duration::seconds(91),
            quiet_until: Some(quiet),
            previous_holder: Some("w1".into())
        }
    );
    // A lease nobody renews expires: a dead worker's account is taken over.
    assert!(matches!(
        store.lease(&a, "w3", t0 + Duration::seconds(92), ttl).await.unwrap(),
        LeaseGrant::Granted { previous_holder: Some(ref p), .. } if p == "w2"
    ));
    // A release by someone who does not hold it changes nothing.
    store.release(&a, "w1", None).await.unwrap();
    assert!(matches!(store.lease(&a, "w2", t0 + Duration::seconds(93), ttl).await.unwrap(), LeaseGrant::Held { .. }));

    // Workers: alive until their time passes or they leave.
    assert_eq!(store.heartbeat("w1", t0, ttl).await.unwrap(), ["w1"]);
    assert_eq!(store.heartbeat("w2", t0 + Duration::seconds(10), ttl).await.unwrap(), ["w1", "w2"]);
    assert_eq!(store.heartbeat("w3", t0 + Duration::seconds(61), ttl).await.unwrap(), ["w2", "w3"], "w1 expired");
    store.leave("w2").await.unwrap();
    assert_eq!(store.heartbeat("w3", t0 + Duration::seconds(62), ttl).await.unwrap(), ["w3"]);

    // A fleet's schedules in one write and its facts in one read, each as the account's own.
    let fleet: Vec<(Scope, JobRecord)> = (0..5)
        .map(|i| {
            let mut j = JobRecord::default();
            j.failures = i;
            j.next_poll_at = Some(t0 + Duration::minutes(i.into()));
            (scope(&format!("fleet-{i}")), j)
        })
        .collect();
    store.save_jobs(&fleet).await.unwrap();
    for (s, j) in &fleet {
        assert_eq!(store.job(s).await.unwrap().as_ref(), Some(j));
    }
    assert_eq!(store.jobs().await.unwrap().len(), 1 + fleet.len(), "nothing lost, nothing doubled");
    let (ran, hooked) = (audit_for("fleet-1").await, scope("fleet-3"));
    store.append(&ran).await.unwrap();
    let at = t0 + Duration::seconds(7);
    store.inbox_put(&hooked, "h1", &InboxItem::Push { body: "{}".into() }, at, Duration::days(1)).await.unwrap();
    let scopes: Vec<Scope> = fleet.iter().map(|(s, _)| s.clone()).collect();
    let facts = store.startup_facts(&scopes, 50).await.unwrap();
    assert_eq!(facts.len(), scopes.len());
    for (s, f) in scopes.iter().zip(&facts) {
        assert_eq!(f.recent, store.recent(s, 50).await.unwrap(), "{s:?}");
        let last = store.inbox_entries(s).await.unwrap().iter().map(|e| e.received_at).max();
        assert_eq!(f.last_webhook, last, "{s:?}");
    }
    assert_eq!(facts[1].recent.len(), 1);
    assert_eq!(facts[3].last_webhook, Some(at));
}

#[tokio::test]
async fn sqlite_store_behaves() {
    behaves_like_a_store(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await;
    let dir = tempfile::tempdir().unwrap();
    behaves_like_a_store(Arc::new(SqliteStore::open(dir.path().join("hp.sqlite")).await.unwrap())).await;
    keeps_jobs_leases_and_workers(&SqliteStore::open_in_memory().await.unwrap()).await;
}

/// The whole shared suite on a real PostgreSQL server (started here from Debian's package; skipped
/// with a message when it is missing, a failure in CI). One server, a new database per part.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_shared_suite() {
    use hostelpulse_sandbox::postgres::TestServer;
    use hostelpulse_store::PgStore;
    let Some(server) = TestServer::start() else { return };
    behaves_like_a_store(Arc::new(PgStore::open(&server.database()).await.unwrap())).await;
    keeps_jobs_leases_and_workers(&PgStore::open(&server.database()).await.unwrap()).await;
    let store: Arc<dyn Full> = Arc::new(PgStore::open(&server.database()).await.unwrap());
    keeps_the_bookings_themselves(store.clone()).await;
    marks_gone_bookings_and_keeps_them(store).await;
    prunes(&Backend::Postgres(server.database())).await;
    keeps_the_mapping_and_the_tasks(&Backend::Postgres(server.database())).await;
    derives_stay_events(&Backend::Postgres(server.database())).await;
    syncs_housekeeping(&Backend::Postgres(server.database())).await;
    keeps_stored_accounts(&Backend::Postgres(server.database())).await;
    commits_concurrently(&Backend::Postgres(server.database())).await;
    large_reads_lose_and_double_nothing(&Backend::Postgres(server.database())).await;
    // Opening again migrates nothing and keeps everything; several workers opening at once
    // migrate once.
    let url = server.database();
    let opened = futures_util::future::join_all((0..4).map(|_| PgStore::open(&url))).await;
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    let other = server.database();
    let store = PgStore::open(&other).await.unwrap();
    let s = scope("reopen");
    let commit = Commit {
        upserts: vec![(SourceId::from(1u64), state(1))],
        cursor: None,
        audit: audit_for("reopen").await,
        connector_state: None,
    };
    store.commit(&s, &commit).await.unwrap();
    drop(store);
    assert_eq!(PgStore::open(&other).await.unwrap().load(&s).await.unwrap().records.len(), 1);
}

/// A database with tables of another application is refused untouched.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_refuses_a_database_that_is_not_ours() {
    use hostelpulse_sandbox::postgres::TestServer;
    let Some(server) = TestServer::start() else { return };
    let url = server.database();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute("CREATE TABLE sync_record (their_column INTEGER)").await.unwrap();
    let err = hostelpulse_store::PgStore::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    let still: i64 = client
        .query_one("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'hostelpulse_schema'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, 0, "nothing was created");
}

#[tokio::test]
async fn a_file_store_survives_reopening_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let up = ReferenceUpstream::seeded("hostel-9", Arc::new(SystemClock), 25);
    {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let run =
            SyncEngine::new(store).run(&up.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
        assert_eq!(run.outcome, Outcome::Ok);
    }
    // A new file is created with 16 KiB pages (the SQLite header's page size, bytes 16–17).
    let header = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_be_bytes([header[16], header[17]]), 16384);
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let sink = CollectingSink::new();
    let again = SyncEngine::new(store.clone()).run(&up.connector(), Plan::Full, Trigger::Manual, &sink).await;
    assert_eq!(again.counts.changes(), 0, "state must survive a reopen: {:?}", again.counts);
    assert_eq!(store.recent(&Scope::new(ConnectorKind::MEMORY, "hostel-9".into()), 5).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_commit_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    // Make the audit insert — the last statement of the transaction — fail.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_run BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();
    drop(raw);
    let s = scope("a1");
    let audit = audit_for("a1").await;
    let commit = Commit {
        upserts: vec![(SourceId::from(1u64), state(1))],
        cursor: Some(Utc::now()),
        audit,
        connector_state: Some(StateUpdate { value: serde_json::json!({"x": 1}), expected_version: 0 }),
    };
    assert!(store.commit(&s, &commit).await.is_err());
    let loaded = store.load(&s).await.unwrap();
    assert!(
        loaded.records.is_empty() && loaded.cursor.is_none() && loaded.connector_state.is_none(),
        "records, cursor and connector state must roll back with the audit record"
    );
    assert_eq!(loaded.state_version, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_for_different_accounts_do_not_interfere() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("state.sqlite")).await.unwrap());
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let up = ReferenceUpstream::seeded(format!("acc-{i}"), Arc::new(SystemClock), 20 + i);
            let engine = SyncEngine::new(store);
            let first = engine.run(&up.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
            let second = engine.run(&up.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
            (first, second)
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let (first, second) = t.await.unwrap();
        assert_eq!(first.outcome, Outcome::Ok);
        assert_eq!(second.counts.changes(), 0, "account {i}");
        let st = store.load(&Scope::new(ConnectorKind::MEMORY, AccountId::new(format!("acc-{i}")))).await.unwrap();
        assert_eq!(st.records.len() as u64, first.counts.inserted);
    }
}

#[tokio::test]
async fn the_kit_passes_on_the_reference_connector() {
    // The kit uses its own stores; this checks it also holds with the engine on SQLite.
    let up = ReferenceUpstream::seeded("kit", Arc::new(SystemClock), 30);
    testkit::full_sync_is_idempotent(&up.connector(), &KitOptions::default()).await;
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let engine = SyncEngine::new(store);
    let a = engine.run(&up.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    let b = engine.run(&up.connector(), Plan::Incremental, Trigger::Poll, &CollectingSink::new()).await;
    assert_eq!((a.outcome, b.counts.changes()), (Outcome::Ok, 0));
}

#[tokio::test]
async fn the_sqlite_store_as_a_sink_keeps_bookings() {
    let store: Arc<dyn Full> = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    keeps_the_bookings_themselves(store.clone()).await;
    marks_gone_bookings_and_keeps_them(store).await;
}

async fn keeps_the_bookings_themselves(store: Arc<dyn Full>) {
    use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};
    let up = ReferenceUpstream::seeded("hostel-b", Arc::new(SystemClock), 12);
    let engine = SyncEngine::new(store.clone() as Arc<dyn SyncStore>);
    let run = engine.run(&up.connector(), Plan::Full, Trigger::Manual, store.as_ref() as &dyn Sink).await;
    assert_eq!(run.outcome, Outcome::Ok);
    let today = Utc::now().date_naive();
    let window = |s: &Arc<dyn Full>| {
        let s = s.clone();
        async move { s.bookings_between(today - Duration::days(400), today + Duration::days(800)).await.unwrap() }
    };
    let all = window(&store).await;
    assert_eq!(all.len(), 12);

    let id = up
        .create(NewBooking::new(today + Duration::days(3), today + Duration::days(5)).guest("Stored Guest"))
        .await
        .unwrap();
    up.modify(&id, Modification::ExtendStay).await.unwrap();
    engine.run(&up.connector(), Plan::Full, Trigger::Manual, store.as_ref() as &dyn Sink).await;
    let stored = window(&store).await;
    let b = stored.iter().find(|b| b.key.id == id).expect("the new booking is stored");
    assert_eq!((b.nights(), b.guest.name.as_deref()), (3, Some("Stored Guest")));
    // Applying the same changes twice changes nothing.
    assert_eq!(window(&store).await, stored);
    // A narrow window returns only overlapping stays.
    let narrow = store.bookings_between(today + Duration::days(4), today + Duration::days(5)).await.unwrap();
    assert!(narrow.iter().all(|b| b.arrival < today + Duration::days(5) && b.departure > today + Duration::days(4)));
    assert!(narrow.iter().any(|b| b.key.id == id));
}

async fn marks_gone_bookings_and_keeps_them(store: Arc<dyn Full>) {
    use hostelpulse_core::model::BookingStatus;
    use hostelpulse_core::sync::{Change, ChangeClass};
    use hostelpulse_core::testkit::{NewBooking, Upstream};
    let up = ReferenceUpstream::seeded("hostel-g", Arc::new(SystemClock), 3);
    let today = Utc::now().date_naive();
    let id = up.create(NewBooking::new(today, today + Duration::days(2)).guest("In House")).await.unwrap();
    let engine = SyncEngine::new(store.clone() as Arc<dyn SyncStore>);
    engine.run(&up.connector(), Plan::Full, Trigger::Manual, store.as_ref() as &dyn Sink).await;
    let key = hostelpulse_core::SourceKey::new(ConnectorKind::MEMORY, AccountId::new("hostel-g"), id.clone());
    let gone = Change { class: ChangeClass::Disappeared, key: key.clone(), booking: None };
    store.apply(std::slice::from_ref(&gone)).await.unwrap();
    store.apply(&[gone]).await.unwrap();
    let rows = store.bookings_between(today - Duration::days(1), today + Duration::days(3)).await.unwrap();
    let b = rows.iter().find(|b| b.key == key).expect("a gone booking keeps its row");
    assert_eq!(b.status, BookingStatus::Cancelled, "and reads as not holding a bed");
    assert_eq!(b.guest.name.as_deref(), Some("In House"), "what was known is kept");
    assert!(b.cancelled_at.is_some());
    // Seen again upstream: restored.
    let back = up.connector().bookings(&hostelpulse_core::BookingQuery::default()).await.unwrap();
    let again = back.bookings.into_iter().find(|x| x.key.id == id).unwrap();
    store.apply(&[Change { class: ChangeClass::Restored, key: key.clone(), booking: Some(again) }]).await.unwrap();
    let rows = store.bookings_between(today - Duration::days(1), today + Duration::days(3)).await.unwrap();
    assert_ne!(rows.iter().find(|b| b.key == key).unwrap().status, BookingStatus::Cancelled);
}

/// Full reads of 12,000 bookings in one part — the size where the store reads the records while
/// the part is fingerprinted and the engine frees what it compared on a thread of its own — by
/// three processes in turn on one file: nothing vanishes, nothing doubles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_full_reads_by_three_processes_lose_and_double_nothing() {
    let dir = tempfile::tempdir().unwrap();
    large_reads_lose_and_double_nothing(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn large_reads_lose_and_double_nothing(backend: &Backend) {
    use hostelpulse_core::model::BookingStatus;
    use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};
    const N: usize = 12_000;
    let up = ReferenceUpstream::seeded("large", Arc::new(SystemClock), N);
    /// One process: opens the store, runs a full sync, reads what is stored, and ends.
    async fn process(
        backend: &Backend,
        up: &Arc<ReferenceUpstream>,
    ) -> (hostelpulse_core::sync::AuditRecord, Vec<hostelpulse_core::model::Booking>) {
        let store = backend.open().await;
        let engine = SyncEngine::new(store.clone() as Arc<dyn SyncStore>);
        let run = engine.run(&up.connector(), Plan::Full, Trigger::Manual, store.as_ref() as &dyn Sink).await;
        assert_eq!(run.outcome, Outcome::Ok, "{:?}", run.warnings);
        let stored = store.bookings_of(&scope("large")).await.unwrap();
        (run, stored)
    }
    let ids = |stored: &[hostelpulse_core::model::Booking]| {
        let ids: std::collections::BTreeSet<String> = stored.iter().map(|b| b.key.id.to_string()).collect();
        assert_eq!(ids.len(), stored.len(), "a booking is stored twice");
        ids
    };

    let (first, stored) = process(backend, &up).await;
    assert_eq!((first.counts.inserted, first.counts.fetched), (N as u64, N as u64));
    let before = ids(&stored);
    assert_eq!(before.len(), N);

    // Between the processes: one changed, one cancelled, one new, one deleted upstream.
    let today = Utc::now().date_naive();
    let mut listed = before.iter();
    let (changed, cancelled, deleted) = (
        SourceId::new(listed.next().unwrap().clone()),
        SourceId::new(listed.nth(100).unwrap().clone()),
        SourceId::new(listed.nth(5_000).unwrap().clone()),
    );
    up.modify(&changed, Modification::RenameGuest("Renamed Guest".into())).await.unwrap();
    up.cancel(&cancelled).await.unwrap();
    up.delete(&deleted).await.unwrap();
    let new =
        up.create(NewBooking::new(today + Duration::days(2), today + Duration::days(4)).guest("New")).await.unwrap();

    let (second, stored) = process(backend, &up).await;
    let c = second.counts;
    assert_eq!((c.fetched, c.inserted, c.updated, c.unchanged), (N as u64, 1, 1, N as u64 - 3));
    // The cancelled one may have been cancelled already by the seeding (every tenth is).
    assert_eq!(c.cancelled + c.updated + c.inserted + c.unchanged, N as u64);
    let after = ids(&stored);
    assert!(before.is_subset(&after), "a booking vanished from the store");
    assert_eq!(after.len(), N + 1, "the new booking, once");
    let find_in = |stored: &[hostelpulse_core::model::Booking], id: &SourceId| {
        stored.iter().find(|b| &b.key.id == id).unwrap().clone()
    };
    let find = |id: &SourceId| find_in(&stored, id);
    assert_eq!(find(&changed).guest.name.as_deref(), Some("Renamed Guest"));
    assert_eq!(find(&cancelled).status, BookingStatus::Cancelled);
    assert_ne!(find(&deleted).status, BookingStatus::Cancelled, "one missing read declares nothing gone");
    assert_eq!(find(&new).guest.name.as_deref(), Some("New"));

    // The second complete read without it declares the deleted booking gone; its row stays.
    let (third, stored) = process(backend, &up).await;
    assert_eq!((third.counts.disappeared, third.counts.changes(), third.counts.unchanged), (1, 1, N as u64));
    assert_eq!(ids(&stored), after, "the same bookings, each once");
    assert_eq!(find_in(&stored, &deleted).status, BookingStatus::Cancelled, "kept, and reads as gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_creating_one_file_at_once_both_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("race-{round}.sqlite"));
        let (a, b, c) = tokio::join!(SqliteStore::open(&path), SqliteStore::open(&path), SqliteStore::open(&path));
        for (n, opened) in [a, b, c].into_iter().enumerate() {
            let store = opened.unwrap_or_else(|e| panic!("round {round}, opener {n}: {e}"));
            assert!(store.load(&scope("a")).await.unwrap().records.is_empty());
        }
    }
}

#[tokio::test]
async fn the_inbox_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.sqlite");
    let s = scope("hooks");
    let now = Utc::now();
    {
        let store = SqliteStore::open(&path).await.unwrap();
        let item = InboxItem::Push { body: "{}".into() };
        store.inbox_put(&s, "k", &item, now, Duration::days(2)).await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let due = store.inbox_due(now, 10).await.unwrap();
    assert_eq!(due.len(), 1, "a queued delivery survives the process");
}

#[cfg(unix)]
#[tokio::test]
async fn a_path_that_is_not_our_state_is_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    // A text file (think /etc/passwd): refused, and its mode left alone.
    let text = dir.path().join("passwd");
    std::fs::write(&text, "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::set_permissions(&text, std::fs::Permissions::from_mode(0o644)).unwrap();
    for open in [SqliteStore::open(&text).await, SqliteStore::open_existing(&text).await] {
        assert!(matches!(open, Err(StoreError::Refused(_))), "{open:?}");
    }
    assert_eq!(mode(&text), 0o644);
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "root:x:0:0::/root:/bin/sh\n");

    // Another application's SQLite database: refused, no table added, still in its journal mode.
    let foreign = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);").unwrap();
    }
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(SqliteStore::open(&foreign).await, Err(StoreError::Refused(_))));
    let c = rusqlite::Connection::open(&foreign).unwrap();
    let tables: i64 = c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).unwrap();
    let journal: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!((tables, journal.as_str(), mode(&foreign)), (1, "delete", 0o644));

    // A symbolic link, even to a real state file: refused (never chmod through a link).
    let real = dir.path().join("state.sqlite");
    SqliteStore::open(&real).await.unwrap();
    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert!(matches!(SqliteStore::open(&link).await, Err(StoreError::Refused(_))));
    // Our own file opens again; a new one is created owner-only.
    assert!(SqliteStore::open(&real).await.is_ok());
    assert_eq!(mode(&real), 0o600);
}

/// Retention: old audit records go (each account's newest run and newest success stay), departed
/// guests' contact details are cleared after the set days, and no stay vanishes — also after the
/// file is reopened.
#[tokio::test]
async fn pruning_clears_old_audit_and_departed_contacts_and_keeps_every_stay() {
    let dir = tempfile::tempdir().unwrap();
    prunes(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn prunes(backend: &Backend) {
    use hostelpulse_core::model::{Booking, BookingStatus, Provenance, SourceKey, Via};
    use hostelpulse_core::sync::{Change, ChangeClass};
    use hostelpulse_store::Retention;
    let today = Utc::now().date_naive();
    let store = backend.open().await;
    let stay = |id: &str, arrival: i64, nights: i64| {
        let a = today + Duration::days(arrival);
        let mut b = Booking::new(
            SourceKey::new(ConnectorKind::MEMORY, "p1", id),
            Provenance::new(Via::Api, Utc::now()),
            BookingStatus::Confirmed,
            a,
            a + Duration::days(nights),
        );
        b.guest.name = Some(format!("Guest {id}"));
        b.guest.email = Some(format!("guest{id}@example.com"));
        b.guest.phone = Some("+351 912 345 678".into());
        Change { class: ChangeClass::Inserted, key: b.key.clone(), booking: Some(b) }
    };
    // Departed 40 and 10 days ago, and a stay ahead.
    store.apply(&[stay("old", -43, 3), stay("recent", -13, 3), stay("ahead", 5, 2)]).await.unwrap();
    let s = scope("p1");
    for (days_ago, ok) in [(90, true), (60, false), (45, true), (5, false), (1, false)] {
        let mut r = audit_for("p1").await;
        r.started_at = Utc::now() - Duration::days(days_ago);
        r.finished_at = r.started_at;
        if !ok {
            r.outcome =
                Outcome::Failed { stage: hostelpulse_core::sync::Stage::Fetch, kind: None, message: "down".into() };
        }
        store.append(&r).await.unwrap();
    }
    let pruned =
        store.prune(Utc::now().date_naive(), &Retention::default().audit_days(30).contact_days(30)).await.unwrap();
    // 90 and 60 days old go; 45 days old is the newest success and stays.
    assert_eq!((pruned.audit_runs, pruned.contacts_cleared), (2, 1));
    drop(store);

    let store = backend.open().await;
    assert_eq!(store.recent(&s, 10).await.unwrap().len(), 3);
    let all = store.bookings_between(today - Duration::days(100), today + Duration::days(100)).await.unwrap();
    assert_eq!(all.len(), 3, "no stay vanished");
    for b in &all {
        let departed_long_ago = b.key.id.as_str() == "old";
        assert_eq!(b.guest.email.is_none(), departed_long_ago, "{b:?}");
        assert_eq!(b.guest.phone.is_none(), departed_long_ago, "{b:?}");
        assert!(b.guest.name.is_some(), "the stay keeps its guest's name");
    }
    // Pruning again finds nothing more to do.
    let again =
        store.prune(Utc::now().date_naive(), &Retention::default().audit_days(30).contact_days(30)).await.unwrap();
    assert_eq!((again.audit_runs, again.contacts_cleared), (0, 0));
}

/// Forty accounts commit at once on one file: each commit is all or nothing (one that conflicts
/// saves nothing, the others around it are saved whole), and all of it is in the file after
/// reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_stay_all_or_nothing_each_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    commits_concurrently(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn commits_concurrently(backend: &Backend) {
    {
        let store = backend.open().await;
        let mut tasks = Vec::new();
        for i in 0..40u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let s = scope(&format!("g{i}"));
                let commit = Commit {
                    upserts: vec![
                        (SourceId::from(u64::from(i)), state(i)),
                        (SourceId::from(1000 + u64::from(i)), state(i)),
                    ],
                    cursor: Some(Utc::now()),
                    audit: audit_for(&format!("g{i}")).await,
                    // Every seventh names a version the store never had: a conflict.
                    connector_state: Some(StateUpdate {
                        value: serde_json::json!({ "n": i }),
                        expected_version: if i % 7 == 3 { 5 } else { 0 },
                    }),
                };
                (i, store.commit(&s, &commit).await)
            }));
        }
        for t in tasks {
            let (i, result) = t.await.unwrap();
            assert_eq!(result.is_err(), i % 7 == 3, "account g{i}: {result:?}");
        }
    }
    let store = backend.open().await;
    for i in 0..40u8 {
        let loaded = store.load(&scope(&format!("g{i}"))).await.unwrap();
        if i % 7 == 3 {
            assert!(loaded.records.is_empty() && loaded.cursor.is_none() && loaded.state_version == 0, "g{i}");
            assert!(store.recent(&scope(&format!("g{i}")), 5).await.unwrap().is_empty(), "g{i} audited nothing");
        } else {
            assert_eq!((loaded.records.len(), loaded.state_version), (2, 1), "g{i}");
            assert_eq!(store.recent(&scope(&format!("g{i}")), 5).await.unwrap().len(), 1, "g{i}");
        }
    }
}

/// The room mapping and kept turnover tasks, across a reopen (another process) and with two
/// handles reconciling the same property at once: every task is created once, delivered until
/// acknowledged, withdrawn when its stay is cancelled, and the review names what is unmapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_and_the_tasks_are_kept_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    keeps_the_mapping_and_the_tasks(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn keeps_the_mapping_and_the_tasks(backend: &Backend) {
    use std::sync::Mutex;

    use chrono::{NaiveDate, NaiveTime};
    use hostelpulse_core::mapping::{Basis, HostRoom, MappingEntry};
    use hostelpulse_core::model::{
        Allocation, Bed, Booking, BookingStatus, Property, Provenance, Room, RoomKind, RoomType, SourceKey, Via,
    };
    use hostelpulse_core::sync::{Change, ChangeClass, RoomRefresh};
    use hostelpulse_core::tasks::{TaskDelivery, TaskEvent, TaskKeeper, TaskSink, TurnoverPlanner};

    let acct = Scope::new(ConnectorKind::CLOUDBEDS, AccountId::new("173042"));
    let key = |id: &str| SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id);
    let host = |id: &str, name: &str| HostRoom { id: id.into(), name: name.into() };
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let prov = Provenance::new(Via::Api, now);
    let stay = |id: &str, room: &str, arrival: i64, nights: i64| {
        let a = today + Duration::days(arrival);
        let mut b = Booking::new(key(id), prov.clone(), BookingStatus::Confirmed, a, a + Duration::days(nights));
        b.allocations = vec![Allocation {
            room_type: Some("rt".into()),
            room: Some(room.into()),
            bed: None,
            label: Some(format!("source {room}")),
        }];
        b
    };

    // The source's rooms: 201, 202 and a dorm bed.
    let mut property = Property::new(key("173042"), prov.clone(), "Casa");
    let room = |id: &str, name: &str, beds: Vec<Bed>| Room { key: key(id), name: name.into(), beds };
    let rt = RoomType {
        key: key("rt"),
        name: "Double".into(),
        kind: RoomKind::Private,
        max_guests: Some(2),
        rooms: vec![room("r201", "201", vec![]), room("r202", "202", vec![])],
    };
    let dorm_type = RoomType {
        key: key("dt"),
        name: "Dorm".into(),
        kind: RoomKind::Dorm,
        max_guests: Some(6),
        rooms: vec![room("d1", "Dorm 1", vec![Bed { key: key("b1"), name: "Bed A".into() }])],
    };
    property.room_types = vec![rt, dorm_type];
    {
        let store = backend.open().await;
        let refresh = RoomRefresh::new(Some(vec![property.clone()]), None);
        store.apply_rooms(&acct, &refresh).await.unwrap();
        assert_eq!(store.mapping_review(&acct, &[]).await.unwrap(), None, "no mapping kept: nothing reported");
        store
            .put_room_mapping(&[
                (key("r201"), MappingEntry::confirmed(host("h-201", "Room 201"), "201")),
                (key("r202"), MappingEntry::suggested(host("h-202", "Room 202"), "202", Basis::Number)),
                (key("gone"), MappingEntry::confirmed(host("h-9", "Old"), "old")),
            ])
            .await
            .unwrap();
    }
    // Another process: the mapping is there, and the review says what it lacks.
    let store = backend.open().await;
    let mapping = store.room_mapping().await.unwrap();
    assert_eq!(mapping.entries.len(), 3);
    assert_eq!(mapping.host_for(&key("r201")).map(|h| h.id.as_str()), Some("h-201"));
    assert_eq!(mapping.host_for(&key("r202")), None, "a suggestion is not applied until confirmed");
    assert_eq!(mapping.entries[&key("r202")].basis, Some(Basis::Number));
    let review = store.mapping_review(&acct, &[]).await.unwrap().expect("a mapping is kept");
    let unmapped: Vec<&str> = review.unmapped.iter().map(|r| r.key.id.as_str()).collect();
    assert_eq!(unmapped, ["r202", "b1"]);
    assert_eq!(review.unconfirmed, [key("r202")]);
    assert_eq!(review.removed, [key("gone")]);
    // Renamed upstream: flagged, still applied.
    property.room_types[0].rooms[0].name = "201A".into();
    store.apply_rooms(&acct, &RoomRefresh::new(Some(vec![property.clone()]), None)).await.unwrap();
    let review = store.mapping_review(&acct, &[]).await.unwrap().unwrap();
    assert_eq!(
        (review.renamed.len(), review.renamed[0].was.as_str(), review.renamed[0].now.as_str()),
        (1, "201", "201A")
    );
    assert!(review.summary().unwrap().contains("renamed upstream"));
    store.remove_room_mapping(&[key("gone")]).await.unwrap();
    store.put_room_mapping(&[(key("r202"), MappingEntry::confirmed(host("h-202", "Room 202"), "202"))]).await.unwrap();
    let mapping = store.room_mapping().await.unwrap();
    assert_eq!(mapping.entries.len(), 2);

    // Tasks: two stays check out from 201 and 202; the next arrival in 201 is the same day.
    let bookings = [stay("a", "r201", -2, 3), stay("b", "r202", 0, 2), stay("c", "r201", 1, 2)];
    let changes: Vec<Change> = bookings
        .iter()
        .map(|b| Change { class: ChangeClass::Inserted, key: b.key.clone(), booking: Some(b.clone()) })
        .collect();
    store.apply(&changes).await.unwrap();
    let planner = TurnoverPlanner::new(chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap())
        .with_mapping(mapping.clone());
    let keeper = TaskKeeper::new("Casa", planner);
    let (from, until) = keeper.window(today);
    let stored = store.bookings_between(from, until).await.unwrap();
    // Two processes reconcile the same property at once: each task is recorded once.
    let other = backend.open().await;
    let (x, y) = tokio::join!(
        keeper.reconcile(store.as_ref(), &stored, today, now),
        keeper.reconcile(other.as_ref(), &stored, today, now)
    );
    let recorded: Vec<TaskDelivery> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(recorded.len(), 3, "{recorded:#?}");
    assert!(recorded.iter().all(|d| matches!(d.event, TaskEvent::Created { .. })));
    let kept = store.kept_tasks("Casa").await.unwrap();
    let a = &kept["turnover:cloudbeds:173042:a:r201"];
    assert_eq!(a.host_room.as_ref().map(|h| h.id.as_str()), Some("h-201"), "the host's room");
    assert_eq!(a.room_label.as_deref(), Some("Room 201"));
    assert_eq!(a.due_by, Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap(), "the next check-in, Lisbon winter time");
    drop(other);

    /// A host sink that loses its acknowledgement once: it takes the events, then fails.
    #[derive(Default)]
    struct Host {
        seen: Mutex<Vec<i64>>,
        fail_once: Mutex<bool>,
    }
    #[async_trait::async_trait]
    impl TaskSink for Host {
        async fn deliver(&self, events: &[TaskDelivery]) -> Result<(), hostelpulse_core::error::BoxError> {
            self.seen.lock().unwrap().extend(events.iter().map(|d| d.id));
            let mut f = self.fail_once.lock().unwrap();
            if *f {
                *f = false;
                return Err("connection reset".into());
            }
            Ok(())
        }
    }
    let host_sink = Host { fail_once: Mutex::new(true), ..Host::default() };
    assert!(TaskKeeper::deliver(store.as_ref(), &host_sink, now).await.is_err());
    assert_eq!(TaskKeeper::deliver(store.as_ref(), &host_sink, now).await.unwrap(), 3, "delivered again");
    assert_eq!(TaskKeeper::deliver(store.as_ref(), &host_sink, now).await.unwrap(), 0, "then never again");
    let mut ids = host_sink.seen.lock().unwrap().clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "the same three event ids, so an upserting host has each once");

    // Drop everything and rebuild on the same store: reconciling again records nothing.
    drop(store);
    let store = backend.open().await;
    let stored = store.bookings_between(from, until).await.unwrap();
    assert!(keeper.reconcile(store.as_ref(), &stored, today, now).await.unwrap().is_empty());
    // Cancelled: its task is withdrawn, once; the stay itself stays in the store.
    let mut b = stay("b", "r202", 0, 2);
    b.status = BookingStatus::Cancelled;
    store.apply(&[Change { class: ChangeClass::Cancelled, key: b.key.clone(), booking: Some(b) }]).await.unwrap();
    let stored = store.bookings_between(from, until).await.unwrap();
    assert_eq!(stored.len(), 3, "nothing vanished");
    let events = keeper.reconcile(store.as_ref(), &stored, today, now).await.unwrap();
    assert!(
        matches!(&events[..], [d] if matches!(&d.event, TaskEvent::Withdrawn { task } if task.booking == key("b")))
    );
    assert!(keeper.reconcile(store.as_ref(), &stored, today, now).await.unwrap().is_empty());
    assert_eq!(store.kept_tasks("Casa").await.unwrap().len(), 2);
    assert_eq!(TaskKeeper::deliver(store.as_ref(), &host_sink, now).await.unwrap(), 1);
}

/// Stay events from the store's own copy of each booking, across a reopen: each transition
/// once, with the booking before and after; a subscriber that fails leaves the changes unapplied
/// and the retry sends the same event ids.
#[tokio::test]
async fn stay_events_come_from_the_stored_booking_before() {
    let dir = tempfile::tempdir().unwrap();
    derives_stay_events(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn derives_stay_events(backend: &Backend) {
    use std::sync::Mutex;

    use chrono::NaiveDate;
    use hostelpulse_core::model::{Allocation, Booking, BookingStatus, Provenance, SourceKey, Via};
    use hostelpulse_core::sync::{Change, ChangeClass, EventingSink, StayEvent, StayEventKind, StayEventSink};

    #[derive(Default)]
    struct Subscriber {
        seen: Mutex<Vec<StayEvent>>,
        refuse: Mutex<bool>,
    }
    #[async_trait::async_trait]
    impl StayEventSink for Subscriber {
        async fn deliver(&self, events: &[StayEvent]) -> Result<(), hostelpulse_core::error::BoxError> {
            if *self.refuse.lock().unwrap() {
                return Err("subscriber down".into());
            }
            self.seen.lock().unwrap().extend_from_slice(events);
            Ok(())
        }
    }
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let key = SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", "r-1");
    let booking = |status: BookingStatus, bed: &str| {
        let mut b = Booking::new(key.clone(), Provenance::new(Via::Api, Utc::now()), status, day(1), day(3));
        b.allocations = vec![Allocation { bed: Some(bed.into()), ..Allocation::default() }];
        b
    };
    let change = |class, b: Booking| Change { class, key: key.clone(), booking: Some(b) };
    let subscriber = Arc::new(Subscriber::default());
    let sink = |store: Arc<dyn Full>| {
        EventingSink::new(store.clone() as Arc<dyn Sink>, store as Arc<dyn PreviousBookings>, subscriber.clone())
    };

    let store = backend.open().await;
    sink(store.clone()).apply(&[change(ChangeClass::Inserted, booking(BookingStatus::Confirmed, "b1"))]).await.unwrap();
    sink(store.clone()).apply(&[change(ChangeClass::Updated, booking(BookingStatus::CheckedIn, "b1"))]).await.unwrap();
    drop(store);
    // Another process: the booking before comes from the store.
    let store = backend.open().await;
    let moved = change(ChangeClass::Updated, booking(BookingStatus::CheckedIn, "b4"));
    *subscriber.refuse.lock().unwrap() = true;
    assert!(sink(store.clone()).apply(std::slice::from_ref(&moved)).await.is_err());
    let kept = store.bookings_by_key(std::slice::from_ref(&key)).await.unwrap();
    assert_eq!(kept[0].allocations[0].bed.as_ref().map(|b| b.as_str()), Some("b1"), "not applied");
    *subscriber.refuse.lock().unwrap() = false;
    sink(store.clone()).apply(std::slice::from_ref(&moved)).await.unwrap();
    sink(store.clone())
        .apply(&[change(ChangeClass::Cancelled, booking(BookingStatus::Cancelled, "b4"))])
        .await
        .unwrap();

    let seen = subscriber.seen.lock().unwrap().clone();
    let kinds: Vec<StayEventKind> = seen.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [StayEventKind::NewBooking, StayEventKind::CheckedIn, StayEventKind::RoomMoved, StayEventKind::Cancelled]
    );
    let room = &seen[2];
    assert_eq!(room.before.as_ref().unwrap().allocations[0].bed.as_ref().map(|b| b.as_str()), Some("b1"));
    assert_eq!(room.after.as_ref().unwrap().allocations[0].bed.as_ref().map(|b| b.as_str()), Some("b4"));
    // Nothing vanished: the cancelled booking is still there.
    assert_eq!(store.bookings_by_key(std::slice::from_ref(&key)).await.unwrap()[0].status, BookingStatus::Cancelled);
    assert!(
        store.bookings_by_key(&[SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", "nope")]).await.unwrap().is_empty()
    );
}

/// A source that does not look stays up itself is answered from the synced bookings, saying so.
#[tokio::test]
async fn a_stay_lookup_falls_back_to_the_synced_bookings() {
    use hostelpulse_core::StayQuery;
    use hostelpulse_store::{AnsweredBy, lookup_stay};
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let up = ReferenceUpstream::seeded("hostel-l", Arc::new(SystemClock), 6);
    let c = up.connector();
    let engine = SyncEngine::new(store.clone() as Arc<dyn SyncStore>);
    assert_eq!(engine.run(&c, Plan::Full, Trigger::Manual, store.as_ref() as &dyn Sink).await.outcome, Outcome::Ok);
    let today = Utc::now().date_naive();
    let all = store.bookings_between(today - Duration::days(400), today + Duration::days(800)).await.unwrap();
    let b = all.iter().find(|b| b.allocations.iter().any(|a| a.bed.is_some() || a.room.is_some())).unwrap();
    let found = lookup_stay(&c, store.as_ref(), &StayQuery::Booking { id: b.key.id.clone() }).await.unwrap();
    assert_eq!((found.answered_by, found.bookings.len()), (AnsweredBy::Store, 1));
    let unit = b.allocations.iter().find_map(|a| a.bed.clone().or_else(|| a.room.clone())).unwrap();
    let found = lookup_stay(&c, store.as_ref(), &StayQuery::RoomNight { room: unit, night: b.arrival }).await.unwrap();
    assert!(found.bookings.iter().any(|x| x.key == b.key), "{found:?}");
    let found = lookup_stay(&c, store.as_ref(), &StayQuery::Booking { id: "nope".into() }).await.unwrap();
    assert!(found.bookings.is_empty());
}

/// Housekeeping is synced like bookings: diffed against the state the store kept, counted, handed
/// to the host's subscriber before it is stored. Across reopened stores (separate processes)
/// nothing is delivered twice with another id, a refused delivery stores nothing and its retry
/// sends the same ids, and no room's state vanishes.
#[tokio::test]
async fn housekeeping_is_synced_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    syncs_housekeeping(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn syncs_housekeeping(backend: &Backend) {
    use std::sync::Mutex;

    use hostelpulse_core::model::Condition;
    use hostelpulse_core::sync::{
        EventingSink, RoomChangeClass, RoomStateChange, RoomStateSink, StayEvent, StayEventSink,
    };

    #[derive(Default)]
    struct Subscriber {
        seen: Mutex<Vec<RoomStateChange>>,
        attempted: Mutex<Vec<String>>,
        refuse: Mutex<bool>,
    }
    #[async_trait::async_trait]
    impl RoomStateSink for Subscriber {
        async fn deliver(
            &self,
            _: &Scope,
            changes: &[RoomStateChange],
        ) -> Result<(), hostelpulse_core::error::BoxError> {
            self.attempted.lock().unwrap().extend(changes.iter().map(|c| c.id.clone()));
            if *self.refuse.lock().unwrap() {
                return Err("subscriber down".into());
            }
            self.seen.lock().unwrap().extend_from_slice(changes);
            Ok(())
        }
    }
    #[async_trait::async_trait]
    impl StayEventSink for Subscriber {
        async fn deliver(&self, _: &[StayEvent]) -> Result<(), hostelpulse_core::error::BoxError> {
            Ok(())
        }
    }

    let up = ReferenceUpstream::new("hk", Arc::new(SystemClock));
    let connector = up.connector();
    let subscriber = Arc::new(Subscriber::default());
    let refresh = |store: Arc<dyn Full>| {
        let (connector, subscriber) = (&connector, subscriber.clone());
        async move {
            let sink = EventingSink::new(
                store.clone() as Arc<dyn Sink>,
                store.clone() as Arc<dyn PreviousBookings>,
                subscriber.clone(),
            )
            .with_room_states(subscriber);
            SyncEngine::new(store as Arc<dyn SyncStore>)
                .run(connector, Plan::Housekeeping, Trigger::Manual, &sink)
                .await
        }
    };
    let hk_scope = Scope::new(connector.kind(), connector.account().clone());

    let store = backend.open().await;
    let first = refresh(store.clone()).await;
    let counts = first.rooms.expect("housekeeping counted");
    assert_eq!((counts.states, counts.appeared, counts.changes()), (3, 3, 3), "{first}");
    let kept = store.housekeeping(&hk_scope).await.unwrap().unwrap();
    let since = kept[0].as_of.expect("since when the state holds");
    drop(store);

    // Another process: nothing changed upstream, nothing delivered.
    let store = backend.open().await;
    let again = refresh(store.clone()).await.rooms.unwrap();
    assert_eq!((again.unchanged, again.changes()), (3, 0));
    assert_eq!(subscriber.seen.lock().unwrap().len(), 3);

    // 201 turns dirty; the subscriber is down: the run fails and stores nothing.
    connector.set_housekeeping(&SourceId::new("twin-201"), Condition::Dirty).await.unwrap();
    *subscriber.refuse.lock().unwrap() = true;
    let refused = refresh(store.clone()).await;
    assert!(!refused.outcome.is_success(), "{refused}");
    let kept = store.housekeeping(&hk_scope).await.unwrap().unwrap();
    assert!(kept.iter().all(|h| h.condition == Condition::Clean), "not applied");
    drop(store);

    // Yet another process, subscriber back: the same change, the same id, once.
    *subscriber.refuse.lock().unwrap() = false;
    let store = backend.open().await;
    let retried = refresh(store.clone()).await.rooms.unwrap();
    assert_eq!((retried.changed, retried.unchanged), (1, 2));
    let seen = subscriber.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let change = &seen[3];
    assert_eq!((change.class, change.room.id.as_str()), (RoomChangeClass::Changed, "twin-201"));
    assert_eq!(change.before.as_ref().map(|h| h.condition), Some(Condition::Clean));
    assert_eq!(change.after.as_ref().map(|h| h.condition), Some(Condition::Dirty));
    let attempted = subscriber.attempted.lock().unwrap().clone();
    assert_eq!(attempted[3], attempted[4], "the retry sends the refused change's id");
    let ids: std::collections::BTreeSet<&str> = seen.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), seen.len(), "nothing doubled");

    // Nothing vanished: three rooms, 201 dirty, the others clean since the first refresh.
    let kept = store.housekeeping(&hk_scope).await.unwrap().unwrap();
    assert_eq!(kept.len(), 3);
    for h in &kept {
        if h.room.id.as_str() == "twin-201" {
            assert_eq!(h.condition, Condition::Dirty);
        } else {
            assert_eq!((h.condition, h.as_of), (Condition::Clean, Some(since)));
        }
    }
    // Every refresh is in the audit log, the refused one as a failure.
    let log = store.recent(&hk_scope, 10).await.unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log.iter().filter(|r| r.outcome.is_success()).count(), 3);
}

/// Accounts stored through the console: reopened, the store has each once, the last write of
/// each, removals as tombstones, in account order.
#[tokio::test]
async fn stored_accounts_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    keeps_stored_accounts(&Backend::Sqlite(dir.path().join("state.sqlite"))).await;
}

async fn keeps_stored_accounts(backend: &Backend) {
    let at = |s: i64| chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap();
    let feed = serde_json::json!({ "connector": "ical", "id": "airbnb",
                                   "feeds": [{ "id": "d", "url": { "secret": "console:airbnb/feeds.0.url" } }] });
    {
        let store = backend.open().await;
        assert_eq!(store.stored_accounts().await.unwrap(), []);
        store.put_stored_account(&StoredAccount::new("Casa", "zeta", None, at(0))).await.unwrap();
        store
            .put_stored_account(&StoredAccount::new("Casa", "airbnb", Some(serde_json::json!({})), at(1)))
            .await
            .unwrap();
        store.put_stored_account(&StoredAccount::new("Dunas", "airbnb", Some(feed.clone()), at(2))).await.unwrap();
    }
    let store = backend.open().await;
    let got = store.stored_accounts().await.unwrap();
    assert_eq!(
        got,
        [StoredAccount::new("Dunas", "airbnb", Some(feed), at(2)), StoredAccount::new("Casa", "zeta", None, at(0))]
    );
}
