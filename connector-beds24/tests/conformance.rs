//! The conformance kit against the Beds24 emulator, also through the fault-injecting proxy.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hostelpulse_core::Connector;
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Plan, Scope, SyncEngine, SyncStore, Trigger};
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
    let clean_store = Arc::new(MemoryStore::new());
    let report =
        SyncEngine::new(clean_store.clone()).run(&clean, Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    assert!(report.outcome.is_success(), "{:?}", report.outcome);
    let scope = Scope::new(clean.kind(), clean.account().clone());
    let want = clean_store.load(&scope).await.unwrap().records;

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
        let store = Arc::new(MemoryStore::new());
        let engine = SyncEngine::new(store.clone());
        let sink = CollectingSink::new();
        let mut runs = 0;
        loop {
            runs += 1;
            assert!(runs <= 20, "seed {seed}: a full sync never succeeded through the proxy");
            if engine.run(&faulty, Plan::Full, Trigger::Manual, &sink).await.outcome.is_success() {
                break;
            }
        }
        assert_eq!(
            store.load(&scope).await.unwrap().records,
            want,
            "seed {seed}: store differs from the fault-free run"
        );
        let mut keys: Vec<_> = sink.take().into_iter().map(|c| c.key).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!((keys.len(), n), (want.len(), want.len()), "seed {seed}: every record delivered exactly once");
        injected += proxy.injected();
        requests += proxy.requests();
    }
    eprintln!("faults: {injected} injected over {requests} requests");
    assert!(injected >= 8, "too few faults to mean anything: {injected}");
}
