//! Cloudbeds wire types → the normalized model.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use hostelpulse_core::model::{
    AccountId, Allocation, Availability, Bed, Booking, BookingStatus, Channel, Condition, ConnectorKind, Guest,
    Housekeeping, Money, Occupancy, Party, Property, Provenance, Room, RoomKind, RoomType, SourceId, SourceKey,
};
use rust_decimal::Decimal;

use crate::wire;

fn key(account: &AccountId, id: impl Into<SourceId>) -> SourceKey {
    SourceKey::new(ConnectorKind::CLOUDBEDS, account.clone(), id)
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The synthesized id of a dorm room: Cloudbeds lists beds grouped only by `dormRoomName`.
pub fn dorm_room_id(room_type_id: &str, dorm_room_name: &str) -> SourceId {
    SourceId::new(format!("dorm:{room_type_id}:{dorm_room_name}"))
}

/// Where each bed or room sits, from `getRooms`.
#[derive(Debug, Clone, Default)]
pub struct RoomIndex {
    /// room id → (room type id, dorm room name when the room is a bed of a shared type).
    pub rooms: HashMap<String, (String, Option<String>)>,
}

impl RoomIndex {
    /// The index of `getRooms` data.
    pub fn of(rooms: &[wire::Room]) -> Self {
        let mut idx = Self::default();
        for r in rooms {
            if let (Some(id), Some(rt)) = (&r.room_id, &r.room_type_id) {
                let dorm = (!r.is_private)
                    .then(|| text(&r.dorm_room_name).unwrap_or_else(|| r.room_type_name.clone().unwrap_or_default()));
                idx.rooms.insert(id.clone(), (rt.clone(), dorm));
            }
        }
        idx
    }
}

/// Parses Cloudbeds' `YYYY-MM-DD HH:MM:SS` (UTC for the `…UTC` fields).
pub fn utc(s: &Option<String>) -> Option<DateTime<Utc>> {
    let s = s.as_deref()?.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)))
}

/// The calendar date of a property-local date or datetime, as is — never through UTC.
fn local_date(s: &Option<String>) -> Option<NaiveDate> {
    let s = s.as_deref()?.trim();
    s.get(..10)?.parse().ok()
}

/// The normalized status of a reservation status.
pub fn status(raw: &str) -> BookingStatus {
    match raw {
        "confirmed" => BookingStatus::Confirmed,
        // Booking-engine states before completion are treated as tentative.
        "not_confirmed" | "in_progress" | "pending_payment" | "paypal_init" | "call2confirm" => {
            BookingStatus::Tentative
        }
        "canceled" | "cancelled" => BookingStatus::Cancelled,
        "checked_in" | "in_house" => BookingStatus::CheckedIn,
        "checked_out" => BookingStatus::CheckedOut,
        "no_show" => BookingStatus::NoShow,
        _ => BookingStatus::Unknown,
    }
}

fn channel(r: &wire::Reservation) -> Option<Channel> {
    let name = r.source.as_ref().and_then(|s| text(&s.name)).or_else(|| text(&r.source_name))?;
    let lower = name.to_lowercase();
    let category = r.source.as_ref().and_then(|s| s.category.clone()).unwrap_or_default().to_lowercase();
    Some(if lower.contains("booking.com") {
        Channel::BookingCom
    } else if lower.contains("airbnb") {
        Channel::Airbnb
    } else if lower.contains("hostelworld") {
        Channel::Hostelworld
    } else if lower.contains("expedia") {
        Channel::Expedia
    } else if lower.contains("agoda") {
        Channel::Agoda
    } else if lower.contains("vrbo") || lower.contains("homeaway") {
        Channel::Vrbo
    } else if category == "direct"
        || ["website", "walk-in", "walkin", "phone", "email", "direct", "booking engine"]
            .iter()
            .any(|d| lower.contains(d))
    {
        Channel::Direct
    } else {
        Channel::Other(name)
    })
}

/// Converts a reservation. `None` for a deleted one (it is absent, not cancelled).
pub fn reservation(
    r: &wire::Reservation,
    account: &AccountId,
    rooms: &RoomIndex,
    provenance: &Provenance,
) -> Result<Option<Booking>, String> {
    if r.is_deleted {
        return Ok(None);
    }
    let id = r.reservation_id.clone().ok_or("reservationID is missing")?;
    let arrival =
        local_date(&r.reservation_check_in).or_else(|| local_date(&r.start_date)).ok_or("no check-in date")?;
    let departure =
        local_date(&r.reservation_check_out).or_else(|| local_date(&r.end_date)).ok_or("no check-out date")?;
    if departure < arrival {
        return Err(format!("check-out {departure} is before check-in {arrival}"));
    }
    let raw = r.status.clone().unwrap_or_default();
    let mut b = Booking::new(key(account, id), provenance.clone(), status(&raw), arrival, departure);
    b.status_raw = Some(raw);
    let main = r.guest_list.values().find(|g| g.is_main_guest).or_else(|| r.guest_list.values().next());
    let name = main
        .map(|g| {
            [text(&g.guest_first_name), text(&g.guest_last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ")
        })
        .filter(|n| !n.is_empty())
        .or_else(|| text(&r.guest_name))
        .or_else(|| r.rooms.iter().find_map(|x| text(&x.guest_name)));
    b.guest = Guest {
        name,
        email: main.and_then(|g| text(&g.guest_email)),
        phone: main.and_then(|g| text(&g.guest_cell_phone).or_else(|| text(&g.guest_phone))),
        country: main.and_then(|g| text(&g.guest_country)).or_else(|| text(&r.guest_country)),
        language: None,
    };
    let live: Vec<&wire::ReservationRoom> =
        r.rooms.iter().filter(|x| x.room_status.as_deref() != Some("cancelled")).collect();
    let sum = |f: fn(&wire::ReservationRoom) -> Option<u16>| {
        let v: Vec<u16> = live.iter().filter_map(|x| f(x)).collect();
        (!v.is_empty()).then(|| v.iter().sum())
    };
    b.party = Party { adults: sum(|x| x.adults), children: sum(|x| x.children) };
    b.allocations = live
        .iter()
        .map(|x| {
            let placed = x.room_id.as_deref().and_then(|id| rooms.rooms.get(id).map(|p| (id, p)));
            match placed {
                Some((id, (rt, Some(dorm)))) => Allocation {
                    room_type: Some(SourceId::new(rt.clone())),
                    room: Some(dorm_room_id(rt, dorm)),
                    bed: Some(SourceId::new(id)),
                    label: text(&x.room_name),
                },
                _ => Allocation {
                    room_type: x.room_type_id.clone().map(SourceId::new),
                    room: x.room_id.clone().map(SourceId::new),
                    bed: None,
                    label: text(&x.room_name),
                },
            }
        })
        .collect();
    b.channel = channel(r);
    b.channel_ref = text(&r.third_party_identifier);
    b.total = match (r.total, text(&r.property_currency)) {
        (Some(t), Some(cur)) => Decimal::try_from(t).ok().map(|d| Money::new(d.round_dp(2), cur)),
        _ => None,
    };
    b.created_at = utc(&r.date_created_utc);
    b.modified_at = utc(&r.date_modified_utc);
    b.cancelled_at = utc(&r.date_cancelled_utc);
    Ok(Some(b))
}

/// A property from `getHotels`, `getRoomTypes` and `getRooms`: shared room types become dorms whose
/// rooms are the `dormRoomName` groups of their beds.
pub fn property(
    hotel: &wire::Hotel,
    types: &[wire::RoomType],
    rooms: &[wire::Room],
    account: &AccountId,
    provenance: &Provenance,
    tz: Option<chrono_tz::Tz>,
) -> Property {
    let mut p = Property::new(
        key(account, account.as_str()),
        provenance.clone(),
        hotel.property_name.clone().unwrap_or_default(),
    );
    p.timezone = hotel.property_timezone.as_deref().and_then(|t| t.parse().ok()).or(tz);
    p.currency = hotel.property_currency.first().and_then(|c| c.currency_code.clone());
    p.room_types = types
        .iter()
        .filter_map(|t| {
            let tid = t.room_type_id.clone()?;
            let mine: Vec<&wire::Room> =
                rooms.iter().filter(|r| r.room_type_id.as_deref() == Some(tid.as_str()) && !r.is_virtual).collect();
            let rooms = if t.is_private {
                mine.iter()
                    .filter_map(|r| {
                        Some(Room {
                            key: key(account, r.room_id.clone()?),
                            name: r.room_name.clone(),
                            beds: Vec::new(),
                        })
                    })
                    .collect()
            } else {
                let mut groups: BTreeMap<String, Vec<Bed>> = BTreeMap::new();
                for r in &mine {
                    let dorm = text(&r.dorm_room_name).unwrap_or_else(|| t.room_type_name.clone());
                    if let Some(id) = r.room_id.clone() {
                        groups.entry(dorm).or_default().push(Bed { key: key(account, id), name: r.room_name.clone() });
                    }
                }
                groups
                    .into_iter()
                    .map(|(dorm, beds)| Room { key: key(account, dorm_room_id(&tid, &dorm)), name: dorm, beds })
                    .collect()
            };
            Some(RoomType {
                key: key(account, tid),
                name: t.room_type_name.clone(),
                kind: if t.is_private { RoomKind::Private } else { RoomKind::Dorm },
                max_guests: t.max_guests,
                rooms,
            })
        })
        .collect();
    p
}

/// Housekeeping rows.
pub fn housekeeping(
    rows: &[wire::HousekeepingRow],
    account: &AccountId,
    tz: Option<chrono_tz::Tz>,
) -> Vec<Housekeeping> {
    rows.iter()
        .filter_map(|r| {
            let condition = match (r.room_blocked, r.room_condition.as_deref()) {
                (Some(true), _) => Condition::OutOfOrder,
                (_, Some("clean")) => Condition::Clean,
                (_, Some("dirty")) => Condition::Dirty,
                (_, Some("inspected")) => Condition::Inspected,
                _ => Condition::Unknown,
            };
            let mut h = Housekeeping::new(key(account, r.room_id.clone()?), condition);
            h.condition_raw = r.room_condition.clone();
            h.occupancy = r.room_occupied.map(|o| if o { Occupancy::Occupied } else { Occupancy::Vacant });
            h.do_not_disturb = r.do_not_disturb;
            h.comment = text(&r.room_comments);
            // The state is "today" at the property: midnight local, as UTC.
            h.as_of = local_date(&r.date).and_then(|d| {
                let midnight = d.and_hms_opt(0, 0, 0)?;
                Some(match tz {
                    Some(tz) => midnight.and_local_timezone(tz).earliest()?.with_timezone(&Utc),
                    None => midnight.and_utc(),
                })
            });
            Some(h)
        })
        .collect()
}

/// Availability per room type and night from detailed rate plans: the most rooms any plan offers.
pub fn availability(
    plans: &[wire::RatePlan],
    account: &AccountId,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<Availability>, String> {
    let mut best: BTreeMap<(String, NaiveDate), (Option<i32>, bool)> = BTreeMap::new();
    for plan in plans {
        let Some(rt) = plan.room_type_id.clone() else { continue };
        for day in &plan.room_rate_detailed {
            // One unreadable day costs that day, not the property's whole calendar.
            let Ok(d) = day.date.parse::<NaiveDate>() else {
                tracing::warn!(room_type = %rt, date = %day.date, "a rate day without a readable date was left out");
                continue;
            };
            if d < start || d >= end {
                continue;
            }
            let e = best.entry((rt.clone(), d)).or_insert((None, true));
            e.0 = match (e.0, day.rooms_available) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            e.1 &= day.blocked;
        }
    }
    Ok(best
        .into_iter()
        .map(|((rt, d), (n, blocked))| {
            Availability::new(key(account, rt), d, n, Some(blocked || n.is_some_and(|n| n <= 0)))
        })
        .collect())
}
