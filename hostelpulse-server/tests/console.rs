//! The console over a store a real sync filled (the Cloudbeds emulator): the API's answers and
//! errors, bearer tokens, "sync now" through a running runtime, the mapping confirmed through the
//! API and through the page's form, and the pages themselves.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hostelpulse::config::Config;
use hostelpulse::model::Property;
use hostelpulse::runtime::RoomsSink;
use hostelpulse::runtime::{Runtime, RuntimeConfig, RuntimeEvent};
use hostelpulse::store::SqliteStore;
use hostelpulse::sync::{Scope, Trigger};
use hostelpulse_sandbox::CloudbedsEmulator;
use hostelpulse_server::{Console, token_hash};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "console-token-0123456789abcdef";

struct Reply {
    status: StatusCode,
    content_type: String,
    location: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn call(router: &axum::Router, method: &str, uri: &str, body: Option<(&str, String)>, token: bool) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    let req = match body {
        Some((ct, b)) => req.header(header::CONTENT_TYPE, ct).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let header = |h| res.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (content_type, location) = (header(header::CONTENT_TYPE).unwrap_or_default(), header(header::LOCATION));
    let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply { status, content_type, location, body }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_over_a_synced_store() {
    let emu = CloudbedsEmulator::builder().reservations(6).start().await.unwrap();
    let property = emu.property_id().to_owned();
    let text = format!(
        "[property]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\nrooms_from = \"cb\"\n\n[[account]]\n\
         connector = \"cloudbeds\"\nid = \"cb\"\nproperty_id = \"{property}\"\n\
         api_key = {{ value = \"{key}\", insecure_inline = true }}\nhttp = {{ base_url = \"{url}\" }}\n",
        key = emu.issue_api_key(&property),
        url = emu.base_url()
    );
    let cfg = Config::from_toml(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("state.sqlite")).await.unwrap());
    let file = dir.path().join("hostel.toml");
    std::fs::write(&file, &text).unwrap();
    let fleet = hostelpulse::fleet::FleetRegistry::build(
        &hostelpulse::config::Fleet::load(&file).unwrap(),
        &hostelpulse::config::EnvSecrets,
        store.clone(),
    )
    .unwrap();

    // The runtime fills the store (its first full sync, the rooms, housekeeping) and takes
    // "sync now".
    struct Rooms(Arc<SqliteStore>);
    #[async_trait::async_trait]
    impl RoomsSink for Rooms {
        async fn save_rooms(
            &self,
            scope: &Scope,
            properties: &[Property],
        ) -> Result<(), hostelpulse::core::error::BoxError> {
            Ok(self.0.save_properties(scope, properties).await?)
        }
    }
    let mut rc = RuntimeConfig::default();
    rc.catch_up_spread = Duration::ZERO;
    let runtime = Runtime::builder(store.clone(), store.clone())
        .accounts(fleet.managed())
        .rooms_sink(Arc::new(Rooms(store.clone())))
        .config(rc)
        .build()
        .unwrap();
    let handle = runtime.handle();
    let mut events = handle.subscribe();
    let running = tokio::spawn(runtime.run());
    let full = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(RuntimeEvent::Housekeeping { .. }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(full.is_ok(), "the first full sync and its housekeeping ran");

    let console = Console::builder(store.clone())
        .properties([cfg.clone()])
        .runtime(handle.clone())
        .registry(Arc::new(fleet.properties[0].1.clone()))
        .bearer_token_hashes([token_hash(TOKEN)])
        .build();
    let router = console.router();

    // No token, a wrong one: 401 as problem details.
    let denied = call(&router, "GET", "/api/v1/accounts", None, false).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert_eq!(denied.content_type, "application/problem+json");
    assert_eq!(denied.json()["status"], 401);
    let wrong = router
        .clone()
        .oneshot(Request::get("/").header(header::AUTHORIZATION, "Bearer nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    // A person at a browser signs in once; the cookie then carries the token.
    let page = call(&router, "GET", "/board", None, false).await;
    assert_eq!((page.status, page.location.as_deref()), (StatusCode::SEE_OTHER, Some("login")));
    let bad =
        call(&router, "POST", "/login", Some(("application/x-www-form-urlencoded", "token=guess".into())), false).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let signed = router
        .clone()
        .oneshot(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={TOKEN}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let cookie = signed.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(signed.headers()[header::SET_COOKIE].to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
    let with_cookie = router
        .clone()
        .oneshot(Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);

    // Accounts with their status.
    let accounts = call(&router, "GET", "/api/v1/accounts", None, true).await.json();
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    let cb = &accounts[0];
    assert_eq!(
        (cb["id"].as_str(), cb["connector"].as_str(), cb["property"].as_str()),
        (Some("cb"), Some("cloudbeds"), Some("Casa"))
    );
    assert_eq!(cb["consecutive_failures"], 0);
    assert!(cb["next_poll_at"].is_string(), "the saved schedule: {cb}");
    assert_eq!(cb["alerts"], serde_json::json!([]));
    assert!(cb["last_success"].is_string(), "{cb}");

    // Runs, newest first, with counts; the housekeeping refresh is a `rooms` run.
    let runs = call(&router, "GET", "/api/v1/accounts/cb/runs?limit=10", None, true).await.json();
    let plans: Vec<&str> = runs.as_array().unwrap().iter().map(|r| r["plan"].as_str().unwrap()).collect();
    assert_eq!(plans, ["rooms", "full"]);
    assert_eq!(runs[1]["fetched"], 6, "{runs:#}");
    let older = runs[0]["started_at"].as_str().unwrap().replace('+', "%2B");
    let page2 = call(&router, "GET", &format!("/api/v1/accounts/cb/runs?limit=1&before={older}"), None, true).await;
    assert_eq!(page2.json()[0]["plan"], "full", "paged by start time");
    let id = runs[1]["run_id"].as_str().unwrap();
    let record = call(&router, "GET", &format!("/api/v1/accounts/cb/runs/{id}"), None, true).await.json();
    assert_eq!((record["run_id"].as_str(), record["counts"]["fetched"].as_u64()), (Some(id), Some(6)));
    assert_eq!(call(&router, "GET", "/api/v1/accounts/cb/runs/nope", None, true).await.status, StatusCode::NOT_FOUND);

    // The capability matrix, declared and (checked) effective; a stay looked up at Cloudbeds.
    let caps = call(&router, "GET", "/api/v1/accounts/cb/capabilities?check=true", None, true).await.json();
    assert!(caps["declared"].is_object() && caps["effective"].is_object(), "{caps:#}");
    let booking = emu.reservation_ids().into_iter().next().unwrap();
    let found = call(&router, "GET", &format!("/api/v1/accounts/cb/stay?booking={booking}"), None, true).await.json();
    assert_eq!(found["answered_by"], "source", "{found:#}");
    assert_eq!(found["bookings"][0]["key"]["id"], booking.as_str());
    let vague = call(&router, "GET", "/api/v1/accounts/cb/stay?room=445567-1", None, true).await;
    assert_eq!(vague.status, StatusCode::BAD_REQUEST);

    let missing = call(&router, "GET", "/api/v1/accounts/nope/runs", None, true).await;
    assert_eq!(
        (missing.status, missing.json()["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("urn:hostelpulse:not-found"))
    );

    // Sync now: queued in the runtime, and run.
    let bad = call(
        &router,
        "POST",
        "/api/v1/accounts/cb/sync",
        Some(("application/json", r#"{"plan":"weekly"}"#.into())),
        true,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let queued = call(
        &router,
        "POST",
        "/api/v1/accounts/cb/sync",
        Some(("application/json", r#"{"plan":"full"}"#.into())),
        true,
    )
    .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let body = Some(("application/json", r#"{"plan":"full"}"#.into()));
    let whole = call(&router, "POST", "/api/v1/properties/Casa/sync", body, true).await;
    assert_eq!(
        (whole.status, whole.json()[0]["account"].as_str()),
        (StatusCode::ACCEPTED, Some("cb")),
        "{}",
        whole.body
    );
    // Each answer names the run that serves it: the first run queued, or the next.
    let mut promised: std::collections::BTreeSet<String> =
        [queued.json()["run_id"].as_str().unwrap().to_owned(), whole.json()[0]["run_id"].as_str().unwrap().to_owned()]
            .into();
    let manual = tokio::time::timeout(Duration::from_secs(60), async {
        let mut last = None;
        while !promised.is_empty() {
            if let Ok(RuntimeEvent::Ran { run, .. }) = events.recv().await
                && run.trigger == Trigger::Manual
            {
                assert!(promised.remove(&run.run_id), "a manual run nobody was promised: {}", run.run_id);
                last = Some(run);
            }
        }
        last.unwrap()
    })
    .await
    .expect("the queued runs ran, under the ids given out");
    assert!(manual.outcome.is_success(), "{manual}");
    let record = call(&router, "GET", &format!("/api/v1/accounts/cb/runs/{}", manual.run_id), None, true).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);

    // The mapping: every room unmapped; one set through the API, its name then on the board.
    let view = call(&router, "GET", "/api/v1/mapping", None, true).await.json();
    let rows = view["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["state"] == "unmapped"), "{view:#}");
    let r201 = rows.iter().find(|r| r["source_name"] == "201").expect("room 201");
    let key = r201["source_key"].as_str().unwrap().to_owned();
    let set = call(
        &router,
        "PUT",
        &format!("/api/v1/mapping/{key}"),
        Some(("application/json", r#"{"host_id":"h-201","host_name":"Sea view 201"}"#.into())),
        true,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let confirmed =
        set.json()["rows"].as_array().unwrap().iter().find(|r| r["source_key"] == key.as_str()).cloned().unwrap();
    assert_eq!(
        (confirmed["state"].as_str(), confirmed["host_name"].as_str()),
        (Some("confirmed"), Some("Sea view 201"))
    );
    let unknown = call(
        &router,
        "POST",
        "/api/v1/mapping/confirm",
        Some(("application/json", r#"{"keys":["cloudbeds:x:y"]}"#.into())),
        true,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let board = call(&router, "GET", "/api/v1/properties/Casa/board", None, true).await.json();
    assert!(board["rooms"].as_array().unwrap().iter().any(|r| r["name"] == "Sea view 201"), "{board:#}");
    assert_eq!(
        call(&router, "GET", "/api/v1/properties/Elsewhere/board", None, true).await.status,
        StatusCode::NOT_FOUND
    );
    // The turnover tasks the synced stays call for, kept; by check-out day or all.
    {
        use hostelpulse::tasks::{TaskEvent, TaskStore, TurnoverPlanner};
        let far = (
            chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
        );
        let bookings = store.bookings_between(far.0, far.1).await.unwrap();
        let planned =
            TurnoverPlanner::new(chrono_tz::Europe::Lisbon, chrono::NaiveTime::from_hms_opt(15, 0, 0).unwrap())
                .plan(&bookings);
        assert!(!planned.is_empty());
        let events: Vec<TaskEvent> = planned.values().map(|t| TaskEvent::Created { task: t.clone() }).collect();
        store.record_task_events("Casa", &events, chrono::Utc::now()).await.unwrap();
        let all = call(&router, "GET", "/api/v1/properties/Casa/tasks", None, true).await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(all.json().as_array().unwrap().len(), planned.len());
        let day = planned.values().next().unwrap().checkout;
        let want = planned.values().filter(|t| t.checkout == day).count();
        let that_day = call(&router, "GET", &format!("/api/v1/properties/Casa/tasks?date={day}"), None, true).await;
        let got = that_day.json();
        assert_eq!(got.as_array().unwrap().len(), want, "{got}");
        assert!(got.as_array().unwrap().iter().all(|t| t["checkout"] == day.to_string()));
    }

    // The pages: the dashboard, the board, the mapping page and its form.
    let dashboard = call(&router, "GET", "/", None, true).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.content_type.starts_with("text/html"), "{}", dashboard.content_type);
    assert!(dashboard.body.contains("Sync now") && dashboard.body.contains(">cb<"), "{}", dashboard.body);
    assert!(dashboard.body.contains("capabilities?account=cb"), "each account links to what it can do");
    // The capability matrix: declared, then checked against the emulator with this key.
    let caps = call(&router, "GET", "/capabilities?account=cb", None, true).await;
    assert_eq!(caps.status, StatusCode::OK, "{}", caps.body);
    assert!(
        caps.body.contains("read_bookings_modified") && caps.body.contains("Check this connection"),
        "{}",
        caps.body
    );
    assert!(!caps.body.contains("This connection<"), "not checked unless asked");
    let checked = call(&router, "GET", "/capabilities?account=cb&check=true", None, true).await;
    assert!(checked.body.contains("This connection<") && checked.body.contains("Checked just now"), "{}", checked.body);
    assert_eq!(call(&router, "GET", "/capabilities?account=ghost", None, true).await.status, StatusCode::NOT_FOUND);
    let today = call(&router, "GET", "/board", None, true).await;
    assert!(today.body.contains("Today at Casa") && today.body.contains("Sea view 201"), "{}", today.body);
    let page = call(&router, "GET", "/mapping", None, true).await;
    assert!(page.body.contains("class=\"unmapped\""), "unmapped rooms highlighted");
    let r202 =
        rows.iter().find(|r| r["source_name"] == "202").expect("room 202")["source_key"].as_str().unwrap().to_owned();
    let form = format!("action=save&key={}&host_id=h-202&host_name=Garden+202", r202.replace(':', "%3A"));
    let posted = call(&router, "POST", "/mapping", Some(("application/x-www-form-urlencoded", form)), true).await;
    assert_eq!((posted.status, posted.location.as_deref()), (StatusCode::SEE_OTHER, Some("mapping")));
    let view = call(&router, "GET", "/api/v1/mapping", None, true).await.json();
    let saved = view["rows"].as_array().unwrap().iter().find(|r| r["source_key"] == r202.as_str()).cloned().unwrap();
    assert_eq!((saved["state"].as_str(), saved["host_name"].as_str()), (Some("confirmed"), Some("Garden 202")));
    // A form posted from another site is refused, whoever's cookie it carries.
    let forged = router
        .clone()
        .oneshot(
            Request::post("/sync")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header("sec-fetch-site", "cross-site")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("account=cb&plan=full"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let sync_form = call(
        &router,
        "POST",
        "/sync",
        Some(("application/x-www-form-urlencoded", "account=cb&plan=incremental".into())),
        true,
    )
    .await;
    assert_eq!(sync_form.status, StatusCode::SEE_OTHER);

    handle.shutdown();
    running.await.unwrap().unwrap();
}

/// Accounts added, changed and removed through the API: stored over the file, secrets kept
/// apart in the token table and never returned, refused with problem details when they would
/// not run, and applied by the file's properties the next time they are built.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_are_added_changed_and_removed_through_the_api() {
    use hostelpulse::core::http::TokenStore;
    use hostelpulse::stored::{StoredSecrets, secret_key};
    use hostelpulse::sync::AccountConfigStore;
    use secrecy::ExposeSecret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[[property]]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\n\n[[property.account]]\nconnector = \"email\"\n\
         id = \"inbox\"\nmaildir = \"{}\"\n\n[[property]]\nname = \"Dunas\"\ntimezone = \"Europe/Lisbon\"\n",
        dir.path().join("mail").display()
    );
    let fleet = hostelpulse::config::Fleet::from_toml(&text).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("state.sqlite")).await.unwrap());
    let changed = Arc::new(AtomicUsize::new(0));
    let seen = changed.clone();
    let router = Console::builder(store.clone())
        .properties(fleet.properties.clone())
        .bearer_token_hashes([token_hash(TOKEN)])
        .on_accounts_changed(Arc::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        }))
        .build()
        .router();
    let json = |v: Value| Some(("application/json", v.to_string()));
    const FEED: &str = "http://127.0.0.1:9/calendar.ics?t=s3cret-feed-token";

    // Added, with its secret beside the configuration.
    let add = serde_json::json!({
        "property": "Casa",
        "config": { "connector": "ical", "feeds": [{ "id": "dorm", "url": "", "room_type": "dorm" }],
                    "allow_private_addresses": true },
        "secrets": { "feeds.0.url": FEED },
    });
    assert_eq!(
        call(&router, "PUT", "/api/v1/accounts/airbnb", json(add.clone()), false).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = call(&router, "PUT", "/api/v1/accounts/airbnb", json(add), true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("s3cret"), "the secret is never returned: {}", r.body);
    let saved = r.json();
    assert_eq!(saved["source"], "console");
    assert_eq!(saved["applying"], true);
    assert_eq!(saved["config"]["id"], "airbnb");
    assert_eq!(saved["config"]["feeds"][0]["url"], serde_json::json!({ "secret": "console:airbnb/feeds.0.url" }));
    assert_eq!(changed.load(Ordering::SeqCst), 1);
    let secret = store.load(&secret_key("airbnb", "feeds.0.url")).await.unwrap().unwrap();
    assert_eq!(secret.expose_secret(), FEED);
    let got = call(&router, "GET", "/api/v1/accounts/airbnb/config", None, true).await;
    assert_eq!(got.json()["config"], saved["config"]);
    assert!(!got.body.contains("s3cret"));
    let file_account = call(&router, "GET", "/api/v1/accounts/inbox/config", None, true).await.json();
    assert_eq!((file_account["source"].as_str(), file_account["property"].as_str()), (Some("file"), Some("Casa")));

    // Changed without sending the secret again: the reference keeps it.
    let mut again = saved["config"].clone();
    again["feeds"][0]["room_type"] = "dorm-6".into();
    let r = call(
        &router,
        "PUT",
        "/api/v1/accounts/airbnb",
        json(serde_json::json!({ "property": "Casa", "config": again })),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Refused, with what is wrong and nothing stored: an inline secret (not echoed), another
    // account's secret, an unknown property, a source another account already syncs, a
    // mismatched id, an unknown connector, a secret the runtime could not find.
    let refused = [
        (
            serde_json::json!({ "property": "Casa", "config": { "connector": "ical",
            "feeds": [{ "id": "d", "url": { "value": "http://x/?t=inline-s3cret", "insecure_inline": true } }] } }),
            "/api/v1/accounts/other",
            StatusCode::UNPROCESSABLE_ENTITY,
            "secrets",
        ),
        (
            serde_json::json!({ "property": "Casa", "config": { "connector": "ical",
            "feeds": [{ "id": "d", "url": { "secret": "console:airbnb/feeds.0.url" } }] } }),
            "/api/v1/accounts/other",
            StatusCode::UNPROCESSABLE_ENTITY,
            "another account",
        ),
        (
            serde_json::json!({ "property": "Nowhere", "config": { "connector": "email", "maildir": "/m" } }),
            "/api/v1/accounts/other",
            StatusCode::NOT_FOUND,
            "Nowhere",
        ),
        (
            serde_json::json!({ "property": "Dunas", "config": { "connector": "email", "maildir": "/m" } }),
            "/api/v1/accounts/inbox2",
            StatusCode::OK,
            "",
        ),
        (
            serde_json::json!({ "property": "Dunas", "config": { "connector": "email", "id": "x", "maildir": "/m" } }),
            "/api/v1/accounts/other",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not `other`",
        ),
        (
            serde_json::json!({ "property": "Dunas", "config": { "connector": "telepathy" } }),
            "/api/v1/accounts/other",
            StatusCode::UNPROCESSABLE_ENTITY,
            "telepathy",
        ),
        (
            serde_json::json!({ "property": "Dunas", "config": { "connector": "ical",
            "feeds": [{ "id": "d", "room_type": "d", "url": { "env": "HOSTELPULSE_TEST_UNSET_FEED_URL" } }] } }),
            "/api/v1/accounts/other",
            StatusCode::UNPROCESSABLE_ENTITY,
            "HOSTELPULSE_TEST_UNSET_FEED_URL",
        ),
    ];
    for (body, uri, status, says) in refused {
        let r = call(&router, "PUT", uri, json(body), true).await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
        assert!(r.body.contains(says), "{uri}: {}", r.body);
        assert!(!r.body.contains("inline-s3cret"), "{}", r.body);
        if status != StatusCode::OK {
            assert!(r.content_type.starts_with("application/problem+json"), "{}", r.content_type);
        }
    }

    // Removed: a file's account leaves a tombstone; an unknown one is a 404.
    let r = call(&router, "DELETE", "/api/v1/accounts/inbox", None, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["config"], Value::Null);
    assert_eq!(call(&router, "DELETE", "/api/v1/accounts/ghost", None, true).await.status, StatusCode::NOT_FOUND);

    // What the runtime builds at its next start: the file with the stored entries over it.
    let stored = store.stored_accounts().await.unwrap();
    let ids: Vec<&str> = stored.iter().map(|s| s.account.as_str()).collect();
    assert_eq!(ids, ["airbnb", "inbox", "inbox2"]);
    let mut effective = fleet.clone();
    assert_eq!(hostelpulse::stored::apply(&mut effective, &stored), []);
    let by_property: Vec<Vec<&str>> =
        effective.properties.iter().map(|p| p.accounts.iter().map(|a| a.id()).collect()).collect();
    assert_eq!(by_property, [vec!["airbnb"], vec!["inbox2"]]);
    assert_eq!(effective.properties[0].accounts[0].scope().account.as_str(), "airbnb");
    let secrets = StoredSecrets::load(store.as_ref(), &stored, hostelpulse::config::EnvSecrets).await.unwrap();
    let built = hostelpulse::fleet::FleetRegistry::build(&effective, &secrets, store.clone()).unwrap();
    assert_eq!(built.all().accounts().len(), 2);
    assert_eq!(changed.load(Ordering::SeqCst), 4, "two puts of airbnb, inbox2, the removal");
}
