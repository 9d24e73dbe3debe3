//! What the connector makes of every sample payload in `tests/data/`, pinned
//! by insta snapshots. A new sample without a case here fails the inventory test.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use hostelpulse_connector_cloudbeds::{CloudbedsWebhooks, convert, wire};
use hostelpulse_core::http::HeaderMap;
use hostelpulse_core::model::{AccountId, Provenance, Via};
use hostelpulse_core::webhook::Delivery;
use secrecy::SecretString;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&text(name)).unwrap()
}

fn account() -> AccountId {
    AccountId::new("173042")
}

fn fetched() -> Provenance {
    Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap())
}

fn rooms() -> Vec<wire::Room> {
    let groups: Vec<wire::PropertyRooms> =
        serde_json::from_value(json("getRooms.response.json")["data"].clone()).unwrap();
    groups.into_iter().flat_map(|g| g.rooms).collect()
}

const WEBHOOKS: [&str; 7] = [
    "webhook-housekeeping-room_condition_changed.payload.json",
    "webhook-reservation-accommodation_changed.payload.json",
    "webhook-reservation-created.payload.json",
    "webhook-reservation-dates_changed.payload.json",
    "webhook-reservation-deleted.payload.json",
    "webhook-reservation-status_changed.payload.json",
    "webhook-roomblock-created.payload.json",
];

const OTHERS: [&str; 22] = [
    "access_token-apikey-grant.response.json",
    "access_token.response.json",
    "deleteWebhook.response.json",
    "error-200-success-false.response.json",
    "error-401-bad-auth-code.response.json",
    "error-401-invalid-key.response.json",
    "getAvailableRoomTypes.response.json",
    "getHousekeepingStatus.response.json",
    "getReservation.response.json",
    "getReservationNotes.response.json",
    "getReservations.response.json",
    "getRoomTypes.response.json",
    "getRooms.response.json",
    "getWebhooks.response.json",
    "postHousekeepingStatus.request.form.json",
    "postHousekeepingStatus.response.json",
    "postReservationNote.request.form.json",
    "postReservationNote.response.json",
    "postRoomCheckIn.request.form.json",
    "postRoomCheckIn.response.json",
    "postWebhook.request.form.json",
    "postWebhook.response.json",
];

#[test]
fn every_sample_has_a_case() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = WEBHOOKS.iter().chain(OTHERS.iter()).map(|s| s.to_string()).collect();
    assert_eq!(on_disk, covered, "add a snapshot case for new samples");
}

#[test]
fn reservations_normalize() {
    let idx = convert::RoomIndex::of(&rooms());
    // getReservations rows carry the same fields the sync reads (dates, status, rooms, source).
    let mut out = Vec::new();
    for row in json("getReservations.response.json")["data"].as_array().unwrap() {
        let mut r: wire::Reservation = serde_json::from_value(row.clone()).unwrap();
        r.reservation_check_in = row["startDate"].as_str().map(str::to_owned);
        r.reservation_check_out = row["endDate"].as_str().map(str::to_owned);
        r.date_modified_utc = row["dateModified"].as_str().map(str::to_owned);
        out.push(convert::reservation(&r, &account(), &idx, &fetched()).unwrap().unwrap());
    }
    assert_eq!(format!("{:?}", out[1].status), "Cancelled", "`canceled` with one l");
    assert_eq!(
        out[0].allocations[0].bed.as_ref().map(|b| b.as_str()),
        Some("445566-3"),
        "a dorm booking lands on its bed"
    );
    insta::assert_json_snapshot!(out);
}

#[test]
fn get_reservation_decodes_for_triage() {
    let v = json("getReservation.response.json");
    assert_eq!(v["data"]["assigned"][0]["dormRoomName"], "Dorm 1");
    let r: wire::Reservation = serde_json::from_value(v["data"].clone()).unwrap();
    assert_eq!(
        r.guest_list.values().next().and_then(|g| g.guest_cell_phone.clone()).as_deref(),
        Some("+49 151 0000000")
    );
}

#[test]
fn rooms_group_beds_by_dorm_room_name() {
    let hotel = wire::Hotel {
        property_id: Some("173042".into()),
        property_name: Some("Harbour Hostel".into()),
        property_timezone: Some("Europe/Lisbon".into()),
        property_currency: vec![],
    };
    let types: Vec<wire::RoomType> =
        serde_json::from_value(json("getRoomTypes.response.json")["data"].clone()).unwrap();
    let prop = convert::property(&hotel, &types, &rooms(), &account(), &fetched(), None);
    assert_eq!(prop.room_types[0].rooms[0].beds.len(), 6, "one dorm room with six beds");
    insta::assert_json_snapshot!(prop);
}

#[test]
fn housekeeping_normalizes() {
    let rows: Vec<wire::HousekeepingRow> =
        serde_json::from_value(json("getHousekeepingStatus.response.json")["data"].clone()).unwrap();
    insta::assert_json_snapshot!(convert::housekeeping(&rows, &account(), Some(chrono_tz::Europe::Lisbon)));
}

#[test]
fn available_room_types_decode() {
    // The sync reads availability from detailed rate plans; this sample pins getAvailableRoomTypes'
    // shape for the per-stay quote a host may show.
    let v = json("getAvailableRoomTypes.response.json");
    assert_eq!(v["data"][0]["propertyRooms"][0]["roomsAvailable"], 4);
}

#[test]
fn auth_and_error_payloads() {
    let t: wire::AccessToken = serde_json::from_value(json("access_token.response.json")).unwrap();
    assert_eq!((t.expires_in, t.refresh_token.is_some(), t.resources.len()), (Some(3600), true, 1));
    let k: wire::AccessToken = serde_json::from_value(json("access_token-apikey-grant.response.json")).unwrap();
    assert!(k.access_token.starts_with("cbat_") && k.refresh_token.is_none());
    assert_eq!(json("error-200-success-false.response.json")["success"], false);
    assert_eq!(json("error-401-bad-auth-code.response.json")["error"], "server_error");
    assert_eq!(json("error-401-invalid-key.response.json")["error"], "access_denied");
}

#[test]
fn write_and_subscription_payloads() {
    // Request samples are the form fields the connector sends (see wire_shape.rs for the encoding).
    for (req, fields) in [
        ("postHousekeepingStatus.request.form.json", vec!["propertyID", "roomID", "roomCondition"]),
        ("postReservationNote.request.form.json", vec!["propertyID", "reservationID", "reservationNote"]),
        ("postRoomCheckIn.request.form.json", vec!["propertyID", "reservationID", "subReservationID"]),
        ("postWebhook.request.form.json", vec!["propertyID", "object", "action", "endpointUrl"]),
    ] {
        let v = json(req);
        for f in fields {
            assert!(v[f].is_string(), "{req}: {f}");
        }
    }
    for resp in [
        "postHousekeepingStatus.response.json",
        "postRoomCheckIn.response.json",
        "postReservationNote.response.json",
        "deleteWebhook.response.json",
        "postWebhook.response.json",
        "getWebhooks.response.json",
        "getReservationNotes.response.json",
    ] {
        assert_eq!(json(resp)["success"], true, "{resp}");
    }
    assert_eq!(json("postReservationNote.response.json")["reservationNoteID"], "5512002");
    let sub: wire::ObjectEnvelope<wire::Subscription> =
        serde_json::from_value(json("postWebhook.response.json")).unwrap();
    assert_eq!(sub.data.unwrap().subscription_id.as_deref(), Some("do30k8kafl59zd"));
}

#[test]
fn webhooks_become_hints_whatever_the_key_casing() {
    let secret = SecretString::from("s");
    let hooks = CloudbedsWebhooks::new("173042", vec![secret]);
    let headers = HeaderMap::new();
    let hints: Vec<_> = WEBHOOKS
        .iter()
        .map(|name| {
            let body = text(name);
            let d = Delivery { headers: &headers, body: body.as_bytes(), url_secret: Some("s"), remote_ip: None };
            hooks.parse(&d, Utc::now()).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
        .collect();
    insta::assert_json_snapshot!(hints);
}

/// Fields the Cloudbeds spec marks nullable (`guestList`, `guestList.*.isMainGuest`, `rooms`,
/// `roomRateDetailed`, a rate day's `date`) decode `null`; one unreadable day costs that day only.
#[test]
fn nulls_the_contract_allows_decode() {
    let idx = convert::RoomIndex::of(&rooms());
    let rows = serde_json::json!([
        { "reservationID": "R1", "propertyID": "173042", "status": "confirmed", "startDate": "2026-12-01",
          "endDate": "2026-12-03", "reservationCheckIn": "2026-12-01", "reservationCheckOut": "2026-12-03",
          "guestName": "Ana Lima", "guestList": null, "rooms": null, "isDeleted": null },
        { "reservationID": "R2", "propertyID": "173042", "status": "confirmed",
          "reservationCheckIn": "2026-12-02", "reservationCheckOut": "2026-12-04", "guestName": "Tom Berg",
          "guestList": { "g1": { "guestFirstName": "Tom", "guestLastName": "Berg", "isMainGuest": null } } },
    ]);
    for row in rows.as_array().unwrap() {
        let r: wire::Reservation = serde_json::from_value(row.clone()).unwrap_or_else(|e| panic!("{row}: {e}"));
        let b = convert::reservation(&r, &account(), &idx, &fetched()).unwrap().unwrap();
        assert!(b.guest.name.is_some(), "{b:?}");
    }
    let plans: Vec<wire::RatePlan> = serde_json::from_value(serde_json::json!([
        { "roomTypeID": "T1", "roomRateDetailed": null },
        { "roomTypeID": "T2", "roomRateDetailed": [
            { "date": null, "roomsAvailable": 3 },
            { "date": "2026-12-01", "roomsAvailable": 2, "blocked": null },
        ] },
    ]))
    .unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let days = convert::availability(&plans, &account(), start, start + chrono::Duration::days(2)).unwrap();
    assert_eq!(days.len(), 1, "the readable day of T2: {days:?}");
}
