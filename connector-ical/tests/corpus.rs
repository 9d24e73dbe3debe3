//! Every file in `tests/corpus/` parses without a panic; snapshots pin each result; the real
//! exports are classified right, and the day-1/day-2 pairs keep their identities.

use std::collections::BTreeMap;

use hostelpulse_connector_ical::{EventKind, Feed, FeedOptions, FeedSource, read_feed};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

fn feed(name: &str) -> Feed {
    let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
    read_feed(&bytes, &FeedOptions::new(chrono_tz::Europe::Lisbon))
}

#[test]
fn every_corpus_file_parses_and_is_pinned() {
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ics"))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "corpus has {} files", names.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/corpus");
    settings.bind(|| {
        for name in &names {
            let f = feed(name);
            insta::assert_yaml_snapshot!(name.trim_end_matches(".ics"), f);
        }
    });
}

#[test]
fn airbnb_reservations_and_blocks() {
    let f = feed("airbnb-export-1.0-2025.ics");
    assert_eq!(f.source, Some(FeedSource::Airbnb));
    let reserved: Vec<_> = f.events.iter().filter(|e| e.kind == EventKind::Reservation).collect();
    assert!(!reserved.is_empty());
    for e in &reserved {
        let code = e.channel_ref.as_deref().expect("every reservation has its HM code");
        assert!(code.starts_with("HM") && code.len() == 10, "{code}");
        assert_eq!(e.identity, format!("airbnb:{code}"));
        assert_eq!(e.phone_last4.as_ref().map(String::len), Some(4));
        assert_eq!(e.guest_name, None, "Airbnb feeds carry no name");
    }
    assert!(
        f.events.iter().any(|e| e.kind == EventKind::Block && e.summary.as_deref() == Some("Airbnb (Not available)"))
    );
    let legacy = feed("airbnb-export-legacy-0.8.8-2022.ics");
    assert!(
        legacy.events.iter().filter(|e| e.kind == EventKind::Reservation).all(|e| e.channel_ref.is_some()),
        "legacy itinerary URLs too"
    );
}

#[test]
fn booking_com_closures_are_unavailable_not_stays() {
    for name in [
        "booking-com-export-multi-2026-06.ics",
        "booking-com-export-with-organizer-2026-08.ics",
        "booking-com-export-18-month-block-2026.ics",
    ] {
        let f = feed(name);
        assert_eq!(f.source, Some(FeedSource::BookingCom), "{name}");
        assert!(!f.events.is_empty(), "{name}");
        assert!(f.events.iter().all(|e| e.kind == EventKind::Unavailable && e.guest_name.is_none()), "{name}");
    }
    assert!(feed("booking-com-export-empty-calendar-2026.ics").events.is_empty());
}

fn by_identity(f: &Feed) -> BTreeMap<String, (chrono::NaiveDate, chrono::NaiveDate, Option<String>)> {
    f.events.iter().map(|e| (e.identity.clone(), (e.arrival, e.departure, e.uid.clone()))).collect()
}

#[test]
fn day_one_and_day_two_keep_their_identities() {
    for (day1, day2) in [
        ("booking-com-export-daily-clip-day1.ics", "booking-com-export-daily-clip-day2.ics"),
        ("airbnb-export-daily-clip-day1.ics", "airbnb-export-daily-clip-day2.ics"),
    ] {
        let (a, b) = (by_identity(&feed(day1)), by_identity(&feed(day2)));
        let vanished: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
        let appeared: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
        assert!(vanished.is_empty(), "{day1}: no false cancellation, but {vanished:?} vanished");
        assert!(appeared.is_empty(), "{day2}: no duplicate, but {appeared:?} appeared");
        // At least one event was re-cut with a new UID between the two fetches, and still matched.
        let recut = a.iter().filter(|(k, v)| b.get(*k).is_some_and(|w| w.2 != v.2)).count();
        assert!(recut >= 1, "{day1}: expected a re-cut event");
    }
}

#[test]
fn hostile_files_yield_what_they_can_and_say_why() {
    let f = feed("edge-airbnb-dtend-before-dtstart.ics");
    assert!(f.skipped.iter().any(|s| s.reason.contains("before DTSTART")), "{:?}", f.skipped);
    assert!(!f.events.is_empty());
    // 400 same-day meetings then a broken event: every one is looked at (none is a night's stay).
    let late = feed("edge-nodeical-large-file-late-error.ics");
    assert!(late.events.len() + late.skipped.len() >= 400, "parsing went on past the late error");
    // Both calendars of the file are read (their events have no DTSTART: reported, not dropped).
    let two = feed("edge-icalendar-two-vcalendars-one-file.ics");
    let uids: Vec<_> = two.skipped.iter().filter_map(|s| s.uid.as_deref()).collect();
    assert_eq!(uids, vec!["event1@example.com", "event2@example.com"], "{two:?}");
    let smoobu_like = read_feed(
        b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nSUMMARY:Check-in: Ana\nDTSTART;VALUE=DATE:20260901\nEND:VEVENT\nBEGIN:VEVENT\nUID:2\nSUMMARY:Reserved - Ana\nDTSTART;VALUE=DATE:20260901\nDTEND;VALUE=DATE:20260903\nEND:VEVENT\nEND:VCALENDAR\n",
        &FeedOptions::new(chrono_tz::UTC),
    );
    assert_eq!(smoobu_like.events.len(), 1);
    assert_eq!(smoobu_like.events[0].guest_name.as_deref(), Some("Ana"));
    let dup = feed("edge-nodeical-duplicate-uid-sequence.ics");
    assert!(dup.skipped.iter().any(|s| s.reason.contains("older revision")), "{:?}", dup.skipped);
}

#[test]
fn a_google_series_is_read_day_by_day_without_its_exceptions() {
    // Read as its own fetch date would see it (the file has no DTSTAMP): a daily series from 3 to
    // 23 March 2008 without the 11th, written twice, the second copy with an empty EXDATE too.
    let bytes = std::fs::read(format!("{DIR}/edge-icalendar-google-empty-exdate.ics")).unwrap();
    let opts = FeedOptions::new(chrono_tz::Europe::Lisbon).today(chrono::NaiveDate::from_ymd_opt(2008, 3, 1).unwrap());
    let f = read_feed(&bytes, &opts);
    assert_eq!(f.events.len(), 40, "{:?}", f.skipped);
    let days: Vec<String> = f.events.iter().take(20).map(|e| e.arrival.format("%d").to_string()).collect();
    let want: Vec<String> = (3..=23).filter(|d| *d != 11).map(|d| format!("{d:02}")).collect();
    assert_eq!(days, want);
    assert!(f.events.iter().all(|e| (e.departure - e.arrival).num_days() == 1));
    let mut ids: Vec<&str> = f.events.iter().map(|e| e.identity.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every occurrence keeps an identity of its own");
}

#[test]
fn inputs_the_fuzzer_crashed_on_are_read_without_a_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let f = read_feed(&bytes, &FeedOptions::new(chrono_tz::Pacific::Kiritimati));
        assert!(!f.events.is_empty() || !f.skipped.is_empty(), "{}: something is said", path.display());
    }
}
