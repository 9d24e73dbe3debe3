//! The conformance kit against the Beds24 emulator, also through the fault-injecting proxy.

mod common;

use std::time::Duration;

use common::*;
use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector};
use hostelpulse_core::testkit::{self, Fault, FaultPlan, HttpFaults, KitOptions};
use hostelpulse_sandbox::{FaultProxy, ProxyConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_against_the_emulator() {
    let emu = emulator(60).await;
    let connector = connector_at(emu.base_url(), refresh(&emu));
    testkit::run_all(&connector, &emu, &KitOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_a_fifth_of_requests_lose_and_duplicate_nothing() {
    let emu = emulator(1000).await;
    let clean = connector_at(emu.base_url(), refresh(&emu));
    let (mut injected, mut requests) = (0, 0);
    for seed in 1..=6 {
        let bodies = HttpFaults::new(
            r#"{"success":false,"type":"error","code":1020,"error":"Credit limit exceeded"}"#,
            r#"{"success":false,"type":"error","code":401,"error":"Token is expired"}"#,
        );
        let plan = FaultPlan::new(0.2, &Fault::ALL, seed);
        let proxy =
            FaultProxy::start(emu.root_url(), ProxyConfig::new(plan).bodies(bodies).stall(Duration::from_millis(1200)))
                .await
                .unwrap();
        let faulty = connector_at(proxy.url("/v2"), refresh(&emu));
        testkit::full_sync_survives_faults(&clean, &faulty, &KitOptions::default(), 20).await;
        injected += proxy.injected();
        requests += proxy.requests();
    }
    eprintln!("faults: {injected} injected over {requests} requests");
    assert!(injected >= 8, "too few faults to mean anything: {injected}");
}

/// Half of all requests fail, and a request gets only two attempts, so most runs fail somewhere
/// in the ten pages of bookings. Each failed run keeps the pages it read and the next continues
/// from the failed page: a full sync finishes within a bounded number of runs (starting over, a
/// run succeeds with a chance of about 0.75^11 ≈ 4%), with a store identical to a fault-free run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_the_requests_failing_still_finishes_a_full_sync_by_resuming() {
    let emu = emulator(1000).await;
    let clean = connector_at(emu.base_url(), refresh(&emu));
    let faults = [Fault::ServerError, Fault::Unavailable, Fault::ConnectionReset, Fault::TruncatedBody];
    let (mut most, mut injected, mut requests) = (0, 0, 0);
    for seed in 1..=4 {
        let proxy =
            FaultProxy::start(emu.root_url(), ProxyConfig::new(FaultPlan::new(0.5, &faults, seed))).await.unwrap();
        let cfg = Beds24Config::builder(PROPERTY, refresh(&emu))
            .base_url(proxy.url("/v2"))
            .retry(fast_retry().max_attempts(2))
            .credits_per_window(10_000.0)
            .build()
            .unwrap();
        let faulty = Beds24Connector::new(cfg).unwrap();
        let runs = testkit::full_sync_survives_faults(&clean, &faulty, &KitOptions::default(), 12).await;
        most = most.max(runs);
        injected += proxy.injected();
        requests += proxy.requests();
    }
    eprintln!("at 50% faults ({injected} of {requests} requests) a full sync of 10 pages took at most {most} runs");
    assert!(injected * 5 >= requests * 2, "about half the requests failed: {injected} of {requests}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_crashes_lose_nothing() {
    let emu = emulator(60).await;
    let (url, credentials) = (emu.base_url(), refresh(&emu));
    let make = move || -> std::sync::Arc<dyn hostelpulse_core::Connector> {
        std::sync::Arc::new(connector_at(url.clone(), credentials.clone()))
    };
    let store = std::sync::Arc::new(hostelpulse_core::sync::MemoryStore::new());
    testkit::run_durability(&make, &emu, store, &KitOptions::default()).await;
}
