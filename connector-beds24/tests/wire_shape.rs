//! Exact request shapes, against wiremock.

mod common;

use common::*;
use hostelpulse_connector_beds24::Credentials;
use hostelpulse_core::error::Applied;
use hostelpulse_core::{BookingQuery, Connector, DateRange, ErrorKind, SourceId, StayStatus};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "long-life-token-abc";

fn long_life() -> Credentials {
    Credentials::LongLifeToken(SecretString::from(TOKEN))
}

fn page(data: serde_json::Value, next: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "success": true, "type": "booking", "count": data.as_array().map(|a| a.len()),
        "pages": { "nextPageExists": next, "nextPageLink": if next { json!("https://api.beds24.com/v2/bookings?page=2") } else { json!(null) } }, "data": data }))
}

async fn mount_properties(server: &MockServer) {
    let body: serde_json::Value = serde_json::from_str(include_str!("data/properties-get.response.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/properties"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn row(id: u64) -> serde_json::Value {
    json!({ "id": id, "propertyId": PROPERTY, "roomId": 316001, "unitId": 2, "status": "confirmed", "arrival": "2026-12-01", "departure": "2026-12-03" })
}

#[tokio::test]
async fn reads_send_the_raw_token_every_status_and_follow_pages() {
    let server = MockServer::start().await;
    mount_properties(&server).await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(header("token", TOKEN))
        .and(query_param("page", "2"))
        .respond_with(page(json!([row(2)]), false))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(header("token", TOKEN))
        .respond_with(page(json!([row(1)]), true))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let window = DateRange::new("2026-11-20".parse().unwrap(), "2026-12-20".parse().unwrap()).unwrap();
    let batch = c.bookings(&BookingQuery::stay_window(window)).await.unwrap();
    assert_eq!(batch.bookings.len(), 2);
    assert!(batch.complete);

    let reqs: Vec<Request> = server.received_requests().await.unwrap();
    let bookings: Vec<&Request> = reqs.iter().filter(|r| r.url.path() == "/v2/bookings").collect();
    let q = bookings[0].url.query().unwrap();
    assert!(
        q.contains("status=confirmed&status=request&status=new&status=cancelled&status=black&status=inquiry"),
        "every status, repeated keys: {q}"
    );
    assert!(
        q.contains("arrivalTo=2026-12-20") && q.contains("departureFrom=2026-11-20") && q.contains("propertyId=145678"),
        "{q}"
    );
    for r in &reqs {
        let token = r.headers.get("token").unwrap().to_str().unwrap();
        assert_eq!(token, TOKEN, "the raw token, no Bearer prefix");
        assert!(r.headers.get("authorization").is_none());
        assert!(r.headers.get("organization").is_none(), "only partners send organization");
    }
}

#[tokio::test]
async fn incremental_reads_use_modified_from_in_utc() {
    let server = MockServer::start().await;
    mount_properties(&server).await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(query_param("modifiedFrom", "2026-11-22T08:50:00"))
        .respond_with(page(json!([]), false))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let since = "2026-11-22T08:50:00Z".parse().unwrap();
    c.bookings(&BookingQuery::modified_since(since)).await.unwrap();
}

#[tokio::test]
async fn check_in_is_a_json_array_with_an_info_item() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/authentication/token"))
        .and(header("refreshToken", "r-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "token": "fresh", "expiresIn": 86400 })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .and(header("token", "fresh"))
        .and(header("content-type", "application/json"))
        .and(|r: &Request| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v.is_array() && v[0]["id"] == 71234567 && v[0]["infoItems"][0]["code"] == "CHECKIN"
        })
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!([{ "success": true, "modified": { "id": 71234567 } }])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), Credentials::RefreshToken(SecretString::from("r-1")));
    let receipt = c.set_stay_status(&SourceId::from(71234567u64), StayStatus::CheckedIn).await.unwrap();
    assert_eq!(receipt.id.as_deref(), Some("71234567"));
}

#[tokio::test]
async fn appending_a_note_reads_then_writes_the_whole_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(query_param("id", "71234567"))
        .respond_with(page(json!([{ "id": 71234567, "notes": "Paid deposit via Stripe" }]), false))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .and(body_json(json!([{ "id": 71234567, "notes": "Paid deposit via Stripe\nLocker 12 broken" }])))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!([{ "success": true, "modified": { "id": 71234567 } }])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    c.add_note(&SourceId::from(71234567u64), "Locker 12 broken").await.unwrap();
}

#[tokio::test]
async fn a_201_with_a_failed_item_is_an_error_that_says_it_may_be_partly_applied() {
    let server = MockServer::start().await;
    let body: serde_json::Value =
        serde_json::from_str(include_str!("data/bookings-post-partial-failure.response.json")).unwrap();
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(201).set_body_json(body))
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let err = c.set_stay_status(&SourceId::from(71240002u64), StayStatus::CheckedOut).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(err.applied(), Applied::Partly);
    assert!(err.to_string().contains("code: invalid info item"), "{err}");
}

#[tokio::test]
async fn a_bad_request_envelope_becomes_a_typed_error_with_the_message() {
    let server = MockServer::start().await;
    mount_properties(&server).await;
    let body: serde_json::Value = serde_json::from_str(include_str!("data/error-400.response.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(400).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let err =
        c.bookings(&BookingQuery::ids(hostelpulse_core::BookingIds::one(SourceId::from(1u64)))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert!(err.to_string().contains("Invalid parameter"), "{err}");
}

#[tokio::test]
async fn http_200_with_valid_token_false_is_an_auth_failure() {
    let server = MockServer::start().await;
    let body: serde_json::Value =
        serde_json::from_str(include_str!("data/auth-details-invalid-token.response.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/authentication/details"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let err = c.check().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
}

#[tokio::test]
async fn partners_send_the_organization_header() {
    let server = MockServer::start().await;
    let details: serde_json::Value = serde_json::from_str(include_str!("data/auth-details.response.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/authentication/details"))
        .and(header("organization", "acme-pms-partner"))
        .respond_with(ResponseTemplate::new(200).set_body_json(details))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = hostelpulse_connector_beds24::Beds24Config::builder(PROPERTY, long_life())
        .base_url(format!("{}/v2", server.uri()))
        .organization("acme-pms-partner")
        .build()
        .unwrap();
    let health = hostelpulse_connector_beds24::Beds24Connector::new(cfg).unwrap().check().await.unwrap();
    assert!(health.scopes.contains(&"read:bookings-personal".to_owned()));
}

#[tokio::test]
async fn open_nights_use_the_availability_endpoint_with_the_last_night_as_end() {
    let server = MockServer::start().await;
    mount_properties(&server).await;
    let body: serde_json::Value =
        serde_json::from_str(include_str!("data/inventory-availability.response.json")).unwrap();
    Mock::given(method("GET"))
        .and(path("/v2/inventory/rooms/availability"))
        .and(query_param("startDate", "2025-07-10"))
        .and(query_param("endDate", "2025-07-12"))
        .and(query_param("roomId", "316001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let range = DateRange::new("2025-07-10".parse().unwrap(), "2025-07-13".parse().unwrap()).unwrap();
    let nights = c.open_nights(range).await.unwrap();
    assert_eq!(nights.iter().filter(|n| n.closed == Some(true)).count(), 1);
}

#[tokio::test]
async fn rows_of_another_property_are_reported_not_stored_under_this_one() {
    let server = MockServer::start().await;
    mount_properties(&server).await;
    let mut foreign = row(2);
    foreign["propertyId"] = json!(999_999);
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(page(json!([row(1), foreign]), false))
        .mount(&server)
        .await;
    let c = connector_at(format!("{}/v2", server.uri()), long_life());
    let window = DateRange::new("2026-11-20".parse().unwrap(), "2026-12-20".parse().unwrap()).unwrap();
    let batch = c.bookings(&BookingQuery::stay_window(window)).await.unwrap();
    assert_eq!(batch.bookings.iter().map(|b| b.key.id.to_string()).collect::<Vec<_>>(), ["1"]);
    assert_eq!(batch.failures.len(), 1);
    assert!(batch.failures[0].reason.contains("belongs to property 999999"), "{:?}", batch.failures);
    assert_eq!(batch.failures[0].location.as_deref(), Some("data[1].propertyId"));
}
