//! `hostelpulse demo --serve` as a separate process: the owner console over the demo's data, its
//! pages and API answering on loopback, "sync now" queued in the runtime, and a clean stop.

use std::time::Duration;

use serde_json::Value;
use support::Proc;

mod support;

fn fetch(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let req = match method {
            "POST" => client.post(url).header("content-type", "application/json").body(body.unwrap_or("").to_owned()),
            _ => client.get(url),
        };
        let r = req.send().await.expect("reachable");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

#[test]
fn the_demo_leaves_the_console_running_over_its_data() {
    let mut demo = Proc::start(&["demo", "--json", "--serve", "127.0.0.1:0"]);
    let mut seen = Vec::new();
    let ready = demo.wait_for(Duration::from_secs(180), &mut seen, |v| v.get("console").is_some());
    let url = ready["console"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let (status, dashboard) = fetch("GET", &url, None);
    assert_eq!(status, 200);
    for account in ["beds24", "cloudbeds", "feeds", "inbox", "sirvoy"] {
        assert!(dashboard.contains(&format!(">{account}<")), "{account} on the dashboard");
    }
    assert!(dashboard.contains("Sync now"));
    let (status, board) = fetch("GET", &format!("{url}board"), None);
    assert_eq!(status, 200);
    assert!(board.contains("Today at Harbour Hostel") && board.contains("Arrivals"), "{board}");
    let (status, mapping) = fetch("GET", &format!("{url}mapping"), None);
    assert_eq!(status, 200);
    assert!(mapping.contains("Room mapping"));

    let (status, accounts) = fetch("GET", &format!("{url}api/v1/accounts"), None);
    assert_eq!(status, 200);
    let accounts: Value = serde_json::from_str(&accounts).unwrap();
    assert!(
        accounts.as_array().unwrap().iter().all(|a| a["last_success"].is_string()),
        "every account synced: {accounts:#}"
    );
    let (status, queued) =
        fetch("POST", &format!("{url}api/v1/accounts/cloudbeds/sync"), Some(r#"{"plan":"incremental"}"#));
    assert_eq!(status, 202, "{queued}");
    let (status, api) = fetch("GET", &format!("{url}api/v1/openapi.json"), None);
    assert_eq!(status, 200);
    let checked_in: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json")).unwrap(),
    )
    .unwrap();
    assert!(serde_json::from_str::<Value>(&api).unwrap() == checked_in, "the served document is the checked-in one");

    assert_eq!(demo.terminate().code(), Some(0), "a clean stop on SIGTERM");
}

fn fetch_with(url: &str, bearer: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut req = client.get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("reachable");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

/// A property "Casa" with one Cloudbeds account `cb` on the emulator, written in `dir`: the
/// configuration's and the state's paths.
fn casa(dir: &std::path::Path, emu: &hostelpulse_sandbox::CloudbedsEmulator) -> (String, String) {
    let property = emu.property_id().to_owned();
    let (cfg, db) = (dir.join("hostel.toml"), dir.join("state.sqlite"));
    std::fs::write(
        &cfg,
        format!(
            "[property]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"cloudbeds\"\nid = \"cb\"\n\
             property_id = \"{property}\"\napi_key = {{ value = \"{key}\", insecure_inline = true }}\nhttp = {{ base_url = \"{url}\" }}\n",
            key = emu.issue_api_key(&property),
            url = emu.base_url()
        ),
    )
    .unwrap();
    (cfg.to_str().unwrap().to_owned(), db.to_str().unwrap().to_owned())
}

/// `hostelpulse console-token` keeps only the token's hash in the state; `run` on that state then
/// serves the console to that token only.
#[test]
fn run_serves_the_console_to_the_stored_token_only() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(hostelpulse_sandbox::CloudbedsEmulator::builder().reservations(2).start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = casa(dir.path(), &emu);
    let out = std::process::Command::new(support::BIN).args(["console-token", "--db", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);
    let state = std::fs::read(&db).unwrap();
    assert!(!state.windows(token.len()).any(|w| w == token.as_bytes()), "the token itself is not kept");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut run = Proc::start(&["run", "--config", &cfg, "--db", &db, "--listen", &listen, "--json"]);
    let mut seen = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "listening");
    let base = format!("http://{listen}");
    let (status, body) = fetch_with(&format!("{base}/api/v1/accounts"), None);
    assert_eq!(status, 401, "{body}");
    assert_eq!(fetch_with(&format!("{base}/api/v1/accounts"), Some("not-the-token-at-all")).0, 401);
    let (status, body) = fetch_with(&format!("{base}/api/v1/accounts"), Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"cb\""));
    assert_eq!(fetch_with(&format!("{base}/"), None).0, 303, "a browser is sent to sign in");
    assert_eq!(fetch_with(&format!("{base}/healthz"), None).0, 200, "the probes stay open");

    // A token per host or person: a second one works beside the first, revoking one refuses it
    // within seconds (the running process follows the state), the other still works.
    let token_cmd = |args: &[&str]| {
        let out =
            std::process::Command::new(support::BIN).args(["console-token", "--db", &db]).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let frontdesk = token_cmd(&["--name", "frontdesk"]).trim().to_owned();
    let names: Vec<String> = token_cmd(&["--list"]).lines().map(|l| l.split('\t').next().unwrap().to_owned()).collect();
    assert_eq!(names, ["frontdesk", "owner"]);
    assert!(!token_cmd(&["--list"]).contains(&token), "the list never shows a token");
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "reloading");
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "listening");
    assert_eq!(fetch_with(&format!("{base}/api/v1/accounts"), Some(&frontdesk)).0, 200);
    assert_eq!(fetch_with(&format!("{base}/api/v1/accounts"), Some(&token)).0, 200);
    token_cmd(&["--revoke", "--name", "owner"]);
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "reloading");
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "listening");
    assert_eq!(fetch_with(&format!("{base}/api/v1/accounts"), Some(&token)).0, 401, "revoked");
    assert_eq!(fetch_with(&format!("{base}/api/v1/accounts"), Some(&frontdesk)).0, 200);
    let state = std::fs::read(&db).unwrap();
    assert!(!state.windows(frontdesk.len()).any(|w| w == frontdesk.as_bytes()), "no token itself is kept");
    assert_eq!(run.terminate().code(), Some(0));
}

fn send(method: reqwest::Method, url: &str, bearer: &str, body: Option<Value>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().request(method, url).bearer_auth(bearer);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.expect("reachable");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

/// An account added through the console's API runs at once (`run` restarts its runtime on the
/// same port, and another worker on the same state follows), runs again after a restart of the
/// process, and stops when removed — its bookings kept, none doubled; its API key is kept in the
/// token table only.
#[test]
fn accounts_added_through_the_console_run_now_and_after_a_restart() {
    use hostelpulse::sync::AccountConfigStore;

    let rt = tokio::runtime::Runtime::new().unwrap();
    let first = rt.block_on(hostelpulse_sandbox::CloudbedsEmulator::builder().reservations(2).start()).unwrap();
    let second = rt
        .block_on(hostelpulse_sandbox::CloudbedsEmulator::builder().properties(["704"]).reservations(5).start())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = casa(dir.path(), &first);
    let token = "console-token-for-accounts-0123456789";
    let env = [("HOSTELPULSE_CONSOLE_TOKEN", token)];
    let listen = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        format!("127.0.0.1:{port}")
    };
    let start = |listen: &str| {
        Proc::start_with_env(&["run", "--config", &cfg, "--db", &db, "--listen", listen, "--json"], &env)
    };
    let ran_ok =
        |id: &'static str| move |v: &Value| v["event"] == "run" && v["account"] == id && v["outcome"]["status"] == "ok";
    let listening_with = |ids: &'static [&'static str]| {
        move |v: &Value| {
            v["event"] == "listening"
                && v["accounts"].as_array().is_some_and(|a| {
                    let mut got: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                    got.sort_unstable();
                    got == ids
                })
        }
    };
    let second_id = second.property_id().to_owned();
    let key = second.issue_api_key(&second_id);
    // The second property's account, added through the API with its key.
    let add_cb2 = |base: &str| {
        let body = serde_json::json!({
            "property": "Casa",
            "config": { "connector": "cloudbeds", "property_id": second_id, "http": { "base_url": second.base_url() } },
            "secrets": { "api_key": key },
        });
        send(reqwest::Method::PUT, &format!("{base}/api/v1/accounts/cb2"), token, Some(body))
    };
    let stored_bookings = || {
        rt.block_on(async {
            let store = hostelpulse::store::SqliteStore::open_existing(&db).await.unwrap();
            let far = (
                chrono::NaiveDate::from_ymd_opt(1000, 1, 1).unwrap(),
                chrono::NaiveDate::from_ymd_opt(9999, 1, 1).unwrap(),
            );
            let mine: Vec<String> = store
                .bookings_between(far.0, far.1)
                .await
                .unwrap()
                .into_iter()
                .filter(|b| b.key.account.as_str() == second_id)
                .map(|b| b.key.id.as_str().to_owned())
                .collect();
            (mine, store.stored_accounts().await.unwrap())
        })
    };

    let addr = listen();
    let base = format!("http://{addr}");
    let mut run = start(&addr);
    let mut seen = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut seen, ran_ok("cb"));
    // A second worker on the same state learns of the change from the store.
    let mut other = start(&listen());
    let mut other_seen = Vec::new();
    other.wait_for(Duration::from_secs(60), &mut other_seen, listening_with(&["cb"]));
    let (status, reply) = add_cb2(&base);
    assert_eq!(status, 200, "{reply}");
    assert!(!reply.contains(&key), "the key is never returned");
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "reloading");
    run.wait_for(Duration::from_secs(60), &mut seen, listening_with(&["cb", "cb2"]));
    other.wait_for(Duration::from_secs(60), &mut other_seen, listening_with(&["cb", "cb2"]));
    // Whichever worker owns it, "sync now" runs it here.
    let full = serde_json::json!({ "plan": "full" });
    let (status, reply) =
        send(reqwest::Method::POST, &format!("{base}/api/v1/accounts/cb2/sync"), token, Some(full.clone()));
    assert_eq!(status, 202, "{reply}");
    run.wait_for(Duration::from_secs(60), &mut seen, ran_ok("cb2"));
    assert_eq!(other.terminate().code(), Some(0));
    let (status, accounts) = send(reqwest::Method::GET, &format!("{base}/api/v1/accounts"), token, None);
    assert_eq!(status, 200);
    assert!(accounts.contains("\"cb2\""), "{accounts}");
    assert_eq!(run.terminate().code(), Some(0));
    let (after_add, stored) = stored_bookings();
    assert_eq!(after_add.len(), 5, "the new account's bookings: {after_add:?}");
    assert!(!serde_json::to_string(&stored).unwrap().contains(&key), "the stored configuration holds no key");

    // A new process: the stored account is part of its configuration; nothing doubles. An entry
    // that cannot be built any more (its secret's variable is gone) is skipped, not fatal.
    rt.block_on(async {
        let store = hostelpulse::store::SqliteStore::open_existing(&db).await.unwrap();
        let broken = serde_json::json!({ "connector": "ical", "id": "broken",
            "feeds": [{ "id": "d", "room_type": "d", "url": { "env": "HOSTELPULSE_TEST_NEVER_SET" } }] });
        let entry = hostelpulse::sync::StoredAccount::new("Casa", "broken", Some(broken), chrono::Utc::now());
        store.put_stored_account(&entry).await.unwrap();
    });
    let addr = listen();
    let base = format!("http://{addr}");
    let mut run = start(&addr);
    let mut seen = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut seen, listening_with(&["cb", "cb2"]));
    let (status, reply) = send(reqwest::Method::POST, &format!("{base}/api/v1/accounts/cb2/sync"), token, Some(full));
    assert_eq!(status, 202, "{reply}");
    run.wait_for(Duration::from_secs(60), &mut seen, ran_ok("cb2"));
    let (status, reply) = send(reqwest::Method::DELETE, &format!("{base}/api/v1/accounts/cb2"), token, None);
    assert_eq!(status, 200, "{reply}");
    run.wait_for(Duration::from_secs(60), &mut seen, listening_with(&["cb"]));
    assert_eq!(run.terminate().code(), Some(0));
    let (after_remove, _) = stored_bookings();
    assert_eq!(after_remove, after_add, "removing an account keeps its bookings, none doubled");

    // A stop asked for between two generations (right as the runtime restarts for a change) is
    // kept: the process stops cleanly instead of serving on and ignoring it.
    let addr = listen();
    let base = format!("http://{addr}");
    let mut run = start(&addr);
    let mut seen = Vec::new();
    run.wait_for(Duration::from_secs(60), &mut seen, listening_with(&["cb"]));
    let (status, reply) = add_cb2(&base);
    assert_eq!(status, 200, "{reply}");
    run.wait_for(Duration::from_secs(60), &mut seen, |v| v["event"] == "reloading");
    assert_eq!(run.terminate().code(), Some(0), "a SIGTERM during the restart stops the process");
}
