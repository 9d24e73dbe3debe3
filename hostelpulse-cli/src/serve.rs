//! `hostelpulse webhook serve`: an axum server that verifies the configured accounts' webhooks,
//! writes each verified delivery to the store's inbox before answering, and runs an inbox worker
//! that syncs what the deliveries announce. `POST /hooks/<account>` (header-authenticated) or
//! `/hooks/<account>/<url secret>`; GET health checks are answered.
//!
//! Intake is at-least-once: a delivery is answered 2xx only once it is in the inbox (a store
//! failure answers 503, and the sender retries); an entry is marked done only when its run
//! committed, and a failed run is retried on the inbox's backoff schedule, also after a restart.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::any;
use chrono::Utc;
use hostelpulse::Registry;
use hostelpulse::sync::inbox::InboxBackoff;
use hostelpulse::sync::{InboxWorker, Queued, Scope, Settled, SyncEngine};
use hostelpulse::webhooks::{Received, Request};
use tokio::sync::Notify;

use crate::ops::{self, StateStore};
use crate::views::BoxError;

/// How the server reports what it does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// Nothing (the demo prints its own summary).
    Quiet,
    /// One readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// Told about every delivery queued in the inbox (the runtime processes it at once).
pub type OnQueued = Arc<dyn Fn(&Scope) + Send + Sync>;

#[derive(Clone)]
pub struct App {
    registry: Arc<Registry>,
    store: Arc<dyn StateStore>,
    log: Log,
    wake: Arc<Notify>,
    backoff: InboxBackoff,
    on_queued: Option<OnQueued>,
}

impl App {
    pub fn new(registry: Arc<Registry>, store: Arc<dyn StateStore>, log: Log) -> Self {
        Self { registry, store, log, wake: Arc::new(Notify::new()), backoff: InboxBackoff::default(), on_queued: None }
    }

    /// Calls `f` for every delivery queued.
    pub fn on_queued(mut self, f: OnQueued) -> Self {
        self.on_queued = Some(f);
        self
    }

    /// One line per event: readable, or a JSON object per line with `--json`.
    fn log(&self, account: &str, event: &str, detail: serde_json::Value, text: String) {
        if self.log == Log::Quiet {
            return;
        }
        if self.log == Log::Json {
            outln!("{}", serde_json::json!({ "account": account, "event": event, "detail": detail }));
        } else {
            outln!("{account}: {text}");
        }
    }
}

/// One request to a webhook URL, as axum extracted it.
struct Incoming {
    account: String,
    secret: Option<String>,
    peer: SocketAddr,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

async fn handle(app: App, incoming: Incoming) -> StatusCode {
    let Incoming { account, secret, peer, method, query, headers, body } = incoming;
    let Some(a) = app.registry.get(&account) else { return StatusCode::NOT_FOUND };
    let Some(receiver) = &a.webhook else { return StatusCode::NOT_FOUND };
    let req = Request::new(&headers, &body)
        .get(method == Method::GET)
        .url_secret(secret.as_deref())
        .query(query.as_deref())
        .remote_ip(Some(peer.ip()));
    let received = match receiver.receive(req).await {
        Ok(r) => r,
        Err(refused) => {
            app.log(&account, "refused", serde_json::json!(refused.reason), format!("refused ({})", refused.reason));
            return StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
        }
    };
    if let Received::Ignored(why) = &received {
        app.log(&account, "ignored", serde_json::json!(why), format!("ignored ({why})"));
    }
    // Stored before answered: a delivery we could not keep is refused, so the sender retries it.
    let scope = Registry::scope_of(a);
    match received.enqueue(app.store.as_ref(), &scope, Utc::now()).await {
        Ok(Some(Queued::New(id))) => {
            app.log(&account, "queued", serde_json::json!({ "entry": id }), format!("queued as inbox entry {id}"));
            app.wake.notify_one();
            if let Some(f) = &app.on_queued {
                f(&scope);
            }
            StatusCode::OK
        }
        Ok(Some(Queued::Duplicate)) => {
            app.log(&account, "duplicate", serde_json::Value::Null, "repeated delivery, already queued".into());
            StatusCode::OK
        }
        Ok(_) => StatusCode::OK,
        Err(e) => {
            app.log(&account, "unavailable", serde_json::json!(e.to_string()), format!("could not queue: {e}"));
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Processes the inbox until the process ends: every due entry, account by account under the
/// account's lease (a `sync` or `run` working the same account is waited for, never doubled),
/// then sleeps until the next one is due or a new delivery arrives.
async fn work(app: App) {
    let engine = SyncEngine::new(app.store.clone() as Arc<dyn hostelpulse::sync::SyncStore>);
    let worker = InboxWorker::new(engine).backoff(app.backoff.clone());
    let holder = format!("hostelpulse-webhook-serve:{}", std::process::id());
    loop {
        let mut busy = false;
        match app.store.inbox_due(Utc::now(), 1000).await {
            Ok(due) => {
                let mut scopes: Vec<Scope> = Vec::new();
                for e in due {
                    if !scopes.contains(&e.scope) {
                        scopes.push(e.scope);
                    }
                }
                for scope in scopes {
                    busy |= !work_account(&app, &worker, &holder, &scope).await;
                }
            }
            Err(e) => eprintln!("inbox: {e}"),
        }
        let mut wait = match worker.next_due().await {
            Ok(Some(at)) => (at - Utc::now()).to_std().unwrap_or_default().max(std::time::Duration::from_millis(50)),
            _ => std::time::Duration::from_secs(60),
        };
        if busy {
            // Another process holds an account with due entries: look again shortly.
            wait = wait.min(std::time::Duration::from_secs(1));
        }
        tokio::select! {
            _ = app.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One account's due entries under its lease; `false` when another process holds the account.
async fn work_account(app: &App, worker: &InboxWorker, holder: &str, scope: &Scope) -> bool {
    use hostelpulse::runtime::lease;
    let now = Utc::now();
    let Some(account) = app.registry.for_scope(scope) else {
        // Not configured here: wait (with the longest backoff) rather than drop the deliveries.
        if let Ok(entries) = app.store.inbox_due(now, 1000).await {
            for e in entries.into_iter().filter(|e| &e.scope == scope) {
                let error = format!("account {} is not configured here", scope.account);
                let _ = app.store.inbox_settle(e.id, &Settled::Retry { at: now + app.backoff.max, error }).await;
            }
        }
        return true;
    };
    let ttl = std::time::Duration::from_secs(60);
    let held = match lease::acquire(
        app.store.clone() as Arc<dyn hostelpulse::sync::JobStore>,
        scope,
        holder,
        ttl,
        std::time::Duration::ZERO,
    )
    .await
    {
        Ok(h) => h,
        Err(lease::LeaseError::Busy { by }) => {
            tracing::debug!(account = %account.id, %by, "account busy in another process");
            return false;
        }
        Err(e) => {
            eprintln!("inbox: {e}");
            return true;
        }
    };
    let sink = ops::Recording::new(app.store.as_ref(), None);
    let done = worker.process_due_for(now, scope, account.connector.clone(), &sink).await;
    let quiet = lease::quiet_after(&account.connector.capabilities().sync.rate_limit);
    if let Err(e) = held.release(quiet).await {
        eprintln!("inbox: {e}");
    }
    match done {
        Ok(done) => {
            for p in done {
                let text = match (&p.run, &p.settled) {
                    (Some(run), Settled::Done { .. }) => {
                        let c = &run.counts;
                        format!(
                            "synced — {} fetched, {} new, {} changed, {} cancelled",
                            c.fetched, c.inserted, c.updated, c.cancelled
                        )
                    }
                    (_, Settled::Retry { at, error }) => format!("will retry at {at}: {error}"),
                    _ => "settled".into(),
                };
                let detail = serde_json::to_value(&p.run).unwrap_or_default();
                let event = if matches!(p.settled, Settled::Done { .. }) { "synced" } else { "retry" };
                app.log(&account.id, event, detail, text);
            }
        }
        Err(e) => eprintln!("inbox: {e}"),
    }
    true
}

pub async fn serve(
    config: PathBuf,
    db: PathBuf,
    listen: SocketAddr,
    json: bool,
    retry_first: f64,
) -> Result<(), BoxError> {
    let store = ops::open(&db).await?;
    let (_, registry) = ops::registry(&config, &store).await?;
    let hooked: Vec<&str> = registry.accounts().iter().filter(|a| a.webhook.is_some()).map(|a| a.id.as_str()).collect();
    if hooked.is_empty() {
        return Err("no account in the configuration receives webhooks: add a `webhook` table (Beds24, Cloudbeds) or a Sirvoy account".into());
    }
    let backoff =
        InboxBackoff::new(chrono::Duration::milliseconds((retry_first * 1000.0) as i64), chrono::Duration::minutes(30));
    let log = if json { Log::Json } else { Log::Text };
    let app = App { backoff, ..App::new(Arc::new(registry.clone()), store, log) };
    let worker = tokio::spawn(work(app.clone()));
    let router = router(app);
    let listener =
        hostelpulse::core::http::listener::listen(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let stop = crate::run::stop_signal();
    app_log_start(json, addr, &hooked);
    // Once listening: a source that delivers at once finds us.
    let reconciling = registry.clone();
    tokio::spawn(async move {
        crate::subscriptions::print(&crate::subscriptions::reconcile_all(&reconciling, None).await, json)
    });
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(crate::run::stopped(stop))
        .await?;
    worker.abort();
    Ok(())
}

/// `/hooks/<account>` and `/hooks/<account>/<secret>`: verify, queue in the store's inbox, answer.
/// Serve it with connect info (the sender's address is checked for Sirvoy).
pub fn router(app: App) -> Router {
    Router::new()
        .route(
            "/hooks/{account}",
            any(
                |State(app): State<App>,
                 Path(account): Path<String>,
                 ConnectInfo(peer): ConnectInfo<SocketAddr>,
                 method: Method,
                 RawQuery(q): RawQuery,
                 headers: HeaderMap,
                 body: Bytes| {
                    handle(app, Incoming { account, secret: None, peer, method, query: q, headers, body })
                },
            ),
        )
        .route(
            "/hooks/{account}/{secret}",
            any(
                |State(app): State<App>,
                 Path((account, secret)): Path<(String, String)>,
                 ConnectInfo(peer): ConnectInfo<SocketAddr>,
                 method: Method,
                 RawQuery(q): RawQuery,
                 headers: HeaderMap,
                 body: Bytes| {
                    handle(app, Incoming { account, secret: Some(secret), peer, method, query: q, headers, body })
                },
            ),
        )
        .with_state(app)
}

fn app_log_start(json: bool, addr: SocketAddr, hooked: &[&str]) {
    if json {
        outln!(
            "{}",
            serde_json::json!({ "event": "listening", "address": format!("http://{addr}"), "accounts": hooked })
        );
    } else {
        outln!("listening on http://{addr} for: {}", hooked.join(", "));
    }
}
