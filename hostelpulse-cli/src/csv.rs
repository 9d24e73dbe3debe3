//! `hostelpulse csv import <file> --preset NAME [--dry-run] [--json]`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use hostelpulse::csv::{CsvImport, Preset, import};
use hostelpulse::store::SqliteStore;
use hostelpulse::sync::SyncEngine;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Subcommand)]
pub enum CsvCommand {
    /// Import bookings from a CSV export (previewed with --dry-run).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// beds24, cloudbeds, sirvoy or fdm.
        #[arg(long)]
        preset: String,
        /// The account (property id at the source) the bookings belong to.
        #[arg(long, default_value = "default")]
        account: String,
        /// Currency when the file has none.
        #[arg(long)]
        currency: Option<String>,
        /// Show what would change; save nothing.
        #[arg(long)]
        dry_run: bool,
        /// The SQLite state file.
        #[arg(long, default_value = "hostelpulse.sqlite")]
        db: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: CsvCommand) -> Result<(), BoxError> {
    let CsvCommand::Import { file, preset, account, currency, dry_run, db, json } = cmd;
    let preset = Preset::by_name(&preset)
        .ok_or_else(|| format!("unknown preset `{preset}`: use beds24, cloudbeds, sirvoy or fdm"))?;
    let mut opts = CsvImport::new(preset, account);
    if let Some(c) = currency {
        opts = opts.currency(c);
    }
    // The rows go where `sync` puts bookings, so the board and tasks see them. A dry run writes
    // nothing, and does not create a state file that is not there yet.
    let store = if dry_run && !db.exists() {
        Arc::new(SqliteStore::open_in_memory().await?)
    } else {
        Arc::new(SqliteStore::open(&db).await?)
    };
    let engine = SyncEngine::new(store.clone());
    let report = import(&engine, &file, &opts, store.as_ref(), dry_run).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let verb = if dry_run { "would be" } else { "were" };
    outln!(
        "{} rows read ({} ok, {} with errors); delimiter `{}`, dates {}",
        report.rows,
        report.ok,
        report.error_count,
        report.delimiter,
        report.date_format.as_deref().unwrap_or("?")
    );
    if report.date_format_ambiguous {
        outln!("note: dates fit both day-first and month-first; day-first was used");
    }
    outln!(
        "{} new, {} changed, {} unchanged, {} cancelled, {} restored: {verb} saved",
        report.inserted,
        report.updated,
        report.unchanged,
        report.cancelled,
        report.restored
    );
    for e in &report.errors {
        outln!(
            "  line {}{}: {}",
            e.line,
            e.column.as_deref().map(|c| format!(", column {c}")).unwrap_or_default(),
            e.reason
        );
    }
    Ok(())
}
