//! Credits spent per sync, throttling, and the three credential forms, against the emulator.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hostelpulse_connector_beds24::{Beds24Config, Beds24Connector, Credentials};
use hostelpulse_core::capability::Operation;
use hostelpulse_core::http::{MemoryTokenStore, TokenKey, TokenStore};
use hostelpulse_core::model::{AccountId, ConnectorKind};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Outcome, Plan, SyncEngine, Trigger};
use hostelpulse_core::{Connector, ErrorKind, SourceId, StayStatus};
use hostelpulse_sandbox::{Beds24Emulator, CreditHeaderNames};
use secrecy::{ExposeSecret, SecretString};

fn pages(n: u64) -> u64 {
    n.div_ceil(100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_spends_one_page_per_hundred_bookings_plus_the_properties_call() {
    let emu = Beds24Emulator::builder().bookings(349).credits(10_000.0).start().await.unwrap();
    let c = connector_at(emu.base_url(), Credentials::LongLifeToken(SecretString::from(emu.issue_long_life_token())));
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()))
        .with_config(hostelpulse_core::sync::SyncConfig::default().window(60, 365));
    let full = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
    assert_eq!(full.outcome, Outcome::Ok);
    let n = full.counts.fetched;
    assert!(n > 300, "fetched {n}");
    assert_eq!(emu.requests("GET /v2/bookings"), pages(n), "ceil({n}/100) booking pages");
    assert_eq!(emu.requests("GET /v2/properties"), 1);
    assert_eq!(emu.total_requests(), pages(n) + 1);
    assert_eq!(full.transport.requests, pages(n) + 1, "the audit record counts the same requests");

    emu.reset_requests();
    let inc = engine.run(&c, Plan::Incremental, Trigger::Poll, &CollectingSink::new()).await;
    assert_eq!(inc.outcome, Outcome::Ok);
    assert_eq!(inc.counts.changes(), 0);
    assert_eq!(emu.total_requests(), 1, "an incremental sync with nothing changed spends one page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_credits_end_the_run_deferred_with_a_retry_time() {
    // 4 credits: properties (1) + 2 pages (1.2 each) fit, the third page does not.
    let emu = Beds24Emulator::builder().bookings(450).credits(4.0).start().await.unwrap();
    let cfg =
        Beds24Config::builder(PROPERTY, Credentials::LongLifeToken(SecretString::from(emu.issue_long_life_token())))
            .base_url(emu.base_url())
            .retry(fast_retry().max_wait(Duration::from_secs(2)))
            .build()
            .unwrap();
    let c = Beds24Connector::new(cfg).unwrap();
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()))
        .with_config(hostelpulse_core::sync::SyncConfig::default().window(60, 365));
    let run = engine.run(&c, Plan::Full, Trigger::ScheduledFull, &CollectingSink::new()).await;
    match run.outcome {
        Outcome::Deferred { retry_at } => {
            let secs = (retry_at - chrono::Utc::now()).num_seconds();
            assert!((200..=301).contains(&secs), "retry after the 5-minute window resets, got {secs} s");
        }
        other => panic!("expected a deferred run, got {other:?}"),
    }
    assert!(run.cursor_after.is_none(), "a deferred run keeps the cursor");
    assert!(c.http().pacer().credits_remaining().unwrap() < 1.0, "the pacer learned the budget from the headers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_header_spelling_feeds_the_budget_too() {
    let emu = Beds24Emulator::builder()
        .bookings(10)
        .credits(50.0)
        .header_names(CreditHeaderNames::Spec)
        .start()
        .await
        .unwrap();
    let cfg =
        Beds24Config::builder(PROPERTY, Credentials::LongLifeToken(SecretString::from(emu.issue_long_life_token())))
            .base_url(emu.base_url())
            .build()
            .unwrap();
    let c = Beds24Connector::new(cfg).unwrap();
    c.rooms().await.unwrap();
    let remaining = c.http().pacer().credits_remaining().unwrap();
    assert!((remaining - 49.0).abs() < 1e-9, "remaining {remaining}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_code_is_exchanged_once_and_the_refresh_token_persisted() {
    let emu = emulator(5).await;
    let store = Arc::new(MemoryTokenStore::default());
    let code = emu.issue_invite_code();
    let make = |creds: Credentials| {
        let cfg =
            Beds24Config::builder(PROPERTY, creds).base_url(emu.base_url()).token_store(store.clone()).build().unwrap();
        Beds24Connector::new(cfg).unwrap()
    };
    let first = make(Credentials::InviteCode(SecretString::from(code.clone())));
    first.check().await.unwrap();
    let key =
        TokenKey { connector: ConnectorKind::BEDS24, account: AccountId::from(PROPERTY), name: "refresh_token".into() };
    let saved = store.load(&key).await.unwrap().expect("refresh token handed to the store");
    assert!(saved.expose_secret().starts_with("rt"));
    assert_eq!(emu.requests("GET /v2/authentication/setup"), 1);

    // A restart with the same (now used) invite code works from the saved refresh token.
    let second = make(Credentials::InviteCode(SecretString::from(code)));
    second.rooms().await.unwrap();
    assert_eq!(emu.requests("GET /v2/authentication/setup"), 1, "the single-use code is not sent again");
    assert_eq!(emu.requests("GET /v2/authentication/token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_cached_and_refreshed_once_when_rejected() {
    let emu = emulator(5).await;
    let c = connector_at(emu.base_url(), refresh(&emu));
    for _ in 0..3 {
        c.rooms().await.unwrap();
    }
    assert_eq!(emu.requests("GET /v2/authentication/token"), 1, "minting costs credits: once for its life");
    emu.expire_access_tokens();
    c.rooms().await.unwrap();
    assert_eq!(emu.requests("GET /v2/authentication/token"), 2, "a rejected token is refreshed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_say_what_to_do() {
    let emu = emulator(5).await;
    let c = connector_at(emu.base_url(), Credentials::RefreshToken(SecretString::from("revoked")));
    let err = c.rooms().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
    assert!(err.to_string().contains("create a new invite code"), "{err}");
    let c = connector_at(emu.base_url(), Credentials::InviteCode(SecretString::from("used-or-expired")));
    let err = c.check().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Reauthenticate);
    assert!(!format!("{err:?}").contains("used-or-expired"), "secrets never appear in errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effective_capabilities_follow_the_token() {
    let emu = emulator(5).await;
    let long =
        connector_at(emu.base_url(), Credentials::LongLifeToken(SecretString::from(emu.issue_long_life_token())));
    let health = long.check().await.unwrap();
    assert!(!health.effective.supports(Operation::SetStayStatus), "long-life tokens are read-only");
    let err = long.set_stay_status(&SourceId::from(71300000u64), StayStatus::CheckedIn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "the API refuses the write: {err}");

    emu.set_scopes(&["read:bookings", "read:properties", "read:inventory"]);
    let c = connector_at(emu.base_url(), refresh(&emu));
    let health = c.check().await.unwrap();
    assert!(!health.effective.supports(Operation::ReadGuestDetails));
    let batch = c
        .bookings(&hostelpulse_core::BookingQuery::ids(hostelpulse_core::BookingIds::one(SourceId::from(71300000u64))))
        .await
        .unwrap();
    assert!(
        batch.bookings[0].guest.name.is_none(),
        "without bookings-personal the names are left out, and stay unknown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_the_emulator() {
    let emu = emulator(5).await;
    let c = connector_at(emu.base_url(), refresh(&emu));
    let id = emu.booking_ids()[0];
    c.set_stay_status(&SourceId::from(id), StayStatus::CheckedIn).await.unwrap();
    c.add_note(&SourceId::from(id), "Late arrival, key in box 3").await.unwrap();
    let b = emu.booking(id).unwrap();
    assert_eq!(b["infoItems"][0]["code"], "CHECKIN");
    assert!(b["notes"].as_str().unwrap().ends_with("Late arrival, key in box 3"));
    let batch = c
        .bookings(&hostelpulse_core::BookingQuery::ids(hostelpulse_core::BookingIds::one(SourceId::from(id))))
        .await
        .unwrap();
    assert_eq!(format!("{:?}", batch.bookings[0].status), "CheckedIn");

    // Unit status writes are off unless enabled.
    let err =
        c.set_housekeeping(&SourceId::new("316002-1"), hostelpulse_core::model::Condition::Dirty).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let cfg = Beds24Config::builder(PROPERTY, refresh(&emu))
        .base_url(emu.base_url())
        .unit_status_write(true)
        .build()
        .unwrap();
    let c = Beds24Connector::new(cfg).unwrap();
    c.set_housekeeping(&SourceId::new("316002-1"), hostelpulse_core::model::Condition::Dirty).await.unwrap();
    assert_eq!(emu.unit_status(316002, 1).as_deref(), Some("dirty"));
}

/// The connector a new process builds: no pacer state, no token cache, no checkpoint.
fn new_process(emu: &Beds24Emulator, token: &str) -> Beds24Connector {
    let cfg = Beds24Config::builder(PROPERTY, Credentials::LongLifeToken(SecretString::from(token.to_owned())))
        .base_url(emu.base_url())
        .retry(fast_retry().max_wait(Duration::from_secs(2)))
        .build()
        .unwrap();
    Beds24Connector::new(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hint_run_between_two_parts_of_a_full_read_keeps_its_place() {
    // 4 credits: the property and 2 of the 5 booking pages fit in a window.
    let emu = Beds24Emulator::builder().bookings(450).credits(4.0).start().await.unwrap();
    let token = emu.issue_long_life_token();
    let connector = || new_process(&emu, &token);
    let store = Arc::new(MemoryStore::new());
    let engine =
        || SyncEngine::new(store.clone()).with_config(hostelpulse_core::sync::SyncConfig::default().window(60, 365));
    let scope = hostelpulse_core::sync::Scope::new(ConnectorKind::BEDS24, AccountId::new(PROPERTY.to_string()));
    let sink = CollectingSink::new();
    let c = connector();
    let first = engine().run(&c, Plan::Full, Trigger::ScheduledFull, &sink).await;
    assert!(matches!(first.outcome, Outcome::Deferred { .. }), "{:?}", first.outcome);
    assert_eq!(emu.requests("GET /v2/bookings"), 2);

    drop(c);

    // In the next window a webhook names one booking; its run (a new process: a connector whose
    // pacer has not spent this window) reads it by id and commits.
    emu.set_credit_window(Duration::from_secs(300));
    let id = SourceId::new(emu.booking_ids()[0].to_string());
    let ids = hostelpulse_core::BookingIds::one(id);
    let hint = engine().run(&connector(), Plan::Hint(ids), Trigger::Webhook, &sink).await;
    assert_eq!(hint.outcome, Outcome::Ok, "{:?}", hint.failures);
    use hostelpulse_core::sync::SyncStore as _;
    assert!(store.load(&scope).await.unwrap().paging_checkpoint.is_some(), "the full read's place is kept");

    // Later processes go on with the full read from page 3, window by window.
    // Each part reached the sink and the store as it was read: the deferred runs committed theirs,
    // so the run that finishes compares only the pages after them.
    let mut outcome = None;
    let mut fetched = first.counts.fetched;
    assert_eq!(fetched, 200, "pages 1–2 were delivered and committed before the deferral");
    for _ in 0..4 {
        emu.set_credit_window(Duration::from_secs(300));
        let run = engine().run(&connector(), Plan::Full, Trigger::ScheduledFull, &sink).await;
        fetched += run.counts.fetched;
        if run.outcome == Outcome::Ok {
            outcome = Some(run);
            break;
        }
    }
    let done = outcome.expect("the full read finishes");
    assert_eq!(fetched, 451, "every booking compared once across the read's parts");
    assert_eq!(done.counts.disappeared, 0);
    let records = store.load(&scope).await.unwrap().records;
    assert_eq!(records.len(), 451, "nothing lost, nothing doubled");
    assert!(
        records.values().all(|r| r.missing_passes == 0),
        "the pages read before the deferrals count as seen in the snapshot the resumed read completes"
    );
    assert_eq!(emu.requests("GET /v2/bookings"), 2 + 1 + 3, "pages 1–2, the by-id read, pages 3–5");
    assert!(store.load(&scope).await.unwrap().paging_checkpoint.is_none());
}

/// A full read that spans credit windows is one snapshot: the pages handed over before each
/// deferral count as seen when the last attempt completes it, so nothing they held is taken for
/// missing (the truncation guard, which would hide that, is off here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_read_resumed_across_windows_sees_the_pages_before_the_deferrals() {
    let emu = Beds24Emulator::builder().bookings(450).credits(4.0).start().await.unwrap();
    let token = emu.issue_long_life_token();
    let connector = || new_process(&emu, &token);
    let store = Arc::new(MemoryStore::new());
    let config = hostelpulse_core::sync::SyncConfig::default().window(3_650, 3_650).suspect(1.0, usize::MAX);
    let scope = hostelpulse_core::sync::Scope::new(ConnectorKind::BEDS24, AccountId::new(PROPERTY.to_string()));
    let sink = CollectingSink::new();
    let full = async || {
        let mut runs = Vec::new();
        for _ in 0..5 {
            // Each attempt a new process in a new credit window.
            let run = SyncEngine::new(store.clone())
                .with_config(config.clone())
                .run(&connector(), Plan::Full, Trigger::ScheduledFull, &sink)
                .await;
            emu.set_credit_window(Duration::from_secs(300));
            let ok = run.outcome == Outcome::Ok;
            runs.push(run);
            if ok {
                break;
            }
        }
        runs
    };
    use hostelpulse_core::sync::SyncStore as _;
    for round in 0..2 {
        let runs = full().await;
        assert_eq!(runs.last().unwrap().outcome, Outcome::Ok, "round {round}");
        assert!(runs.len() >= 3, "round {round}: the read spans several windows ({} runs)", runs.len());
        let fetched: u64 = runs.iter().map(|r| r.counts.fetched).sum();
        assert_eq!(fetched, 451, "round {round}: each booking compared once");
        let records = store.load(&scope).await.unwrap().records;
        assert_eq!(records.len(), 451, "round {round}: nothing lost, nothing doubled");
        assert!(
            records.values().all(|r| r.missing_passes == 0 && !r.gone),
            "round {round}: no booking of an earlier part was taken for missing"
        );
    }
    let changes = sink.take();
    let keys: std::collections::HashSet<_> = changes.iter().map(|c| c.key.clone()).collect();
    assert_eq!((changes.len(), keys.len()), (451, 451), "the host got each booking once, as an insert");
}
