//! Shared set-up: an emulator and a connector pointed at it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector, Credentials};
use hostelpulse_sandbox::Beds24Emulator;
use secrecy::SecretString;

pub const PROPERTY: u64 = hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID;

pub use hostelpulse_core::testkit::fast_retry;

pub fn connector_at(base_url: String, credentials: Credentials) -> Beds24Connector {
    let cfg = Beds24Config::builder(PROPERTY, credentials)
        .base_url(base_url)
        .timezone(chrono_tz::Europe::Lisbon)
        .retry(fast_retry())
        .request_timeout(Duration::from_millis(800))
        // The emulator's credits are plenty for tests; the credit tests set their own.
        .credits_per_window(10_000.0)
        .build()
        .unwrap();
    Beds24Connector::new(cfg).unwrap()
}

pub async fn emulator(bookings: usize) -> Beds24Emulator {
    Beds24Emulator::builder().bookings(bookings).credits(10_000.0).start().await.unwrap()
}

pub fn refresh(emu: &Beds24Emulator) -> Credentials {
    Credentials::RefreshToken(SecretString::from(emu.issue_refresh_token()))
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
