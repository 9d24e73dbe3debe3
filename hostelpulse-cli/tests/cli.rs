//! The command-line tool, end to end.

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs the binary; the exit code, standard output and standard error.
fn hostelpulse_code(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hostelpulse")).args(args).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hostelpulse(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hostelpulse")).args(args).output().expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_shows_exactly_the_upstream_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let (ok, out, err) = hostelpulse(&["demo", "--db", db.to_str().unwrap()]);
    assert!(ok, "demo failed: {err}\n{out}");
    for source in ["│ beds24 ", "│ cloudbeds ", "│ feeds ", "│ inbox ", "│ sirvoy "] {
        assert!(out.contains(source), "one sync report per source: {source} missing\n{out}");
    }
    assert!(out.contains("Today board — Harbour Hostel"), "{out}");
    assert!(out.contains("Occupied, details unknown"), "the Booking.com closure: {out}");
    assert!(
        out.contains("duplicate record(s) from other sources merged"),
        "the Airbnb stay in Beds24 and the feed: {out}"
    );
    assert!(out.contains("3 webhook hint(s) verified"), "{out}");
    let after = &out[out.find("Exactly these changes").expect("changes table")..];
    let rows: Vec<&str> =
        after.lines().filter(|l| ["│ cancelled", "│ changed", "│ new"].iter().any(|p| l.starts_with(p))).collect();
    assert_eq!(rows.len(), 5, "Beds24 cancel/change/new, the Expedia cancellation mail, the Sirvoy change: {after}");
    assert!(rows.iter().any(|r| r.contains("Ana Lima") && r.contains("beds24")));
    assert!(rows.iter().any(|r| r.starts_with("│ cancelled") && r.contains("email")));
    assert!(after.contains("Turnover tasks they caused") && after.contains("withdrawn"), "{after}");
    assert!(db.exists(), "state is kept in the SQLite file");

    // The demo's configuration holds every connector it ran, and no unit is double-booked on any
    // of the next three weeks: not in the seeded data, not by the demo's own changes.
    let config = out.lines().last().and_then(|l| l.split("--config ").nth(1)).and_then(|r| r.split(" --db").next());
    let config = config.expect("the closing line names the configuration");
    let text = std::fs::read_to_string(config).unwrap();
    for connector in ["beds24", "cloudbeds", "ical", "email", "sirvoy"] {
        assert!(
            text.contains(&format!("connector = \"{connector}\"")),
            "{connector} missing from the demo's configuration"
        );
    }
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Lisbon).date_naive();
    for day in today.iter_days().take(21) {
        let date = day.to_string();
        let (ok, board, err) =
            hostelpulse(&["today", "--config", config, "--db", db.to_str().unwrap(), "--date", &date, "--json"]);
        assert!(ok, "{err}");
        assert!(!board.contains("overbooked"), "{date}: {board}");
    }
}

/// Replaces every scalar with its type: the shape of a JSON document, stable across runs.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_today_status_and_tasks_from_a_configuration_file() {
    use hostelpulse_sandbox::Beds24Emulator;
    use hostelpulse_sandbox::mail::{MaildirWriter, sample};
    let emu = Beds24Emulator::builder().bookings(40).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inbox = MaildirWriter::create(dir.path().join("Maildir")).unwrap();
    inbox.deliver(sample("hostelworld-confirmed.eml").unwrap()).unwrap();
    inbox.deliver(sample("newsletter-not-a-booking.eml").unwrap()).unwrap();
    let config = dir.path().join("hostel.toml");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"Harbour Hostel\"\ntimezone = \"Europe/Lisbon\"\nrooms_from = \"pms\"\n\n\
             [[account]]\nconnector = \"beds24\"\nid = \"pms\"\nproperty_id = {}\n\
             credentials = {{ invite_code = {{ value = \"{}\", insecure_inline = true }} }}\nhttp = {{ base_url = \"{}\" }}\n\n\
             [[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"{}\"\n",
            hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
            emu.issue_invite_code(),
            emu.base_url(),
            inbox.root().display()
        ),
    )
    .unwrap();
    let (cfg, db) = (config.to_str().unwrap().to_owned(), dir.path().join("state.sqlite").to_str().unwrap().to_owned());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--db", db.as_str(), "--json"]);
        let (ok, out, err) = hostelpulse(&all);
        (
            ok,
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}\n{err}")),
            err,
        )
    };

    // Read-only commands before any sync: a clear error, and no state file appears.
    let (code, _, err) = hostelpulse_code(&["today", "--config", &cfg, "--db", &db]);
    assert!(code == 1 && err.contains("no state at") && !Path::new(&db).exists(), "{code} {err}");

    // The inbox holds a newsletter: that account's run is partial — reported, with its own exit code.
    let (code, out, err) = hostelpulse_code(&["sync", "--config", &cfg, "--db", &db, "--json"]);
    assert_eq!(code, 5, "a partial sync exits 5: {err}");
    assert!(err.contains("not everything synced (inbox)"), "{err}");
    let sync: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sync["pms"]["outcome"]["status"], "ok", "{sync}");
    assert_eq!(sync["inbox"]["outcome"]["status"], "partial", "{sync}");
    assert_eq!(sync["inbox"]["failures"].as_array().unwrap().len(), 1);
    let (ok, again, _) = run(&["sync", "--config", &cfg, "--account", "pms", "--incremental"]);
    assert!(ok, "{again}");
    assert_eq!(again["pms"]["counts"]["inserted"], 0, "nothing new the second time");

    // Read-only commands resolve no secret: the same file with its credential in an unset
    // environment variable still draws the board and lists the tasks.
    let text = std::fs::read_to_string(&config).unwrap();
    let start = text.find("{ value = \"").unwrap();
    let end = start + text[start..].find("insecure_inline = true }").unwrap() + "insecure_inline = true }".len();
    let no_secrets = dir.path().join("no-secrets.toml");
    std::fs::write(&no_secrets, format!("{}{{ env = \"HOSTELPULSE_TEST_UNSET\" }}{}", &text[..start], &text[end..]))
        .unwrap();
    for cmd in ["today", "tasks"] {
        let (code, _, err) = hostelpulse_code(&[cmd, "--config", no_secrets.to_str().unwrap(), "--db", &db, "--json"]);
        assert_eq!(code, 0, "{cmd} needs no credentials: {err}");
    }
    let (ok, today, err) = run(&["today", "--config", &cfg]);
    assert!(ok, "{err}");
    assert_eq!(today["property"], "Harbour Hostel");
    assert!(today["dorms"].as_array().unwrap().len() == 2, "the Beds24 inventory: {today}");
    let (ok, dec3, _) = run(&["today", "--config", &cfg, "--date", "2026-12-03"]);
    assert!(ok);
    assert!(
        dec3["arrivals"].as_array().unwrap().iter().any(|l| l["guest"] == "Ana Souza"),
        "the Hostelworld mail's guest arrives on the 3rd: {dec3}"
    );
    let (ok, status, _) = run(&["status"]);
    assert!(ok);
    assert!(status["beds24/145678"]["last_success"].is_string(), "{status}");
    let (ok, tasks, _) = run(&["tasks", "--config", &cfg, "--days", "14"]);
    assert!(ok);
    assert!(!tasks.as_array().unwrap().is_empty(), "check-outs in the next two weeks make tasks");
    insta::assert_json_snapshot!(
        "cli_json_shapes",
        serde_json::json!({
            "sync": shape(&sync["pms"]),
            "today": shape(&today),
            "status": shape(&status["beds24/145678"]),
            "tasks": shape(&tasks),
        })
    );

    // A mapping covering one private room, with a typo'd source key and an unmapped host room.
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping,
        "[[room]]\nid = \"h201\"\nname = \"201\"\nsources = [\"beds24:145678:316002-1\"]\n\n\
         [[room]]\nid = \"h202\"\nname = \"202\"\nsources = [\"beds24:145678:316002-9\"]\n\n\
         [[room]]\nid = \"h301\"\nname = \"301\"\n",
    )
    .unwrap();
    let (ok, check, _) = run(&["mapping", "check", mapping.to_str().unwrap()]);
    assert!(ok, "{check}");
    assert_eq!(check["clean"], false);
    assert_eq!(check["report"]["stale"].as_array().unwrap().len(), 1, "316002-9 does not exist: {check}");
    assert!(check["report"]["unmapped_sources"].as_array().unwrap().len() >= 12, "beds and other rooms: {check}");
    assert!(
        check["suggestions"].as_array().unwrap().iter().any(|s| s["host"] == "h301"),
        "room 301 is suggested by its number: {check}"
    );

    let (ok, _, err) = hostelpulse(&["today", "--config", "/nonexistent/hostel.toml"]);
    assert!(
        !ok && err.starts_with("error: configuration: cannot read configuration")
            && err.contains("fix the configuration"),
        "{err}"
    );
}

#[test]
fn capabilities_json_shape() {
    let (ok, out, err) = hostelpulse(&["capabilities", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    insta::assert_json_snapshot!(v);
}

#[test]
fn ical_parse_json_shape() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/airbnb-export-pair-a-2026-08.ics");
    let (ok, out, err) = hostelpulse(&["ical", "parse", file, "--timezone", "Europe/Rome", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reservation" && e["channel_ref"].as_str().is_some_and(|c| c.starts_with("HM")))
    );
    insta::assert_json_snapshot!(v);
    let (ok, out, _) = hostelpulse(&["ical", "parse", file, "--source", "airbnb"]);
    assert!(ok && out.contains("reservation"), "{out}");
    let (ok, _, err) = hostelpulse(&["ical", "parse", file, "--timezone", "Mars/Olympus"]);
    assert!(!ok && err.contains("unknown time zone"), "{err}");
}

#[test]
fn csv_import_previews_then_imports_then_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("hp-csv-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("export.csv");
    std::fs::write(&csv, "Booking ID;Arrival;Departure;Guest Name;Status\n1;01/12/2026;04/12/2026;Mia;confirmed\n2;02/12/2026;31/11/2026;Luc;confirmed\n").unwrap();
    let db = dir.join("state.sqlite");
    let args = |extra: &[&str]| {
        let mut a =
            vec!["csv", "import", csv.to_str().unwrap(), "--preset", "beds24", "--db", db.to_str().unwrap(), "--json"];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let (ok, out, err) = hostelpulse(&refs);
        assert!(ok, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let preview = run(args(&["--dry-run"]));
    assert_eq!((preview["inserted"].as_u64(), preview["error_count"].as_u64()), (Some(1), Some(1)));
    assert_eq!(preview["errors"][0]["column"], "Departure");
    let first = run(args(&[]));
    assert_eq!(first["inserted"], 1);
    let again = run(args(&[]));
    assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(1)));
    let (ok, _, err) = hostelpulse(&["csv", "import", csv.to_str().unwrap(), "--preset", "nope"]);
    assert!(!ok && err.contains("unknown preset"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn email_parse_json_shape() {
    // The sandbox's fixtures, written out as files: no path outside this crate is read.
    let dir = tempfile::tempdir().unwrap();
    let mail = |n: &str| {
        let path = dir.path().join(n);
        std::fs::write(&path, hostelpulse_sandbox::mail::sample(n).expect("a sandbox fixture")).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let keys = [
        "outcome",
        "kind",
        "channel",
        "channel_ref",
        "guest_name",
        "guest_email",
        "guest_phone",
        "arrival",
        "departure",
        "adults",
        "children",
        "room",
        "total_amount",
        "currency",
        "confidence",
        "template",
        "reason",
    ];
    let mut shapes = serde_json::Map::new();
    for name in ["expedia-new-booking-forwarded.eml", "booking-host-new.eml", "newsletter-not-a-booking.eml"] {
        let (ok, out, err) = hostelpulse(&["email", "parse", &mail(name), "--json"]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), keys.len(), "one flat object with exactly the specified keys");
        assert!(keys.iter().all(|k| obj.contains_key(*k)), "{obj:?}");
        shapes.insert(name.to_owned(), v);
    }
    assert_eq!(shapes["expedia-new-booking-forwarded.eml"]["total_amount"], "85.24");
    assert_eq!(shapes["booking-host-new.eml"]["outcome"], "needs_review");
    assert_eq!(shapes["newsletter-not-a-booking.eml"]["outcome"], "not_a_booking");
    insta::assert_json_snapshot!(shapes);
    // Contact details are masked unless asked for.
    let expedia = mail("expedia-new-booking-forwarded.eml");
    let masked = shapes["expedia-new-booking-forwarded.eml"]["guest_email"].as_str().unwrap().to_owned();
    assert!(masked.contains("***@"), "{masked}");
    let (ok, out, _) = hostelpulse(&["email", "parse", &expedia, "--json", "--include-contacts"]);
    let full: serde_json::Value = serde_json::from_str(&out).unwrap();
    let full = full["guest_email"].as_str().unwrap();
    assert!(ok && !full.contains("***") && full.ends_with(masked.split_once('@').unwrap().1), "{full}");
    let (ok, out, _) = hostelpulse(&["email", "parse", &mail("agoda-voucher-confirmed.eml")]);
    assert!(ok && out.contains("Bunk Bed in Mixed Dormitory Room"), "{out}");
    let (ok, _, err) = hostelpulse(&["email", "parse", "/nonexistent.eml"]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}

/// A running `hostelpulse webhook serve`, killed on drop.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_round_trip_through_webhook_serve() {
    use hostelpulse::core::testkit::{NewBooking, Upstream};
    use hostelpulse::store::SqliteStore;
    use hostelpulse_sandbox::{Beds24Emulator, SirvoySender};
    let emu = Beds24Emulator::builder().bookings(5).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostel.toml");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"Harbour Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"beds24\"\nid = \"pms\"\nproperty_id = {}\n\
             credentials = {{ invite_code = {{ value = \"{}\", insecure_inline = true }} }}\nhttp = {{ base_url = \"{}\" }}\n\
             webhook = {{ header = \"x-hook-secret\", secret = {{ value = \"hook-secret-0123456789\", insecure_inline = true }} }}\n\n\
             [[account]]\nconnector = \"sirvoy\"\nid = \"sirvoy\"\nproperty_id = \"4711\"\n\
             url_secret = {{ value = \"sirvoy-url-secret-0123456789\", insecure_inline = true }}\nallowed_senders = [\"127.0.0.0/8\"]\n",
            hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
            emu.issue_invite_code(),
            emu.base_url(),
        ),
    )
    .unwrap();
    let db = dir.path().join("state.sqlite");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Serving(
        Command::new(env!("CARGO_BIN_EXE_hostelpulse"))
            .args([
                "webhook",
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
                "--listen",
                &listen,
                "--json",
            ])
            .stdout(std::fs::File::create(dir.path().join("serve.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(&listen).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();

    // Beds24 announces a new booking; the server verifies the header, re-fetches and stores it.
    emu.set_webhook(format!("{base}/hooks/pms"), Some(("x-hook-secret".into(), "hook-secret-0123456789".into())));
    let a = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    emu.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest("Webhook Guest")).await.unwrap();
    // Sirvoy delivers a booking to its secret URL.
    let sirvoy = SirvoySender::new(format!("{base}/hooks/sirvoy/sirvoy-url-secret-0123456789"), "4711");
    sirvoy.create(NewBooking::new(a, a + chrono::Duration::days(1)).guest("Sirvoy Guest")).await.unwrap();
    // Forged deliveries are refused before anything is read.
    let forged = client.post(format!("{base}/hooks/pms")).body(r#"{"booking":{"id":1}}"#).send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 404, "an unverified delivery looks like no such URL");
    // Unverified requests get one answer, configured account or not: no account enumeration.
    assert_eq!(client.get(format!("{base}/hooks/pms")).send().await.unwrap().status().as_u16(), 404);
    let verified_get =
        client.get(format!("{base}/hooks/pms")).header("x-hook-secret", "hook-secret-0123456789").send().await.unwrap();
    assert_eq!(verified_get.status().as_u16(), 200, "a verified health check");
    let wrong = client.post(format!("{base}/hooks/sirvoy/guessed")).body("{}").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 404);
    assert_eq!(client.get(format!("{base}/hooks/nobody")).send().await.unwrap().status().as_u16(), 404);

    let store = SqliteStore::open(&db).await.unwrap();
    let mut guests = Vec::new();
    for _ in 0..100 {
        guests = store
            .bookings_between(a, a + chrono::Duration::days(1))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|b| b.guest.name)
            .collect::<Vec<_>>();
        if guests.iter().any(|g| g == "Webhook Guest") && guests.iter().any(|g| g.starts_with("Sirvoy")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(guests.iter().any(|g| g == "Webhook Guest"), "the Beds24 webhook led to a sync: {guests:?}");
    assert!(guests.iter().any(|g| g == "Sirvoy Guest"), "the Sirvoy delivery was stored and synced: {guests:?}");
    // --json: one object per line, the refusals and the sync runs among them.
    let mut log = String::new();
    for _ in 0..50 {
        // A run's line follows its commit by a moment: wait for it rather than race it.
        log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
        if log.contains("\"synced\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events[0]["event"], "listening");
    assert!(events.iter().any(|e| e["event"] == "refused" && e["account"] == "pms"), "{log}");
    assert!(events.iter().any(|e| e["event"] == "synced" && e["detail"]["outcome"]["status"] == "ok"), "{log}");
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    // `hostelpulse capabilities | head -c0`: the reader is gone before the tool writes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hostelpulse"))
        .arg("capabilities")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn configuration_errors_name_the_file_line_and_nearest_key_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hostel.toml");
    std::fs::write(&cfg, "[property]\nname = \"H\"\ntimezone = \"Europe/Lisbon\"\nchek_in = \"14:00:00\"\n").unwrap();
    let db = dir.path().join("state.sqlite");
    let (code, _, err) = hostelpulse_code(&["sync", "--config", cfg.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("hostel.toml, line 4") && err.contains("did you mean `check_in`"), "{err}");
    assert!(err.contains("fix the configuration"), "{err}");
}

#[test]
fn numeric_arguments_are_range_checked() {
    let (code, _, err) = hostelpulse_code(&["tasks", "--config", "x.toml", "--days", "200000000"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("200000000") && err.contains("1..=366"), "{err}");
    for (flag, cmd) in [("--from", "tasks"), ("--date", "today")] {
        let (code, _, err) = hostelpulse_code(&[cmd, "--config", "x.toml", flag, "+262142-12-31"]);
        assert_eq!(code, 2, "{cmd} {flag}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn help_lists_the_exit_codes() {
    let (code, out, _) = hostelpulse_code(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Exit codes: 0 success") && out.contains("5 partial sync") && out.contains("RUST_LOG"),
        "{out}"
    );
}

#[test]
fn verbose_and_rust_log_drive_a_log_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    hostelpulse_sandbox::MaildirWriter::create(dir.path().join("Maildir")).unwrap();
    let cfg = dir.path().join("hostel.toml");
    std::fs::write(
        &cfg,
        format!(
            "[property]\nname = \"H\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"{}\"\n",
            dir.path().join("Maildir").display()
        ),
    )
    .unwrap();
    let db = dir.path().join("state.sqlite");
    let args = ["sync", "--config", cfg.to_str().unwrap(), "--db", db.to_str().unwrap(), "--json"];
    let (code, out, err) = hostelpulse_code(&args);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("sync finished"), "quiet by default: {err}");
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "the log never mixes into stdout");
    let verbose: Vec<&str> = std::iter::once("-v").chain(args).collect();
    let (_, out, err) = hostelpulse_code(&verbose);
    assert!(err.contains("sync finished"), "{err}");
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    let out = Command::new(env!("CARGO_BIN_EXE_hostelpulse")).args(args).env("RUST_LOG", "info").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("sync finished"));
}

#[test]
fn proxy_variables_never_carry_a_feed_request_past_the_address_check() {
    // A "proxy" that counts connections: with HTTP_PROXY/ALL_PROXY set (common on servers), the
    // feed fetcher must neither use it nor reach an internal name through it.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let url = format!("http://{}", proxy.local_addr().unwrap());
    for target in ["http://metadata.google.internal/computeMetadata/v1/", "http://127.0.0.1:9/feed.ics"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hostelpulse"))
            .args(["ical", "parse", target, "--json"])
            .env("HTTP_PROXY", &url)
            .env("http_proxy", &url)
            .env("ALL_PROXY", &url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{target} must not be fetched");
        assert!(proxy.accept().is_err(), "{target}: the proxy was contacted");
    }
}

/// Every secret the demo's configuration holds (API key, invite code, webhook secrets, the feed
/// URLs and the tokens in their queries) is absent from a TRACE log of the whole demo (HTTP
/// clients, the webhook server, the engine), from its report, and from every file it wrote but
/// the configuration itself and the state database (the token store).
#[test]
fn no_secret_reaches_a_trace_log_the_report_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_hostelpulse"))
        .args(["-vvv", "demo", "--db", db.to_str().unwrap()])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.lines().filter(|l| l.contains("TRACE")).count() > 20, "a TRACE log was written: {stderr}");
    assert!(stderr.contains("http{connector=cloudbeds"), "the clients' spans are in it: {stderr}");
    let config = stdout.lines().last().and_then(|l| l.split("--config ").nth(1)).and_then(|r| r.split(" --db").next());
    let config = Path::new(config.expect("the closing line names the configuration")).to_path_buf();
    let text = std::fs::read_to_string(&config).unwrap();
    let mut secrets: Vec<String> =
        text.split("value = \"").skip(1).map(|r| r[..r.find('"').unwrap()].to_owned()).collect();
    let tokens: Vec<String> = secrets
        .iter()
        .filter_map(|s| s.split_once("?").map(|(_, q)| q.split_once('=').unwrap().1.to_owned()))
        .collect();
    assert_eq!(tokens.len(), 2, "both feed URLs carry a token: {secrets:?}");
    secrets.extend(tokens);
    assert!(secrets.len() >= 8, "{secrets:?}");
    for s in &secrets {
        assert!(!stdout.contains(s.as_str()), "a secret in the report: {s}");
        assert!(!stderr.contains(s.as_str()), "a secret in the TRACE log: {s}");
    }
    // Every file the demo wrote, but the configuration and the token store.
    let mut pending = vec![config.parent().unwrap().to_path_buf(), dir.path().to_path_buf()];
    let mut files = 0;
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p == config || name.starts_with("demo.sqlite") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            for s in &secrets {
                assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "a secret in {}: {s}", p.display());
            }
            files += 1;
        }
    }
    assert!(files > 0, "the demo wrote files besides its configuration and state");
}

#[test]
fn prune_applies_retention_to_an_existing_state_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.sqlite");
    let db = db.to_str().unwrap();
    let (code, _, err) = hostelpulse_code(&["prune", "--audit-days", "30", "--db", db]);
    assert!(code == 1 && err.contains("no state at"), "{code} {err}");
    let (ok, _, err) = hostelpulse(&["demo", "--db", db]);
    assert!(ok, "{err}");
    let (code, _, err) = hostelpulse_code(&["prune", "--db", db]);
    assert!(code != 0 && err.contains("nothing to prune"), "{err}");
    let (ok, out, err) = hostelpulse(&["prune", "--audit-days", "1", "--contact-days", "0", "--db", db, "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["audit_runs"].is_u64() && v["contacts_cleared"].is_u64(), "{v}");
    // The audit log still answers for every account after pruning.
    let (ok, status, err) = hostelpulse(&["status", "--db", db, "--json"]);
    assert!(ok && status.contains("last_success"), "{err}");
    let (code, _, err) = hostelpulse_code(&["prune", "--audit-days", "0", "--db", db]);
    assert_eq!(code, 2, "audit days start at 1: {err}");
}
