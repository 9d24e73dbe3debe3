//! Classified feed events → bookings.

use hostelpulse_core::model::{
    AccountId, Booking, BookingStatus, Channel, ConnectorKind, Guest, Note, NoteKind, Party, Provenance, SourceId,
    SourceKey,
};

use crate::classify::{EventKind, FeedEvent};
use crate::config::FeedConfig;

/// The source id of an event: the feed id, then the event's identity within the feed.
pub fn source_id(feed: &str, identity: &str) -> SourceId {
    SourceId::new(format!("{feed}/{identity}"))
}

/// One event as a booking on the feed's unit.
pub fn booking(
    e: &FeedEvent,
    feed: &FeedConfig,
    kind: &ConnectorKind,
    account: &AccountId,
    provenance: &Provenance,
) -> Booking {
    let status = match (e.kind, e.cancelled) {
        (_, true) => BookingStatus::Cancelled,
        (EventKind::Reservation, false) => BookingStatus::Confirmed,
        (EventKind::Block, false) => BookingStatus::Block,
        (EventKind::Unavailable, false) => BookingStatus::Unavailable,
    };
    let key = SourceKey::new(kind.clone(), account.clone(), source_id(&feed.id, &e.identity));
    let mut b = Booking::new(key, provenance.clone(), status, e.arrival, e.departure);
    b.status_raw = e.summary.clone();
    b.guest = Guest { name: e.guest_name.clone(), ..Guest::default() };
    b.party = Party { adults: e.adults, children: None };
    b.allocations = vec![feed.unit.clone()];
    b.channel = e.channel.as_deref().map(|c| match c {
        "airbnb" => Channel::Airbnb,
        "booking_com" => Channel::BookingCom,
        "vrbo" => Channel::Vrbo,
        other => Channel::Other(other.to_owned()),
    });
    b.channel_ref = e.channel_ref.clone();
    if let Some(last4) = &e.phone_last4 {
        b.notes.push(Note { kind: NoteKind::Tagged, code: Some("phone_last4".into()), text: last4.clone() });
    }
    b
}
