//! Presets, malformed files, bounded memory on a 100 MB file, idempotent re-import.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::model::{BookingStatus, ConnectorKind, SourceId};
use hostelpulse_core::sync::{
    AuditLog, CollectingSink, Commit, MemoryStore, Scope, StoreError, SyncEngine, SyncState, SyncStore,
};
use hostelpulse_csv::{Column, CsvError, CsvImport, Mapping, Preset, import};

fn file(dir: &tempfile::TempDir, name: &str, content: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn engine() -> (SyncEngine, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (SyncEngine::new(store.clone()), store)
}

#[tokio::test]
async fn each_preset_reads_its_export() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            Preset::Beds24,
            ConnectorKind::BEDS24,
            "Booking ID,Arrival,Departure,First Name,Last Name,Status,Room,Unit,Referrer,Api Reference,Adults,Price,Currency\n71234567,2026-12-01,2026-12-04,Mia,Schneider,Confirmed,Bed in 6-bed dorm,3,Hostelworld,HW-1,1,84.00,EUR\n71234568,2026-12-02,2026-12-03,Luc,Martin,Cancelled,Private twin,1,Booking.com,4412,2,55.00,EUR\n",
        ),
        (
            Preset::Cloudbeds,
            ConnectorKind::CLOUDBEDS,
            "Reservation Number;Name;Check in Date;Check out Date;Status;Room Number;Room Type;Source;Third Party Confirmation Number;Adults;Children;Grand Total\n31415926;Mia Schneider;10/07/2025;13/07/2025;confirmed;D1-Bed C;Dorm;Hostelworld;HW-558812345;1;0;84,00\n27182818;Luc Martin;11/07/2025;12/07/2025;canceled;201;Twin;Booking.com;4412345678;2;0;55,00\n",
        ),
        (
            Preset::Sirvoy,
            ConnectorKind::SIRVOY,
            "Booking number\tGuest\tArrival\tDeparture\tCancelled\tRoom\tChannel booking ID\tAdults\tTotal price\tCurrency\n31337\tSven Svensson\t2021-06-01\t2021-06-03\tno\t12\t2345678901\t2\t4200\tSEK\n31338\tAstrid Berg\t2021-06-02\t2021-06-05\tyes\t14\t\t1\t3000\tSEK\n",
        ),
        (
            Preset::Fdm,
            ConnectorKind::FDM,
            "Reservation|Guest|Check-in|Check-out|Status|Bed|Channel|Channel reference|Adults|Total\nR-1|Yuki Sato|12.03.2026|15.03.2026|Checked out|Dorm A - Bed 2|Hostelworld|HW-9|1|60\nR-2|Tom Walker|13.03.2026|14.03.2026|No show|Dorm A - Bed 3|Direct||1|20\n",
        ),
    ];
    for (preset, kind, content) in cases {
        let (e, store) = engine();
        let path = file(&dir, "export.csv", content);
        let opts = CsvImport::new(preset.clone(), "p1").currency("EUR");
        let sink = CollectingSink::new();
        let r = import(&e, &path, &opts, &sink, false).await.unwrap_or_else(|err| panic!("{preset:?}: {err}"));
        assert_eq!((r.rows, r.ok, r.error_count, r.inserted), (2, 2, 0, 2), "{preset:?}: {r:?}");
        let changes = sink.take();
        assert!(changes.iter().all(|c| c.key.connector == kind), "{preset:?}: the source's own connector kind");
        let statuses: Vec<BookingStatus> =
            changes.iter().filter_map(|c| c.booking.as_ref().map(|b| b.status)).collect();
        assert!(
            statuses.len() == 2 && statuses.iter().any(|s| *s != BookingStatus::Confirmed),
            "{preset:?}: {statuses:?}"
        );
        assert_eq!(store.load(&Scope::new(kind, "p1".into())).await.unwrap().records.len(), 2);
    }
}

#[tokio::test]
async fn a_generic_mapping_and_a_dry_run_preview() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "sheet.csv", "Ref,From,To,Who\nA1,2026-05-01,2026-05-03,Ana\nA2,2026-05-02,2026-05-04,Ben\n");
    let mapping = Mapping::explicit(&[
        (Column::Id, "Ref"),
        (Column::Arrival, "From"),
        (Column::Departure, "To"),
        (Column::GuestName, "Who"),
    ]);
    let opts = CsvImport::new(Preset::Generic(mapping), "sheet");
    let (e, store) = engine();
    let preview = import(&e, &path, &opts, &CollectingSink::new(), true).await.unwrap();
    assert!(preview.dry_run);
    assert_eq!((preview.inserted, preview.updated), (2, 0));
    assert!(
        store.load(&Scope::new(ConnectorKind::CSV, "sheet".into())).await.unwrap().records.is_empty(),
        "a dry run saves nothing"
    );
    insta::assert_json_snapshot!(preview);
}

#[tokio::test]
async fn re_importing_the_same_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "export.csv",
        "Booking ID,Arrival,Departure,Guest Name\n1,2026-12-01,2026-12-04,Mia\n2,2026-12-02,2026-12-03,Luc\n",
    );
    let opts = CsvImport::new(Preset::Beds24, "p1");
    let (e, _) = engine();
    let sink = CollectingSink::new();
    let first = import(&e, &path, &opts, &sink, false).await.unwrap();
    let second = import(&e, &path, &opts, &sink, false).await.unwrap();
    assert_eq!((first.inserted, second.inserted, second.updated, second.unchanged), (2, 0, 0, 2));
    assert_eq!(sink.take().len(), 2, "the second import sent nothing");
}

#[tokio::test]
async fn malformed_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine();
    let sink = CollectingSink::new();
    // Columns that do not fit the preset: the error lists what the file has.
    let wrong = file(&dir, "wrong.csv", "foo,bar\n1,2\n");
    match import(&e, &wrong, &CsvImport::new(Preset::Cloudbeds, "p"), &sink, true).await {
        Err(CsvError::MissingColumns { missing, found }) => {
            assert!(missing.iter().any(|m| m == "booking id"));
            assert_eq!(found, vec!["foo", "bar"]);
        }
        other => panic!("{other:?}"),
    }
    // Semicolon data read as a comma file would be one column: detection picks the semicolon.
    let semi = file(&dir, "semi.csv", "Booking ID;Arrival;Departure\n1;2026-01-01;2026-01-02\n");
    assert_eq!(import(&e, &semi, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await.unwrap().delimiter, ";");
    // Bad dates and counts are row errors with line and column; the good rows go on.
    let bad = file(
        &dir,
        "bad.csv",
        "Booking ID,Arrival,Departure,Adults\n1,2026-01-01,2026-01-03,2\n2,2026-02-30,2026-03-02,1\n3,2026-01-05,2026-01-04,1\n4,2026-01-05,2026-01-07,two\n,2026-01-05,2026-01-07,1\n",
    );
    let r = import(&e, &bad, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await.unwrap();
    assert_eq!((r.rows, r.ok, r.error_count), (5, 1, 4), "{r:?}");
    let where_: Vec<(u64, Option<String>)> = r.errors.iter().map(|e| (e.line, e.column.clone())).collect();
    assert_eq!(
        where_,
        vec![
            (3, Some("Arrival".into())),
            (4, Some("Departure".into())),
            (5, Some("Adults".into())),
            (6, Some("Booking ID".into()))
        ]
    );
    // No date format fits.
    let nodate = file(&dir, "nodate.csv", "Booking ID,Arrival,Departure\n1,soon,later\n");
    assert!(matches!(
        import(&e, &nodate, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await,
        Err(CsvError::DateFormat(_))
    ));
    let empty = file(&dir, "empty.csv", "");
    assert!(matches!(
        import(&e, &empty, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await,
        Err(CsvError::Empty)
    ));
}

/// A memory store that counts the records each load hands back.
#[derive(Default)]
struct CountingStore {
    inner: MemoryStore,
    records_loaded: AtomicUsize,
}

hostelpulse_core::forward_audit_and_inbox!(CountingStore, inner);

#[async_trait]
impl SyncStore for CountingStore {
    async fn load(&self, scope: &Scope) -> Result<SyncState, StoreError> {
        let s = self.inner.load(scope).await?;
        self.records_loaded.fetch_add(s.records.len(), Ordering::Relaxed);
        Ok(s)
    }
    async fn load_some(&self, scope: &Scope, ids: &[&SourceId]) -> Result<SyncState, StoreError> {
        let s = self.inner.load_some(scope, ids).await?;
        self.records_loaded.fetch_add(s.records.len(), Ordering::Relaxed);
        Ok(s)
    }
    async fn commit(&self, scope: &Scope, commit: &Commit) -> Result<(), StoreError> {
        self.inner.commit(scope, commit).await
    }
    async fn remember_event(&self, key: &str, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<bool, StoreError> {
        self.inner.remember_event(key, now, ttl).await
    }
    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> Result<(), StoreError> {
        self.inner.save_paging_checkpoint(scope, checkpoint).await
    }
}

/// Chunked import reads back only the records each chunk names: re-importing a 20,000-row file
/// in chunks of 500 loads each stored record once (the quadratic version loaded the whole account
/// for every chunk: 40 chunks x up to 20,000 records).
#[tokio::test]
async fn a_chunked_import_loads_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("Booking ID,Arrival,Departure\n");
    for i in 0..20_000 {
        csv.push_str(&format!("{i},2026-12-01,2026-12-04\n"));
    }
    let path = file(&dir, "big.csv", &csv);
    let store = Arc::new(CountingStore::default());
    let e = SyncEngine::new(store.clone());
    let opts = CsvImport::new(Preset::Beds24, "p").chunk_rows(500);
    let first = import(&e, &path, &opts, &CollectingSink::new(), false).await.unwrap();
    assert_eq!((first.inserted, first.runs.len()), (20_000, 40));
    assert_eq!(store.records_loaded.load(Ordering::Relaxed), 0, "nothing stored yet, nothing loaded");
    let again = import(&e, &path, &opts, &CollectingSink::new(), false).await.unwrap();
    assert_eq!((again.unchanged, again.inserted), (20_000, 0));
    assert_eq!(store.records_loaded.load(Ordering::Relaxed), 20_000, "each stored record read once");
}

#[tokio::test]
async fn a_file_without_line_breaks_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine();
    let sink = CollectingSink::new();
    // One 2 MB line: no header row is that long.
    let junk = "Booking ID,".repeat(200_000);
    let path = file(&dir, "oneline.csv", &junk);
    let err = import(&e, &path, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await.unwrap_err();
    assert!(matches!(err, CsvError::HeaderTooLong { .. }), "{err:?}");
    assert!(err.to_string().len() < 200, "{err}");
    // A wide junk header within the limit: the error lists a bounded summary, never all of it.
    let wide = format!("{}\n1,2\n", (0..2_000).map(|i| format!("column number {i}")).collect::<Vec<_>>().join(","));
    let path = file(&dir, "wide.csv", &wide);
    let err = import(&e, &path, &CsvImport::new(Preset::Beds24, "p"), &sink, true).await.unwrap_err();
    let CsvError::MissingColumns { found, .. } = &err else { panic!("{err:?}") };
    assert_eq!(found.len(), 41, "40 headers and a count of the rest");
    assert_eq!(found.last().map(String::as_str), Some("… 1960 more"));
    assert!(err.to_string().len() < 4_000, "{} bytes", err.to_string().len());
}

#[tokio::test]
async fn a_chunked_import_into_sqlite_survives_a_rebuild_with_nothing_lost_or_doubled() {
    use hostelpulse_store::SqliteStore;
    let dir = tempfile::tempdir().unwrap();
    // 50 rows in chunks of 7; booking 3 appears again in a later chunk with new dates (the
    // export lists a modification twice): one booking, updated once.
    let mut csv = String::from("Booking ID,Arrival,Departure\n");
    for i in 0..50 {
        csv.push_str(&format!("{i},2026-12-01,2026-12-04\n"));
    }
    csv.push_str("3,2026-12-02,2026-12-06\n");
    let path = file(&dir, "export.csv", &csv);
    let db = dir.path().join("state.sqlite");
    let opts = CsvImport::new(Preset::Beds24, "p").chunk_rows(7);
    let scope = Scope::new(ConnectorKind::BEDS24, hostelpulse_core::model::AccountId::new("p"));
    {
        let store = Arc::new(SqliteStore::open(&db).await.unwrap());
        let e = SyncEngine::new(store.clone());
        let first = import(&e, &path, &opts, store.as_ref(), false).await.unwrap();
        assert_eq!((first.rows, first.inserted, first.updated, first.runs.len()), (51, 50, 1, 8));
    }
    // Everything dropped and opened again, as a second process would.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let kept = store.bookings_of(&scope).await.unwrap();
    assert_eq!(kept.len(), 50, "every booking once");
    let three = kept.iter().find(|b| b.key.id.as_str() == "3").unwrap();
    assert_eq!(three.departure.to_string(), "2026-12-06", "the later row won");
    let e = SyncEngine::new(store.clone());
    let again = import(&e, &path, &opts, store.as_ref(), false).await.unwrap();
    // Row 3's first appearance now differs from what is stored; its second puts it back.
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 2, 49));
    assert_eq!(store.bookings_of(&scope).await.unwrap().len(), 50);
    assert_eq!(store.recent(&scope, 100).await.unwrap().len(), 16, "one audit record per chunk and import");
}
