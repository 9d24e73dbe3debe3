//! Shared set-up: an emulator and a connector pointed at it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials, pacing};
use hostelpulse_core::http::Pacer;
use hostelpulse_sandbox::CloudbedsEmulator;
use secrecy::SecretString;

pub const PROPERTY: &str = hostelpulse_sandbox::cloudbeds::CLOUDBEDS_PROPERTY_ID;

pub use hostelpulse_core::testkit::fast_retry;

pub fn connector_at(base_url: String, property: &str, credentials: Credentials) -> CloudbedsConnector {
    let pacer = Arc::new(Pacer::new(pacing(5)));
    shared_pacer(base_url, property, credentials, pacer)
}

/// Every client of one property must share its pacer: their requests count together.
pub fn shared_pacer(
    base_url: String,
    property: &str,
    credentials: Credentials,
    pacer: Arc<Pacer>,
) -> CloudbedsConnector {
    let cfg = CloudbedsConfig::builder(property, credentials)
        .base_url(base_url)
        .retry(fast_retry())
        .request_timeout(Duration::from_millis(800))
        .pacer(pacer)
        .build()
        .unwrap();
    CloudbedsConnector::new(cfg).unwrap()
}

pub async fn emulator(reservations: usize) -> CloudbedsEmulator {
    CloudbedsEmulator::builder().reservations(reservations).start().await.unwrap()
}

pub fn api_key(emu: &CloudbedsEmulator) -> Credentials {
    Credentials::ApiKey(SecretString::from(emu.issue_api_key(PROPERTY)))
}
