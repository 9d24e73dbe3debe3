//! Reading rows, converting them, and syncing them in chunks.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{Duration, Utc};
use hostelpulse_core::connector::{BookingBatch, RecordFailure};
use hostelpulse_core::model::{
    AccountId, Allocation, Booking, BookingStatus, Channel, Guest, Money, Party, Provenance, SourceId, SourceKey, Via,
};
use hostelpulse_core::sync::{AuditRecord, Outcome, Scope, Sink, SyncEngine, Trigger};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::detect::{DateFormat, detect_date_format, detect_delimiter};
use crate::preset::{Column, Preset};

/// What to import and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CsvImport {
    /// The export's preset.
    pub preset: Preset,
    /// The account (property) the bookings belong to.
    pub account: AccountId,
    /// Currency when the file has no currency column.
    pub currency: Option<String>,
    /// Rows per chunk synced at once (bounds memory).
    pub chunk_rows: usize,
    /// Force a date format instead of detecting it.
    pub date_format: Option<DateFormat>,
}

impl CsvImport {
    /// An import of `preset` files for `account`.
    pub fn new(preset: Preset, account: impl Into<AccountId>) -> Self {
        Self { preset, account: account.into(), currency: None, chunk_rows: 5_000, date_format: None }
    }

    /// Sets the fallback currency.
    pub fn currency(mut self, c: impl Into<String>) -> Self {
        self.currency = Some(c.into());
        self
    }

    /// Sets the chunk size.
    pub fn chunk_rows(mut self, n: usize) -> Self {
        self.chunk_rows = n.max(1);
        self
    }

    /// Forces a date format.
    pub fn date_format(mut self, f: DateFormat) -> Self {
        self.date_format = Some(f);
        self
    }
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line in the file (1-based; the header is line 1).
    pub line: u64,
    /// The column, when one is at fault.
    pub column: Option<String>,
    /// Why.
    pub reason: String,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ImportReport {
    /// A dry run: nothing was saved.
    pub dry_run: bool,
    /// Data rows read.
    pub rows: u64,
    /// Rows converted.
    pub ok: u64,
    /// Rows with errors.
    pub error_count: u64,
    /// The first 1,000 row errors.
    pub errors: Vec<RowError>,
    /// New bookings.
    pub inserted: u64,
    /// Changed bookings.
    pub updated: u64,
    /// Bookings already as the file says.
    pub unchanged: u64,
    /// Bookings that became cancelled.
    pub cancelled: u64,
    /// Bookings restored from cancelled.
    pub restored: u64,
    /// The delimiter used.
    pub delimiter: String,
    /// The date format used.
    pub date_format: Option<String>,
    /// Day-first and month-first both fit every date (day-first was used).
    pub date_format_ambiguous: bool,
    /// The sync runs' ids (one per chunk; none for a dry run).
    pub runs: Vec<String>,
}

/// Why a file could not be imported at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV is malformed beyond a row.
    #[error("malformed CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The file has no header.
    #[error("the file is empty")]
    Empty,
    /// Required columns are missing.
    #[error("missing column(s) {missing:?}; the file has {found:?} — choose another preset or map the columns")]
    MissingColumns {
        /// What is missing.
        missing: Vec<String>,
        /// The headers found.
        found: Vec<String>,
    },
    /// The first line is longer than any header row: the file has no line breaks where a CSV
    /// has them (or is not a CSV).
    #[error(
        "the first line is longer than {limit} bytes: this is not a CSV header (is the file a CSV with line breaks?)"
    )]
    HeaderTooLong {
        /// The longest header row read.
        limit: u64,
    },
    /// No date format fits the arrival column.
    #[error("no known date format fits the dates in column `{0}`")]
    DateFormat(String),
    /// The sync failed.
    #[error("sync failed: {0}")]
    Sync(String),
}

fn resolve(headers: &csv::StringRecord, preset: &Preset) -> Result<HashMap<Column, (usize, String)>, CsvError> {
    let norm = |s: &str| s.trim().trim_start_matches('\u{feff}').to_lowercase();
    let mut out = HashMap::new();
    for (col, names) in preset.mapping().columns {
        if out.contains_key(&col) {
            continue;
        }
        if let Some((i, h)) = headers.iter().enumerate().find(|(_, h)| names.iter().any(|n| norm(n) == norm(h))) {
            out.insert(col, (i, h.trim().to_owned()));
        }
    }
    let mut missing = Vec::new();
    for (col, name) in [(Column::Id, "booking id"), (Column::Arrival, "arrival")] {
        if !out.contains_key(&col) {
            missing.push(name.to_owned());
        }
    }
    if !out.contains_key(&Column::Departure) && !out.contains_key(&Column::LastNight) {
        missing.push("departure (or last night)".to_owned());
    }
    if !missing.is_empty() {
        return Err(CsvError::MissingColumns { missing, found: shown_headers(headers) });
    }
    Ok(out)
}

/// The headers as an error shows them: at most [`SHOWN_HEADERS`], each cut to
/// [`SHOWN_HEADER_CHARS`] characters, so a junk header row never floods a message.
fn shown_headers(headers: &csv::StringRecord) -> Vec<String> {
    let mut shown: Vec<String> = headers
        .iter()
        .take(SHOWN_HEADERS)
        .map(|h| {
            let h = h.trim();
            match h.char_indices().nth(SHOWN_HEADER_CHARS) {
                Some((cut, _)) => format!("{}…", &h[..cut]),
                None => h.to_owned(),
            }
        })
        .collect();
    if headers.len() > SHOWN_HEADERS {
        shown.push(format!("… {} more", headers.len() - SHOWN_HEADERS));
    }
    shown
}

const SHOWN_HEADERS: usize = 40;
const SHOWN_HEADER_CHARS: usize = 60;
/// The longest first line read as a header row. Real exports' headers are well under 4 KiB.
const MAX_HEADER_BYTES: u64 = 64 * 1024;

fn status(text: &str, header: &str) -> BookingStatus {
    let t = text.trim().to_lowercase();
    if header.to_lowercase().contains("cancel") {
        return if ["yes", "true", "1", "x", "cancelled", "canceled", "ja"].contains(&t.as_str()) {
            BookingStatus::Cancelled
        } else {
            BookingStatus::Confirmed
        };
    }
    match t.as_str() {
        "" | "confirmed" | "new" | "booked" | "ok" => BookingStatus::Confirmed,
        t if t.contains("cancel") => BookingStatus::Cancelled,
        t if t.contains("no show") || t.contains("no-show") || t.contains("noshow") || t == "no_show" => {
            BookingStatus::NoShow
        }
        t if t.contains("checked out") || t == "checked_out" || t == "departed" => BookingStatus::CheckedOut,
        t if t.contains("checked in") || t == "checked_in" || t.contains("in house") || t == "in_house" => {
            BookingStatus::CheckedIn
        }
        t if ["request", "tentative", "not confirmed", "not_confirmed", "unconfirmed", "pending", "inquiry"]
            .iter()
            .any(|w| t.contains(w)) =>
        {
            BookingStatus::Tentative
        }
        t if t.contains("block") || t == "black" || t == "closed" => BookingStatus::Block,
        _ => BookingStatus::Unknown,
    }
}

fn channel(name: &str) -> Option<Channel> {
    let l = name.trim().to_lowercase();
    if l.is_empty() {
        return None;
    }
    Some(if l.contains("booking.com") || l == "booking" {
        Channel::BookingCom
    } else if l.contains("airbnb") {
        Channel::Airbnb
    } else if l.contains("hostelworld") {
        Channel::Hostelworld
    } else if l.contains("expedia") {
        Channel::Expedia
    } else if l.contains("agoda") {
        Channel::Agoda
    } else if ["direct", "website", "walk-in", "walk in", "phone", "email", "front desk"].iter().any(|d| l.contains(d))
    {
        Channel::Direct
    } else {
        Channel::Other(name.trim().to_owned())
    })
}

/// Reads `1 234,50`, `1,234.50`, `€84.00`, `84`.
fn amount(text: &str) -> Option<Decimal> {
    let kept: String = text.chars().filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-')).collect();
    if kept.is_empty() {
        return None;
    }
    let normalized = match (kept.rfind('.'), kept.rfind(',')) {
        (Some(d), Some(c)) if c > d => kept.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => kept.replace(',', ""),
        (None, Some(c)) if kept.len() - c - 1 <= 2 => kept.replace(',', "."),
        (None, Some(_)) => kept.replace(',', ""),
        _ => kept,
    };
    normalized.parse().ok()
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a HashMap<Column, (usize, String)>,
}

impl Row<'_> {
    fn get(&self, c: Column) -> Option<&str> {
        let (i, _) = self.cols.get(&c)?;
        self.rec.get(*i).map(str::trim).filter(|v| !v.is_empty())
    }

    fn header(&self, c: Column) -> String {
        self.cols.get(&c).map(|(_, h)| h.clone()).unwrap_or_default()
    }
}

fn convert(
    row: &Row<'_>,
    line: u64,
    opts: &CsvImport,
    fmt: DateFormat,
    provenance: &Provenance,
) -> Result<Booking, RowError> {
    let err = |c: Column, reason: String| RowError { line, column: Some(row.header(c)), reason };
    let id = row.get(Column::Id).ok_or_else(|| err(Column::Id, "no booking id".into()))?;
    let date = |c: Column| -> Result<Option<chrono::NaiveDate>, RowError> {
        match row.get(c) {
            None => Ok(None),
            Some(v) => fmt.parse(v).map(Some).ok_or_else(|| err(c, format!("`{v}` is not a date ({fmt:?})"))),
        }
    };
    let arrival = date(Column::Arrival)?.ok_or_else(|| err(Column::Arrival, "no arrival date".into()))?;
    let departure = match (date(Column::Departure)?, date(Column::LastNight)?) {
        (Some(d), _) => d,
        (None, Some(last)) => last + Duration::days(1),
        (None, None) => return Err(err(Column::Departure, "no departure date".into())),
    };
    if departure <= arrival {
        return Err(err(Column::Departure, format!("departure {departure} is not after arrival {arrival}")));
    }
    let st =
        row.get(Column::Status).map(|s| status(s, &row.header(Column::Status))).unwrap_or(BookingStatus::Confirmed);
    let key = SourceKey::new(opts.preset.connector(), opts.account.clone(), SourceId::new(id));
    let mut b = Booking::new(key, provenance.clone(), st, arrival, departure);
    b.status_raw = row.get(Column::Status).map(str::to_owned);
    let name = row.get(Column::GuestName).map(str::to_owned).or_else(|| {
        let n =
            [row.get(Column::FirstName), row.get(Column::LastName)].into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!n.is_empty()).then_some(n)
    });
    b.guest = Guest {
        name,
        email: row.get(Column::Email).map(str::to_owned),
        phone: row.get(Column::Phone).map(str::to_owned),
        ..Guest::default()
    };
    let count = |c: Column| -> Result<Option<u16>, RowError> {
        row.get(c).map(|v| v.parse::<u16>().map_err(|_| err(c, format!("`{v}` is not a count")))).transpose()
    };
    b.party = Party { adults: count(Column::Adults)?, children: count(Column::Children)? };
    if row.get(Column::Room).is_some() || row.get(Column::RoomType).is_some() {
        b.allocations.push(Allocation {
            room_type: row.get(Column::RoomType).map(SourceId::new),
            room: row.get(Column::Room).map(SourceId::new),
            bed: None,
            label: row.get(Column::Room).or(row.get(Column::RoomType)).map(str::to_owned),
        });
    }
    b.channel = row.get(Column::Channel).and_then(channel);
    b.channel_ref = row.get(Column::ChannelRef).map(str::to_owned);
    let currency = row.get(Column::Currency).map(str::to_owned).or_else(|| opts.currency.clone());
    if let Some(v) = row.get(Column::Total) {
        let a = amount(v).ok_or_else(|| err(Column::Total, format!("`{v}` is not an amount")))?;
        b.total = currency.map(|c| Money::new(a, c));
    }
    Ok(b)
}

fn reader(path: &Path, delimiter: u8) -> Result<csv::Reader<BufReader<File>>, CsvError> {
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(BufReader::new(File::open(path)?)))
}

fn add(report: &mut ImportReport, r: &AuditRecord) {
    report.inserted += r.counts.inserted;
    report.updated += r.counts.updated;
    report.unchanged += r.counts.unchanged;
    report.cancelled += r.counts.cancelled;
    report.restored += r.counts.restored;
}

/// Imports `path` through `engine` (trigger CSV), in chunks; with `dry_run`, only previews.
pub async fn import(
    engine: &SyncEngine,
    path: &Path,
    opts: &CsvImport,
    sink: &dyn Sink,
    dry_run: bool,
) -> Result<ImportReport, CsvError> {
    let mut first = Vec::new();
    BufReader::new(File::open(path)?).take(MAX_HEADER_BYTES + 1).read_until(b'\n', &mut first)?;
    if first.len() as u64 > MAX_HEADER_BYTES {
        return Err(CsvError::HeaderTooLong { limit: MAX_HEADER_BYTES });
    }
    let first = String::from_utf8_lossy(&first);
    if first.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let delimiter = detect_delimiter(&first);
    let mut rdr = reader(path, delimiter)?;
    let headers = rdr.headers()?.clone();
    let cols = resolve(&headers, &opts.preset)?;
    let (fmt, ambiguous) = match opts.date_format {
        Some(f) => (f, false),
        None => {
            let (i, h) = cols[&Column::Arrival].clone();
            let samples: Vec<String> =
                rdr.records().take(500).filter_map(|r| r.ok()?.get(i).map(str::to_owned)).collect();
            detect_date_format(samples.iter().map(String::as_str)).ok_or(CsvError::DateFormat(h))?
        }
    };
    let mut report = ImportReport {
        dry_run,
        delimiter: (delimiter as char).to_string(),
        date_format: Some(format!("{fmt:?}")),
        date_format_ambiguous: ambiguous,
        ..ImportReport::default()
    };
    let scope = Scope::new(opts.preset.connector(), opts.account.clone());
    let provenance = Provenance::new(Via::Csv, Utc::now());
    // Reading and converting run on their own thread, one chunk ahead of the engine: the file is
    // parsed while the previous chunk is diffed and written. Two chunks in flight bound memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Chunk, CsvError>>(1);
    let rdr = reader(path, delimiter)?;
    let reading = Reading { cols, opts: opts.clone(), fmt, provenance };
    let producer = std::thread::Builder::new()
        .name("csv-import".into())
        .spawn(move || reading.run(rdr, &tx))
        .map_err(CsvError::Io)?;
    // The chunks' own counts go to the report as they pass; a reading error ends the stream.
    let mut read_error = None;
    let chunks = futures_util::stream::poll_fn(|cx| match rx.poll_recv(cx) {
        std::task::Poll::Ready(Some(Ok(chunk))) => {
            report.rows += chunk.rows;
            report.ok += chunk.ok;
            report.error_count += chunk.error_count;
            let room = MAX_LISTED_ERRORS.saturating_sub(report.errors.len());
            report.errors.extend(chunk.errors.into_iter().take(room));
            std::task::Poll::Ready(Some(chunk.batch))
        }
        std::task::Poll::Ready(Some(Err(e))) => {
            read_error = Some(e);
            std::task::Poll::Ready(None)
        }
        std::task::Poll::Ready(None) => std::task::Poll::Ready(None),
        std::task::Poll::Pending => std::task::Poll::Pending,
    });
    let records = if dry_run {
        let mut chunks = std::pin::pin!(chunks);
        let mut records = Vec::new();
        while let Some(batch) = futures_util::StreamExt::next(&mut chunks).await {
            records.push(engine.preview_batch(scope.clone(), batch, Trigger::Csv).await);
        }
        records
    } else {
        // One chunk is written while the next is read and compared.
        engine.apply_batches(scope, chunks, Trigger::Csv, sink).await
    };
    let mut outcome = Ok(());
    for r in &records {
        if let Outcome::Failed { message, .. } = &r.outcome {
            outcome = Err(CsvError::Sync(message.clone()));
            break;
        }
        add(&mut report, r);
        if !dry_run {
            report.runs.push(r.run_id.clone());
        }
    }
    if let Some(e) = read_error {
        outcome = outcome.and(Err(e));
    }
    // Closing the channel stops the reader at its next chunk.
    drop(rx);
    if producer.join().is_err() {
        outcome = outcome.and(Err(CsvError::Sync("the CSV reader stopped unexpectedly".into())));
    }
    outcome.map(|()| report)
}

/// Row errors an import report lists one by one (the rest are counted).
const MAX_LISTED_ERRORS: usize = 1000;

/// One chunk read from the file, converted, and what reading it found.
struct Chunk {
    batch: BookingBatch,
    rows: u64,
    ok: u64,
    error_count: u64,
    errors: Vec<RowError>,
}

impl Chunk {
    fn new() -> Self {
        Self { batch: BookingBatch::default(), rows: 0, ok: 0, error_count: 0, errors: Vec::new() }
    }

    fn len(&self) -> usize {
        self.batch.bookings.len() + self.batch.failures.len()
    }
}

/// Everything the reading thread needs, owned.
struct Reading {
    cols: HashMap<Column, (usize, String)>,
    opts: CsvImport,
    fmt: DateFormat,
    provenance: Provenance,
}

impl Reading {
    /// Reads every row, sending a chunk every `chunk_rows`; stops when the receiver is gone.
    fn run(self, mut rdr: csv::Reader<BufReader<File>>, tx: &tokio::sync::mpsc::Sender<Result<Chunk, CsvError>>) {
        let mut chunk = Chunk::new();
        let mut record = csv::StringRecord::new();
        let mut line = 1u64;
        loop {
            let more = match rdr.read_record(&mut record) {
                Ok(more) => more,
                Err(e) if e.is_io_error() => {
                    let _ = tx.blocking_send(Err(CsvError::Csv(e)));
                    return;
                }
                Err(e) => {
                    // A malformed row (an unterminated quote, bad UTF-8) is reported; reading goes on.
                    line += 1;
                    chunk.rows += 1;
                    chunk.error_count += 1;
                    if chunk.errors.len() < MAX_LISTED_ERRORS {
                        chunk.errors.push(RowError { line, column: None, reason: e.to_string() });
                    }
                    continue;
                }
            };
            if more {
                line = record.position().map(|p| p.line()).unwrap_or(line + 1);
                chunk.rows += 1;
                match convert(&Row { rec: &record, cols: &self.cols }, line, &self.opts, self.fmt, &self.provenance) {
                    Ok(b) => {
                        chunk.ok += 1;
                        chunk.batch.bookings.push(b);
                    }
                    Err(mut e) => {
                        // Reasons quote the cell: a contact detail in the wrong column stays masked.
                        e.reason = hostelpulse_core::privacy::scrub(&e.reason).into_owned();
                        chunk.error_count += 1;
                        chunk.batch.failures.push(RecordFailure::new(None, e.reason.clone()).at(format!(
                            "line {} column {}",
                            e.line,
                            e.column.clone().unwrap_or_default()
                        )));
                        if chunk.errors.len() < MAX_LISTED_ERRORS {
                            chunk.errors.push(e);
                        }
                    }
                }
            }
            if chunk.len() >= self.opts.chunk_rows || (!more && chunk.len() > 0) {
                let full = std::mem::replace(&mut chunk, Chunk::new());
                if tx.blocking_send(Ok(full)).is_err() {
                    return;
                }
            }
            if !more {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_both_conventions() {
        assert_eq!(amount("1 234,50 €"), Some(Decimal::new(123450, 2)));
        assert_eq!(amount("$1,234.50"), Some(Decimal::new(123450, 2)));
        assert_eq!(amount("84"), Some(Decimal::new(84, 0)));
        assert_eq!(amount("84,5"), Some(Decimal::new(845, 1)));
        assert_eq!(amount("1,234"), Some(Decimal::new(1234, 0)));
        assert_eq!(amount("n/a"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(status("Cancelled by guest", "Status"), BookingStatus::Cancelled);
        assert_eq!(status("yes", "Cancelled"), BookingStatus::Cancelled);
        assert_eq!(status("no", "Cancelled"), BookingStatus::Confirmed);
        assert_eq!(status("No Show", "Status"), BookingStatus::NoShow);
        assert_eq!(status("not_confirmed", "Status"), BookingStatus::Tentative);
        assert_eq!(status("", "Status"), BookingStatus::Confirmed);
        assert_eq!(status("weird", "Status"), BookingStatus::Unknown);
    }
}
