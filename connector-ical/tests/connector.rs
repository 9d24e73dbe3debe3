//! The iCal connector against the sandbox feed server.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_ical::{FeedConfig, IcalConfig, IcalConnector};
use hostelpulse_core::http::{Jitter, RetryPolicy};
use hostelpulse_core::model::{Allocation, BookingStatus, SourceId};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncEngine, Trigger};
use hostelpulse_core::testkit::{self, KitOptions};
use hostelpulse_core::{BookingQuery, Connector, ErrorKind};
use hostelpulse_sandbox::IcalFeedServer;
use secrecy::SecretString;

fn bed(id: &str) -> Allocation {
    Allocation {
        room_type: Some("dorm6".into()),
        room: Some("dorm6-1".into()),
        bed: Some(SourceId::new(id)),
        label: Some(id.to_owned()),
    }
}

fn connector(server: &IcalFeedServer, feeds: &[&str]) -> IcalConnector {
    let mut b = IcalConfig::builder("hostel-1", chrono_tz::Europe::Lisbon)
        .allow_private_addresses(true)
        .retry(RetryPolicy::default().max_attempts(2).base_delay(Duration::from_millis(5)).jitter(Jitter::None))
        .request_timeout(Duration::from_secs(2));
    for f in feeds {
        b = b.feed(FeedConfig::new(*f, SecretString::from(server.url(f)), bed(f)));
    }
    IcalConnector::new(b.build().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_against_editable_feeds() {
    let server = IcalFeedServer::start(&["bed-1", "bed-2"], 8).await.unwrap();
    let c = connector(&server, &["bed-1", "bed-2"]);
    testkit::run_all(&c, &server, &KitOptions::default()).await;
    let make = || -> Arc<dyn Connector> { Arc::new(connector(&server, &["bed-1", "bed-2"])) };
    testkit::run_durability(&make, &server, Arc::new(MemoryStore::new()), &KitOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_feed_costs_one_304() {
    let server = IcalFeedServer::start(&["bed-1"], 5).await.unwrap();
    let c = connector(&server, &["bed-1"]);
    let first = c.bookings(&BookingQuery::default()).await.unwrap();
    let second = c.bookings(&BookingQuery::default()).await.unwrap();
    assert_eq!((server.served(), server.not_modified()), (1, 1));
    assert_eq!(first.bookings.len(), 5);
    assert_eq!(
        second.bookings.iter().map(|b| &b.key).collect::<Vec<_>>(),
        first.bookings.iter().map(|b| &b.key).collect::<Vec<_>>()
    );
    assert!(
        first
            .bookings
            .iter()
            .all(|b| b.status == BookingStatus::Confirmed && b.guest.name.is_some() && b.allocations[0].bed.is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_addresses_are_refused_unless_allowed() {
    let server = IcalFeedServer::start(&["bed-1"], 1).await.unwrap();
    let for_url = |url: String| {
        let cfg = IcalConfig::builder("hostel-1", chrono_tz::UTC)
            .feed(FeedConfig::new("bed-1", SecretString::from(url), bed("bed-1")))
            .build()
            .unwrap();
        IcalConnector::new(cfg).unwrap()
    };
    let localhost = server.url("bed-1").replace("127.0.0.1", "localhost");
    for url in [
        server.url("bed-1"),
        localhost,
        "http://169.254.169.254/latest/meta-data".into(),
        "http://[::1]/x.ics".into(),
        "file:///etc/passwd".into(),
    ] {
        let err = for_url(url.clone()).bookings(&BookingQuery::default()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{url}: {err}");
    }
    assert_eq!(server.served(), 0, "nothing reached the server");
    // A name that resolves to loopback is refused at resolution too (covers redirects and rebinding).
    let err = for_url(server.url("bed-1").replace("127.0.0.1", "lvh.localtest.invalid"))
        .bookings(&BookingQuery::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("bed-1.ics"), "the feed URL is a secret: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_feed_after_a_full_one_is_suspect_and_cancels_nothing() {
    let server = IcalFeedServer::start(&["bed-1", "bed-2"], 4).await.unwrap();
    let c = connector(&server, &["bed-1", "bed-2"]);
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let sink = CollectingSink::new();
    engine.run(&c, Plan::Full, Trigger::ScheduledFull, &sink).await;
    sink.take();
    server.set_raw("bed-1", Some(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec()));
    for _ in 0..3 {
        let r = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &sink).await;
        assert_eq!(r.counts.disappeared, 0, "{r:?}");
        assert!(r.warnings.iter().any(|w| w.contains("incomplete")), "{:?}", r.warnings);
    }
    assert!(sink.take().is_empty());
    let status = c.feed_status(chrono::Utc::now()).await;
    assert!(status.iter().any(|s| s.id == "bed-1" && s.suspect_empty && s.event_count == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_that_stops_answering_goes_stale() {
    let server = IcalFeedServer::start(&["bed-1"], 2).await.unwrap();
    let url = server.url("bed-1");
    let cfg = IcalConfig::builder("hostel-1", chrono_tz::UTC)
        .allow_private_addresses(true)
        .staleness(Duration::from_secs(60), 2)
        .retry(RetryPolicy::none())
        .feed(FeedConfig::new("bed-1", SecretString::from(url), bed("bed-1")))
        .build()
        .unwrap();
    let c = IcalConnector::new(cfg).unwrap();
    c.bookings(&BookingQuery::default()).await.unwrap();
    let now = chrono::Utc::now();
    assert!(!c.feed_status(now).await[0].stale);
    server.remove("bed-1");
    let r =
        SyncEngine::new(Arc::new(MemoryStore::new())).run(&c, Plan::Full, Trigger::Poll, &CollectingSink::new()).await;
    assert!(matches!(r.outcome, Outcome::Failed { .. }), "{:?}", r.outcome);
    let status = &c.feed_status(now + chrono::Duration::minutes(3)).await[0];
    assert!(status.stale, "{status:?}");
    assert!(status.last_error.is_some());
    // Once stale, every run's audit record says so (the owner's status view reads it).
    let server = IcalFeedServer::start(&["bed-2"], 1).await.unwrap();
    let cfg = IcalConfig::builder("hostel-1", chrono_tz::UTC)
        .allow_private_addresses(true)
        .staleness(Duration::from_millis(1), 1)
        .retry(RetryPolicy::none())
        .feed(FeedConfig::new("bed-1", SecretString::from("http://127.0.0.1:9/gone.ics"), bed("bed-1")))
        .feed(FeedConfig::new("bed-2", SecretString::from(server.url("bed-2")), bed("bed-2")))
        .build()
        .unwrap();
    let c = IcalConnector::new(cfg).unwrap();
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    engine.run(&c, Plan::Full, Trigger::Poll, &CollectingSink::new()).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = engine.run(&c, Plan::Full, Trigger::Poll, &CollectingSink::new()).await;
    assert_eq!(r.outcome, Outcome::Partial);
    assert!(r.failures.iter().any(|f| f.reason.contains("feed bed-1 is stale")), "{:?}", r.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lan_allowance_reaches_its_network_and_nothing_else() {
    let server = IcalFeedServer::start(&["room-1"], 2).await.unwrap();
    let build = |nets: &[&str]| {
        let cfg = IcalConfig::builder("hostel-lan", chrono_tz::Europe::Lisbon)
            .allow_networks(nets.iter().map(|n| n.parse().unwrap()))
            .retry(RetryPolicy::none())
            .feed(FeedConfig::new("room-1", SecretString::from(server.url("room-1")), bed("room-1")))
            .build()
            .unwrap();
        IcalConnector::new(cfg).unwrap()
    };
    // The sandbox serves on 127.0.0.1: reachable when (only) loopback is allowed.
    let allowed = build(&["127.0.0.0/8"]).bookings(&BookingQuery::default()).await.unwrap();
    assert_eq!(allowed.bookings.len(), 2);
    let err = build(&["192.168.1.0/24"]).bookings(&BookingQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_targets_are_configuration_errors_never_retried_or_empty_feeds() {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/to-file.ics",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "file:///etc/passwd")]).into_response() }),
        )
        .route(
            "/to-metadata.ics",
            get(|| async {
                (StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")]).into_response()
            }),
        );
    let server = hostelpulse_sandbox::Running::serve(app).await.unwrap();
    // The server is on loopback, so loopback is allowed; where it sends us is not.
    let build = |path: &str| {
        let cfg = IcalConfig::builder("hostel-1", chrono_tz::Europe::Lisbon)
            .allow_networks(["127.0.0.0/8".parse().unwrap()])
            .feed(FeedConfig::new("f", SecretString::from(server.url(path)), bed("f")))
            .build()
            .unwrap();
        IcalConnector::new(cfg).unwrap()
    };
    for path in ["/to-file.ics", "/to-metadata.ics"] {
        let err = build(path).bookings(&BookingQuery::default()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{path}: {err}");
    }
    // A name that resolves only to internal addresses (this machine's own name, on most hosts):
    // refused at resolution, a configuration error at once, not a passing failure retried.
    let name = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim().to_owned();
    let internal = !name.is_empty()
        && tokio::net::lookup_host((name.as_str(), 80))
            .await
            .is_ok_and(|mut a| a.all(|a| hostelpulse_connector_ical::is_internal(a.ip())));
    if !internal {
        eprintln!("skipped the resolver case: this machine's name does not resolve to an internal address");
        return;
    }
    let cfg = IcalConfig::builder("hostel-1", chrono_tz::Europe::Lisbon)
        .feed(FeedConfig::new("f", SecretString::from(format!("http://{name}:1/x.ics")), bed("f")))
        .build()
        .unwrap();
    let err = IcalConnector::new(cfg).unwrap().bookings(&BookingQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_feed_answering_html_is_an_error_and_an_unreadable_one_a_warning() {
    let server = IcalFeedServer::start(&["bed-1", "bed-2"], 2).await.unwrap();
    let c = connector(&server, &["bed-1", "bed-2"]);
    server
        .set_raw("bed-1", Some(b"<!DOCTYPE html><html><body>This calendar is no longer shared</body></html>".to_vec()));
    let err = c.feed("bed-1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("not an iCalendar file") && err.to_string().contains("revoked"), "{err}");
    // A calendar whose every event is unreadable: the run says so, it is not a quiet success.
    server.set_raw(
        "bed-2",
        Some(
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nORGANIZER;CN=a\\, b\\; c:mailto:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                .to_vec(),
        ),
    );
    let batch = c.bookings(&BookingQuery::default()).await.unwrap();
    let reasons: Vec<&str> = batch.failures.iter().map(|f| f.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("feed bed-2: every event was skipped")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("feed not read") && r.contains("not an iCalendar file")), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_validators_serve_a_new_connector_but_never_another_url() {
    let server = IcalFeedServer::start(&["bed-1", "bed-2"], 3).await.unwrap();
    let first = connector(&server, &["bed-1"]);
    let read = first.bookings(&BookingQuery::default()).await.unwrap();
    let saved = first.save_state().await.unwrap();
    let text = saved.as_ref().unwrap().to_string();
    assert!(!text.contains(&server.url("bed-1")), "the feed's URL (its secret) is never saved");
    drop(first);

    // A new process with the saved state: a 304, and the same bookings as the download gave.
    let again = connector(&server, &["bed-1"]);
    again.restore_state(saved.clone()).await.unwrap();
    let from_304 = again.bookings(&BookingQuery::default()).await.unwrap();
    assert_eq!((server.served(), server.not_modified()), (1, 1));
    assert_eq!(from_304.bookings.len(), read.bookings.len());
    assert_eq!(from_304.bookings.len(), 3);

    // The same feed id now pointing at another URL: the saved validators do not apply.
    let mut b = IcalConfig::builder("hostel-1", chrono_tz::Europe::Lisbon).allow_private_addresses(true);
    b = b.feed(FeedConfig::new("bed-1", SecretString::from(server.url("bed-2")), bed("bed-1")));
    let moved = IcalConnector::new(b.build().unwrap()).unwrap();
    moved.restore_state(saved).await.unwrap();
    moved.bookings(&BookingQuery::default()).await.unwrap();
    assert_eq!((server.served(), server.not_modified()), (2, 1), "downloaded whole, not asked conditionally");
}
