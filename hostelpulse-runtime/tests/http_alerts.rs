//! Alerts POSTed to the host verify with the same verifier the SDK uses for the PMSs' webhooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use hostelpulse_core::webhook::{Delivery, HmacScheme, WebhookVerifier};
use hostelpulse_runtime::alerts::{AlertEvent, AlertSink, HttpAlerts};
use hostelpulse_runtime::{AlertRule, AlertStatus};
use secrecy::SecretString;

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[tokio::test]
async fn an_http_alert_is_signed_with_a_timestamp_and_verifies() {
    let received: Received = Arc::default();
    let app = {
        let r = received.clone();
        Router::new().route(
            "/alerts",
            post(move |headers: HeaderMap, body: Bytes| {
                let r = r.clone();
                async move {
                    r.lock().unwrap().push((headers, body));
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let secret = SecretString::from("alert-signing-secret-0123");
    let sink = HttpAlerts::new(format!("http://{addr}/alerts").parse().unwrap(), secret.clone()).unwrap();
    let event: AlertEvent = serde_json::from_value(serde_json::json!({
        "account": "harbour-pms", "rule": "consecutive_failures", "status": "firing",
        "since": "2026-12-01T10:03:00Z", "at": "2026-12-01T10:03:00Z", "detail": "3 runs in a row did not succeed"
    }))
    .unwrap();
    sink.deliver(&event).await.unwrap();

    let (headers, body) = received.lock().unwrap().pop().expect("one delivery");
    let back: AlertEvent = serde_json::from_slice(&body).unwrap();
    assert_eq!((back.rule, back.status), (AlertRule::ConsecutiveFailures, AlertStatus::Firing));
    let verifier = WebhookVerifier::new().hmac(
        HmacScheme::timestamped("x-hostelpulse-signature", "x-hostelpulse-timestamp", Duration::from_secs(300)),
        vec![secret],
    );
    let delivery = Delivery { headers: &headers, body: &body, url_secret: None, remote_ip: None };
    verifier.verify(&delivery, chrono::Utc::now()).expect("the host's verifier accepts it");
    // Tampered, or verified with another secret: refused.
    let mut tampered = body.to_vec();
    tampered[5] ^= 1;
    let bad = Delivery { body: &tampered, ..delivery };
    assert!(verifier.verify(&bad, chrono::Utc::now()).is_err());
    let other = WebhookVerifier::new().hmac(
        HmacScheme::timestamped("x-hostelpulse-signature", "x-hostelpulse-timestamp", Duration::from_secs(300)),
        vec![SecretString::from("another-secret-0123456789")],
    );
    assert!(other.verify(&delivery, chrono::Utc::now()).is_err());
    // A replay an hour later falls outside the timestamp's tolerance.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(verifier.verify(&delivery, later).is_err());
    // The secret must be long enough to be one.
    assert!(HttpAlerts::new(format!("http://{addr}/alerts").parse().unwrap(), SecretString::from("short")).is_err());
}
