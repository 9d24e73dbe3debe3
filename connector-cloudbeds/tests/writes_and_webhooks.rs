//! Writes, triage and webhooks against the emulator.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use hostelpulse_connector_cloudbeds::{CloudbedsWebhooks, SYNC_EVENTS, generate_secret};
use hostelpulse_core::model::{BookingStatus, Condition};
use hostelpulse_core::sync::{ChangeClass, CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_core::testkit::Upstream;
use hostelpulse_core::webhook::{Delivery, Hint, ReplayGuard};
use hostelpulse_core::{BookingQuery, Connector, ErrorKind, SourceId, StayStatus};
use hostelpulse_sandbox::Running;
use secrecy::ExposeSecret;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_in_out_notes_housekeeping_and_triage() {
    let emu = emulator(10).await;
    let c = connector_at(emu.base_url(), PROPERTY, api_key(&emu));
    let id = SourceId::new(emu.reservation_ids()[0].clone());
    c.set_stay_status(&id, StayStatus::CheckedIn).await.unwrap();
    let b =
        c.bookings(&BookingQuery::ids(hostelpulse_core::BookingIds::one(id.clone()))).await.unwrap().bookings.remove(0);
    assert_eq!(b.status, BookingStatus::CheckedIn);
    c.set_stay_status(&id, StayStatus::CheckedOut).await.unwrap();
    assert_eq!(emu.reservation(id.as_str()).unwrap()["status"], "checked_out");
    c.add_note(&id, "Left a charger in 201").await.unwrap();
    assert_eq!(emu.notes(id.as_str()), vec!["Left a charger in 201"]);
    // Payment data never travels in a note: the connector refuses it before sending.
    let err = c.add_note(&id, "Guest card 4111 1111 1111 1111, exp 12/28").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("payment card") && !err.to_string().contains("4111"), "{err}");
    assert_eq!(emu.notes(id.as_str()).len(), 1, "nothing was sent");
    c.set_housekeeping(&SourceId::new("445566-2"), Condition::Dirty).await.unwrap();
    assert_eq!(emu.room_condition("445566-2").as_deref(), Some("dirty"));
    let hk = c.housekeeping().await.unwrap();
    assert!(hk.iter().any(|h| h.room.id.as_str() == "445566-2" && h.condition == Condition::Dirty));
    let err = c.set_housekeeping(&SourceId::new("445566-2"), Condition::OutOfOrder).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let today = chrono::Utc::now().date_naive();
    let in_house = c.assignments(today).await.unwrap();
    assert!(!in_house.is_empty(), "someone sleeps here tonight");
    assert!(
        in_house
            .iter()
            .filter(|a| a.room_id.starts_with("445566-"))
            .all(|a| a.dorm_room_name.as_deref() == Some("Dorm 1"))
    );

    let stay = c.guest_stay(&id).await.unwrap();
    assert!(stay.guest_name.is_some() && !stay.rooms.is_empty() && stay.arrival.is_some());
    c.set_reservation_status(&id, "no_show").await.unwrap();
    let b =
        c.bookings(&BookingQuery::ids(hostelpulse_core::BookingIds::one(id.clone()))).await.unwrap().bookings.remove(0);
    assert_eq!(b.status, BookingStatus::NoShow);
}

type Received = Arc<Mutex<Vec<Hint>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_deliver_hints_behind_a_url_secret_and_repeats_are_dropped() {
    let emu = emulator(10).await;
    let c = connector_at(emu.base_url(), PROPERTY, api_key(&emu));
    let secret = generate_secret();
    let hooks = CloudbedsWebhooks::new(PROPERTY, vec![secret.clone()]);
    let received: Received = Arc::default();
    let guard = Arc::new(ReplayGuard::new(chrono::Duration::hours(1), 1000));
    let app = Router::new()
        .route(
            "/cloudbeds/{secret}",
            post(move |State(r): State<Received>, Path(s): Path<String>, headers: HeaderMap, body: Bytes| {
                let (hooks, guard) = (hooks.clone(), guard.clone());
                async move {
                    let d = Delivery { headers: &headers, body: &body, url_secret: Some(&s), remote_ip: None };
                    match hooks.parse(&d, chrono::Utc::now()) {
                        Ok(h) if guard.check(&h.dedupe_key, chrono::Utc::now()).is_ok() => {
                            r.lock().unwrap().push(h);
                            StatusCode::OK
                        }
                        Ok(_) => StatusCode::OK,
                        Err(_) => StatusCode::NOT_FOUND,
                    }
                }
            }),
        )
        .with_state(received.clone());
    let rx = Running::serve(app).await.unwrap();
    let endpoint = rx.url(&format!("/cloudbeds/{}", secret.expose_secret()));
    for (object, action) in SYNC_EVENTS {
        c.subscribe(object, action, &endpoint).await.unwrap();
    }
    let subs = c.subscriptions().await.unwrap();
    assert_eq!(subs.len(), SYNC_EVENTS.len());

    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
    let id = SourceId::new(emu.reservation_ids()[1].clone());
    emu.cancel(&id).await.unwrap();
    let hint = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(h) = received.lock().unwrap().pop() {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the webhook arrived");
    assert_eq!(hint.event, "reservation/status_changed");
    assert_eq!(hint.claimed_status.as_deref(), Some("canceled"));
    let sink = CollectingSink::new();
    engine.run(&c, Plan::Hint(hint.booking_ids().cloned().expect("a booking hint")), Trigger::Webhook, &sink).await;
    let changes = sink.take();
    assert_eq!((changes.len(), changes[0].class), (1, ChangeClass::Cancelled));

    // A guessed URL is refused; an unsubscribed event stops arriving.
    let client = reqwest_like_post(&rx.url("/cloudbeds/not-the-secret")).await;
    assert_eq!(client, 404);
    for (sid, _, _) in subs {
        c.unsubscribe(&sid).await.unwrap();
    }
    assert!(c.subscriptions().await.unwrap().is_empty());
}

async fn reqwest_like_post(url: &str) -> u16 {
    // A raw HTTP/1.1 POST over TCP keeps the test free of an extra client dependency.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let u = url::Url::parse(url).unwrap();
    let mut s = tokio::net::TcpStream::connect((u.host_str().unwrap(), u.port().unwrap())).await.unwrap();
    let body = r#"{"event":"reservation/created","propertyID":173042,"reservationID":"1"}"#;
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        u.path(),
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}
