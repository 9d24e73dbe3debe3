//! An axum endpoint for Cloudbeds webhooks: subscribe with a secret URL, verify each delivery,
//! drop repeats, and re-fetch what the hint names (a webhook is never trusted as data).
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
use hostelpulse::core::SourceId;
use hostelpulse::core::testkit::Upstream;
use hostelpulse::core::webhook::{Delivery, ReplayGuard};
use hostelpulse::sync::{CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_sandbox::{CloudbedsEmulator, Running};
use secrecy::{ExposeSecret, SecretString};

struct App {
    hooks: CloudbedsWebhooks,
    replay: ReplayGuard,
    connector: CloudbedsConnector,
    engine: SyncEngine,
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
    if app.replay.check(&hint.dedupe_key, now).is_err() {
        return StatusCode::OK; // a repeat
    }
    let sink = CollectingSink::new();
    let run = app.engine.run(&app.connector, Plan::Hint(hint.bookings.clone()), Trigger::Webhook, &sink).await;
    for c in sink.take() {
        println!("{} → {:?} ({:?})", hint.event, c.class, run.outcome);
    }
    StatusCode::OK
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
    let app = Arc::new(App {
        hooks: CloudbedsWebhooks::new(property.clone(), vec![secret.clone()]),
        replay: ReplayGuard::new(chrono::Duration::hours(1), 10_000),
        connector,
        engine: SyncEngine::new(Arc::new(MemoryStore::new())),
    });
    let server =
        Running::serve(Router::new().route("/hooks/cloudbeds/{secret}", post(webhook)).with_state(app.clone())).await?;
    let endpoint = server.url(&format!("/hooks/cloudbeds/{}", secret.expose_secret()));
    for (object, action) in SYNC_EVENTS {
        app.connector.subscribe(object, action, &endpoint).await?;
    }
    app.engine.run(&app.connector, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;

    // Something changes at Cloudbeds: a guest cancels.
    emu.cancel(&SourceId::new(emu.reservation_ids()[0].clone())).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}
