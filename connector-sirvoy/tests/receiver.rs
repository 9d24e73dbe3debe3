//! The Sirvoy receiver behind a real HTTP route, fed by the sandbox sender.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::any;
use hostelpulse_connector_sirvoy::{Received, SirvoyConfig, SirvoyConnector, SirvoyWebhookError, generate_secret};
use hostelpulse_core::model::BookingStatus;
use hostelpulse_core::sync::inbox::KEEP_DONE;
use hostelpulse_core::sync::{
    ChangeClass, CollectingSink, Inbox, InboxItem, MemoryStore, Plan, Scope, SyncEngine, SyncStore, Trigger,
};
use hostelpulse_core::testkit::{self, KitOptions, NewBooking, Upstream};
use hostelpulse_core::{BookingIds, BookingQuery, Connector};
use hostelpulse_sandbox::{Running, SirvoySender};
use secrecy::ExposeSecret;

const PROPERTY: &str = "4711";

/// The receiving side as a host runs it: verify, then keep the delivery in the store's inbox
/// before answering. Runs apply what waits there.
#[derive(Clone)]
struct Hooks {
    connector: Arc<SirvoyConnector>,
    store: Arc<MemoryStore>,
}

async fn route(
    State(h): State<Hooks>,
    Path(secret): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match h.connector.receive(method == Method::GET, Some(&secret), Some(peer.ip()), &headers, &body).await {
        Ok(Received::Booking { dedupe_key, .. }) => {
            let scope = Scope::new(h.connector.kind(), h.connector.account().clone());
            let item = InboxItem::Push { body: String::from_utf8(body.to_vec()).unwrap() };
            match h.store.inbox_put(&scope, &dedupe_key, &item, chrono::Utc::now(), KEEP_DONE).await {
                Ok(_) => StatusCode::OK,
                Err(_) => StatusCode::SERVICE_UNAVAILABLE,
            }
        }
        Ok(_) => StatusCode::OK,
        // Another property's delivery is acknowledged so Sirvoy stops retrying it; nothing is stored.
        Err(SirvoyWebhookError::OtherProperty(_)) => StatusCode::OK,
        Err(SirvoyWebhookError::Rejected(_)) => StatusCode::NOT_FOUND,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

struct Setup {
    connector: Arc<SirvoyConnector>,
    config: SirvoyConfig,
    store: Arc<MemoryStore>,
    _server: Running,
    url: String,
}

impl Setup {
    fn engine(&self) -> SyncEngine {
        SyncEngine::new(self.store.clone())
    }
}

async fn setup(loopback_allowed: bool) -> Setup {
    let secret = generate_secret();
    let mut b = SirvoyConfig::builder(PROPERTY, secret.clone()).plan("Pro");
    if loopback_allowed {
        b = b.allowed_senders(vec!["127.0.0.0/8".parse().unwrap()]);
    }
    let config = b.build().unwrap();
    let connector = Arc::new(SirvoyConnector::new(config.clone()));
    let store = Arc::new(MemoryStore::new());
    let hooks = Hooks { connector: connector.clone(), store: store.clone() };
    let app = Router::new().route("/sirvoy/{secret}", any(route)).with_state(hooks);
    let server = Running::serve(app).await.unwrap();
    let url = server.url(&format!("/sirvoy/{}", secret.expose_secret()));
    Setup { connector, config, store, _server: server, url }
}

fn next_week() -> NewBooking {
    let a = chrono::Utc::now().date_naive() + chrono::Duration::days(7);
    NewBooking::new(a, a + chrono::Duration::days(3)).guest("Astrid Berg")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_on_delivered_bookings() {
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    for i in 0..5 {
        let a = chrono::Utc::now().date_naive() + chrono::Duration::days(i * 3);
        sender.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("Guest {i}"))).await.unwrap();
    }
    let store: Arc<dyn SyncStore> = s.store.clone();
    let opts = KitOptions::default().store(store.clone());
    testkit::run_all(s.connector.as_ref(), &sender, &opts).await;
    // Restarts and crashes: each "process" is a new connector over the same store.
    let config = s.config.clone();
    let make = move || -> Arc<dyn Connector> { Arc::new(SirvoyConnector::new(config.clone())) };
    testkit::run_durability(&make, &sender, store, &opts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_and_repeated_deliveries_keep_the_newest() {
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    let id = sender.create(next_week()).await.unwrap();
    let (first, second) = sender.deliver_out_of_order(&id, "Older", "Newer").await.unwrap();
    assert_eq!((first, second), (200, 200), "both acknowledged");
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    let b = s.connector.bookings(&BookingQuery::ids(BookingIds::one(id.clone()))).await.unwrap().bookings.remove(0);
    assert_eq!(b.guest.name.as_deref(), Some("Newer Berg"), "the older delivery arrived last and was ignored");
    let again = sender.snapshot(id.as_str().parse().unwrap(), "modified").unwrap();
    assert_eq!(sender.deliver(&again).await, 200);
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    let mut stale = again.clone();
    stale["generatedAt"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    assert_eq!(sender.deliver(&stale).await, 200);
    // A repeated delivery (the same body) is queued once; a stale one is applied and changes nothing.
    let scope = Scope::new(s.connector.kind(), s.connector.account().clone());
    assert_eq!(s.store.inbox_entries(&scope).await.unwrap().len(), 5, "create, older, newer, repeat, stale");
    assert_eq!(sender.deliver(&again).await, 200);
    assert_eq!(s.store.inbox_entries(&scope).await.unwrap().len(), 5, "a repeat of a queued delivery is not queued");
    let sink = CollectingSink::new();
    let run = s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &sink).await;
    assert!(run.outcome.is_success(), "{:?}", run.outcome);
    assert!(sink.take().is_empty(), "the repeated and the stale delivery change nothing");
    assert!(s.store.inbox_entries(&scope).await.unwrap().iter().all(|e| e.done_at.is_some()), "all applied");
    assert_eq!(
        s.connector.bookings(&BookingQuery::ids(BookingIds::one(id))).await.unwrap().bookings[0].guest.name.as_deref(),
        Some("Newer Berg")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellations_and_restores_become_status_changes() {
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    let engine = s.engine();
    let sink = CollectingSink::new();
    let id = sender.create(next_week()).await.unwrap();
    engine.run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &sink).await;
    sender.cancel(&id).await.unwrap();
    engine.run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &sink).await;
    sender.restore(&id).await.unwrap();
    engine.run(s.connector.as_ref(), Plan::Full, Trigger::Webhook, &sink).await;
    let classes: Vec<ChangeClass> = sink.take().into_iter().map(|ch| ch.class).collect();
    assert_eq!(classes, vec![ChangeClass::Inserted, ChangeClass::Cancelled, ChangeClass::Restored]);
    let b = s.connector.bookings(&BookingQuery::ids(BookingIds::one(id))).await.unwrap().bookings.remove(0);
    assert_eq!(b.status, BookingStatus::Confirmed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_restart_of_the_receiver() {
    // Deliveries 1–2, the receiving process restarts, deliveries 3–4: all four are bookings, and
    // no run ever reports one gone (Sirvoy never re-sends: a lost delivery is lost for good).
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    let mut ids = Vec::new();
    for i in 0..2 {
        let a = chrono::Utc::now().date_naive() + chrono::Duration::days(i * 2);
        ids.push(
            sender.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("G{i}"))).await.unwrap(),
        );
    }
    let run = s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    assert_eq!(run.counts.inserted, 2);
    // A new process: a new connector and engine over the same store.
    let restarted = SirvoyConnector::new(s.config.clone());
    let engine = SyncEngine::new(s.store.clone());
    let sink = CollectingSink::new();
    assert_eq!(engine.run(&restarted, Plan::Full, Trigger::Manual, &sink).await.counts.disappeared, 0);
    for i in 2..4 {
        let a = chrono::Utc::now().date_naive() + chrono::Duration::days(i * 2);
        ids.push(
            sender.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("G{i}"))).await.unwrap(),
        );
    }
    let push = engine.run(&restarted, Plan::Push, Trigger::Webhook, &sink).await;
    let full = engine.run(&restarted, Plan::Full, Trigger::Manual, &sink).await;
    assert_eq!((push.counts.inserted, push.counts.disappeared, full.counts.disappeared), (2, 0, 0));
    let got: Vec<_> =
        restarted.bookings(&BookingQuery::default()).await.unwrap().bookings.into_iter().map(|b| b.key.id).collect();
    assert_eq!(got.len(), 4);
    assert!(ids.iter().all(|id| got.contains(id)), "{ids:?} vs {got:?}");
    let state = s.store.load(&Scope::new(restarted.kind(), restarted.account().clone())).await.unwrap();
    assert_eq!(state.records.values().filter(|r| !r.gone && !r.cancelled).count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_pass_and_foreign_deliveries_are_refused() {
    let s = setup(true).await;
    let url = s.url.clone();
    assert_eq!(SirvoySender::new(url.clone(), PROPERTY).health_check().await, 200);
    let wrong_secret =
        url.rsplit_once('/').map(|(base, _)| format!("{base}/{}", generate_secret().expose_secret())).unwrap();
    let sender = SirvoySender::new(wrong_secret, PROPERTY);
    assert!(sender.create(next_week()).await.is_err(), "a wrong URL secret is refused");
    assert_eq!(sender.health_check().await, 404);

    // With Sirvoy's published sender list, a delivery from loopback is refused.
    let s = setup(false).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    assert!(sender.create(next_week()).await.is_err());
    s.engine().run(s.connector.as_ref(), Plan::Full, Trigger::Manual, &CollectingSink::new()).await;
    assert!(s.connector.bookings(&BookingQuery::default()).await.unwrap().bookings.is_empty());
}

#[tokio::test]
async fn a_version_one_payload_with_string_numbers_parses() {
    // After Sirvoy's 2021 documented example (version 1.0, generatedTime, numbers as strings).
    let body = serde_json::json!({
        "version": "1.0", "callbackId": 12, "generatedTime": "2021-05-04T10:12:13+02:00", "event": "new", "propertyId": 4711,
        "bookingId": 31337, "channelBookingId": "2345678901", "bookingDate": "2021-05-04T10:11:00+02:00",
        "arrivalDate": "2021-06-01", "departureDate": "2021-06-03", "cancelled": false, "eta": null, "totalAdults": 2,
        "guest": { "firstName": "Sven", "lastName": "Svensson", "businessName": null, "country": "SE", "phone": "+4670123456 (tel:%2B4670123456)",
            "email": "sven@example.com", "passportNo": null, "language": "sv", "message": "Late arrival" },
        "internalComment": "VIP", "couponCode": null,
        "rooms": [{ "RoomTypeName": "Double room", "RoomTypeDescription": "", "RoomName": "12", "arrivalDate": "2021-06-01",
            "departureDate": "2021-06-03", "adults": "2", "quantity": 1, "price": "2000", "roomTotal": 4000, "guestName": "Sven Svensson", "comment": "" }],
        "additionalItems": [{ "description": "Breakfast", "specificDate": "2021-06-02", "quantity": "2", "price": "100", "itemTotal": 200 }],
        "currency": "SEK", "totalPrice": 4200
    });
    let s = setup(true).await;
    let status = SirvoySender::new(s.url.clone(), PROPERTY).deliver(&body).await;
    assert_eq!(status, 200);
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    let c = &s.connector;
    let mut b = c.bookings(&BookingQuery::default()).await.unwrap().bookings;
    b[0].provenance.fetched_at = chrono::DateTime::UNIX_EPOCH;
    assert_eq!(b[0].guest.phone.as_deref(), Some("+4670123456"), "the rendering artefact is dropped");
    insta::assert_json_snapshot!(b[0]);
    let rooms = c.rooms().await.unwrap();
    assert_eq!(rooms[0].room_types[0].rooms[0].name, "12");
    // Rooms listed in the configuration exist before any delivery mentions them.
    let configured = SirvoyConnector::new(
        SirvoyConfig::builder(PROPERTY, generate_secret())
            .room_type("Bed in 8-bed dorm", &["Dorm A", "Dorm B"])
            .build()
            .unwrap(),
    );
    let rooms = configured.rooms().await.unwrap();
    assert_eq!(rooms[0].room_types[0].rooms.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_without_a_timestamp_is_applied_in_the_order_received() {
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    let id = sender.create(next_week()).await.unwrap();
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    // A later cancellation that carries no generatedAt: it is the newest we received.
    let mut cancel = sender.snapshot(id.as_str().parse().unwrap(), "cancelled").unwrap();
    cancel["cancelled"] = serde_json::json!(true);
    cancel.as_object_mut().unwrap().remove("generatedAt");
    assert_eq!(sender.deliver(&cancel).await, 200);
    let sink = CollectingSink::new();
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &sink).await;
    let classes: Vec<ChangeClass> = sink.take().into_iter().map(|c| c.class).collect();
    assert_eq!(classes, vec![ChangeClass::Cancelled]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn party_sizes_never_wrap() {
    let s = setup(true).await;
    let sender = SirvoySender::new(s.url.clone(), PROPERTY);
    let id = sender.create(next_week()).await.unwrap();
    let mut big = sender.snapshot(id.as_str().parse().unwrap(), "modified").unwrap();
    big.as_object_mut().unwrap().remove("totalAdults");
    let room = big["rooms"][0].clone();
    let mut second = room.clone();
    big["rooms"][0]["adults"] = serde_json::json!(40_000);
    second["adults"] = serde_json::json!(40_000);
    big["rooms"].as_array_mut().unwrap().push(second);
    assert_eq!(sender.deliver(&big).await, 200);
    s.engine().run(s.connector.as_ref(), Plan::Push, Trigger::Webhook, &CollectingSink::new()).await;
    let b = s.connector.bookings(&BookingQuery::ids(BookingIds::one(id))).await.unwrap().bookings.remove(0);
    assert_eq!(b.party.adults, Some(u16::MAX), "saturated, not 14,464");
}
