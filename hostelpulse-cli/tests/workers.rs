//! Scaling out: three `hostelpulse run` workers share the sandbox's properties through one
//! PostgreSQL store (a real server, started here from Debian's package). Every account is
//! synced; none is run by two workers at once (checked in the audit log); no emulator counted a
//! request over its limit; each worker owns at most its fair share; when one worker is killed
//! with SIGKILL its accounts are taken over; and the bookings the workers stored are the ones a
//! single `hostelpulse sync` stores — nothing lost, nothing doubled.
//!
//! `HOSTELPULSE_WORKERS_PROPERTIES` sets the number of properties (default 40; the closing
//! figures were taken with 300). Waits are for events, bounded by deadlines.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use hostelpulse::store::{BookingStore, PgStore, SqliteStore};
use hostelpulse::sync::{AuditLog, Scope};
use hostelpulse_sandbox::postgres::TestServer;
use serde_json::Value;
use support::Proc;

mod support;

fn get_json(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async { serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap() })
}

/// What a worker said last about the share, and the runs it reported.
#[derive(Default)]
struct Seen {
    share: Option<(usize, usize)>,
    runs: Vec<Value>,
}

/// Reads every worker's lines until `done` says `Ok`, or panics at the deadline with what it
/// said last.
fn drain_until(workers: &[&Proc], seen: &mut [Seen], within: Duration, done: impl Fn(&[Seen]) -> Result<(), String>) {
    let deadline = Instant::now() + within;
    loop {
        for (w, s) in workers.iter().zip(seen.iter_mut()) {
            while let Ok(v) = w.lines.try_recv() {
                match v["event"].as_str() {
                    Some("shared") => {
                        s.share =
                            Some((v["workers"].as_array().map_or(0, Vec::len), v["owned"].as_u64().unwrap() as usize));
                    }
                    Some("run") => s.runs.push(v),
                    _ => {}
                }
            }
        }
        let missing = match done(seen) {
            Ok(()) => return,
            Err(m) => m,
        };
        assert!(Instant::now() < deadline, "not done within {within:?}: {missing}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ok(v: &Value) -> bool {
    matches!(v["outcome"]["status"].as_str(), Some("ok" | "partial"))
}

/// (key, status, arrival, departure, guest) of every stored booking: what the board shows.
type Row = (String, String, String, String, Option<String>);

fn rows(bookings: Vec<hostelpulse::model::Booking>) -> BTreeSet<Row> {
    bookings
        .into_iter()
        .map(|b| {
            (
                format!("{}/{}/{}", b.key.connector.as_str(), b.key.account.as_str(), b.key.id.as_str()),
                format!("{:?}", b.status),
                b.arrival.to_string(),
                b.departure.to_string(),
                b.guest.name.clone(),
            )
        })
        .collect()
}

#[test]
fn three_workers_share_the_properties_on_postgres_and_survive_a_kill() {
    let Some(server) = TestServer::start() else { return };
    let url = server.database();
    let properties: usize =
        std::env::var("HOSTELPULSE_WORKERS_PROPERTIES").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    let sandbox = Proc::start(&[
        "sandbox",
        "--properties",
        &properties.to_string(),
        "--write-config",
        config.to_str().unwrap(),
        "--poll-every",
        "2",
    ]);
    let ready = sandbox.wait_for(Duration::from_secs(300), &mut Vec::new(), |v| v["ready"] == true);
    let control = ready["control"].as_str().unwrap().trim_end_matches('/').to_owned();
    let accounts: HashSet<String> =
        ready["accounts"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();

    let started = Instant::now();
    let start_worker = |_: usize| {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Proc::start_with_env(
            &[
                "run",
                "--config",
                config.to_str().unwrap(),
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--worker-ttl",
                "6",
                "--catch-up-secs",
                "3",
                "--retry-first",
                "0.3",
                "--json",
            ],
            &[("HOSTELPULSE_STORE_URL", url.as_str())],
        )
    };
    let mut workers: Vec<Proc> = (0..3).map(start_worker).collect();
    let mut seen: Vec<Seen> = (0..3).map(|_| Seen::default()).collect();

    // Every account synced, and every worker sees all three.
    let all_synced = |seen: &[Seen]| {
        let synced: HashSet<&str> =
            seen.iter().flat_map(|s| &s.runs).filter(|v| ok(v)).filter_map(|v| v["account"].as_str()).collect();
        let missing: Vec<&String> = accounts.iter().filter(|a| !synced.contains(a.as_str())).collect();
        let shares: Vec<_> = seen.iter().map(|s| s.share).collect();
        // And each worker is polling: it ran one of its accounts a second time.
        let polling = seen.iter().all(|s| {
            let mut n: HashMap<&str, usize> = HashMap::new();
            s.runs.iter().filter_map(|v| v["account"].as_str()).any(|a| {
                *n.entry(a).or_default() += 1;
                n[a] > 1
            })
        });
        if missing.is_empty() && polling && shares.iter().all(|s| s.is_some_and(|(w, _)| w == 3)) {
            Ok(())
        } else {
            Err(format!("not synced yet: {missing:?}; shares {shares:?}"))
        }
    };
    {
        let refs: Vec<&Proc> = workers.iter().collect();
        drain_until(&refs, &mut seen, Duration::from_secs(600), all_synced);
    }
    eprintln!(
        "{} accounts of {properties} properties synced by 3 workers after {:?}",
        accounts.len(),
        started.elapsed()
    );
    let fair = accounts.len().div_ceil(3);
    let owned: Vec<usize> = seen.iter().map(|s| s.share.unwrap().1).collect();
    eprintln!("owned: {owned:?} (fair share {fair})");
    assert!(owned.iter().all(|n| *n <= fair), "{owned:?} > {fair}");
    assert_eq!(owned.iter().sum::<usize>(), accounts.len(), "every account has one owner");

    // Kill -9 the third worker; the accounts it ran last are taken over by the others.
    let killed_at = chrono::Utc::now();
    let kill_instant = Instant::now();
    let mut dead = workers.pop().unwrap();
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    let dead_runs = std::mem::take(&mut seen.pop().unwrap().runs);
    let worker_of_dead = dead_runs.iter().find_map(|v| v["worker"].as_str().map(str::to_owned)).unwrap();
    // The accounts it was keeping fresh: the ones it polled (ran more than once). A push-only
    // account (Sirvoy) has no poll to take over; its deliveries go to whichever worker holds it.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in &dead_runs {
        *counts.entry(v["account"].as_str().unwrap_or_default()).or_default() += 1;
    }
    let its_accounts: HashSet<String> = counts.into_iter().filter(|(_, n)| *n > 1).map(|(a, _)| a.to_owned()).collect();
    assert!(!its_accounts.is_empty());
    let taken_over = |seen: &[Seen]| {
        let after: HashSet<&str> = seen
            .iter()
            .flat_map(|s| &s.runs)
            .filter(|v| ok(v))
            .filter(|v| {
                v["started_at"].as_str().and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok()) > Some(killed_at)
            })
            .filter_map(|v| v["account"].as_str())
            .collect();
        let missing: Vec<&String> = its_accounts.iter().filter(|a| !after.contains(a.as_str())).collect();
        let shares: Vec<_> = seen.iter().map(|s| s.share).collect();
        if missing.is_empty() && shares.iter().all(|s| s.is_some_and(|(w, _)| w == 2)) {
            Ok(())
        } else {
            // What the survivors did since the kill, so a failure says why.
            let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
            for v in seen.iter().flat_map(|s| &s.runs) {
                if v["started_at"].as_str().and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                    > Some(killed_at)
                {
                    *outcomes.entry(v["outcome"]["status"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
                }
            }
            Err(format!(
                "not taken over yet: {missing:?}; shares {shares:?}; runs since the kill by outcome {outcomes:?}"
            ))
        }
    };
    {
        let refs: Vec<&Proc> = workers.iter().collect();
        drain_until(&refs, &mut seen, Duration::from_secs(600), taken_over);
    }
    eprintln!(
        "the killed worker's {} accounts were all run again by the others {:?} after the kill",
        its_accounts.len(),
        kill_instant.elapsed()
    );
    for w in &mut workers {
        assert!(w.terminate().success());
    }

    // No emulator counted a request over its limit.
    let stats = get_json(&format!("{control}/stats"));
    assert_eq!(stats["cloudbeds_rate_violations"], 0, "{stats}");
    assert_eq!(stats["beds24_credit_rejections"], 0, "{stats}");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (runs, stored) = rt.block_on(async {
        let store = PgStore::open(&url).await.unwrap();
        let mut runs: BTreeMap<Scope, Vec<hostelpulse::sync::AuditRecord>> = BTreeMap::new();
        for scope in store.scopes().await.unwrap() {
            let r = store.recent(&scope, 100_000).await.unwrap();
            runs.insert(scope, r);
        }
        let far = (
            chrono::NaiveDate::from_ymd_opt(1000, 1, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(9999, 1, 1).unwrap(),
        );
        (runs, store.bookings_between(far.0, far.1).await.unwrap())
    });
    // No account was run by two workers at once.
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for (scope, rs) in &runs {
        for (i, a) in rs.iter().enumerate() {
            *per_worker.entry(a.worker.clone().unwrap_or_default()).or_default() += 1;
            for b in &rs[i + 1..] {
                let overlap = a.started_at < b.finished_at && b.started_at < a.finished_at;
                assert!(!(overlap && a.worker != b.worker), "{scope:?}: {a:?} and {b:?} overlap");
            }
        }
    }
    eprintln!("runs per worker: {per_worker:?} (killed: {worker_of_dead})");

    // The same store a single worker builds: one `run` of every account into SQLite. It starts
    // from the credentials the workers left (a Beds24 invite code is single-use: the refresh
    // token it became is in the shared store).
    let single = dir.path().join("single.sqlite");
    rt.block_on(async {
        use hostelpulse::core::http::{TokenKey, TokenStore};
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let sqlite = SqliteStore::open(&single).await.unwrap();
        for row in client.query("SELECT connector, account, name, value FROM credential", &[]).await.unwrap() {
            let name: String = row.get(2);
            let key = TokenKey {
                connector: hostelpulse::model::ConnectorKind::new(row.get::<_, String>(0)),
                account: hostelpulse::model::AccountId::new(row.get::<_, String>(1)),
                name: name.into(),
            };
            sqlite.save(&key, row.get::<_, String>(3).into()).await.unwrap();
        }
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut alone_worker = Proc::start(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--db",
        single.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--catch-up-secs",
        "3",
        "--json",
    ]);
    let mut alone_seen = vec![Seen::default()];
    drain_until(&[&alone_worker], &mut alone_seen, Duration::from_secs(120), |seen| {
        let synced: HashSet<&str> =
            seen[0].runs.iter().filter(|v| ok(v)).filter_map(|v| v["account"].as_str()).collect();
        let missing: Vec<&String> = accounts.iter().filter(|a| !synced.contains(a.as_str())).collect();
        let last_failure = seen[0].runs.iter().rev().find(|v| !ok(v));
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("not synced by the single worker: {missing:?}; last failure {last_failure:?}"))
        }
    });
    assert!(alone_worker.terminate().success());
    let alone = rt.block_on(async {
        let s = SqliteStore::open_existing(&single).await.unwrap();
        s.bookings_between(
            chrono::NaiveDate::from_ymd_opt(1000, 1, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(9999, 1, 1).unwrap(),
        )
        .await
        .unwrap()
    });
    // The e-mail account is left out of the comparison: a mailbox is read once — processed mails
    // are flagged seen, as a mail client does, and what they said lives on in the store that
    // read them — so a second, independent store sees only mails nobody had read yet.
    let not_mail = |b: &hostelpulse::model::Booking| b.key.connector.as_str() != "email";
    let (shared, alone) =
        (rows(stored.into_iter().filter(not_mail).collect()), rows(alone.into_iter().filter(not_mail).collect()));
    assert!(!alone.is_empty());
    let only_shared: Vec<_> = shared.difference(&alone).collect();
    let only_alone: Vec<_> = alone.difference(&shared).collect();
    assert!(
        only_shared.is_empty() && only_alone.is_empty(),
        "only shared: {only_shared:?}\nonly alone: {only_alone:?}"
    );
    assert_eq!(shared.len(), alone.len(), "no booking lost or doubled");
    assert_eq!(shared, alone);
    drop(sandbox);
}
