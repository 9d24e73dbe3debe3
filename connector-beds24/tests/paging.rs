//! Paging that never ends quietly: a source whose pages loop, and a page limit, both end the run
//! partial with the reason, declare nothing gone, and lose nothing once the source recovers.

mod common;

use std::sync::Arc;

use common::*;
use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncEngine, Trigger};

async fn full(engine: &SyncEngine, c: &Beds24Connector) -> hostelpulse_core::sync::AuditRecord {
    engine.run(c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_page_ends_the_run_partial_and_the_next_run_completes_it() {
    let emu = emulator(450).await;
    let c = connector_at(emu.base_url(), refresh(&emu));
    let reference = full(&SyncEngine::new(Arc::new(MemoryStore::new())), &c).await;
    let all = reference.counts.inserted;
    assert_eq!(reference.outcome, Outcome::Ok);
    assert!(all > 300, "the window holds more than three pages: {all}");

    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    emu.repeat_pages_after(Some(2));
    emu.reset_requests();
    let glitch = full(&engine, &c).await;
    assert_eq!(glitch.outcome, Outcome::Partial);
    assert_eq!(glitch.counts.inserted, 200, "the two real pages are kept");
    assert!(glitch.failures.iter().any(|f| f.reason.contains("page 3 repeated page 2")), "{:?}", glitch.failures);
    assert!(glitch.warnings.iter().any(|w| w.contains("incomplete")), "{:?}", glitch.warnings);
    assert_eq!(emu.requests("GET /v2/bookings"), 3, "the loop is caught on its first repeat");

    emu.repeat_pages_after(None);
    let after = full(&engine, &c).await;
    assert_eq!(after.outcome, Outcome::Ok);
    assert_eq!((after.counts.inserted, after.counts.unchanged, after.counts.disappeared), (all - 200, 200, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_limit_is_never_ok() {
    let emu = emulator(450).await;
    let cfg = Beds24Config::builder(PROPERTY, refresh(&emu))
        .base_url(emu.base_url())
        .retry(fast_retry())
        .credits_per_window(10_000.0)
        .max_pages(2)
        .build()
        .unwrap();
    let c = Beds24Connector::new(cfg).unwrap();
    let run = full(&SyncEngine::new(Arc::new(MemoryStore::new())), &c).await;
    assert_eq!(run.outcome, Outcome::Partial);
    assert_eq!(run.counts.inserted, 200);
    assert!(run.failures.iter().any(|f| f.reason.contains("after 2 pages")), "{:?}", run.failures);
    assert_eq!(run.counts.disappeared, 0);
}

/// Seeded far beyond 28,800 bookings, the emulator's times stay in the past and spread over 20
/// days: an incremental poll for the last day gets about a day's worth, not thousands "modified in
/// the future".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_seed_keeps_its_times_in_the_past() {
    let emu = emulator(30_000).await;
    let now = chrono::Utc::now();
    let last = emu.booking(*emu.booking_ids().last().unwrap()).unwrap();
    for field in ["bookingTime", "modifiedTime"] {
        let t: chrono::DateTime<chrono::Utc> = last[field].as_str().unwrap().parse().unwrap();
        assert!(t <= now, "{field} {t} is after {now}");
    }
    let c = connector_at(emu.base_url(), refresh(&emu));
    let query = hostelpulse_core::BookingQuery::modified_since(now - chrono::Duration::days(1));
    let batch = hostelpulse_core::Connector::bookings(&c, &query).await.unwrap();
    // 30,000 bookings over 20 days: about 1,500 a day.
    let n = batch.bookings.len() + batch.failures.len();
    assert!((1_000..=2_000).contains(&n), "{n} bookings modified in the last day");
}
