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
use hostelpulse_core::sync::{ChangeClass, CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_core::testkit::{self, KitOptions, NewBooking, Upstream};
use hostelpulse_core::{BookingQuery, Connector};
use hostelpulse_sandbox::{Running, SirvoySender};
use secrecy::ExposeSecret;

const PROPERTY: &str = "4711";

async fn route(
    State(c): State<Arc<SirvoyConnector>>,
    Path(secret): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match c.receive(method == Method::GET, Some(&secret), Some(peer.ip()), &headers, &body).await {
        Ok(_) => StatusCode::OK,
        // Another property's delivery is acknowledged so Sirvoy stops retrying it; nothing is stored.
        Err(SirvoyWebhookError::OtherProperty(_)) => StatusCode::OK,
        Err(SirvoyWebhookError::Rejected(_)) => StatusCode::NOT_FOUND,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn setup(loopback_allowed: bool) -> (Arc<SirvoyConnector>, Running, String, String) {
    let secret = generate_secret();
    let mut b = SirvoyConfig::builder(PROPERTY, secret.clone()).plan("Pro");
    if loopback_allowed {
        b = b.allowed_senders(vec!["127.0.0.0/8".parse().unwrap()]);
    }
    let c = Arc::new(SirvoyConnector::new(b.build().unwrap()));
    let app = Router::new().route("/sirvoy/{secret}", any(route)).with_state(c.clone());
    let server = Running::serve(app).await.unwrap();
    let url = server.url(&format!("/sirvoy/{}", secret.expose_secret()));
    (c, server, url, secret.expose_secret().to_owned())
}

fn next_week() -> NewBooking {
    let a = chrono::Utc::now().date_naive() + chrono::Duration::days(7);
    NewBooking::new(a, a + chrono::Duration::days(3)).guest("Astrid Berg")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_on_delivered_bookings() {
    let (c, _server, url, _) = setup(true).await;
    let sender = SirvoySender::new(url, PROPERTY);
    for i in 0..5 {
        let a = chrono::Utc::now().date_naive() + chrono::Duration::days(i * 3);
        sender.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("Guest {i}"))).await.unwrap();
    }
    testkit::run_all(c.as_ref(), &sender, &KitOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_and_repeated_deliveries_keep_the_newest() {
    let (c, _server, url, secret) = setup(true).await;
    let sender = SirvoySender::new(url, PROPERTY);
    let id = sender.create(next_week()).await.unwrap();
    let (first, second) = sender.deliver_out_of_order(&id, "Older", "Newer").await.unwrap();
    assert_eq!((first, second), (200, 200), "both acknowledged");
    let b = c.bookings(&BookingQuery::ids([id.clone()])).await.unwrap().bookings.remove(0);
    assert_eq!(b.guest.name.as_deref(), Some("Newer Berg"), "the older delivery arrived last and was ignored");
    let again = sender.snapshot(id.as_str().parse().unwrap(), "modified").unwrap();
    assert_eq!(sender.deliver(&again).await, 200);
    let mut stale = again.clone();
    stale["generatedAt"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    assert_eq!(sender.deliver(&stale).await, 200);
    // The same stale payload, handed to the receiver directly: recognised as stale, not stored.
    let headers = HeaderMap::new();
    let r = c
        .receive(false, Some(&secret), Some("127.0.0.1".parse().unwrap()), &headers, stale.to_string().as_bytes())
        .await
        .unwrap();
    assert!(matches!(r, Received::Stale { .. }), "{r:?}");
    let r = c
        .receive(false, Some(&secret), Some("127.0.0.1".parse().unwrap()), &headers, again.to_string().as_bytes())
        .await
        .unwrap();
    assert!(matches!(r, Received::Stale { .. }), "a repeated delivery is stale too: {r:?}");
    assert_eq!(
        c.bookings(&BookingQuery::ids([id])).await.unwrap().bookings[0].guest.name.as_deref(),
        Some("Newer Berg")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellations_and_restores_become_status_changes() {
    let (c, _server, url, _) = setup(true).await;
    let sender = SirvoySender::new(url, PROPERTY);
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let sink = CollectingSink::new();
    let id = sender.create(next_week()).await.unwrap();
    engine.run(c.as_ref(), Plan::Full, Trigger::Webhook, &sink).await;
    sender.cancel(&id).await.unwrap();
    engine.run(c.as_ref(), Plan::Hint(vec![id.clone()]), Trigger::Webhook, &sink).await;
    sender.restore(&id).await.unwrap();
    engine.run(c.as_ref(), Plan::Hint(vec![id.clone()]), Trigger::Webhook, &sink).await;
    let classes: Vec<ChangeClass> = sink.take().into_iter().map(|ch| ch.class).collect();
    assert_eq!(classes, vec![ChangeClass::Inserted, ChangeClass::Cancelled, ChangeClass::Restored]);
    let b = c.bookings(&BookingQuery::ids([id])).await.unwrap().bookings.remove(0);
    assert_eq!(b.status, BookingStatus::Confirmed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_pass_and_foreign_deliveries_are_refused() {
    let (_c, _server, url, _) = setup(true).await;
    assert_eq!(SirvoySender::new(url.clone(), PROPERTY).health_check().await, 200);
    let wrong_secret =
        url.rsplit_once('/').map(|(base, _)| format!("{base}/{}", generate_secret().expose_secret())).unwrap();
    let sender = SirvoySender::new(wrong_secret, PROPERTY);
    assert!(sender.create(next_week()).await.is_err(), "a wrong URL secret is refused");
    assert_eq!(sender.health_check().await, 404);

    // With Sirvoy's published sender list, a delivery from loopback is refused.
    let (c, _server, url, _) = setup(false).await;
    let sender = SirvoySender::new(url, PROPERTY);
    assert!(sender.create(next_week()).await.is_err());
    assert!(c.bookings(&BookingQuery::default()).await.unwrap().bookings.is_empty());
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
    let (c, _server, url, _) = setup(true).await;
    let status = SirvoySender::new(url, PROPERTY).deliver(&body).await;
    assert_eq!(status, 200);
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
