//! The inbox connector against a sandbox Maildir: the conformance kit, Maildir handling, folding
//! of several mails about one booking, review, and what reaches the sync report.

use std::sync::Arc;

use hostelpulse_connector_email::{EmailConfig, EmailConnector, Maildir, RawQueue};
use hostelpulse_core::model::BookingStatus;
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_core::testkit::{self, KitOptions};
use hostelpulse_core::{BookingQuery, Connector};
use hostelpulse_sandbox::mail::{BookingMailer, MaildirWriter, sample};

fn config() -> EmailConfig {
    EmailConfig::builder("inbox-1").build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_with_the_maildir_source() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = BookingMailer::create(dir.path().join("Maildir")).unwrap();
    let c = EmailConnector::maildir(config(), mailer.root());
    testkit::run_all(&c, &mailer, &KitOptions::default()).await;
    let root = mailer.root().to_path_buf();
    let make = move || -> Arc<dyn Connector> { Arc::new(EmailConnector::maildir(config(), root.clone())) };
    testkit::run_durability(&make, &mailer, Arc::new(MemoryStore::new()), &KitOptions::default()).await;
}

fn names(dir: &std::path::Path, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn processed_mail_is_flagged_seen_and_kept_unless_configured() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = MaildirWriter::create(dir.path()).unwrap();
    inbox.deliver(sample("expedia-new-booking-forwarded.eml").unwrap()).unwrap();
    inbox.deliver(sample("newsletter-not-a-booking.eml").unwrap()).unwrap();
    let c = EmailConnector::maildir(config(), dir.path());
    let first = c.poll().await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(names(dir.path(), "new").len(), 2, "nothing is marked before the run that read it committed");
    c.acknowledge().await.unwrap();
    assert!(names(dir.path(), "new").is_empty());
    let cur = names(dir.path(), "cur");
    assert_eq!(cur.len(), 2, "never deleted by default");
    assert!(cur.iter().all(|n| n.ends_with(":2,S")), "{cur:?}");
    assert!(c.poll().await.unwrap().is_empty(), "seen mail is not handed out again");

    // A message the owner's client already moved to cur/ unread is still ours; one flagged seen is not.
    std::fs::write(dir.path().join("cur/1.000001.client:2,"), sample("agoda-voucher-confirmed.eml").unwrap()).unwrap();
    std::fs::write(dir.path().join("cur/1.000002.client:2,FS"), sample("tripcom-new-booking.eml").unwrap()).unwrap();
    let again = c.poll().await.unwrap();
    assert_eq!(again.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["cur/1.000001.client:2,"]);
    c.acknowledge().await.unwrap();
    assert!(names(dir.path(), "cur").contains(&"1.000001.client:2,S".to_owned()));

    let deleting = EmailConnector::new(config(), Arc::new(Maildir::new(dir.path(), 1 << 20).delete_processed(true)));
    inbox.deliver(sample("hostelworld-confirmed.eml").unwrap()).unwrap();
    assert_eq!(deleting.poll().await.unwrap().len(), 1);
    deleting.acknowledge().await.unwrap();
    assert_eq!(names(dir.path(), "cur").len(), 4, "the processed message was deleted, the others kept");
}

#[tokio::test]
async fn a_missing_maildir_is_a_configuration_error() {
    let c = EmailConnector::maildir(config(), "/nonexistent/hostelpulse/Maildir");
    let err = c.bookings(&BookingQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), hostelpulse_core::ErrorKind::Configuration, "{err}");
}

#[tokio::test]
async fn mails_about_one_booking_fold_into_one_record() {
    let queue = Arc::new(RawQueue::new());
    let c = EmailConnector::new(config(), queue.clone());
    // Booking.com's host notification has no departure: held for review…
    queue.push(sample("booking-host-new.eml").unwrap().to_vec()).await;
    let batch = c.bookings(&BookingQuery::default()).await.unwrap();
    assert!(batch.bookings.is_empty());
    assert!(batch.failures.iter().any(|f| f.reason.contains("held for review") && f.reason.contains("departure")));
    assert_eq!(c.review_queue().await.len(), 1);
    // …and its cancellation folds into the same record (same channel and number).
    queue.push(sample("booking-host-cancelled.eml").unwrap().to_vec()).await;
    c.bookings(&BookingQuery::default()).await.unwrap();
    let records = c.records().await;
    assert_eq!(records.keys().collect::<Vec<_>>(), ["booking_com:4012345678"]);
    assert_eq!(records["booking_com:4012345678"].mails, 2);

    // The same Expedia booking forwarded twice (two clients) is one booking.
    queue.push(sample("expedia-new-booking-forwarded.eml").unwrap().to_vec()).await;
    queue.push(sample("expedia-new-booking-gmail-forward-cp1252.eml").unwrap().to_vec()).await;
    let batch = c.bookings(&BookingQuery::default()).await.unwrap();
    let expedia: Vec<_> = batch.bookings.iter().filter(|b| b.key.id.as_str() == "expedia:2511634261").collect();
    assert_eq!(expedia.len(), 1);
    assert_eq!(expedia[0].status, BookingStatus::Confirmed);
    assert_eq!(expedia[0].channel_ref.as_deref(), Some("2511634261"), "the channel reference dedupes across sources");
}

#[tokio::test]
async fn nothing_is_lost_every_mail_is_in_the_report() {
    let queue = Arc::new(RawQueue::new());
    let c = EmailConnector::new(config(), queue.clone());
    for name in ["newsletter-not-a-booking.eml", "airbnb-request-fr-forwarded-latin1.eml", "hostelworld-confirmed.eml"]
    {
        queue.push(sample(name).unwrap().to_vec()).await;
    }
    queue.push(Vec::new()).await;
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let sink = CollectingSink::new();
    let run = engine.run(&c, Plan::Full, Trigger::Manual, &sink).await;
    assert_eq!(sink.take().len(), 1, "the Hostelworld booking (December, inside the window)");
    let reasons: Vec<&str> = run.failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("not a booking") && r.contains("sale")));
    assert!(reasons.iter().any(|r| r.starts_with("not a booking") && r.contains("request")));
    assert!(reasons.iter().any(|r| r.starts_with("unreadable mail: malformed")));
}

#[tokio::test]
async fn state_keeps_extracted_fields_only_and_round_trips() {
    let queue = Arc::new(RawQueue::new());
    let c = EmailConnector::new(config(), queue.clone());
    queue.push(sample("airbnb-confirmed-fr-forwarded.eml").unwrap().to_vec()).await;
    c.poll().await.unwrap();
    let state = c.save_state().await.unwrap().unwrap();
    let text = state.to_string();
    assert!(text.contains("HM45MDTHZ4"));
    assert!(!text.contains("randonnée") && !text.contains("muscache"), "no message body is kept");
    let restored = EmailConnector::new(config(), Arc::new(RawQueue::new()));
    restored.restore_state(Some(state)).await.unwrap();
    assert_eq!(restored.records().await, c.records().await);
}

/// A Hostelworld confirmation for booking `n`, with a Message-ID of its own.
fn hostelworld(n: usize) -> Vec<u8> {
    String::from_utf8(sample("hostelworld-confirmed.eml").unwrap().to_vec())
        .unwrap()
        .replace("1234-567890123", &format!("1234-{n:09}"))
        .replace("<hostelworld@", &format!("<hostelworld-{n}@"))
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_larger_than_its_read_parts_loses_and_doubles_nothing_across_a_rebuild() {
    // The Maildir is read 128 mails at a time, two parts in flight: 389 mails cross four parts.
    let dir = tempfile::tempdir().unwrap();
    let inbox = MaildirWriter::create(dir.path()).unwrap();
    for n in 0..389 {
        inbox.deliver(&hostelworld(n)).unwrap();
    }
    let peek = EmailConnector::maildir(config(), dir.path());
    let order: Vec<String> = peek.poll().await.unwrap().into_iter().map(|p| p.id).collect();
    let expected: Vec<String> = names(dir.path(), "new").into_iter().map(|n| format!("new/{n}")).collect();
    assert_eq!(order, expected, "every mail, once, in arrival order");
    drop(peek);

    let store = Arc::new(MemoryStore::new());
    let sink = CollectingSink::new();
    {
        let c = EmailConnector::maildir(config(), dir.path());
        let run = SyncEngine::new(store.clone()).run(&c, Plan::Full, Trigger::Manual, &sink).await;
        assert!(run.failures.is_empty(), "{:?}", run.failures);
        assert_eq!(run.counts.inserted, 389);
    }
    assert_eq!(sink.take().len(), 389);
    assert!(names(dir.path(), "new").is_empty(), "every mail acknowledged after the commit");
    assert_eq!(names(dir.path(), "cur").len(), 389);

    // Everything is dropped and rebuilt on the same store; five more mails arrive.
    for n in 389..394 {
        inbox.deliver(&hostelworld(n)).unwrap();
    }
    let c = EmailConnector::maildir(config(), dir.path());
    let run = SyncEngine::new(store.clone()).run(&c, Plan::Full, Trigger::Manual, &sink).await;
    assert_eq!((run.counts.inserted, run.counts.unchanged, run.counts.disappeared), (5, 389, 0));
    let changes = sink.take();
    assert_eq!(changes.len(), 5, "only the new mails' bookings reach the host");
    let mut ids: Vec<_> = changes.iter().map(|c| c.key.id.as_str().to_owned()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}
