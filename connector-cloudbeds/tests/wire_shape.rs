//! Exact request shapes against wiremock: headers, form encoding, paging.

mod common;

use std::sync::Arc;

use common::*;
use hostelpulse_connector_cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials, OAuthClient};
use hostelpulse_core::http::{HttpClient, MemoryTokenStore, TokenKey, TokenStore};
use hostelpulse_core::model::{AccountId, Condition, ConnectorKind};
use hostelpulse_core::{BookingQuery, Connector, DateRange, ErrorKind, SourceId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use wiremock::matchers::{body_string, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn sample(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn mount_rooms(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getRooms"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("getRooms.response.json")))
        .mount(server)
        .await;
}

fn key() -> Credentials {
    Credentials::ApiKey(SecretString::from("cbat_testkey"))
}

fn row(id: u64) -> serde_json::Value {
    json!({ "reservationID": id.to_string(), "propertyID": PROPERTY, "status": "confirmed", "reservationCheckIn": "2026-12-01 15:00:00", "reservationCheckOut": "2026-12-03 11:00:00", "isDeleted": false })
}

#[tokio::test]
async fn reads_send_the_api_key_and_page_until_total() {
    let server = MockServer::start().await;
    mount_rooms(&server).await;
    let page = |rows: Vec<serde_json::Value>| {
        ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": rows, "count": 0, "total": 150 }))
    };
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getReservationsWithRateDetails"))
        .and(query_param("pageNumber", "1"))
        .and(query_param("pageSize", "100"))
        .respond_with(page((1..=100).map(row).collect()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getReservationsWithRateDetails"))
        .and(query_param("pageNumber", "2"))
        .respond_with(page((101..=150).map(row).collect()))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key());
    let window = DateRange::new("2026-11-20".parse().unwrap(), "2026-12-20".parse().unwrap()).unwrap();
    let batch = c.bookings(&BookingQuery::stay_window(window)).await.unwrap();
    assert_eq!(batch.bookings.len(), 150);
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.headers.get("x-api-key").unwrap(), "cbat_testkey");
        assert_eq!(r.headers.get("x-property-id").unwrap(), PROPERTY);
        assert!(r.headers.get("authorization").is_none());
    }
    let reqs: Vec<Request> = server.received_requests().await.unwrap();
    let q = reqs
        .iter()
        .find(|r| r.url.path().ends_with("getReservationsWithRateDetails"))
        .unwrap()
        .url
        .query()
        .unwrap()
        .to_owned();
    assert!(
        q.contains("includeDeleted=true")
            && q.contains("reservationCheckOutFrom=2026-11-20")
            && q.contains("propertyID=173042"),
        "{q}"
    );
}

#[tokio::test]
async fn writes_are_form_encoded_never_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/postReservationNote"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "propertyID=173042&reservationID=31415926&reservationNote=Bed+C+linen+changed+by+housekeeping",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("postReservationNote.response.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/postHousekeepingStatus"))
        .and(body_string_contains("roomID=445566-2"))
        .and(body_string_contains("roomCondition=clean"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("postHousekeepingStatus.response.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key());
    let receipt = c.add_note(&SourceId::new("31415926"), "Bed C linen changed by housekeeping").await.unwrap();
    assert_eq!(receipt.id.as_deref(), Some("5512002"), "the note id comes back at the top level");
    c.set_housekeeping(&SourceId::new("445566-2"), Condition::Clean).await.unwrap();
}

/// A `success:false` Cloudbeds does not document as the owner's to fix is treated like a 5xx:
/// retried, and the read succeeds when the next attempt does.
#[tokio::test]
async fn an_unknown_success_false_is_retried_like_a_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getWebhooks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "success": false, "message": "An error occurred. Please try again later." })),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getWebhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("getWebhooks.response.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key());
    assert!(!c.subscriptions().await.unwrap().is_empty());
}

#[tokio::test]
async fn http_200_with_success_false_is_an_error_with_the_vendors_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("error-200-success-false.response.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key());
    let err = c.rooms().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("None of the included property id's match"), "{err}");
    // An invalid key is a 401: reconnect.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(sample("error-401-invalid-key.response.json")))
        .mount(&server)
        .await;
    let err = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key()).rooms().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
}

#[tokio::test]
async fn oauth_uses_bearer_tokens_refreshes_by_form_and_persists_a_rotated_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/access_token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=old-refresh"))
        .and(body_string_contains("client_id=live1_abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "access_token": "acc-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "new-refresh" })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/postHousekeepingStatus"))
        .and(header("authorization", "Bearer acc-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("postHousekeepingStatus.response.json")))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryTokenStore::default());
    let client = OAuthClient::new("live1_abc", SecretString::from("s3cret"), "https://host.example/cb/callback");
    let cfg = CloudbedsConfig::builder(
        PROPERTY,
        Credentials::OAuth { client, refresh_token: SecretString::from("old-refresh") },
    )
    .base_url(format!("{}/api/v1.3", server.uri()))
    .token_store(store.clone())
    .build()
    .unwrap();
    let c = CloudbedsConnector::new(cfg).unwrap();
    c.set_housekeeping(&SourceId::new("445566-2"), Condition::Clean).await.unwrap();
    let saved = store
        .load(&TokenKey {
            connector: ConnectorKind::CLOUDBEDS,
            account: AccountId::new(PROPERTY),
            name: "refresh_token".into(),
        })
        .await
        .unwrap();
    assert_eq!(saved.unwrap().expose_secret(), "new-refresh");
}

/// A token answer that does not decode is the vendor's data fault, not a rejected credential:
/// the owner is not told to authorize again (code exchange, API-key grant).
#[tokio::test]
async fn a_token_answer_that_does_not_decode_is_not_a_rejected_credential() {
    let client = OAuthClient::new("live1_abc", SecretString::from("s3cret"), "https://host.example/cb/callback");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/access_token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "token": 42, "note": "not the documented shape" })),
        )
        .mount(&server)
        .await;
    let http = HttpClient::builder(ConnectorKind::CLOUDBEDS, format!("{}/api/v1.3", server.uri())).build().unwrap();
    for err in [
        client.exchange_code(&http, "c-1").await.unwrap_err(),
        client.exchange_for_api_key(&http, "m-1").await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::UpstreamData, "{err}");
        assert!(
            !err.to_string().contains("authorize again") && !err.to_string().contains("connect the app again"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn the_authorize_url_and_the_code_exchanges() {
    let client = OAuthClient::new("live1_abc", SecretString::from("s3cret"), "https://host.example/cb/callback");
    let url = client.authorize_url("st-42", &["read:reservation", "read:room"]).unwrap();
    assert_eq!(
        url.as_str(),
        "https://hotels.cloudbeds.com/api/v1.1/oauth?client_id=live1_abc&redirect_uri=https%3A%2F%2Fhost.example%2Fcb%2Fcallback&response_type=code&state=st-42&scope=read%3Areservation+read%3Aroom"
    );
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/access_token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=c-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("access_token.response.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/access_token"))
        .and(body_string_contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Aapi-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sample("access_token-apikey-grant.response.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/access_token"))
        .and(body_string_contains("code=used"))
        .respond_with(ResponseTemplate::new(401).set_body_json(sample("error-401-bad-auth-code.response.json")))
        .mount(&server)
        .await;
    let http = HttpClient::builder(ConnectorKind::CLOUDBEDS, format!("{}/api/v1.3", server.uri())).build().unwrap();
    let tokens = client.exchange_code(&http, "c-1").await.unwrap();
    assert_eq!(tokens.property_ids, vec!["173042"]);
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "EXAMPLE-REFRESH-TOKEN");
    let key = client.exchange_for_api_key(&http, "marketplace-code").await.unwrap();
    assert!(key.expose_secret().starts_with("cbat_"));
    let err = client.exchange_code(&http, "used").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
    assert!(err.to_string().contains("authorize again"), "{err}");
}

/// A `null` assignment list and a row that does not decode cost only themselves: the rest of the
/// night's assignments come back.
#[tokio::test]
async fn one_bad_assignment_row_never_fails_the_night() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1.3/getReservationAssignments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true, "data": [
            { "reservationID": "R1", "guestName": "Ana Lima", "assigned": null },
            { "reservationID": { "unexpected": true }, "guestName": "Bad Row", "assigned": [] },
            { "reservationID": "R3", "guestName": "Tom Berg",
              "assigned": [{ "roomID": "445566-2", "roomName": "Bed B", "dormRoomName": "Dorm 1" }] },
        ] })))
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/api/v1.3", server.uri()), PROPERTY, key());
    let night = c.assignments(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).await.unwrap();
    assert_eq!(night.len(), 1);
    assert_eq!((night[0].reservation_id.as_str(), night[0].room_id.as_str()), ("R3", "445566-2"));
}
