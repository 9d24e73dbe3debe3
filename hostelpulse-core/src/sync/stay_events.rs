//! Typed stay events derived from the diff: new booking, checked in, checked out, cancelled,
//! restored, dates changed, room moved — each with the booking before and after.
//!
//! The engine's diff knows what changed, not what it was: the booking before comes from the
//! host's own copy ([`PreviousBookings`]). [`EventingSink`] reads it, hands the events to the
//! host's [`StayEventSink`] and only then applies the changes, so a run that fails after the
//! events went out derives the same events again on its retry, with the same ids: a subscriber
//! that keeps the ids it has seen gets each event once. With
//! [`EventingSink::with_room_states`] room refreshes' housekeeping changes go the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::engine::{Change, ChangeClass, RoomRefresh, Sink};
use super::room_state::RoomStateSink;
use super::store::{Scope, StoreError};
use crate::error::BoxError;
use crate::model::{Booking, BookingStatus, Fingerprinted, Housekeeping, SourceId, SourceKey};

/// What happened to a stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StayEventKind {
    /// A booking seen for the first time.
    NewBooking,
    /// The guest checked in.
    CheckedIn,
    /// The guest checked out (before, on or after the departure date).
    CheckedOut,
    /// Cancelled (or no longer at the source: then `after` is `None`).
    Cancelled,
    /// Back from cancelled or gone.
    Restored,
    /// Arrival or departure moved.
    DatesChanged,
    /// Moved to other rooms or beds.
    RoomMoved,
}

impl StayEventKind {
    /// The name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewBooking => "new_booking",
            Self::CheckedIn => "checked_in",
            Self::CheckedOut => "checked_out",
            Self::Cancelled => "cancelled",
            Self::Restored => "restored",
            Self::DatesChanged => "dates_changed",
            Self::RoomMoved => "room_moved",
        }
    }
}

/// One event about one stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StayEvent {
    /// Stable for the same change of the same booking: the key, the kind and the content
    /// fingerprint after it. A re-sent change yields the same id.
    pub id: String,
    /// What happened.
    pub kind: StayEventKind,
    /// The booking.
    pub key: SourceKey,
    /// As the host had it, when it had it.
    pub before: Option<Booking>,
    /// As it is now (`None` for a booking no longer at the source).
    pub after: Option<Booking>,
}

fn units(b: &Booking) -> BTreeSet<&SourceId> {
    b.allocations.iter().filter_map(|a| a.bed.as_ref().or(a.room.as_ref())).collect()
}

/// The events one change makes, given the booking as the host had it.
pub fn derive(change: &Change, before: Option<&Booking>) -> Vec<StayEvent> {
    let after = change.booking.as_ref();
    let stamp = after.map(|b| b.fingerprint().to_string()).unwrap_or_else(|| "gone".into());
    let event = |kind: StayEventKind| StayEvent {
        id: format!("{}:{}:{stamp}", change.key, kind.as_str()),
        kind,
        key: change.key.clone(),
        before: before.cloned(),
        after: after.cloned(),
    };
    let mut kinds = Vec::new();
    match (change.class, before, after) {
        (ChangeClass::Disappeared, _, _) | (ChangeClass::Cancelled, _, _) => kinds.push(StayEventKind::Cancelled),
        (ChangeClass::Restored, _, _) => kinds.push(StayEventKind::Restored),
        (_, None, Some(_)) => kinds.push(StayEventKind::NewBooking),
        (_, Some(b), Some(a)) => {
            if a.status == BookingStatus::CheckedIn && b.status != BookingStatus::CheckedIn {
                kinds.push(StayEventKind::CheckedIn);
            }
            if a.status == BookingStatus::CheckedOut && b.status != BookingStatus::CheckedOut {
                kinds.push(StayEventKind::CheckedOut);
            }
            if (a.arrival, a.departure) != (b.arrival, b.departure) {
                kinds.push(StayEventKind::DatesChanged);
            }
            let (was, now) = (units(b), units(a));
            if !was.is_empty() && !now.is_empty() && was != now {
                kinds.push(StayEventKind::RoomMoved);
            }
        }
        (_, _, None) => {}
    }
    kinds.dedup();
    kinds.into_iter().map(event).collect()
}

/// The host's copy of bookings, read before changes are applied.
#[async_trait]
pub trait PreviousBookings: Send + Sync {
    /// The bookings of these keys the host has (absent ones are left out).
    async fn bookings_by_key(&self, keys: &[SourceKey]) -> Result<Vec<Booking>, StoreError>;
}

/// Where stay events go. Keep the ids seen: an event may come twice, never with another id.
#[async_trait]
pub trait StayEventSink: Send + Sync {
    /// Takes a run's events, in change order. On error the changes are not applied and the run
    /// sends them again.
    async fn deliver(&self, events: &[StayEvent]) -> Result<(), BoxError>;
}

/// A [`Sink`] that derives stay events before it applies the changes to `inner`.
pub struct EventingSink {
    inner: Arc<dyn Sink>,
    previous: Arc<dyn PreviousBookings>,
    events: Arc<dyn StayEventSink>,
    rooms: Option<Arc<dyn RoomStateSink>>,
}

impl std::fmt::Debug for EventingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventingSink").finish_non_exhaustive()
    }
}

impl EventingSink {
    /// Applies to `inner`, reading bookings before from `previous`, sending events to `events`.
    pub fn new(inner: Arc<dyn Sink>, previous: Arc<dyn PreviousBookings>, events: Arc<dyn StayEventSink>) -> Self {
        Self { inner, previous, events, rooms: None }
    }

    /// Also hands each room refresh's housekeeping changes to `rooms`, before they are applied.
    pub fn with_room_states(mut self, rooms: Arc<dyn RoomStateSink>) -> Self {
        self.rooms = Some(rooms);
        self
    }
}

#[async_trait]
impl Sink for EventingSink {
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        let keys: Vec<SourceKey> = changes.iter().map(|c| c.key.clone()).collect();
        let before: BTreeMap<SourceKey, Booking> =
            self.previous.bookings_by_key(&keys).await?.into_iter().map(|b| (b.key.clone(), b)).collect();
        let events: Vec<StayEvent> = changes.iter().flat_map(|c| derive(c, before.get(&c.key))).collect();
        if !events.is_empty() {
            self.events.deliver(&events).await?;
        }
        self.inner.apply(changes).await
    }

    async fn apply_rooms(&self, scope: &Scope, rooms: &RoomRefresh) -> Result<(), BoxError> {
        if let Some(sink) = &self.rooms
            && !rooms.changes.is_empty()
        {
            sink.deliver(scope, &rooms.changes).await?;
        }
        self.inner.apply_rooms(scope, rooms).await
    }

    async fn kept_housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, BoxError> {
        self.inner.kept_housekeeping(scope).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::{Allocation, ConnectorKind, Provenance, Via};

    fn stay(status: BookingStatus, arrival: &str, departure: &str, bed: &str) -> Booking {
        let mut b = Booking::new(
            SourceKey::new(ConnectorKind::CLOUDBEDS, "p", "r1"),
            Provenance::new(Via::Api, Utc::now()),
            status,
            arrival.parse().unwrap(),
            departure.parse().unwrap(),
        );
        b.allocations = vec![Allocation { bed: Some(bed.into()), ..Allocation::default() }];
        b
    }

    fn kinds(class: ChangeClass, before: Option<&Booking>, after: Option<Booking>) -> Vec<StayEventKind> {
        let key = SourceKey::new(ConnectorKind::CLOUDBEDS, "p", "r1");
        derive(&Change { class, key, booking: after }, before).into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn each_transition_names_itself() {
        use BookingStatus::*;
        let b = stay(Confirmed, "2026-12-01", "2026-12-03", "b1");
        assert_eq!(kinds(ChangeClass::Inserted, None, Some(b.clone())), [StayEventKind::NewBooking]);
        assert_eq!(
            kinds(ChangeClass::Updated, Some(&b), Some(stay(CheckedIn, "2026-12-01", "2026-12-03", "b1"))),
            [StayEventKind::CheckedIn]
        );
        // Checked out a day early, the PMS moving the departure: both said.
        assert_eq!(
            kinds(ChangeClass::Updated, Some(&b), Some(stay(CheckedOut, "2026-12-01", "2026-12-02", "b1"))),
            [StayEventKind::CheckedOut, StayEventKind::DatesChanged]
        );
        assert_eq!(
            kinds(ChangeClass::Updated, Some(&b), Some(stay(Confirmed, "2026-12-01", "2026-12-03", "b2"))),
            [StayEventKind::RoomMoved]
        );
        assert_eq!(
            kinds(ChangeClass::Cancelled, Some(&b), Some(stay(Cancelled, "2026-12-01", "2026-12-03", "b1"))),
            [StayEventKind::Cancelled]
        );
        assert_eq!(kinds(ChangeClass::Disappeared, Some(&b), None), [StayEventKind::Cancelled]);
        assert_eq!(kinds(ChangeClass::Restored, Some(&b), Some(b.clone())), [StayEventKind::Restored]);
        // A content change that is none of these (a guest's phone) is no stay event.
        let mut phone = b.clone();
        phone.guest.phone = Some("+351 900 000 000".into());
        assert!(kinds(ChangeClass::Updated, Some(&b), Some(phone)).is_empty());
    }

    #[test]
    fn the_same_change_gets_the_same_id() {
        let b = stay(BookingStatus::Confirmed, "2026-12-01", "2026-12-03", "b1");
        let c = Change { class: ChangeClass::Inserted, key: b.key.clone(), booking: Some(b) };
        assert_eq!(derive(&c, None)[0].id, derive(&c.clone(), None)[0].id);
    }
}
