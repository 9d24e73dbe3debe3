//! Three properties synced at once: no property ever sends more than 5 requests in any one-second
//! window, none is suspended by the emulator, and a backlogged sync still runs above 4 requests
//! per second.
//!
//! Send times are what the client controls, so the window is checked on them (a recording
//! transport); on a loaded machine loopback arrivals jitter by tens of milliseconds, which is why
//! the emulator, like Cloudbeds, allows a little slack.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials};
use hostelpulse_core::http::{Incoming, Outgoing, ReqwestTransport, Transport, TransportError};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncConfig, SyncEngine, Trigger};
use hostelpulse_sandbox::CloudbedsEmulator;
use secrecy::SecretString;

#[derive(Debug)]
struct Recording {
    inner: ReqwestTransport,
    sent: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl Transport for Recording {
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
        self.sent.lock().unwrap().push(Instant::now());
        self.inner.execute(req).await
    }
}

fn max_in_any_second(log: &[Instant]) -> usize {
    (0..log.len())
        .map(|i| log[i..].iter().take_while(|u| u.duration_since(log[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
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
            let sent = Arc::new(Mutex::new(Vec::new()));
            let transport = Arc::new(Recording {
                inner: ReqwestTransport::new(Duration::from_secs(5), "test", 64 << 20).unwrap(),
                sent: sent.clone(),
            });
            let cfg = CloudbedsConfig::builder(id, Credentials::ApiKey(SecretString::from(key)))
                .base_url(base)
                .transport(transport)
                .build()
                .unwrap();
            let c = CloudbedsConnector::new(cfg).unwrap();
            let engine =
                SyncEngine::new(Arc::new(MemoryStore::new())).with_config(SyncConfig::default().window(30, 365));
            // Two full syncs back to back: a backlog of about 20 requests per property.
            for _ in 0..2 {
                let r = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
                assert_eq!(r.outcome, Outcome::Ok, "{id}");
            }
            sent.lock().unwrap().clone()
        }));
    }
    for (id, t) in ids.iter().zip(tasks) {
        let sent = t.await.unwrap();
        assert!(!emu.suspended(id), "{id} was suspended");
        assert!(sent.len() >= 15, "{id}: only {} requests", sent.len());
        let worst = max_in_any_second(&sent);
        assert!(worst <= 5, "{id}: {worst} requests sent in one second");
        let span = sent.last().unwrap().duration_since(sent[0]).as_secs_f64();
        let rate = (sent.len() - 1) as f64 / span;
        assert!(rate > 4.0, "{id}: a backlogged sync ran at only {rate:.2} requests/s");
        let arrivals = emu.request_log(id);
        eprintln!(
            "{id}: {} requests, at most {worst} sent in any second ({} arrived), {rate:.2}/s sustained",
            sent.len(),
            max_in_any_second(&arrivals)
        );
    }
}
