//! `sync_diff`: 100,000 stored bookings, a full fetch where 1% changed, on each store.
//!
//! Measures the engine's whole full-run path (load state, fingerprint, diff, disappearance check,
//! sink, commit) against the cost of only fingerprinting the same 100,000 records, on the memory
//! store, on a SQLite file, on a SQLite file shared with a second account whose records were
//! written in turn with these (as a fleet's runs write them), and on PostgreSQL (with
//! `--features postgres`: a server the bench starts on loopback from Debian's package), and
//! reports the peak heap growth of one run. Target: the sink receives exactly the 1,000 changes
//! and the run costs at most 1.5× fingerprinting on every store.
//!
//! Run: `cargo bench -p hostelpulse-store --bench sync_diff [--features postgres]`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hostelpulse_core::capability::{Capabilities, Operation, Support};
use hostelpulse_core::model::{
    Allocation, Booking, BookingStatus, Channel, Fingerprinted, Guest, Money, Party, Provenance, SourceKey, Via,
};
use hostelpulse_core::sync::{
    Change, Commit, MemoryStore, Origin, Plan, RecordState, Scope, Sink, SyncConfig, SyncEngine, SyncStore, Trigger,
};
use hostelpulse_core::{AccountId, BookingBatch, BookingQuery, Connector, ConnectorKind, ManualClock, Result};
use hostelpulse_store::SqliteStore;
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const N: usize = 100_000;
const CHANGED: usize = N / 100;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn bookings() -> Vec<Booking> {
    let fetched = Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap());
    (0..N)
        .map(|i| {
            let arrival = today() + Duration::days((i % 360) as i64);
            let key = SourceKey::new(ConnectorKind::BEDS24, "145678", (70_000_000 + i) as u64);
            let mut b = Booking::new(
                key,
                fetched.clone(),
                BookingStatus::Confirmed,
                arrival,
                arrival + Duration::days(1 + (i % 5) as i64),
            );
            b.status_raw = Some("confirmed".into());
            b.guest = Guest {
                name: Some(format!("Guest Number {i}")),
                email: Some(format!("guest{i}@example.com")),
                phone: Some("+351 912 345 678".into()),
                country: Some("PT".into()),
                language: Some("pt".into()),
            };
            b.party = Party { adults: Some(1 + (i % 3) as u16), children: Some(0) };
            b.allocations = vec![Allocation {
                room_type: Some("316001".into()),
                room: Some("316001-1".into()),
                bed: Some(format!("{}", 1 + i % 6).into()),
                label: None,
            }];
            b.channel = Some(Channel::Hostelworld);
            b.channel_ref = Some(format!("HW-{}", 550_000_000 + i));
            b.total = Some(Money::new(rust_decimal::Decimal::new(2800 * (1 + (i % 5) as i64), 2), "EUR"));
            b.modified_at = Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap() + Duration::seconds(i as i64));
            b
        })
        .collect()
}

/// Serves one prepared batch (moved in by the untimed setup).
struct Prepared {
    account: AccountId,
    batch: Mutex<Option<BookingBatch>>,
}

#[async_trait]
impl Connector for Prepared {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::BEDS24
    }
    fn account(&self) -> &AccountId {
        &self.account
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = hostelpulse_core::testkit::ReferenceConnector::declared();
        caps.refine(Operation::ReadBookingsById, Support::unsupported("bench"));
        caps
    }
    async fn bookings(&self, _: &BookingQuery) -> Result<BookingBatch> {
        Ok(self.batch.lock().unwrap().take().unwrap_or_default())
    }
}

impl Prepared {
    fn new(bookings: Vec<Booking>) -> Self {
        Self { account: AccountId::new("145678"), batch: Mutex::new(Some(BookingBatch::complete(bookings, vec![]))) }
    }
}

/// The audit record of a real (empty) run, for the commits that seed a store.
fn seed_audit(rt: &tokio::runtime::Runtime, clock: &Arc<ManualClock>) -> hostelpulse_core::sync::AuditRecord {
    let engine = SyncEngine::new(Arc::new(MemoryStore::new())).with_clock(clock.clone());
    rt.block_on(engine.run(&Prepared::new(vec![]), Plan::Full, Trigger::Manual, &CountSink(AtomicUsize::new(0))))
}

/// The timed part: one full run. The engine (and the store it holds) is returned so its
/// teardown, which is not part of a run, happens outside the timing; the fetched batch is dropped
/// inside the run, as in life.
fn timed_run(
    rt: &tokio::runtime::Runtime,
    engine: SyncEngine,
    connector: Prepared,
) -> (SyncEngine, hostelpulse_core::sync::AuditRecord) {
    let report =
        rt.block_on(engine.run(&connector, Plan::Full, Trigger::ScheduledFull, &CountSink(AtomicUsize::new(0))));
    (engine, report)
}

struct CountSink(AtomicUsize);

#[async_trait]
impl Sink for CountSink {
    async fn apply(&self, changes: &[Change]) -> std::result::Result<(), hostelpulse_core::error::BoxError> {
        self.0.fetch_add(changes.len(), Ordering::Relaxed);
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    // A runtime as a host runs one (the machine's two cores); the run itself is driven on this
    // thread, the stores' blocking work goes to tokio's blocking threads and PostgreSQL's
    // connections and reads to its workers.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let stored = bookings();
    let mut fetched = stored.clone();
    for b in fetched.iter_mut().step_by(N / CHANGED) {
        b.departure += Duration::days(1);
        b.modified_at = b.modified_at.map(|m| m + Duration::days(30));
    }
    let prior: Vec<_> = stored
        .iter()
        .map(|b| {
            let state = RecordState {
                fingerprint: b.fingerprint(),
                modified_at: b.modified_at,
                arrival: b.arrival,
                departure: b.departure,
                cancelled: false,
                missing_passes: 0,
                gone: false,
                origin: Origin::Fetch,
            };
            (b.key.id.clone(), state)
        })
        .collect();
    let scope = Scope::new(ConnectorKind::BEDS24, AccountId::new("145678"));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()));
    let config = SyncConfig::default().window(7, 365);

    let dir = tempfile::tempdir().unwrap();
    let files = AtomicUsize::new(0);
    let other = Scope::new(ConnectorKind::BEDS24, AccountId::new("999999"));
    let setup = |sqlite: bool, shared: bool| {
        let store: Arc<dyn SyncStore> = if sqlite {
            let path = dir.path().join(format!("run-{}.db", files.fetch_add(1, Ordering::Relaxed)));
            Arc::new(rt.block_on(SqliteStore::open(path)).unwrap())
        } else {
            Arc::new(MemoryStore::new())
        };
        let seed_audit = seed_audit(&rt, &clock);
        if shared {
            // Two accounts' runs, 1,000 records at a time, in turn, and in no particular id order
            // (bookings arrive over months, and ids from OTAs and CSV exports are not sequential).
            let mut arrived = prior.clone();
            let len = arrived.len();
            for i in 0..len {
                arrived.swap(i, (i.wrapping_mul(2_654_435_761) >> 7) % len);
            }
            for chunk in arrived.chunks(1_000) {
                for s in [&scope, &other] {
                    let commit = Commit {
                        upserts: chunk.to_vec(),
                        cursor: None,
                        audit: seed_audit.clone(),
                        connector_state: None,
                    };
                    rt.block_on(store.commit(s, &commit)).unwrap();
                }
            }
        } else {
            rt.block_on(store.commit(
                &scope,
                &Commit { upserts: prior.clone(), cursor: None, audit: seed_audit, connector_state: None },
            ))
            .unwrap();
        }
        let connector = Prepared::new(fetched.clone());
        let engine = SyncEngine::new(store).with_clock(clock.clone()).with_config(config.clone());
        (engine, connector)
    };

    // Correctness first: exactly the 1% reach the sink, on each store.
    for sqlite in [false, true] {
        let (engine, connector) = setup(sqlite, false);
        let sink = CountSink(AtomicUsize::new(0));
        let base = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let report = rt.block_on(engine.run(&connector, Plan::Full, Trigger::ScheduledFull, &sink));
        let peak = HEAP.peak_usage().saturating_sub(base);
        assert_eq!(sink.0.load(Ordering::Relaxed), CHANGED, "{:?}", report.counts);
        assert_eq!(report.counts.updated as usize, CHANGED);
        assert_eq!(report.counts.unchanged as usize, N - CHANGED);
        eprintln!(
            "sync_diff ({}): sink received {CHANGED} changes; peak heap growth during one run: {:.1} MiB",
            if sqlite { "sqlite" } else { "memory" },
            peak as f64 / 1048576.0
        );
    }

    let mut g = c.benchmark_group("sync_diff");
    g.sample_size(10);
    g.bench_function("fingerprint_100k", |b| {
        b.iter(|| fetched.iter().map(|x| x.fingerprint()).fold(0u8, |a, f| a ^ f.as_bytes()[0]))
    });
    for (name, sqlite, shared) in [
        ("full_run_100k_1pct_changed_memory", false, false),
        ("full_run_100k_1pct_changed_sqlite", true, false),
        ("full_run_100k_1pct_changed_sqlite_shared_file", true, true),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || setup(sqlite, shared),
                |(engine, connector)| timed_run(&rt, engine, connector),
                BatchSize::PerIteration,
            )
        });
    }
    #[cfg(feature = "postgres")]
    postgres(&mut g, &rt, &prior, &fetched, &scope, &clock, &config);
    g.finish();
}

/// The same run on a PostgreSQL server started here (skipped, with a message, where the package
/// is missing). The 100,000 records are written once; before each run the 1,000 it changes are
/// put back as they were, so every run sees the same 1% change.
#[cfg(feature = "postgres")]
fn postgres(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    prior: &[(hostelpulse_core::model::SourceId, RecordState)],
    fetched: &[Booking],
    scope: &Scope,
    clock: &Arc<ManualClock>,
    config: &SyncConfig,
) {
    use hostelpulse_sandbox::postgres::TestServer;
    use hostelpulse_store::PgStore;
    let Some(server) = TestServer::start() else {
        eprintln!("sync_diff: PostgreSQL is not installed; its case is skipped");
        return;
    };
    let store: Arc<dyn SyncStore> = Arc::new(rt.block_on(PgStore::open(&server.database())).unwrap());
    let seed_audit = seed_audit(rt, clock);
    let commit = |upserts: Vec<_>| Commit { upserts, cursor: None, audit: seed_audit.clone(), connector_state: None };
    for chunk in prior.chunks(10_000) {
        rt.block_on(store.commit(scope, &commit(chunk.to_vec()))).unwrap();
    }
    let restore: Vec<_> = prior.iter().step_by(N / CHANGED).cloned().collect();
    let setup = || {
        rt.block_on(store.commit(scope, &commit(restore.clone()))).unwrap();
        let connector = Prepared::new(fetched.to_vec());
        let engine = SyncEngine::new(store.clone()).with_clock(clock.clone()).with_config(config.clone());
        (engine, connector)
    };
    let (engine, connector) = setup();
    let sink = CountSink(AtomicUsize::new(0));
    let report = rt.block_on(engine.run(&connector, Plan::Full, Trigger::ScheduledFull, &sink));
    assert_eq!(sink.0.load(Ordering::Relaxed), CHANGED, "{:?}", report.counts);
    assert_eq!(report.counts.unchanged as usize, N - CHANGED);
    g.bench_function("full_run_100k_1pct_changed_postgres", |b| {
        b.iter_batched(setup, |(engine, connector)| timed_run(rt, engine, connector), BatchSize::PerIteration)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
