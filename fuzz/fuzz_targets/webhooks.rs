//! Arbitrary bodies (and, for Beds24 v1, query strings) delivered to every webhook parser with a
//! valid secret, so the bytes reach the parsers: Beds24, Cloudbeds, Sirvoy (verify and apply).
//! Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use hostelpulse_connector_beds24::Beds24Webhooks;
use hostelpulse_connector_cloudbeds::CloudbedsWebhooks;
use hostelpulse_connector_sirvoy::{SirvoyConfig, SirvoyConnector};
use hostelpulse_core::Connector;
use hostelpulse_core::http::HeaderMap;
use hostelpulse_core::webhook::Delivery;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const SECRET: &str = "fuzz-secret-0123456789";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-hook-secret", SECRET.parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let delivery = Delivery { headers: &headers, body: data, url_secret: Some(SECRET), remote_ip: None };

    let beds24 = Beds24Webhooks::new(145678, Some(("x-hook-secret".into(), vec![SecretString::from(SECRET)])), vec![]);
    // The first line, when short, doubles as a v1 query string.
    let query = data.split(|b| *b == b'\n').next().filter(|q| q.len() < 200).and_then(|q| std::str::from_utf8(q).ok());
    let _ = beds24.parse(&delivery, query, now);
    let _ = beds24.parse(&delivery, None, now);

    let cloudbeds = CloudbedsWebhooks::new("173042", vec![SecretString::from(SECRET)]);
    let _ = cloudbeds.parse(&delivery, now);

    let cfg = SirvoyConfig::builder("4711", SecretString::from(SECRET))
        .allowed_senders(vec!["0.0.0.0/0".parse().unwrap()])
        .build()
        .unwrap();
    let sirvoy = SirvoyConnector::new(cfg);
    runtime().block_on(async {
        let _ = sirvoy.receive(false, Some(SECRET), Some([127, 0, 0, 1].into()), &headers, data).await;
        let _ = sirvoy.ingest(data).await;
    });
});
