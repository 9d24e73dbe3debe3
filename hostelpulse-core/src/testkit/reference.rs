//! The in-memory reference connector: the model for connector authors, and the connector the
//! conformance kit is proven against.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{Modification, NewBooking, Upstream};
use crate::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use crate::clock::{Clock, SystemClock};
use crate::connector::{BookingBatch, BookingQuery, Connector, DateRange, Health, StayStatus, WriteReceipt};
use crate::error::{Error, Result};
use crate::model::{
    AccountId, Allocation, Availability, Bed, Booking, BookingStatus, Channel, Condition, ConnectorKind, Guest,
    Housekeeping, Note, NoteKind, Party, Property, Provenance, Room, RoomKind, RoomType, SourceId, SourceKey, Via,
};

#[derive(Debug)]
struct State {
    bookings: BTreeMap<u64, Booking>,
    next_id: u64,
    property: Property,
    housekeeping: HashMap<SourceId, Housekeeping>,
    last_modified: DateTime<Utc>,
}

/// The upstream of the reference connector: a small hostel in memory, controllable by tests.
#[derive(Debug)]
pub struct ReferenceUpstream {
    account: AccountId,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl ReferenceUpstream {
    /// An empty hostel: one 6-bed dorm and two private rooms, no bookings.
    pub fn new(account: impl Into<AccountId>, clock: Arc<dyn Clock>) -> Arc<Self> {
        let account = account.into();
        let key = |id: &str| SourceKey::new(ConnectorKind::MEMORY, account.clone(), id);
        let now = clock.now();
        let mut property = Property::new(key(account.as_str()), Provenance::new(Via::Api, now), "Reference Hostel");
        property.timezone = Some(chrono_tz::Europe::Lisbon);
        property.currency = Some("EUR".into());
        property.check_in_time = chrono::NaiveTime::from_hms_opt(15, 0, 0);
        property.check_out_time = chrono::NaiveTime::from_hms_opt(11, 0, 0);
        let beds = (1..=6).map(|n| Bed { key: key(&format!("dorm6-bed{n}")), name: format!("Bed {n}") }).collect();
        property.room_types = vec![
            RoomType {
                key: key("dorm6"),
                name: "Bed in 6-bed mixed dorm".into(),
                kind: RoomKind::Dorm,
                max_guests: Some(1),
                rooms: vec![Room { key: key("dorm6-room"), name: "Dorm 1".into(), beds }],
            },
            RoomType {
                key: key("twin"),
                name: "Private twin".into(),
                kind: RoomKind::Private,
                max_guests: Some(2),
                rooms: vec![
                    Room { key: key("twin-201"), name: "201".into(), beds: vec![] },
                    Room { key: key("twin-202"), name: "202".into(), beds: vec![] },
                ],
            },
        ];
        let housekeeping = ["dorm6-room", "twin-201", "twin-202"]
            .into_iter()
            .map(|r| (SourceId::new(r), Housekeeping::new(key(r), Condition::Clean)))
            .collect();
        let state = State { bookings: BTreeMap::new(), next_id: 1000, property, housekeeping, last_modified: now };
        Arc::new(Self { account, clock, state: Mutex::new(state) })
    }

    /// A hostel with `n` bookings spread over the next weeks (some cancelled, one block).
    pub fn seeded(account: impl Into<AccountId>, clock: Arc<dyn Clock>, n: usize) -> Arc<Self> {
        let up = Self::new(account, clock);
        let today = up.clock.now().date_naive();
        for i in 0..n {
            let arrival = today + Duration::days((i % 40) as i64 - 3);
            let nights = 1 + (i % 4) as i64;
            let mut spec = NewBooking::new(arrival, arrival + Duration::days(nights)).guest(format!("Guest {i}"));
            spec.bed = Some(format!("dorm6-bed{}", 1 + i % 6));
            let id = up.insert(spec);
            if i % 10 == 7 {
                up.set_status(&id, BookingStatus::Cancelled);
            }
        }
        up
    }

    /// The connector over this upstream.
    pub fn connector(self: &Arc<Self>) -> ReferenceConnector {
        ReferenceConnector { upstream: self.clone() }
    }

    /// Number of bookings (cancelled included).
    pub fn len(&self) -> usize {
        self.lock().bookings.len()
    }

    /// Whether there are no bookings.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A strictly increasing modification time, so every change is visible to `modified_since`.
    fn tick(state: &mut State, clock: &dyn Clock) -> DateTime<Utc> {
        let now = clock.now().max(state.last_modified + Duration::milliseconds(1));
        state.last_modified = now;
        now
    }

    fn insert(&self, spec: NewBooking) -> SourceId {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        let now = Self::tick(&mut s, self.clock.as_ref());
        let key = SourceKey::new(ConnectorKind::MEMORY, self.account.clone(), id);
        let mut b =
            Booking::new(key, Provenance::new(Via::Api, now), BookingStatus::Confirmed, spec.arrival, spec.departure);
        b.status_raw = Some("confirmed".into());
        b.guest = Guest { name: spec.guest_name, ..Guest::default() };
        b.party = Party { adults: Some(spec.adults), children: Some(0) };
        b.allocations = vec![Allocation {
            room_type: Some(SourceId::new(if spec.bed.is_some() { "dorm6" } else { "twin" })),
            room: Some(SourceId::new(if spec.bed.is_some() { "dorm6-room" } else { "twin-201" })),
            bed: spec.bed.map(SourceId::new),
            label: None,
        }];
        b.channel = Some(Channel::Direct);
        b.created_at = Some(now);
        b.modified_at = Some(now);
        s.bookings.insert(id, b);
        SourceId::from(id)
    }

    fn with_booking<T>(&self, id: &SourceId, f: impl FnOnce(&mut Booking) -> T) -> Result<T> {
        let n: u64 = id.as_str().parse().map_err(|_| Error::invalid_input(format!("no booking {id}")))?;
        let mut s = self.lock();
        let now = Self::tick(&mut s, self.clock.as_ref());
        let b = s.bookings.get_mut(&n).ok_or_else(|| Error::invalid_input(format!("no booking {id}")))?;
        let out = f(b);
        b.modified_at = Some(now);
        Ok(out)
    }

    fn set_status(&self, id: &SourceId, status: BookingStatus) {
        let _ = self.with_booking(id, |b| {
            b.status = status;
            b.status_raw = Some(format!("{status:?}").to_lowercase());
        });
    }
}

#[async_trait]
impl Upstream for ReferenceUpstream {
    async fn create(&self, spec: NewBooking) -> Result<SourceId> {
        Ok(self.insert(spec))
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        self.with_booking(id, |b| match change {
            Modification::ExtendStay => b.departure += Duration::days(1),
            Modification::RenameGuest(name) => b.guest.name = Some(name),
        })
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        self.with_booking(id, |b| {
            b.status = BookingStatus::Cancelled;
            b.status_raw = Some("cancelled".into());
        })
    }

    async fn delete(&self, id: &SourceId) -> Result<()> {
        let n: u64 = id.as_str().parse().map_err(|_| Error::invalid_input(format!("no booking {id}")))?;
        self.lock().bookings.remove(&n).map(|_| ()).ok_or_else(|| Error::invalid_input(format!("no booking {id}")))
    }
}

/// The reference connector: reads and writes a [`ReferenceUpstream`].
#[derive(Debug, Clone)]
pub struct ReferenceConnector {
    upstream: Arc<ReferenceUpstream>,
}

impl ReferenceConnector {
    /// A connector over a fresh seeded upstream on the system clock.
    pub fn seeded(n: usize) -> (Self, Arc<ReferenceUpstream>) {
        let up = ReferenceUpstream::seeded("ref-1", Arc::new(SystemClock), n);
        (up.connector(), up)
    }

    /// The declared capabilities.
    pub fn declared() -> Capabilities {
        Capabilities::new(
            ConnectorKind::MEMORY,
            "Reference (in memory)",
            SyncSemantics::new(
                Incremental::ModifiedSince { reliable: true },
                Visibility::Status,
                Visibility::SnapshotDiff,
                Granularity::Bed,
                WebhookAuth::NotOffered,
                RateLimit::None,
                "immediate",
            ),
        )
        .with(Operation::Check, Support::Native)
        .with(Operation::ReadRooms, Support::Native)
        .with(Operation::ReadBookings, Support::Native)
        .with(Operation::ReadBookingsModified, Support::Native)
        .with(Operation::ReadBookingsById, Support::Native)
        .with(Operation::ReadGuestDetails, Support::Native)
        .with(Operation::ReadAvailability, Support::simulated("computed from bookings and beds"))
        .with(Operation::ReadHousekeeping, Support::Native)
        .with(Operation::SetStayStatus, Support::Native)
        .with(Operation::AddNote, Support::Native)
        .with(Operation::SetHousekeeping, Support::Native)
        .with(Operation::Webhooks, Support::unsupported("an in-memory source has nothing to push"))
    }
}

#[async_trait]
impl Connector for ReferenceConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::MEMORY
    }

    fn account(&self) -> &AccountId {
        &self.upstream.account
    }

    fn capabilities(&self) -> Capabilities {
        Self::declared()
    }

    async fn check(&self) -> Result<Health> {
        Ok(Health::new(self.capabilities()))
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        let mut p = self.upstream.lock().property.clone();
        p.provenance = Provenance::new(Via::Api, self.upstream.clock.now());
        Ok(vec![p])
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        let fetched = Provenance::new(Via::Api, self.upstream.clock.now());
        let s = self.upstream.lock();
        let bookings = s
            .bookings
            .values()
            .filter(|b| query.wants_id(&b.key.id))
            .filter(|b| query.stay.is_none_or(|w| w.overlaps_stay(b.arrival, b.departure)))
            .filter(|b| query.modified_since.is_none_or(|t| b.modified_at.is_some_and(|m| m >= t)))
            .filter(|b| query.include_cancelled || query.ids.is_some() || b.status != BookingStatus::Cancelled)
            .map(|b| Booking { provenance: fetched.clone(), ..b.clone() })
            .collect();
        Ok(BookingBatch::complete(bookings, Vec::new()))
    }

    async fn availability(&self, range: DateRange) -> Result<Vec<Availability>> {
        let s = self.upstream.lock();
        let mut out = Vec::new();
        for rt in &s.property.room_types {
            for date in range.days() {
                let taken = s
                    .bookings
                    .values()
                    .filter(|b| b.status.holds_inventory() && b.covers_night(date))
                    .filter(|b| b.allocations.iter().any(|a| a.room_type.as_ref() == Some(&rt.key.id)))
                    .count();
                let free = rt.sellable_units() as i32 - taken as i32;
                out.push(Availability::new(rt.key.clone(), date, Some(free), Some(free <= 0)));
            }
        }
        Ok(out)
    }

    async fn housekeeping(&self) -> Result<Vec<Housekeeping>> {
        let s = self.upstream.lock();
        let mut v: Vec<_> = s.housekeeping.values().cloned().collect();
        v.sort_by(|a, b| a.room.cmp(&b.room));
        Ok(v)
    }

    async fn set_stay_status(&self, booking: &SourceId, status: StayStatus) -> Result<WriteReceipt> {
        let new = match status {
            StayStatus::CheckedIn => BookingStatus::CheckedIn,
            StayStatus::CheckedOut => BookingStatus::CheckedOut,
        };
        self.upstream.with_booking(booking, |b| {
            b.status = new;
            b.status_raw = Some(format!("{new:?}").to_lowercase());
        })?;
        Ok(WriteReceipt::default())
    }

    async fn add_note(&self, booking: &SourceId, text: &str) -> Result<WriteReceipt> {
        let n = self.upstream.with_booking(booking, |b| {
            b.notes.push(Note { kind: NoteKind::Internal, code: None, text: text.to_owned() });
            b.notes.len()
        })?;
        Ok(WriteReceipt::with_id(format!("{booking}-note-{n}")))
    }

    async fn set_housekeeping(&self, room: &SourceId, condition: Condition) -> Result<WriteReceipt> {
        let mut s = self.upstream.lock();
        let hk = s.housekeeping.get_mut(room).ok_or_else(|| Error::invalid_input(format!("no room {room}")))?;
        hk.condition = condition;
        Ok(WriteReceipt::default())
    }
}

/// A date `days` from the upstream's today; handy in tests.
pub fn days_from_today(clock: &dyn Clock, days: i64) -> NaiveDate {
    clock.now().date_naive() + Duration::days(days)
}
