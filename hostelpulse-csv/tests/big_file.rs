//! A 100 MB export is read in bounded memory. Alone in its test binary, so the allocation counter
//! sees only this import.

use std::io::Write;
use std::sync::Arc;

use hostelpulse_core::sync::{CollectingSink, MemoryStore, SyncEngine};
use hostelpulse_csv::{CsvImport, Preset, import};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

#[tokio::test]
async fn a_100_mb_file_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "Booking ID,Arrival,Departure,Guest Name,Comments").unwrap();
    let filler = "x".repeat(1000);
    let mut rows = 0u64;
    let mut bytes = 0usize;
    while bytes < 100 * 1024 * 1024 {
        let line = format!("{rows},2026-12-01,2026-12-04,Guest {rows},{filler}\n");
        bytes += line.len();
        f.write_all(line.as_bytes()).unwrap();
        rows += 1;
    }
    drop(f);
    let e = SyncEngine::new(Arc::new(MemoryStore::new()));
    let base = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let r = import(&e, &path, &CsvImport::new(Preset::Beds24, "p").chunk_rows(2_000), &CollectingSink::new(), true)
        .await
        .unwrap();
    let peak = HEAP.peak_usage().saturating_sub(base);
    assert_eq!((r.rows, r.ok), (rows, rows));
    assert!(peak < 32 * 1024 * 1024, "peak heap {} MiB for a {} MiB file", peak / 1048576, bytes / 1048576);
    eprintln!("100 MiB CSV ({rows} rows): peak heap growth {:.1} MiB", peak as f64 / 1048576.0);
}
