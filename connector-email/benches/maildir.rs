//! `maildir` (bench binary): an e-mail connector's sync of a Maildir holding 2,500 and 10,000
//! booking mails (the `.eml` samples cycled, each with its own Message-ID), as the engine runs
//! it: every mail read, parsed, folded into the records and turned into bookings.
//!
//! Reports messages per second and the heap's peak growth during the read, per size: the goal is
//! at least 5,000 messages/s, with memory that does not grow with the mailbox (the records, not
//! the mails, are what is kept). `cargo bench -p hostelpulse-connector-email --bench maildir`.

use std::time::Instant;

use hostelpulse_connector_email::{EmailConfig, EmailConnector};
use hostelpulse_core::{BookingQuery, Connector};
use hostelpulse_sandbox::mail::{MaildirWriter, SAMPLES};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// The sample with a Message-ID of its own, so no two mails fold as one.
fn unique(sample: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(sample);
    let id = format!("Message-ID: <bench-{n}@maildir.invalid>\r\n");
    let mut out = Vec::with_capacity(sample.len() + id.len());
    out.extend_from_slice(id.as_bytes());
    for line in text.split_inclusive('\n') {
        if !line.to_ascii_lowercase().starts_with("message-id:") {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        // `cargo test --benches` builds and lists bench targets; the run is the real measurement.
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    println!("{:>8} {:>10} {:>9} {:>11} {:>14} {:>9}", "mails", "MiB", "seconds", "msg/s", "peak heap MiB", "bookings");
    for size in [2_500usize, 10_000] {
        for _round in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let inbox = MaildirWriter::create(dir.path().join("Maildir")).expect("maildir");
            let mut bytes = 0usize;
            for n in 0..size {
                let m = unique(SAMPLES[n % SAMPLES.len()].1, n);
                bytes += m.len();
                inbox.deliver(&m).expect("deliver");
            }
            let c = EmailConnector::maildir(EmailConfig::builder("bench").build().expect("config"), inbox.root());
            let base = HEAP.current_usage();
            HEAP.reset_peak_usage();
            let t = Instant::now();
            let batch = rt.block_on(c.bookings(&BookingQuery::default())).expect("sync");
            let secs = t.elapsed().as_secs_f64();
            let peak = HEAP.peak_usage().saturating_sub(base) as f64 / 1048576.0;
            println!(
                "{size:>8} {:>10.1} {secs:>9.3} {:>11.0} {peak:>14.1} {:>9}",
                bytes as f64 / 1048576.0,
                size as f64 / secs,
                batch.bookings.len()
            );
        }
    }
}
