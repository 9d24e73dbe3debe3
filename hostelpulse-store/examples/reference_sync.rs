//! Syncs the in-memory reference connector into a SQLite file, changes bookings upstream, syncs
//! again incrementally, and prints what the host would see. No network, no account.
//!
//! `cargo run -p hostelpulse-store --example reference_sync`

use std::sync::Arc;

use chrono::Duration;
use hostelpulse_core::sync::{ChangeClass, CollectingSink, Plan, Scope, SyncEngine, Trigger};
use hostelpulse_core::testkit::{Modification, NewBooking, ReferenceUpstream, Upstream};
use hostelpulse_core::{CapabilityMatrix, Clock, Connector, SourceId, SystemClock};
use hostelpulse_store::SqliteStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("hostelpulse-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&db).await?);
    let clock = Arc::new(SystemClock);
    let upstream = ReferenceUpstream::seeded("reference-hostel", clock.clone(), 40);
    let connector = upstream.connector();
    let engine = SyncEngine::new(store.clone());

    println!("# Capabilities\n\n{}", CapabilityMatrix::new([connector.capabilities()]).to_markdown());

    let sink = CollectingSink::new();
    let full = engine.run(&connector, Plan::Full, Trigger::ScheduledFull, &sink).await;
    println!("# Full sync into {}\n", db.display());
    println!(
        "{:?}: {} fetched, {} inserted, {} failed",
        full.outcome, full.counts.fetched, full.counts.inserted, full.counts.failed
    );
    sink.take();

    // Upstream: a cancellation, a date change, a new booking.
    let ids: Vec<SourceId> = sink_ids(&connector).await?;
    upstream.cancel(&ids[0]).await?;
    upstream.modify(&ids[1], Modification::ExtendStay).await?;
    let arrival = clock.now().date_naive() + Duration::days(3);
    upstream.create(NewBooking::new(arrival, arrival + Duration::days(2)).guest("Ana Lima")).await?;

    let inc = engine.run(&connector, Plan::Incremental, Trigger::Poll, &sink).await;
    println!("\n# Incremental sync\n");
    for change in sink.take() {
        let b = change.booking.as_ref();
        let what = match change.class {
            ChangeClass::Inserted => "new",
            ChangeClass::Updated => "changed",
            ChangeClass::Cancelled => "cancelled",
            ChangeClass::Restored => "restored",
            _ => "gone",
        };
        println!(
            "- {what:<9} {} {} → {} {}",
            change.key.id,
            b.map(|b| b.arrival.to_string()).unwrap_or_default(),
            b.map(|b| b.departure.to_string()).unwrap_or_default(),
            b.and_then(|b| b.guest.name.clone()).unwrap_or_default()
        );
    }
    println!("{:?}: {} changes, {} unchanged", inc.outcome, inc.counts.changes(), inc.counts.unchanged);

    let status = engine.status(&Scope::new(connector.kind(), connector.account().clone()), 20).await?;
    println!("\n# Owner status\n\n{}", serde_json::to_string_pretty(&status)?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Two active future bookings to change.
async fn sink_ids(connector: &dyn Connector) -> Result<Vec<SourceId>, Box<dyn std::error::Error>> {
    let today = chrono::Utc::now().date_naive();
    let window = hostelpulse_core::DateRange::new(today, today + Duration::days(60))?;
    let batch = connector.bookings(&hostelpulse_core::BookingQuery::stay_window(window)).await?;
    Ok(batch.bookings.iter().filter(|b| b.status.is_active_stay()).take(2).map(|b| b.key.id.clone()).collect())
}
