//! The reference connector passes the whole conformance kit, also with faults injected.

use std::sync::Arc;

use hostelpulse_core::SystemClock;
use hostelpulse_core::testkit::{
    self, Fault, FaultPlan, FaultyConnector, KitOptions, ReferenceConnector, ReferenceUpstream,
};

#[tokio::test]
async fn the_reference_connector_passes_the_kit() {
    let (connector, upstream) = ReferenceConnector::seeded(60);
    testkit::run_all(&connector, upstream.as_ref(), &KitOptions::default()).await;
    let make = || -> Arc<dyn hostelpulse_core::Connector> { Arc::new(upstream.connector()) };
    let store = Arc::new(hostelpulse_core::sync::MemoryStore::new());
    testkit::run_durability(&make, upstream.as_ref(), store, &KitOptions::default()).await;
}

/// With faults on 20% of calls, repeated full syncs end with exactly the store contents of a
/// fault-free run: nothing lost, nothing duplicated.
#[tokio::test]
async fn faults_on_a_fifth_of_calls_lose_and_duplicate_nothing() {
    let upstream = ReferenceUpstream::seeded("ref-1", Arc::new(SystemClock), 200);
    for seed in 1..=5 {
        let faulty = FaultyConnector::new(upstream.connector(), FaultPlan::new(0.2, &Fault::ALL, seed));
        testkit::full_sync_survives_faults(&upstream.connector(), &faulty, &KitOptions::default(), 50).await;
    }
}
