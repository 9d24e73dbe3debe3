#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod detect;
mod import;
mod preset;

pub use detect::{DateFormat, detect_date_format, detect_delimiter};
pub use import::{CsvError, CsvImport, ImportReport, RowError, import};
pub use preset::{Column, Mapping, Preset};
