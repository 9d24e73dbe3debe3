//! The command-line tool, end to end.

use std::process::Command;

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
    let dir = std::env::temp_dir().join(format!("hp-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.sqlite");
    let (ok, out, err) = hostelpulse(&["demo", "--db", db.to_str().unwrap()]);
    assert!(ok, "demo failed: {err}\n{out}");
    assert!(out.contains("3 webhook hint(s) verified"), "{out}");
    let change_rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("│ cancelled") || l.starts_with("│ changed") || l.starts_with("│ new"))
        .collect();
    assert_eq!(change_rows.len(), 3, "{out}");
    assert!(out.contains("Ana Lima"));
    assert!(db.exists(), "state is kept in the SQLite file");
    std::fs::remove_dir_all(&dir).ok();
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
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/ical/airbnb-export-pair-a-2026-08.ics");
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
    let mail = |n: &str| format!("{}/../hostelpulse-sandbox/mail/{n}", env!("CARGO_MANIFEST_DIR"));
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
    let (ok, out, _) = hostelpulse(&["email", "parse", &mail("agoda-voucher-confirmed.eml")]);
    assert!(ok && out.contains("Bunk Bed in Mixed Dormitory Room"), "{out}");
    let (ok, _, err) = hostelpulse(&["email", "parse", "/nonexistent.eml"]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}
