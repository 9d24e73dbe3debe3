//! An axum endpoint for Cloudbeds webhooks: subscribe with a secret URL, verify each delivery,
//! store it in the durable inbox before answering, and let an inbox worker re-fetch what the hint
//! names (a webhook is never trusted as data). A run that fails is retried from the inbox; a
//! repeated delivery is recognised by its dedupe key.
//!
//! `cargo run -p hostelpulse-examples --example cloudbeds_webhook_endpoint`

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hostelpulse::cloudbeds::{
    CloudbedsConfig, CloudbedsConnector, CloudbedsWebhooks, Credentials, SYNC_EVENTS, generate_secret,
};
use hostelpulse::core::testkit::Upstream;
use hostelpulse::core::webhook::Delivery;
use hostelpulse::core::{Connector, SourceId};
use hostelpulse::sync::inbox::KEEP_DONE;
use hostelpulse::sync::{
    CollectingSink, Inbox, InboxItem, InboxWorker, MemoryStore, Plan, Scope, Settled, SyncEngine, Trigger,
};
use hostelpulse_sandbox::{CloudbedsEmulator, Running};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Notify;

struct App {
    hooks: CloudbedsWebhooks,
    store: Arc<MemoryStore>,
    connector: Arc<CloudbedsConnector>,
    wake: Notify,
}

async fn webhook(
    State(app): State<Arc<App>>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = chrono::Utc::now();
    let delivery = Delivery { headers: &headers, body: &body, url_secret: Some(&secret), remote_ip: None };
    let hint = match app.hooks.parse(&delivery, now) {
        Ok(h) => h,
        // A guessed URL or a forged body: answer as if nothing were here.
        Err(_) => return StatusCode::NOT_FOUND,
    };
    let scope = Scope::new(hint.connector.clone(), hint.account.clone());
    let key = hint.dedupe_key.clone();
    // Kept before answered: if the store cannot take it, Cloudbeds is told to retry.
    match app.store.inbox_put(&scope, &key, &InboxItem::Hint(hint), now, KEEP_DONE).await {
        Ok(_) => {
            app.wake.notify_one();
            StatusCode::OK
        }
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Runs due inbox entries whenever a delivery arrives (a real host also wakes at the next retry).
async fn worker(app: Arc<App>, engine: SyncEngine) {
    let worker = InboxWorker::new(engine);
    let connector: Arc<dyn Connector> = app.connector.clone();
    let lookup = move |_: &Scope| Some(connector.clone());
    loop {
        app.wake.notified().await;
        let sink = CollectingSink::new();
        if let Ok(done) = worker.process_due(chrono::Utc::now(), &lookup, &sink).await {
            for p in done {
                let done = matches!(p.settled, Settled::Done { .. });
                println!("inbox entry {} → {}", p.entry.id, if done { "synced" } else { "will retry" });
            }
        }
        for c in sink.take() {
            println!("  {:?} {}", c.class, c.key);
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let emu = CloudbedsEmulator::builder().reservations(10).start().await?;
    let property = emu.property_id().to_owned();
    let key = SecretString::from(emu.issue_api_key(&property));
    let connector = CloudbedsConnector::new(
        CloudbedsConfig::builder(property.clone(), Credentials::ApiKey(key)).base_url(emu.base_url()).build()?,
    )?;
    let secret = generate_secret();
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone());
    let app = Arc::new(App {
        hooks: CloudbedsWebhooks::new(property.clone(), vec![secret.clone()]),
        store,
        connector: Arc::new(connector),
        wake: Notify::new(),
    });
    tokio::spawn(worker(app.clone(), engine.clone()));
    let server =
        Running::serve(Router::new().route("/hooks/cloudbeds/{secret}", post(webhook)).with_state(app.clone())).await?;
    let endpoint = server.url(&format!("/hooks/cloudbeds/{}", secret.expose_secret()));
    for (object, action) in SYNC_EVENTS {
        app.connector.subscribe(object, action, &endpoint).await?;
    }
    engine.run(app.connector.as_ref(), Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;

    // Something changes at Cloudbeds: a guest cancels.
    emu.cancel(&SourceId::new(emu.reservation_ids()[0].clone())).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}
