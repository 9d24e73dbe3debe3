//! # hostelpulse-csv
//!
//! The fallback when an API cannot give history (Sirvoy resends nothing from before its webhook),
//! when a source has no API (FrontDesk Master), or when an owner has only a spreadsheet: import
//! bookings from a CSV export.
//!
//! - **Presets** for the Beds24 bookings export, the Cloudbeds reservations export, the Sirvoy export
//!   and the FrontDesk Master export, and a generic preset with an explicit column mapping. Headers
//!   are matched case-insensitively against each field's known spellings; a missing required column
//!   is a clear error listing what was found. The presets put bookings under the source's own
//!   connector kind, so an imported history merges with what the connector later syncs.
//! - **Detection** of the delimiter (`,` `;` tab `|`) and the date format (ISO, day-first,
//!   month-first, dotted, `12 Mar 2026`), from the file itself.
//! - **Streaming**: rows are read and synced in chunks, so a 100 MB file stays in bounded memory.
//! - **Dry run**: rows parsed, rows with errors (line, column, reason), and what would be inserted,
//!   updated or left unchanged — nothing saved. Otherwise rows go through the sync engine with
//!   trigger CSV; re-importing the same file changes nothing.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod detect;
mod import;
mod preset;

pub use detect::{DateFormat, detect_date_format, detect_delimiter};
pub use import::{CsvError, CsvImport, ImportReport, RowError, import};
pub use preset::{Column, Mapping, Preset};
