//! The reference connector passes the whole conformance kit, also with faults injected.

use std::sync::Arc;

use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, Scope, SyncEngine, SyncStore, Trigger};
use hostelpulse_core::testkit::{
    self, Fault, FaultPlan, FaultyConnector, KitOptions, ReferenceConnector, ReferenceUpstream,
};
use hostelpulse_core::{Connector, SystemClock};

#[tokio::test]
async fn the_reference_connector_passes_the_kit() {
    let (connector, upstream) = ReferenceConnector::seeded(60);
    testkit::run_all(&connector, upstream.as_ref(), &KitOptions::default()).await;
}

/// With faults on 20% of calls, repeated full syncs end with exactly the store contents of a
/// fault-free run: nothing lost, nothing duplicated.
#[tokio::test]
async fn faults_on_a_fifth_of_calls_lose_and_duplicate_nothing() {
    let upstream = ReferenceUpstream::seeded("ref-1", Arc::new(SystemClock), 200);
    let clean_store = Arc::new(MemoryStore::new());
    let clean = SyncEngine::new(clean_store.clone());
    let clean_sink = CollectingSink::new();
    assert_eq!(clean.run(&upstream.connector(), Plan::Full, Trigger::Manual, &clean_sink).await.outcome, Outcome::Ok);

    let faulty = FaultyConnector::new(upstream.connector(), FaultPlan::new(0.2, &Fault::ALL, 7));
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone());
    let sink = CollectingSink::new();
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 50, "never succeeded");
        if engine.run(&faulty, Plan::Full, Trigger::Manual, &sink).await.outcome.is_success() {
            break;
        }
    }
    let scope = Scope::new(faulty.kind(), faulty.account().clone());
    assert_eq!(store.load(&scope).await.unwrap().records, clean_store.load(&scope).await.unwrap().records);
    let mut got: Vec<_> = sink.take().into_iter().map(|c| c.key).collect();
    let mut want: Vec<_> = clean_sink.take().into_iter().map(|c| c.key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the sink saw each change exactly once");
}
