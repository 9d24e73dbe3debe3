//! Arbitrary bytes as a CSV export, imported as a dry run with a preset the first byte picks: a
//! clear error or a report, never a panic, and the report's counts add up.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hostelpulse_core::sync::{CollectingSink, MemoryStore, SyncEngine};
use hostelpulse_csv::{CsvImport, Preset, import};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

/// One file per fuzzing process, rewritten for every input (creating a temporary file each time
/// cost most of an execution).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir =
            if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        dir.join(format!("hostelpulse-fuzz-csv-{}.csv", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, csv)) = data.split_first() else { return };
    std::fs::write(path(), csv).unwrap();
    let preset = [Preset::Beds24, Preset::Cloudbeds, Preset::Sirvoy, Preset::Fdm][usize::from(*pick) % 4].clone();
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let opts = CsvImport::new(preset, "fuzz").chunk_rows(64);
    if let Ok(r) = runtime().block_on(import(&engine, path(), &opts, &CollectingSink::new(), true)) {
        assert_eq!(r.ok + r.error_count, r.rows, "{r:?}");
    }
});
