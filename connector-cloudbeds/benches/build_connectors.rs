//! `build_connectors`: building 1,000 Cloudbeds connectors (one per property, as a host with many
//! properties does at start-up). Target: under 1 s — connectors share one HTTP client (connection
//! pool, TLS configuration) instead of each parsing the system's root certificates.
//!
//! Run: `cargo bench -p hostelpulse-connector-cloudbeds --bench build_connectors [-- N]`.

use std::time::Instant;

use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials};
use secrecy::SecretString;

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1000);
    let t = Instant::now();
    let connectors: Vec<CloudbedsConnector> = (0..n)
        .map(|i| {
            let cfg = CloudbedsConfig::builder(
                format!("{}", 100_000 + i),
                Credentials::ApiKey(SecretString::from(format!("cbat_{i:032}"))),
            )
            .build()
            .expect("config");
            CloudbedsConnector::new(cfg).expect("connector")
        })
        .collect();
    let took = t.elapsed();
    println!(
        "{n} connectors built in {:.3} s ({:.1} µs each), {} HTTP client(s)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64,
        hostelpulse_core::http::ReqwestTransport::clients_built()
    );
    drop(connectors);
}
