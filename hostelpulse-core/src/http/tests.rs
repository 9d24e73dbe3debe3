//! Client tests: retry and pacing under a paused clock with a scripted transport; request shapes
//! against wiremock.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use secrecy::SecretString;
use tokio::time::Instant;

use super::*;
use crate::error::{Applied, Error, ErrorKind};
use crate::model::ConnectorKind;

#[derive(Debug)]
enum Step {
    Status(u16, &'static [(&'static str, &'static str)], &'static str),
    Fail(Applied, io::ErrorKind),
}

#[derive(Debug, Default)]
struct Scripted {
    steps: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<(Instant, Outgoing)>>,
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Self { steps: Mutex::new(steps.into()), seen: Mutex::default() })
    }

    fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    fn times(&self) -> Vec<Duration> {
        let seen = self.seen.lock().unwrap();
        let t0 = seen[0].0;
        seen.iter().map(|(t, _)| *t - t0).collect()
    }
}

#[async_trait]
impl Transport for Scripted {
    async fn execute(&self, req: Outgoing) -> Result<Incoming, TransportError> {
        self.seen.lock().unwrap().push((Instant::now(), req));
        let step = self.steps.lock().unwrap().pop_front().unwrap_or(Step::Status(200, &[], "{}"));
        match step {
            Step::Status(status, hdrs, body) => {
                let mut headers = HeaderMap::new();
                for (k, v) in hdrs {
                    headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
                }
                Ok(Incoming { status, headers, body: body.as_bytes().to_vec() })
            }
            Step::Fail(applied, kind) => {
                Err(TransportError { applied, source: Box::new(io::Error::new(kind, "scripted")) })
            }
        }
    }
}

fn client(t: Arc<Scripted>, retry: RetryPolicy, pacing: PacingConfig) -> HttpClient {
    HttpClient::builder(ConnectorKind::BEDS24, "https://api.example.test/v2")
        .transport(t)
        .retry(retry)
        .pacer(Arc::new(Pacer::new(pacing)))
        .build()
        .unwrap()
}

fn policy() -> RetryPolicy {
    RetryPolicy::default().base_delay(Duration::from_millis(100)).max_delay(Duration::from_secs(2)).jitter(Jitter::None)
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_exponential_backoff() {
    let t = Scripted::new(vec![
        Step::Status(503, &[], "busy"),
        Step::Fail(Applied::Maybe, io::ErrorKind::ConnectionReset),
        Step::Status(502, &[], ""),
        Step::Status(200, &[], r#"{"ok":true}"#),
    ]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    let resp = c.send(Request::get("bookings")).await.unwrap();
    assert_eq!(resp.json::<serde_json::Value>().unwrap()["ok"], true);
    let ms: Vec<_> = t.times().iter().map(|d| d.as_millis()).collect();
    assert_eq!(ms, vec![0, 100, 300, 700]);
    let s = c.stats();
    assert_eq!((s.requests, s.retries, s.throttled_ms), (4, 3, 0));
}

#[tokio::test(start_paused = true)]
async fn full_jitter_never_waits_longer_than_the_ceiling() {
    let t = Scripted::new(vec![Step::Status(500, &[], ""), Step::Status(500, &[], ""), Step::Status(500, &[], "")]);
    let c = client(t.clone(), policy().jitter(Jitter::Full), PacingConfig::default());
    c.send(Request::get("x")).await.unwrap();
    let times = t.times();
    assert!(times[1] <= Duration::from_millis(100));
    assert!(times[2] - times[1] <= Duration::from_millis(200));
    assert!(times[3] - times[2] <= Duration::from_millis(400));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_counted_as_throttled_time() {
    let t = Scripted::new(vec![Step::Status(429, &[("retry-after", "7")], ""), Step::Status(200, &[], "{}")]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    c.send(Request::get("bookings")).await.unwrap();
    assert_eq!(t.times()[1], Duration::from_secs(7));
    assert_eq!(c.stats().throttled_ms, 7000);
}

#[tokio::test(start_paused = true)]
async fn a_wait_beyond_the_callers_budget_returns_throttled_until_without_sleeping() {
    let t = Scripted::new(vec![Step::Status(429, &[("retry-after", "600")], "")]);
    let c = client(t.clone(), policy().max_wait(Duration::from_secs(60)), PacingConfig::default());
    let before = chrono::Utc::now();
    let started = Instant::now();
    let err = c.send(Request::get("bookings")).await.unwrap_err();
    assert_eq!(Instant::now(), started, "must not sleep");
    assert_eq!(err.kind(), ErrorKind::Throttled);
    match err {
        Error::Throttled { until, .. } => assert!(until >= before + chrono::Duration::seconds(599)),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn vendor_reset_headers_count_when_throttled() {
    let t = Scripted::new(vec![
        Step::Status(429, &[("x-five-min-limit-resets-in", "12")], r#"{"code":1016}"#),
        Step::Status(200, &[], "{}"),
    ]);
    let c = client(
        t.clone(),
        policy().reset_header(HeaderName::from_static("x-five-min-limit-resets-in")),
        PacingConfig::default(),
    );
    c.send(Request::get("bookings")).await.unwrap();
    assert_eq!(t.times()[1], Duration::from_secs(12));
}

#[tokio::test(start_paused = true)]
async fn writes_are_retried_only_when_they_certainly_did_not_apply() {
    // A reset after sending: the POST may have been applied, so it is not repeated.
    let t = Scripted::new(vec![Step::Fail(Applied::Maybe, io::ErrorKind::ConnectionReset)]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    let err = c.send(Request::post("bookings").json(&[1]).unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.applied(), Applied::Maybe);
    assert_eq!(t.calls(), 1);

    // A refused connection never reached the server: safe to repeat.
    let t =
        Scripted::new(vec![Step::Fail(Applied::No, io::ErrorKind::ConnectionRefused), Step::Status(201, &[], "[]")]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    c.send(Request::post("bookings").json(&[1]).unwrap()).await.unwrap();
    assert_eq!(t.calls(), 2);

    // Marked idempotent, it may be repeated after a reset.
    let t =
        Scripted::new(vec![Step::Fail(Applied::Maybe, io::ErrorKind::ConnectionReset), Step::Status(201, &[], "[]")]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    c.send(Request::post("bookings").idempotent(true)).await.unwrap();
    assert_eq!(t.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried() {
    let t = Scripted::new(vec![Step::Status(
        400,
        &[],
        r#"{"success":false,"type":"error","code":400,"error":"bad arrival"}"#,
    )]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    let err = c.send(Request::get("bookings")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert!(err.to_string().contains("bad arrival"), "{err}");
    assert_eq!(t.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn attempts_and_elapsed_time_bound_the_retries() {
    let steps = (0..10).map(|_| Step::Status(503, &[], "")).collect();
    let t = Scripted::new(steps);
    let c = client(t.clone(), policy().max_attempts(3), PacingConfig::default());
    assert_eq!(c.send(Request::get("x")).await.unwrap_err().kind(), ErrorKind::Transient);
    assert_eq!(t.calls(), 3);

    let steps = (0..10).map(|_| Step::Status(503, &[], "")).collect();
    let t = Scripted::new(steps);
    let c =
        client(t.clone(), policy().max_attempts(10).max_elapsed(Duration::from_millis(1000)), PacingConfig::default());
    c.send(Request::get("x")).await.unwrap_err();
    // 0, 100, 300, 700 — the next wait (800 ms) would pass the 1 s bound.
    assert_eq!(t.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_shared_retry_budget_stops_a_retry_storm() {
    let steps = (0..20).map(|_| Step::Status(503, &[], "")).collect();
    let t = Scripted::new(steps);
    let c = client(t.clone(), policy().max_attempts(5), PacingConfig::default().retry_budget(3, 1));
    c.send(Request::get("a")).await.unwrap_err();
    assert_eq!(t.calls(), 4, "first request: 1 try + 3 retries from the budget");
    c.clone().send(Request::get("b")).await.unwrap_err();
    assert_eq!(t.calls(), 5, "second request: budget spent, no retry");
}

#[derive(Debug)]
struct SuccessFlag;

impl ResponseInspector for SuccessFlag {
    fn inspect(&self, connector: &ConnectorKind, _: &str, status: u16, _: &HeaderMap, body: &[u8]) -> Option<Error> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            success: Option<bool>,
            message: Option<String>,
        }
        let env: Envelope = serde_json::from_slice(body).ok()?;
        (status == 200 && env.success == Some(false)).then(|| Error::Vendor {
            connector: connector.clone(),
            kind: ErrorKind::Configuration,
            code: None,
            message: env.message.unwrap_or_default(),
            applied: Applied::No,
        })
    }
}

#[tokio::test(start_paused = true)]
async fn http_200_with_an_error_body_is_classified_by_the_inspector() {
    let t = Scripted::new(vec![Step::Status(200, &[], r#"{"success":false,"message":"Please specify propertyID"}"#)]);
    let c = HttpClient::builder(ConnectorKind::CLOUDBEDS, "https://api.example.test/api/v1.3")
        .transport(t.clone())
        .inspector(Arc::new(SuccessFlag))
        .build()
        .unwrap();
    let err = c.send(Request::get("getReservations")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert_eq!(t.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn pacing_waits_count_as_throttled_time() {
    let t = Scripted::new(vec![]);
    let c = client(t.clone(), policy(), PacingConfig::default().requests_per_second(2));
    for _ in 0..3 {
        c.send(Request::get("x")).await.unwrap();
    }
    assert_eq!(t.times()[2], Duration::from_secs(1));
    assert_eq!(c.stats().throttled_ms, 1000);
}

#[tokio::test(start_paused = true)]
async fn decode_failures_name_the_json_path() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        data: Vec<Row>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Row {
        arrival: chrono::NaiveDate,
    }
    let t =
        Scripted::new(vec![Step::Status(200, &[], r#"{"data":[{"arrival":"2026-01-02"},{"arrival":"02/01/2026"}]}"#)]);
    let c = client(t, policy(), PacingConfig::default());
    let err = c.send(Request::get("bookings")).await.unwrap().json::<Page>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpstreamData);
    assert!(err.to_string().contains("data[1].arrival"), "{err}");
}

#[test]
fn secret_headers_never_show_in_debug_output() {
    let req = Request::get("bookings").secret_header("token", &SecretString::from("s3cr3t-token")).unwrap();
    let dbg = format!("{req:?}");
    assert!(!dbg.contains("s3cr3t-token"), "{dbg}");
    assert!(dbg.contains("Sensitive"), "{dbg}");
}

#[tokio::test]
async fn request_shape_on_the_wire() {
    use wiremock::matchers::{body_string, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1.3/postReservationNote"))
        .and(header("x-api-key", "cbat_abc"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("propertyID=1&reservationNote=Late+arrival+%26+key+box"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"success":true,"reservationNoteID":"9"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1.3/bookings"))
        .and(query_param("status", "cancelled"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;

    let c = HttpClient::builder(ConnectorKind::CLOUDBEDS, format!("{}/api/v1.3", server.uri())).build().unwrap();
    let resp = c
        .send(
            Request::post("postReservationNote")
                .secret_header("x-api-key", &SecretString::from("cbat_abc"))
                .unwrap()
                .form([("propertyID", "1"), ("reservationNote", "Late arrival & key box")]),
        )
        .await
        .unwrap();
    assert_eq!(resp.json::<serde_json::Value>().unwrap()["reservationNoteID"], "9");

    c.send(Request::get("bookings").query_each("status", ["confirmed", "cancelled"])).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let q = received[1].url.query().unwrap();
    assert_eq!(q, "status=confirmed&status=cancelled");
}

#[tokio::test]
async fn a_base_url_that_is_not_http_is_a_configuration_error() {
    let err = HttpClient::builder(ConnectorKind::BEDS24, "ftp://example.test").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    let err = HttpClient::builder(ConnectorKind::BEDS24, "not a url").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
}

#[tokio::test(start_paused = true)]
async fn absolute_urls_are_fetched_and_logged_by_host_only() {
    let t = Scripted::new(vec![Step::Status(404, &[], "")]);
    let c = client(t.clone(), policy(), PacingConfig::default());
    let url = url::Url::parse("https://www.airbnb.com/calendar/ical/123.ics?s=secret-token").unwrap();
    let err = c.send(Request::get_url(url.clone())).await.unwrap_err();
    assert_eq!(t.seen.lock().unwrap()[0].1.url, url);
    let msg = err.to_string();
    assert!(msg.contains("www.airbnb.com/…") && !msg.contains("secret-token") && !msg.contains("123.ics"), "{msg}");
}

#[test]
fn clock_skew_is_the_date_header_minus_our_clock() {
    let mut h = HeaderMap::new();
    // 1994-11-06T08:49:37Z is 784111777 s after the epoch.
    h.insert(reqwest::header::DATE, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
    let ours = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 + 1200);
    assert_eq!(super::client::clock_skew(&h, ours), Some(-1200));
    let ours = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 - 30);
    assert_eq!(super::client::clock_skew(&h, ours), Some(30));
    h.insert(reqwest::header::DATE, HeaderValue::from_static("yesterday"));
    assert_eq!(super::client::clock_skew(&h, ours), None, "an unreadable Date is no measurement");
    assert_eq!(super::client::clock_skew(&HeaderMap::new(), ours), None);
}

#[tokio::test(start_paused = true)]
async fn every_response_with_a_date_updates_the_measured_skew() {
    let t = Scripted::new(vec![
        Step::Status(200, &[], "{}"),
        Step::Status(200, &[("date", "Sun, 06 Nov 1994 08:49:37 GMT")], "{}"),
    ]);
    let c = client(t, policy(), PacingConfig::default());
    c.send(Request::get("a")).await.unwrap();
    assert_eq!(c.stats().clock_skew_secs, None, "no Date header yet");
    c.send(Request::get("b")).await.unwrap();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let skew = c.stats().clock_skew_secs.unwrap();
    assert!((784_111_777 - now - skew).abs() <= 1, "{skew}");
}

#[test]
fn transports_with_the_same_settings_share_one_client() {
    let ua = "hostelpulse-test/shared-client";
    let before = ReqwestTransport::clients_built();
    for _ in 0..200 {
        ReqwestTransport::new(Duration::from_secs(7), ua, 1024).unwrap();
    }
    ReqwestTransport::new(Duration::from_secs(8), ua, 1024).unwrap();
    // Other tests may build clients at the same time; these 201 transports built exactly two.
    let built = ReqwestTransport::clients_built() - before;
    assert!((2..=4).contains(&built), "{built} clients built for 201 transports");
}
