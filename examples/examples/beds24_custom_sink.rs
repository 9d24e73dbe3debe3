//! A Beds24 sync into the host's own storage: implement `Sink` (idempotent by source key), hand it
//! to the sync engine, run full then incremental syncs.
//!
//! `cargo run -p hostelpulse-examples --example beds24_custom_sink`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse::beds24::{Beds24Config, Beds24Connector, Credentials};
use hostelpulse::core::error::BoxError;
use hostelpulse::model::{Booking, SourceKey};
use hostelpulse::sync::{Change, ChangeClass, MemoryStore, Plan, Sink, SyncEngine, Trigger};
use hostelpulse_sandbox::Beds24Emulator;
use secrecy::SecretString;

/// One row of the host's table: the booking as last seen, and when the source stopped showing it.
struct Row {
    booking: Booking,
    gone_at: Option<DateTime<Utc>>,
}

/// The host's table of bookings: keyed by source key, so applying the same change twice is a no-op.
/// A booking that disappeared upstream is marked gone, never deleted: the host keeps what it knew.
#[derive(Default)]
struct HostTable {
    rows: Mutex<BTreeMap<SourceKey, Row>>,
}

#[async_trait]
impl Sink for HostTable {
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        let mut rows = self.rows.lock().map_err(|_| "poisoned")?;
        for c in changes {
            match (&c.class, &c.booking) {
                (ChangeClass::Disappeared, _) | (_, None) => {
                    if let Some(row) = rows.get_mut(&c.key) {
                        row.gone_at.get_or_insert_with(Utc::now);
                    }
                }
                (_, Some(b)) => {
                    rows.insert(c.key.clone(), Row { booking: b.clone(), gone_at: None });
                }
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let emu = Beds24Emulator::builder().bookings(25).start().await?;
    let creds = Credentials::InviteCode(SecretString::from(emu.issue_invite_code()));
    let beds24 = Beds24Connector::new(
        Beds24Config::builder(hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID, creds)
            .base_url(emu.base_url())
            .timezone(chrono_tz::Europe::Lisbon)
            .build()?,
    )?;
    // The engine's own memory (fingerprints, cursor, audit) — SQLite or the host's database in production.
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let table = HostTable::default();
    let full = engine.run(&beds24, Plan::Full, Trigger::ScheduledFull, &table).await;
    println!(
        "full sync: {:?}, {} bookings in the host table",
        full.outcome,
        table.rows.lock().map_err(|_| "poisoned")?.len()
    );
    let again = engine.run(&beds24, Plan::Incremental, Trigger::Poll, &table).await;
    println!("incremental sync: {} fetched, {} changes", again.counts.fetched, again.counts.changes());
    let rows = table.rows.lock().map_err(|_| "poisoned")?;
    let in_house = rows.values().filter(|r| r.gone_at.is_none() && r.booking.status.holds_inventory()).count();
    println!(
        "{in_house} bookings hold a bed; {} marked gone upstream",
        rows.values().filter(|r| r.gone_at.is_some()).count()
    );
    Ok(())
}
