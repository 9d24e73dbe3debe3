//! `beds24_full_sync` (bench binary): the first full sync of a property with 100,000 bookings
//! against the bundled emulator (1,000 pages), as the engine runs it into the memory store, with
//! the wall time and the heap's peak growth during the run. The emulator runs in the same process;
//! its own bookings are allocated before the measurement starts, and the pages it renders are
//! counted (they are small and short-lived). Goal: at most 100 MB.
//! `cargo bench -p hostelpulse-connector-beds24 --bench beds24_full_sync`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector, Credentials};
use hostelpulse_core::sync::{Change, MemoryStore, Plan, Sink, SyncConfig, SyncEngine, Trigger};
use hostelpulse_sandbox::Beds24Emulator;
use peak_alloc::PeakAlloc;
use secrecy::SecretString;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// A host that counts what it receives (what a real host stores is its own memory).
struct Counting(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl Sink for Counting {
    async fn apply(&self, changes: &[Change]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(changes.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    const N: usize = 100_000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let emu = rt.block_on(Beds24Emulator::builder().bookings(N).credits(1e12).start()).expect("emulator");
    let cfg = Beds24Config::builder(
        hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
        Credentials::LongLifeToken(SecretString::from(emu.issue_long_life_token())),
    )
    .base_url(emu.base_url())
    .credits_per_window(1e12)
    .max_pages(5_000)
    .request_timeout(Duration::from_secs(30))
    .build()
    .expect("config");
    let c = Beds24Connector::new(cfg).expect("connector");
    for round in 0..2 {
        let engine =
            SyncEngine::new(Arc::new(MemoryStore::new())).with_config(SyncConfig::default().window(3_650, 3_650));
        let sink = Counting(Default::default());
        let base = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let t = Instant::now();
        let run = rt.block_on(engine.run(&c, Plan::Full, Trigger::ScheduledFull, &sink));
        let secs = t.elapsed().as_secs_f64();
        let peak = HEAP.peak_usage().saturating_sub(base) as f64 / 1048576.0;
        println!(
            "round {round}: {:?}, fetched {}, inserted {}, sink {}; {secs:.2} s; peak heap growth {peak:.1} MiB; after the run {:.1} MiB",
            run.outcome,
            run.counts.fetched,
            run.counts.inserted,
            sink.0.load(std::sync::atomic::Ordering::Relaxed),
            HEAP.current_usage().saturating_sub(base) as f64 / 1048576.0
        );
    }
}
