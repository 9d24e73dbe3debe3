//! `csv_import`: a generated Beds24 export of 100,000, 300,000 and 1,000,000 rows imported into
//! a SQLite database (the CLI's path: the store is also the sink), then imported again.
//!
//! Run: `cargo bench -p hostelpulse-csv --bench csv_import [-- ROWS...]`. Target: linear growth,
//! 1,000,000 rows in under 20 s on a 2-core machine. Prints seconds and rows per second for the
//! first import (every row inserted) and the re-import (every row unchanged).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use hostelpulse_core::sync::SyncEngine;
use hostelpulse_csv::{CsvImport, Preset, import};
use hostelpulse_store::SqliteStore;

fn write_export(path: &std::path::Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create the export"));
    writeln!(f, "Booking ID,Arrival,Departure,First Name,Last Name,Status,Room,Referrer,Adults,Price,Currency")
        .expect("write");
    for i in 0..rows {
        let day = 1 + i % 28;
        writeln!(
            f,
            "{},2026-12-{day:02},2027-01-{day:02},Guest,Number {i},Confirmed,Bed in 6-bed dorm,Hostelworld,{},{}.50,EUR",
            70_000_000 + i,
            1 + i % 4,
            20 + i % 60
        )
        .expect("write");
    }
}

/// A sink that drops the changes.
struct Discard;

#[async_trait::async_trait]
impl hostelpulse_core::sync::Sink for Discard {
    async fn apply(&self, _: &[hostelpulse_core::sync::Change]) -> Result<(), hostelpulse_core::error::BoxError> {
        Ok(())
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace('_', "").parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![100_000, 300_000, 1_000_000] } else { sizes };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "{:>10} {:>12} {:>12} {:>12} {:>12} {:>14}",
        "rows", "import s", "rows/s", "re-import s", "rows/s", "in-memory s"
    );
    for rows in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = dir.path().join("export.csv");
        write_export(&csv, rows);
        // The same import into the memory store with a discarding sink: what parsing, converting
        // and diffing cost without SQLite.
        let memory = rt.block_on(async {
            let engine = SyncEngine::new(Arc::new(hostelpulse_core::sync::MemoryStore::new()));
            let t = Instant::now();
            let r =
                import(&engine, &csv, &CsvImport::new(Preset::Beds24, "bench"), &Discard, false).await.expect("import");
            assert_eq!(r.inserted as usize, rows);
            t.elapsed().as_secs_f64()
        });
        let (first, again) = rt.block_on(async {
            let store = Arc::new(SqliteStore::open(dir.path().join("bench.db")).await.expect("open the store"));
            let engine = SyncEngine::new(store.clone());
            let mut opts = CsvImport::new(Preset::Beds24, "bench");
            // CHUNK=n tries another chunk size (the default is the CLI's).
            if let Some(n) = std::env::var("CHUNK").ok().and_then(|v| v.parse().ok()) {
                opts = opts.chunk_rows(n);
            }
            let t = Instant::now();
            let r = import(&engine, &csv, &opts, store.as_ref(), false).await.expect("import");
            assert_eq!(r.inserted as usize, rows);
            let first = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let r = import(&engine, &csv, &opts, store.as_ref(), false).await.expect("re-import");
            assert_eq!(r.unchanged as usize, rows);
            (first, t.elapsed().as_secs_f64())
        });
        println!(
            "{rows:>10} {first:>12.2} {:>12.0} {again:>12.2} {:>12.0} {memory:>14.2}",
            rows as f64 / first,
            rows as f64 / again
        );
    }
}
