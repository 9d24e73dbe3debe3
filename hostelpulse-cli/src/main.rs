//! `hostelpulse`: the command-line tool.
//!
//! - `hostelpulse demo` — starts the bundled Beds24 emulator on loopback, syncs it into a fresh
//!   SQLite file, changes bookings upstream, lets the webhooks arrive, syncs again and shows exactly
//!   those changes. No account, no network.
//! - `hostelpulse capabilities [--json]` — the capability matrix of the compiled-in connectors.
//! - `hostelpulse ical parse`, `hostelpulse email parse`, `hostelpulse csv import` — one source's
//!   input read and shown, as a table or JSON.

mod csv;
mod demo;
mod email;
mod ical;
mod mapping;
mod ops;
mod serve;
mod views;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hostelpulse",
    version,
    about = "Hostel bookings, beds and housekeeping from the systems owners already use"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo against the bundled emulators (no account, no network).
    Demo {
        /// Where to keep the SQLite state (a fresh temporary file by default).
        #[arg(long)]
        db: Option<std::path::PathBuf>,
        /// Print the sync reports as JSON.
        #[arg(long)]
        json: bool,
    },
    /// iCal feeds.
    Ical {
        #[command(subcommand)]
        command: ical::IcalCommand,
    },
    /// Booking e-mails.
    Email {
        #[command(subcommand)]
        command: email::EmailCommand,
    },
    /// CSV import.
    Csv {
        #[command(subcommand)]
        command: csv::CsvCommand,
    },
    /// Sync one or all accounts of a configuration file into the SQLite state.
    Sync {
        /// The configuration file (TOML, or JSON by extension).
        #[arg(long)]
        config: PathBuf,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// Only what changed since the last run, where the source can tell (else a full read).
        #[arg(long)]
        incremental: bool,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// The audit records as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The Today board: arrivals, departures, in house, turnovers, free beds.
    Today {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The date (property-local; today by default).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The owner view from the audit log: last success, lag, errors per account.
    Status {
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turnover / room-ready tasks for the coming days.
    Tasks {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// First check-out day (today by default).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// How many days.
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Room mapping between the sources' rooms and beds and the host's.
    Mapping {
        #[command(subcommand)]
        command: MappingCommand,
    },
    /// Webhooks: receive and verify them for the configured accounts.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Print the capability matrix of the compiled-in connectors.
    Capabilities {
        /// As JSON instead of Markdown tables.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MappingCommand {
    /// Check a mapping file against the rooms the sources reported at the last sync.
    Check {
        /// The mapping: `[[room]]` tables with `id`, `name` and `sources = ["connector:account:id", …]`.
        mapping: PathBuf,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Serve `/hooks/<account>[/<secret>]`, verify deliveries and sync what they announce.
    Serve {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// One JSON object per line (listening, each delivery refused or ignored, each sync run).
        #[arg(long)]
        json: bool,
        /// Seconds before a failed delivery is first retried (doubling after each failure, up
        /// to 30 minutes).
        #[arg(long, default_value_t = 10.0, value_parser = retry_seconds)]
        retry_first: f64,
    },
}

fn retry_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.01..=1800.0).contains(&v) => Ok(v),
        Ok(_) => Err("between 0.01 and 1800 seconds".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { db, json } => demo::run(db, json).await,
        Command::Ical { command } => ical::run(command).await,
        Command::Email { command } => email::run(command).await,
        Command::Csv { command } => csv::run(command).await,
        Command::Sync { config, account, incremental, db, json } => {
            ops::sync(config, db, account, incremental, json).await
        }
        Command::Today { config, date, db, json } => ops::today(config, db, date, json).await,
        Command::Status { db, json } => ops::status(db, json).await,
        Command::Tasks { config, from, days, db, json } => ops::tasks(config, db, from, days, json).await,
        Command::Mapping { command: MappingCommand::Check { mapping, db, json } } => {
            mapping::check(mapping, db, json).await
        }
        Command::Webhook { command: WebhookCommand::Serve { config, db, listen, json, retry_first } } => {
            serve::serve(config, db, listen, json, retry_first).await
        }
        Command::Capabilities { json } => {
            let m = hostelpulse::capability_matrix();
            if json {
                serde_json::to_string_pretty(&m).map(|s| println!("{s}")).map_err(Into::into)
            } else {
                println!("{}", m.to_markdown());
                Ok(())
            }
        }
    };
    if let Err(e) = result {
        eprintln!("error: {}", views::advice(e.as_ref()));
        std::process::exit(1);
    }
}
