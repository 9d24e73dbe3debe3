//! The runtime: one loop that decides what is due, a bounded pool that runs it, one account at a
//! time per account, under the account's lease.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use hostelpulse_core::error::BoxError;
use hostelpulse_core::model::Property;
use hostelpulse_core::sync::inbox::InboxBackoff;
use hostelpulse_core::sync::{
    AuditRecord, Blocked, InboxWorker, JobRecord, JobStore, LeaseGrant, Outcome, Plan, PlanKind, QueuedRetry, Scope,
    Sink, StartupFacts, StoreError, SyncConfig, SyncEngine, Trigger,
};
use hostelpulse_core::{Clock, Connector, ConnectorKind, ErrorKind, Operation};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{Notify, Semaphore, broadcast, watch};
use tokio::task::JoinSet;

use crate::alerts::{self, AlertEvent, AlertRules, AlertSink, Facts, LogAlerts};
use crate::backoff::RetryPolicy;
use crate::schedule::{PollPlan, Schedule, catch_up_slot};

/// One account the runtime keeps fresh.
#[non_exhaustive]
pub struct ManagedAccount {
    /// Its name in events, metrics and alerts (`property/account` when several properties share
    /// a runtime).
    pub id: String,
    /// The connector, built once and kept (token caches, pacers and state live on in it).
    pub connector: Arc<dyn Connector>,
    /// When its plans run.
    pub schedule: Schedule,
    /// Its alert thresholds.
    pub alerts: AlertRules,
    /// The source sends webhooks to this host (webhook silence is watched).
    pub receives_webhooks: bool,
    /// A fingerprint of its credentials (never the credentials): when it changes, an account
    /// blocked by rejected credentials is tried again.
    pub credentials: Option<String>,
}

impl std::fmt::Debug for ManagedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedAccount")
            .field("id", &self.id)
            .field("connector", &self.connector.kind())
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl ManagedAccount {
    /// An account with the default schedule for its connector's capabilities (in the property's
    /// time zone) and the default alert rules, the lag threshold derived from the schedule.
    pub fn new(id: impl Into<String>, connector: Arc<dyn Connector>, timezone: chrono_tz::Tz) -> Self {
        let caps = connector.capabilities();
        let schedule = Schedule::for_capabilities(&caps, timezone);
        let is_feed = is_feed(&connector.kind());
        let mut alerts = AlertRules { sync_lag: Some(default_lag(&schedule)), ..AlertRules::default() };
        if !is_feed {
            alerts.feed_stale = None;
        }
        Self { id: id.into(), connector, schedule, alerts, receives_webhooks: false, credentials: None }
    }

    /// With another schedule (the lag threshold follows it unless set with [`Self::alerts`]).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.alerts.sync_lag = self.alerts.sync_lag.map(|_| default_lag(&schedule));
        self.schedule = schedule;
        self
    }

    /// With other alert thresholds.
    pub fn alerts(mut self, rules: AlertRules) -> Self {
        self.alerts = rules;
        self
    }

    /// Whether the source sends webhooks to this host.
    pub fn receives_webhooks(mut self, yes: bool) -> Self {
        self.receives_webhooks = yes;
        self
    }

    /// The credentials' fingerprint.
    pub fn credentials(mut self, fingerprint: Option<String>) -> Self {
        self.credentials = fingerprint;
        self
    }
}

/// Three poll intervals, at least 30 minutes; 26 hours for accounts that are only synced daily.
fn default_lag(s: &Schedule) -> Duration {
    match s.poll_every {
        Some(every) => (every * 3).max(Duration::from_secs(30 * 60)),
        None => Duration::from_secs(26 * 3600),
    }
}

fn is_feed(kind: &ConnectorKind) -> bool {
    *kind == ConnectorKind::ICAL || *kind == ConnectorKind::FDM
}

/// Where the rooms read by a full sync go (the host's inventory).
#[async_trait]
pub trait RoomsSink: Send + Sync {
    /// Saves the properties (rooms and beds) an account read.
    async fn save_rooms(&self, scope: &Scope, properties: &[Property]) -> Result<(), BoxError>;
}

/// What the runtime did, for hosts and tests that watch it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RuntimeEvent {
    /// A run finished (committed, deferred or failed).
    Ran {
        /// The account.
        account: String,
        /// Why it ran.
        job: Job,
        /// Its audit record.
        run: Box<AuditRecord>,
    },
    /// Housekeeping was refreshed after a run ([`crate::Schedule::housekeeping`]).
    Housekeeping {
        /// The account.
        account: String,
        /// The refresh's audit record, with its room counts.
        run: Box<AuditRecord>,
    },
    /// An alert was raised, repeated or resolved.
    Alert(AlertEvent),
    /// An account was due but another process holds its lease.
    LeaseBusy {
        /// The account.
        account: String,
        /// The holder.
        by: String,
    },
    /// The workers sharing the store changed, and with them the accounts this one owns.
    Shared {
        /// The workers alive, sorted.
        workers: Vec<String>,
        /// How many of this runtime's accounts it owns now.
        owned: usize,
    },
}

/// Why a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Job {
    /// The daily full sync.
    Full,
    /// A scheduled poll.
    Poll,
    /// A queued retry of a plan that failed or was deferred.
    Retry(PlanKind),
    /// Webhook deliveries waiting in the inbox.
    Inbox,
    /// Asked for through [`RuntimeHandle::trigger`].
    Manual(PlanKind),
}

/// The runtime's knobs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Accounts synced at once (default 256): runs mostly wait on the network and on each
    /// source's own rate limit.
    pub max_concurrent: usize,
    /// Retries of failed runs.
    pub retry: RetryPolicy,
    /// Retries of failed inbox entries.
    pub inbox_backoff: InboxBackoff,
    /// Overdue accounts at start are spread over this long (default 30 s).
    pub catch_up_spread: Duration,
    /// An account's lease lasts this long unless renewed (default 60 s; renewed every third).
    pub lease_ttl: Duration,
    /// While another process holds an account, it is asked again this often (default 5 s),
    /// so a lease given back early — a `sync` beside `run` that finished — frees the account
    /// within seconds rather than when the lease would have run out.
    pub lease_recheck: Duration,
    /// Time-based alert rules are evaluated this often (default 60 s).
    pub alert_tick: Duration,
    /// How long shutdown waits for running syncs before abandoning them (default 30 s).
    pub shutdown_grace: Duration,
    /// This process's name in leases (default: host name, process id and a random suffix).
    pub holder: String,
    /// Workers sharing a store say they are alive every third of this (default 30 s); one
    /// silent for longer is taken for dead and its accounts are shared out among the others.
    pub worker_ttl: Duration,
    /// How late an account owned by another worker may be before this worker runs it anyway
    /// (default 2 min): covers workers that disagree on who is alive, or one that hangs.
    pub takeover_grace: Duration,
    /// While other workers share the store, how often this one looks at the shared inbox
    /// (default 1 s): a webhook another worker received for one of this worker's accounts
    /// announces itself only there.
    pub shared_inbox_poll: Duration,
    /// Seed for the retry jitter (default: from the OS).
    pub seed: Option<u64>,
    /// The sync engine's settings.
    pub sync: SyncConfig,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
        Self {
            max_concurrent: 256,
            retry: RetryPolicy::default(),
            inbox_backoff: InboxBackoff::default(),
            catch_up_spread: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(60),
            lease_recheck: Duration::from_secs(5),
            alert_tick: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
            holder: format!("{host}:{}:{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
            worker_ttl: Duration::from_secs(30),
            takeover_grace: Duration::from_secs(120),
            shared_inbox_poll: Duration::from_secs(1),
            seed: None,
            sync: SyncConfig::default(),
        }
    }
}

/// Builds a [`Runtime`].
#[must_use]
pub struct RuntimeBuilder {
    store: Arc<dyn JobStore>,
    sink: Arc<dyn Sink>,
    accounts: Vec<ManagedAccount>,
    alerts: Arc<dyn AlertSink>,
    rooms: Option<Arc<dyn RoomsSink>>,
    clock: Arc<dyn Clock>,
    config: RuntimeConfig,
}

impl RuntimeBuilder {
    /// Adds an account.
    pub fn account(mut self, account: ManagedAccount) -> Self {
        self.accounts.push(account);
        self
    }

    /// Adds accounts.
    pub fn accounts(mut self, accounts: impl IntoIterator<Item = ManagedAccount>) -> Self {
        self.accounts.extend(accounts);
        self
    }

    /// Where alerts go (default: the log).
    pub fn alert_sink(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.alerts = sink;
        self
    }

    /// Where the rooms a full sync reads go.
    pub fn rooms_sink(mut self, sink: Arc<dyn RoomsSink>) -> Self {
        self.rooms = Some(sink);
        self
    }

    /// The wall clock (default: the system's). Tests use
    /// [`hostelpulse_core::TokioWallClock`] under a paused tokio clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The knobs.
    pub fn config(mut self, config: RuntimeConfig) -> Self {
        self.config = config;
        self
    }

    /// The runtime; refuses two accounts with one name or one store key.
    pub fn build(self) -> Result<Runtime, hostelpulse_core::Error> {
        let mut names = HashSet::new();
        let mut scopes = HashMap::new();
        let mut slots = Vec::with_capacity(self.accounts.len());
        for (i, a) in self.accounts.into_iter().enumerate() {
            if !names.insert(a.id.clone()) {
                return Err(hostelpulse_core::Error::config(format!("account `{}` is configured twice", a.id)));
            }
            let scope = Scope::new(a.connector.kind(), a.connector.account().clone());
            if let Some(other) = scopes.insert(scope.clone(), i) {
                return Err(hostelpulse_core::Error::config(format!(
                    "accounts `{}` and `{}` are the same {} account `{}`",
                    slots.get(other).map_or("?", |s: &Slot| s.account.id.as_str()),
                    a.id,
                    scope.connector,
                    scope.account
                )));
            }
            slots.push(Slot { account: a, scope, state: Mutex::new(SlotState::default()) });
        }
        let n_slots = slots.len();
        let engine = SyncEngine::new(self.store.clone())
            .with_config(self.config.sync.clone())
            .with_clock(self.clock.clone())
            .with_worker(self.config.holder.clone());
        let rng = match self.config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let (shutdown, _) = watch::channel(false);
        let (events, _) = broadcast::channel(4096);
        Ok(Runtime {
            inner: Arc::new(Inner {
                store: self.store,
                engine,
                sink: self.sink,
                alerts: self.alerts,
                rooms: self.rooms,
                clock: self.clock,
                config: self.config,
                by_scope: scopes,
                slots,
                wake: Notify::new(),
                shutdown,
                events,
                ready: AtomicBool::new(false),
                rng: Mutex::new(rng),
                runs: AtomicU64::new(0),
                owned: Mutex::new(vec![true; n_slots]),
                live: Mutex::new(Vec::new()),
            }),
        })
    }
}

#[derive(Debug, Default)]
struct SlotState {
    job: JobRecord,
    /// The record as this process last read or wrote it: a different one in the store means
    /// another process worked the account since.
    persisted: JobRecord,
    facts: Facts,
    running: bool,
    manual: Option<PlanKind>,
    /// The run id given out for the queued manual run (every "sync now" until it starts gets
    /// the same: one run answers them all).
    manual_run_id: Option<String>,
    /// The run id of the manual run taken from the queue and about to start.
    starting_manual_id: Option<String>,
    /// Another process held the lease: not before this time.
    lease_wait: Option<DateTime<Utc>>,
}

impl SlotState {
    /// A manual run that could not start goes back to the queue with the id given out for it
    /// (unless a newer request already holds one).
    fn requeue_manual(&mut self, plan: PlanKind) {
        self.manual = Some(plan);
        let starting = self.starting_manual_id.take();
        if self.manual_run_id.is_none() {
            self.manual_run_id = starting;
        }
    }
}

struct Slot {
    account: ManagedAccount,
    scope: Scope,
    state: Mutex<SlotState>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Inner {
    store: Arc<dyn JobStore>,
    engine: SyncEngine,
    sink: Arc<dyn Sink>,
    alerts: Arc<dyn AlertSink>,
    rooms: Option<Arc<dyn RoomsSink>>,
    clock: Arc<dyn Clock>,
    config: RuntimeConfig,
    by_scope: HashMap<Scope, usize>,
    slots: Vec<Slot>,
    wake: Notify,
    shutdown: watch::Sender<bool>,
    events: broadcast::Sender<RuntimeEvent>,
    ready: AtomicBool,
    rng: Mutex<StdRng>,
    runs: AtomicU64,
    /// Which slots this worker owns among the workers alive (see [`crate::ownership`]).
    owned: Mutex<Vec<bool>>,
    /// The workers alive at the last heartbeat.
    live: Mutex<Vec<String>>,
}

/// Keeps every account fresh until shut down. Build with [`Runtime::builder`], take a
/// [`RuntimeHandle`], then `run().await`.
pub struct Runtime {
    inner: Arc<Inner>,
}

/// Talks to a running [`Runtime`]: shut it down, trigger a run, announce a webhook, watch it.
#[derive(Clone)]
pub struct RuntimeHandle {
    inner: Arc<Inner>,
}

/// How a runtime ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    /// Runs that finished while it ran.
    pub runs: u64,
    /// Runs still going when the shutdown grace ran out (nothing of them was committed; they
    /// run again after the restart).
    pub abandoned: usize,
}

/// One account as the runtime sees it now.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccountView {
    /// The account.
    pub id: String,
    /// Its store key.
    pub scope: Scope,
    /// Its schedule and retry state.
    pub job: JobRecord,
    /// A run is in progress.
    pub running: bool,
    /// The last success.
    pub last_success: Option<DateTime<Utc>>,
}

impl Runtime {
    /// A runtime over `store` delivering changes to `sink`.
    pub fn builder(store: Arc<dyn JobStore>, sink: Arc<dyn Sink>) -> RuntimeBuilder {
        RuntimeBuilder {
            store,
            sink,
            accounts: Vec::new(),
            alerts: Arc::new(LogAlerts),
            rooms: None,
            clock: Arc::new(hostelpulse_core::SystemClock),
            config: RuntimeConfig::default(),
        }
    }

    /// A handle to shut it down or talk to it while it runs.
    pub fn handle(&self) -> RuntimeHandle {
        RuntimeHandle { inner: self.inner.clone() }
    }

    /// Runs until [`RuntimeHandle::shutdown`]: loads the schedule from the store, then starts
    /// whatever is due, bounded by `max_concurrent`, one run at a time per account. Fails only
    /// when the schedule cannot be loaded at start; later store errors are logged and retried.
    pub async fn run(self) -> Result<Stopped, StoreError> {
        let inner = self.inner;
        // Who else works this store, before the schedule is loaded: catch-up is planned for the
        // accounts this worker owns.
        inner.heartbeat().await;
        let beat = inner.config.worker_ttl / 3;
        let mut next_beat = tokio::time::Instant::now() + beat;
        inner.load().await?;
        inner.ready.store(true, Ordering::SeqCst);
        let mut shutdown = inner.shutdown.subscribe();
        let pool = Arc::new(Semaphore::new(inner.config.max_concurrent.max(1)));
        let mut tasks: JoinSet<()> = JoinSet::new();
        let tick = chrono::Duration::from_std(inner.config.alert_tick).unwrap_or(chrono::Duration::minutes(1));
        let mut next_tick = inner.clock.now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            while tasks.try_join_next().is_some() {}
            if tokio::time::Instant::now() >= next_beat {
                inner.heartbeat().await;
                next_beat = tokio::time::Instant::now() + beat;
            }
            let now = inner.clock.now();
            let grace = chrono::Duration::from_std(inner.config.takeover_grace).unwrap_or(chrono::Duration::minutes(2));
            let owned = inner.owned.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // A store that fails for a moment (a locked file, a restarting database) delays
            // the inbox; it never stops the runtime.
            let mut store_trouble = false;
            // The oldest due delivery per account: another worker's account is this one's only
            // once its owner has left it undone past the grace.
            let inbox_due: HashMap<Scope, DateTime<Utc>> = match inner.store.inbox_due(now, 100_000).await {
                Ok(due) => {
                    let mut oldest = HashMap::new();
                    for e in due {
                        let at = oldest.entry(e.scope).or_insert(e.next_at);
                        *at = (*at).min(e.next_at);
                    }
                    oldest
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the inbox; trying again shortly");
                    store_trouble = true;
                    HashMap::new()
                }
            };
            metrics::gauge!("hostelpulse_inbox_depth").set(inbox_due.len() as f64);
            for (i, slot) in inner.slots.iter().enumerate() {
                // Another worker's account is judged as if it were `grace` earlier.
                let job = {
                    let mut st = slot.lock();
                    // A "sync now" asked of this worker is its own, whoever owns the account.
                    let mine = owned.get(i).copied().unwrap_or(true) || st.manual.is_some();
                    let at = if mine { now } else { now - grace };
                    let inbox = inbox_due.get(&slot.scope).is_some_and(|due| *due <= at);
                    let job = inner.due(slot, &mut st, at, inbox);
                    if job.is_some() {
                        st.running = true;
                    }
                    job
                };
                if let Some(job) = job {
                    let (inner, pool) = (inner.clone(), pool.clone());
                    tasks.spawn(async move {
                        let permit = pool.acquire_owned().await;
                        // A panic in a connector must not leave the account marked running for
                        // ever: it is caught here and the account retried on the backoff.
                        if AssertUnwindSafe(inner.work(i, job)).catch_unwind().await.is_err() {
                            inner.panicked(i, job).await;
                        }
                        drop(permit);
                    });
                }
            }
            if now >= next_tick {
                inner.tick(now).await;
                next_tick = now + tick;
            }
            metrics::gauge!("hostelpulse_running_syncs").set(tasks.len() as f64);
            let mut next = next_tick;
            for (i, slot) in inner.slots.iter().enumerate() {
                let st = slot.lock();
                if let Some(at) = inner.next_due(slot, &st) {
                    let mine = owned.get(i).copied().unwrap_or(true) || st.manual.is_some();
                    next = next.min(if mine { at } else { at + grace });
                }
            }
            let until_beat = next_beat.saturating_duration_since(tokio::time::Instant::now());
            next = next.min(inner.clock.now() + chrono::Duration::from_std(until_beat).unwrap_or_default());
            // Deliveries already due wake the loop only where this worker could start them: an
            // account running now wakes it when its run ends, another worker's account after
            // the grace, an account not configured here never. (Waking for those at once would
            // spin the loop until someone else dealt with them.)
            for (scope, at) in &inbox_due {
                if let Some(&i) = inner.by_scope.get(scope) {
                    let slot = &inner.slots[i];
                    if let Some(when) = inner.inbox_wake(slot, &slot.lock(), *at) {
                        next = next.min(if owned.get(i).copied().unwrap_or(true) { when } else { when + grace });
                    }
                }
            }
            match inner.store.inbox_next_due().await {
                Ok(Some(at)) if at > now => next = next.min(at),
                Ok(_) => {}
                Err(_) => store_trouble = true,
            }
            if store_trouble {
                next = next.min(inner.clock.now() + chrono::Duration::seconds(5));
            }
            if inner.live.lock().unwrap_or_else(|e| e.into_inner()).len() > 1 {
                let poll =
                    chrono::Duration::from_std(inner.config.shared_inbox_poll).unwrap_or(chrono::Duration::seconds(1));
                next = next.min(inner.clock.now() + poll);
            }
            let wait = (next - inner.clock.now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = inner.wake.notified() => {}
                _ = shutdown.changed() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        inner.ready.store(false, Ordering::SeqCst);
        // Stop taking work; let running syncs commit or fail cleanly within the grace.
        let drained =
            tokio::time::timeout(inner.config.shutdown_grace, async { while tasks.join_next().await.is_some() {} })
                .await;
        let mut abandoned = 0;
        if drained.is_err() {
            abandoned = tasks.len();
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            for slot in &inner.slots {
                if slot.lock().running {
                    let _ = inner.store.release(&slot.scope, &inner.config.holder, None).await;
                }
            }
        }
        // The others take this worker's accounts at their next heartbeat.
        if let Err(e) = inner.store.leave(&inner.config.holder).await {
            tracing::warn!(error = %e, "cannot sign off; the other workers wait for this one's heartbeat to expire");
        }
        Ok(Stopped { runs: inner.runs.load(Ordering::SeqCst), abandoned })
    }
}

impl RuntimeHandle {
    /// Stops taking work; running syncs get the shutdown grace to finish.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// The runtime loaded its accounts and is running.
    pub fn ready(&self) -> bool {
        self.inner.ready.load(Ordering::SeqCst)
    }

    /// Events: runs, alerts, busy leases. Subscribe before `run()` to see everything.
    pub fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.inner.events.subscribe()
    }

    /// Asks for a run of `plan` (full or incremental) on `account` now. Also lifts a block on
    /// rejected credentials: the owner says they fixed them. `false` when no such account.
    pub fn trigger(&self, account: &str, plan: PlanKind) -> bool {
        self.queue_run(account, plan).is_some()
    }

    /// Queues a run like [`RuntimeHandle::trigger`] and gives the run id its audit record will
    /// carry; `None` when the runtime does not run `account`. Until the run starts, asking
    /// again queues nothing more and gives the same id (a full sync asked for after an
    /// incremental one makes the queued run a full one).
    pub fn queue_run(&self, account: &str, plan: PlanKind) -> Option<String> {
        let slot = self.inner.slots.iter().find(|s| s.account.id == account)?;
        let id = {
            let mut st = slot.lock();
            let plan = match st.manual {
                Some(PlanKind::Full) => PlanKind::Full,
                _ => plan,
            };
            st.manual = Some(plan);
            st.manual_run_id.get_or_insert_with(|| uuid::Uuid::new_v4().to_string()).clone()
        };
        self.inner.wake.notify_one();
        Some(id)
    }

    /// A verified webhook for `scope` was put in the inbox: process it now, and note that the
    /// source is sending.
    pub fn webhook_received(&self, scope: &Scope) {
        if let Some(i) = self.inner.by_scope.get(scope) {
            self.inner.slots[*i].lock().facts.last_webhook = Some(self.inner.clock.now());
        }
        self.inner.wake.notify_one();
    }

    /// Every account's schedule and state.
    pub fn accounts(&self) -> Vec<AccountView> {
        self.inner
            .slots
            .iter()
            .map(|s| {
                let st = s.lock();
                AccountView {
                    id: s.account.id.clone(),
                    scope: s.scope.clone(),
                    job: st.job.clone(),
                    running: st.running,
                    last_success: st.facts.last_success,
                }
            })
            .collect()
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Inner {
    /// Says this worker is alive and re-reads who owns which account. A store that cannot
    /// answer leaves the last assignment in place (the leases still keep runs apart).
    async fn heartbeat(&self) {
        let ttl = chrono::Duration::from_std(self.config.worker_ttl).unwrap_or(chrono::Duration::seconds(30));
        let live = match self.store.heartbeat(&self.config.holder, self.clock.now(), ttl).await {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(error = %e, "cannot heartbeat; keeping the last assignment");
                return;
            }
        };
        let changed = {
            let mut last = self.live.lock().unwrap_or_else(|e| e.into_inner());
            let changed = *last != live;
            *last = live.clone();
            changed
        };
        if changed {
            let scopes: Vec<Scope> = self.slots.iter().map(|s| s.scope.clone()).collect();
            let mine = crate::ownership::assign(&scopes, &live, &self.config.holder);
            let count = mine.iter().filter(|m| **m).count();
            tracing::info!(workers = live.len(), owned = count, of = scopes.len(), "accounts shared out");
            let before = std::mem::replace(&mut *self.owned.lock().unwrap_or_else(|e| e.into_inner()), mine.clone());
            // Before the first load, the load itself reads every schedule.
            if self.ready.load(Ordering::SeqCst) {
                self.adopt(&before, &mine).await;
            }
            metrics::gauge!("hostelpulse_owned_accounts").set(count as f64);
            metrics::gauge!("hostelpulse_live_workers").set(live.len() as f64);
            let _ = self.events.send(RuntimeEvent::Shared { workers: live, owned: count });
            self.wake.notify_one();
        }
    }

    /// Accounts this worker owns since the last heartbeat: their schedules as their last owner
    /// saved them (this worker's copy may be as old as its start), and a catch-up for any that
    /// no one ever scheduled (their owner left before it got to them).
    async fn adopt(&self, before: &[bool], now_owned: &[bool]) {
        let now = self.clock.now();
        let mut unscheduled = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            if !now_owned.get(i).copied().unwrap_or(true) || before.get(i).copied().unwrap_or(true) {
                continue;
            }
            let saved = match self.store.job(&slot.scope).await {
                Ok(saved) => saved,
                Err(e) => {
                    tracing::warn!(account = %slot.account.id, error = %e, "cannot read a taken-over account's schedule");
                    continue;
                }
            };
            let mut st = slot.lock();
            if st.running {
                continue;
            }
            if let Some(saved) = saved
                && saved != st.persisted
            {
                st.persisted = saved.clone();
                st.job = saved;
            }
            let j = &mut st.job;
            if j.next_full_at.is_none() && j.next_poll_at.is_none() && j.retry.is_none() && j.blocked.is_none() {
                j.managed_since.get_or_insert(now);
                unscheduled.push(i);
            }
        }
        if let Err(e) = self.catch_up(now, unscheduled).await {
            tracing::warn!(error = %e, "cannot save a taken-over account's schedule");
        }
        self.wake.notify_one();
    }

    /// Job records and recent runs from the store; new and overdue accounts spread out.
    async fn load(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut saved: HashMap<Scope, JobRecord> = self.store.jobs().await?.into_iter().collect();
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut overdue = Vec::new();
        let scopes: Vec<Scope> = self.slots.iter().map(|s| s.scope.clone()).collect();
        let facts = self.store.startup_facts(&scopes, 50).await?;
        for (i, (slot, facts)) in self.slots.iter().zip(facts).enumerate() {
            let StartupFacts { mut recent, last_webhook, .. } = facts;
            // The account's facts are its bookings' sync: room refreshes say nothing of them.
            recent.retain(|r| r.plan != PlanKind::Rooms);
            let mut job = saved.remove(&slot.scope).unwrap_or_default();
            job.managed_since.get_or_insert(now);
            let mut st = slot.lock();
            st.facts = Facts {
                consecutive_failures: job.failures,
                last_error: recent.first().and_then(|r| match &r.outcome {
                    Outcome::Failed { message, .. } => Some(message.clone()),
                    _ => None,
                }),
                last_success: recent.iter().find(|r| r.outcome.is_success()).map(|r| r.finished_at),
                managed_since: job.managed_since,
                credentials_rejected: job.blocked.as_ref().map(|b| b.reason.clone()),
                expects_webhooks: slot.account.receives_webhooks,
                last_webhook,
                is_feed: is_feed(&slot.scope.connector),
                last_run_failures: recent.first().map_or(0, |r| r.counts.failed as usize),
            };
            st.persisted = job.clone();
            st.job = job;
            // Another worker's overdue account is its owner's to catch up.
            if owned.get(i).copied().unwrap_or(true) && self.next_due(slot, &st).is_none_or(|at| at <= now) {
                overdue.push(i);
            }
        }
        self.catch_up(now, overdue).await
    }

    /// Nothing is run twice to catch up: one full (or poll) per overdue account, spread out
    /// from `now`, and saved.
    async fn catch_up(&self, now: DateTime<Utc>, overdue: Vec<usize>) -> Result<(), StoreError> {
        let count = overdue.len();
        let mut jobs = Vec::with_capacity(count);
        for (k, i) in overdue.into_iter().enumerate() {
            let slot = &self.slots[i];
            let at = catch_up_slot(now, self.config.catch_up_spread, k, count);
            let job = {
                let mut st = slot.lock();
                let j = &mut st.job;
                if let Some(r) = &mut j.retry {
                    r.at = r.at.max(at);
                }
                if j.next_full_at.is_none_or(|t| t < at) {
                    j.next_full_at = Some(at);
                }
                if j.next_poll_at.is_some_and(|t| t < at) {
                    j.next_poll_at = Some(at);
                }
                let j = j.clone();
                st.persisted = j.clone();
                j
            };
            jobs.push((slot.scope.clone(), job));
        }
        // One write for the whole fleet's schedules.
        self.store.save_jobs(&jobs).await
    }

    /// When a delivery due since `at` can be started on this slot: not while it runs (its end
    /// wakes the loop), not while its credentials are blocked (new ones do), not before another
    /// process's lease on it ends.
    fn inbox_wake(&self, slot: &Slot, st: &SlotState, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if st.running || st.job.blocked.as_ref().is_some_and(|b| b.credentials == slot.account.credentials) {
            return None;
        }
        Some(st.lease_wait.map_or(at, |w| at.max(w)))
    }

    /// When the slot next wants to run, if ever (inbox entries are watched separately).
    fn next_due(&self, slot: &Slot, st: &SlotState) -> Option<DateTime<Utc>> {
        if st.running {
            return None;
        }
        let at = if st.manual.is_some() {
            Some(DateTime::<Utc>::MIN_UTC)
        } else if let Some(b) = &st.job.blocked {
            // New credentials lift the block at once.
            (b.credentials != slot.account.credentials).then_some(DateTime::<Utc>::MIN_UTC)
        } else if let Some(r) = &st.job.retry {
            Some(r.at)
        } else {
            [st.job.next_full_at, st.job.next_poll_at].into_iter().flatten().min()
        };
        match (at, st.lease_wait) {
            (Some(a), Some(w)) => Some(a.max(w)),
            (a, _) => a,
        }
    }

    /// The job to start now, if any.
    fn due(&self, slot: &Slot, st: &mut SlotState, now: DateTime<Utc>, inbox: bool) -> Option<Job> {
        if st.running || st.lease_wait.is_some_and(|w| w > now) {
            return None;
        }
        if let Some(plan) = st.manual.take() {
            st.starting_manual_id = st.manual_run_id.take();
            st.job.blocked = None;
            return Some(Job::Manual(plan));
        }
        if let Some(b) = &st.job.blocked {
            if b.credentials == slot.account.credentials {
                return None;
            }
            st.job.blocked = None;
            st.job.failures = 0;
            st.facts.credentials_rejected = None;
            return Some(Job::Full);
        }
        if inbox {
            return Some(Job::Inbox);
        }
        if let Some(r) = &st.job.retry {
            return (r.at <= now).then_some(Job::Retry(r.plan));
        }
        if st.job.next_full_at.is_some_and(|t| t <= now) {
            return Some(Job::Full);
        }
        if st.job.next_poll_at.is_some_and(|t| t <= now) {
            return Some(Job::Poll);
        }
        None
    }

    /// One job on one account, under its lease.
    async fn work(self: &Arc<Self>, i: usize, job: Job) {
        let slot = &self.slots[i];
        let holder = &self.config.holder;
        let ttl = chrono::Duration::from_std(self.config.lease_ttl).unwrap_or(chrono::Duration::minutes(1));
        let started = self.clock.now();
        let ours_since: bool;
        match self.store.lease(&slot.scope, holder, started, ttl).await {
            Ok(LeaseGrant::Granted { quiet_until, previous_holder, .. }) => {
                if let Some(wait) = quiet_until.and_then(|q| (q - started).to_std().ok()) {
                    tokio::time::sleep(wait).await;
                }
                ours_since = previous_holder.as_deref() == Some(holder.as_str());
            }
            Ok(LeaseGrant::Held { by, until }) => {
                let recheck =
                    chrono::Duration::from_std(self.config.lease_recheck).unwrap_or(chrono::Duration::seconds(5));
                let mut st = slot.lock();
                st.running = false;
                // Said once per wait, not at every look.
                let first = st.lease_wait.is_none();
                st.lease_wait = Some(until.min(started + recheck));
                if let Job::Manual(p) = job {
                    st.requeue_manual(p);
                }
                drop(st);
                if first {
                    let _ = self.events.send(RuntimeEvent::LeaseBusy { account: slot.account.id.clone(), by });
                }
                self.wake.notify_one();
                return;
            }
            Ok(_) => {
                self.requeue_after_store_error(slot, job);
                return;
            }
            Err(e) => {
                tracing::warn!(account = %slot.account.id, error = %e, "cannot take the account's lease");
                self.requeue_after_store_error(slot, job);
                return;
            }
        }
        // Another process may have worked this account since we last held it: its record wins,
        // and the loop decides again from it. (When we were the last holder, nobody did.)
        if !ours_since && let Ok(Some(saved)) = self.store.job(&slot.scope).await {
            let adopted = {
                let mut st = slot.lock();
                let other = saved != st.persisted;
                if other {
                    st.persisted = saved.clone();
                    st.job = saved;
                    st.running = false;
                    if let Job::Manual(p) = job {
                        st.requeue_manual(p);
                    }
                }
                other
            };
            if adopted {
                let _ = self.store.release(&slot.scope, holder, None).await;
                self.wake.notify_one();
                return;
            }
        }
        let renew = {
            let (store, scope, holder) = (self.store.clone(), slot.scope.clone(), holder.clone());
            let (clock, every) = (self.clock.clone(), self.config.lease_ttl / 3);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let _ = store.lease(&scope, &holder, clock.now(), ttl).await;
                }
            })
        };
        // Aborted with this future too: a runtime dropped mid-run must stop renewing, or the
        // account would stay held by a worker that no longer exists.
        let renew = AbortOnDrop(renew);
        let (runs, housekeeping) = self.execute(slot, job).await;
        drop(renew);
        let done = self.clock.now();
        let quiet = crate::lease::quiet_after(&slot.account.connector.capabilities().sync.rate_limit)
            .and_then(|w| chrono::Duration::from_std(w).ok())
            .map(|w| done + w);
        let events = self.settle(slot, job, started, &runs);
        let record = slot.lock().job.clone();
        // Saved with the lease's release, so the next holder starts from it.
        if let Err(e) = self.store.save_job_and_release(&slot.scope, &record, holder, quiet).await {
            tracing::warn!(account = %slot.account.id, error = %e, "cannot save the account's schedule");
            if let Err(e) = self.store.release(&slot.scope, holder, quiet).await {
                tracing::warn!(account = %slot.account.id, error = %e, "cannot release the account's lease");
            }
        }
        {
            let mut st = slot.lock();
            st.persisted = record;
            st.running = false;
            st.lease_wait = None;
        }
        for run in runs {
            self.runs.fetch_add(1, Ordering::SeqCst);
            crate::metrics::record_run(&slot.account.id, &run, done);
            let _ = self.events.send(RuntimeEvent::Ran { account: slot.account.id.clone(), job, run: Box::new(run) });
        }
        if let Some(run) = housekeeping {
            let _ =
                self.events.send(RuntimeEvent::Housekeeping { account: slot.account.id.clone(), run: Box::new(run) });
        }
        self.deliver(events).await;
        self.wake.notify_one();
    }

    /// After a run that panicked: the account is freed, its lease given back, and the job
    /// queued for a retry like a failed run.
    async fn panicked(&self, i: usize, job: Job) {
        let slot = &self.slots[i];
        tracing::error!(account = %slot.account.id, ?job, "a sync panicked; it will be retried");
        let _ = self.store.release(&slot.scope, &self.config.holder, None).await;
        let record = {
            let mut st = slot.lock();
            st.running = false;
            st.job.failures += 1;
            let at = self.retry_at(self.clock.now(), st.job.failures);
            let plan = match job {
                Job::Retry(p) | Job::Manual(p) => p,
                _ => PlanKind::Full,
            };
            st.job.retry = Some(QueuedRetry::new(plan, at, "the sync panicked"));
            st.facts.consecutive_failures = st.job.failures;
            st.facts.last_error = Some("the sync panicked (a bug: please report it)".into());
            st.persisted = st.job.clone();
            st.job.clone()
        };
        let _ = self.store.save_job(&slot.scope, &record).await;
        self.wake.notify_one();
    }

    /// When a job that failed `failures` times in a row is tried again: the retry policy's
    /// jittered backoff from `now`.
    fn retry_at(&self, now: DateTime<Utc>, failures: u32) -> DateTime<Utc> {
        let wait = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            self.config.retry.delay(failures, &mut *rng)
        };
        now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
    }

    fn requeue_after_store_error(&self, slot: &Slot, job: Job) {
        let mut st = slot.lock();
        st.running = false;
        st.lease_wait = Some(self.clock.now() + chrono::Duration::seconds(5));
        if let Job::Manual(p) = job {
            st.requeue_manual(p);
        }
        drop(st);
        self.wake.notify_one();
    }

    /// Runs the job's plan; the inbox job may run several (one per delivery). Then the
    /// housekeeping refresh the schedule asks for, apart: it is no sync run.
    async fn execute(&self, slot: &Slot, job: Job) -> (Vec<AuditRecord>, Option<AuditRecord>) {
        let c = slot.account.connector.as_ref();
        let poll_plan = match slot.account.schedule.poll_plan {
            PollPlan::Incremental => PlanKind::Incremental,
            PollPlan::Full => PlanKind::Full,
        };
        let (plan, trigger) = match job {
            Job::Full => (PlanKind::Full, Trigger::ScheduledFull),
            Job::Poll => (poll_plan, Trigger::Poll),
            Job::Retry(p) => (p, if p == PlanKind::Full { Trigger::ScheduledFull } else { Trigger::Poll }),
            Job::Manual(p) => (p, Trigger::Manual),
            Job::Inbox => {
                let worker = InboxWorker::new(self.engine.clone()).backoff(self.config.inbox_backoff.clone());
                let now = self.clock.now();
                let runs = match worker
                    .process_due_for(now, &slot.scope, slot.account.connector.clone(), self.sink.as_ref())
                    .await
                {
                    Ok(done) => done.into_iter().filter_map(|p| p.run).collect(),
                    Err(e) => {
                        tracing::warn!(account = %slot.account.id, error = %e, "inbox");
                        Vec::new()
                    }
                };
                return (runs, None);
            }
        };
        if plan == PlanKind::Full
            && let Some(rooms) = &self.rooms
            && c.capabilities().supports(Operation::ReadRooms)
        {
            match c.rooms().await {
                Ok(props) => {
                    if let Err(e) = rooms.save_rooms(&slot.scope, &props).await {
                        tracing::warn!(account = %slot.account.id, error = %e, "cannot save rooms");
                    }
                }
                Err(e) => tracing::debug!(account = %slot.account.id, error = %e, "rooms not read"),
            }
        }
        let plan = match plan {
            PlanKind::Incremental if c.capabilities().supports(Operation::ReadBookingsModified) => Plan::Incremental,
            _ => Plan::Full,
        };
        let run = match job {
            Job::Manual(_) => {
                let id = slot.lock().starting_manual_id.take().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                self.engine.run_as(c, plan, trigger, self.sink.as_ref(), id).await
            }
            _ => self.engine.run(c, plan, trigger, self.sink.as_ref()).await,
        };
        // Each room's condition after the bookings, and only when they got through. Its own
        // audit record and event: a failed refresh is no failed sync, and is never retried as one.
        if slot.account.schedule.housekeeping
            && run.outcome.is_success()
            && c.capabilities().supports(Operation::ReadHousekeeping)
        {
            let rooms = self.engine.run(c, Plan::Housekeeping, trigger, self.sink.as_ref()).await;
            if !rooms.outcome.is_success() {
                tracing::warn!(account = %slot.account.id, outcome = %rooms.outcome, "housekeeping not refreshed");
            }
            return (vec![run], Some(rooms));
        }
        (vec![run], None)
    }

    /// The schedule and retry state after a job, and the alert events it causes.
    fn settle(&self, slot: &Slot, job: Job, started: DateTime<Utc>, runs: &[AuditRecord]) -> Vec<AlertEvent> {
        let now = self.clock.now();
        let schedule = &slot.account.schedule;
        let mut st = slot.lock();
        let st = &mut *st;
        let plan = match job {
            Job::Full => Some(PlanKind::Full),
            Job::Poll => Some(match schedule.poll_plan {
                PollPlan::Incremental => PlanKind::Incremental,
                PollPlan::Full => PlanKind::Full,
            }),
            Job::Retry(p) | Job::Manual(p) => Some(p),
            Job::Inbox => None,
        };
        for run in runs {
            match &run.outcome {
                Outcome::Ok | Outcome::Partial => {
                    st.job.failures = 0;
                    st.facts.last_success = Some(run.finished_at);
                    st.facts.last_error = None;
                }
                other if plan.is_none() => {
                    // Inbox runs retry on the inbox's own schedule; they count as failures.
                    st.job.failures += 1;
                    st.facts.last_error = message_of(other);
                }
                _ => {}
            }
            st.facts.last_run_failures = run.counts.failed as usize;
        }
        if let (Some(plan), Some(run)) = (plan, runs.last()) {
            match &run.outcome {
                Outcome::Ok | Outcome::Partial => {
                    st.job.retry = None;
                    // A full read also covers a poll; a poll never moves the daily full.
                    if plan == PlanKind::Full {
                        st.job.next_full_at = Some(schedule.next_full_after(now));
                    }
                    st.job.next_poll_at = schedule
                        .next_poll_after(started)
                        .map(|t| if t <= now { schedule.next_poll_after(now).unwrap_or(t) } else { t });
                }
                Outcome::Deferred { retry_at } => {
                    st.job.failures += 1;
                    st.job.retry =
                        Some(QueuedRetry::new(plan, (*retry_at).max(now), "deferred by the source's rate limit"));
                    st.facts.last_error = Some("deferred by the source's rate limit".into());
                }
                Outcome::Failed { kind: Some(ErrorKind::Reauthenticate), message, .. } => {
                    st.job.failures += 1;
                    st.job.retry = None;
                    st.job.blocked = Some(Blocked::new(now, slot.account.credentials.clone(), message.clone()));
                    st.facts.credentials_rejected = Some(message.clone());
                    st.facts.last_error = Some(message.clone());
                }
                Outcome::Failed { message, .. } => {
                    st.job.failures += 1;
                    let at = self.retry_at(now, st.job.failures);
                    st.job.retry = Some(QueuedRetry::new(plan, at, message.clone()));
                    st.facts.last_error = Some(message.clone());
                }
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        if st.job.blocked.is_none() {
            st.facts.credentials_rejected = None;
        }
        st.facts.consecutive_failures = st.job.failures;
        alerts::evaluate(&slot.account.id, &slot.account.alerts, &st.facts, &mut st.job.alerts, now)
    }

    /// Time-based rules (lag, silence, stale feeds) for every account not running, and gauges.
    async fn tick(&self, now: DateTime<Utc>) {
        let mut events = Vec::new();
        let mut changed = Vec::new();
        let mut firing: BTreeMap<&'static str, usize> =
            alerts::AlertRule::ALL.iter().map(|r| (r.as_str(), 0)).collect();
        let (mut queued, mut blocked) = (0usize, 0usize);
        for slot in &self.slots {
            let mut st = slot.lock();
            let st = &mut *st;
            if !st.running {
                let ev = alerts::evaluate(&slot.account.id, &slot.account.alerts, &st.facts, &mut st.job.alerts, now);
                if !ev.is_empty() {
                    st.persisted = st.job.clone();
                    changed.push((slot.scope.clone(), st.job.clone()));
                    events.extend(ev);
                }
            }
            for name in st.job.alerts.keys() {
                if let Some(n) = firing.get_mut(name.as_str()) {
                    *n += 1;
                }
            }
            queued += usize::from(st.job.retry.is_some());
            blocked += usize::from(st.job.blocked.is_some());
            crate::metrics::lag(&slot.account.id, st.facts.last_success, now);
        }
        for (rule, n) in firing {
            metrics::gauge!("hostelpulse_alerts_firing", "rule" => rule).set(n as f64);
        }
        metrics::gauge!("hostelpulse_queue_depth").set(queued as f64);
        metrics::gauge!("hostelpulse_accounts_blocked").set(blocked as f64);
        for (scope, job) in changed {
            if let Err(e) = self.store.save_job(&scope, &job).await {
                tracing::warn!(error = %e, "cannot save alert state");
            }
        }
        self.deliver(events).await;
    }

    async fn deliver(&self, events: Vec<AlertEvent>) {
        for e in events {
            metrics::counter!("hostelpulse_alerts_total", "rule" => e.rule.as_str(), "status" => e.status.as_str())
                .increment(1);
            if let Err(err) = self.alerts.deliver(&e).await {
                tracing::warn!(account = %e.account, rule = e.rule.as_str(), error = %err, "alert not delivered");
            }
            let _ = self.events.send(RuntimeEvent::Alert(e));
        }
    }
}

fn message_of(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Failed { message, .. } => Some(message.clone()),
        Outcome::Deferred { .. } => Some("deferred by the source's rate limit".into()),
        _ => None,
    }
}
