//! The demo: emulator → SQLite → changes upstream → webhooks → incremental sync.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use hostelpulse::beds24::{Beds24Config, Beds24Connector, Beds24Webhooks, Credentials};
use hostelpulse::core::testkit::{Modification, NewBooking, Upstream};
use hostelpulse::core::webhook::{Delivery, Hint};
use hostelpulse::core::{CapabilityMatrix, Connector, SourceId};
use hostelpulse::store::SqliteStore;
use hostelpulse::sync::{AuditRecord, Change, ChangeClass, CollectingSink, Plan, Scope, SyncEngine, Trigger};
use hostelpulse_sandbox::{Beds24Emulator, Running};
use secrecy::SecretString;
use tabled::builder::Builder;
use tabled::settings::Style;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Hints = Arc<Mutex<Vec<Hint>>>;

const HOOK_SECRET: &str = "demo-hook-secret";

fn table(rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    for r in rows {
        b.push_record(r);
    }
    b.build().with(Style::rounded()).to_string()
}

fn report(title: &str, r: &AuditRecord, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    let c = &r.counts;
    println!("\n{title}: {:?} in {} ms", r.outcome, (r.finished_at - r.started_at).num_milliseconds());
    println!(
        "{}",
        table(vec![
            [
                "fetched",
                "inserted",
                "updated",
                "unchanged",
                "cancelled",
                "restored",
                "gone",
                "failed",
                "requests",
                "retries"
            ]
            .map(String::from)
            .to_vec(),
            [
                c.fetched,
                c.inserted,
                c.updated,
                c.unchanged,
                c.cancelled,
                c.restored,
                c.disappeared,
                c.failed,
                r.transport.requests,
                r.transport.retries
            ]
            .map(|n| n.to_string())
            .to_vec(),
        ])
    );
}

fn changes(list: &[Change]) {
    let mut rows = vec![["change", "booking", "guest", "stay", "status"].map(String::from).to_vec()];
    for c in list {
        let class = match c.class {
            ChangeClass::Inserted => "new",
            ChangeClass::Updated => "changed",
            ChangeClass::Cancelled => "cancelled",
            ChangeClass::Restored => "restored",
            _ => "gone",
        };
        let b = c.booking.as_ref();
        rows.push(vec![
            class.into(),
            c.key.id.to_string(),
            b.and_then(|b| b.guest.name.clone()).unwrap_or_default(),
            b.map(|b| format!("{} → {}", b.arrival, b.departure)).unwrap_or_default(),
            b.map(|b| format!("{:?}", b.status)).unwrap_or_default(),
        ]);
    }
    println!("{}", table(rows));
}

async fn webhook_receiver(hints: Hints) -> Result<Running, BoxError> {
    let hooks = Beds24Webhooks::new(
        hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
        Some(("x-hook-secret".into(), vec![SecretString::from(HOOK_SECRET)])),
        vec![],
    );
    let app = Router::new()
        .route(
            "/hooks/beds24",
            post(move |State(hints): State<Hints>, headers: HeaderMap, RawQuery(q): RawQuery, body: Bytes| {
                let hooks = hooks.clone();
                async move {
                    let d = Delivery { headers: &headers, body: &body, url_secret: None, remote_ip: None };
                    match hooks.parse(&d, q.as_deref(), Utc::now()) {
                        Ok(h) => {
                            hints.lock().unwrap_or_else(|e| e.into_inner()).push(h);
                            StatusCode::OK
                        }
                        Err(_) => StatusCode::UNAUTHORIZED,
                    }
                }
            }),
        )
        .with_state(hints);
    Ok(Running::serve(app).await?)
}

pub async fn run(db: Option<PathBuf>, json: bool) -> Result<(), BoxError> {
    let started = Instant::now();
    let emu = Beds24Emulator::builder().bookings(80).start().await?;
    let hints: Hints = Arc::default();
    let receiver = webhook_receiver(hints.clone()).await?;
    emu.set_webhook(receiver.url("/hooks/beds24"), Some(("x-hook-secret".into(), HOOK_SECRET.into())));

    let tmp = std::env::temp_dir().join(format!("hostelpulse-demo-{}.sqlite", std::process::id()));
    let db = db.unwrap_or(tmp);
    let _ = std::fs::remove_file(&db);
    let store = Arc::new(SqliteStore::open(&db).await?);
    let engine = SyncEngine::new(store);

    let creds = Credentials::InviteCode(SecretString::from(emu.issue_invite_code()));
    let beds24 = Beds24Connector::new(
        Beds24Config::builder(hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID, creds)
            .base_url(emu.base_url())
            .timezone(chrono_tz::Europe::Lisbon)
            .build()?,
    )?;
    println!("hostelpulse demo — Beds24 emulator at {}, state in {}", emu.base_url(), db.display());

    let health = beds24.check().await?;
    println!("\nEffective capabilities of this connection (token scopes: {}):\n", health.scopes.join(", "));
    println!("{}", CapabilityMatrix::new([health.effective]).operations_markdown());

    let sink = CollectingSink::new();
    let full = engine.run(&beds24, Plan::Full, Trigger::ScheduledFull, &sink).await;
    report("Full sync", &full, json);
    sink.take();

    // Upstream, as guests and OTAs would: a cancellation, a date change, a new booking.
    let ids = emu.booking_ids();
    let (cancel, extend) = (SourceId::from(ids[1]), SourceId::from(ids[2]));
    emu.cancel(&cancel).await?;
    emu.modify(&extend, Modification::ExtendStay).await?;
    let arrival = Utc::now().date_naive() + chrono::Duration::days(2);
    let new = emu.create(NewBooking::new(arrival, arrival + chrono::Duration::days(3)).guest("Ana Lima")).await?;
    println!("\nUpstream: cancelled {cancel}, extended {extend}, created {new}; waiting for webhooks…");

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut hinted: Vec<SourceId> = Vec::new();
    while hinted.len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        hinted = hints.lock().unwrap_or_else(|e| e.into_inner()).iter().flat_map(|h| h.bookings.clone()).collect();
    }
    hinted.sort();
    hinted.dedup();
    println!(
        "{} webhook hint(s) verified: {}",
        hinted.len(),
        hinted.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );

    let hint_run = engine.run(&beds24, Plan::Hint(hinted), Trigger::Webhook, &sink).await;
    report("Webhook hints, re-fetched", &hint_run, json);
    changes(&sink.take());

    let inc = engine.run(&beds24, Plan::Incremental, Trigger::Poll, &sink).await;
    report("Incremental poll (nothing left to change)", &inc, json);

    let status = engine.status(&Scope::new(beds24.kind(), beds24.account().clone()), 20).await?;
    println!(
        "\nOwner status: last success {}, {} consecutive failure(s), lag {} s, error rate {:.0}%",
        status.last_success.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
        status.consecutive_failures,
        status.lag_secs.unwrap_or_default(),
        status.error_rate * 100.0
    );
    println!("Beds24 credits spent: {:.1} of 100 in this 5-minute window", emu.credits_used());
    println!("\nDone in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}
