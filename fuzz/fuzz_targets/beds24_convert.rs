//! Arbitrary bytes as Beds24 JSON: a booking row, a bookings page, a property, availability rows.
//! Decoding may fail; nothing may panic, and a converted booking has its nights in order.
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
    let ctx = convert::Ctx {
        account: &account,
        rooms: &rooms,
        currency: Some("EUR"),
        checkin_code: "CHECKIN",
        checkout_code: "CHECKOUT",
        provenance: &provenance,
    };
    if let Ok(b) = serde_json::from_slice::<wire::Booking>(data) {
        if let Ok(booking) = convert::booking(&b, &ctx) {
            assert!(booking.departure > booking.arrival);
        }
    }
    // A page: straight, or row by row when a row does not decode; a key for every row either way.
    if let Ok(page) = convert::page(data, &ctx, 145678) {
        assert_eq!(page.keys.len(), page.rows.len());
        for booking in page.rows.iter().flatten() {
            assert!(booking.departure > booking.arrival);
        }
    }
    if let Ok(rows) = serde_json::from_slice::<Vec<wire::RoomAvailability>>(data) {
        let _ = convert::open_nights(&rows, &account);
    }
});
