//! Arbitrary bytes as Cloudbeds JSON: a reservation row, rate plans, housekeeping rows. Decoding
//! may fail; nothing may panic, and a converted reservation has its nights in order.
#![no_main]

use chrono::{NaiveDate, TimeZone, Utc};
use hostelpulse_connector_cloudbeds::{convert, wire};
use hostelpulse_core::model::{AccountId, Provenance, Via};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let account = AccountId::new("173042");
    let provenance = Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    let rooms = match serde_json::from_slice::<Vec<wire::Room>>(data) {
        Ok(r) => convert::RoomIndex::of(&r),
        Err(_) => convert::RoomIndex::of(&[]),
    };
    if let Ok(r) = serde_json::from_slice::<wire::Reservation>(data)
        && let Ok(Some(b)) = convert::reservation(&r, &account, &rooms, &provenance)
    {
        assert!(b.departure > b.arrival);
    }
    if let Ok(plans) = serde_json::from_slice::<Vec<wire::RatePlan>>(data) {
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let _ = convert::availability(&plans, &account, start, start + chrono::Duration::days(30));
    }
    if let Ok(rows) = serde_json::from_slice::<Vec<wire::HousekeepingRow>>(data) {
        let _ = convert::housekeeping(&rows, &account, Some(chrono_tz::Europe::Lisbon));
    }
});
