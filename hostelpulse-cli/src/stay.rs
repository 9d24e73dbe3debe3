//! `hostelpulse stay`: a guest's stay for triage, by booking id or by room and night, from the
//! source where it answers directly, else from the synced bookings (saying which).

use std::path::PathBuf;

use chrono::NaiveDate;
use hostelpulse::core::{SourceId, StayQuery};
use hostelpulse::store::{AnsweredBy, lookup_stay};

use crate::ops;
use crate::views::{self, BoxError};

pub struct Options {
    pub config: PathBuf,
    pub account: String,
    pub booking: Option<String>,
    pub room: Option<String>,
    pub night: Option<NaiveDate>,
    pub db: PathBuf,
    pub json: bool,
}

pub async fn run(o: Options) -> Result<(), BoxError> {
    let query = match (o.booking, o.room, o.night) {
        (Some(id), None, None) => StayQuery::Booking { id: SourceId::new(id) },
        (None, Some(room), Some(night)) => StayQuery::RoomNight { room: SourceId::new(room), night },
        _ => return Err("give --booking ID, or --room ID with --night DATE".into()),
    };
    let store = ops::open_existing(&o.db).await?;
    let (_, reg) = ops::registry(&o.config, &store).await?;
    let account = reg
        .accounts()
        .iter()
        .find(|a| a.id == o.account)
        .ok_or_else(|| format!("no account `{}` in {}", o.account, o.config.display()))?;
    // The account's lease and its quiet time, as `sync` takes them: a lookup beside a running
    // sync or `run` never pushes the account over the source's rate limit.
    let scope = hostelpulse::sync::Scope::new(account.connector.kind(), account.connector.account().clone());
    let holder = format!("hostelpulse-stay:{}", std::process::id());
    let held = hostelpulse::runtime::lease::acquire(store.clone(), &scope, &holder, ops::LEASE_TTL, ops::LEASE_WAIT)
        .await
        .map_err(|e| format!("{}: {e}", o.account))?;
    let found = lookup_stay(account.connector.as_ref(), store.as_ref(), &query).await;
    held.release(hostelpulse::runtime::lease::quiet_after(&account.connector.capabilities().sync.rate_limit)).await?;
    let found = found?;
    if o.json {
        outln!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    if let Some(e) = &found.source_error {
        outln!("The source did not answer ({e}): from the last sync instead.");
    }
    let mut rows = vec![["booking", "guest", "stay", "status", "room / bed"].map(String::from).to_vec()];
    for b in &found.bookings {
        let units: Vec<String> = b
            .allocations
            .iter()
            .filter_map(|a| a.label.clone().or_else(|| a.bed.as_ref().or(a.room.as_ref()).map(ToString::to_string)))
            .collect();
        rows.push(vec![
            b.key.id.to_string(),
            b.guest.name.clone().unwrap_or_default(),
            format!("{} → {}", b.arrival, b.departure),
            format!("{:?}", b.status).to_lowercase(),
            units.join(", "),
        ]);
    }
    outln!("{}", views::table(rows));
    outln!(
        "{} stay(s), answered by {}.",
        found.bookings.len(),
        match found.answered_by {
            AnsweredBy::Source => "the source",
            _ => "the synced bookings",
        }
    );
    Ok(())
}
