//! One configured property read back from the store: its inventory, its accounts' bookings,
//! how fresh each source is, and its Today board. The command-line tool and the owner console
//! draw the same board from the same store.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::{AccountConfig, Config};
use crate::core::board::{Board, BoardBuilder, SourceFreshness};
use crate::core::model::{Booking, Property, Provenance, SourceKey, Via};
use crate::core::sync::{AuditLog, MappingStore, PlanKind, Scope, StoreError};
use crate::store::BookingStore;

/// What the board needs of a store: bookings and rooms, the audit log, the room mapping.
pub trait PropertyStore: BookingStore + AuditLog + MappingStore {}
impl<T: BookingStore + AuditLog + MappingStore + ?Sized> PropertyStore for T {}

/// The scopes whose bookings belong to the configured property (from the file alone: nothing
/// is resolved or built).
pub fn property_scopes(cfg: &Config) -> Vec<Scope> {
    cfg.property_accounts().map(AccountConfig::scope).collect()
}

/// The inventory: the rooms of `rooms_from`, or an empty property when none is configured or
/// none was read yet.
pub async fn inventory(cfg: &Config, store: &(impl BookingStore + ?Sized)) -> Result<Property, StoreError> {
    let saved = store.properties().await?;
    let from = cfg.property.rooms_from.as_deref().and_then(|id| cfg.account(id)).map(AccountConfig::scope);
    let found =
        saved.into_iter().find(|(s, _)| Some(s) == from.as_ref()).and_then(|(_, props)| props.into_iter().next());
    Ok(found.unwrap_or_else(|| {
        let key =
            SourceKey::new(crate::ConnectorKind::new("config"), crate::core::AccountId::new("property"), "property");
        Property::new(key, Provenance::new(Via::Manual, Utc::now()), cfg.property.name.clone())
    }))
}

/// The property's bookings (its accounts only) overlapping `from..until`.
pub async fn own_bookings(
    cfg: &Config,
    store: &(impl BookingStore + ?Sized),
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Booking>, StoreError> {
    store.bookings_of_between(&property_scopes(cfg), from, until).await
}

/// How long before an account's data counts as stale: feeds refresh slowly, at the OTA's pace.
fn stale_after(a: &AccountConfig) -> Duration {
    match a.connector() {
        "ical" | "fdm" => Duration::hours(6),
        _ => Duration::hours(1),
    }
}

/// Each account's last successful bookings sync (a room refresh says nothing of the bookings).
pub async fn freshness(cfg: &Config, store: &(impl AuditLog + ?Sized)) -> Result<Vec<SourceFreshness>, StoreError> {
    let mut out = Vec::new();
    for a in cfg.property_accounts() {
        let recent = store.recent(&a.scope(), 20).await?;
        let last = recent.iter().find(|r| r.outcome.is_success() && r.plan != PlanKind::Rooms).map(|r| r.finished_at);
        out.push(SourceFreshness::new(format!("{} ({})", a.id(), a.connector()), last, stale_after(a)));
    }
    Ok(out)
}

/// The property's Today board for `date`: its rooms with their housekeeping, the host's room
/// names from the confirmed mapping, and a warning for each stale source.
pub async fn board_for(
    cfg: &Config,
    store: &(impl PropertyStore + ?Sized),
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Board, StoreError> {
    let property = inventory(cfg, store).await?;
    let bookings = own_bookings(cfg, store, date - Duration::days(1), date + Duration::days(2)).await?;
    let sources = freshness(cfg, store).await?;
    let mut housekeeping = Vec::new();
    for scope in property_scopes(cfg) {
        housekeeping.extend(store.housekeeping(&scope).await?.unwrap_or_default());
    }
    let builder = BoardBuilder::new(property, cfg.property.timezone, cfg.property.check_in)
        .with_mapping(store.room_mapping().await?)
        .with_housekeeping(housekeeping);
    Ok(builder.board(date, &bookings, &sources, now))
}
