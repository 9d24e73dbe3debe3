//! The bookings and rooms themselves, for hosts without a database of their own: the
//! command-line tool and the demo keep them in the store to draw the Today board. A host
//! application normally implements [`hostelpulse_core::sync::Sink`] over its own tables instead.

use async_trait::async_trait;
use chrono::NaiveDate;
use hostelpulse_core::model::{Booking, Housekeeping, Property};
use hostelpulse_core::sync::{Scope, StoreError};

use crate::{Pruned, Retention};

/// Bookings, rooms and housekeeping as the store's own [`hostelpulse_core::sync::Sink`] keeps
/// them; implemented by [`crate::SqliteStore`] and (feature `postgres`) `PgStore`.
#[async_trait]
pub trait BookingStore: Send + Sync {
    /// Bookings of every account whose stay overlaps `from..until` (exclusive), cancelled ones
    /// included, ordered by arrival. A booking the source no longer shows (declared
    /// disappeared) is returned as cancelled, with `status_raw` saying so and `cancelled_at` the
    /// time it was declared gone.
    async fn bookings_between(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<Booking>, StoreError>;
    /// [`BookingStore::bookings_between`] for these accounts only (one property's): what the
    /// task keeper and the board read, without decoding every other property's stays. Stores
    /// should override the default, which reads every account and filters.
    async fn bookings_of_between(
        &self,
        scopes: &[Scope],
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let all = self.bookings_between(from, until).await?;
        Ok(all
            .into_iter()
            .filter(|b| scopes.iter().any(|s| s.connector == b.key.connector && s.account == b.key.account))
            .collect())
    }
    /// Every booking row of one account, gone ones included.
    async fn bookings_of(&self, scope: &Scope) -> Result<Vec<Booking>, StoreError>;
    /// The housekeeping state last refreshed for an account.
    async fn housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, StoreError>;
    /// Replaces an account's rooms (its properties with room types, rooms and beds).
    async fn save_properties(&self, scope: &Scope, properties: &[Property]) -> Result<(), StoreError>;
    /// Every saved property, by account.
    async fn properties(&self) -> Result<Vec<(Scope, Vec<Property>)>, StoreError>;
    /// Applies a retention policy (run it daily): deletes old audit records and clears departed
    /// guests' contact details, in one transaction.
    async fn prune(&self, today: NaiveDate, retention: &Retention) -> Result<Pruned, StoreError>;
}

#[async_trait]
impl BookingStore for crate::SqliteStore {
    async fn bookings_between(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<Booking>, StoreError> {
        crate::SqliteStore::bookings_between(self, from, until).await
    }
    async fn bookings_of(&self, scope: &Scope) -> Result<Vec<Booking>, StoreError> {
        crate::SqliteStore::bookings_of(self, scope).await
    }
    async fn bookings_of_between(
        &self,
        scopes: &[Scope],
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        crate::SqliteStore::bookings_of_between(self, scopes, from, until).await
    }
    async fn housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, StoreError> {
        crate::SqliteStore::housekeeping(self, scope).await
    }
    async fn save_properties(&self, scope: &Scope, properties: &[Property]) -> Result<(), StoreError> {
        crate::SqliteStore::save_properties(self, scope, properties).await
    }
    async fn properties(&self) -> Result<Vec<(Scope, Vec<Property>)>, StoreError> {
        crate::SqliteStore::properties(self).await
    }
    async fn prune(&self, today: NaiveDate, retention: &Retention) -> Result<Pruned, StoreError> {
        crate::SqliteStore::prune(self, today, retention).await
    }
}

/// The review a sync report carries for `scope` (see `SyncStore::mapping_review`), for stores
/// that keep the rooms and the mapping: the account's stored rooms, the run's, and the mapping.
pub(crate) async fn review_mapping<S>(
    store: &S,
    scope: &Scope,
    seen: &[hostelpulse_core::mapping::SourceRoom],
) -> Result<Option<hostelpulse_core::mapping::MappingReview>, StoreError>
where
    S: BookingStore + hostelpulse_core::sync::MappingStore + ?Sized,
{
    let mapping = store.room_mapping().await?;
    if mapping.is_empty() {
        return Ok(None);
    }
    let known = store
        .properties()
        .await?
        .into_iter()
        .find(|(s, _)| s == scope)
        .map(|(_, props)| hostelpulse_core::mapping::source_rooms(&props));
    Ok(hostelpulse_core::sync::review_for_run(&mapping, known, seen))
}
