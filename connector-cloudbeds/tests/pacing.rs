//! Three properties synced at once: none ever exceeds 5 requests in any one-second window (which
//! would suspend its credentials), and a backlogged sync still runs above 4 requests per second.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use hostelpulse_connector_cloudbeds::Credentials;
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncConfig, SyncEngine, Trigger};
use hostelpulse_sandbox::CloudbedsEmulator;
use secrecy::SecretString;

fn max_in_any_second(log: &[Instant]) -> usize {
    let mut best = 0;
    for (i, t) in log.iter().enumerate() {
        let n = log[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_secs(1)).count();
        best = best.max(n);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_properties_stay_under_five_per_second_and_above_four_when_backlogged() {
    let ids = ["173042", "173043", "173044"];
    let emu = CloudbedsEmulator::builder().properties(ids).reservations(900).start().await.unwrap();
    let mut tasks = Vec::new();
    for id in ids {
        let key = emu.issue_api_key(id);
        let base = emu.base_url();
        tasks.push(tokio::spawn(async move {
            let c = connector_at(base, id, Credentials::ApiKey(SecretString::from(key)));
            let engine =
                SyncEngine::new(Arc::new(MemoryStore::new())).with_config(SyncConfig::default().window(30, 365));
            // Two full syncs back to back: a backlog of about 20 requests per property.
            for _ in 0..2 {
                let r = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
                assert_eq!(r.outcome, Outcome::Ok, "{id}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for id in ids {
        let log = emu.request_log(id);
        assert!(!emu.suspended(id), "{id} was suspended");
        assert!(log.len() >= 15, "{id}: only {} requests", log.len());
        let worst = max_in_any_second(&log);
        assert!(worst <= 5, "{id}: {worst} requests in one second");
        let span = log.last().unwrap().duration_since(log[0]).as_secs_f64();
        let rate = (log.len() - 1) as f64 / span;
        assert!(rate > 4.0, "{id}: a backlogged sync ran at only {rate:.2} requests/s");
        eprintln!("{id}: {} requests, at most {worst} in any second, {rate:.2}/s sustained", log.len());
    }
}
