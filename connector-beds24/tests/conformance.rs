//! The conformance kit against the Beds24 emulator, also through the fault-injecting proxy.

mod common;

use std::time::Duration;

use common::*;
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
