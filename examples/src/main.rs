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
    /// Print the capability matrix of the compiled-in connectors.
    Capabilities {
        /// As JSON instead of Markdown tables.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { db, json } => demo::run(db, json).await,
        Command::Ical { command } => ical::run(command).await,
        Command::Email { command } => email::run(command).await,
        Command::Csv { command } => csv::run(command).await,
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
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
