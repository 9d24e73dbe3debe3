//! Several runtimes sharing one store, on virtual time: the accounts are shared out (none above
//! its fair share), no account is ever run by two workers at once, and when a worker dies
//! without a word its accounts are taken over once its heartbeat expires — nothing lost,
//! nothing doubled.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hostelpulse_core::sync::{
    AuditLog, AuditRecord, CollectingSink, JobStore, MemoryStore, Plan, Scope, SyncStore, Trigger,
};
use hostelpulse_core::sync::{Inbox, InboxItem};
use hostelpulse_core::testkit::{NewBooking, ReferenceUpstream, Upstream};
use hostelpulse_core::webhook::Hint;
use hostelpulse_core::{Clock, Connector, TokioWallClock};
use hostelpulse_runtime::{ManagedAccount, RetryPolicy, Runtime, RuntimeConfig, RuntimeEvent, RuntimeHandle, Stopped};
use tokio::sync::broadcast;

const ACCOUNTS: usize = 30;

fn t0() -> DateTime<Utc> {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

struct Worker {
    name: String,
    handle: RuntimeHandle,
    events: broadcast::Receiver<RuntimeEvent>,
    task: tokio::task::JoinHandle<Result<Stopped, hostelpulse_core::sync::StoreError>>,
}

/// A worker process: its own connectors (as a process builds them) over the shared upstreams.
fn worker(
    name: &str,
    store: &Arc<MemoryStore>,
    upstreams: &[Arc<ReferenceUpstream>],
    clock: &Arc<dyn Clock>,
) -> Worker {
    let mut cfg = RuntimeConfig::default();
    cfg.catch_up_spread = Duration::ZERO;
    cfg.retry = RetryPolicy::new(Duration::from_secs(60), Duration::from_secs(3600));
    cfg.holder = name.into();
    cfg.seed = Some(7);
    cfg.worker_ttl = Duration::from_secs(30);
    cfg.lease_ttl = Duration::from_secs(60);
    let accounts = upstreams.iter().map(|u| {
        let c: Arc<dyn Connector> = Arc::new(u.connector());
        ManagedAccount::new(c.account().as_str().to_owned(), c, chrono_tz::Europe::Lisbon)
    });
    let rt = Runtime::builder(store.clone(), Arc::new(CollectingSink::new()))
        .accounts(accounts)
        .clock(clock.clone())
        .config(cfg)
        .build()
        .unwrap();
    let handle = rt.handle();
    let events = handle.subscribe();
    Worker { name: name.into(), handle, events, task: tokio::spawn(rt.run()) }
}

/// `ACCOUNTS` upstreams (hostel `i` seeded with `bookings(i)` stays) and their store keys.
fn hostels(clock: &Arc<dyn Clock>, bookings: impl Fn(usize) -> usize) -> (Vec<Arc<ReferenceUpstream>>, Vec<Scope>) {
    let upstreams: Vec<_> = (0..ACCOUNTS)
        .map(|i| ReferenceUpstream::seeded(format!("hostel-{i:02}").as_str(), clock.clone(), bookings(i)))
        .collect();
    let scopes = upstreams
        .iter()
        .map(|u| {
            let c = u.connector();
            Scope::new(c.kind(), c.account().clone())
        })
        .collect();
    (upstreams, scopes)
}

/// The last share each worker announced.
fn last_share(w: &mut Worker) -> Option<(Vec<String>, usize)> {
    let mut last = None;
    while let Ok(e) = w.events.try_recv() {
        if let RuntimeEvent::Shared { workers, owned } = e {
            last = Some((workers, owned));
        }
    }
    last
}

async fn audit(store: &MemoryStore, scopes: &[Scope]) -> BTreeMap<Scope, Vec<AuditRecord>> {
    let mut out = BTreeMap::new();
    for s in scopes {
        let mut runs = store.recent(s, 10_000).await.unwrap();
        runs.reverse();
        out.insert(s.clone(), runs);
    }
    out
}

/// The accounts whose last run `worker` ran: the ones it owns.
fn ran_last_by(runs: &BTreeMap<Scope, Vec<AuditRecord>>, worker: &str) -> Vec<Scope> {
    runs.iter()
        .filter(|(_, rs)| rs.last().and_then(|r| r.worker.as_deref()) == Some(worker))
        .map(|(s, _)| s.clone())
        .collect()
}

/// No two runs of one account overlap in time when different workers ran them.
fn assert_never_two_at_once(runs: &BTreeMap<Scope, Vec<AuditRecord>>) {
    for (scope, rs) in runs {
        for (i, a) in rs.iter().enumerate() {
            for b in &rs[i + 1..] {
                let overlap = a.started_at < b.finished_at && b.started_at < a.finished_at;
                assert!(
                    !(overlap && a.worker != b.worker),
                    "{scope:?}: {:?} {}–{} and {:?} {}–{}",
                    a.worker,
                    a.started_at,
                    a.finished_at,
                    b.worker,
                    b.started_at,
                    b.finished_at
                );
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn three_workers_share_the_accounts_and_take_over_from_one_that_dies() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let (upstreams, scopes) = hostels(&clock, |i| 5 + i % 4);
    let mut workers: Vec<Worker> =
        ["w-a", "w-b", "w-c"].iter().map(|n| worker(n, &store, &upstreams, &clock)).collect();

    // Twenty minutes: every worker has seen the others; polls run every five minutes.
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    let fair = ACCOUNTS.div_ceil(3);
    let mut owned = 0;
    for w in &mut workers {
        let (alive, mine) = last_share(w).expect("every worker announced its share");
        assert_eq!(alive, ["w-a", "w-b", "w-c"], "{}", w.name);
        assert!(mine <= fair, "{} owns {mine} of {ACCOUNTS}, more than its share {fair}", w.name);
        owned += mine;
    }
    assert_eq!(owned, ACCOUNTS, "every account has exactly one owner");
    let runs = audit(&store, &scopes).await;
    assert_never_two_at_once(&runs);
    // Once shared out, each account's polls are its owner's alone: one worker per account in the
    // last ten minutes, and every worker has accounts.
    let since = t0() + chrono::Duration::minutes(10);
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for (scope, rs) in &runs {
        let recent: Vec<_> = rs.iter().filter(|r| r.started_at >= since).collect();
        assert!(recent.len() >= 2, "{scope:?} kept fresh: {}", recent.len());
        let ran_by: std::collections::HashSet<_> = recent.iter().map(|r| r.worker.clone().unwrap()).collect();
        assert_eq!(ran_by.len(), 1, "{scope:?} ran by {ran_by:?}");
        *per_worker.entry(ran_by.into_iter().next().unwrap()).or_default() += 1;
    }
    assert_eq!(per_worker.len(), 3, "{per_worker:?}");
    assert!(per_worker.values().all(|n| *n <= fair), "{per_worker:?}");

    // A webhook for one of w-b's accounts arrives at w-a: it goes to the shared inbox, and w-b
    // runs it within its inbox poll (one second), with the booking it names.
    let (hooked, i) = runs
        .iter()
        .enumerate()
        .find_map(|(i, (s, rs))| (rs.last().and_then(|r| r.worker.as_deref()) == Some("w-b")).then(|| (s.clone(), i)))
        .expect("w-b owns accounts");
    // Between two polls (they run on the five minutes) and two heartbeats (every ten seconds):
    // nothing else wakes w-b.
    tokio::time::sleep(Duration::from_secs(155)).await;
    let today = clock.now().date_naive();
    let id = upstreams[scopes.iter().position(|s| *s == hooked).unwrap_or(i)]
        .create(NewBooking::new(today, today + chrono::Duration::days(2)).guest("Hooked"))
        .await
        .unwrap();
    let hint = Hint::bookings(
        hooked.connector.clone(),
        hooked.account.clone(),
        "booking.created",
        hostelpulse_core::BookingIds::one(id.clone()),
        "evt-cross",
    );
    let received = clock.now();
    store.inbox_put(&hooked, "evt-cross", &InboxItem::Hint(hint), received, chrono::Duration::days(2)).await.unwrap();
    workers[0].handle.webhook_received(&hooked);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let entry = store.inbox_entries(&hooked).await.unwrap().into_iter().find(|e| e.dedupe_key == "evt-cross").unwrap();
    let done_at = entry.done_at.expect("the delivery was run");
    assert!(done_at - received <= chrono::Duration::seconds(1), "run {} after it was queued", done_at - received);
    let run_id = entry.run_id.unwrap();
    let run = store.recent(&hooked, 10_000).await.unwrap().into_iter().find(|r| r.run_id == run_id).unwrap();
    assert_eq!(run.worker.as_deref(), Some("w-b"), "the owner ran it");
    assert!(store.load(&hooked).await.unwrap().records.contains_key(&id));

    // w-c dies without a word (as kill -9): no sign-off, its heartbeat simply stops.
    let dead = workers.pop().unwrap();
    let died_at = clock.now();
    dead.task.abort();
    let _ = dead.task.await;
    let c_accounts = ran_last_by(&runs, "w-c");
    assert!(!c_accounts.is_empty());

    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    let fair2 = ACCOUNTS.div_ceil(2);
    for w in &mut workers {
        let (alive, mine) = last_share(w).expect("the survivors re-shared");
        assert_eq!(alive, ["w-a", "w-b"], "{}", w.name);
        assert!(mine <= fair2, "{} owns {mine}", w.name);
    }
    let runs = audit(&store, &scopes).await;
    assert_never_two_at_once(&runs);
    // Its accounts were taken over within its heartbeat's expiry and the next poll.
    let deadline = died_at + chrono::Duration::seconds(30 + 20 + 300);
    for s in &c_accounts {
        let first_after = runs[s].iter().find(|r| r.started_at > died_at).expect("taken over");
        assert!(first_after.started_at <= deadline, "{s:?} first run after the death at {}", first_after.started_at);
        assert_ne!(first_after.worker.as_deref(), Some("w-c"));
        assert!(first_after.outcome.is_success(), "{:?}", first_after.outcome);
    }
    // Nothing lost, nothing doubled: each account's records are exactly what one worker alone
    // keeps after one full sync of the same upstream.
    for (u, s) in upstreams.iter().zip(&scopes) {
        let alone = Arc::new(MemoryStore::new());
        let engine = hostelpulse_core::sync::SyncEngine::new(alone.clone());
        engine.run(&u.connector(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
        let want = alone.load(s).await.unwrap().records;
        let got = store.load(s).await.unwrap().records;
        assert_eq!(got.len(), want.len(), "{s:?}");
        for (id, r) in &want {
            assert_eq!(got.get(id).map(|g| g.fingerprint), Some(r.fingerprint), "{s:?} {id:?}");
        }
    }
    for w in workers {
        w.handle.shutdown();
        w.task.await.unwrap().unwrap();
    }
    // A clean stop signs off: nobody is left alive.
    assert_eq!(store.heartbeat("observer", clock.now(), chrono::Duration::seconds(1)).await.unwrap(), ["observer"]);
}

/// Workers that all see each other before any loads its schedule (they start together on a
/// store they already share): each catches up its own accounts only, so the others' are
/// unscheduled in its memory. When one dies, the survivors read its accounts' schedules from
/// the store — and schedule any it never got to — rather than leaving them unrun.
#[tokio::test(start_paused = true)]
async fn accounts_of_a_worker_that_dies_run_even_when_every_worker_started_at_once() {
    let clock: Arc<dyn Clock> = Arc::new(TokioWallClock::starting_at(t0()));
    let store = Arc::new(MemoryStore::new());
    let (upstreams, scopes) = hostels(&clock, |_| 3);
    for name in ["w-a", "w-b", "w-c"] {
        store.heartbeat(name, clock.now(), chrono::Duration::seconds(30)).await.unwrap();
    }
    let mut workers: Vec<Worker> =
        ["w-a", "w-b", "w-c"].iter().map(|n| worker(n, &store, &upstreams, &clock)).collect();
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    let runs = audit(&store, &scopes).await;
    let c_accounts = ran_last_by(&runs, "w-c");
    assert!(!c_accounts.is_empty());
    for w in &mut workers {
        let (alive, _) = last_share(w).expect("shared");
        assert_eq!(alive, ["w-a", "w-b", "w-c"]);
    }
    // "Sync now" asked of w-a for one of w-b's accounts, while a tool holds that account: it
    // runs on w-a within one look (5 s) of the tool giving the lease back — the request is
    // w-a's, whoever owns the account, so the owner's grace does not apply to it.
    let b_scope = ran_last_by(&runs, "w-b").into_iter().next().expect("w-b owns accounts");
    let b_account = b_scope.account.as_str().to_owned();
    let held = store.lease(&b_scope, "a-tool", clock.now(), chrono::Duration::seconds(60)).await.unwrap();
    assert!(matches!(held, hostelpulse_core::sync::LeaseGrant::Granted { .. }));
    let id = workers[0].handle.queue_run(&b_account, hostelpulse_core::sync::PlanKind::Incremental).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    store.release(&b_scope, "a-tool", None).await.unwrap();
    let released = clock.now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let manual = store.recent(&b_scope, 100).await.unwrap().into_iter().find(|r| r.run_id == id).expect("it ran");
    assert_eq!(manual.worker.as_deref(), Some("w-a"));
    let after = manual.started_at - released;
    assert!(
        after >= chrono::Duration::zero() && after <= chrono::Duration::seconds(5),
        "started {after} after the release"
    );

    let dead = workers.pop().unwrap();
    let died_at = clock.now();
    dead.task.abort();
    let _ = dead.task.await;
    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    let runs = audit(&store, &scopes).await;
    assert_never_two_at_once(&runs);
    let deadline = died_at + chrono::Duration::seconds(30 + 20 + 300);
    for s in &c_accounts {
        let first_after = runs[s].iter().find(|r| r.started_at > died_at).unwrap_or_else(|| panic!("{s:?} taken over"));
        assert!(first_after.started_at <= deadline, "{s:?} first run after the death at {}", first_after.started_at);
        assert!(first_after.outcome.is_success(), "{:?}", first_after.outcome);
    }
    for w in workers {
        w.handle.shutdown();
        w.task.await.unwrap().unwrap();
    }
}
