//! `runtime_fleet`: the runtime over many properties in one process.
//!
//! 1. **Fleet** — N emulated Cloudbeds properties (5 requests/s each, strictly enforced by the
//!    emulator: a sixth request in any one-second window suspends the credentials) and M Beds24
//!    accounts, all built from one fleet configuration, each synced once (their first full sync).
//!    Reports the wall time against the rate-limit minimum (the most requests any one property
//!    needed, at 5/s) plus the service time of one property synced alone, the busiest second of
//!    any property, and the peak resident memory the fleet added, per account (read from the
//!    kernel, so no counting allocator slows the run).
//! 2. **Idle** — 10,000 accounts with nothing due: the process's CPU time over a stretch of wall
//!    time, with the alert tick at 10 s (six times the default rate, so an upper bound).
//!
//! Run: `cargo bench -p hostelpulse-cli --bench runtime_fleet [-- CLOUDBEDS BEDS24 IDLE_SECS]`
//! (defaults 1000 1000 31).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hostelpulse::config::{EnvSecrets, Fleet};
use hostelpulse::core::testkit::ReferenceUpstream;
use hostelpulse::fleet::FleetRegistry;
use hostelpulse::runtime::{CollectingAlerts, ManagedAccount, Runtime, RuntimeConfig, RuntimeEvent};
use hostelpulse::store::SqliteStore;
use hostelpulse::sync::{CollectingSink, JobRecord, JobStore, MemoryStore, Scope};
use hostelpulse_sandbox::{Beds24Emulator, CloudbedsEmulator};

/// A `/proc/self/status` figure in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB"));
    kib.and_then(|k| k.trim().parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// Starts a new peak: Linux resets `VmHWM` to the current resident size on a `5` here.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args().skip(1).filter(|a| !a.starts_with('-')).nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn cpu_secs() -> f64 {
    // utime + stime from /proc/self/stat, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn cloudbeds_account(k: usize, id: &str, key: &str, url: &str) -> String {
    format!(
        "\n[[property]]\nname = \"C{k}\"\ntimezone = \"Europe/Lisbon\"\nschedule = {{ housekeeping = false }}\n[[property.account]]\nconnector = \"cloudbeds\"\n\
         id = \"cloudbeds-{k}\"\nproperty_id = \"{id}\"\napi_key = {{ value = \"{key}\", insecure_inline = true }}\n\
         http = {{ base_url = \"{url}\" }}\n"
    )
}

fn beds24_account(k: usize, e: &Beds24Emulator) -> String {
    format!(
        "\n[[property]]\nname = \"B{k}\"\ntimezone = \"Europe/Lisbon\"\n[[property.account]]\nconnector = \"beds24\"\n\
         id = \"beds24-{k}\"\nproperty_id = {pid}\ncredentials = {{ refresh_token = {{ value = \"{token}\", insecure_inline = true }} }}\n\
         http = {{ base_url = \"{url}\" }}\n",
        pid = e.property_id(),
        token = e.issue_refresh_token(),
        url = e.base_url()
    )
}

/// Rooms into the state, as `hostelpulse run` keeps them (a full sync then reads rooms too).
struct Rooms(Arc<SqliteStore>);

#[async_trait::async_trait]
impl hostelpulse::runtime::RoomsSink for Rooms {
    async fn save_rooms(
        &self,
        scope: &Scope,
        properties: &[hostelpulse::model::Property],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.save_properties(scope, properties).await?)
    }
}

async fn sync_once(text: &str, dir: &std::path::Path, name: &str) -> (Duration, usize, u64, f64) {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let fleet = Fleet::load(&path).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.join(format!("{name}.sqlite"))).await.unwrap());
    let built = FleetRegistry::build(&fleet, &EnvSecrets, store.clone()).unwrap();
    let accounts = built.managed();
    let n = accounts.len();
    let mut cfg = RuntimeConfig::default();
    cfg.catch_up_spread = Duration::ZERO;
    cfg.max_concurrent = n.max(1);
    // RUNTIME_STORE=memory: the runtime's state in memory, to see what the SQLite file costs.
    let builder = if std::env::var("RUNTIME_STORE").as_deref() == Ok("memory") {
        Runtime::builder(Arc::new(MemoryStore::new()), Arc::new(CollectingSink::new()))
    } else {
        Runtime::builder(store.clone(), store.clone()).rooms_sink(Arc::new(Rooms(store.clone())))
    };
    let rt = builder.accounts(accounts).alert_sink(Arc::new(CollectingAlerts::new())).config(cfg).build().unwrap();
    let handle = rt.handle();
    let mut events = handle.subscribe();
    reset_peak();
    let before = status_bytes("VmRSS");
    let (t, cpu0) = (Instant::now(), cpu_secs());
    let task = tokio::spawn(rt.run());
    let mut done = std::collections::HashSet::new();
    while done.len() < n {
        match tokio::time::timeout(Duration::from_secs(600), events.recv()).await {
            Ok(Ok(RuntimeEvent::Ran { account, run, .. })) => {
                assert!(run.outcome.is_success(), "{account}: {}", run.outcome);
                done.insert(account);
            }
            Ok(Ok(_)) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(k))) => panic!("lost {k} events"),
            other => panic!("runtime stopped early: {other:?}"),
        }
    }
    let (took, cpu) = (t.elapsed(), cpu_secs() - cpu0);
    let peak = status_bytes("VmHWM").saturating_sub(before);
    handle.shutdown();
    task.await.unwrap().unwrap();
    (took, n, peak, cpu)
}

/// How long the emulators take to serve the fleet's requests when nothing else happens: the
/// requests a first full sync makes (Cloudbeds: hotel, room types, rooms, reservations; Beds24:
/// token, property, bookings) sent straight with one HTTP client, 256 at a time, to a fresh
/// Cloudbeds emulator without a rate limit and to the Beds24 emulators.
async fn service_time(n_cb: usize, beds24: &[Beds24Emulator]) -> Duration {
    use futures_util::StreamExt;
    let ids: Vec<String> = (0..n_cb).map(|i| (400_000 + i).to_string()).collect();
    let cb = CloudbedsEmulator::builder()
        .properties(ids.clone())
        .reservations(10)
        .rate_limit(1_000_000)
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut requests: Vec<reqwest::RequestBuilder> = Vec::new();
    for id in &ids {
        let key = cb.issue_api_key(id);
        for (method, q) in [
            ("getHotels", format!("propertyIDs={id}")),
            ("getRoomTypes", format!("propertyIDs={id}")),
            ("getRooms", format!("propertyIDs={id}")),
            (
                "getReservationsWithRateDetails",
                format!("propertyID={id}&includeDeleted=true&includeGuestsDetails=true"),
            ),
        ] {
            requests.push(client.get(format!("{}/{method}?{q}", cb.base_url())).header("x-api-key", key.clone()));
        }
    }
    for e in beds24 {
        let token = e.issue_refresh_token();
        let pid = e.property_id();
        let base = e.base_url();
        requests.push(client.get(format!("{base}/authentication/token")).header("refreshToken", token));
        let access = e.issue_long_life_token();
        requests.push(
            client
                .get(format!("{base}/properties?id={pid}&includeAllRooms=true&includeUnitDetails=true"))
                .header("token", access.clone()),
        );
        requests.push(
            client.get(format!("{base}/bookings?propertyId={pid}&includeInfoItems=true")).header("token", access),
        );
    }
    let total = requests.len();
    let t = Instant::now();
    let ok = futures_util::stream::iter(
        requests
            .into_iter()
            .map(|r| async move { r.send().await.map(|res| res.status().is_success()).unwrap_or(false) }),
    )
    .buffer_unordered(256)
    .filter(|ok| std::future::ready(*ok))
    .count()
    .await;
    let took = t.elapsed();
    assert_eq!(ok, total, "every replayed request is answered 2xx");
    took
}

/// The most requests in any one-second window of a request log.
fn busiest_second(log: &[std::time::Instant]) -> usize {
    log.iter()
        .map(|t| log.iter().filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let (n_cb, n_b24, idle_secs) = (arg(0, 1000), arg(1, 1000), arg(2, 31) as u64);
    let dir = tempfile::tempdir().unwrap();

    // 1a. One Cloudbeds property alone: its service time and request count.
    let ids: Vec<String> = (0..n_cb.max(1) + 1).map(|i| (200_000 + i).to_string()).collect();
    let cb = CloudbedsEmulator::builder().properties(ids.clone()).reservations(10).rate_limit(5).start().await.unwrap();
    let solo = cloudbeds_account(0, &ids[0], &cb.issue_api_key(&ids[0]), &cb.base_url());
    let (alone, _, _, _) = sync_once(&solo, dir.path(), "solo").await;
    let solo_requests = cb.request_log(&ids[0]).len();

    // 1b. Every other property at once, with the Beds24 accounts.
    let mut text = String::new();
    for (k, id) in ids.iter().enumerate().skip(1) {
        text.push_str(&cloudbeds_account(k, id, &cb.issue_api_key(id), &cb.base_url()));
    }
    let mut beds24 = Vec::with_capacity(n_b24);
    for k in 0..n_b24 {
        let e = Beds24Emulator::builder()
            .bookings(10)
            .property_id(hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID + k as u64)
            .start()
            .await
            .unwrap();
        text.push_str(&beds24_account(k, &e));
        beds24.push(e);
    }
    let (took, n, peak, cpu) = sync_once(&text, dir.path(), "fleet").await;
    // The baseline is measured three times and its median taken: one pass of a few thousand
    // requests moves by a quarter between passes on this machine.
    let mut passes = Vec::with_capacity(3);
    for _ in 0..3 {
        passes.push(service_time(n_cb, &beds24).await);
    }
    passes.sort();
    let service = passes[1];
    let logs: Vec<Vec<std::time::Instant>> = ids.iter().skip(1).map(|id| cb.request_log(id)).collect();
    let most = logs.iter().map(Vec::len).max().unwrap_or(0);
    let busiest = logs.iter().map(|l| busiest_second(l)).max().unwrap_or(0);
    let suspended = ids.iter().skip(1).filter(|id| cb.suspended(id)).count();
    let minimum = Duration::from_secs_f64(most.saturating_sub(1) as f64 / 5.0);
    let bound = minimum + alone;
    println!(
        "fleet: {n_cb} Cloudbeds properties + {n_b24} Beds24 accounts ({n} accounts), first full sync of all: {:.2} s",
        took.as_secs_f64()
    );
    println!(
        "  one Cloudbeds property alone: {solo_requests} requests, {:.2} s; in the fleet at most {most} requests per property",
        alone.as_secs_f64()
    );
    println!(
        "  rate-limit minimum {:.2} s + one property's service time {:.2} s = {:.2} s; measured / that = {:.2}×",
        minimum.as_secs_f64(),
        alone.as_secs_f64(),
        bound.as_secs_f64(),
        took.as_secs_f64() / bound.as_secs_f64()
    );
    println!(
        "  the emulators' own service time — the fleet's requests sent straight, 256 at a time, no SDK: {:.2} s \
         (median of {:.2}, {:.2}, {:.2} s); rate-limit minimum + that = {:.2} s; measured / that = {:.2}×",
        service.as_secs_f64(),
        passes[0].as_secs_f64(),
        passes[1].as_secs_f64(),
        passes[2].as_secs_f64(),
        (minimum + service).as_secs_f64(),
        took.as_secs_f64() / (minimum + service).as_secs_f64()
    );
    println!("  busiest second of any property: {busiest} requests (limit 5); suspended: {suspended}");
    println!(
        "  CPU (this process: the runtime, the connectors and every emulator) {cpu:.2} s over {:.2} s wall = {:.0}% of the machine's {} cores",
        took.as_secs_f64(),
        100.0 * cpu / took.as_secs_f64() / std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "  peak resident memory growth {:.1} MiB, {:.1} KiB per account",
        peak as f64 / 1048576.0,
        peak as f64 / 1024.0 / n as f64
    );
    drop(beds24);

    // 2. Idle: 10,000 accounts, nothing due.
    let store = Arc::new(MemoryStore::new());
    let clock: Arc<dyn hostelpulse::core::Clock> = Arc::new(hostelpulse::core::SystemClock);
    let far = chrono::Utc::now() + chrono::Duration::days(1);
    let mut accounts = Vec::new();
    for i in 0..10_000 {
        let up = ReferenceUpstream::new(format!("idle-{i}"), clock.clone());
        let c = Arc::new(up.connector());
        let scope =
            Scope::new(hostelpulse::ConnectorKind::MEMORY, hostelpulse::core::AccountId::new(format!("idle-{i}")));
        let mut job = JobRecord::default();
        job.next_full_at = Some(far);
        job.next_poll_at = Some(far);
        job.managed_since = Some(chrono::Utc::now());
        store.save_job(&scope, &job).await.unwrap();
        accounts.push(ManagedAccount::new(format!("idle-{i}"), c, chrono_tz::UTC));
    }
    let mut cfg = RuntimeConfig::default();
    cfg.alert_tick = Duration::from_secs(10);
    let rt = Runtime::builder(store.clone(), Arc::new(CollectingSink::new()))
        .accounts(accounts)
        .alert_sink(Arc::new(CollectingAlerts::new()))
        .config(cfg)
        .build()
        .unwrap();
    let handle = rt.handle();
    let task = tokio::spawn(rt.run());
    while !handle.ready() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (c0, t0) = (cpu_secs(), Instant::now());
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let (cpu, wall) = (cpu_secs() - c0, t0.elapsed().as_secs_f64());
    handle.shutdown();
    let stopped = task.await.unwrap().unwrap();
    println!(
        "idle: 10,000 accounts, nothing due, alert tick every 10 s: {:.2} s CPU over {:.1} s = {:.2}% of one core ({} runs)",
        cpu,
        wall,
        100.0 * cpu / wall,
        stopped.runs
    );
}
