//! Engine rules, each against a scripted connector.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::*;
use crate::capability::{Capabilities, Operation, Support};
use crate::clock::ManualClock;
use crate::connector::{BookingBatch, BookingIds, BookingQuery, Connector, RecordFailure};
use crate::error::{Applied, BoxError, Error, ErrorKind, Result};
use crate::model::{AccountId, Booking, BookingStatus, ConnectorKind, Fingerprinted, Provenance, SourceKey, Via};
use crate::testkit::ReferenceConnector;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn day(offset: i64) -> NaiveDate {
    now().date_naive() + Duration::days(offset)
}

fn booking(id: u64, arrival: i64, nights: i64, modified_min: i64) -> Booking {
    let mut b = Booking::new(
        SourceKey::new(ConnectorKind::MEMORY, "acc", id),
        Provenance::new(Via::Api, now()),
        BookingStatus::Confirmed,
        day(arrival),
        day(arrival + nights),
    );
    b.modified_at = Some(now() - Duration::days(1) + Duration::minutes(modified_min));
    b
}

/// Answers each `bookings()` call with the next scripted result.
struct Script {
    account: AccountId,
    answers: Mutex<VecDeque<Result<BookingBatch>>>,
    queries: Mutex<Vec<BookingQuery>>,
    by_id: bool,
    /// What the transport measured of the source's clock (its `Date` header).
    skew: Mutex<Option<i64>>,
}

impl Script {
    fn new(answers: Vec<Result<BookingBatch>>) -> Self {
        Self {
            account: AccountId::new("acc"),
            answers: Mutex::new(answers.into()),
            queries: Mutex::default(),
            by_id: false,
            skew: Mutex::default(),
        }
    }

    fn push(&self, answer: Result<BookingBatch>) {
        self.answers.lock().unwrap().push_back(answer);
    }

    fn queries(&self) -> Vec<BookingQuery> {
        self.queries.lock().unwrap().clone()
    }
}

#[async_trait]
impl Connector for Script {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::MEMORY
    }
    fn account(&self) -> &AccountId {
        &self.account
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = ReferenceConnector::declared();
        if !self.by_id {
            caps.refine(Operation::ReadBookingsById, Support::unsupported("scripted"));
        }
        caps
    }
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        self.queries.lock().unwrap().push(query.clone());
        self.answers.lock().unwrap().pop_front().unwrap_or_else(|| Ok(BookingBatch::complete(vec![], vec![])))
    }
    fn transport_stats(&self) -> Option<crate::connector::TransportStats> {
        let skew = *self.skew.lock().unwrap();
        Some(crate::connector::TransportStats { clock_skew_secs: skew, ..Default::default() })
    }
}

fn full(bookings: Vec<Booking>) -> Result<BookingBatch> {
    Ok(BookingBatch::complete(bookings, vec![]))
}

struct Harness {
    engine: SyncEngine,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

fn harness() -> Harness {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(now()));
    let engine = SyncEngine::new(store.clone()).with_clock(clock.clone());
    Harness { engine, store, clock }
}

impl Harness {
    async fn run(&self, c: &dyn Connector, plan: Plan, sink: &dyn Sink) -> AuditRecord {
        self.clock.advance(Duration::minutes(1));
        self.engine.run(c, plan, Trigger::Manual, sink).await
    }

    async fn state(&self) -> SyncState {
        self.store.load(&Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"))).await.unwrap()
    }
}

fn classes(sink: &CollectingSink) -> Vec<(ChangeClass, String)> {
    let mut v: Vec<_> = sink.take().into_iter().map(|c| (c.class, c.key.id.to_string())).collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

#[tokio::test]
async fn full_then_unchanged_then_each_change_class() {
    let h = harness();
    let sink = CollectingSink::new();
    let (a, b, c) = (booking(1, 2, 2, 0), booking(2, 5, 1, 0), booking(3, 9, 3, 0));
    let script =
        Script::new(vec![full(vec![a.clone(), b.clone(), c.clone()]), full(vec![a.clone(), b.clone(), c.clone()])]);
    let first = h.run(&script, Plan::Full, &sink).await;
    assert_eq!((first.counts.inserted, first.outcome.clone()), (3, Outcome::Ok));
    assert_eq!(classes(&sink).len(), 3);
    let second = h.run(&script, Plan::Full, &sink).await;
    assert_eq!((second.counts.unchanged, second.counts.changes()), (3, 0));
    assert!(sink.take().is_empty());

    // a: updated; b: cancelled; c unchanged; d new.
    let mut a2 = a.clone();
    a2.departure = day(5);
    a2.modified_at = Some(now());
    let mut b2 = b.clone();
    b2.status = BookingStatus::Cancelled;
    b2.modified_at = Some(now());
    script.push(full(vec![a2, b2.clone(), c.clone(), booking(4, 1, 1, 0)]));
    let third = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(
        classes(&sink),
        vec![
            (ChangeClass::Updated, "1".into()),
            (ChangeClass::Cancelled, "2".into()),
            (ChangeClass::Inserted, "4".into())
        ]
    );
    assert_eq!(
        (third.counts.updated, third.counts.cancelled, third.counts.inserted, third.counts.unchanged),
        (1, 1, 1, 1)
    );

    // b comes back.
    let mut b3 = b2;
    b3.status = BookingStatus::Confirmed;
    b3.modified_at = Some(now() + Duration::minutes(5));
    script.push(full(vec![b3]));
    h.run(&script, Plan::Hint(BookingIds::one("2")), &sink).await;
    assert_eq!(classes(&sink), vec![(ChangeClass::Restored, "2".into())]);
}

#[tokio::test]
async fn content_wins_over_a_modification_time_that_went_back() {
    let h = harness();
    let sink = CollectingSink::new();
    let fresh = booking(1, 3, 2, 30);
    // The vendor corrected its clock: the next change carries an older time.
    let mut corrected = booking(1, 3, 1, 10);
    corrected.guest.name = Some("changed after the clock correction".into());
    // Read again as the source now shows it: nothing changed, nothing to report.
    let script =
        Script::new(vec![full(vec![fresh.clone()]), full(vec![corrected.clone()]), full(vec![corrected.clone()])]);
    h.run(&script, Plan::Hint(BookingIds::one("1")), &sink).await;
    sink.take();

    let run = h.run(&script, Plan::Hint(BookingIds::one("1")), &sink).await;
    assert_eq!((run.counts.updated, run.counts.clock_anomalies), (1, 1));
    assert_eq!(classes(&sink), vec![(ChangeClass::Updated, "1".into())]);
    assert!(run.warnings.iter().any(|w| w.contains("clock") && w.contains("1 (")), "{:?}", run.warnings);
    assert_eq!(h.state().await.records[&"1".into()].fingerprint, corrected.fingerprint());

    let run = h.run(&script, Plan::Hint(BookingIds::one("1")), &sink).await;
    assert_eq!((run.counts.unchanged, run.counts.clock_anomalies, run.counts.changes()), (1, 0, 0));
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
}

#[tokio::test]
async fn within_one_batch_the_newest_version_of_a_record_wins() {
    let h = harness();
    let sink = CollectingSink::new();
    let mut older = booking(1, 3, 2, 10);
    older.guest.name = Some("older".into());
    let newer = booking(1, 3, 2, 20);
    let script = Script::new(vec![full(vec![newer.clone(), older])]);
    let run = h.run(&script, Plan::Full, &sink).await;
    assert_eq!((run.counts.inserted, run.counts.clock_anomalies), (1, 0));
    assert_eq!(h.state().await.records[&"1".into()].fingerprint, newer.fingerprint());
}

/// The source's clock is 20 minutes behind ours: the saved cursor is set back by exactly that,
/// so the next incremental poll (cursor minus the 10 min lookback, in the source's time) still
/// covers what changed during the run. Ahead-of-us and sub-tolerance skews change nothing; a
/// skew beyond the bound is capped and says a full run is needed.
#[tokio::test]
async fn a_slow_source_clock_sets_the_cursor_back_by_its_skew() {
    for (skew, set_back_secs, warned) in [
        (-1200, 1200, Some("set back as much")),
        (-2, 0, None),
        (900, 0, None),
        (-30 * 3600, 6 * 3600, Some("full run is needed")),
    ] {
        let h = harness();
        let sink = CollectingSink::new();
        let script = Script::new(vec![full(vec![booking(1, 3, 2, 0)])]);
        *script.skew.lock().unwrap() = Some(skew);
        let run = h.run(&script, Plan::Full, &sink).await;
        assert_eq!(run.transport.clock_skew_secs, Some(skew));
        assert_eq!(run.cursor_after, Some(run.started_at - Duration::seconds(set_back_secs)), "skew {skew}");
        match warned {
            Some(w) => assert!(run.warnings.iter().any(|x| x.contains(w)), "skew {skew}: {:?}", run.warnings),
            None => assert!(run.warnings.is_empty(), "skew {skew}: {:?}", run.warnings),
        }
        h.run(&script, Plan::Incremental, &sink).await;
        let asked = script.queries().last().and_then(|q| q.modified_since);
        assert_eq!(
            asked,
            Some(run.started_at - Duration::seconds(set_back_secs) - Duration::minutes(10)),
            "skew {skew}"
        );
    }
}

#[tokio::test]
async fn disappearance_needs_two_complete_passes_and_spares_past_stays() {
    let h = harness();
    let sink = CollectingSink::new();
    // 1: future stay; 2: left yesterday (past); 3..6 stay present.
    let present: Vec<_> = (3..=6).map(|i| booking(i, 10 + i as i64, 1, 0)).collect();
    let mut all = vec![booking(1, 4, 2, 0), booking(2, -3, 2, 0)];
    all.extend(present.clone());
    let script = Script::new(vec![full(all), full(present.clone()), full(present.clone())]);
    h.run(&script, Plan::Full, &sink).await;
    sink.take();
    let pass1 = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(pass1.counts.disappeared, 0, "one pass is not enough");
    assert_eq!(h.state().await.records[&"1".into()].missing_passes, 1);
    let pass2 = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(pass2.counts.disappeared, 1);
    assert_eq!(classes(&sink), vec![(ChangeClass::Disappeared, "1".into())]);
    let st = h.state().await;
    assert!(st.records[&"1".into()].gone);
    assert!(!st.records[&"2".into()].gone, "a past stay falling out of the feed is never cancelled by absence");
}

#[tokio::test]
async fn reappearing_between_passes_resets_the_count() {
    let h = harness();
    let sink = CollectingSink::new();
    let (a, b) = (booking(1, 4, 2, 0), booking(2, 6, 2, 0));
    let script = Script::new(vec![
        full(vec![a.clone(), b.clone()]),
        full(vec![b.clone()]),
        full(vec![a.clone(), b.clone()]),
        full(vec![b.clone()]),
    ]);
    for _ in 0..4 {
        h.run(&script, Plan::Full, &sink).await;
    }
    assert!(
        classes(&sink).iter().all(|(c, _)| *c == ChangeClass::Inserted),
        "no disappearance after an interrupted absence"
    );
    assert_eq!(h.state().await.records[&"1".into()].missing_passes, 1);
}

#[tokio::test]
async fn an_empty_or_truncated_or_incomplete_fetch_never_mass_cancels() {
    let h = harness();
    let sink = CollectingSink::new();
    let all: Vec<_> = (1..=10).map(|i| booking(i, i as i64, 1, 0)).collect();
    let mut incomplete = BookingBatch::complete(all[..2].to_vec(), vec![]);
    incomplete.complete = false;
    let script = Script::new(vec![
        full(all.clone()),
        full(vec![]),
        full(vec![]),
        full(all[..3].to_vec()),
        full(all[..3].to_vec()),
        Ok(incomplete.clone()),
        Ok(incomplete),
    ]);
    h.run(&script, Plan::Full, &sink).await;
    sink.take();
    for n in 0..6 {
        let run = h.run(&script, Plan::Full, &sink).await;
        assert_eq!(run.counts.disappeared, 0, "run {n}");
        assert!(!run.warnings.is_empty(), "run {n} must say why nothing was declared gone");
    }
    assert!(h.state().await.records.values().all(|r| r.missing_passes == 0 && !r.gone));
}

#[tokio::test]
async fn a_missing_record_is_confirmed_by_id_before_it_is_declared_gone() {
    let h = harness();
    let sink = CollectingSink::new();
    let (a, b) = (booking(1, 4, 2, 0), booking(2, 6, 2, 0));
    let mut moved = a.clone();
    moved.arrival = day(500);
    moved.departure = day(502);
    moved.modified_at = Some(now());
    let mut script =
        Script::new(vec![full(vec![a, b.clone()]), full(vec![b.clone()]), full(vec![b.clone()]), full(vec![moved])]);
    script.by_id = true;
    for _ in 0..3 {
        h.run(&script, Plan::Full, &sink).await;
    }
    // The by-id read found it (moved far ahead): updated, not gone.
    let all = classes(&sink);
    assert!(all.contains(&(ChangeClass::Updated, "1".into())), "{all:?}");
    assert!(!all.iter().any(|(c, _)| *c == ChangeClass::Disappeared), "{all:?}");
    assert_eq!(script.queries().last().unwrap().ids, Some(BookingIds::one("1")));
}

#[tokio::test]
async fn throttling_defers_the_run_and_keeps_the_cursor() {
    let h = harness();
    let sink = CollectingSink::new();
    let until = now() + Duration::minutes(4);
    let script = Script::new(vec![
        full(vec![booking(1, 2, 1, 0)]),
        Err(Error::Throttled { connector: ConnectorKind::MEMORY, until }),
    ]);
    let first = h.run(&script, Plan::Full, &sink).await;
    let run = h.run(&script, Plan::Incremental, &sink).await;
    assert_eq!(run.outcome, Outcome::Deferred { retry_at: until });
    assert_eq!(run.cursor_after, first.cursor_after);
    assert_eq!(h.state().await.cursor, first.cursor_after);
    let status = h.engine.status(&Scope::new(ConnectorKind::MEMORY, "acc".into()), 10).await.unwrap();
    assert_eq!(status.retry_at, Some(until));
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_cursor_and_tells_the_owner() {
    let h = harness();
    let sink = CollectingSink::new();
    let script = Script::new(vec![
        full(vec![booking(1, 2, 1, 0)]),
        Err(Error::Auth { connector: ConnectorKind::MEMORY, message: "token revoked".into() }),
    ]);
    let first = h.run(&script, Plan::Full, &sink).await;
    let run = h.run(&script, Plan::Incremental, &sink).await;
    match &run.outcome {
        Outcome::Failed { stage: Stage::Fetch, kind: Some(ErrorKind::Reauthenticate), message } => {
            assert!(message.contains("reconnect"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.state().await.cursor, first.cursor_after);
    let q = &script.queries()[1];
    assert_eq!(
        q.modified_since,
        Some(first.cursor_after.unwrap() - Duration::minutes(10)),
        "incremental uses cursor − lookback"
    );
}

struct FailingSink;

#[async_trait]
impl Sink for FailingSink {
    async fn apply(&self, _: &[Change]) -> std::result::Result<(), BoxError> {
        Err("database is locked".into())
    }
}

#[tokio::test]
async fn a_sink_failure_saves_nothing_and_the_next_run_resends() {
    let h = harness();
    let a = booking(1, 2, 1, 0);
    let script = Script::new(vec![full(vec![a.clone()]), full(vec![a.clone()])]);
    let failed = h.run(&script, Plan::Full, &FailingSink).await;
    assert!(matches!(failed.outcome, Outcome::Failed { stage: Stage::Sink, .. }), "{:?}", failed.outcome);
    let st = h.state().await;
    assert!(st.cursor.is_none() && st.records.is_empty(), "nothing may be saved when the sink fails");
    let sink = CollectingSink::new();
    let again = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(again.counts.inserted, 1, "the change is delivered again");
    assert_eq!(classes(&sink), vec![(ChangeClass::Inserted, "1".into())]);
    let log = h.store.recent(&Scope::new(ConnectorKind::MEMORY, "acc".into()), 10).await.unwrap();
    assert_eq!(log.len(), 2, "both runs are audited");
}

#[tokio::test]
async fn records_that_fail_to_convert_are_reported_and_the_rest_goes_on() {
    let h = harness();
    let sink = CollectingSink::new();
    let batch = BookingBatch::complete(
        vec![booking(1, 2, 1, 0)],
        vec![RecordFailure::new(Some("2".into()), "arrival `31/02/2026` is not a date").at("data[1].arrival")],
    );
    let script = Script::new(vec![full(vec![booking(1, 2, 1, 0), booking(2, 3, 1, 0)]), Ok(batch.clone()), Ok(batch)]);
    h.run(&script, Plan::Full, &sink).await;
    sink.take();
    let run = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(run.outcome, Outcome::Partial);
    assert_eq!(run.counts.failed, 1);
    assert_eq!(run.failures[0].location.as_deref(), Some("data[1].arrival"));
    // A record that failed to convert still exists upstream: never counted as missing.
    h.run(&script, Plan::Full, &sink).await;
    assert_eq!(h.state().await.records[&"2".into()].missing_passes, 0);
}

#[tokio::test]
async fn hints_do_not_move_the_cursor_and_incremental_without_cursor_runs_full() {
    let h = harness();
    let sink = CollectingSink::new();
    let script = Script::new(vec![full(vec![booking(1, 2, 1, 0)]), full(vec![booking(2, 2, 1, 0)])]);
    let first = h.run(&script, Plan::Incremental, &sink).await;
    assert_eq!(first.plan, PlanKind::Full);
    assert!(first.warnings[0].contains("no saved cursor"));
    assert!(script.queries()[0].stay.is_some());
    let hint = h.run(&script, Plan::Hint(BookingIds::one("2")), &sink).await;
    assert_eq!(hint.cursor_after, first.cursor_after);
    assert_eq!(h.state().await.cursor, first.cursor_after);
}

#[tokio::test]
async fn owner_status_from_the_audit_log() {
    let h = harness();
    let sink = CollectingSink::new();
    let transient = || {
        Err(Error::Http {
            connector: ConnectorKind::MEMORY,
            endpoint: "x".into(),
            status: 503,
            message: "down".into(),
            applied: Applied::No,
        })
    };
    let script = Script::new(vec![full(vec![booking(1, 2, 1, 0)]), transient(), transient()]);
    let ok = h.run(&script, Plan::Full, &sink).await;
    h.run(&script, Plan::Incremental, &sink).await;
    h.run(&script, Plan::Incremental, &sink).await;
    h.clock.advance(Duration::minutes(7));
    let s = h.engine.status(&Scope::new(ConnectorKind::MEMORY, "acc".into()), 10).await.unwrap();
    assert_eq!(s.consecutive_failures, 2);
    assert_eq!(s.last_success, Some(ok.finished_at));
    assert_eq!(s.lag_secs, Some((h.clock_now() - ok.cursor_after.unwrap()).num_seconds()));
    assert!((s.error_rate - 2.0 / 3.0).abs() < 1e-9);
    assert!(s.last_error.unwrap().contains("503"));
}

impl Harness {
    fn clock_now(&self) -> DateTime<Utc> {
        use crate::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn the_audit_record_json_shape_is_stable() {
    let h = harness();
    let sink = CollectingSink::new();
    let script = Script::new(vec![full(vec![booking(1, 2, 1, 0)])]);
    let mut run = h.run(&script, Plan::Full, &sink).await;
    run.run_id = "00000000-0000-0000-0000-000000000000".into();
    insta::assert_json_snapshot!(run);
}

#[tokio::test]
async fn overlapping_pages_yield_one_record_the_newest() {
    let h = harness();
    let sink = CollectingSink::new();
    let old = booking(1, 2, 1, 0);
    let mut new = booking(1, 2, 3, 5);
    new.guest.name = Some("newest".into());
    let script = Script::new(vec![full(vec![old.clone(), booking(2, 3, 1, 0), new.clone(), old, booking(3, 4, 1, 0)])]);
    let run = h.run(&script, Plan::Full, &sink).await;
    assert_eq!((run.counts.fetched, run.counts.inserted), (3, 3));
    let changes = sink.take();
    let one = changes.iter().find(|c| c.key.id.as_str() == "1").unwrap();
    assert_eq!(one.booking.as_ref().unwrap().guest.name.as_deref(), Some("newest"));
}

#[tokio::test]
async fn a_preview_changes_nothing_and_says_what_would_change() {
    let h = harness();
    let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
    let batch = BookingBatch::complete(vec![booking(1, 2, 1, 0), booking(2, 3, 1, 0)], vec![]);
    let preview = h.engine.preview_batch(scope.clone(), batch.clone(), Trigger::Csv).await;
    assert_eq!(preview.counts.inserted, 2);
    assert!(h.state().await.records.is_empty(), "a preview saves nothing");
    assert!(h.store.recent(&scope, 10).await.unwrap().is_empty(), "and audits nothing");
    let sink = CollectingSink::new();
    h.engine.apply_batch(scope.clone(), batch.clone(), Trigger::Csv, &sink).await;
    assert_eq!(sink.take().len(), 2);
    let again = h.engine.preview_batch(scope, batch, Trigger::Csv).await;
    assert_eq!((again.counts.inserted, again.counts.unchanged), (0, 2));
}

#[test]
fn a_flood_of_failures_is_capped_and_summarized() {
    let mut failures: Vec<RecordFailure> =
        (0..10_000).map(|i| RecordFailure::new(None, format!("unreadable event: junk at line {i}"))).collect();
    failures.extend((0..5).map(|_| RecordFailure::new(None, "held for review: no departure")));
    let summary = super::engine::cap_failures(&mut failures, 100).expect("summarized");
    assert_eq!(failures.len(), 100);
    assert_eq!(summary, "9905 more records not synced, not listed: unreadable event ×9900, held for review ×5");
    let mut few = vec![RecordFailure::new(None, "x")];
    assert!(super::engine::cap_failures(&mut few, 100).is_none());
}

#[tokio::test]
async fn imported_records_are_never_cancelled_by_a_snapshot_until_it_shows_them() {
    let h = harness();
    let sink = CollectingSink::new();
    let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
    // Rows from a CSV report: 7 (only ever in the report) and 8 (the feed will show it too).
    let imported = BookingBatch::complete(vec![booking(7, 5, 2, 0), booking(8, 6, 2, 0)], vec![]);
    let run = h.engine.apply_batch(scope.clone(), imported, Trigger::Csv, &sink).await;
    assert_eq!((run.plan, run.counts.inserted), (PlanKind::Import, 2));
    let present: Vec<_> = (3..=6).map(|i| booking(i, 10 + i as i64, 1, 0)).collect();
    let mut with_8 = present.clone();
    with_8.push(booking(8, 6, 2, 0));
    let script = Script::new(vec![
        full(present.clone()),
        full(present.clone()),
        full(with_8),
        full(present.clone()),
        full(present),
    ]);
    for _ in 0..2 {
        let r = h.run(&script, Plan::Full, &sink).await;
        assert_eq!(r.counts.disappeared, 0, "{:?}", r.counts);
    }
    assert_eq!(h.state().await.records[&"7".into()].origin, Origin::Import);
    // The feed shows 8 unchanged: it is the feed's from now on, and its absence counts.
    h.run(&script, Plan::Full, &sink).await;
    assert_eq!(h.state().await.records[&"8".into()].origin, Origin::Fetch);
    h.run(&script, Plan::Full, &sink).await;
    let r = h.run(&script, Plan::Full, &sink).await;
    assert_eq!(r.counts.disappeared, 1);
    let st = h.state().await;
    assert!(st.records[&"8".into()].gone && !st.records[&"7".into()].gone);
}

/// What a source quotes back (a misaligned CSV cell, a vendor's message) can hold a guest's
/// e-mail or phone: the audit record keeps the failure with the contact details masked.
#[tokio::test]
async fn the_audit_record_never_keeps_guest_contact_details() {
    let h = harness();
    let failure = RecordFailure::new(Some("7".into()), "`ana.lima@example.com` is not a date (call +351 912 345 678)")
        .at("line 3 column ana.lima@example.com");
    let script = Script::new(vec![Ok(BookingBatch::complete(vec![booking(1, 3, 2, 0)], vec![failure]))]);
    let run = h.run(&script, Plan::Full, &CollectingSink::new()).await;
    assert_eq!(run.outcome, Outcome::Partial);
    let text = serde_json::to_string(&run).unwrap();
    assert!(!text.contains("ana.lima@") && !text.contains("912 345"), "{text}");
    assert_eq!(run.failures[0].reason, "`a***@example.com` is not a date (call +••••••••••78)");
    assert_eq!(run.failures[0].location.as_deref(), Some("line 3 column a***@example.com"));
}

/// A sink that fails its `n`th call (1-based) and collects the rest.
struct FailsOnCall {
    n: usize,
    calls: std::sync::atomic::AtomicUsize,
    inner: CollectingSink,
}

#[async_trait]
impl Sink for FailsOnCall {
    async fn apply(&self, changes: &[Change]) -> std::result::Result<(), BoxError> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.n {
            return Err("disk full".into());
        }
        self.inner.apply(changes).await
    }
}

#[tokio::test]
async fn batches_written_while_the_next_is_compared_count_a_repeated_booking_once() {
    let h = harness();
    let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
    let mut changed = booking(2, 3, 1, 0);
    changed.guest.name = Some("changed".into());
    let batches = vec![
        BookingBatch::complete(vec![booking(1, 2, 1, 0), booking(2, 3, 1, 0)], vec![]),
        BookingBatch::complete(vec![changed, booking(3, 4, 1, 0)], vec![]),
        BookingBatch::complete(vec![booking(3, 4, 1, 0), booking(4, 5, 1, 0)], vec![]),
    ];
    let sink = CollectingSink::new();
    let runs = h.engine.apply_batches(scope.clone(), futures_util::stream::iter(batches), Trigger::Csv, &sink).await;
    let counts: Vec<_> = runs.iter().map(|r| (r.counts.inserted, r.counts.updated, r.counts.unchanged)).collect();
    assert_eq!(counts, vec![(2, 0, 0), (1, 1, 0), (1, 0, 1)]);
    assert!(runs.iter().all(|r| r.outcome == Outcome::Ok));
    assert_eq!(sink.take().len(), 5, "one change per insert or update, none for the unchanged repeat");
    let state = h.state().await;
    assert_eq!(state.records.len(), 4);
    assert_eq!(h.store.recent(&scope, 10).await.unwrap().len(), 3, "one audit record per batch");
}

#[tokio::test]
async fn a_failed_batch_ends_the_import_and_nothing_after_it_is_applied() {
    let h = harness();
    let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
    let batches = vec![
        BookingBatch::complete(vec![booking(1, 2, 1, 0)], vec![]),
        BookingBatch::complete(vec![booking(2, 3, 1, 0)], vec![]),
        BookingBatch::complete(vec![booking(3, 4, 1, 0)], vec![]),
    ];
    let sink = FailsOnCall { n: 2, calls: Default::default(), inner: CollectingSink::new() };
    let runs = h.engine.apply_batches(scope.clone(), futures_util::stream::iter(batches), Trigger::Csv, &sink).await;
    assert_eq!(runs.len(), 2);
    assert!(matches!(runs[1].outcome, Outcome::Failed { stage: Stage::Sink, .. }));
    let ids: Vec<String> = h.state().await.records.keys().map(|k| k.as_str().to_owned()).collect();
    assert_eq!(ids, vec!["1".to_owned()], "the failed batch saved nothing and the one after it never ran");
    assert_eq!(sink.inner.take().len(), 1);
    // Imported again, the failed and the skipped batches arrive; the first is unchanged.
    let batches = vec![
        BookingBatch::complete(vec![booking(1, 2, 1, 0)], vec![]),
        BookingBatch::complete(vec![booking(2, 3, 1, 0)], vec![]),
        BookingBatch::complete(vec![booking(3, 4, 1, 0)], vec![]),
    ];
    let sink = CollectingSink::new();
    let runs = h.engine.apply_batches(scope, futures_util::stream::iter(batches), Trigger::Csv, &sink).await;
    let counts: Vec<_> = runs.iter().map(|r| (r.counts.inserted, r.counts.unchanged)).collect();
    assert_eq!(counts, vec![(0, 1), (1, 0), (1, 0)]);
    assert_eq!(h.state().await.records.len(), 3);
}

/// Hands each full read over in scripted parts, and can fail after some of them.
struct InParts {
    account: AccountId,
    /// Per read: its parts, and whether it fails (transiently) after them instead of completing.
    reads: Mutex<VecDeque<(Vec<Vec<Booking>>, bool)>>,
}

impl InParts {
    fn new(reads: Vec<(Vec<Vec<Booking>>, bool)>) -> Self {
        Self { account: AccountId::new("acc"), reads: Mutex::new(reads.into()) }
    }
}

#[async_trait]
impl Connector for InParts {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::MEMORY
    }
    fn account(&self) -> &AccountId {
        &self.account
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = ReferenceConnector::declared();
        caps.refine(Operation::ReadBookingsById, Support::unsupported("scripted"));
        caps
    }
    async fn bookings_in_parts(
        &self,
        _: &BookingQuery,
        parts: &mut dyn crate::connector::BookingParts,
    ) -> Result<bool> {
        let (read, fails) = self.reads.lock().unwrap().pop_front().unwrap_or_default();
        for part in read {
            parts.part(part, Vec::new()).await?;
        }
        if fails {
            return Err(Error::Vendor {
                connector: ConnectorKind::MEMORY,
                kind: ErrorKind::Transient,
                code: None,
                message: "connection reset".into(),
                applied: Applied::No,
            });
        }
        Ok(true)
    }
}

#[tokio::test]
async fn a_full_read_in_parts_compares_each_part_and_judges_the_whole_at_its_end() {
    let h = harness();
    let sink = CollectingSink::new();
    let b = |id| booking(id, 2 + id as i64, 1, 0);
    let mut newer = b(2);
    newer.guest.name = Some("changed".into());
    newer.modified_at = newer.modified_at.map(|m| m + Duration::minutes(5));
    let c = InParts::new(vec![
        (vec![vec![b(1), b(2)], vec![b(3), b(4)]], false),
        // 2 changed in the first part, then an older copy of it in the second (a page boundary
        // moved while reading); 4 is missing.
        (vec![vec![b(1), newer.clone()], vec![b(2), b(3)]], false),
    ]);
    let first = h.run(&c, Plan::Full, &sink).await;
    assert_eq!((first.outcome.clone(), first.counts.inserted), (Outcome::Ok, 4));
    assert_eq!(classes(&sink).len(), 4);

    let second = h.run(&c, Plan::Full, &sink).await;
    assert_eq!(second.outcome, Outcome::Ok);
    assert_eq!((second.counts.updated, second.counts.unchanged), (1, 2), "the older copy is not applied");
    assert_eq!(classes(&sink), vec![(ChangeClass::Updated, "2".into())]);
    let st = h.state().await;
    assert_eq!(st.records[&"2".into()].fingerprint, newer.fingerprint());
    assert_eq!(st.records[&"4".into()].missing_passes, 1, "judged against the whole read");
    assert!(["1", "2", "3"].iter().all(|id| st.records[&(*id).into()].missing_passes == 0));
}

#[tokio::test]
async fn a_read_in_parts_that_stops_commits_what_the_host_took_and_the_next_run_goes_on() {
    let h = harness();
    let sink = CollectingSink::new();
    let b = |id| booking(id, 2 + id as i64, 1, 0);
    let c = InParts::new(vec![(vec![vec![b(1), b(2)]], true), (vec![vec![b(1), b(2)], vec![b(3)]], false)]);
    let failed = h.run(&c, Plan::Full, &sink).await;
    assert!(matches!(failed.outcome, Outcome::Failed { stage: Stage::Fetch, .. }), "{:?}", failed.outcome);
    assert_eq!(failed.counts.inserted, 2, "the record says what reached the host");
    assert_eq!(h.state().await.records.len(), 2, "and the store agrees with the host");
    assert_eq!(h.state().await.cursor, None, "no cursor from a read that did not finish");

    let done = h.run(&c, Plan::Full, &sink).await;
    assert_eq!((done.counts.unchanged, done.counts.inserted), (2, 1));
    let got = classes(&sink);
    assert_eq!(
        got,
        vec![
            (ChangeClass::Inserted, "1".into()),
            (ChangeClass::Inserted, "2".into()),
            (ChangeClass::Inserted, "3".into())
        ],
        "each booking reached the host once"
    );

    // The host refusing a part: the parts before it are kept, the rest comes next run.
    let h = harness();
    let sink = FailsOnCall { n: 2, calls: Default::default(), inner: CollectingSink::new() };
    let c = InParts::new(vec![(vec![vec![b(1)], vec![b(2)]], false), (vec![vec![b(1)], vec![b(2)]], false)]);
    let refused = h.run(&c, Plan::Full, &sink).await;
    assert!(matches!(refused.outcome, Outcome::Failed { stage: Stage::Sink, .. }), "{:?}", refused.outcome);
    assert_eq!(h.state().await.records.keys().map(|k| k.to_string()).collect::<Vec<_>>(), vec!["1".to_owned()]);
    let next = h.run(&c, Plan::Full, &sink).await;
    assert_eq!((next.outcome, next.counts.unchanged, next.counts.inserted), (Outcome::Ok, 1, 1));
    assert_eq!(classes(&sink.inner), vec![(ChangeClass::Inserted, "1".into()), (ChangeClass::Inserted, "2".into())]);
}

/// A memory store that reads a scope's records separately from the rest, as the SQLite and
/// PostgreSQL stores do: slowly (on the paused clock) or not at all.
struct RecordsApart {
    inner: MemoryStore,
    /// How long reading the records takes; `None`: the read fails.
    takes: Mutex<Option<std::time::Duration>>,
    /// When (on tokio's clock) each records read started and ended.
    reads: Mutex<Vec<(tokio::time::Instant, tokio::time::Instant)>>,
}

crate::forward_audit_and_inbox!(RecordsApart, inner);

#[async_trait]
impl SyncStore for RecordsApart {
    async fn load(&self, scope: &Scope) -> std::result::Result<SyncState, StoreError> {
        self.inner.load(scope).await
    }
    async fn load_head(&self, scope: &Scope) -> std::result::Result<Option<SyncState>, StoreError> {
        Ok(Some(SyncState { records: RecordMap::default(), ..self.inner.load(scope).await? }))
    }
    async fn load_records(&self, scope: &Scope) -> std::result::Result<RecordMap, StoreError> {
        let started = tokio::time::Instant::now();
        let takes = *self.takes.lock().unwrap();
        let Some(takes) = takes else { return Err(StoreError::Backend("the disk went away".into())) };
        tokio::time::sleep(takes).await;
        self.reads.lock().unwrap().push((started, tokio::time::Instant::now()));
        Ok(self.inner.load(scope).await?.records)
    }
    async fn commit(&self, scope: &Scope, commit: &Commit) -> std::result::Result<(), StoreError> {
        self.inner.commit(scope, commit).await
    }
    async fn remember_event(
        &self,
        key: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> std::result::Result<bool, StoreError> {
        self.inner.remember_event(key, now, ttl).await
    }
    async fn save_paging_checkpoint(&self, scope: &Scope, checkpoint: &str) -> std::result::Result<(), StoreError> {
        self.inner.save_paging_checkpoint(scope, checkpoint).await
    }
}

/// Answers like `Script`, and notes when (on tokio's clock) the source was asked.
struct Timed(Script, Mutex<Vec<tokio::time::Instant>>);

#[async_trait]
impl Connector for Timed {
    fn kind(&self) -> ConnectorKind {
        self.0.kind()
    }
    fn account(&self) -> &AccountId {
        self.0.account()
    }
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        self.1.lock().unwrap().push(tokio::time::Instant::now());
        self.0.bookings(query).await
    }
}

/// The runs a store that reads the records apart gives are the runs the plain store gives: the
/// same changes, counts and saved records, each booking once, with the source asked for its
/// first page while the records are still being read.
#[tokio::test(start_paused = true)]
async fn records_read_while_the_first_page_is_fetched_give_the_same_runs() {
    let slow = Arc::new(RecordsApart {
        inner: MemoryStore::new(),
        takes: Mutex::new(Some(std::time::Duration::from_secs(30))),
        reads: Mutex::default(),
    });
    let plain = harness();
    let clock = Arc::new(ManualClock::new(now()));
    let engine = SyncEngine::new(slow.clone()).with_clock(clock.clone());

    let (a, b, c) = (booking(1, 2, 2, 0), booking(2, 5, 1, 0), booking(3, 9, 3, 0));
    let mut a2 = a.clone();
    a2.departure = day(6);
    a2.modified_at = Some(now());
    let mut b2 = b.clone();
    b2.status = BookingStatus::Cancelled;
    b2.modified_at = Some(now());
    let answers = || {
        vec![
            full(vec![a.clone(), b.clone(), c.clone()]),
            // A repeated copy within the page: the newest is the one compared.
            full(vec![a.clone(), b.clone(), a2.clone(), c.clone()]),
            full(vec![a2.clone(), b2.clone(), c.clone(), booking(4, 1, 1, 0)]),
        ]
    };
    let source = Timed(Script::new(answers()), Mutex::default());
    let script = Script::new(answers());
    for run in 0..3 {
        let (slow_sink, plain_sink) = (CollectingSink::new(), CollectingSink::new());
        clock.advance(Duration::minutes(1));
        let got = engine.run(&source, Plan::Full, Trigger::Manual, &slow_sink).await;
        let want = plain.run(&script, Plan::Full, &plain_sink).await;
        assert_eq!((got.counts, &got.outcome), (want.counts, &want.outcome), "run {run}");
        assert_eq!(classes(&slow_sink), classes(&plain_sink), "run {run}");
        let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
        assert_eq!(slow.load(&scope).await.unwrap().records, plain.state().await.records, "run {run}");
    }
    let reads = slow.reads.lock().unwrap().clone();
    let asked = source.1.lock().unwrap().clone();
    assert_eq!((reads.len(), asked.len()), (3, 3));
    for ((started, ended), asked) in reads.into_iter().zip(asked) {
        assert!(started <= asked && asked < ended, "the page was asked for while the records were read");
        assert_eq!(ended - started, std::time::Duration::from_secs(30));
    }
}

/// A store that cannot read the records fails the run at its load stage: the sink hears
/// nothing, nothing is saved but the failed run's record, and the next run goes on from the
/// records the store still has.
#[tokio::test(start_paused = true)]
async fn a_store_that_cannot_read_the_records_fails_the_run_and_loses_nothing() {
    let store = Arc::new(RecordsApart {
        inner: MemoryStore::new(),
        takes: Mutex::new(Some(std::time::Duration::ZERO)),
        reads: Mutex::default(),
    });
    let clock = Arc::new(ManualClock::new(now()));
    let engine = SyncEngine::new(store.clone()).with_clock(clock.clone());
    let (a, b) = (booking(1, 2, 2, 0), booking(2, 5, 1, 0));
    let mut a2 = a.clone();
    a2.guest.name = Some("renamed".into());
    let script = Script::new(vec![full(vec![a.clone(), b.clone()]), full(vec![a2.clone(), b.clone()])]);
    let sink = CollectingSink::new();
    assert_eq!(engine.run(&script, Plan::Full, Trigger::Manual, &sink).await.counts.inserted, 2);
    sink.take();
    let scope = Scope::new(ConnectorKind::MEMORY, AccountId::new("acc"));
    let saved = store.load(&scope).await.unwrap().records;

    *store.takes.lock().unwrap() = None;
    clock.advance(Duration::minutes(1));
    let failed = engine.run(&script, Plan::Full, Trigger::Manual, &sink).await;
    assert!(
        matches!(&failed.outcome, Outcome::Failed { stage: Stage::Load, message, .. } if message.contains("disk went away")),
        "{:?}",
        failed.outcome
    );
    assert!(sink.take().is_empty(), "nothing reaches the sink");
    assert_eq!(store.load(&scope).await.unwrap().records, saved, "nothing saved");

    *store.takes.lock().unwrap() = Some(std::time::Duration::ZERO);
    clock.advance(Duration::minutes(1));
    script.push(full(vec![a2, b]));
    let again = engine.run(&script, Plan::Full, Trigger::Manual, &sink).await;
    assert_eq!((again.counts.updated, again.counts.unchanged, again.counts.inserted), (1, 1, 0));
    assert_eq!(classes(&sink), vec![(ChangeClass::Updated, "1".into())]);
    assert_eq!(store.recent(&scope, 10).await.unwrap().len(), 3, "every run is audited");
}
