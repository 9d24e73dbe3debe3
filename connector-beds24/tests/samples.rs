//! What the connector makes of every sample payload in `tests/data/`, pinned by
//! insta snapshots. A new sample without a case here fails the inventory test.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use hostelpulse_connector_beds24::convert::{self, Ctx, RoomIndex};
use hostelpulse_connector_beds24::{Beds24Webhooks, wire};
use hostelpulse_core::http::HeaderMap;
use hostelpulse_core::model::{AccountId, Provenance, Via};
use hostelpulse_core::webhook::Delivery;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fetched() -> Provenance {
    Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap())
}

fn account() -> AccountId {
    AccountId::new("145678")
}

/// The conversion settings the samples are read with.
fn ctx<'a>(account: &'a AccountId, rooms: &'a RoomIndex, provenance: &'a Provenance) -> Ctx<'a> {
    Ctx { account, rooms, currency: None, checkin_code: "CHECKIN", checkout_code: "CHECKOUT", provenance }
}

fn property() -> wire::Property {
    let env: serde_json::Value = serde_json::from_str(&sample("properties-get.response.json")).unwrap();
    serde_json::from_value(env["data"][0].clone()).unwrap()
}

const COVERED: [&str; 16] = [
    "auth-details-invalid-token.response.json",
    "auth-details.response.json",
    "auth-setup.response.json",
    "auth-token.response.json",
    "bookings-get.response.json",
    "bookings-messages-get.response.json",
    "bookings-post-partial-failure.response.json",
    "bookings-post.request.json",
    "bookings-post.response.json",
    "error-400.response.json",
    "inventory-availability.response.json",
    "inventory-calendar.response.json",
    "inventory-unitBookings.response.json",
    "properties-get.response.json",
    "webhook-booking-v2.payload.json",
    "webhook-inventory.payload.json",
];

#[test]
fn every_sample_has_a_case() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, covered, "add a snapshot case for new samples");
}

#[test]
fn bookings_get() {
    let env: serde_json::Value = serde_json::from_str(&sample("bookings-get.response.json")).unwrap();
    let rooms = RoomIndex::of(&property());
    let p = fetched();
    let account = account();
    let ctx = ctx(&account, &rooms, &p);
    let out: Vec<_> = env["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let text = row.to_string();
            let w: wire::Booking<'_> = serde_json::from_str(&text).unwrap();
            convert::booking(&w, &ctx).unwrap()
        })
        .collect();
    // The connector's path, the page at once with its rows converted by value, gives the same.
    let page = convert::page(sample("bookings-get.response.json").as_bytes(), &ctx, 145678).unwrap();
    let paged: Vec<_> = page.rows.into_iter().map(Result::unwrap).collect();
    assert_eq!(paged, out);
    // The first has a CHECKIN info item: checked in; the second was cancelled by the guest.
    assert_eq!(format!("{:?}", out[0].status), "CheckedIn");
    assert_eq!(format!("{:?}", out[1].status), "Cancelled");
    insta::assert_json_snapshot!(out);
}

#[test]
fn properties_get_rooms_and_housekeeping() {
    let p = property();
    let prop = convert::property(&p, &account(), &fetched(), Some(chrono_tz::Europe::Lisbon));
    insta::assert_json_snapshot!("properties_get_rooms", prop);
    let map = hostelpulse_connector_beds24::Beds24Config::builder(
        145678,
        hostelpulse_connector_beds24::Credentials::LongLifeToken("x".into()),
    )
    .build()
    .unwrap()
    .unit_status_map;
    let hk = convert::housekeeping(&p, &account(), &map, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    insta::assert_json_snapshot!("properties_get_housekeeping", hk);
}

#[test]
fn inventory_calendar_expands_inclusive_ranges() {
    let env: serde_json::Value = serde_json::from_str(&sample("inventory-calendar.response.json")).unwrap();
    let rows: Vec<wire::RoomCalendar> = serde_json::from_value(env["data"].clone()).unwrap();
    let days =
        convert::calendar(&rows, &account(), "2025-07-10".parse().unwrap(), "2025-07-13".parse().unwrap()).unwrap();
    assert_eq!(days.len(), 3, "10 and 11 from the first range (to inclusive), 12 from the second");
    insta::assert_json_snapshot!(days);
}

#[test]
fn inventory_availability_unit_bookings_and_messages_decode() {
    // Not consumed by the sync (the calendar gives counts); pinned so a shape change is noticed.
    for name in [
        "inventory-availability.response.json",
        "inventory-unitBookings.response.json",
        "bookings-messages-get.response.json",
    ] {
        let env: wire::ListEnvelope = serde_json::from_str(&sample(name)).unwrap();
        assert_eq!(env.success, Some(true), "{name}");
        assert_eq!(env.data.len(), 1, "{name}");
        assert!(!env.pages.next_page_exists, "{name}");
    }
}

#[test]
fn auth_payloads() {
    let setup: wire::TokenResponse = serde_json::from_str(&sample("auth-setup.response.json")).unwrap();
    assert!(setup.refresh_token.is_some() && setup.expires_in == Some(86400));
    let token: wire::TokenResponse = serde_json::from_str(&sample("auth-token.response.json")).unwrap();
    assert!(token.refresh_token.is_none());
    let details: wire::AuthDetails = serde_json::from_str(&sample("auth-details.response.json")).unwrap();
    let scopes = details.token.unwrap().scopes;
    let effective = hostelpulse_connector_beds24::effective_capabilities(false, &scopes, false);
    insta::assert_json_snapshot!("auth_details_effective_capabilities", effective);
    let invalid: wire::AuthDetails = serde_json::from_str(&sample("auth-details-invalid-token.response.json")).unwrap();
    assert!(!invalid.valid_token && invalid.token.is_none());
}

#[test]
fn post_payloads() {
    let req: Vec<serde_json::Value> = serde_json::from_str(&sample("bookings-post.request.json")).unwrap();
    assert!(req.iter().all(|i| i.is_object()), "POST bodies are arrays of objects");
    let ok: Vec<wire::PostResult> = serde_json::from_str(&sample("bookings-post.response.json")).unwrap();
    assert!(ok.iter().all(|r| r.success));
    insta::assert_json_snapshot!("bookings_post_results", ok);
    let partial: Vec<wire::PostResult> =
        serde_json::from_str(&sample("bookings-post-partial-failure.response.json")).unwrap();
    assert!(!partial[0].success && partial[0].new.is_some());
    assert_eq!(partial[0].errors[0].to_string(), "code: invalid info item");
    let err: serde_json::Value = serde_json::from_str(&sample("error-400.response.json")).unwrap();
    assert_eq!(err["error"], "Invalid parameter");
}

#[test]
fn webhooks_become_hints() {
    let hooks = Beds24Webhooks::new(145678, None, vec![]);
    let headers = HeaderMap::new();
    let now = Utc::now();
    let v2 = sample("webhook-booking-v2.payload.json");
    let d = Delivery { headers: &headers, body: v2.as_bytes(), url_secret: None, remote_ip: None };
    let booking_hint = hooks.parse(&d, None, now).unwrap();
    let inv = sample("webhook-inventory.payload.json");
    let d = Delivery { headers: &headers, body: inv.as_bytes(), url_secret: None, remote_ip: None };
    let inventory_hint = hooks.parse(&d, None, now).unwrap();
    insta::assert_json_snapshot!((booking_hint, inventory_hint));
}

/// Found by fuzzing: a row whose departure is its arrival day is a failure with a reason, never a
/// stay without a night.
#[test]
fn a_booking_without_a_night_is_refused_with_a_reason() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions/fuzz-departure-on-arrival-day.json"))
            .unwrap();
    let w: wire::Booking = serde_json::from_slice(&bytes).unwrap();
    let rooms = RoomIndex::default();
    let p = fetched();
    let account = account();
    let ctx = ctx(&account, &rooms, &p);
    let err = convert::booking(&w, &ctx).unwrap_err();
    assert!(err.contains("not after arrival") && err.contains("without a night"), "{err}");
}

/// Rows are decoded straight; a row that does not decode is a failure with its JSON path and id,
/// and the rows around it convert.
#[test]
fn a_row_that_does_not_decode_keeps_its_path_and_id() {
    let body = r#"{"success": true, "pages": {"nextPageExists": false}, "data": [
        {"id": 1, "arrival": "2026-12-01", "departure": "2026-12-03"},
        {"id": 2, "arrival": 20261201, "departure": "2026-12-03"}]}"#;
    let rooms = RoomIndex::default();
    let p = fetched();
    let account = account();
    let ctx = ctx(&account, &rooms, &p);
    let page = convert::page(body.as_bytes(), &ctx, 145678).unwrap();
    let (bookings, failures): (Vec<_>, Vec<_>) = page.rows.into_iter().partition(Result::is_ok);
    let failures: Vec<_> = failures.into_iter().filter_map(Result::err).collect();
    assert_eq!(bookings.len(), 1);
    assert_eq!(failures.len(), 1);
    assert_eq!(page.keys.len(), 2, "a key per row, the bad one too");
    assert_eq!(failures[0].location.as_deref(), Some("data[1].arrival"));
    assert_eq!(failures[0].source_id.as_ref().map(|s| s.as_str()), Some("2"));
}
