//! "Nothing lost", end to end: the release-style binary run as separate processes, day after day,
//! against the bundled emulators. Each test is one of the ways bookings used to vanish.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use hostelpulse::core::testkit::{NewBooking, Upstream};
use hostelpulse::model::BookingStatus;
use hostelpulse::store::SqliteStore;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hostelpulse");

fn hostelpulse(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that prints JSON and must succeed.
fn json(args: &[&str]) -> Value {
    let (ok, out, err) = hostelpulse(args);
    assert!(ok, "{args:?} failed: {err}\n{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Europe::Lisbon).date_naive()
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

async fn bookings(db: &str) -> Vec<hostelpulse::model::Booking> {
    let store = SqliteStore::open(db).await.unwrap();
    let (from, until) = (NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2100, 1, 1).unwrap());
    store.bookings_between(from, until).await.unwrap()
}

/// A running `hostelpulse webhook serve`, killed on drop.
struct Serving {
    child: Child,
    log: PathBuf,
}

impl Serving {
    fn start(config: &str, db: &str, dir: &Path, name: &str, extra: &[&str]) -> (Self, String) {
        Self::start_on(free_port(), config, db, dir, name, extra)
    }

    fn start_on(port: u16, config: &str, db: &str, dir: &Path, name: &str, extra: &[&str]) -> (Self, String) {
        let listen = format!("127.0.0.1:{port}");
        let log = dir.join(format!("{name}.log"));
        let mut args = vec!["webhook", "serve", "--config", config, "--db", db, "--listen", &listen, "--json"];
        args.extend_from_slice(extra);
        let child = Command::new(BIN)
            .args(&args)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(&listen).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        (Self { child, log }, format!("http://{listen}"))
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log).unwrap().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Waits (bounded) until `done` holds; the assertion after it says what was expected.
async fn eventually(mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 1. Booking mails arriving across three `sync` processes: every guest stays, none is declared gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_bookings_survive_separate_sync_processes() {
    use hostelpulse_sandbox::BookingMailer;
    let dir = tempfile::tempdir().unwrap();
    let mailer = BookingMailer::create(dir.path().join("Maildir")).unwrap();
    let config = write(
        &dir.path().join("hostel.toml"),
        &format!(
            "[property]\nname = \"Mail Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"{}\"\n",
            mailer.root().display()
        ),
    );
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let t = today();
    let mut names = Vec::new();
    for (batch, count) in [2, 1, 1].into_iter().enumerate() {
        for n in 0..count {
            let name = format!("Guest B{batch}N{n}");
            let arrival = t - chrono::Duration::days(1);
            mailer.create(NewBooking::new(arrival, t + chrono::Duration::days(2)).guest(name.clone())).await.unwrap();
            names.push(name);
        }
        let run = json(&["sync", "--config", &config, "--db", &db, "--json"]);
        assert_eq!(run["inbox"]["counts"]["disappeared"], 0, "run {batch}: {run}");
        assert_eq!(run["inbox"]["counts"]["cancelled"], 0, "run {batch}: {run}");
    }
    let board = json(&["today", "--config", &config, "--db", &db, "--json"]);
    let in_house: Vec<&str> =
        board["in_house"].as_array().unwrap().iter().filter_map(|l| l["guest"].as_str()).collect();
    for name in &names {
        assert!(in_house.contains(&name.as_str()), "{name} is in house: {board}");
    }
    let stored = bookings(&db).await;
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|b| b.status != BookingStatus::Cancelled));
}

/// 2. Sirvoy deliveries 1–2, `webhook serve` restarts, deliveries 3–4: all four stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sirvoy_deliveries_survive_a_restart_of_webhook_serve() {
    use hostelpulse_sandbox::SirvoySender;
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        &dir.path().join("hostel.toml"),
        "[property]\nname = \"Push Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
         [[account]]\nconnector = \"sirvoy\"\nid = \"sirvoy\"\nproperty_id = \"4711\"\n\
         url_secret = { value = \"sirvoy-url-secret-0123456789\", insecure_inline = true }\nallowed_senders = [\"127.0.0.0/8\"]\n",
    );
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let a = today() + chrono::Duration::days(1);
    // The same callback URL before and after the restart, as Sirvoy keeps calling it.
    let port = free_port();
    let sender =
        SirvoySender::new(format!("http://127.0.0.1:{port}/hooks/sirvoy/sirvoy-url-secret-0123456789"), "4711");
    for round in 0..2 {
        let (server, _) = Serving::start_on(port, &config, &db, dir.path(), &format!("serve-{round}"), &[]);
        for n in 0..2 {
            let day = a + chrono::Duration::days(round * 2 + n);
            sender
                .create(NewBooking::new(day, day + chrono::Duration::days(1)).guest(format!("S{round}{n}")))
                .await
                .unwrap();
        }
        let want = 2 * (round as usize + 1);
        eventually(async || bookings(&db).await.len() == want).await;
        assert_eq!(bookings(&db).await.len(), want, "round {round}: {:?}", server.events());
        // Stopped once it has logged both deliveries synced (in one run or two), which it does after releasing the
        // account's lease: killed between its commit and that release, the next process would
        // wait out the lease (60 s) first — a crash costs that delay, not a delivery.
        let synced = || {
            let events = server.events();
            events
                .iter()
                .filter(|e| e["event"] == "synced")
                .filter_map(|e| e["detail"]["counts"]["inserted"].as_u64())
                .sum::<u64>()
        };
        eventually(async || synced() == 2).await;
        assert_eq!(synced(), 2, "round {round}: {:?}", server.events());
        drop(server);
    }
    let run = json(&["sync", "--config", &config, "--db", &db, "--json"]);
    assert_eq!(run["sirvoy"]["counts"]["disappeared"], 0, "{run}");
    let stored = bookings(&db).await;
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().all(|b| b.status == BookingStatus::Confirmed), "{stored:?}");
}

/// 3 and 4. FrontDesk Master CSV rows land in the same store as `sync`, and later iCal syncs of
/// that account never cancel them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_csv_rows_reach_the_board_and_survive_ical_syncs() {
    use hostelpulse_sandbox::IcalFeedServer;
    let server = IcalFeedServer::start(&["room-1"], 3).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        &dir.path().join("hostel.toml"),
        &format!(
            "[property]\nname = \"FDM Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"fdm\"\nid = \"fdm\"\nallow_private_addresses = true\n\
             feeds = [{{ id = \"room-1\", url = {{ value = \"{}\", insecure_inline = true }}, room = \"room-1\" }}]\n",
            server.url("room-1")
        ),
    );
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let t = today();
    let csv = write(
        &dir.path().join("report.csv"),
        &format!(
            "Reservation,Check-in,Check-out,Guest,Status,Room\nR-900,{},{},Csv Guest,Confirmed,room-1\n",
            (t - chrono::Duration::days(1)).format("%Y-%m-%d"),
            (t + chrono::Duration::days(1)).format("%Y-%m-%d")
        ),
    );
    json(&["sync", "--config", &config, "--db", &db, "--json"]);
    let preview =
        json(&["csv", "import", &csv, "--preset", "fdm", "--account", "fdm", "--db", &db, "--dry-run", "--json"]);
    assert_eq!(preview["inserted"], 1, "{preview}");
    assert!(
        bookings(&db).await.iter().all(|b| b.guest.name.as_deref() != Some("Csv Guest")),
        "a dry run writes nothing"
    );
    let import = json(&["csv", "import", &csv, "--preset", "fdm", "--account", "fdm", "--db", &db, "--json"]);
    assert_eq!(import["inserted"], 1, "{import}");
    for n in 0..3 {
        let run = json(&["sync", "--config", &config, "--db", &db, "--json"]);
        assert_eq!(run["fdm"]["counts"]["disappeared"], 0, "sync {n} after the import: {run}");
    }
    let row = bookings(&db).await.into_iter().find(|b| b.guest.name.as_deref() == Some("Csv Guest")).expect("imported");
    assert_ne!(row.status, BookingStatus::Cancelled);
    let board = json(&["today", "--config", &config, "--db", &db, "--json"]);
    assert!(board["in_house"].as_array().unwrap().iter().any(|l| l["guest"] == "Csv Guest"), "{board}");
    let again = json(&["csv", "import", &csv, "--preset", "fdm", "--account", "fdm", "--db", &db, "--json"]);
    assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(1)));
}

fn beds24_config(dir: &Path, base_url: &str, invite: &str) -> String {
    write(
        &dir.join("hostel.toml"),
        &format!(
            "[property]\nname = \"Harbour Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"beds24\"\nid = \"pms\"\nproperty_id = {}\n\
             credentials = {{ invite_code = {{ value = \"{invite}\", insecure_inline = true }} }}\nhttp = {{ base_url = \"{base_url}\" }}\n\
             webhook = {{ header = \"x-hook-secret\", secret = {{ value = \"hook-secret-0123456789\", insecure_inline = true }} }}\n",
            hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
        ),
    )
}

/// 5. A room-level webhook refreshes rooms and housekeeping; it never becomes a booking read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_webhook_refreshes_rooms_without_reading_bookings() {
    use hostelpulse_sandbox::Beds24Emulator;
    let emu = Beds24Emulator::builder().bookings(5).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = beds24_config(dir.path(), &emu.base_url(), &emu.issue_invite_code());
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let (server, base) = Serving::start(&config, &db, dir.path(), "serve", &[]);
    let before = emu.requests("/bookings");
    let body = include_str!("data/beds24-webhook-inventory.payload.json");
    let status = reqwest::Client::new()
        .post(format!("{base}/hooks/pms"))
        .header("x-hook-secret", "hook-secret-0123456789")
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    eventually(async || server.events().iter().any(|e| e["event"] == "synced")).await;
    let events = server.events();
    let run = events.iter().find(|e| e["event"] == "synced").unwrap_or_else(|| panic!("no run: {events:?}"));
    assert_eq!(run["detail"]["plan"], "rooms", "{run}");
    assert!(run["detail"]["counts"]["fetched"].as_u64().unwrap() > 0, "rooms and housekeeping were read: {run}");
    assert_eq!(emu.requests("/bookings"), before, "a room event never reads bookings");
    let store = SqliteStore::open(&db).await.unwrap();
    let scope = hostelpulse::sync::Scope::new(hostelpulse::core::ConnectorKind::BEDS24, "145678".into());
    assert!(store.housekeeping(&scope).await.unwrap().is_some_and(|h| !h.is_empty()), "housekeeping kept");
}

/// 6. A webhook delivered while the PMS is down lands once it is back (the inbox retries it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivered_while_the_pms_is_down_lands_when_it_is_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::{Request, State};
    use axum::response::{IntoResponse, Response};
    use hostelpulse_sandbox::{Beds24Emulator, Running};

    let emu = Beds24Emulator::builder().bookings(3).start().await.unwrap();
    // A gateway in front of the PMS that answers 503 while `down`.
    #[derive(Clone)]
    struct Gate {
        down: Arc<AtomicBool>,
        upstream: String,
        client: reqwest::Client,
    }
    async fn forward(State(g): State<Gate>, req: Request) -> Response {
        if g.down.load(Ordering::SeqCst) {
            return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
        }
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let url = format!("{}{}", g.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let mut out = g.client.request(parts.method, url).body(body.to_vec());
        for (k, v) in &parts.headers {
            if k != "host" {
                out = out.header(k, v);
            }
        }
        let r = out.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap();
        let mut resp = (status, bytes).into_response();
        *resp.headers_mut() = headers;
        resp
    }
    let gate = Gate { down: Arc::new(AtomicBool::new(true)), upstream: emu.root_url(), client: reqwest::Client::new() };
    let proxy = Running::serve(axum::Router::new().fallback(forward).with_state(gate.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = beds24_config(dir.path(), &proxy.url("/v2"), &emu.issue_invite_code());
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let (server, base) = Serving::start(&config, &db, dir.path(), "serve", &["--retry-first", "0.2"]);
    emu.set_webhook(format!("{base}/hooks/pms"), Some(("x-hook-secret".into(), "hook-secret-0123456789".into())));
    let a = today() + chrono::Duration::days(4);
    emu.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest("Patient Guest")).await.unwrap();
    eventually(async || server.events().iter().filter(|e| e["event"] == "retry").count() >= 2).await;
    assert!(bookings(&db).await.is_empty(), "nothing can land while the PMS is down");
    assert!(server.events().iter().filter(|e| e["event"] == "retry").count() >= 2, "{:?}", server.events());
    gate.down.store(false, Ordering::SeqCst);
    eventually(async || bookings(&db).await.iter().any(|b| b.guest.name.as_deref() == Some("Patient Guest"))).await;
    let stored = bookings(&db).await;
    assert_eq!(
        stored.iter().filter(|b| b.guest.name.as_deref() == Some("Patient Guest")).count(),
        1,
        "the delivery landed once the PMS was back: {:?}",
        server.events()
    );
}

/// 7. `kill -9` of `sync` at random points of 20 runs over a Maildir of booking mails, then one
/// more run: the store equals that of a run without kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_sync_at_random_points_loses_no_mail_booking() {
    use hostelpulse_sandbox::BookingMailer;
    const MAILS: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let (control_dir, crash_dir) = (dir.path().join("control"), dir.path().join("crash"));
    let control = BookingMailer::create(control_dir.join("Maildir")).unwrap();
    let crash = BookingMailer::create(crash_dir.join("Maildir")).unwrap();
    let t = today();
    for n in 0..MAILS {
        let a = t + chrono::Duration::days((n % 90) as i64);
        let spec = NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("Guest {n:04}"));
        control.create(spec.clone()).await.unwrap();
        crash.create(spec).await.unwrap();
    }
    let setup = |d: &Path, root: &Path| {
        let config = write(
            &d.join("hostel.toml"),
            &format!(
                "[property]\nname = \"Mail Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
                 [[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"{}\"\n",
                root.display()
            ),
        );
        (config, d.join("state.sqlite").to_str().unwrap().to_owned())
    };
    let (control_config, control_db) = setup(&control_dir, control.root());
    let control_run = json(&["sync", "--config", &control_config, "--db", &control_db, "--json"]);
    // How long a whole run takes here, from its own audit record: kill points spread over it.
    let stamp = |k: &str| control_run["inbox"][k].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    let full_run = (stamp("finished_at") - stamp("started_at")).to_std().unwrap() + Duration::from_millis(150);

    let (crash_config, crash_db) = setup(&crash_dir, crash.root());
    // A fixed-seed LCG: the kill points differ run to run within the test, reproducibly.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let at = full_run.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64 * 1.2);
        let mut child = Command::new(BIN)
            .args(["sync", "--config", &crash_config, "--db", &crash_db, "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        child.kill().ok(); // SIGKILL
        child.wait().ok();
    }
    json(&["sync", "--config", &crash_config, "--db", &crash_db, "--json"]);

    let view = |bs: Vec<hostelpulse::model::Booking>| {
        let mut v: Vec<(String, Option<String>, NaiveDate, String)> = bs
            .into_iter()
            .map(|b| (b.key.id.to_string(), b.guest.name, b.arrival, format!("{:?}", b.status)))
            .collect();
        v.sort();
        v
    };
    let want = view(bookings(&control_db).await);
    assert_eq!(want.len(), MAILS);
    let got = view(bookings(&crash_db).await);
    assert_eq!(got.len(), want.len(), "nothing lost, nothing doubled");
    assert_eq!(got, want);
}

/// The feeds' ETags live in the store: the second `sync`, a new process, asks every one of 1,000
/// unchanged feeds conditionally and gets 1,000 × 304, and its bookings stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_of_unchanged_feeds_downloads_nothing() {
    use hostelpulse_sandbox::IcalFeedServer;
    const FEEDS: usize = 1_000;
    let ids: Vec<String> = (0..FEEDS).map(|n| format!("room-{n}")).collect();
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let server = IcalFeedServer::start(&names, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let feeds: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                "{{ id = \"{id}\", url = {{ value = \"{}\", insecure_inline = true }}, room = \"{id}\" }}",
                server.url(id)
            )
        })
        .collect();
    let config = write(
        &dir.path().join("hostel.toml"),
        &format!(
            "[property]\nname = \"Many Rooms\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"ical\"\nid = \"feeds\"\nallow_private_addresses = true\nfeeds = [\n{}\n]\n",
            feeds.join(",\n")
        ),
    );
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let first = json(&["sync", "--config", &config, "--db", &db, "--json"]);
    assert_eq!(first["feeds"]["counts"]["inserted"], FEEDS as u64, "{first}");
    assert_eq!((server.served(), server.not_modified()), (FEEDS as u64, 0));

    let second = json(&["sync", "--config", &config, "--db", &db, "--json"]);
    assert_eq!((server.served(), server.not_modified()), (FEEDS as u64, FEEDS as u64), "every feed answered 304");
    let counts = &second["feeds"]["counts"];
    assert_eq!(
        (counts["unchanged"].as_u64(), counts["disappeared"].as_u64()),
        (Some(FEEDS as u64), Some(0)),
        "{second}"
    );
    assert_eq!(bookings(&db).await.len(), FEEDS);

    // A changed feed is downloaded again, and only that one.
    server.set_raw("room-7", None);
    json(&["sync", "--config", &config, "--db", &db, "--json"]);
    assert_eq!((server.served(), server.not_modified()), (FEEDS as u64 + 1, 2 * FEEDS as u64 - 1));
}

/// A full sync larger than one credit window: each `sync` process reads what the window allows
/// and is deferred, keeping what it read; the next process continues from the page the last one
/// stopped at (the checkpoint is in the store), and the finished snapshot holds every booking once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_full_sync_continues_in_the_next_process_where_it_stopped() {
    use hostelpulse_sandbox::Beds24Emulator;
    let emu = Beds24Emulator::builder().bookings(450).credits(4.0).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = beds24_config(dir.path(), &emu.base_url(), &emu.issue_invite_code());
    let db = dir.path().join("state.sqlite").to_str().unwrap().to_owned();
    let sync = || -> Value {
        let (_, out, err) = hostelpulse(&["sync", "--config", &config, "--db", &db, "--json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
    };
    // 451 bookings are 5 pages of 100; a window's 4 credits pay for the property and 2 pages.
    // Each process stores the pages it read as it reads them (a full read is taken in parts), so
    // the inserts are spread over the three runs and add up to every booking once.
    let mut runs = Vec::new();
    let mut inserted = 0;
    for _ in 0..6 {
        let run = sync();
        let status = run["pms"]["outcome"]["status"].as_str().unwrap().to_owned();
        runs.push((status.clone(), emu.requests("GET /v2/bookings")));
        inserted += run["pms"]["counts"]["inserted"].as_u64().unwrap();
        if status == "ok" {
            assert_eq!(inserted, 451, "{run}");
            break;
        }
        emu.set_credit_window(std::time::Duration::from_secs(300)); // the next credit window
    }
    let expected: Vec<(String, u64)> =
        [("deferred", 2), ("deferred", 4), ("ok", 5)].map(|(s, n)| (s.to_owned(), n)).into();
    assert_eq!(runs, expected, "three processes, each page read once");
    let stored = bookings(&db).await;
    let mut ids: Vec<&str> = stored.iter().map(|b| b.key.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((stored.len(), ids.len()), (451, 451), "every booking, once");

    // The finished run cleared the checkpoint: the next full read starts at page 1 again.
    emu.set_credit_window(std::time::Duration::from_secs(300));
    let next = sync();
    assert_eq!(next["pms"]["outcome"]["status"], "deferred");
    assert_eq!(emu.requests("GET /v2/bookings"), 7, "pages 1 and 2 once more");
    assert_eq!(bookings(&db).await.len(), 451);
}
