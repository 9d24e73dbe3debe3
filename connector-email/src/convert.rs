//! Extracted fields → a booking.

use hostelpulse_core::model::{
    AccountId, Allocation, Booking, BookingStatus, Channel, ConnectorKind, Guest, Note, NoteKind, Party, Provenance,
    SourceId, SourceKey,
};

use crate::extract::{Extracted, MailKind};

/// The identity of a booking learned from mail: the channel and its reference (so later mails
/// about the same booking fold into it), or the message id when the mail had no reference.
pub fn record_key(f: &Extracted, message_id: &str) -> String {
    match (&f.channel, &f.channel_ref) {
        (Some(c), Some(r)) => format!("{}:{r}", channel_slug(c)),
        (None, Some(r)) => format!("ref:{r}"),
        (_, None) => format!("msg:{message_id}"),
    }
}

/// A short stable name for a channel.
pub fn channel_slug(c: &Channel) -> String {
    match c {
        Channel::Direct => "direct".into(),
        Channel::BookingCom => "booking_com".into(),
        Channel::Airbnb => "airbnb".into(),
        Channel::Hostelworld => "hostelworld".into(),
        Channel::Expedia => "expedia".into(),
        Channel::Agoda => "agoda".into(),
        Channel::Vrbo => "vrbo".into(),
        Channel::Other(o) => o.to_lowercase(),
        _ => "other".into(),
    }
}

/// The booking, when the fields hold both dates.
pub fn booking(key: &str, f: &Extracted, account: &AccountId, provenance: &Provenance) -> Option<Booking> {
    let (arrival, departure) = (f.arrival?, f.departure?);
    let status = if f.kind == MailKind::Cancelled { BookingStatus::Cancelled } else { BookingStatus::Confirmed };
    let source_key = SourceKey::new(ConnectorKind::EMAIL, account.clone(), SourceId::new(key));
    let mut b = Booking::new(source_key, provenance.clone(), status, arrival, departure);
    b.status_raw = Some(format!("{:?}", f.kind).to_lowercase());
    b.guest = Guest {
        name: f.guest_name.clone(),
        email: f.guest_email.clone(),
        phone: f.guest_phone.clone(),
        ..Guest::default()
    };
    b.party = Party { adults: f.adults, children: f.children };
    if let Some(room) = &f.room {
        b.allocations = vec![Allocation { label: Some(room.clone()), ..Allocation::default() }];
    }
    b.channel = f.channel.clone();
    b.channel_ref = f.channel_ref.clone();
    b.total = f.total.clone();
    b.notes = f.notes.iter().map(|n| Note { kind: NoteKind::Guest, code: None, text: n.clone() }).collect();
    Some(b)
}
