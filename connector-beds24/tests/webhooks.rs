//! Webhook deliveries from the emulator, verified before parsing, turned into hints the engine
//! re-fetches.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use hostelpulse_connector_beds24::{Beds24WebhookError, Beds24Webhooks};
use hostelpulse_core::sync::{ChangeClass, CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_core::testkit::Upstream;
use hostelpulse_core::webhook::{Delivery, Hint, WebhookError};
use hostelpulse_core::{SourceId, testkit::Modification};
use hostelpulse_sandbox::Running;
use secrecy::SecretString;

type Received = Arc<Mutex<Vec<Result<Hint, Beds24WebhookError>>>>;

fn hooks() -> Beds24Webhooks {
    Beds24Webhooks::new(PROPERTY, Some(("x-hook-secret".into(), vec![SecretString::from("3b7e0c")])), vec![])
}

async fn receiver(received: Received) -> Running {
    let app = Router::new()
        .route(
            "/beds24/hook",
            post(|State(r): State<Received>, headers: HeaderMap, RawQuery(q): RawQuery, body: Bytes| async move {
                let d = Delivery { headers: &headers, body: &body, url_secret: None, remote_ip: None };
                let result = hooks().parse(&d, q.as_deref(), chrono::Utc::now());
                let status = if result.is_ok() { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
                r.lock().unwrap().push(result);
                status
            }),
        )
        .with_state(received);
    Running::serve(app).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_change_arrives_as_a_hint_and_the_engine_refetches_it() {
    let emu = emulator(20).await;
    let received: Received = Arc::default();
    let rx = receiver(received.clone()).await;
    emu.set_webhook(rx.url("/beds24/hook"), Some(("x-hook-secret".into(), "3b7e0c".into())));

    let c = connector_at(emu.base_url(), refresh(&emu));
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;

    let id = SourceId::from(emu.booking_ids()[3]);
    emu.modify(&id, Modification::RenameGuest("Inês Carvalho".into())).await.unwrap();
    let hint = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(r) = received.lock().unwrap().pop() {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the webhook arrived")
    .expect("the webhook verified");
    assert_eq!(hint.booking_ids().map(|ids| ids.to_vec()), Some(vec![id.clone()]));

    let sink = CollectingSink::new();
    let run =
        engine.run(&c, Plan::Hint(hint.booking_ids().cloned().expect("a booking hint")), Trigger::Webhook, &sink).await;
    assert!(run.outcome.is_success());
    let changes = sink.take();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].class, ChangeClass::Updated);
    assert_eq!(
        changes[0].booking.as_ref().unwrap().guest.name.as_deref(),
        Some("Inês Carvalho"),
        "the engine trusts the re-fetch, not the payload"
    );
}

#[test]
fn deliveries_without_the_secret_or_for_another_property_are_rejected_before_parsing() {
    let now = chrono::Utc::now();
    let no_header = HeaderMap::new();
    let d = Delivery { headers: &no_header, body: b"not even json", url_secret: None, remote_ip: None };
    assert!(matches!(
        hooks().parse(&d, None, now),
        Err(Beds24WebhookError::Rejected(WebhookError::BadStaticHeader(_)))
    ));

    let mut ok = HeaderMap::new();
    ok.insert("x-hook-secret", "3b7e0c".parse().unwrap());
    let other = br#"{"roomId":"1","propId":"999","ownerId":"1","action":"SYNC_ROOM"}"#;
    let d = Delivery { headers: &ok, body: other, url_secret: None, remote_ip: None };
    assert_eq!(hooks().parse(&d, None, now).unwrap_err(), Beds24WebhookError::OtherProperty("999".into()));

    // Version 1: the id and status ride in the query; the status is only a claim.
    let d = Delivery { headers: &ok, body: b"", url_secret: None, remote_ip: None };
    let hint = hooks().parse(&d, Some("bookid=71234567&status=cancel"), now).unwrap();
    assert_eq!(hint.booking_ids().map(|ids| ids.to_vec()), Some(vec![SourceId::from(71234567u64)]));
    assert_eq!(hint.claimed_status.as_deref(), Some("cancel"));
    // A retry within the minute is the same delivery; the same booking changing again later is not.
    let retry = hooks().parse(&d, Some("bookid=71234567&status=cancel"), now + chrono::Duration::seconds(1)).unwrap();
    let later = hooks().parse(&d, Some("bookid=71234567&status=cancel"), now + chrono::Duration::hours(3)).unwrap();
    let minute_start = now - chrono::Duration::seconds(now.timestamp() % 60);
    let same_minute = hooks().parse(&d, Some("bookid=71234567&status=cancel"), minute_start).unwrap();
    assert_eq!(
        same_minute.dedupe_key,
        hooks()
            .parse(&d, Some("bookid=71234567&status=cancel"), minute_start + chrono::Duration::seconds(59))
            .unwrap()
            .dedupe_key
    );
    assert_ne!(later.dedupe_key, retry.dedupe_key, "a second real change within 48 h must not be dropped");

    let url_only = Beds24Webhooks::new(PROPERTY, None, vec![SecretString::from("u-9f2")]);
    let d = Delivery { headers: &no_header, body: b"", url_secret: Some("u-9f2"), remote_ip: None };
    assert!(url_only.parse(&d, Some("bookid=1&status=new"), now).is_ok());
    let d = Delivery { url_secret: Some("guess"), ..d };
    assert!(url_only.parse(&d, Some("bookid=1&status=new"), now).is_err());
}
