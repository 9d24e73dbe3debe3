//! The runtime on virtual time: schedules, retries, catch-up, leases and alerts, with exact
//! times. Every test runs under a paused tokio clock; the wall clock follows it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::model::{AccountId, Booking, Property};
use hostelpulse_core::sync::{
    CollectingSink, Inbox, InboxItem, JobStore, LeaseGrant, MemoryStore, Outcome, PlanKind, Scope, Sink, SyncStore,
};
use hostelpulse_core::testkit::{NewBooking, ReferenceConnector, ReferenceUpstream, Upstream};
use hostelpulse_core::webhook::Hint;
use hostelpulse_core::{
    BookingBatch, BookingQuery, Capabilities, Clock, Connector, ConnectorKind, Error, Result as CoreResult,
    TokioWallClock,
};
use hostelpulse_runtime::{
    AlertRule, AlertStatus, CollectingAlerts, Job, ManagedAccount, RetryPolicy, Runtime, RuntimeConfig, RuntimeEvent,
    RuntimeHandle, Stopped,
};
use hostelpulse_store::SqliteStore;
use tokio::sync::broadcast;

const T0: &str = "2026-12-01T10:00:00Z";

fn t0() -> DateTime<Utc> {
    T0.parse().unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

/// What the scripted source does on the next reads.
#[derive(Debug, Clone)]
enum Fail {
    Transient,
    Auth,
    ThrottledUntil(DateTime<Utc>),
    Slow(Duration),
    Panic,
}

/// The reference connector, with failures queued by the test.
struct Scripted {
    inner: ReferenceConnector,
    script: Mutex<Vec<Fail>>,
    reads: AtomicU32,
}

impl Scripted {
    fn new(upstream: &Arc<ReferenceUpstream>) -> Arc<Self> {
        Arc::new(Self { inner: upstream.connector(), script: Mutex::new(Vec::new()), reads: AtomicU32::new(0) })
    }

    fn then(&self, f: Fail) {
        self.script.lock().unwrap().push(f);
    }
}

#[async_trait]
impl Connector for Scripted {
    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }
    fn account(&self) -> &AccountId {
        self.inner.account()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn rooms(&self) -> CoreResult<Vec<Property>> {
        self.inner.rooms().await
    }
    async fn housekeeping(&self) -> CoreResult<Vec<hostelpulse_core::model::Housekeeping>> {
        self.inner.housekeeping().await
    }
    async fn bookings(&self, query: &BookingQuery) -> CoreResult<BookingBatch> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let next = {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() { None } else { Some(s.remove(0)) }
        };
        match next {
            Some(Fail::Transient) => Err(Error::Http {
                connector: self.kind(),
                endpoint: "/bookings".into(),
                status: 503,
                message: "down for maintenance".into(),
                applied: hostelpulse_core::error::Applied::No,
            }),
            Some(Fail::Auth) => Err(Error::Auth { connector: self.kind(), message: "token revoked".into() }),
            Some(Fail::ThrottledUntil(until)) => Err(Error::Throttled { connector: self.kind(), until }),
            Some(Fail::Panic) => panic!("a connector bug"),
            Some(Fail::Slow(d)) => {
                tokio::time::sleep(d).await;
                self.inner.bookings(query).await
            }
            None => self.inner.bookings(query).await,
        }
    }
}

fn sink() -> Arc<dyn Sink> {
    Arc::new(CollectingSink::new())
}

fn upstream(account: &str, clock: Arc<dyn Clock>, n: usize) -> Arc<ReferenceUpstream> {
    ReferenceUpstream::seeded(account, clock, n)
}

fn config() -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.catch_up_spread = Duration::ZERO;
    c.retry = RetryPolicy::new(Duration::from_secs(60), Duration::from_secs(3600));
    c.holder = "test-runtime".into();
    c.seed = Some(1);
    c
}

struct Running {
    handle: RuntimeHandle,
    events: broadcast::Receiver<RuntimeEvent>,
    task: tokio::task::JoinHandle<Result<Stopped, hostelpulse_core::sync::StoreError>>,
}

fn start(
    store: Arc<dyn JobStore>,
    sink: Arc<dyn Sink>,
    accounts: Vec<ManagedAccount>,
    clock: Arc<dyn Clock>,
    cfg: RuntimeConfig,
    alerts: Arc<CollectingAlerts>,
) -> Running {
    let rt =
        Runtime::builder(store, sink).accounts(accounts).clock(clock).config(cfg).alert_sink(alerts).build().unwrap();
    let handle = rt.handle();
    let events = handle.subscribe();
    let task = tokio::spawn(rt.run());
    Running { handle, events, task }
}

impl Running {
    async fn stop(self) -> (Stopped, Vec<RuntimeEvent>) {
        self.handle.shutdown();
        let stopped = self.task.await.unwrap().unwrap();
        let mut events = self.events;
        let mut out = Vec::new();
        while let Ok(e) = events.try_recv() {
            out.push(e);
        }
        (stopped, out)
    }
}

/// (account, job, start time) of every run, in order.
fn runs(events: &[RuntimeEvent]) -> Vec<(String, Job, DateTime<Utc>)> {
    events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Ran { account, job, run } => Some((account.clone(), *job, run.started_at)),
            _ => None,
        })
        .collect()
}

fn alert_log(alerts: &CollectingAlerts) -> Vec<(AlertRule, AlertStatus, DateTime<Utc>)> {
    alerts.events().into_iter().map(|e| (e.rule, e.status, e.at)).collect()
}

fn managed(id: &str, c: Arc<dyn Connector>) -> ManagedAccount {
    ManagedAccount::new(id, c, chrono_tz::Europe::Lisbon)
}

fn scope_of(c: &dyn Connector) -> Scope {
    Scope::new(c.kind(), c.account().clone())
}

#[tokio::test(start_paused = true)]
async fn the_daily_full_and_the_polls_run_exactly_on_schedule() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 12);
    let c = Scripted::new(&up);
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(store.clone(), sink(), vec![managed("p1", c.clone())], clock.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(30 * 60 + 1)).await;
    let (stopped, events) = r.stop().await;
    let mut want = vec![("p1".to_owned(), Job::Full, at(0))];
    want.extend((1..=6).map(|k| ("p1".to_owned(), Job::Poll, at(k * 300))));
    assert_eq!(runs(&events), want);
    assert_eq!((stopped.runs, stopped.abandoned), (7, 0));
    let job = store.job(&scope_of(c.as_ref())).await.unwrap().unwrap();
    // Lisbon is on UTC in December: the next quiet hour is tomorrow 03:00.
    assert_eq!(job.next_full_at, Some("2026-12-02T03:00:00Z".parse().unwrap()));
    assert_eq!(job.next_poll_at, Some(at(35 * 60)));
    assert!(alert_log(&alerts).is_empty(), "{:?}", alerts.events());
}

#[tokio::test(start_paused = true)]
async fn a_restart_carries_the_schedule_over_and_catches_up_once_without_losing_or_doubling() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.sqlite");
    let wall: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let up = upstream("p1", wall.clone(), 25);
    let alerts = Arc::new(CollectingAlerts::new());

    // First process: a full and two polls, then shut down at 10:12.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let c = Scripted::new(&up);
    let r = start(store.clone(), store.clone(), vec![managed("p1", c.clone())], wall.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(12 * 60)).await;
    let (_, first) = r.stop().await;
    assert_eq!(
        runs(&first).iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(),
        [(Job::Full, at(0)), (Job::Poll, at(300)), (Job::Poll, at(600))]
    );
    let scope = scope_of(c.as_ref());
    drop(store);

    // Second process on the same file, started at 10:12: the next poll is the one due at 10:15,
    // no full sync at start.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    up.create(NewBooking::new(t0().date_naive(), t0().date_naive() + chrono::Duration::days(2)).guest("New"))
        .await
        .unwrap();
    let wall2: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(at(12 * 60)));
    let c = Scripted::new(&up);
    let r = start(store.clone(), store.clone(), vec![managed("p1", c.clone())], wall2, config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(4 * 60)).await;
    let (_, second) = r.stop().await;
    assert_eq!(runs(&second).iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(), [(Job::Poll, at(900))]);
    drop(store);

    // Third process after three hours down: one catch-up poll, not thirty-six.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let wall3: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(at(4 * 3600)));
    let c = Scripted::new(&up);
    let r = start(store.clone(), store.clone(), vec![managed("p1", c.clone())], wall3, config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (_, third) = r.stop().await;
    assert_eq!(runs(&third).iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(), [(Job::Poll, at(4 * 3600))]);

    // Nothing vanished, nothing doubled: the store holds exactly the upstream's bookings.
    let held: Vec<Booking> = store.bookings_of(&scope).await.unwrap();
    assert_eq!(held.len(), up.len());
    let mut ids: Vec<_> = held.iter().map(|b| b.key.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), up.len());
    assert_eq!(c.reads.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn failures_retry_on_capped_backoff_and_the_alert_fires_once_and_resolves() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    for _ in 0..4 {
        c.then(Fail::Transient);
    }
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(store.clone(), sink(), vec![managed("p1", c.clone())], clock.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(20 * 60 + 1)).await;
    let (_, events) = r.stop().await;
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.1, r.2)).collect();
    // 60 s, 120 s, 240 s, 480 s after each failure; the fifth attempt succeeds; polls resume.
    assert_eq!(
        got,
        [
            (Job::Full, at(0)),
            (Job::Retry(PlanKind::Full), at(60)),
            (Job::Retry(PlanKind::Full), at(180)),
            (Job::Retry(PlanKind::Full), at(420)),
            (Job::Retry(PlanKind::Full), at(900)),
            (Job::Poll, at(1200)),
        ]
    );
    assert_eq!(
        alert_log(&alerts),
        [
            (AlertRule::ConsecutiveFailures, AlertStatus::Firing, at(180)),
            (AlertRule::ConsecutiveFailures, AlertStatus::Resolved, at(900)),
        ]
    );
    let firing = &alerts.events()[0];
    assert!(firing.detail.contains("503") || firing.detail.contains("maintenance"), "{}", firing.detail);
}

#[tokio::test(start_paused = true)]
async fn a_deferred_run_is_retried_exactly_at_the_time_the_source_named() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    c.then(Fail::ThrottledUntil(at(7 * 60 + 30)));
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(store.clone(), sink(), vec![managed("p1", c.clone())], clock.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(8 * 60)).await;
    let (_, events) = r.stop().await;
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [(Job::Full, at(0)), (Job::Retry(PlanKind::Full), at(450))]);
    let outcomes: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Ran { run, .. } => Some(matches!(run.outcome, Outcome::Deferred { .. })),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [true, false]);
}

#[tokio::test(start_paused = true)]
async fn rejected_credentials_stop_the_account_until_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.sqlite");
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let up = upstream("p1", clock.clone(), 5);
    let alerts = Arc::new(CollectingAlerts::new());
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let c = Scripted::new(&up);
    c.then(Fail::Auth);
    let account = managed("p1", c.clone()).credentials(Some("cred-v1".into()));
    let r = start(store.clone(), store.clone(), vec![account], clock.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(5 * 3600)).await;
    let (_, events) = r.stop().await;
    // One attempt, then nothing for five hours: retrying a revoked token only locks the account.
    assert_eq!(runs(&events).len(), 1);
    assert_eq!(c.reads.load(Ordering::SeqCst), 1);
    let log = alert_log(&alerts);
    assert_eq!(log[0], (AlertRule::CredentialsRejected, AlertStatus::Firing, at(0)));
    assert_eq!(log.iter().filter(|e| e.0 == AlertRule::CredentialsRejected).count(), 1);
    drop(store);

    // A restart with the same credentials stays blocked; new ones run at once.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let wall: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(at(5 * 3600)));
    let same = managed("p1", c.clone()).credentials(Some("cred-v1".into()));
    let r = start(store.clone(), store.clone(), vec![same], wall, config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(600)).await;
    let (_, events) = r.stop().await;
    assert!(runs(&events).is_empty());
    let wall: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(at(6 * 3600)));
    let fixed = managed("p1", c.clone()).credentials(Some("cred-v2".into()));
    let r = start(store.clone(), store.clone(), vec![fixed], wall, config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, events) = r.stop().await;
    assert_eq!(runs(&events).iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(), [(Job::Full, at(6 * 3600))]);
    let log = alert_log(&alerts);
    assert!(log.contains(&(AlertRule::CredentialsRejected, AlertStatus::Resolved, at(6 * 3600))), "{log:?}");
}

#[tokio::test(start_paused = true)]
async fn an_account_another_process_holds_waits_for_its_lease_and_its_quiet_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("s.sqlite")).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    let scope = scope_of(c.as_ref());
    // Another process (`hostelpulse sync` beside `run`) holds the account for 90 s.
    let granted = store.lease(&scope, "other-process", t0(), chrono::Duration::seconds(90)).await.unwrap();
    assert!(matches!(granted, LeaseGrant::Granted { .. }));
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(store.clone(), sink(), vec![managed("p1", c.clone())], clock.clone(), config(), alerts);
    tokio::time::sleep(Duration::from_secs(30)).await;
    // It finishes early and asks for quiet until 10:00:45 (its rate window).
    store.release(&scope, "other-process", Some(at(45))).await.unwrap();
    tokio::time::sleep(Duration::from_secs(90)).await;
    let (_, events) = r.stop().await;
    assert!(events.iter().any(|e| matches!(e, RuntimeEvent::LeaseBusy { by, .. } if by == "other-process")));
    // The runtime looked again every 5 s: it took the lease at the first look after the release
    // (10:00:30 or :35), then sent nothing before the quiet time the other process asked for.
    assert_eq!(runs(&events).iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(), [(Job::Full, at(45))]);
    let busy = events.iter().filter(|e| matches!(e, RuntimeEvent::LeaseBusy { .. })).count();
    assert_eq!(busy, 1, "the wait is reported once, not at every look");
    // And while the runtime holds it, the other process is refused.
    let during = store.lease(&scope, "other-process", at(90), chrono::Duration::seconds(30)).await.unwrap();
    assert!(matches!(during, LeaseGrant::Granted { .. }), "the runtime released the lease at shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_slow_account_never_delays_the_others() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let slow_up = upstream("slow", clock.clone(), 5);
    let fast_up = upstream("fast", clock.clone(), 5);
    let slow = Scripted::new(&slow_up);
    slow.then(Fail::Slow(Duration::from_secs(16 * 60 + 10)));
    let fast = Scripted::new(&fast_up);
    let mut cfg = config();
    cfg.lease_ttl = Duration::from_secs(60);
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(
        store.clone(),
        sink(),
        vec![managed("slow", slow.clone()), managed("fast", fast.clone())],
        clock.clone(),
        cfg,
        alerts,
    );
    tokio::time::sleep(Duration::from_secs(16 * 60)).await;
    let (stopped, events) = r.stop().await;
    assert_eq!(stopped.abandoned, 0);
    let fast_runs: Vec<_> = runs(&events).into_iter().filter(|r| r.0 == "fast").map(|r| r.2).collect();
    assert_eq!(fast_runs, [at(0), at(300), at(600), at(900)]);
    // Shutdown waited for the slow run to commit (within the grace) rather than dropping it.
    let slow_runs: Vec<_> = runs(&events).into_iter().filter(|r| r.0 == "slow").collect();
    assert_eq!(slow_runs.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn overdue_accounts_are_spread_out_at_start() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let accounts: Vec<ManagedAccount> = (0..4)
        .map(|i| {
            let up = upstream(&format!("p{i}"), clock.clone(), 3);
            managed(&format!("p{i}"), Scripted::new(&up))
        })
        .collect();
    let mut cfg = config();
    cfg.catch_up_spread = Duration::from_secs(60);
    let r = start(store.clone(), sink(), accounts, clock.clone(), cfg, Arc::new(CollectingAlerts::new()));
    tokio::time::sleep(Duration::from_secs(59)).await;
    let (_, events) = r.stop().await;
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        got,
        [("p0".to_owned(), at(0)), ("p1".to_owned(), at(15)), ("p2".to_owned(), at(30)), ("p3".to_owned(), at(45))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_webhook_in_the_inbox_is_processed_as_soon_as_it_is_announced() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    let scope = scope_of(c.as_ref());
    let r = start(
        store.clone(),
        sink(),
        vec![managed("p1", c.clone()).receives_webhooks(true)],
        clock.clone(),
        config(),
        Arc::new(CollectingAlerts::new()),
    );
    tokio::time::sleep(Duration::from_secs(100)).await;
    let id = up
        .create(NewBooking::new(t0().date_naive(), t0().date_naive() + chrono::Duration::days(1)).guest("Hooked"))
        .await
        .unwrap();
    let hint = Hint::bookings(
        scope.connector.clone(),
        scope.account.clone(),
        "booking.created",
        hostelpulse_core::BookingIds::one(id.clone()),
        "evt-1",
    );
    store.inbox_put(&scope, "evt-1", &InboxItem::Hint(hint), at(100), chrono::Duration::days(2)).await.unwrap();
    r.handle.webhook_received(&scope);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, events) = r.stop().await;
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [(Job::Full, at(0)), (Job::Inbox, at(100))]);
    assert!(store.load(&scope).await.unwrap().records.contains_key(&id));
    assert!(store.inbox_entries(&scope).await.unwrap().iter().all(|e| e.done_at.is_some()));
}

#[tokio::test(start_paused = true)]
async fn a_sync_lag_alert_fires_on_the_tick_when_polls_keep_failing_and_resolves() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    let alerts = Arc::new(CollectingAlerts::new());
    let mut rules = hostelpulse_runtime::AlertRules::default();
    rules.sync_lag = Some(Duration::from_secs(15 * 60));
    rules.consecutive_failures = None;
    let account = managed("p1", c.clone()).alerts(rules);
    let r = start(store.clone(), sink(), vec![account], clock.clone(), config(), alerts.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The PMS goes down after the first full: polls fail from 10:05 on.
    for _ in 0..6 {
        c.then(Fail::Transient);
    }
    tokio::time::sleep(Duration::from_secs(75 * 60)).await;
    let (_, events) = r.stop().await;
    // Polls fail at 10:05, then retries at 10:06, 10:08, 10:12, 10:20 and 10:36 fail too; the
    // one at 11:08 succeeds.
    let starts: Vec<_> = runs(&events).into_iter().map(|r| r.2).collect();
    assert_eq!(starts, [at(0), at(300), at(360), at(480), at(720), at(1200), at(2160), at(4080), at(4380)]);
    let log = alert_log(&alerts);
    // Last success 10:00:00; the minute tick after 10:15:00 sees the lag, the success clears it.
    assert_eq!(
        log,
        [(AlertRule::SyncLag, AlertStatus::Firing, at(16 * 60)), (AlertRule::SyncLag, AlertStatus::Resolved, at(4080))]
    );
}

/// A memory store whose inbox fails for a while, as a locked file or a restarting database does.
struct FlakyInbox {
    inner: MemoryStore,
    failures: AtomicU32,
    /// Reads of the inbox: a loop that spins on it shows here (it stops at 10,000).
    reads: AtomicU32,
}

fn flaky() -> hostelpulse_core::sync::StoreError {
    hostelpulse_core::sync::StoreError::Backend("database is locked".into())
}

#[async_trait]
impl hostelpulse_core::sync::AuditLog for FlakyInbox {
    async fn append(&self, r: &hostelpulse_core::sync::AuditRecord) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.append(r).await
    }
    async fn recent(
        &self,
        s: &Scope,
        n: usize,
    ) -> Result<Vec<hostelpulse_core::sync::AuditRecord>, hostelpulse_core::sync::StoreError> {
        self.inner.recent(s, n).await
    }
    async fn scopes(&self) -> Result<Vec<Scope>, hostelpulse_core::sync::StoreError> {
        self.inner.scopes().await
    }
}

#[async_trait]
impl Inbox for FlakyInbox {
    async fn inbox_put(
        &self,
        s: &Scope,
        k: &str,
        i: &InboxItem,
        now: DateTime<Utc>,
        keep: chrono::Duration,
    ) -> Result<hostelpulse_core::sync::Queued, hostelpulse_core::sync::StoreError> {
        self.inner.inbox_put(s, k, i, now, keep).await
    }
    async fn inbox_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<hostelpulse_core::sync::InboxEntry>, hostelpulse_core::sync::StoreError> {
        assert!(self.reads.fetch_add(1, Ordering::SeqCst) < 10_000, "the runtime loop spins on the inbox");
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(flaky());
        }
        self.inner.inbox_due(now, limit).await
    }
    async fn inbox_settle(
        &self,
        id: i64,
        s: &hostelpulse_core::sync::Settled,
    ) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.inbox_settle(id, s).await
    }
    async fn inbox_next_due(&self) -> Result<Option<DateTime<Utc>>, hostelpulse_core::sync::StoreError> {
        self.inner.inbox_next_due().await
    }
    async fn inbox_entries(
        &self,
        s: &Scope,
    ) -> Result<Vec<hostelpulse_core::sync::InboxEntry>, hostelpulse_core::sync::StoreError> {
        self.inner.inbox_entries(s).await
    }
}

#[async_trait]
impl SyncStore for FlakyInbox {
    async fn load(&self, s: &Scope) -> Result<hostelpulse_core::sync::SyncState, hostelpulse_core::sync::StoreError> {
        self.inner.load(s).await
    }
    async fn commit(
        &self,
        s: &Scope,
        c: &hostelpulse_core::sync::Commit,
    ) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.commit(s, c).await
    }
    async fn remember_event(
        &self,
        k: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<bool, hostelpulse_core::sync::StoreError> {
        self.inner.remember_event(k, now, ttl).await
    }
    async fn save_paging_checkpoint(
        &self,
        scope: &Scope,
        checkpoint: &str,
    ) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.save_paging_checkpoint(scope, checkpoint).await
    }
}

#[async_trait]
impl JobStore for FlakyInbox {
    async fn jobs(
        &self,
    ) -> Result<Vec<(Scope, hostelpulse_core::sync::JobRecord)>, hostelpulse_core::sync::StoreError> {
        self.inner.jobs().await
    }
    async fn job(
        &self,
        s: &Scope,
    ) -> Result<Option<hostelpulse_core::sync::JobRecord>, hostelpulse_core::sync::StoreError> {
        self.inner.job(s).await
    }
    async fn save_job(
        &self,
        s: &Scope,
        j: &hostelpulse_core::sync::JobRecord,
    ) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.save_job(s, j).await
    }
    async fn lease(
        &self,
        s: &Scope,
        h: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<LeaseGrant, hostelpulse_core::sync::StoreError> {
        self.inner.lease(s, h, now, ttl).await
    }
    async fn release(
        &self,
        s: &Scope,
        h: &str,
        q: Option<DateTime<Utc>>,
    ) -> Result<(), hostelpulse_core::sync::StoreError> {
        self.inner.release(s, h, q).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_that_fails_for_a_while_delays_the_inbox_but_never_stops_the_runtime() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store =
        Arc::new(FlakyInbox { inner: MemoryStore::new(), failures: AtomicU32::new(0), reads: AtomicU32::new(0) });
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    let r = start(
        store.clone(),
        sink(),
        vec![managed("p1", c.clone())],
        clock.clone(),
        config(),
        Arc::new(CollectingAlerts::new()),
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    // The inbox cannot be read for the next ten attempts (about a minute at one every 5 s).
    store.failures.store(10, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10 * 60 + 1)).await;
    assert!(!r.task.is_finished(), "the runtime stopped on a passing store error");
    let (_, events) = r.stop().await;
    // Every poll still ran on time.
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [(Job::Full, at(0)), (Job::Poll, at(300)), (Job::Poll, at(600))]);
    assert_eq!(store.failures.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_sync_frees_its_account_and_is_retried() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 5);
    let c = Scripted::new(&up);
    c.then(Fail::Panic);
    let r = start(
        store.clone(),
        sink(),
        vec![managed("p1", c.clone())],
        clock.clone(),
        config(),
        Arc::new(CollectingAlerts::new()),
    );
    tokio::time::sleep(Duration::from_secs(6 * 60 + 1)).await;
    let (_, events) = r.stop().await;
    // The panicked full sync (no event) is retried a minute later, then polls go on.
    let got: Vec<_> = runs(&events).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [(Job::Retry(PlanKind::Full), at(60)), (Job::Poll, at(360))]);
    assert_eq!(c.reads.load(Ordering::SeqCst), 3);
    let job = store.job(&scope_of(c.as_ref())).await.unwrap().unwrap();
    assert_eq!((job.failures, job.retry), (0, None));
}

/// A delivery the runtime cannot run now — for an account configured in another process, for
/// one whose run is still going, for one whose credentials are blocked — does not make its loop
/// spin: it waits for the next thing it
/// can do.
#[tokio::test(start_paused = true)]
async fn a_delivery_for_an_account_not_configured_here_does_not_spin_the_loop() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store =
        Arc::new(FlakyInbox { inner: MemoryStore::new(), failures: AtomicU32::new(0), reads: AtomicU32::new(0) });
    let up = upstream("p1", clock.clone(), 3);
    let c = Scripted::new(&up);
    c.then(Fail::Slow(Duration::from_secs(120)));
    let scope = scope_of(c.as_ref());
    let elsewhere = Scope::new(scope.connector.clone(), AccountId::new("configured-elsewhere"));
    let hint = |account: &Scope, key: &str| {
        InboxItem::Hint(Hint::bookings(
            account.connector.clone(),
            account.account.clone(),
            "booking.modified",
            hostelpulse_core::BookingIds::one(hostelpulse_core::SourceId::new("1")),
            key,
        ))
    };
    store.inbox_put(&elsewhere, "e1", &hint(&elsewhere, "e1"), t0(), chrono::Duration::days(2)).await.unwrap();
    // p2's credentials are rejected: it is blocked until they change.
    let up2 = upstream("p2", clock.clone(), 3);
    let c2 = Scripted::new(&up2);
    c2.then(Fail::Auth);
    let scope2 = scope_of(c2.as_ref());
    let r = start(
        store.clone(),
        sink(),
        vec![managed("p1", c.clone()), managed("p2", c2.clone())],
        clock.clone(),
        config(),
        Arc::new(CollectingAlerts::new()),
    );
    // While p1's first (slow) full sync runs, a delivery for p1 waits in the inbox too; so does
    // one for the blocked p2.
    tokio::time::sleep(Duration::from_secs(10)).await;
    store.inbox_put(&scope, "p1-1", &hint(&scope, "p1-1"), at(10), chrono::Duration::days(2)).await.unwrap();
    store.inbox_put(&scope2, "p2-1", &hint(&scope2, "p2-1"), at(10), chrono::Duration::days(2)).await.unwrap();
    r.handle.webhook_received(&scope);
    r.handle.webhook_received(&scope2);
    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    let (_, events) = r.stop().await;
    let reads = store.reads.load(Ordering::SeqCst);
    assert!(reads < 500, "{reads} reads of the inbox in ten minutes");
    // p1's delivery ran once its full sync was done; the other account's waits for its owner.
    assert!(runs(&events).iter().any(|r| r.1 == Job::Inbox && r.2 == at(120)), "{:?}", runs(&events));
    assert!(store.inbox_entries(&elsewhere).await.unwrap().iter().all(|e| e.done_at.is_none()));
    assert!(store.inbox_entries(&scope2).await.unwrap().iter().all(|e| e.done_at.is_none()), "p2 stays blocked");
}

/// Housekeeping is refreshed after every successful run of a source that reads it: diffed against
/// what the store kept, counted, each refresh its own audit record and event, never a sync run.
#[tokio::test(start_paused = true)]
async fn housekeeping_is_refreshed_after_each_poll_and_counted() {
    use hostelpulse_core::model::Condition;
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let up = upstream("hk", clock.clone(), 4);
    let c = Scripted::new(&up);
    let alerts = Arc::new(CollectingAlerts::new());
    let mut events = {
        let r = start(store.clone(), store.clone(), vec![managed("hk", c.clone())], clock.clone(), config(), alerts);
        tokio::time::sleep(Duration::from_secs(301)).await;
        up.connector().set_housekeeping(&"twin-201".into(), Condition::Dirty).await.unwrap();
        tokio::time::sleep(Duration::from_secs(300)).await;
        r.stop().await.1
    };
    assert_eq!(runs(&events).len(), 3, "the full and two polls; refreshes are no sync runs");
    events.retain(|e| matches!(e, RuntimeEvent::Housekeeping { .. }));
    let counts: Vec<(u64, u64, u64, DateTime<Utc>)> = events
        .iter()
        .map(|e| match e {
            RuntimeEvent::Housekeeping { run, .. } => {
                let n = run.rooms.expect("counted");
                (n.appeared, n.changed, n.unchanged, run.started_at)
            }
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(counts, [(3, 0, 0, at(0)), (0, 0, 3, at(300)), (0, 1, 2, at(600))]);
    let kept = store.housekeeping(&scope_of(c.as_ref())).await.unwrap().unwrap();
    let dirty: Vec<&str> =
        kept.iter().filter(|h| h.condition == Condition::Dirty).map(|h| h.room.id.as_str()).collect();
    assert_eq!(dirty, ["twin-201"]);
    // Each refresh is in the audit log beside the runs.
    let log = hostelpulse_core::sync::AuditLog::recent(store.as_ref(), &scope_of(c.as_ref()), 10).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.plan == PlanKind::Rooms).count(), 3);
}

/// "Sync now" gives out the run id before the run starts: asked twice before it starts, one run
/// answers both (a full sync asked for makes it a full one); asked again once it ran, a new run.
#[tokio::test(start_paused = true)]
async fn a_queued_run_carries_the_id_given_out_for_it() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let up = upstream("p1", clock.clone(), 4);
    let c = Scripted::new(&up);
    let alerts = Arc::new(CollectingAlerts::new());
    let r = start(store.clone(), sink(), vec![managed("p1", c.clone())], clock.clone(), config(), alerts);
    // After the start's catch-up full sync, between two polls.
    tokio::time::sleep(Duration::from_secs(100)).await;
    let first = r.handle.queue_run("p1", PlanKind::Incremental).unwrap();
    let again = r.handle.queue_run("p1", PlanKind::Full).unwrap();
    assert_eq!(first, again, "one run answers both");
    assert_eq!(r.handle.queue_run("nobody", PlanKind::Full), None);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = r.handle.queue_run("p1", PlanKind::Incremental).unwrap();
    assert_ne!(later, first, "the first run started: a new one is queued");
    tokio::time::sleep(Duration::from_secs(1)).await;
    r.stop().await;
    use hostelpulse_core::sync::{AuditLog, Trigger};
    let manual: Vec<(String, PlanKind, DateTime<Utc>)> = store
        .recent(&scope_of(c.as_ref()), 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .filter(|a| a.trigger == Trigger::Manual && a.plan != PlanKind::Rooms)
        .map(|a| (a.run_id, a.plan, a.started_at))
        .collect();
    assert_eq!(manual, [(first, PlanKind::Full, at(100)), (later, PlanKind::Incremental, at(101))]);
}
