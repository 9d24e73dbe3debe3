//! `hostelpulse run` against the Cloudbeds emulator as separate processes: on start it subscribes
//! the sync's events to its own `public_url`; a room marked dirty at Cloudbeds arrives by webhook
//! and is dirty on the board, counted as one change; a restart after a URL secret rotation moves
//! every subscription to the new URL and removes the old ones, leaving another integration's
//! subscription alone. Waits are for events, bounded by deadlines.

use std::time::Duration;

use hostelpulse_sandbox::CloudbedsEmulator;
use serde_json::Value;
use support::{BIN, Proc};

mod support;

const SECRET_1: &str = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0";
const SECRET_2: &str = "0f9e8d7c6b5a0f9e8d7c6b5a0f9e8d7c6b5a0f9e";

fn config(property: &str, key: &str, url: &str, public: &str, secret: &str, previous: Option<&str>) -> String {
    let previous = previous
        .map(|p| format!(", previous_url_secret = {{ value = \"{p}\", insecure_inline = true }}"))
        .unwrap_or_default();
    format!(
        "[property]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\nrooms_from = \"cb\"\n\n[[account]]\n\
         connector = \"cloudbeds\"\nid = \"cb\"\nproperty_id = \"{property}\"\n\
         api_key = {{ value = \"{key}\", insecure_inline = true }}\nhttp = {{ base_url = \"{url}\" }}\n\
         webhook = {{ url_secret = {{ value = \"{secret}\", insecure_inline = true }}{previous}, public_url = \"{public}\" }}\n"
    )
}

fn subscriptions_event(run: &Proc, events: &mut Vec<Value>) -> Value {
    run.wait_for(Duration::from_secs(60), events, |v| v["event"] == "subscriptions")
}

#[tokio::test(flavor = "multi_thread")]
async fn run_keeps_the_subscriptions_and_a_room_webhook_refreshes_the_board() {
    let emu = CloudbedsEmulator::builder().reservations(0).start().await.unwrap();
    let property = emu.property_id().to_owned();
    let key = emu.issue_api_key(&property);
    // Another integration's subscription on the same property: never ours to remove.
    let other = reqwest::Client::new()
        .post(format!("{}/postWebhook", emu.base_url()))
        .bearer_auth(&key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "propertyID={property}&object=reservation&action=created&endpointUrl=http%3A%2F%2F127.0.0.1%3A9%2Fchannel-manager"
        ))
        .send()
        .await
        .unwrap();
    assert!(other.status().is_success());
    // That request was the test's own set-up, not ours: out of the property's rate window, or on
    // a fast machine the run's first five paced requests land in the same second as it and the
    // emulator suspends the credentials.
    emu.reinstate(&property);

    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = (dir.path().join("hostel.toml"), dir.path().join("state.sqlite"));
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = reserved.local_addr().unwrap().port();
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(&cfg, config(&property, &key, &emu.base_url(), &public, SECRET_1, None)).unwrap();
    let (cfg_s, db_s) = (cfg.to_str().unwrap().to_owned(), db.to_str().unwrap().to_owned());
    let listen = format!("127.0.0.1:{port}");
    let args = ["run", "--config", &cfg_s, "--db", &db_s, "--listen", &listen, "--retry-first", "0.3", "--json"];
    drop(reserved);
    let mut run = Proc::start(&args);
    let mut events = Vec::new();

    // On start: every sync event subscribed to our URL.
    let first = subscriptions_event(&run, &mut events);
    let created = first["report"]["created"].as_array().unwrap_or_else(|| panic!("{first:#}\nbefore it: {events:#?}"));
    assert_eq!(created.len(), hostelpulse::cloudbeds::SYNC_EVENTS.len(), "{first:#}");
    assert_eq!(first["report"]["others"], 1);
    assert!(!first.to_string().contains(SECRET_1), "the URL secret is never printed: {first}");
    let ours = format!("{public}/hooks/cb/{SECRET_1}");
    let subs = emu.subscriptions();
    assert_eq!(subs.iter().filter(|s| s.2 == ours).count(), created.len(), "{subs:?}");

    // The first full sync, then housekeeping counted: every room appeared once. (Both may have
    // been printed before the subscriptions were reconciled.)
    let is_hk = |v: &Value| v["event"] == "housekeeping";
    let hk = match events.iter().find(|v| is_hk(v)) {
        Some(v) => v.clone(),
        None => run.wait_for(Duration::from_secs(60), &mut events, is_hk),
    };
    assert!(hk["rooms"]["appeared"].as_u64().unwrap() >= 2, "{hk:#}");

    // Room 201 marked dirty at Cloudbeds: the webhook's room refresh sees one change.
    emu.set_room_condition("445567-1", "dirty");
    let refreshed = run.wait_for(Duration::from_secs(60), &mut events, |v| {
        v["event"] == "run" && v["job"] == "Inbox" && v["plan"] == "rooms"
    });
    assert_eq!(refreshed["outcome"]["status"], "ok", "{refreshed:#}");
    assert_eq!(run.terminate().code(), Some(0));
    let board =
        std::process::Command::new(BIN).args(["today", "--config", &cfg_s, "--db", &db_s, "--json"]).output().unwrap();
    let board: Value = serde_json::from_slice(&board.stdout).unwrap();
    let r201 = board["rooms"].as_array().unwrap().iter().find(|r| r["name"] == "201").expect("201 on the board");
    assert_eq!(r201["condition"], "dirty", "{board:#}");

    // Rotation: the new secret current, the old one still accepted; the restart moves every
    // subscription to the new URL before the old ones go.
    std::fs::write(&cfg, config(&property, &key, &emu.base_url(), &public, SECRET_2, Some(SECRET_1))).unwrap();
    let mut run = Proc::start(&args);
    let mut events = Vec::new();
    let rotated = subscriptions_event(&run, &mut events);
    let n = hostelpulse::cloudbeds::SYNC_EVENTS.len();
    let count = |k: &str| rotated["report"][k].as_array().map_or(0, Vec::len);
    assert_eq!((count("created"), count("removed"), count("kept")), (n, n, 0), "{rotated:#}");
    let subs = emu.subscriptions();
    let new_url = format!("{public}/hooks/cb/{SECRET_2}");
    assert_eq!(subs.iter().filter(|s| s.2 == new_url).count(), n);
    assert_eq!(subs.len(), n + 1, "ours on the new URL and the other integration's: {subs:?}");
    assert!(subs.iter().any(|s| s.2.ends_with("/channel-manager")));

    // Asked again, nothing to do.
    assert_eq!(run.terminate().code(), Some(0));
    let out = std::process::Command::new(BIN)
        .args(["webhook", "subscriptions", "--config", &cfg_s, "--db", &db_s, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["report"]["kept"].as_array().unwrap().len(), n, "{again:#}");
    assert!(again["report"]["created"].as_array().unwrap().is_empty());
}
