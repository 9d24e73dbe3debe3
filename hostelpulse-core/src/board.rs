//! The Today board and the occupancy series behind a forecast.
//!
//! For one property and one date in its time zone: arrivals, departures, guests in house,
//! turnovers, free beds per dorm and free private rooms, bookings without a room or bed, dates an
//! OTA closed without saying why ("occupied, details unknown"), and a warning per source whose
//! data is stale. The same stay seen through several sources (the PMS, an iCal feed, a forwarded
//! e-mail) is merged by its channel reference and shown once.
//!
//! With a confirmed room mapping ([`BoardBuilder::with_mapping`]) rooms and beds show under the
//! host's names and unmapped ones are listed; with housekeeping ([`BoardBuilder::with_housekeeping`])
//! each room shows its condition, and a room someone arrives in today that is not clean is flagged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::mapping::RoomMapping;
use crate::model::{
    Booking, BookingStatus, Channel, Condition, Housekeeping, Occupancy, Property, RoomKind, SourceId, SourceKey, Via,
};
use crate::tasks::{TurnoverPlanner, TurnoverTask};

/// How fresh one source's data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceFreshness {
    /// The source, as the owner knows it ("Beds24", "Airbnb iCal bed C").
    pub source: String,
    /// When it last synced successfully.
    pub last_success: Option<DateTime<Utc>>,
    /// Older than this, its data is stale.
    pub stale_after: Duration,
}

impl SourceFreshness {
    /// A source's freshness.
    pub fn new(source: impl Into<String>, last_success: Option<DateTime<Utc>>, stale_after: Duration) -> Self {
        Self { source: source.into(), last_success, stale_after }
    }
}

/// One stay on the board, merged across the sources that know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StayLine {
    /// The record shown (the most authoritative source's).
    pub key: SourceKey,
    /// The same stay in other sources, merged into this line.
    pub also_in: Vec<SourceKey>,
    /// Guest name, when any source knows it.
    pub guest: Option<String>,
    /// Channel.
    pub channel: Option<Channel>,
    /// Channel reference.
    pub channel_ref: Option<String>,
    /// First night.
    pub arrival: NaiveDate,
    /// Checkout day.
    pub departure: NaiveDate,
    /// Adults and children, when known.
    pub guests: Option<u16>,
    /// Where the stay sleeps (bed or room labels), empty when unallocated.
    pub units: Vec<String>,
    /// Status.
    pub status: BookingStatus,
}

/// A dorm's beds on the board's night.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DormLine {
    /// Room type name.
    pub room_type: String,
    /// Room name.
    pub room: String,
    /// Beds in the room.
    pub beds: usize,
    /// Beds free tonight.
    pub free: usize,
    /// The free beds' names.
    pub free_beds: Vec<String>,
}

/// A private room free tonight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomLine {
    /// Room type name.
    pub room_type: String,
    /// Room name.
    pub room: String,
}

/// One room or dorm bed with its housekeeping state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomStateLine {
    /// The source's room or bed.
    pub unit: SourceKey,
    /// Its name: the host's once mapped.
    pub name: String,
    /// The host's room id, once mapped.
    pub host_room: Option<String>,
    /// Its condition, when the source reports housekeeping.
    pub condition: Option<Condition>,
    /// Whether someone is in it, when known.
    pub occupancy: Option<Occupancy>,
    /// Do-not-disturb, when known.
    pub do_not_disturb: Option<bool>,
    /// Someone arrives in it today.
    pub arrival_today: bool,
}

impl RoomStateLine {
    /// Someone arrives today and the source reports it not clean (dirty, out of order, or a
    /// state we could not read): it must be made ready by check-in. A room whose source reports
    /// no housekeeping is not flagged: nothing is known either way.
    pub fn must_be_ready(&self) -> bool {
        self.arrival_today && self.condition.is_some_and(|c| !matches!(c, Condition::Clean | Condition::Inspected))
    }
}

/// Dates closed at an OTA without saying why: a stay or a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnknownLine {
    /// The record.
    pub key: SourceKey,
    /// Where (unit labels), empty when the feed is mapped to a room type only.
    pub units: Vec<String>,
    /// From.
    pub arrival: NaiveDate,
    /// To (exclusive).
    pub departure: NaiveDate,
}

/// The Today board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Board {
    /// The property.
    pub property: String,
    /// The board's date, property-local.
    pub date: NaiveDate,
    /// Stays arriving today.
    pub arrivals: Vec<StayLine>,
    /// Stays checking out today.
    pub departures: Vec<StayLine>,
    /// Stays sleeping here tonight (arrivals included).
    pub in_house: Vec<StayLine>,
    /// Turnovers for today's check-outs.
    pub turnovers: Vec<TurnoverTask>,
    /// Dorm beds tonight.
    pub dorms: Vec<DormLine>,
    /// Private rooms free tonight.
    pub free_rooms: Vec<RoomLine>,
    /// Stays tonight with no room or bed.
    pub unallocated: Vec<StayLine>,
    /// OTA-closed dates covering tonight that no known stay explains: "occupied, details unknown".
    pub occupied_unknown: Vec<UnknownLine>,
    /// Sources whose data is stale or never synced.
    pub warnings: Vec<String>,
    /// How many duplicate records were merged into other lines.
    pub merged_duplicates: usize,
    /// Every room and dorm bed with its housekeeping state (empty when the property lists none).
    #[serde(default)]
    pub rooms: Vec<RoomStateLine>,
    /// Rooms and beds with no confirmed host room, once the host keeps a mapping.
    #[serde(default)]
    pub unmapped: Vec<String>,
}

impl Board {
    /// Rooms someone arrives in today that are not clean yet.
    pub fn not_ready(&self) -> impl Iterator<Item = &RoomStateLine> {
        self.rooms.iter().filter(|r| r.must_be_ready())
    }
}

/// Builds boards for one property.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BoardBuilder {
    /// The property with its rooms and beds.
    pub property: Property,
    /// Its time zone.
    pub timezone: Tz,
    /// Check-in time (turnover deadlines).
    pub check_in: NaiveTime,
    /// The room mapping (confirmed pairs apply).
    pub mapping: RoomMapping,
    /// Housekeeping state per room or bed.
    pub housekeeping: Vec<Housekeeping>,
}

/// How authoritative a source is for a stay: a PMS beats an e-mail, which beats a feed.
fn authority(b: &Booking) -> u8 {
    match b.provenance.via {
        Via::Api | Via::Webhook => 0,
        Via::Manual => 1,
        Via::Email => 2,
        Via::Csv => 3,
        Via::Ical => 4,
    }
}

/// Groups records of the same stay: same channel reference (any channel), and a stay's dates
/// overlapping. Returns the merged bookings (most authoritative first, gaps filled from the
/// others) with the keys merged into each.
pub fn merge_sources(bookings: &[Booking]) -> Vec<(Booking, Vec<SourceKey>)> {
    let mut order: Vec<&Booking> = bookings.iter().collect();
    order.sort_by_key(|b| (authority(b), b.key.clone()));
    let mut out: Vec<(Booking, Vec<SourceKey>)> = Vec::new();
    let mut by_ref: BTreeMap<String, usize> = BTreeMap::new();
    for b in order {
        let reference = b.channel_ref.as_deref().map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty());
        let found = reference.as_ref().and_then(|r| by_ref.get(r)).copied();
        match found {
            Some(i) if other_source(&out[i].0, b) && overlaps(&out[i].0, b) => {
                let (primary, also) = &mut out[i];
                fill_gaps(primary, b);
                also.push(b.key.clone());
            }
            _ => {
                if let Some(r) = reference {
                    by_ref.entry(r).or_insert(out.len());
                }
                out.push((b.clone(), Vec::new()));
            }
        }
    }
    out
}

fn other_source(a: &Booking, b: &Booking) -> bool {
    a.key.connector != b.key.connector || a.key.account != b.key.account
}

/// Whether two records' stays share a night (an OTA clips a stay in progress to start today, so
/// equal dates are not required).
fn overlaps(a: &Booking, b: &Booking) -> bool {
    a.arrival < b.departure && b.arrival < a.departure
}

fn fill_gaps(primary: &mut Booking, other: &Booking) {
    if primary.guest.name.is_none() {
        primary.guest.name.clone_from(&other.guest.name);
    }
    if primary.party.adults.is_none() {
        primary.party = other.party;
    }
    if !primary.allocations.iter().any(|a| a.is_assigned()) && other.allocations.iter().any(|a| a.is_assigned()) {
        primary.allocations.clone_from(&other.allocations);
    }
    if primary.channel.is_none() {
        primary.channel.clone_from(&other.channel);
    }
    // A cancellation seen anywhere wins over a confirmation from a source that lags (a feed
    // still listing the stay, an old e-mail).
    if other.status == BookingStatus::Cancelled && authority(other) <= authority(primary) {
        primary.status = BookingStatus::Cancelled;
    }
}

fn sleeps_on(b: &Booking, night: NaiveDate) -> bool {
    b.arrival <= night && night < b.departure
}

impl BoardBuilder {
    /// A builder for `property` in `timezone`, checking in at `check_in`.
    pub fn new(property: Property, timezone: Tz, check_in: NaiveTime) -> Self {
        Self { property, timezone, check_in, mapping: RoomMapping::default(), housekeeping: Vec::new() }
    }

    /// Shows rooms under the host's names (confirmed pairs) and lists unmapped ones.
    pub fn with_mapping(mut self, mapping: RoomMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Shows each room's condition.
    pub fn with_housekeeping(mut self, housekeeping: Vec<Housekeeping>) -> Self {
        self.housekeeping = housekeeping;
        self
    }

    /// Every private room and dorm bed of the property, with its key and source name.
    fn units(&self) -> Vec<(&SourceKey, String)> {
        let mut out = Vec::new();
        for t in &self.property.room_types {
            for r in &t.rooms {
                if t.kind == RoomKind::Dorm && !r.beds.is_empty() {
                    for b in &r.beds {
                        let label = if r.name == t.name { b.name.clone() } else { format!("{} {}", r.name, b.name) };
                        out.push((&b.key, label));
                    }
                } else {
                    out.push((&r.key, r.name.clone()));
                }
            }
        }
        out
    }

    /// The property-local date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone).date_naive()
    }

    fn unit_labels(&self) -> BTreeMap<SourceId, String> {
        let mut labels = BTreeMap::new();
        for t in &self.property.room_types {
            for r in &t.rooms {
                labels.insert(r.key.id.clone(), r.name.clone());
                for b in &r.beds {
                    // Some PMSs name a dorm room after its room type and put the room in the bed's
                    // name ("D1-Bed C"): then the bed's name alone says it.
                    let label = if r.name == t.name { b.name.clone() } else { format!("{} {}", r.name, b.name) };
                    labels.insert(b.key.id.clone(), label);
                }
            }
        }
        for (key, _) in self.units() {
            if let Some(h) = self.mapping.host_for(key) {
                labels.insert(key.id.clone(), h.name.clone());
            }
        }
        labels
    }

    fn line(&self, b: &Booking, also: &[SourceKey], labels: &BTreeMap<SourceId, String>) -> StayLine {
        let units = b
            .allocations
            .iter()
            .filter(|a| a.is_assigned())
            .filter_map(|a| {
                let id = a.bed.as_ref().or(a.room.as_ref())?;
                let unit = SourceKey::new(b.key.connector.clone(), b.key.account.clone(), id.clone());
                if let Some(h) = self.mapping.host_for_unit(&unit) {
                    return Some(h.name.clone());
                }
                Some(labels.get(id).cloned().or_else(|| a.label.clone()).unwrap_or_else(|| id.to_string()))
            })
            .collect();
        StayLine {
            key: b.key.clone(),
            also_in: also.to_vec(),
            guest: b.guest.name.clone(),
            channel: b.channel.clone(),
            channel_ref: b.channel_ref.clone(),
            arrival: b.arrival,
            departure: b.departure,
            guests: b.party.adults.map(|a| a + b.party.children.unwrap_or(0)),
            units,
            status: b.status,
        }
    }

    /// The board for `date` from `bookings` of every source, with `sources`' freshness at `now`.
    pub fn board(
        &self,
        date: NaiveDate,
        bookings: &[Booking],
        sources: &[SourceFreshness],
        now: DateTime<Utc>,
    ) -> Board {
        let merged = merge_sources(bookings);
        let merged_duplicates = merged.iter().map(|(_, also)| also.len()).sum();
        let labels = self.unit_labels();
        let stays: Vec<&(Booking, Vec<SourceKey>)> = merged.iter().filter(|(b, _)| b.status.is_active_stay()).collect();
        let lines = |keep: &dyn Fn(&Booking) -> bool| -> Vec<StayLine> {
            stays.iter().filter(|(b, _)| keep(b)).map(|(b, also)| self.line(b, also, &labels)).collect()
        };
        let arrivals = lines(&|b| b.arrival == date);
        let departures = lines(&|b| b.departure == date);
        let in_house = lines(&|b| sleeps_on(b, date));
        let unallocated = lines(&|b| sleeps_on(b, date) && !b.allocations.iter().any(|a| a.is_assigned()));

        // An OTA closure is "details unknown" only if no known stay explains it, i.e. no stay
        // sleeps on one of its units tonight. Explained closures hold nothing more.
        let known_units: BTreeSet<&SourceId> = stays
            .iter()
            .filter(|(b, _)| sleeps_on(b, date))
            .flat_map(|(b, _)| &b.allocations)
            .filter_map(|a| a.bed.as_ref().or(a.room.as_ref()))
            .collect();
        let explained = |b: &Booking| {
            b.allocations.iter().filter_map(|a| a.bed.as_ref().or(a.room.as_ref())).any(|u| known_units.contains(u))
        };
        let unknown: Vec<&Booking> = merged
            .iter()
            .map(|(b, _)| b)
            .filter(|b| b.status == BookingStatus::Unavailable && sleeps_on(b, date) && !explained(b))
            .collect();

        // Tonight's holders of inventory: stays, owner blocks and unexplained OTA closures.
        let tonight: Vec<&Booking> = merged
            .iter()
            .map(|(b, _)| b)
            .filter(|b| sleeps_on(b, date) && (b.status.is_active_stay() || b.status == BookingStatus::Block))
            .chain(unknown.iter().copied())
            .collect();
        let taken_beds: BTreeSet<&SourceId> =
            tonight.iter().flat_map(|b| &b.allocations).filter_map(|a| a.bed.as_ref()).collect();
        let mut room_claims: BTreeMap<&SourceId, usize> = BTreeMap::new();
        for a in tonight.iter().flat_map(|b| &b.allocations).filter(|a| a.bed.is_none()) {
            if let Some(r) = &a.room {
                *room_claims.entry(r).or_default() += 1;
            }
        }
        let mut dorms = Vec::new();
        let mut free_rooms = Vec::new();
        for t in &self.property.room_types {
            for r in &t.rooms {
                let claims = room_claims.get(&r.key.id).copied().unwrap_or(0);
                if t.kind == RoomKind::Dorm && !r.beds.is_empty() {
                    let free_beds: Vec<String> =
                        r.beds.iter().filter(|b| !taken_beds.contains(&b.key.id)).map(|b| b.name.clone()).collect();
                    // Stays assigned to the dorm but not to a bed take beds too, just not named ones.
                    let free = free_beds.len().saturating_sub(claims);
                    dorms.push(DormLine {
                        room_type: t.name.clone(),
                        room: r.name.clone(),
                        beds: r.beds.len(),
                        free,
                        free_beds: if claims == 0 { free_beds } else { Vec::new() },
                    });
                } else if claims == 0 && !r.beds.iter().any(|b| taken_beds.contains(&b.key.id)) {
                    free_rooms.push(RoomLine { room_type: t.name.clone(), room: r.name.clone() });
                }
            }
        }

        let occupied_unknown = unknown
            .iter()
            .map(|b| UnknownLine {
                key: b.key.clone(),
                units: self.line(b, &[], &labels).units,
                arrival: b.arrival,
                departure: b.departure,
            })
            .collect();

        let planner = TurnoverPlanner::new(self.timezone, self.check_in).with_mapping(self.mapping.clone());
        let merged_only: Vec<Booking> = merged.iter().map(|(b, _)| b.clone()).collect();
        let turnovers = planner.plan(&merged_only).into_values().filter(|t| t.checkout == date).collect();

        // Two stays in one bed (or private room) tonight: an overbooking to resolve before arrival.
        let mut per_unit: BTreeMap<&SourceId, Vec<&Booking>> = BTreeMap::new();
        for (b, _) in stays.iter().filter(|(b, _)| sleeps_on(b, date)) {
            let units: BTreeSet<&SourceId> =
                b.allocations.iter().filter_map(|a| a.bed.as_ref().or(a.room.as_ref())).collect();
            for u in units {
                per_unit.entry(u).or_default().push(b);
            }
        }
        let dorm_rooms: BTreeSet<&SourceId> = self
            .property
            .room_types
            .iter()
            .filter(|t| t.kind == RoomKind::Dorm)
            .flat_map(|t| &t.rooms)
            .map(|r| &r.key.id)
            .collect();
        let overbooked =
            per_unit.into_iter().filter(|(u, bs)| bs.len() > 1 && !dorm_rooms.contains(u)).map(|(u, bs)| {
                format!(
                    "{}: {} stays tonight ({}) — overbooked, move one before arrival",
                    labels.get(u).cloned().unwrap_or_else(|| u.to_string()),
                    bs.len(),
                    bs.iter().map(|b| b.key.to_string()).collect::<Vec<_>>().join(", ")
                )
            });
        let (rooms, unmapped) = self.room_states(date, &stays);
        let not_ready: Vec<&str> = rooms.iter().filter(|r| r.must_be_ready()).map(|r| r.name.as_str()).collect();
        let not_ready = (!not_ready.is_empty()).then(|| {
            format!("{} room(s) with an arrival today not clean yet: {}", not_ready.len(), not_ready.join(", "))
        });
        let unmapped_warning = (!unmapped.is_empty()).then(|| {
            format!("{} room(s) not mapped to a host room — see the mapping: {}", unmapped.len(), unmapped.join(", "))
        });
        let warnings = overbooked
            .chain(not_ready)
            .chain(unmapped_warning)
            .chain(sources.iter().filter_map(|s| match s.last_success {
                None => Some(format!("{}: never synced — its bookings are missing from this board", s.source)),
                Some(t) if now - t > s.stale_after => {
                    Some(format!("{}: last synced {} ago — newer changes may be missing", s.source, human(now - t)))
                }
                Some(_) => None,
            }))
            .collect();
        Board {
            property: self.property.name.clone(),
            date,
            arrivals,
            departures,
            in_house,
            turnovers,
            dorms,
            free_rooms,
            unallocated,
            occupied_unknown,
            warnings,
            merged_duplicates,
            rooms,
            unmapped,
        }
    }

    /// Each unit with its housekeeping, and the names of unmapped units (once a mapping exists).
    fn room_states(&self, date: NaiveDate, stays: &[&(Booking, Vec<SourceKey>)]) -> (Vec<RoomStateLine>, Vec<String>) {
        // By unit id, as the rest of the board: a stay another source reports (a feed mapped to
        // the PMS's units) arrives in the same room.
        let arriving: BTreeSet<&SourceId> = stays
            .iter()
            .filter(|(b, _)| b.arrival == date)
            .flat_map(|(b, _)| b.allocations.iter().filter_map(|a| a.bed.as_ref().or(a.room.as_ref())))
            .collect();
        let hk: BTreeMap<&SourceKey, &Housekeeping> = self.housekeeping.iter().map(|h| (&h.room, h)).collect();
        let mut unmapped = Vec::new();
        let rooms = self
            .units()
            .into_iter()
            .map(|(key, name)| {
                let host = self.mapping.host_for(key);
                if host.is_none() && !self.mapping.is_empty() {
                    unmapped.push(name.clone());
                }
                let h = hk.get(key);
                RoomStateLine {
                    unit: key.clone(),
                    name: host.map(|h| h.name.clone()).unwrap_or(name),
                    host_room: host.map(|h| h.id.clone()),
                    condition: h.map(|h| h.condition),
                    occupancy: h.and_then(|h| h.occupancy),
                    do_not_disturb: h.and_then(|h| h.do_not_disturb),
                    arrival_today: arriving.contains(&key.id),
                }
            })
            .collect();
        (rooms, unmapped)
    }

    /// Beds sold, blocked and available per night over `from..until` (exclusive): the input of a
    /// simple occupancy forecast. A private room counts as its beds (one when none are listed); a
    /// stay without a bed counts its party (one when unknown).
    pub fn occupancy(&self, from: NaiveDate, until: NaiveDate, bookings: &[Booking]) -> Vec<NightOccupancy> {
        let merged: Vec<Booking> = merge_sources(bookings).into_iter().map(|(b, _)| b).collect();
        let room_beds: BTreeMap<&SourceId, usize> =
            self.property.room_types.iter().flat_map(|t| &t.rooms).map(|r| (&r.key.id, r.beds.len().max(1))).collect();
        let total: usize = room_beds.values().sum();
        let units = |b: &Booking| -> usize {
            let beds = b.allocations.iter().filter(|a| a.bed.is_some()).count();
            let rooms: usize = b
                .allocations
                .iter()
                .filter(|a| a.bed.is_none())
                .filter_map(|a| a.room.as_ref())
                .map(|r| room_beds.get(r).copied().unwrap_or(1))
                .sum();
            match beds + rooms {
                0 => b.party.adults.map_or(1, |a| usize::from(a + b.party.children.unwrap_or(0)).max(1)),
                n => n,
            }
        };
        let mut out = Vec::new();
        let mut night = from;
        while night < until {
            let (mut sold, mut blocked) = (0, 0);
            let asleep: Vec<&Booking> = merged.iter().filter(|b| sleeps_on(b, night)).collect();
            let known: BTreeSet<&SourceId> = asleep
                .iter()
                .filter(|b| b.status.is_active_stay())
                .flat_map(|b| &b.allocations)
                .filter_map(|a| a.bed.as_ref().or(a.room.as_ref()))
                .collect();
            for b in asleep {
                let explained = || {
                    b.allocations.iter().filter_map(|a| a.bed.as_ref().or(a.room.as_ref())).any(|u| known.contains(u))
                };
                match b.status {
                    s if s.is_active_stay() => sold += units(b),
                    // An OTA closure is most likely a stay, unless a known stay already explains it.
                    BookingStatus::Unavailable if !explained() => sold += units(b),
                    BookingStatus::Block => blocked += units(b),
                    _ => {}
                }
            }
            let available = total.saturating_sub(blocked);
            out.push(NightOccupancy {
                night,
                sold: sold.min(available),
                blocked,
                available,
                rate: if available == 0 { 0.0 } else { sold.min(available) as f64 / available as f64 },
            });
            night = night.succ_opt().unwrap_or(until);
        }
        out
    }
}

/// One night of the occupancy series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NightOccupancy {
    /// The night (its date).
    pub night: NaiveDate,
    /// Beds sold (guest stays, and OTA closures that are most likely stays).
    pub sold: usize,
    /// Beds blocked by the owner.
    pub blocked: usize,
    /// Beds for sale: all beds less blocked ones.
    pub available: usize,
    /// `sold / available`.
    pub rate: f64,
}

fn human(d: Duration) -> String {
    match d.num_minutes() {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;

fn stay(f: &mut std::fmt::Formatter<'_>, l: &StayLine) -> std::fmt::Result {
    let guest = l.guest.as_deref().unwrap_or("(no name)");
    let place = if l.units.is_empty() { "unallocated".to_owned() } else { l.units.join(", ") };
    write!(f, "\n  {guest} — {} → {}, {place}", l.arrival, l.departure)?;
    if let Some(r) = &l.channel_ref {
        write!(f, " ({r})")?;
    }
    Ok(())
}

/// The board as plain text (the command-line tool draws tables; this is for logs and e-mails).
impl std::fmt::Display for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Today board — {} — {}", self.property, self.date)?;
        for (title, lines) in
            [("Arrivals", &self.arrivals), ("Departures", &self.departures), ("In house tonight", &self.in_house)]
        {
            write!(f, "\n{title} ({})", lines.len())?;
            for l in lines {
                stay(f, l)?;
            }
        }
        write!(f, "\nFree beds tonight")?;
        for d in &self.dorms {
            write!(f, "\n  {}: {} of {} free", d.room_type, d.free, d.beds)?;
        }
        if !self.free_rooms.is_empty() {
            let rooms: Vec<&str> = self.free_rooms.iter().map(|r| r.room.as_str()).collect();
            write!(f, "\nFree private rooms: {}", rooms.join(", "))?;
        }
        if !self.turnovers.is_empty() {
            write!(f, "\nTurnovers today")?;
            for t in &self.turnovers {
                let room = t.room_label.clone().unwrap_or_else(|| t.room.to_string());
                write!(f, "\n  {room}: ready by {}", t.due_by.format("%H:%M UTC"))?;
            }
        }
        for u in &self.occupied_unknown {
            write!(f, "\nOccupied, details unknown: {} ({} → {})", u.units.join(", "), u.arrival, u.departure)?;
        }
        for w in &self.warnings {
            write!(f, "\nWarning: {w}")?;
        }
        Ok(())
    }
}
