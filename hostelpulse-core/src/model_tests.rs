//! Serde shapes and fingerprint stability of the model.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::model::*;

pub(crate) fn sample_booking() -> Booking {
    let key = SourceKey::new(ConnectorKind::BEDS24, "145678", 71234567u64);
    let fetched = Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap());
    let mut b = Booking::new(
        key,
        fetched,
        BookingStatus::Confirmed,
        NaiveDate::from_ymd_opt(2025, 7, 10).unwrap(),
        NaiveDate::from_ymd_opt(2025, 7, 13).unwrap(),
    );
    b.status_raw = Some("confirmed".into());
    b.guest = Guest {
        name: Some("Mia Schneider".into()),
        email: Some("mia.schneider@example.com".into()),
        phone: None,
        country: Some("DE".into()),
        language: Some("de".into()),
    };
    b.party = Party { adults: Some(1), children: Some(0) };
    b.allocations = vec![Allocation {
        room_type: Some("316001".into()),
        room: Some("316001-dorm".into()),
        bed: Some("3".into()),
        label: Some("Bed 3".into()),
    }];
    b.channel = Some(Channel::Hostelworld);
    b.channel_ref = Some("HW-558812345".into());
    b.total = Some(Money::new(Decimal::new(8400, 2), "eur"));
    b.notes = vec![Note { kind: NoteKind::Guest, code: None, text: "Lower bunk if possible".into() }];
    b.created_at = Some(Utc.with_ymd_and_hms(2025, 6, 2, 9, 14, 22).unwrap());
    b.modified_at = b.created_at;
    b
}

fn sample_property() -> Property {
    let k = |id: &str| SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id);
    let mut p = Property::new(
        k("173042"),
        Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()),
        "Harbour Hostel",
    );
    p.timezone = Some(chrono_tz::Europe::Lisbon);
    p.currency = Some("EUR".into());
    p.check_in_time = Some("15:00:00".parse().unwrap());
    p.check_out_time = Some("11:00:00".parse().unwrap());
    p.room_types = vec![
        RoomType {
            key: k("445566"),
            name: "Bed in 6-bed mixed dorm".into(),
            kind: RoomKind::Dorm,
            max_guests: Some(1),
            rooms: vec![Room {
                key: k("dorm:Dorm 1"),
                name: "Dorm 1".into(),
                beds: vec![
                    Bed { key: k("445566-1"), name: "D1-Bed A".into() },
                    Bed { key: k("445566-2"), name: "D1-Bed B".into() },
                ],
            }],
        },
        RoomType {
            key: k("445567"),
            name: "Private twin".into(),
            kind: RoomKind::Private,
            max_guests: Some(2),
            rooms: vec![Room { key: k("445567-1"), name: "201".into(), beds: vec![] }],
        },
    ];
    p
}

#[test]
fn booking_json_shape_is_stable_and_round_trips() {
    let b = sample_booking();
    insta::assert_json_snapshot!("booking", b);
    let json = serde_json::to_string(&b).unwrap();
    let back: Booking = serde_json::from_str(&json).unwrap();
    assert_eq!(back, b);
}

#[test]
fn unknown_is_null_not_empty() {
    let mut b = sample_booking();
    b.guest = Guest::default();
    b.party = Party::default();
    let v = serde_json::to_value(&b).unwrap();
    assert!(v["guest"]["name"].is_null());
    assert!(v["party"]["adults"].is_null());
    // Money is an exact decimal string.
    assert_eq!(v["total"]["amount"], "84.00");
    assert_eq!(v["total"]["currency"], "EUR");
}

#[test]
fn property_rooms_and_beds_json_shape() {
    let p = sample_property();
    assert_eq!(p.room_types[0].sellable_units(), 2);
    assert_eq!(p.room_types[1].sellable_units(), 1);
    insta::assert_json_snapshot!("property", p);
    let back: Property = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn availability_and_housekeeping_json_shape() {
    let k = SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", "445566");
    let a = Availability::new(k.clone(), NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), Some(4), Some(false));
    let mut h = Housekeeping::new(SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", "445566-1"), Condition::Dirty);
    h.occupancy = Some(Occupancy::Vacant);
    h.do_not_disturb = Some(false);
    h.condition_raw = Some("dirty".into());
    insta::assert_json_snapshot!("availability_housekeeping", (a, h));
}

#[test]
fn fingerprints_are_stable_and_ignore_volatile_fields() {
    let b = sample_booking();
    let fp = b.fingerprint();
    // Same data, same hash; pinned so an accidental change to the hashed shape is caught.
    assert_eq!(fp, sample_booking().fingerprint());
    insta::assert_snapshot!("booking_fingerprint", fp.to_hex());

    let mut refetched = b.clone();
    refetched.provenance = Provenance::new(Via::Webhook, Utc::now());
    assert_eq!(refetched.fingerprint(), fp, "provenance must not change the fingerprint");

    let mut changed = b.clone();
    changed.departure = NaiveDate::from_ymd_opt(2025, 7, 14).unwrap();
    assert_ne!(changed.fingerprint(), fp);
    let mut cancelled = b.clone();
    cancelled.status = BookingStatus::Cancelled;
    assert_ne!(cancelled.fingerprint(), fp);

    let p = sample_property();
    let mut p2 = p.clone();
    p2.provenance.fetched_at = Utc::now();
    assert_eq!(p.fingerprint(), p2.fingerprint());
    let fp_hex = fp.to_hex();
    assert_eq!(Fingerprint::from_hex(&fp_hex), Some(fp));
    assert_eq!(serde_json::to_string(&fp).unwrap(), format!("\"{fp_hex}\""));
}

#[test]
fn status_helpers() {
    assert!(BookingStatus::Block.holds_inventory());
    assert!(!BookingStatus::Block.is_active_stay());
    assert!(!BookingStatus::Cancelled.holds_inventory());
    assert!(BookingStatus::CheckedIn.is_active_stay());
    let b = sample_booking();
    assert!(b.covers_night(NaiveDate::from_ymd_opt(2025, 7, 12).unwrap()));
    assert!(!b.covers_night(NaiveDate::from_ymd_opt(2025, 7, 13).unwrap()));
}
