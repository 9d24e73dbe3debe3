//! Arbitrary bytes as a CSV export, imported as a dry run with each preset: a clear error or a
//! report, never a panic, and the report's counts add up.
#![no_main]

use std::io::Write;
use std::sync::{Arc, OnceLock};

use hostelpulse_core::sync::{CollectingSink, MemoryStore, SyncEngine};
use hostelpulse_csv::{CsvImport, Preset, import};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(data).unwrap();
    file.flush().unwrap();
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    for preset in [Preset::Beds24, Preset::Cloudbeds, Preset::Sirvoy, Preset::Fdm] {
        let opts = CsvImport::new(preset, "fuzz").chunk_rows(64);
        if let Ok(r) = runtime().block_on(import(&engine, file.path(), &opts, &CollectingSink::new(), true)) {
            assert_eq!(r.ok + r.error_count, r.rows, "{r:?}");
        }
    }
});
