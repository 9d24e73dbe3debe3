//! `lease::acquire` for one-shot tools, on tokio's paused clock with a wall clock that follows it:
//! it waits for another holder and for the quiet time that holder asked for, and gives up with
//! `Busy` after its longest wait.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::sync::{JobStore, LeaseGrant, MemoryStore, Scope};
use hostelpulse_core::{AccountId, ConnectorKind};
use hostelpulse_runtime::lease::{self, LeaseError};

fn scope() -> Scope {
    Scope::new(ConnectorKind::CLOUDBEDS, AccountId::new("173042"))
}

#[tokio::test(start_paused = true)]
async fn a_tool_waits_for_the_holder_and_its_quiet_time_then_holds_the_account() {
    let store = Arc::new(MemoryStore::new());
    // `lease::acquire` reads the system clock; the other holder's times are set relative to it.
    let now = chrono::Utc::now();
    let held = store.lease(&scope(), "run", now, chrono::Duration::seconds(3)).await.unwrap();
    assert!(matches!(held, LeaseGrant::Granted { previous_holder: None, .. }));
    let releaser = {
        let store = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            store.release(&scope(), "run", Some(chrono::Utc::now() + chrono::Duration::milliseconds(1100))).await
        })
    };
    let started = tokio::time::Instant::now();
    let guard = lease::acquire(store.clone(), &scope(), "sync", Duration::from_secs(60), Duration::from_secs(30))
        .await
        .unwrap();
    releaser.await.unwrap().unwrap();
    // Waited for the release (2 s, polled once a second at most) and then kept quiet for the rate
    // window the holder asked for.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(3100), "{waited:?}");
    // While the tool holds it, the runtime is refused.
    let refused = store.lease(&scope(), "run", chrono::Utc::now(), chrono::Duration::seconds(60)).await.unwrap();
    assert!(matches!(refused, LeaseGrant::Held { ref by, .. } if by == "sync"), "{refused:?}");
    guard.release(lease::quiet_after(&hostelpulse_core::capability::RateLimit::None)).await.unwrap();
    let back = store.lease(&scope(), "run", chrono::Utc::now(), chrono::Duration::seconds(60)).await.unwrap();
    assert!(
        matches!(back, LeaseGrant::Granted { quiet_until: None, ref previous_holder, .. } if previous_holder.as_deref() == Some("sync"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_tool_gives_up_after_its_longest_wait_and_names_the_holder() {
    let store = Arc::new(MemoryStore::new());
    store.lease(&scope(), "run", chrono::Utc::now(), chrono::Duration::hours(1)).await.unwrap();
    let started = tokio::time::Instant::now();
    let err = lease::acquire(store.clone(), &scope(), "sync", Duration::from_secs(60), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(&err, LeaseError::Busy { by } if by == "run"), "{err}");
    assert!(err.to_string().contains("another process (run)"), "{err}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(5) && waited < Duration::from_secs(7), "{waited:?}");
}
