use rusqlite::{Connection, params};
use std::time::Instant;
fn run(label: &str, page: u32, without_rowid: bool, mmap: bool, json_len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Connection::open(dir.path().join("x.db")).unwrap();
    c.pragma_update(None, "page_size", page).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "NORMAL").unwrap();
    if mmap {
        c.pragma_update(None, "mmap_size", 1i64 << 30).unwrap();
    }
    let wr = if without_rowid { " WITHOUT ROWID" } else { "" };
    c.execute_batch(&format!("CREATE TABLE booking (connector TEXT NOT NULL, account TEXT NOT NULL, source_id TEXT NOT NULL, arrival TEXT NOT NULL, departure TEXT NOT NULL, record TEXT NOT NULL, gone_at TEXT, PRIMARY KEY (connector, account, source_id)); CREATE INDEX booking_stay ON booking (departure, arrival);
    CREATE TABLE sync_record (connector TEXT NOT NULL, account TEXT NOT NULL, source_id TEXT NOT NULL, fingerprint BLOB NOT NULL, modified_at TEXT, arrival TEXT NOT NULL, departure TEXT NOT NULL, cancelled INTEGER NOT NULL, missing_passes INTEGER NOT NULL, gone INTEGER NOT NULL, origin TEXT NOT NULL, PRIMARY KEY (connector, account, source_id)){wr};")).unwrap();
    let json = "x".repeat(json_len);
    let fp = [7u8; 32];
    let t = Instant::now();
    for chunk in 0..40 {
        let tx = c.transaction().unwrap();
        for i in 0..5000 {
            let id = (70_000_000 + chunk * 5000 + i).to_string();
            let day = 1 + i % 28;
            let a = format!("2026-12-{day:02}");
            let d = format!("2027-01-{day:02}");
            tx.prepare_cached("INSERT INTO booking (connector, account, source_id, arrival, departure, record, gone_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL) ON CONFLICT (connector, account, source_id) DO UPDATE SET arrival = excluded.arrival, departure = excluded.departure, record = excluded.record, gone_at = NULL").unwrap().execute(params!["beds24", "bench", id, a, d, json]).unwrap();
        }
        tx.commit().unwrap();
        let tx = c.transaction().unwrap();
        for i in 0..5000 {
            let id = (70_000_000 + chunk * 5000 + i).to_string();
            let day = 1 + i % 28;
            let a = format!("2026-12-{day:02}");
            let d = format!("2027-01-{day:02}");
            tx.prepare_cached("INSERT INTO sync_record (connector, account, source_id, fingerprint, modified_at, arrival, departure, cancelled, missing_passes, gone, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (connector, account, source_id) DO UPDATE SET fingerprint = excluded.fingerprint").unwrap().execute(params!["beds24", "bench", id, &fp[..], None::<String>, a, d, false, 0, false, "import"]).unwrap();
        }
        tx.commit().unwrap();
    }
    println!("{label}: {:.2} us/row", t.elapsed().as_secs_f64() * 1e6 / 200_000.0);
}
fn main() {
    run("base 4k", 4096, false, false, 632);
    run("16k page", 16384, false, false, 632);
    run("without rowid", 4096, true, false, 632);
    run("mmap", 4096, false, true, 632);
    run("json 350", 4096, false, false, 350);
    run("all", 16384, true, true, 350);
}
