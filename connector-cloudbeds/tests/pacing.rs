//! Three properties synced at once on tokio's paused clock, against the emulator served in
//! process: every request time is exact, so both sides of the pacing contract are asserted
//! exactly whatever the machine's load — the ceiling (never more than 5 requests in any
//! one-second window per property) and the floor (a backlog drains at the permitted rate).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials};
use hostelpulse_core::http::{Incoming, Outgoing, Transport, TransportError};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncConfig, SyncEngine, Trigger};
use hostelpulse_sandbox::{CloudbedsEmulator, InProcess};
use secrecy::SecretString;
use tokio::time::Instant;

/// Records the virtual time each request is sent at.
#[derive(Debug)]
struct Recording {
    inner: InProcess,
    sent: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait]
impl Transport for Recording {
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
        self.sent.lock().unwrap().push(Instant::now());
        self.inner.execute(req).await
    }
}

fn max_in_any_second(log: &[Duration]) -> usize {
    (0..log.len())
        .map(|i| log[i..].iter().take_while(|u| **u - log[i] < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn three_properties_stay_at_five_per_second_exactly() {
    let ids = ["173042", "173043", "173044"];
    // The emulator's own limit counts on the wall clock, which does not move here: our pacer is
    // what is under test, on the virtual clock.
    let emu = CloudbedsEmulator::builder().properties(ids).reservations(900).rate_limit(10_000).start().await.unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in ids {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let transport = Arc::new(Recording { inner: emu.in_process(), sent: sent.clone() });
        let cfg = CloudbedsConfig::builder(id, Credentials::ApiKey(SecretString::from(emu.issue_api_key(id))))
            .base_url(emu.base_url())
            .transport(transport)
            .build()
            .unwrap();
        tasks.push(tokio::spawn(async move {
            let c = CloudbedsConnector::new(cfg).unwrap();
            let engine =
                SyncEngine::new(Arc::new(MemoryStore::new())).with_config(SyncConfig::default().window(30, 365));
            // Two full syncs back to back: a backlog of about 20 requests per property.
            for _ in 0..2 {
                let r = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
                assert_eq!(r.outcome, Outcome::Ok, "{id}");
            }
            let times: Vec<Duration> = sent.lock().unwrap().iter().map(|t| *t - start).collect();
            times
        }));
    }
    for (id, t) in ids.iter().zip(tasks) {
        let times = t.await.unwrap();
        assert!(times.len() >= 15, "{id}: only {} requests", times.len());
        assert!(max_in_any_second(&times) <= 5, "{id}: more than 5 requests in one second: {times:?}");
        // The floor: a backlogged property sends exactly one request per 200 ms slot plus the
        // 15 ms safety margin, never slower; the three properties never wait on each other.
        let want: Vec<Duration> = (0..times.len() as u32).map(|i| Duration::from_millis(215) * i).collect();
        assert_eq!(times, want, "{id}");
    }
}
