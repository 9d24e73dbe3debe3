//! `sync`, `today`, `status` and `tasks`: the day-to-day commands over a configuration file and
//! the SQLite state.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use hostelpulse::board::Board;
use hostelpulse::config::{Config, EnvSecrets, RetentionConfig};
use hostelpulse::core::Operation;
use hostelpulse::model::Housekeeping;
use hostelpulse::runtime::lease;
use hostelpulse::store::{Pruned, Retention, SqliteStore};
use hostelpulse::sync::{
    AccountStatus, AuditLog, AuditRecord, Change, CollectingSink, Plan, RoomRefresh, Scope, Sink, SyncEngine, Trigger,
};
use hostelpulse::tasks::{TurnoverPlanner, TurnoverTask};
use hostelpulse::{Account, Registry};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::views::{self, BoxError};

/// Where state lives unless `--db` says otherwise.
pub const DEFAULT_DB: &str = "hostelpulse.sqlite";

pub fn scope(a: &Account) -> Scope {
    Scope::new(a.connector.kind(), a.connector.account().clone())
}

/// Syncs the accounts (all, or `only`), keeping bookings and rooms in the store: up to
/// [`SYNC_CONCURRENCY`] accounts at once, each under its lease in the store, so a `sync` beside
/// `hostelpulse run` (or another `sync`) waits for an account rather than doubling its requests.
/// A progress bar shows on a terminal; piped output stays quiet.
pub async fn sync_accounts(
    registry: &Registry,
    store: &Arc<SqliteStore>,
    only: Option<&str>,
    plan: &Plan,
    trigger: Trigger,
    seen: Option<&CollectingSink>,
) -> Result<Vec<(String, AuditRecord)>, BoxError> {
    sync_accounts_with_events(registry, store, only, plan, trigger, seen, None).await
}

/// [`sync_accounts`], sending stay events (derived from the stored booking before each change)
/// and room state changes to `events` before the changes are stored.
pub async fn sync_accounts_with_events(
    registry: &Registry,
    store: &Arc<SqliteStore>,
    only: Option<&str>,
    plan: &Plan,
    trigger: Trigger,
    seen: Option<&CollectingSink>,
    events: Option<(Arc<dyn hostelpulse::sync::StayEventSink>, Arc<dyn hostelpulse::sync::RoomStateSink>)>,
) -> Result<Vec<(String, AuditRecord)>, BoxError> {
    use futures_util::{StreamExt, TryStreamExt};
    let sink: Arc<dyn Sink> = match events {
        Some((stays, rooms)) => {
            Arc::new(hostelpulse::sync::EventingSink::new(store.clone(), store.clone(), stays).with_room_states(rooms))
        }
        None => store.clone(),
    };
    let sink = sink.as_ref();
    let accounts: Vec<&Account> = registry.accounts().iter().filter(|a| only.is_none_or(|o| a.id == o)).collect();
    if accounts.is_empty() {
        return Err(format!("no account `{}` in the configuration", only.unwrap_or_default()).into());
    }
    let bar = ProgressBar::with_draw_target(
        Some(accounts.len() as u64),
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let engine = SyncEngine::new(store.clone());
    let holder = format!("hostelpulse-sync:{}", std::process::id());
    let jobs = accounts.iter().enumerate().map(|(i, a)| {
        let (engine, holder, bar) = (&engine, &holder, &bar);
        async move {
            let caps = a.connector.capabilities();
            let held = lease::acquire(store.clone(), &scope(a), holder, LEASE_TTL, LEASE_WAIT)
                .await
                .map_err(|e| format!("{}: {e}", a.id))?;
            bar.set_message(format!("syncing {}", a.id));
            // Rooms first: the bookings run then reports what the room mapping lacks against
            // the rooms as they are now. A failed read costs the sync nothing.
            if caps.supports(Operation::ReadRooms)
                && let Ok(props) = a.connector.rooms().await
            {
                store.save_properties(&scope(a), &props).await?;
            }
            // Sources that cannot read by modification time get a full read.
            let plan = match plan {
                Plan::Incremental if !caps.supports(Operation::ReadBookingsModified) => Plan::Full,
                p => p.clone(),
            };
            let run = engine.run(a.connector.as_ref(), plan, trigger, &Recording::new(sink, seen)).await;
            // Housekeeping after the bookings, and only when they got through: on a source that
            // counts credits the bookings come first, and a deferred run leaves none to spend.
            // Diffed against the kept copy like bookings: counted in its own audit record and
            // handed to the event file before it is stored.
            if run.outcome.is_success() && caps.supports(Operation::ReadHousekeeping) {
                let rooms = engine.run(a.connector.as_ref(), Plan::Housekeeping, trigger, sink).await;
                if !rooms.outcome.is_success() {
                    tracing::warn!(account = %a.id, outcome = %rooms.outcome, "housekeeping not refreshed");
                }
            }
            held.release(lease::quiet_after(&caps.sync.rate_limit)).await?;
            bar.inc(1);
            Ok::<_, BoxError>((i, (a.id.clone(), run)))
        }
    });
    let mut runs: Vec<_> = futures_util::stream::iter(jobs).buffer_unordered(SYNC_CONCURRENCY).try_collect().await?;
    bar.finish_and_clear();
    runs.sort_by_key(|(i, _)| *i);
    Ok(runs.into_iter().map(|(_, r)| r).collect())
}

/// Accounts `sync` runs at once.
pub const SYNC_CONCURRENCY: usize = 8;
/// An account's lease while `sync` works it (renewed while it runs).
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// How long `sync` waits for an account another process is syncing.
pub const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Writes changes to the store and, when asked, shows them to a collector too.
pub struct Recording<'a> {
    store: &'a dyn Sink,
    seen: Option<&'a CollectingSink>,
}

impl<'a> Recording<'a> {
    pub fn new(store: &'a dyn Sink, seen: Option<&'a CollectingSink>) -> Self {
        Self { store, seen }
    }
}

/// What the long-running commands (`run`, `webhook serve`) need of their store: SQLite or
/// PostgreSQL.
pub trait StateStore:
    hostelpulse::sync::JobStore
    + Sink
    + hostelpulse::store::BookingStore
    + hostelpulse::core::http::TokenStore
    + hostelpulse::sync::MappingStore
    + hostelpulse::tasks::TaskStore
    + hostelpulse::sync::PreviousBookings
    + hostelpulse_server::ConsoleStore
{
}
impl<T> StateStore for T where
    T: hostelpulse::sync::JobStore
        + Sink
        + hostelpulse::store::BookingStore
        + hostelpulse::core::http::TokenStore
        + hostelpulse::sync::MappingStore
        + hostelpulse::tasks::TaskStore
        + hostelpulse::sync::PreviousBookings
        + hostelpulse_server::ConsoleStore
{
}

/// The environment variable `run` reads a PostgreSQL URL from (it holds a password: not a
/// command-line argument, which other users can see in the process list).
pub const STORE_URL_ENV: &str = "HOSTELPULSE_STORE_URL";

/// The store at `url` (`postgres://…`), or the SQLite file `db`.
pub async fn open_state(url: Option<&str>, db: &Path) -> Result<Arc<dyn StateStore>, BoxError> {
    match url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(hostelpulse::store::PgStore::open(url).await?))
        }
        Some(_) => Err(format!("{STORE_URL_ENV}: only postgres:// URLs are supported (SQLite: use --db)").into()),
        None => Ok(open(db).await?),
    }
}

#[async_trait::async_trait]
impl Sink for Recording<'_> {
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        self.store.apply(changes).await?;
        if let Some(s) = self.seen {
            s.apply(changes).await?;
        }
        Ok(())
    }

    async fn apply_rooms(&self, scope: &Scope, rooms: &RoomRefresh) -> Result<(), BoxError> {
        self.store.apply_rooms(scope, rooms).await
    }

    async fn kept_housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, BoxError> {
        self.store.kept_housekeeping(scope).await
    }
}

pub async fn open(db: &Path) -> Result<Arc<SqliteStore>, BoxError> {
    Ok(Arc::new(SqliteStore::open(db).await?))
}

/// The state of commands that only read: never created, and refused when it is not ours.
pub async fn open_existing(db: &Path) -> Result<Arc<SqliteStore>, BoxError> {
    Ok(Arc::new(SqliteStore::open_existing(db).await?))
}

/// The configuration and its accounts, with the accounts the owner console stored applied over
/// the file; refresh tokens are kept in the state file.
pub async fn registry(config: &Path, store: &Arc<SqliteStore>) -> Result<(Config, Registry), BoxError> {
    use hostelpulse::sync::AccountConfigStore;
    let file = Config::load(config)?;
    let stored = store.stored_accounts().await?;
    if stored.is_empty() {
        let reg = Registry::build_with_tokens(&file, &EnvSecrets, store.clone())?;
        return Ok((file, reg));
    }
    let mut fleet = hostelpulse::config::Fleet::new(vec![file])?;
    let secrets = hostelpulse::stored::StoredSecrets::load(store.as_ref(), &stored, EnvSecrets).await?;
    let own = stored.iter().filter(|s| fleet.properties.iter().any(|p| p.property.name == s.property)).cloned();
    let own: Vec<_> = own.collect();
    for s in hostelpulse::stored::apply_buildable(&mut fleet, &own, &secrets, store.clone()) {
        tracing::warn!(account = %s.account, reason = %s.reason, "a stored account configuration is skipped");
    }
    let cfg = fleet.properties.into_iter().next().ok_or("no property")?;
    let reg = Registry::build_with_tokens(&cfg, &secrets, store.clone())?;
    Ok((cfg, reg))
}

pub async fn sync(
    config: PathBuf,
    db: PathBuf,
    account: Option<String>,
    incremental: bool,
    tasks_to: Option<PathBuf>,
    events_to: Option<PathBuf>,
    json: bool,
) -> Result<(), BoxError> {
    let store = open(&db).await?;
    let (cfg, reg) = registry(&config, &store).await?;
    let plan = if incremental { Plan::Incremental } else { Plan::Full };
    let events = events_to.map(|p| {
        let file = Arc::new(crate::tasks::JsonLinesStayEvents::new(p));
        (file.clone() as Arc<dyn hostelpulse::sync::StayEventSink>, file as Arc<dyn hostelpulse::sync::RoomStateSink>)
    });
    let runs =
        sync_accounts_with_events(&reg, &store, account.as_deref(), &plan, Trigger::Manual, None, events).await?;
    // Tasks are kept after every sync, whatever it synced: a failed account leaves its stays as
    // they were, and the others' check-outs still make their tasks.
    let recorded = crate::tasks::keep(&cfg, store.as_ref()).await?;
    let delivered = crate::tasks::deliver(store.as_ref(), tasks_to.as_ref()).await?;
    tracing::info!(recorded = recorded.len(), delivered, "turnover tasks kept");
    // The retention the configuration sets is applied on every sync: nobody has to remember it.
    if let Some(p) = apply_retention(&store, cfg.retention).await? {
        tracing::info!(audit_runs = p.audit_runs, contacts_cleared = p.contacts_cleared, "retention applied");
    }
    if json {
        let v: serde_json::Map<String, serde_json::Value> =
            runs.iter().map(|(id, r)| (id.clone(), serde_json::to_value(r).unwrap_or_default())).collect();
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!("{}", views::reports(&runs));
        if let Some(f) = views::failures(&runs) {
            outln!("\nNot synced, with the reason:\n{f}");
        }
        for (id, r) in &runs {
            if let Some(line) = r.mapping.as_ref().and_then(|m| m.summary()) {
                outln!("{id}: {line}");
            }
        }
    }
    sync_exit(&runs)
}

/// Applies a retention setting; `None` when it sets nothing.
pub async fn apply_retention(store: &SqliteStore, r: RetentionConfig) -> Result<Option<Pruned>, BoxError> {
    let mut policy = Retention::default();
    if let Some(d) = r.audit_days {
        policy = policy.audit_days(d);
    }
    if let Some(d) = r.contact_days {
        policy = policy.contact_days(d);
    }
    if policy == Retention::default() {
        return Ok(None);
    }
    Ok(Some(store.prune(Utc::now().date_naive(), &policy).await?))
}

/// `hostelpulse prune`: the configuration's `[retention]`, or the days given, applied now.
pub async fn prune(
    config: Option<PathBuf>,
    db: PathBuf,
    audit_days: Option<u32>,
    contact_days: Option<u32>,
    json: bool,
) -> Result<(), BoxError> {
    let mut r = match &config {
        Some(c) => Config::load(c)?.retention,
        None => RetentionConfig::default(),
    };
    r.audit_days = audit_days.or(r.audit_days);
    r.contact_days = contact_days.or(r.contact_days);
    let store = open_existing(&db).await?;
    let Some(p) = apply_retention(&store, r).await? else {
        return Err(
            "nothing to prune: give --audit-days and/or --contact-days, or a configuration with [retention]".into()
        );
    };
    if json {
        outln!("{}", serde_json::json!({ "audit_runs": p.audit_runs, "contacts_cleared": p.contacts_cleared }));
    } else {
        outln!(
            "{} audit record(s) deleted, contact details cleared from {} departed stay(s)",
            p.audit_runs,
            p.contacts_cleared
        );
    }
    Ok(())
}

/// A sync's verdict: authentication failures first (the owner must act), then anything short of
/// complete (failed, deferred or partial runs), each with its own exit code.
pub fn sync_exit(runs: &[(String, AuditRecord)]) -> Result<(), BoxError> {
    use hostelpulse::sync::Outcome;
    let reauth: Vec<&str> = runs
        .iter()
        .filter(|(_, r)| {
            matches!(r.outcome, Outcome::Failed { kind: Some(hostelpulse::ErrorKind::Reauthenticate), .. })
        })
        .map(|(id, _)| id.as_str())
        .collect();
    if !reauth.is_empty() {
        let message = format!("credentials rejected for {}: reconnect the account(s)", reauth.join(", "));
        return Err(Box::new(crate::ExitWith { code: crate::exit::AUTHENTICATION, message }));
    }
    let short: Vec<&str> = runs.iter().filter(|(_, r)| r.outcome != Outcome::Ok).map(|(id, _)| id.as_str()).collect();
    if !short.is_empty() {
        let message = format!(
            "not everything synced ({}): see the report above (`hostelpulse status` for details)",
            short.join(", ")
        );
        return Err(Box::new(crate::ExitWith { code: crate::exit::PARTIAL, message }));
    }
    Ok(())
}

/// The scopes whose bookings belong to the configured property.
pub fn property_scopes(cfg: &Config) -> Vec<Scope> {
    hostelpulse::property::property_scopes(cfg)
}

/// The property's bookings (its accounts only) overlapping `from..until`.
pub async fn own_bookings(
    cfg: &Config,
    store: &SqliteStore,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<hostelpulse::model::Booking>, BoxError> {
    Ok(hostelpulse::property::own_bookings(cfg, store, from, until).await?)
}

/// The property's Today board (see [`hostelpulse::property::board_for`]).
pub async fn board_for(cfg: &Config, store: &SqliteStore, date: NaiveDate) -> Result<Board, BoxError> {
    Ok(hostelpulse::property::board_for(cfg, store, date, Utc::now()).await?)
}

/// One property of a configuration: the only one, or the one named (a fleet file or directory
/// holds several).
pub fn load_property(config: &Path, name: Option<&str>) -> Result<Config, BoxError> {
    let fleet = hostelpulse::config::Fleet::load(config)?;
    let names = || fleet.properties.iter().map(|p| format!("`{}`", p.property.name)).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => fleet
            .properties
            .iter()
            .find(|p| p.property.name == n)
            .cloned()
            .ok_or_else(|| format!("no property `{n}` in {}: it has {}", config.display(), names()).into()),
        None if fleet.properties.len() == 1 => Ok(fleet.properties.into_iter().next().ok_or("no property")?),
        None => {
            Err(format!("{} holds several properties: choose one with --property ({})", config.display(), names())
                .into())
        }
    }
}

pub async fn today(
    config: PathBuf,
    property: Option<String>,
    db: PathBuf,
    date: Option<NaiveDate>,
    json: bool,
) -> Result<(), BoxError> {
    let cfg = load_property(&config, property.as_deref())?;
    let store = open_existing(&db).await?;
    let date = date.unwrap_or_else(|| Utc::now().with_timezone(&cfg.property.timezone).date_naive());
    let board = board_for(&cfg, &store, date).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&board)?);
    } else {
        out!("{}", views::board(&board, cfg.property.timezone));
    }
    Ok(())
}

pub async fn status(db: PathBuf, json: bool) -> Result<(), BoxError> {
    let store = open_existing(&db).await?;
    let mut list: Vec<(String, AccountStatus)> = Vec::new();
    for s in store.scopes().await? {
        let recent = store.recent(&s, 20).await?;
        let status = AccountStatus::from_records(s.connector.clone(), s.account.clone(), &recent, Utc::now());
        list.push((format!("{}/{}", s.connector, s.account), status));
    }
    if json {
        let v: serde_json::Map<String, serde_json::Value> =
            list.iter().map(|(id, s)| (id.clone(), serde_json::to_value(s).unwrap_or_default())).collect();
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else if list.is_empty() {
        outln!("No sync has run against {} yet: run `hostelpulse sync --config <file>` first.", db.display());
    } else {
        outln!("{}", views::statuses(&list));
    }
    Ok(())
}

pub async fn turnover_tasks(
    cfg: &Config,
    store: &SqliteStore,
    from: NaiveDate,
    days: i64,
) -> Result<Vec<TurnoverTask>, BoxError> {
    let until = from + Duration::days(days.max(1));
    // Next arrivals up to two weeks later decide the deadlines.
    let bookings = store.bookings_between(from - Duration::days(1), until + Duration::days(14)).await?;
    let mine = property_scopes(cfg);
    let bookings: Vec<_> = bookings
        .into_iter()
        .filter(|b| mine.contains(&Scope::new(b.key.connector.clone(), b.key.account.clone())))
        .collect();
    let merged: Vec<_> = hostelpulse::board::merge_sources(&bookings).into_iter().map(|(b, _)| b).collect();
    let mapping = hostelpulse::sync::MappingStore::room_mapping(store).await?;
    let planner = TurnoverPlanner::new(cfg.property.timezone, cfg.property.check_in).with_mapping(mapping);
    Ok(planner.plan(&merged).into_values().filter(|t| t.checkout >= from && t.checkout < until).collect())
}

pub async fn tasks(
    config: PathBuf,
    property: Option<String>,
    db: PathBuf,
    from: Option<NaiveDate>,
    days: i64,
    json: bool,
) -> Result<(), BoxError> {
    let cfg = load_property(&config, property.as_deref())?;
    let store = open_existing(&db).await?;
    let from = from.unwrap_or_else(|| Utc::now().with_timezone(&cfg.property.timezone).date_naive());
    let mut list = turnover_tasks(&cfg, &store, from, days).await?;
    list.sort_by(|a, b| (a.due_by, &a.id).cmp(&(b.due_by, &b.id)));
    if json {
        outln!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        outln!("{}", views::tasks(&list, cfg.property.timezone));
    }
    Ok(())
}
