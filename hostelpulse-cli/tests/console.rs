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
