//! `hostelpulse run` against `hostelpulse sandbox`, both as separate processes: 50 properties
//! kept fresh, a webhook's booking on the board, a PMS outage alerting and resolving, the
//! metrics and health endpoints, a graceful SIGTERM, and a restart that carries the schedule
//! over. Waits are for events, bounded by deadlines; no assertion is about how long anything took.

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{BIN, Proc};

mod support;

/// A port for `run` to listen on, held (bound) until `run` is about to start: while it is held,
/// the sandbox's own emulators, which bind ports of their own meanwhile, cannot be given it.
fn reserve_port() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

fn get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.expect("reachable");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    })
}

fn post(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().post(url).send().await.expect("reachable");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        serde_json::from_str(&r.text().await.expect("body")).expect("json")
    })
}

fn is_run(v: &Value, account: &str) -> bool {
    v["event"] == "run" && v["account"] == account
}

#[test]
fn run_keeps_fifty_properties_fresh_alerts_on_an_outage_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    let db = dir.path().join("state.sqlite");
    let tasks = dir.path().join("tasks.jsonl");
    let reserved = reserve_port();
    let port = reserved.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let sandbox = Proc::start(&[
        "sandbox",
        "--properties",
        "50",
        "--write-config",
        config.to_str().unwrap(),
        "--webhooks-to",
        &base,
        "--poll-every",
        "2",
    ]);
    let mut seen = Vec::new();
    let ready = sandbox.wait_for(Duration::from_secs(120), &mut seen, |v| v["ready"] == true);
    let control = ready["control"].as_str().unwrap().trim_end_matches('/').to_owned();
    let accounts: HashSet<String> =
        ready["accounts"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    assert_eq!(accounts.len(), 50 * 3 + 2);

    let args = [
        "run",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--retry-first",
        "0.3",
        "--catch-up-secs",
        "3",
        "--tasks-to",
        tasks.to_str().unwrap(),
        "--json",
    ];
    drop(reserved);
    let mut run = Proc::start(&args);
    let mut events = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut events, |v| v["event"] == "listening");

    // Every account synced once.
    let mut synced: HashSet<String> = HashSet::new();
    while synced.len() < accounts.len() {
        let v = run.wait_for(Duration::from_secs(180), &mut events, |v| v["event"] == "run");
        if matches!(v["outcome"]["status"].as_str(), Some("ok" | "partial")) {
            synced.insert(v["account"].as_str().unwrap().to_owned());
        }
    }
    let (status, _) = get(&format!("{base}/readyz"));
    assert_eq!(status, 200);
    assert_eq!(get(&format!("{base}/healthz")).0, 200);

    // A booking made at the PMS arrives by webhook and is on that property's board.
    let created = post(&format!("{control}/beds24/7/create"));
    let id = created["created"].as_str().unwrap().to_owned();
    let arrival = created["arrival"].as_str().unwrap().to_owned();
    // The webhook's run inserts it, unless a poll that started after the create got there
    // first (polls are every two seconds here): either way it is in, once, and the delivery
    // is processed.
    let (mut inserted, mut delivered) = (false, false);
    while !(inserted && delivered) {
        let v = run.wait_for(Duration::from_secs(60), &mut events, |v| is_run(v, "beds24-7"));
        assert!(v["counts"]["inserted"].as_u64() <= Some(1), "{v}");
        inserted |= v["counts"]["inserted"] == 1;
        delivered |= v["job"] == "Inbox" && matches!(v["outcome"]["status"].as_str(), Some("ok" | "partial"));
    }
    let board = Command::new(BIN)
        .args(["today", "--config", config.to_str().unwrap(), "--property", "Sandbox Hostel 7"])
        .args(["--db", db.to_str().unwrap(), "--date", &arrival, "--json"])
        .output()
        .unwrap();
    assert!(board.status.success(), "{}", String::from_utf8_lossy(&board.stderr));
    let board: Value = serde_json::from_slice(&board.stdout).unwrap();
    assert!(
        board["arrivals"].as_array().unwrap().iter().any(|l| l["key"]["id"] == id.as_str()),
        "booking {id} not among the arrivals of {arrival}: {}",
        board["arrivals"]
    );

    // A cancellation at the PMS reaches the store the same way.
    post(&format!("{control}/beds24/12/cancel"));
    run.wait_for(Duration::from_secs(60), &mut events, |v| is_run(v, "beds24-12") && v["counts"]["cancelled"] == 1);

    // Cloudbeds goes down: every Cloudbeds property alerts after three failures in a row, and
    // the alert resolves once it is back.
    post(&format!("{control}/cloudbeds/outage/on"));
    let firing = run.wait_for(Duration::from_secs(60), &mut events, |v| {
        v["event"] == "alert" && v["alert"]["rule"] == "consecutive_failures" && v["alert"]["status"] == "firing"
    });
    let account = firing["alert"]["account"].as_str().unwrap().to_owned();
    assert!(account.starts_with("cloudbeds-"), "{firing}");
    let metrics = get(&format!("{base}/metrics")).1;
    assert!(metrics.contains("hostelpulse_alerts_total{rule=\"consecutive_failures\",status=\"firing\"}"), "{metrics}");
    post(&format!("{control}/cloudbeds/outage/off"));
    run.wait_for(Duration::from_secs(60), &mut events, |v| {
        v["event"] == "alert"
            && v["alert"]["account"] == account.as_str()
            && v["alert"]["rule"] == "consecutive_failures"
            && v["alert"]["status"] == "resolved"
    });
    let metrics = get(&format!("{base}/metrics")).1;
    for name in [
        "hostelpulse_runs_total{",
        "hostelpulse_records_total{",
        "hostelpulse_sync_lag_seconds{",
        "hostelpulse_inbox_depth",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }

    // The turnover tasks of the synced properties were kept and handed over, each created once.
    let created = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"]["event"] == "created")
            .map(|v| v["event"]["task"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let task_ids = loop {
        let ids = created(&std::fs::read_to_string(&tasks).unwrap_or_default());
        if ids.len() >= 50 || std::time::Instant::now() > deadline {
            break ids;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(task_ids.len() >= 50, "turnover tasks of fifty properties: {}", task_ids.len());
    let distinct: HashSet<&String> = task_ids.iter().collect();
    assert_eq!(distinct.len(), task_ids.len(), "no task created twice");

    // SIGTERM: it stops taking work, lets running syncs finish, and exits 0.
    let status = run.terminate();
    assert!(status.success(), "{status:?}");
    let stopped = run.wait_for(Duration::from_secs(10), &mut events, |v| v["event"] == "stopped");
    assert_eq!(stopped["abandoned"], 0);
    drop(run);

    // A restart continues the schedule from the store: polls, no full sync for anybody.
    let run = Proc::start(&args);
    let mut again = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut again, |v| v["event"] == "listening");
    let mut polled = HashSet::new();
    while polled.len() < 20 {
        let v = run.wait_for(Duration::from_secs(60), &mut again, |v| v["event"] == "run");
        assert_ne!(v["job"], "Full", "a restart ran a full sync the schedule did not call for: {v}");
        polled.insert(v["account"].as_str().unwrap().to_owned());
    }
}
