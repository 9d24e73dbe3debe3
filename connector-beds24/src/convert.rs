//! Beds24 wire types → the normalized model.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use hostelpulse_core::connector::RecordFailure;
use hostelpulse_core::model::{
    AccountId, Allocation, Availability, Bed, Booking, BookingStatus, Channel, Condition, ConnectorKind, Guest,
    Housekeeping, Money, Note, NoteKind, Party, Property, Provenance, Room, RoomKind, RoomType, SourceId, SourceKey,
};
use rust_decimal::Decimal;

use crate::wire;

/// What conversion needs to know about the property's rooms (from `GET /properties`).
#[derive(Debug, Clone, Default)]
pub struct RoomIndex {
    /// Room ids whose units are dorm beds.
    pub dorms: HashSet<u64>,
    /// Unit names by (room id, unit id).
    pub unit_names: HashMap<(u64, u64), String>,
    /// The property's currency.
    pub currency: Option<String>,
    /// Every room id, in the property's order.
    pub room_ids: Vec<u64>,
}

impl RoomIndex {
    /// The index of a property.
    pub fn of(p: &wire::Property) -> Self {
        let mut idx = Self { currency: p.currency.clone(), ..Self::default() };
        for rt in &p.room_types {
            idx.room_ids.push(rt.id);
            if rt.is_dorm() {
                idx.dorms.insert(rt.id);
            }
            for u in &rt.units {
                idx.unit_names.insert((rt.id, u.id), u.name.clone());
            }
        }
        idx
    }
}

/// Conversion settings.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// The account (property id).
    pub account: &'a AccountId,
    /// Rooms.
    pub rooms: &'a RoomIndex,
    /// Fallback currency.
    pub currency: Option<&'a str>,
    /// Check-in info code.
    pub checkin_code: &'a str,
    /// Check-out info code.
    pub checkout_code: &'a str,
    /// Provenance of the records.
    pub provenance: &'a Provenance,
}

fn key(account: &AccountId, id: impl Into<SourceId>) -> SourceKey {
    SourceKey::new(ConnectorKind::BEDS24, account.clone(), id)
}

/// The id of a unit: a bed of a dorm, or a room of a private room type.
pub fn unit_id(room_id: u64, unit: u64) -> SourceId {
    SourceId::from_display(format_args!("{room_id}-{unit}"))
}

/// The id of the physical dorm room that holds a dorm room type's beds.
pub fn dorm_room_id(room_id: u64) -> SourceId {
    SourceId::from_display(format_args!("{room_id}-dorm"))
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// [`text`], taking the string: moved when it needs no trimming, which is nearly always.
fn owned_text(s: Option<String>) -> Option<String> {
    let s = s?;
    let t = s.trim();
    match t.len() {
        0 => None,
        n if n == s.len() => Some(s),
        _ => Some(t.to_owned()),
    }
}

/// Parses Beds24 timestamps: ISO UTC with `Z`, or the offset-less forms the API accepts.
pub fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // The form the API sends, `2025-06-02T09:14:22Z`, read without chrono's general parser;
    // anything else (offsets, fractions, a leap second) goes through it.
    if let Some(t) = hostelpulse_core::dates::iso_utc_seconds(s) {
        return Some(t);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok().map(|n| n.and_utc()))
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok().map(|n| n.and_utc()))
}

fn date(field: &str, s: Option<&str>) -> Result<NaiveDate, String> {
    let s = s.ok_or_else(|| format!("`{field}` is missing"))?;
    hostelpulse_core::dates::iso_date(s)
        .or_else(|| s.parse().ok())
        .ok_or_else(|| format!("`{field}` is not a date: `{s}`"))
}

/// The normalized status, and the raw value kept beside it.
pub fn status(b: &wire::Booking<'_>, checkin_code: &str, checkout_code: &str) -> (BookingStatus, String) {
    let raw_status = b.status.as_deref().unwrap_or("");
    let sub = b.sub_status.as_deref().filter(|s| !s.is_empty() && *s != "none");
    let raw = match sub {
        Some(sub) => format!("{raw_status}/{sub}"),
        None => raw_status.to_owned(),
    };
    let has_code = |code: &str| b.info_items.iter().any(|i| i.code.eq_ignore_ascii_case(code));
    let status = match raw_status {
        "black" => BookingStatus::Block,
        "cancelled" => BookingStatus::Cancelled,
        _ if sub == Some("noShow") => BookingStatus::NoShow,
        // Beds24 has no stay status: check-in and check-out are info codes.
        "confirmed" | "new" | "request" | "inquiry" if has_code(checkout_code) => BookingStatus::CheckedOut,
        "confirmed" | "new" | "request" | "inquiry" if has_code(checkin_code) => BookingStatus::CheckedIn,
        "confirmed" => BookingStatus::Confirmed,
        "new" | "request" | "inquiry" => BookingStatus::Tentative,
        _ => BookingStatus::Unknown,
    };
    (status, raw)
}

fn channel(b: &wire::Booking<'_>) -> Option<Channel> {
    let code = b.channel.as_deref().map(str::trim).unwrap_or("");
    let is = |name: &str| code.eq_ignore_ascii_case(name);
    // Compared in place: a text is made only for a channel this list does not know.
    Some(if code.is_empty() {
        match b.api_source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(source) => Channel::Other(source.to_owned()),
            None => Channel::Direct,
        }
    } else if is("booking") || is("bookingcom") {
        Channel::BookingCom
    } else if is("airbnb") {
        Channel::Airbnb
    } else if is("hostelworld") {
        Channel::Hostelworld
    } else if is("expedia") {
        Channel::Expedia
    } else if is("agoda") {
        Channel::Agoda
    } else if is("vrbo") || is("homeaway") {
        Channel::Vrbo
    } else if is("direct") {
        Channel::Direct
    } else {
        Channel::Other(code.to_ascii_lowercase())
    })
}

/// One booking row, converted: the booking, or why it could not be (for the sync report).
pub type Row = std::result::Result<Booking, RecordFailure>;

/// A `GET /bookings` page, converted.
#[derive(Debug)]
#[non_exhaustive]
pub struct Page {
    /// The envelope's `success`.
    pub success: Option<bool>,
    /// The envelope's error text, on failure.
    pub error: Option<String>,
    /// Whether another page follows.
    pub next_page_exists: bool,
    /// Each row, in the page's order.
    pub rows: Vec<Row>,
    /// One key per row for the paging guard (which spots a page served twice): a hash of the
    /// booking id, or of the raw text of a row whose id cannot be read.
    pub keys: Vec<u64>,
}

/// Converts a `GET /bookings` page: the bookings, and a failure with its JSON path for each row
/// that does not decode or convert.
///
/// The page is decoded straight into the wire types and each row is converted by value (its
/// strings moved, not copied), so the happy path costs about what a plain decode costs. Only a
/// page where that fails is read again with raw rows, each decoded on its own (and with path
/// tracking only if it fails), so one bad row never costs the others. A row of another property
/// is refused (the API filters by property, but such a row must never be stored under this one).
pub fn page(body: &[u8], ctx: &Ctx<'_>, property_id: u64) -> hostelpulse_core::error::Result<Page> {
    // The body is checked as UTF-8 once, as a whole: decoding from bytes checks every string
    // on its own, a tenth of the decode on a page of short strings.
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(p) = serde_json::from_str::<wire::BookingPage>(text)
    {
        let keys = p.data.iter().map(|w| row_key(&w.id)).collect();
        let rows = p.data.into_iter().enumerate().map(|(i, w)| row(w, i, ctx, property_id)).collect();
        return Ok(Page { success: p.success, error: p.error, next_page_exists: p.pages.next_page_exists, rows, keys });
    }
    let env: wire::ListEnvelope = hostelpulse_core::http::decode_json(&ConnectorKind::BEDS24, "GET /bookings", body)?;
    let mut rows = Vec::with_capacity(env.data.len());
    let mut keys = Vec::with_capacity(env.data.len());
    for (i, raw) in env.data.iter().enumerate() {
        match serde_json::from_str::<wire::Booking>(raw.get()) {
            Ok(w) => {
                keys.push(row_key(&w.id));
                rows.push(row(w, i, ctx, property_id));
            }
            Err(_) => {
                keys.push(row_key(raw.get()));
                rows.push(Err(undecodable(raw.get(), i)));
            }
        }
    }
    Ok(Page { success: env.success, error: env.error, next_page_exists: env.pages.next_page_exists, rows, keys })
}

fn row_key(k: &(impl std::hash::Hash + ?Sized)) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(k)
}

/// Row `i` of a page, decoded: converted, or refused with where and why.
fn row(w: wire::Booking<'_>, i: usize, ctx: &Ctx<'_>, property_id: u64) -> Row {
    let id = w.id;
    if let Some(other) = w.property_id.filter(|p| *p != property_id) {
        return Err(RecordFailure::new(
            Some(SourceId::from(id)),
            format!("belongs to property {other}, not {property_id}: not stored"),
        )
        .at(format!("data[{i}].propertyId")));
    }
    into_booking(w, ctx).map_err(|reason| RecordFailure::new(Some(SourceId::from(id)), reason).at(format!("data[{i}]")))
}

/// The failure of row `i` that did not decode: decoded again, with path tracking, for the path.
fn undecodable(raw: &str, i: usize) -> RecordFailure {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Option<serde_json::Value>,
    }
    let id = serde_json::from_str::<IdOnly>(raw).ok().and_then(|r| r.id).map(|v| match v {
        serde_json::Value::String(s) => SourceId::new(s),
        other => SourceId::new(other.to_string()),
    });
    let de = &mut serde_json::Deserializer::from_str(raw);
    match serde_path_to_error::deserialize::<_, wire::Booking>(de) {
        Err(e) => RecordFailure::new(id, e.inner().to_string()).at(format!("data[{i}].{}", e.path())),
        // Cannot happen (the same input failed a moment ago); reported rather than dropped.
        Ok(_) => RecordFailure::new(id, "the row did not decode").at(format!("data[{i}]")),
    }
}

/// Converts a booking. The error says what is wrong, for the sync report.
pub fn booking(b: &wire::Booking<'_>, ctx: &Ctx<'_>) -> Result<Booking, String> {
    into_booking(b.clone(), ctx)
}

/// [`booking`], taking the row: its strings move into the booking instead of being copied.
pub fn into_booking(b: wire::Booking<'_>, ctx: &Ctx<'_>) -> Result<Booking, String> {
    let arrival = date("arrival", b.arrival.as_deref())?;
    let departure = date("departure", b.departure.as_deref())?;
    // A stay has a night: a departure on the arrival day (found by fuzzing) is refused like one
    // before it, as the other sources do.
    if departure <= arrival {
        return Err(format!("departure {departure} is not after arrival {arrival}: a booking without a night"));
    }
    let (status, raw) = status(&b, ctx.checkin_code, ctx.checkout_code);
    let channel = channel(&b);
    let mut out = Booking::new(key(ctx.account, b.id), ctx.provenance.clone(), status, arrival, departure);
    out.status_raw = Some(raw);
    let name = match (owned_text(b.first_name), owned_text(b.last_name)) {
        (Some(mut first), Some(last)) => {
            first.reserve(1 + last.len());
            first.push(' ');
            first.push_str(&last);
            Some(first)
        }
        (first, last) => first.or(last),
    };
    let phone = match owned_text(b.mobile) {
        Some(m) => Some(m),
        None => owned_text(b.phone),
    };
    let country = match owned_text(b.country2) {
        Some(mut c) => {
            c.make_ascii_uppercase();
            Some(c)
        }
        None => b.country.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
    };
    out.guest = Guest { name, email: owned_text(b.email), phone, country, language: owned_text(b.lang) };
    out.party = Party { adults: b.num_adult, children: b.num_child };
    if let Some(room_id) = b.room_id.filter(|r| *r > 0) {
        let unit = b.unit_id.filter(|u| *u > 0);
        let dorm = ctx.rooms.dorms.contains(&room_id);
        out.allocations.push(Allocation {
            room_type: Some(SourceId::from(room_id)),
            room: match (dorm, unit) {
                (true, Some(_)) => Some(dorm_room_id(room_id)),
                (false, Some(u)) => Some(unit_id(room_id, u)),
                _ => None,
            },
            bed: unit.filter(|_| dorm).map(|u| unit_id(room_id, u)),
            label: unit.and_then(|u| ctx.rooms.unit_names.get(&(room_id, u)).cloned()),
        });
    }
    out.channel = channel;
    out.channel_ref = owned_text(b.api_reference);
    out.group = b.master_id.filter(|m| *m > 0 && *m != b.id).map(SourceId::from);
    let currency = ctx.rooms.currency.as_deref().or(ctx.currency);
    out.total = match (b.price, currency) {
        (Some(p), Some(cur)) => Some(Money::new(
            Decimal::from_f64_retain(p).map(|d| d.round_dp(2)).ok_or_else(|| format!("price {p} is not a number"))?,
            cur,
        )),
        _ => None,
    };
    out.notes.reserve(2 + b.info_items.len());
    if let Some(c) = owned_text(b.comments) {
        out.notes.push(Note { kind: NoteKind::Guest, code: None, text: c });
    }
    if let Some(n) = owned_text(b.notes) {
        out.notes.push(Note { kind: NoteKind::Internal, code: None, text: n });
    }
    for item in b.info_items {
        out.notes.push(Note { kind: NoteKind::Tagged, code: Some(item.code), text: item.text });
    }
    out.created_at = b.booking_time.as_deref().and_then(timestamp);
    out.modified_at = b.modified_time.as_deref().and_then(timestamp);
    out.cancelled_at = b.cancel_time.as_deref().and_then(timestamp);
    Ok(out)
}

fn hhmm(s: &Option<String>) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.as_deref()?.trim(), "%H:%M").ok()
}

/// Converts a property with its rooms. Dorms (`perGuest`, `dormitoryRoom`, `bedInDormitory`)
/// become one dorm room whose units are beds; other rooms' units are rooms.
pub fn property(
    p: &wire::Property,
    account: &AccountId,
    provenance: &Provenance,
    tz: Option<chrono_tz::Tz>,
) -> Property {
    let mut out = Property::new(key(account, p.id), provenance.clone(), p.name.clone());
    out.timezone = tz;
    out.currency = p.currency.clone();
    out.check_in_time = hhmm(&p.check_in_start);
    out.check_out_time = hhmm(&p.check_out_end);
    out.room_types = p
        .room_types
        .iter()
        .map(|rt| {
            let dorm = rt.is_dorm();
            let rooms = if dorm {
                vec![Room {
                    key: key(account, dorm_room_id(rt.id)),
                    name: rt.name.clone(),
                    beds: rt
                        .units
                        .iter()
                        .map(|u| Bed { key: key(account, unit_id(rt.id, u.id)), name: u.name.clone() })
                        .collect(),
                }]
            } else {
                rt.units
                    .iter()
                    .map(|u| Room { key: key(account, unit_id(rt.id, u.id)), name: u.name.clone(), beds: Vec::new() })
                    .collect()
            };
            RoomType {
                key: key(account, rt.id),
                name: rt.name.clone(),
                kind: if dorm { RoomKind::Dorm } else { RoomKind::Private },
                max_guests: if dorm { Some(1) } else { rt.max_people },
                rooms,
            }
        })
        .collect();
    out
}

/// Housekeeping from unit status texts, through the account's map.
pub fn housekeeping(
    p: &wire::Property,
    account: &AccountId,
    map: &HashMap<String, Condition>,
    as_of: DateTime<Utc>,
) -> Vec<Housekeeping> {
    let mut out = Vec::new();
    for rt in &p.room_types {
        for u in &rt.units {
            let raw = u.status_text.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let condition = raw.and_then(|t| map.get(&t.to_lowercase()).copied()).unwrap_or(Condition::Unknown);
            let mut h = Housekeeping::new(key(account, unit_id(rt.id, u.id)), condition);
            h.condition_raw = raw.map(str::to_owned);
            h.comment = text(&u.note);
            h.as_of = Some(as_of);
            out.push(h);
        }
    }
    out
}

/// Expands compressed calendar ranges (`to` inclusive) into nights within `[start, end)`.
pub fn calendar(
    rows: &[wire::RoomCalendar],
    account: &AccountId,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<Availability>, String> {
    let mut out = Vec::new();
    for row in rows {
        for range in &row.calendar {
            let from: NaiveDate =
                range.from.parse().map_err(|_| format!("calendar `from` is not a date: `{}`", range.from))?;
            let to: NaiveDate = range.to.parse().map_err(|_| format!("calendar `to` is not a date: `{}`", range.to))?;
            let closed = range.override_.as_deref().map(|o| o == "blackout");
            for d in from.iter_days().take_while(|d| *d <= to) {
                if d >= start && d < end {
                    let closed = match (closed, range.num_avail) {
                        (Some(true), _) => Some(true),
                        (_, Some(n)) => Some(n <= 0),
                        (c, None) => c,
                    };
                    out.push(Availability::new(key(account, row.room_id), d, range.num_avail, closed));
                }
            }
        }
    }
    Ok(out)
}

/// Yes/no availability per night: no counts, so `units_available` stays unknown.
pub fn open_nights(rows: &[wire::RoomAvailability], account: &AccountId) -> Result<Vec<Availability>, String> {
    let mut out = Vec::new();
    for row in rows {
        for (night, open) in &row.availability {
            let d: NaiveDate = night.parse().map_err(|_| format!("availability key is not a date: `{night}`"))?;
            out.push(Availability::new(key(account, row.room_id), d, None, Some(!open)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's own forms take the hand-read path, everything else chrono's, with one result.
    #[test]
    fn timestamps_and_dates_in_any_accepted_form() {
        let t = timestamp("2025-06-02T09:14:22Z");
        assert_eq!(t, DateTime::parse_from_rfc3339("2025-06-02T09:14:22Z").ok().map(|t| t.with_timezone(&Utc)));
        assert!(timestamp("2016-12-31T23:59:60Z").is_some(), "a leap second, through chrono");
        assert_eq!(timestamp("2025-06-02T11:14:22+02:00"), t);
        assert_eq!(timestamp("2025-06-02 09:14:22"), t);
        assert_eq!(date("arrival", Some("2026-12-01")), Ok(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()));
        assert_eq!(date("arrival", Some("2026-02-30")).unwrap_err(), "`arrival` is not a date: `2026-02-30`");
    }
}
