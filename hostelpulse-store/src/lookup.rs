//! Guest stay lookup for triage: at the source where it answers directly, else (or when it is
//! down) from the bookings synced to the store, saying which.

use hostelpulse_core::capability::{Operation, Support};
use hostelpulse_core::connector::in_room_on;
use hostelpulse_core::model::{Booking, SourceKey};
use hostelpulse_core::sync::PreviousBookings;
use hostelpulse_core::{Connector, ErrorKind, StayQuery};
use serde::Serialize;

use crate::{BookingStore, StoreError};

/// Where a lookup was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnsweredBy {
    /// The source, just now.
    Source,
    /// The bookings synced to the store (as fresh as the last sync).
    Store,
}

/// The stays a lookup found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StayLookup {
    /// The stays.
    pub bookings: Vec<Booking>,
    /// Who answered.
    pub answered_by: AnsweredBy,
    /// Why the source did not answer, when it was asked and failed.
    pub source_error: Option<String>,
}

/// Looks up a stay of `connector`'s account: at the source when it declares the lookup native
/// (or needing a scope it may have), else from `store`. A source that fails is answered from
/// the store, with the failure named: a front desk needs an answer, and a slightly stale one
/// says so.
pub async fn lookup_stay<S>(connector: &dyn Connector, store: &S, query: &StayQuery) -> Result<StayLookup, StoreError>
where
    S: BookingStore + PreviousBookings + ?Sized,
{
    let at_source =
        matches!(connector.capabilities().support(Operation::LookupStay), Support::Native | Support::NeedsScope { .. });
    let mut source_error = None;
    if at_source {
        match connector.lookup_stay(query).await {
            Ok(bookings) => return Ok(StayLookup { bookings, answered_by: AnsweredBy::Source, source_error: None }),
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => source_error = Some(e.to_string()),
        }
    }
    let (kind, account) = (connector.kind(), connector.account().clone());
    let bookings = match query {
        StayQuery::Booking { id } => store.bookings_by_key(&[SourceKey::new(kind, account, id.clone())]).await?,
        StayQuery::RoomNight { room, night } => {
            let Some(next) = night.succ_opt() else { return Ok(empty(source_error)) };
            store
                .bookings_between(*night, next)
                .await?
                .into_iter()
                .filter(|b| b.key.connector == kind && b.key.account == account && in_room_on(b, room, *night))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(StayLookup { bookings, answered_by: AnsweredBy::Store, source_error })
}

fn empty(source_error: Option<String>) -> StayLookup {
    StayLookup { bookings: Vec::new(), answered_by: AnsweredBy::Store, source_error }
}
