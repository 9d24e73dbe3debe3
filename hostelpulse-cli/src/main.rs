//! `hostelpulse`: the command-line tool.
//!
//! - `hostelpulse demo` — starts the bundled Beds24 emulator on loopback, syncs it into a fresh
//!   SQLite file, changes bookings upstream, lets the webhooks arrive, syncs again and shows exactly
//!   those changes. No account, no network.
//! - `hostelpulse capabilities [--json]` — the capability matrix of the compiled-in connectors.
//! - `hostelpulse ical parse`, `hostelpulse email parse`, `hostelpulse csv import` — one source's
//!   input read and shown, as a table or JSON.

/// Writes to standard output. A closed pipe (`hostelpulse today | head`) is no error: the reader
/// has what it wanted, so the tool ends quietly with exit code 0.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            $crate::output_failed(e);
        }
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output_failed(e);
        }
    }};
}

mod accounts;
mod connect;
mod csv;
mod demo;
mod email;
mod ical;
mod mapping;
mod ops;
mod run;
mod sandbox;
mod serve;
mod stay;
mod subscriptions;
mod tasks;
mod views;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

/// Exit codes, as `--help` lists them.
pub mod exit {
    /// Everything worked.
    pub const OK: i32 = 0;
    /// Any other error (a store, a file, the network).
    pub const ERROR: i32 = 1;
    /// The command line was wrong (clap's own code).
    pub const USAGE: i32 = 2;
    /// The configuration file or a setting is wrong.
    pub const CONFIGURATION: i32 = 3;
    /// A source refused the credentials: the account must be reconnected.
    pub const AUTHENTICATION: i32 = 4;
    /// A sync ran but not everything synced (partial, deferred or failed accounts; see the report).
    pub const PARTIAL: i32 = 5;
}

const EXIT_CODES: &str = "Exit codes: 0 success; 1 other error; 2 wrong command line; 3 configuration error; \
4 authentication failure (reconnect the account); 5 partial sync (some accounts or records did not sync: see the report).\n\
Logging: RUST_LOG (e.g. RUST_LOG=hostelpulse=debug) or -v / -vv, on standard error.";

#[derive(Parser)]
#[command(
    name = "hostelpulse",
    version,
    about = "Hostel bookings, beds and housekeeping from the systems owners already use",
    after_help = EXIT_CODES
)]
struct Cli {
    /// More log output on standard error (-v: info, -vv: debug, -vvv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Output could not be written: a closed pipe ends the tool quietly, anything else is an error.
pub fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(exit::OK);
    }
    eprintln!("error: cannot write the output: {e}");
    std::process::exit(exit::ERROR);
}

/// A tracing log on standard error: RUST_LOG when set, else warnings (more with -v).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// An error that carries its own exit code (a sync that ran but did not sync everything).
#[derive(Debug)]
pub struct ExitWith {
    /// The code.
    pub code: i32,
    /// What to say on standard error.
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// The exit code of an error, from its type and kind (never from its text).
fn exit_code(e: &(dyn std::error::Error + 'static)) -> i32 {
    use hostelpulse::ErrorKind;
    if let Some(x) = e.downcast_ref::<ExitWith>() {
        return x.code;
    }
    match e.downcast_ref::<hostelpulse::Error>().map(hostelpulse::Error::kind) {
        Some(ErrorKind::Configuration) => exit::CONFIGURATION,
        Some(ErrorKind::Reauthenticate) => exit::AUTHENTICATION,
        _ => exit::ERROR,
    }
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
        /// Then keep the owner console running on this loopback address (default
        /// 127.0.0.1:8788) over the demo's data, with the runtime keeping it fresh, until Ctrl-C.
        #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8788", value_name = "ADDR")]
        serve: Option<std::net::SocketAddr>,
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
        /// Append turnover task events (created, moved, withdrawn) to this file, one JSON object
        /// per line; without it they wait in the state.
        #[arg(long)]
        tasks_to: Option<PathBuf>,
        /// Append stay events (new booking, checked in, checked out, cancelled, restored, dates
        /// changed, room moved; each with the booking before and after) to this file, one JSON
        /// object per line.
        #[arg(long)]
        events_to: Option<PathBuf>,
        /// The audit records as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete old audit records and clear departed guests' contact details (the configuration's
    /// `[retention]`, or the days given; `sync` applies `[retention]` by itself).
    Prune {
        /// A configuration file whose `[retention]` to apply.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Keep audit records this many days (each account's newest run and success always stay).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        audit_days: Option<u32>,
        /// Keep guests' e-mail addresses and phone numbers this many days after departure.
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=36_500))]
        contact_days: Option<u32>,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The Today board: arrivals, departures, in house, turnovers, free beds.
    Today {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The property, when the configuration holds several.
        #[arg(long)]
        property: Option<String>,
        /// The date (property-local; today by default).
        #[arg(long, value_parser = calendar_date)]
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
        /// The property, when the configuration holds several.
        #[arg(long)]
        property: Option<String>,
        /// First check-out day (today by default).
        #[arg(long, value_parser = calendar_date)]
        from: Option<NaiveDate>,
        /// How many days (1 to 366).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=366))]
        days: i64,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// A guest's stay for triage: by booking id, or by room and night.
    Stay {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The account.
        #[arg(long)]
        account: String,
        /// The booking's id at the source.
        #[arg(long, conflicts_with_all = ["room", "night"])]
        booking: Option<String>,
        /// The room or bed's id at the source.
        #[arg(long, requires = "night")]
        room: Option<String>,
        /// The night (property-local date).
        #[arg(long, value_parser = calendar_date, requires = "room")]
        night: Option<NaiveDate>,
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
    /// Accounts: find the properties the configured credentials can see.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Connect an account that authorizes by OAuth (prints the page to open, receives the
    /// redirect on loopback, keeps the tokens in the state).
    Connect {
        #[command(subcommand)]
        command: ConnectCommand,
    },
    /// The owner console served by `run`: a new bearer token per host or person (printed once;
    /// only its SHA-256 is kept in the state), or revoke or list them.
    ConsoleToken {
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// A PostgreSQL store instead (the URL in HOSTELPULSE_STORE_URL).
        #[arg(long)]
        store_url: bool,
        /// Whose token: one per host or person (a new one under the same name replaces it).
        #[arg(long, default_value = "owner")]
        name: String,
        /// Revoke the named token instead of making one.
        #[arg(long, conflicts_with = "list")]
        revoke: bool,
        /// List the tokens' names and when each was made (never the tokens).
        #[arg(long)]
        list: bool,
    },
    /// Webhooks: receive and verify them for the configured accounts.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Keep every property of a configuration fresh: scheduled full syncs and polls, webhooks,
    /// retries and alerts, with `/metrics`, `/healthz` and `/readyz` on the webhook port. Stops
    /// gracefully on SIGTERM or Ctrl-C.
    Run {
        /// The configuration: one property file, a file of `[[property]]` tables, or a directory
        /// of property files.
        #[arg(long)]
        config: PathBuf,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// A PostgreSQL store shared with other `run` workers instead of the SQLite file
        /// (`postgres://user:password@host/db`). Prefer the environment variable: it holds a
        /// password.
        #[arg(long = "store", env = "HOSTELPULSE_STORE_URL", hide_env_values = true, value_name = "URL")]
        store_url: Option<String>,
        /// Seconds without a heartbeat after which the other workers take this one's accounts.
        #[arg(long, default_value_t = 30)]
        worker_ttl: u64,
        /// Address for webhooks, metrics, health checks and the owner console (the dashboard at
        /// `/`, the board at `/board`, the mapping page at `/mapping`, the API under `/api/v1/`).
        /// The console needs a token in HOSTELPULSE_CONSOLE_TOKEN on a non-loopback address.
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// Serve no owner console.
        #[arg(long)]
        no_console: bool,
        /// Also POST alerts here, signed with HMAC-SHA256 (secret in HOSTELPULSE_ALERT_SECRET).
        #[arg(long)]
        alert_url: Option<String>,
        /// Accounts synced at once.
        #[arg(long, default_value_t = 256)]
        max_concurrent: usize,
        /// Seconds before a failed run is first retried (doubling, jittered, up to an hour).
        #[arg(long, default_value_t = 60.0, value_parser = retry_seconds)]
        retry_first: f64,
        /// Accounts overdue at start (all of them, the first time) are started over this many
        /// seconds rather than at once.
        #[arg(long, default_value_t = 30)]
        catch_up_secs: u64,
        /// Keep each property's turnover tasks and append their events to this file, one JSON
        /// object per line (reconciled after each burst of runs that changed something, and
        /// hourly).
        #[arg(long)]
        tasks_to: Option<PathBuf>,
        /// Append stay events (checked in, checked out, cancelled, …, with the booking before
        /// and after) to this file, one JSON object per line.
        #[arg(long)]
        events_to: Option<PathBuf>,
        /// One JSON object per line (listening, each run, alert and webhook).
        #[arg(long)]
        json: bool,
    },
    /// Start the bundled emulators for N properties on loopback, write one configuration for
    /// them, print one JSON line when ready, and run until stopped.
    Sandbox {
        /// Properties per PMS.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
        properties: u16,
        /// Where to write the configuration.
        #[arg(long)]
        write_config: PathBuf,
        /// A state file to start afresh for it (removed if it exists).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Where webhooks go: the address `hostelpulse run` listens on (http://127.0.0.1:8787).
        #[arg(long)]
        webhooks_to: Option<String>,
        /// Seconds between polls for every account (default: each connector's own).
        #[arg(long)]
        poll_every: Option<u64>,
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
        /// Store the file's pairs as confirmed (the sync reports and the board use them).
        #[arg(long)]
        save: bool,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Suggest a host room for every source room without a confirmed one (same name, else the
    /// same unambiguous number) and store the suggestions, unconfirmed.
    Suggest {
        /// The host's rooms: `[[room]]` tables with `id` and `name`.
        rooms: PathBuf,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Confirm stored suggestions: the ones named (`connector:account:id`), or all with `--all`.
    Confirm {
        /// Source keys.
        keys: Vec<String>,
        /// Every stored suggestion.
        #[arg(long, conflicts_with = "keys")]
        all: bool,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
    },
    /// Map a source room or bed to a host room (confirmed), or change its host room.
    Set {
        /// The source key (`connector:account:id`).
        key: String,
        /// The host's room id.
        #[arg(long)]
        host_id: String,
        /// The host's room name.
        #[arg(long)]
        host_name: String,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
    },
    /// Remove pairs.
    Remove {
        /// Source keys.
        #[arg(required = true)]
        keys: Vec<String>,
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
    },
    /// The stored mapping, and what needs review against the rooms of the last sync.
    Show {
        /// The SQLite state.
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConnectCommand {
    /// Cloudbeds: the marketplace app's authorization-code flow for an account with `oauth`.
    Cloudbeds {
        /// The configuration.
        #[arg(long)]
        config: PathBuf,
        /// The account to connect.
        #[arg(long)]
        account: String,
        /// The SQLite state (or `HOSTELPULSE_STORE_URL`).
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// Seconds to wait for the owner to allow the app.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Every property each Beds24 or Cloudbeds credential sees (an account with several
    /// properties, a group or association key), and the configuration to add for the new ones.
    Discover {
        /// The configuration: a property file, a file of `[[property]]` tables or a directory.
        #[arg(long)]
        config: PathBuf,
        /// The SQLite state (minted tokens are kept there).
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// The properties found, as JSON.
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
    /// Point the sources' webhook subscriptions at `webhook.public_url` now (as `run` and
    /// `webhook serve` do on start): subscribe what is missing, remove our stale ones (an old
    /// URL secret), leave other integrations' alone. Sources whose webhooks are set up by hand
    /// are skipped.
    Subscriptions {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// The SQLite state (tokens of OAuth accounts).
        #[arg(long, default_value = ops::DEFAULT_DB)]
        db: PathBuf,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
        /// One JSON object per account.
        #[arg(long)]
        json: bool,
    },
    /// Print a fresh URL secret (32 random bytes, hex) for a rotation: make it `url_secret`, the
    /// old one `previous_url_secret`, and restart `run` (or run `webhook subscriptions`).
    NewSecret,
}

/// A date in the years a hostel's calendar can hold (1900–9999): date arithmetic near chrono's
/// limits would otherwise fail deep inside a command.
fn calendar_date(s: &str) -> Result<NaiveDate, String> {
    let d: NaiveDate = s.trim().parse().map_err(|e| format!("`{s}` is not a date (YYYY-MM-DD): {e}"))?;
    use chrono::Datelike;
    if (1900..=9999).contains(&d.year()) { Ok(d) } else { Err(format!("{d} is outside 1900-01-01 … 9999-12-31")) }
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
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Demo { db, json, serve } => demo::run(db, json, serve).await,
        Command::Ical { command } => ical::run(command).await,
        Command::Email { command } => email::run(command).await,
        Command::Csv { command } => csv::run(command).await,
        Command::Sync { config, account, incremental, db, tasks_to, events_to, json } => {
            ops::sync(config, db, account, incremental, tasks_to, events_to, json).await
        }
        Command::Prune { config, audit_days, contact_days, db, json } => {
            ops::prune(config, db, audit_days, contact_days, json).await
        }
        Command::Today { config, property, date, db, json } => ops::today(config, property, db, date, json).await,
        Command::Status { db, json } => ops::status(db, json).await,
        Command::Tasks { config, property, from, days, db, json } => {
            ops::tasks(config, property, db, from, days, json).await
        }
        Command::Stay { config, account, booking, room, night, db, json } => {
            stay::run(stay::Options { config, account, booking, room, night, db, json }).await
        }
        Command::Mapping { command } => match command {
            MappingCommand::Check { mapping, save, db, json } => mapping::check(mapping, db, save, json).await,
            MappingCommand::Suggest { rooms, db, json } => mapping::suggest(rooms, db, json).await,
            MappingCommand::Confirm { keys, all, db } => mapping::confirm(keys, all, db).await,
            MappingCommand::Set { key, host_id, host_name, db } => mapping::set(key, host_id, host_name, db).await,
            MappingCommand::Remove { keys, db } => mapping::remove(keys, db).await,
            MappingCommand::Show { db, json } => mapping::show(db, json).await,
        },
        Command::Webhook { command: WebhookCommand::Serve { config, db, listen, json, retry_first } } => {
            serve::serve(config, db, listen, json, retry_first).await
        }
        Command::Webhook { command: WebhookCommand::Subscriptions { config, db, account, json } } => {
            subscriptions::command(config, db, account, json).await
        }
        Command::Webhook { command: WebhookCommand::NewSecret } => {
            use hostelpulse::secrecy::ExposeSecret;
            outln!("{}", hostelpulse::cloudbeds::generate_secret().expose_secret());
            Ok(())
        }
        Command::Run {
            config,
            db,
            store_url,
            worker_ttl,
            listen,
            no_console,
            alert_url,
            max_concurrent,
            retry_first,
            catch_up_secs,
            tasks_to,
            events_to,
            json,
        } => {
            run::run(run::Options {
                config,
                db,
                store_url,
                worker_ttl,
                listen,
                no_console,
                alert_url,
                json,
                max_concurrent,
                retry_first,
                catch_up_secs,
                tasks_to,
                events_to,
            })
            .await
        }
        Command::Sandbox { properties, write_config, db, webhooks_to, poll_every } => {
            sandbox::run(sandbox::Options {
                properties: usize::from(properties),
                write_config,
                db,
                webhooks_to,
                poll_every,
            })
            .await
        }
        Command::ConsoleToken { db, store_url, name, revoke, list } => {
            let what = if list {
                run::TokenAction::List
            } else if revoke {
                run::TokenAction::Revoke(name)
            } else {
                run::TokenAction::New(name)
            };
            run::console_token(&db, store_url, what).await
        }
        Command::Connect { command: ConnectCommand::Cloudbeds { config, account, db, timeout_secs, json } } => {
            connect::cloudbeds(connect::Options {
                config,
                account,
                db,
                timeout: std::time::Duration::from_secs(timeout_secs),
                json,
            })
            .await
        }
        Command::Accounts { command: AccountsCommand::Discover { config, db, json } } => {
            accounts::discover(config, db, json).await
        }
        Command::Capabilities { json } => {
            let m = hostelpulse::capability_matrix();
            if json {
                serde_json::to_string_pretty(&m).map(|s| outln!("{s}")).map_err(Into::into)
            } else {
                outln!("{}", m.to_markdown());
                Ok(())
            }
        }
    };
    if let Err(e) = result {
        eprintln!("error: {}", views::advice(e.as_ref()));
        std::process::exit(exit_code(e.as_ref()));
    }
}
