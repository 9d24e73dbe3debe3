//! A Sirvoy booking event → a booking.

use chrono::{DateTime, NaiveDate, Utc};
use hostelpulse_core::model::{
    AccountId, Allocation, Booking, BookingStatus, Channel, ConnectorKind, Guest, Money, Note, NoteKind, Party,
    Provenance, SourceId, SourceKey,
};
use rust_decimal::Decimal;

use crate::wire;

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The delivery's timestamp (`generatedAt`, else v1's `generatedTime`).
pub fn generated(e: &wire::Event) -> Option<DateTime<Utc>> {
    let s = e.generated_at.as_deref().or(e.generated_time.as_deref())?;
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

fn date(field: &str, s: &Option<String>) -> Result<NaiveDate, String> {
    let s = s.as_deref().ok_or_else(|| format!("`{field}` is missing"))?;
    s.trim().parse().map_err(|_| format!("`{field}` is not a date: `{s}`"))
}

/// The booking as this event shows it.
pub fn booking(
    e: &wire::Event,
    account: &AccountId,
    provenance: &Provenance,
    fallback_currency: Option<&str>,
) -> Result<Booking, String> {
    let id = e.booking_id.clone().ok_or("`bookingId` is missing")?;
    let arrival = date("arrivalDate", &e.arrival_date)?;
    let departure = date("departureDate", &e.departure_date)?;
    if departure <= arrival {
        return Err(format!("departure {departure} is not after arrival {arrival}"));
    }
    let status = if e.cancelled { BookingStatus::Cancelled } else { BookingStatus::Confirmed };
    let mut b = Booking::new(
        SourceKey::new(ConnectorKind::SIRVOY, account.clone(), SourceId::new(id)),
        provenance.clone(),
        status,
        arrival,
        departure,
    );
    b.status_raw =
        Some(format!("{}{}", e.event.as_deref().unwrap_or("event"), if e.cancelled { "/cancelled" } else { "" }));
    let g = e.guest.clone().unwrap_or_default();
    let name = [text(&g.first_name), text(&g.last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ");
    b.guest = Guest {
        name: (!name.is_empty()).then_some(name).or_else(|| text(&g.business_name)),
        email: text(&g.email),
        // Older deliveries carry a rendering artefact after the number: "+46… (tel:%2B46…)".
        phone: text(&g.phone).map(|p| p.split(" (tel:").next().unwrap_or(&p).trim().to_owned()),
        country: text(&g.country).map(|c| c.to_ascii_uppercase()),
        language: text(&g.language),
    };
    // Summed without overflow: a party of 40,000 + 40,000 is absurd, but must not wrap to 14,464.
    let per_room = e.rooms.iter().try_fold(0u16, |total, r| r.adults.map(|a| total.saturating_add(a)));
    b.party = Party { adults: e.total_adults.or(per_room), children: None };
    b.allocations = e
        .rooms
        .iter()
        .map(|r| Allocation {
            room_type: text(&r.room_type_name).map(SourceId::new),
            room: text(&r.room_name).map(SourceId::new),
            bed: None,
            label: text(&r.room_name).or_else(|| text(&r.room_type_name)),
        })
        .collect();
    b.channel_ref = text(&e.channel_booking_id);
    b.channel = Some(if b.channel_ref.is_some() { Channel::Other("ota via Sirvoy".into()) } else { Channel::Direct });
    let currency = text(&e.currency).or_else(|| fallback_currency.map(str::to_owned));
    b.total = match (e.total_price, currency) {
        (Some(p), Some(c)) => Decimal::try_from(p).ok().map(|d| Money::new(d.round_dp(2), c)),
        _ => None,
    };
    if let Some(m) = text(&g.message) {
        b.notes.push(Note { kind: NoteKind::Guest, code: None, text: m });
    }
    if let Some(c) = text(&e.internal_comment) {
        b.notes.push(Note { kind: NoteKind::Internal, code: None, text: c });
    }
    b.created_at = e
        .booking_date
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| t.with_timezone(&Utc));
    b.modified_at = generated(e);
    Ok(b)
}
