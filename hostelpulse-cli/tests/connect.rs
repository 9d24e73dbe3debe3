//! `hostelpulse connect cloudbeds` against the emulator's OAuth endpoints, as separate
//! processes: the authorization page redirects to the command's loopback listener, the tokens
//! and granted scopes land in the state, the next `sync` uses them, and the refresh token the
//! server rotates is kept.

mod support;

use std::time::Duration;

use hostelpulse::core::http::{TokenKey, TokenStore};
use hostelpulse::{ConnectorKind, Operation};
use hostelpulse_sandbox::CloudbedsEmulator;
use hostelpulse_sandbox::cloudbeds::{CLIENT_ID, CLIENT_SECRET};
use secrecy::ExposeSecret;
use serde_json::Value;
use support::Proc;

async fn refresh_token(db: &str, property: &str) -> Option<String> {
    let store = hostelpulse::store::SqliteStore::open_existing(db).await.unwrap();
    let key = TokenKey {
        connector: ConnectorKind::CLOUDBEDS,
        account: hostelpulse::core::AccountId::new(property),
        name: "refresh_token".into(),
    };
    store.load(&key).await.unwrap().map(|s| s.expose_secret().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_keeps_the_tokens_and_the_next_sync_uses_and_rotates_them() {
    let emu = CloudbedsEmulator::builder().withhold_scopes(["write:housekeeping"]).start().await.unwrap();
    let property = emu.property_id().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostel.toml");
    let db = dir.path().join("state.sqlite");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"cloudbeds\"\n\
             id = \"cb\"\nproperty_id = \"{property}\"\nhttp = {{ base_url = \"{base}\" }}\n\
             oauth = {{ client_id = \"{CLIENT_ID}\", client_secret = {{ value = \"{CLIENT_SECRET}\", insecure_inline = true }}, \
             redirect_uri = \"http://127.0.0.1:0/callback\", authorize_url = \"{root}/api/v1.1/oauth\" }}\n",
            base = emu.base_url(),
            root = emu.root_url(),
        ),
    )
    .unwrap();
    let (config, db) = (config.to_str().unwrap().to_owned(), db.to_str().unwrap().to_owned());

    // Not connected yet: the sync says what to do, and nothing is written as if it were.
    let out = std::process::Command::new(support::BIN)
        .args(["sync", "--config", &config, "--db", &db, "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cb"]["outcome"]["kind"], "reauthenticate", "{report:#}");
    assert!(report["cb"]["outcome"]["message"].as_str().unwrap().contains("hostelpulse connect cloudbeds"));

    let mut connect =
        Proc::start(&["connect", "cloudbeds", "--config", &config, "--account", "cb", "--db", &db, "--json"]);
    let mut seen = Vec::new();
    let page = connect.wait_for(Duration::from_secs(30), &mut seen, |v| v["event"] == "authorize");
    let url = page["url"].as_str().unwrap().to_owned();
    assert!(url.contains("state=") && url.contains("scope=") && url.contains("redirect_uri="), "{url}");
    // The owner allows the app: the page redirects to the command's listener.
    let landed = reqwest::get(&url).await.unwrap();
    assert!(landed.status().is_success(), "{}", landed.status());
    assert!(landed.text().await.unwrap().contains("connected"));
    let done = connect.wait_for(Duration::from_secs(30), &mut seen, |v| v["event"] == "connected");
    assert_eq!(done["declined_scopes"], serde_json::json!(["write:housekeeping"]), "{done}");
    assert!(done["granted_scopes"].as_array().unwrap().iter().any(|s| s == "read:reservation"));
    assert!(connect.child.wait().unwrap().success());
    let first = refresh_token(&db, &property).await.expect("the refresh token is kept");

    // The next sync uses the kept connection, and the server rotates the refresh token.
    let out = std::process::Command::new(support::BIN)
        .args(["sync", "--config", &config, "--db", &db, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cb"]["outcome"]["status"], "ok", "{report:#}");
    assert!(report["cb"]["counts"]["inserted"].as_u64().unwrap() > 0);
    let second = refresh_token(&db, &property).await.unwrap();
    assert_ne!(first, second, "the rotated refresh token is persisted");

    // The effective capabilities follow what the server granted, not what was asked for.
    let store = std::sync::Arc::new(hostelpulse::store::SqliteStore::open_existing(&db).await.unwrap());
    let cfg = hostelpulse::config::Config::load(std::path::Path::new(&config)).unwrap();
    let reg = hostelpulse::Registry::build_with_tokens(&cfg, &hostelpulse::config::EnvSecrets, store).unwrap();
    let health = reg.accounts()[0].connector.check().await.unwrap();
    assert!(!health.effective.supports(Operation::SetHousekeeping), "write:housekeeping was declined");
    assert!(health.effective.supports(Operation::ReadHousekeeping));
    assert!(!health.scopes.iter().any(|s| s == "write:housekeeping"));
    // A third process refreshes again from the rotated token: the old one would be refused.
    let out = std::process::Command::new(support::BIN)
        .args(["sync", "--config", &config, "--db", &db, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
