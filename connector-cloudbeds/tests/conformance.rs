//! The conformance kit against the Cloudbeds emulator, also through the fault-injecting proxy.

mod common;

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_cloudbeds::pacing;
use hostelpulse_core::http::Pacer;

use common::*;
use hostelpulse_core::testkit::{self, Fault, FaultPlan, HttpFaults, KitOptions};
use hostelpulse_sandbox::{FaultProxy, ProxyConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_against_the_emulator() {
    let emu = emulator(40).await;
    let connector = connector_at(emu.base_url(), PROPERTY, api_key(&emu));
    testkit::run_all(&connector, &emu, &KitOptions::default()).await;
    assert!(!emu.suspended(PROPERTY), "the kit never exceeded the rate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_a_fifth_of_requests_lose_and_duplicate_nothing() {
    let emu = emulator(450).await;
    let pacer = Arc::new(Pacer::new(pacing(5)));
    let clean = shared_pacer(emu.base_url(), PROPERTY, api_key(&emu), pacer.clone());
    let (mut injected, mut requests) = (0, 0);
    for seed in 1..=4 {
        let bodies = HttpFaults::new(
            r#"{"success":false,"message":"Your request could not be fully completed."}"#,
            r#"{"error":"access_denied","message":"The resource owner or authorization server denied the request."}"#,
        );
        // Cloudbeds answers errors with HTTP 200 and success:false and documents no retryable class
        // for them; an expired key is final. Both end the run, which the next run repeats.
        let plan = FaultPlan::new(0.2, &Fault::ALL, seed);
        let proxy =
            FaultProxy::start(emu.root_url(), ProxyConfig::new(plan).bodies(bodies).stall(Duration::from_millis(1200)))
                .await
                .unwrap();
        let faulty = shared_pacer(proxy.url("/api/v1.3"), PROPERTY, api_key(&emu), pacer.clone());
        testkit::full_sync_survives_faults(&clean, &faulty, &KitOptions::default(), 30).await;
        injected += proxy.injected();
        requests += proxy.requests();
    }
    eprintln!("faults: {injected} injected over {requests} requests");
    assert!(injected >= 5, "too few faults to mean anything: {injected}");
    assert!(!emu.suspended(PROPERTY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_crashes_lose_nothing() {
    let emu = emulator(40).await;
    // Each "process" builds its own connector; they share the property's pacer as processes on
    // one machine must.
    let pacer = Arc::new(Pacer::new(pacing(5)));
    let (url, credentials) = (emu.base_url(), api_key(&emu));
    let make = move || -> Arc<dyn hostelpulse_core::Connector> {
        Arc::new(shared_pacer(url.clone(), PROPERTY, credentials.clone(), pacer.clone()))
    };
    let store = Arc::new(hostelpulse_core::sync::MemoryStore::new());
    testkit::run_durability(&make, &emu, store, &KitOptions::default()).await;
    assert!(!emu.suspended(PROPERTY));
}
