//! Failure classes seen in real-world feeds, each with a small fixture of our own
//! (`tests/fixtures/`): producers identified by their exact signatures, Airbnb-style summaries
//! that carry a guest and a code, cancellations, zero-length all-day events and endless stays.

use hostelpulse_connector_ical::{EventKind, Feed, FeedOptions, FeedReading, FeedSource, read_feed};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn read(name: &str, reading: FeedReading) -> Feed {
    let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
    read_feed(&bytes, &FeedOptions::new(chrono_tz::Europe::Lisbon).reading(reading))
}

/// A sync tool whose PRODID merely mentions Airbnb is not Airbnb: its events follow the generic
/// rules (a stay with a guest, a closure), instead of all becoming Airbnb blocks.
#[test]
fn a_prodid_that_mentions_an_ota_is_not_the_ota() {
    let f = read("third-party-prodid-mentions-airbnb.ics", FeedReading::default());
    assert_eq!(f.source, Some(FeedSource::Other));
    let kinds: Vec<(EventKind, Option<&str>)> = f.events.iter().map(|e| (e.kind, e.guest_name.as_deref())).collect();
    assert_eq!(
        kinds,
        vec![
            (EventKind::Reservation, Some("Ana Lima")),
            (EventKind::Unavailable, None),
            (EventKind::Reservation, Some("Tom Berg"))
        ]
    );
    assert!(f.events.iter().all(|e| e.channel.as_deref() != Some("airbnb")));
}

/// Under Airbnb's own PRODID, a summary with a guest and a confirmation code, or one that says
/// "Booked", is a reservation; "Not available" is a block; STATUS:CANCELLED is a cancellation.
#[test]
fn airbnb_style_summaries_with_a_guest_or_a_booking_word_are_reservations() {
    let f = read("airbnb-style-guest-and-code-in-summary.ics", FeedReading::default());
    assert_eq!(f.source, Some(FeedSource::Airbnb));
    let got: Vec<(EventKind, Option<&str>, Option<&str>, bool)> =
        f.events.iter().map(|e| (e.kind, e.guest_name.as_deref(), e.channel_ref.as_deref(), e.cancelled)).collect();
    assert_eq!(
        got,
        vec![
            (EventKind::Reservation, Some("Ana Lima"), Some("HMK9PKXFZ5"), false),
            (EventKind::Reservation, None, None, false),
            (EventKind::Block, None, None, false),
            (EventKind::Reservation, None, Some("HM4AW5MPMK"), true),
        ]
    );
}

/// All-day events ending on their start day are skipped with one feed-level note naming the
/// switch, or read as one night each when the feed says so; a 99,999-night "stay" is skipped
/// with a reason instead of occupying the room until the year 2300.
#[test]
fn zero_length_days_need_the_switch_and_endless_stays_are_refused() {
    let f = read("zero-length-days-and-an-endless-stay.ics", FeedReading::default());
    assert_eq!(f.events.len(), 1, "only the real two-night stay: {:?}", f.events);
    let notes: Vec<&str> = f.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("2 all-day event(s) end on the day they start (line 4, 10)")
            && n.contains("same_day_is_one_night")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("99999 nights") && n.contains("366 nights")), "{notes:?}");

    let f = read("zero-length-days-and-an-endless-stay.ics", FeedReading::default().same_day_is_one_night(true));
    let nights: Vec<(String, String)> =
        f.events.iter().map(|e| (e.arrival.to_string(), e.departure.to_string())).collect();
    assert_eq!(
        nights,
        vec![
            ("2026-12-01".into(), "2026-12-02".into()),
            ("2026-12-02".into(), "2026-12-03".into()),
            ("2026-12-04".into(), "2026-12-06".into())
        ]
    );
}
