//! FrontDesk Master: the kit against sandbox per-room iCal feeds, and a CSV report import that
//! lands on the same connector kind and account.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_fdm::FdmConnector;
use hostelpulse_connector_ical::{FeedConfig, IcalConfig};
use hostelpulse_core::http::RetryPolicy;
use hostelpulse_core::model::{Allocation, ConnectorKind};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Scope, SyncEngine, SyncStore};
use hostelpulse_core::testkit::{self, KitOptions};
use hostelpulse_core::{BookingQuery, Connector, ErrorKind};
use hostelpulse_sandbox::IcalFeedServer;
use secrecy::SecretString;

fn connector(server: &IcalFeedServer) -> FdmConnector {
    let unit =
        |id: &str| Allocation { room_type: Some("dorm-a".into()), room: Some(id.into()), ..Allocation::default() };
    let feeds = IcalConfig::builder("fdm-hostel", chrono_tz::Europe::Madrid)
        .allow_private_addresses(true)
        .retry(RetryPolicy::none())
        .request_timeout(Duration::from_secs(2))
        .feed(FeedConfig::new("room-1", SecretString::from(server.url("room-1")), unit("room-1")))
        .feed(FeedConfig::new("room-2", SecretString::from(server.url("room-2")), unit("room-2")));
    FdmConnector::new(feeds).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_against_per_room_exports() {
    let server = IcalFeedServer::start(&["room-1", "room-2"], 6).await.unwrap();
    let fdm = connector(&server);
    testkit::run_all(&fdm, &server, &KitOptions::default()).await;
    let make = || -> Arc<dyn Connector> { Arc::new(connector(&server)) };
    testkit::run_durability(&make, &server, Arc::new(MemoryStore::new()), &KitOptions::default()).await;
    let batch = fdm.bookings(&BookingQuery::default()).await.unwrap();
    assert!(batch.bookings.iter().all(|b| b.key.connector == ConnectorKind::FDM));
    let err =
        fdm.set_stay_status(&batch.bookings[0].key.id, hostelpulse_core::StayStatus::CheckedIn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_export_imports_under_the_same_account() {
    let server = IcalFeedServer::start(&["room-1", "room-2"], 0).await.unwrap();
    let fdm = connector(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.csv");
    std::fs::write(&path, "Reservation,Guest,Check-in,Check-out,Status,Bed,Channel,Channel reference,Adults,Total\nR-1,Yuki Sato,12/03/2026,15/03/2026,Confirmed,Dorm A - Bed 2,Hostelworld,HW-9,1,60\nR-2,Tom Walker,13/03/2026,14/03/2026,Cancelled,Dorm A - Bed 3,Direct,,1,20\n").unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = SyncEngine::new(store.clone());
    let preview = fdm.import_csv(&engine, &path, &CollectingSink::new(), true).await.unwrap();
    assert_eq!((preview.ok, preview.inserted), (2, 2));
    let report = fdm.import_csv(&engine, &path, &CollectingSink::new(), false).await.unwrap();
    assert_eq!(report.inserted, 2);
    let records = store.load(&Scope::new(ConnectorKind::FDM, "fdm-hostel".into())).await.unwrap().records;
    assert_eq!(records.len(), 2);
    assert_eq!(
        fdm.import_csv(&engine, &path, &CollectingSink::new(), false).await.unwrap().unchanged,
        2,
        "re-importing changes nothing"
    );
}
