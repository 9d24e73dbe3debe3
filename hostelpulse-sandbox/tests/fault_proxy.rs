//! The proxy injects every fault for real, and the core client rides through them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use hostelpulse_core::ConnectorKind;
use hostelpulse_core::ErrorKind;
use hostelpulse_core::http::{HttpClient, Jitter, Request, RetryPolicy};
use hostelpulse_core::testkit::{Fault, FaultPlan};
use hostelpulse_sandbox::{FaultProxy, ProxyConfig, Running};

#[derive(serde::Deserialize)]
struct Q {
    n: u64,
}

async fn upstream() -> (Running, Arc<AtomicU64>) {
    let writes = Arc::new(AtomicU64::new(0));
    let router = Router::new()
        .route(
            "/api/item",
            get(|Query(q): Query<Q>| async move { axum::Json(serde_json::json!({"n": q.n, "pad": "x".repeat(200)})) }),
        )
        .route(
            "/api/write",
            post(|State(w): State<Arc<AtomicU64>>| async move {
                w.fetch_add(1, Ordering::SeqCst);
                axum::Json(serde_json::json!({"ok": true}))
            }),
        )
        .with_state(writes.clone());
    (Running::serve(router).await.unwrap(), writes)
}

fn client(base: String) -> HttpClient {
    HttpClient::builder(ConnectorKind::new("proxy-test"), base)
        .request_timeout(Duration::from_millis(300))
        .retry(
            RetryPolicy::default()
                .max_attempts(12)
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(50))
                .max_wait(Duration::from_secs(3))
                .jitter(Jitter::Full),
        )
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_ride_through_a_fifth_of_requests_failing() {
    let (up, _) = upstream().await;
    // 401 and 200-with-error are the connector's business (refresh, vendor classification), not the
    // transport's: leave them out here.
    let faults = [
        Fault::TooManyRequests,
        Fault::ServerError,
        Fault::Unavailable,
        Fault::Timeout,
        Fault::ConnectionReset,
        Fault::TruncatedBody,
    ];
    let proxy = FaultProxy::start(
        up.url(""),
        ProxyConfig::new(FaultPlan::new(0.2, &faults, 42)).stall(Duration::from_millis(600)),
    )
    .await
    .unwrap();
    let c = client(proxy.url("/api"));
    for n in 0..60u64 {
        let resp = c.send(Request::get("item").query("n", n)).await.unwrap_or_else(|e| panic!("request {n}: {e}"));
        let v: serde_json::Value = resp.json().unwrap();
        assert_eq!(v["n"], n, "a retried read must return its own answer");
    }
    assert!(proxy.injected() >= 5, "only {} faults injected", proxy.injected());
    assert!(c.stats().retries >= proxy.injected().min(10) / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_after_the_upstream_acted_is_not_repeated() {
    let (up, writes) = upstream().await;
    let proxy = FaultProxy::start(up.url(""), ProxyConfig::new(FaultPlan::new(1.0, &[Fault::ConnectionReset], 1)))
        .await
        .unwrap();
    let c = client(proxy.url("/api"));
    let err = c.send(Request::post("write")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(writes.load(Ordering::SeqCst), 1, "the upstream acted once and the client did not repeat it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_faults_arrive_as_the_vendor_would_send_them() {
    let (up, _) = upstream().await;
    let proxy =
        FaultProxy::start(up.url(""), ProxyConfig::new(FaultPlan::new(1.0, &[Fault::ExpiredToken], 1))).await.unwrap();
    let err = client(proxy.url("/api")).send(Request::get("item").query("n", 1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
    let proxy =
        FaultProxy::start(up.url(""), ProxyConfig::new(FaultPlan::new(1.0, &[Fault::ErrorBody], 1))).await.unwrap();
    let resp = client(proxy.url("/api")).send(Request::get("item").query("n", 1)).await.unwrap();
    // Without the vendor's inspector a 200 is a 200: classifying the body is the connector's job.
    assert_eq!(resp.json::<serde_json::Value>().unwrap()["success"], false);
}
