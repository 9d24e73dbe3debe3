//! `hostelpulse run`: the runtime for every property of a configuration, with the webhook
//! routes, `/metrics`, `/healthz` and `/readyz` on one port, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hostelpulse::core::http::listener::listen;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use hostelpulse::config::{EnvSecrets, Fleet};
use hostelpulse::core::http::TokenStore;
use hostelpulse::fleet::FleetRegistry;
use hostelpulse::model::Property;
use hostelpulse::runtime::alerts::{AlertSink, FanOut, HttpAlerts, LogAlerts};
use hostelpulse::runtime::{RetryPolicy, RoomsSink, Runtime, RuntimeConfig, RuntimeEvent, RuntimeHandle};
use hostelpulse::stored::{StoredAccount, StoredSecrets};
use hostelpulse::sync::inbox::InboxBackoff;
use hostelpulse::sync::{JobStore, Scope, Sink};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::ops::{self, StateStore};
use crate::serve::{self, Log};
use crate::views::BoxError;

/// The environment variable holding the alert endpoint's signing secret.
pub const ALERT_SECRET_ENV: &str = "HOSTELPULSE_ALERT_SECRET";

/// What `hostelpulse run` was asked to do.
pub struct Options {
    pub config: PathBuf,
    pub db: PathBuf,
    /// A PostgreSQL URL: the store shared with the other workers (instead of `db`).
    pub store_url: Option<String>,
    /// Seconds a worker stays alive in the others' eyes without a heartbeat.
    pub worker_ttl: u64,
    pub listen: SocketAddr,
    /// Serve no owner console on the port.
    pub no_console: bool,
    pub alert_url: Option<String>,
    pub json: bool,
    pub max_concurrent: usize,
    /// Seconds before a failed run (or inbox entry) is first retried.
    pub retry_first: f64,
    /// Seconds over which overdue accounts are started.
    pub catch_up_secs: u64,
    /// Where turnover task events go (JSON lines).
    pub tasks_to: Option<PathBuf>,
    /// Where stay events go (JSON lines).
    pub events_to: Option<PathBuf>,
}

struct StoreRooms(Arc<dyn StateStore>);

#[async_trait::async_trait]
impl RoomsSink for StoreRooms {
    async fn save_rooms(&self, scope: &Scope, properties: &[Property]) -> Result<(), BoxError> {
        Ok(self.0.save_properties(scope, properties).await?)
    }
}

#[derive(Clone)]
struct Probe {
    store: Arc<dyn StateStore>,
    runtime: RuntimeHandle,
    metrics: PrometheusHandle,
}

/// How one serving of the configuration ended.
enum Ended {
    /// SIGTERM or Ctrl-C: the process exits.
    Stopped,
    /// Accounts changed through the console: serve the new configuration on the same port.
    Reload,
}

pub async fn run(o: Options) -> Result<(), BoxError> {
    let store = ops::open_state(o.store_url.as_deref(), &o.db).await?;
    let metrics = PrometheusBuilder::new().install_recorder().map_err(|e| format!("metrics: {e}"))?;
    let upkeep = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                metrics.run_upkeep();
            }
        })
    };
    // Bound once: a reload serves on the same socket, so nothing a source delivers is refused.
    // A deep accept queue: a vendor's webhook storm after an outage must not be dropped.
    let listener =
        listen(o.listen).and_then(|l| l.into_std()).map_err(|e| format!("cannot listen on {}: {e}", o.listen))?;
    let stop = stop_signal();
    let mut generation = 0u32;
    let result = loop {
        match serve(&o, &store, &metrics, listener.try_clone()?, generation, stop.clone()).await {
            Ok(Ended::Reload) => generation += 1,
            Ok(Ended::Stopped) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    upkeep.abort();
    result
}

/// The file's properties with the accounts the console stored applied over them, and the
/// secrets they refer to. An entry that no longer applies, or whose account cannot be built (a
/// secret gone from the environment), is skipped with a warning: the rest still run.
async fn effective_fleet(
    o: &Options,
    store: &Arc<dyn StateStore>,
) -> Result<(Fleet, Vec<StoredAccount>, StoredSecrets<EnvSecrets>), BoxError> {
    let mut fleet = Fleet::load(&o.config)?;
    let stored = hostelpulse::sync::AccountConfigStore::stored_accounts(store.as_ref()).await?;
    let secrets = StoredSecrets::load(store.as_ref(), &stored, EnvSecrets).await?;
    let tokens = store.clone() as Arc<dyn TokenStore>;
    for s in hostelpulse::stored::apply_buildable(&mut fleet, &stored, &secrets, tokens) {
        tracing::warn!(account = %s.account, reason = %s.reason, "a stored account configuration is skipped");
    }
    Ok((fleet, stored, secrets))
}

/// How often a worker looks for accounts another worker's console changed.
const STORED_ACCOUNTS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Asks for a reload once the stored accounts or console tokens differ from the ones this
/// configuration was built with (a change through another worker's console, or `hostelpulse
/// console-token`; this worker's own console asks at once).
async fn watch_stored_accounts(
    store: Arc<dyn StateStore>,
    built_from: Vec<StoredAccount>,
    reload: Arc<tokio::sync::Notify>,
) {
    let tokens = stored_console_tokens(store.as_ref()).await.ok();
    loop {
        tokio::time::sleep(STORED_ACCOUNTS_EVERY).await;
        let accounts = hostelpulse::sync::AccountConfigStore::stored_accounts(store.as_ref()).await;
        let now_tokens = stored_console_tokens(store.as_ref()).await;
        match (accounts, now_tokens) {
            (Ok(a), Ok(t)) if a != built_from || Some(&t) != tokens.as_ref() => {
                reload.notify_one();
                return;
            }
            (Ok(_), Ok(_)) => {}
            (Err(e), _) => tracing::warn!(error = %e, "cannot read the stored accounts; trying again"),
            (_, Err(e)) => tracing::warn!(error = %e, "cannot read the console tokens; trying again"),
        }
    }
}

/// Runs the configuration until it stops or changes.
async fn serve(
    o: &Options,
    store: &Arc<dyn StateStore>,
    metrics: &PrometheusHandle,
    listener: std::net::TcpListener,
    generation: u32,
    stop_asked: tokio::sync::watch::Receiver<bool>,
) -> Result<Ended, BoxError> {
    let (fleet, stored, secrets) = effective_fleet(o, store).await?;
    let built = FleetRegistry::build(&fleet, &secrets, store.clone() as Arc<dyn TokenStore>)?;
    let registry = Arc::new(built.all());
    if registry.accounts().is_empty() {
        return Err(format!("{}: no account to run", o.config.display()).into());
    }
    let alerts: Arc<dyn AlertSink> = match &o.alert_url {
        Some(url) => {
            let url = url.parse().map_err(|e| format!("--alert-url: {e}"))?;
            let secret = std::env::var(ALERT_SECRET_ENV)
                .map_err(|_| format!("--alert-url needs the signing secret in {ALERT_SECRET_ENV}"))?;
            let http = HttpAlerts::new(url, secret.into())?;
            Arc::new(FanOut(vec![Arc::new(LogAlerts), Arc::new(http)]))
        }
        None => Arc::new(LogAlerts),
    };
    let mut cfg = RuntimeConfig::default();
    cfg.max_concurrent = o.max_concurrent.max(1);
    cfg.catch_up_spread = std::time::Duration::from_secs(o.catch_up_secs);
    cfg.worker_ttl = std::time::Duration::from_secs(o.worker_ttl.max(3));
    let first = std::time::Duration::from_secs_f64(o.retry_first);
    cfg.retry = RetryPolicy::new(first, std::time::Duration::from_secs(3600)).jitter(0.2);
    cfg.inbox_backoff = InboxBackoff::new(
        chrono::Duration::from_std(first).unwrap_or(chrono::Duration::seconds(10)),
        chrono::Duration::minutes(30),
    );
    let sink: Arc<dyn Sink> = match &o.events_to {
        Some(path) => {
            let file = Arc::new(crate::tasks::JsonLinesStayEvents::new(path.clone()));
            Arc::new(
                hostelpulse::sync::EventingSink::new(
                    store.clone() as Arc<dyn Sink>,
                    store.clone() as Arc<dyn hostelpulse::sync::PreviousBookings>,
                    file.clone(),
                )
                .with_room_states(file),
            )
        }
        None => store.clone() as Arc<dyn Sink>,
    };
    let runtime = Runtime::builder(store.clone() as Arc<dyn JobStore>, sink)
        .accounts(built.managed())
        .alert_sink(alerts)
        .rooms_sink(Arc::new(StoreRooms(store.clone())))
        .config(cfg)
        .build()?;
    let handle = runtime.handle();
    let printer = tokio::spawn(print_events(handle.subscribe(), o.json));
    let fleet = Arc::new(fleet);
    // Tasks are kept for a host that takes them; on a store handle of its own, so reconciling
    // never waits in line with the runs and heartbeats for a connection.
    let task_keeper = match &o.tasks_to {
        Some(to) => {
            let own = ops::open_state(o.store_url.as_deref(), &o.db).await?;
            Some(tokio::spawn(crate::tasks::keep_running(handle.subscribe(), fleet.clone(), own, Some(to.clone()))))
        }
        None => None,
    };
    let running = tokio::spawn(runtime.run());

    let on_queued: serve::OnQueued = {
        let h = handle.clone();
        Arc::new(move |scope: &Scope| h.webhook_received(scope))
    };
    let log = if o.json { Log::Json } else { Log::Text };
    let hooks = serve::router(serve::App::new(registry.clone(), store.clone(), log).on_queued(on_queued));
    let probe = Probe { store: store.clone(), runtime: handle.clone(), metrics: metrics.clone() };
    let reload = Arc::new(tokio::sync::Notify::new());
    // Another worker of the same store may change the accounts: seen here within seconds.
    let watcher = tokio::spawn(watch_stored_accounts(store.clone(), stored, reload.clone()));
    let hooks = match console(o, &fleet, store, &handle, &registry, reload.clone()).await? {
        Some(console) => hooks.merge(console.router()),
        None => hooks,
    };
    let router: Router = hooks.merge(
        Router::new()
            .route("/metrics", get(|State(p): State<Probe>| async move { p.metrics.render() }))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(ready))
            .with_state(probe),
    );
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let accounts: Vec<&str> = registry.accounts().iter().map(|a| a.id.as_str()).collect();
    if o.json {
        outln!(
            "{}",
            serde_json::json!({ "event": "listening", "address": format!("http://{addr}"), "accounts": accounts,
                                "properties": fleet.properties.len(), "generation": generation })
        );
    } else {
        outln!(
            "running {} account(s) of {} propert{} — webhooks, /metrics, /healthz, /readyz on http://{addr}",
            accounts.len(),
            fleet.properties.len(),
            if fleet.properties.len() == 1 { "y" } else { "ies" }
        );
    }
    // Once listening: a source that delivers at once finds us.
    let reconciling = registry.clone();
    let json = o.json;
    tokio::spawn(async move {
        crate::subscriptions::print(&crate::subscriptions::reconcile_all(&reconciling, None).await, json)
    });
    let stop = handle.clone();
    let ended = Arc::new(std::sync::Mutex::new(Ended::Stopped));
    let why = ended.clone();
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = stopped(stop_asked) => {}
                _ = reload.notified() => *why.lock().unwrap_or_else(|e| e.into_inner()) = Ended::Reload,
            }
            // Stop taking work first; the server then stops accepting deliveries.
            stop.shutdown();
        })
        .await?;
    handle.shutdown();
    let stopped = running.await.map_err(|e| format!("runtime: {e}"))??;
    printer.abort();
    watcher.abort();
    if let Some(k) = task_keeper {
        k.abort();
    }
    let ended = std::mem::replace(&mut *ended.lock().unwrap_or_else(|e| e.into_inner()), Ended::Stopped);
    let reloading = matches!(ended, Ended::Reload);
    if o.json {
        outln!(
            "{}",
            serde_json::json!({ "event": if reloading { "reloading" } else { "stopped" }, "runs": stopped.runs,
                                "abandoned": stopped.abandoned })
        );
    } else if reloading {
        outln!("accounts changed through the console: restarting the runtime on the new configuration");
    } else {
        outln!(
            "stopped after {} run(s); {} abandoned (they run again at the next start)",
            stopped.runs,
            stopped.abandoned
        );
    }
    Ok(ended)
}

async fn ready(State(p): State<Probe>) -> (StatusCode, &'static str) {
    if !p.runtime.ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "accounts not loaded");
    }
    match p.store.scopes().await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unreachable"),
    }
}

/// SIGTERM (service managers, containers) or Ctrl-C, listened for from this call on: a signal
/// that arrives before the receiver is awaited — between two generations of `run`, or before a
/// server polls its shutdown future — is kept, not lost (and never takes the default action of
/// killing the process). Must be called within the runtime.
pub fn stop_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::spawn(async move {
        #[cfg(unix)]
        match term {
            Some(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
    });
    rx
}

/// Waits until `stop` (from [`stop_signal`]) says a stop was asked for; at once if it already was.
pub async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    // An error means the listener is gone, which only happens once it has fired.
    let _ = stop.wait_for(|asked| *asked).await;
}

/// One line per run and per alert: readable, or a JSON object per line.
async fn print_events(mut events: tokio::sync::broadcast::Receiver<RuntimeEvent>, json: bool) {
    loop {
        let e = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        match e {
            RuntimeEvent::Ran { account, job, run } => {
                let c = &run.counts;
                // A person reading the log wants what changed or went wrong, not every quiet poll.
                if !json && run.outcome == hostelpulse::sync::Outcome::Ok && c.changes() == 0 {
                    continue;
                }
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({ "event": "run", "account": account, "job": format!("{job:?}"),
                            "plan": run.plan, "outcome": run.outcome, "counts": c, "run_id": run.run_id,
                            "started_at": run.started_at, "finished_at": run.finished_at, "worker": run.worker })
                    );
                } else {
                    outln!(
                        "{account}: {job:?} — {} ({} fetched, {} new, {} changed, {} cancelled)",
                        run.outcome,
                        c.fetched,
                        c.inserted,
                        c.updated,
                        c.cancelled
                    );
                }
            }
            RuntimeEvent::Housekeeping { account, run } => {
                let n = run.rooms.unwrap_or_default();
                if !json && run.outcome == hostelpulse::sync::Outcome::Ok && n.changes() == 0 {
                    continue;
                }
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({ "event": "housekeeping", "account": account, "outcome": run.outcome,
                            "rooms": n, "run_id": run.run_id, "finished_at": run.finished_at })
                    );
                } else {
                    outln!(
                        "{account}: housekeeping — {} ({} rooms, {} changed, {} new, {} gone)",
                        run.outcome,
                        n.states,
                        n.changed,
                        n.appeared,
                        n.gone
                    );
                }
            }
            RuntimeEvent::Alert(a) => {
                if json {
                    outln!("{}", serde_json::json!({ "event": "alert", "alert": a }));
                } else {
                    outln!("{}: alert {:?} {} — {}", a.account, a.status, a.rule.as_str(), a.detail);
                }
            }
            RuntimeEvent::Shared { workers, owned } => {
                if json {
                    outln!("{}", serde_json::json!({ "event": "shared", "workers": workers, "owned": owned }));
                } else {
                    outln!("{} worker(s) share the store; this one runs {owned} account(s)", workers.len());
                }
            }
            RuntimeEvent::LeaseBusy { account, by } => {
                if json {
                    outln!("{}", serde_json::json!({ "event": "lease_busy", "account": account, "by": by }));
                } else {
                    outln!("{account}: another process ({by}) is syncing it; waiting");
                }
            }
            _ => {}
        }
    }
}

/// The environment variable holding the owner console's bearer token (a secret: never an argument).
pub const CONSOLE_TOKEN_ENV: &str = "HOSTELPULSE_CONSOLE_TOKEN";

/// The owner console on `run`'s port: open on a loopback address, behind the token of
/// [`CONSOLE_TOKEN_ENV`] when one is set, and not served on another address without one (it
/// shows guests' names).
async fn console(
    o: &Options,
    fleet: &hostelpulse::config::Fleet,
    store: &Arc<dyn StateStore>,
    handle: &RuntimeHandle,
    registry: &Arc<hostelpulse::Registry>,
    reload: Arc<tokio::sync::Notify>,
) -> Result<Option<hostelpulse_server::Console>, BoxError> {
    let token = std::env::var(CONSOLE_TOKEN_ENV).ok().filter(|t| !t.trim().is_empty());
    if let Some(t) = &token
        && t.trim().len() < 16
    {
        return Err(format!("{CONSOLE_TOKEN_ENV}: use at least 16 characters").into());
    }
    let mut hashes: Vec<[u8; 32]> = token.as_deref().map(hostelpulse_server::token_hash).into_iter().collect();
    hashes.extend(stored_console_tokens(store.as_ref()).await?);
    if hashes.is_empty() && !o.listen.ip().is_loopback() || o.no_console {
        if !o.no_console {
            tracing::warn!(listen = %o.listen, "the owner console is not served on a non-loopback address without {CONSOLE_TOKEN_ENV}");
        }
        return Ok(None);
    }
    let store: Arc<dyn hostelpulse_server::ConsoleStore> = store.clone();
    let builder = hostelpulse_server::Console::builder(store)
        .properties(fleet.properties.iter().cloned())
        .runtime(handle.clone())
        .registry(registry.clone())
        .bearer_token_hashes(hashes)
        .on_accounts_changed(Arc::new(move || reload.notify_one()));
    Ok(Some(builder.build()))
}

/// Where the console tokens' hashes are kept in the state (the token table: per-store,
/// encrypted where the store encrypts its tokens).
fn console_token_key() -> hostelpulse::core::http::TokenKey {
    hostelpulse::core::http::TokenKey {
        connector: hostelpulse::ConnectorKind::new("console"),
        account: hostelpulse::core::AccountId::new("owner"),
        name: "token_sha256".into(),
    }
}

/// The console's named tokens, as kept: a hash per name, and when it was made.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ConsoleTokens {
    tokens: std::collections::BTreeMap<String, KeptToken>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct KeptToken {
    sha256: String,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ConsoleTokens {
    /// Reads what the state keeps; the single hash earlier versions kept becomes `owner`'s.
    async fn load(store: &dyn StateStore) -> Result<Self, BoxError> {
        use hostelpulse::core::http::TokenStore;
        use secrecy::ExposeSecret;
        let Some(kept) = TokenStore::load(store, &console_token_key()).await? else { return Ok(Self::default()) };
        let kept = kept.expose_secret();
        if kept.len() == 64 && kept.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut tokens = std::collections::BTreeMap::new();
            tokens.insert("owner".to_owned(), KeptToken { sha256: kept.to_owned(), created_at: None });
            return Ok(Self { tokens });
        }
        Ok(serde_json::from_str(kept).map_err(|e| format!("the stored console tokens: {e}"))?)
    }

    async fn save(&self, store: &dyn StateStore) -> Result<(), BoxError> {
        use hostelpulse::core::http::TokenStore;
        TokenStore::save(store, &console_token_key(), secrecy::SecretString::from(serde_json::to_string(self)?))
            .await?;
        Ok(())
    }

    fn hashes(&self) -> Result<Vec<[u8; 32]>, BoxError> {
        self.tokens
            .iter()
            .map(|(name, t)| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(&t.sha256, &mut out).map_err(|e| format!("console token `{name}`: {e}"))?;
                Ok(out)
            })
            .collect()
    }
}

async fn stored_console_tokens(store: &dyn StateStore) -> Result<Vec<[u8; 32]>, BoxError> {
    ConsoleTokens::load(store).await?.hashes()
}

/// What `hostelpulse console-token` does.
pub enum TokenAction {
    /// A new token under this name, replacing the name's earlier one.
    New(String),
    /// Forget the named token.
    Revoke(String),
    /// The names and when each was made.
    List,
}

/// `hostelpulse console-token`: a fresh named token printed once (its hash kept), a revocation,
/// or the list of names.
pub async fn console_token(db: &std::path::Path, store_url: bool, what: TokenAction) -> Result<(), BoxError> {
    use secrecy::ExposeSecret;
    let url = if store_url {
        Some(std::env::var(ops::STORE_URL_ENV).map_err(|_| format!("--store-url: set {}", ops::STORE_URL_ENV))?)
    } else {
        None
    };
    let store = ops::open_state(url.as_deref(), db).await?;
    let mut kept = ConsoleTokens::load(store.as_ref()).await?;
    match what {
        TokenAction::New(name) => {
            let token = hostelpulse::cloudbeds::generate_secret();
            let sha256 = hex::encode(hostelpulse_server::token_hash(token.expose_secret()));
            let replaced =
                kept.tokens.insert(name.clone(), KeptToken { sha256, created_at: Some(chrono::Utc::now()) }).is_some();
            kept.save(store.as_ref()).await?;
            outln!("{}", token.expose_secret());
            eprintln!(
                "Keep it: only its hash is stored{}. A running `hostelpulse run` takes it within seconds.",
                if replaced { format!(" (it replaces `{name}`'s earlier token)") } else { String::new() }
            );
        }
        TokenAction::Revoke(name) => {
            if kept.tokens.remove(&name).is_none() {
                return Err(format!("no console token named `{name}`").into());
            }
            kept.save(store.as_ref()).await?;
            eprintln!("`{name}`'s token is revoked; a running `hostelpulse run` refuses it within seconds.");
        }
        TokenAction::List => {
            for (name, t) in &kept.tokens {
                let made = t.created_at.map_or_else(|| "before names were kept".to_owned(), |t| t.to_rfc3339());
                outln!("{name}\t{made}");
            }
        }
    }
    Ok(())
}
