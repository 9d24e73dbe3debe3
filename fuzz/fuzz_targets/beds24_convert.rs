//! Arbitrary bytes as Beds24 JSON: a booking row, a property, availability rows. Decoding may
//! fail; nothing may panic, and a converted booking has its nights in order.
#![no_main]

use chrono::{TimeZone, Utc};
use hostelpulse_connector_beds24::{convert, wire};
use hostelpulse_core::model::{AccountId, Provenance, Via};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let account = AccountId::new("145678");
    let provenance = Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    let rooms = match serde_json::from_slice::<wire::Property>(data) {
        Ok(p) => {
            let _ = convert::property(&p, &account, &provenance, Some(chrono_tz::Europe::Lisbon));
            convert::RoomIndex::of(&p)
        }
        Err(_) => convert::RoomIndex::default(),
    };
    if let Ok(b) = serde_json::from_slice::<wire::Booking>(data) {
        let ctx = convert::Ctx {
            account: &account,
            rooms: &rooms,
            currency: Some("EUR"),
            checkin_code: "CHECKIN",
            checkout_code: "CHECKOUT",
            provenance: &provenance,
        };
        if let Ok(booking) = convert::booking(&b, &ctx) {
            assert!(booking.departure > booking.arrival);
        }
    }
    if let Ok(rows) = serde_json::from_slice::<Vec<wire::RoomAvailability>>(data) {
        let _ = convert::open_nights(&rows, &account);
    }
});
