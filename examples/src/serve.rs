//! `hostelpulse webhook serve`: an axum server that verifies the configured accounts' webhooks
//! and syncs what they announce. `POST /hooks/<account>` (header-authenticated) or
//! `/hooks/<account>/<url secret>`; GET health checks are answered.

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
use hostelpulse::store::SqliteStore;
use hostelpulse::sync::{Plan, SyncEngine, SyncStore, Trigger};
use hostelpulse::webhooks::{Received, Request};

use crate::ops;
use crate::views::BoxError;

#[derive(Clone)]
struct App {
    registry: Arc<Registry>,
    store: Arc<SqliteStore>,
    json: bool,
}

impl App {
    /// One line per event: readable, or a JSON object per line with `--json`.
    fn log(&self, account: &str, event: &str, detail: serde_json::Value, text: String) {
        if self.json {
            println!("{}", serde_json::json!({ "account": account, "event": event, "detail": detail }));
        } else {
            println!("{account}: {text}");
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
    let plan = match receiver.receive(req).await {
        Ok(Received::HealthCheck) => return StatusCode::OK,
        Ok(Received::Ignored(why)) => {
            app.log(&account, "ignored", serde_json::json!(why), format!("ignored ({why})"));
            return StatusCode::OK;
        }
        Ok(Received::Hint(h)) => {
            // Senders retry: the same event twice is synced once.
            match app.store.remember_event(&h.dedupe_key, Utc::now(), chrono::Duration::days(2)).await {
                Ok(false) => return StatusCode::OK,
                Ok(true) => {}
                Err(_) => return StatusCode::SERVICE_UNAVAILABLE,
            }
            Plan::Hint(h.bookings)
        }
        // The delivery carried the booking: read the account's accumulated state.
        Ok(_) => Plan::Full,
        Err(refused) => {
            app.log(&account, "refused", serde_json::json!(refused.reason), format!("refused ({})", refused.reason));
            return StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
        }
    };
    // Answer at once; sync behind the response so the sender is not held (and does not retry).
    let connector = a.connector.clone();
    tokio::spawn(async move {
        let engine = SyncEngine::new(app.store.clone());
        let run = engine.run(connector.as_ref(), plan, Trigger::Webhook, app.store.as_ref()).await;
        let c = &run.counts;
        let text = format!(
            "{:?} — {} fetched, {} new, {} changed, {} cancelled",
            run.outcome, c.fetched, c.inserted, c.updated, c.cancelled
        );
        app.log(&account, "synced", serde_json::to_value(&run).unwrap_or_default(), text);
    });
    StatusCode::OK
}

pub async fn serve(config: PathBuf, db: PathBuf, listen: SocketAddr, json: bool) -> Result<(), BoxError> {
    let store = ops::open(&db).await?;
    let (_, registry) = ops::registry(&config, &store)?;
    let hooked: Vec<&str> = registry.accounts().iter().filter(|a| a.webhook.is_some()).map(|a| a.id.as_str()).collect();
    if hooked.is_empty() {
        return Err("no account in the configuration receives webhooks: add a `webhook` table (Beds24, Cloudbeds) or a Sirvoy account".into());
    }
    let app = App { registry: Arc::new(registry.clone()), store, json };
    let router = Router::new()
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
        .with_state(app);
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    app_log_start(json, addr, &hooked);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}

fn app_log_start(json: bool, addr: SocketAddr, hooked: &[&str]) {
    if json {
        println!(
            "{}",
            serde_json::json!({ "event": "listening", "address": format!("http://{addr}"), "accounts": hooked })
        );
    } else {
        println!("listening on http://{addr} for: {}", hooked.join(", "));
    }
}
