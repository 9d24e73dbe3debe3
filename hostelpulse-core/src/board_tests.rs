//! The Today board on a seeded hostel in Lisbon on the day summer time starts, with one stay
//! seen through a PMS, an iCal feed and a forwarded e-mail.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};

use super::*;
use crate::model::{
    AccountId, Allocation, Bed, ConnectorKind, Party, Property, Provenance, Room, RoomKind, RoomType, SourceKey,
};
use crate::tasks::Priority;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn key(connector: ConnectorKind, id: &str) -> SourceKey {
    SourceKey::new(connector, AccountId::new("harbour"), id)
}

fn property() -> Property {
    let k = |id: &str| key(ConnectorKind::BEDS24, id);
    let bed = |id: &str, name: &str| Bed { key: k(id), name: name.into() };
    let mut p = Property::new(k("harbour"), Provenance::new(Via::Api, Utc::now()), "Harbour Hostel");
    p.room_types = vec![
        RoomType {
            key: k("dorm6"),
            name: "6-Bed Mixed Dorm".into(),
            kind: RoomKind::Dorm,
            max_guests: Some(6),
            rooms: vec![Room {
                key: k("d1"),
                name: "D1".into(),
                beds: ["a", "b", "c", "d", "e", "f"]
                    .iter()
                    .map(|b| bed(&format!("d1-{b}"), &b.to_uppercase()))
                    .collect(),
            }],
        },
        RoomType {
            key: k("double"),
            name: "Private Double".into(),
            kind: RoomKind::Private,
            max_guests: Some(2),
            rooms: ["p1", "p2", "p3"]
                .iter()
                .map(|r| Room { key: k(r), name: r.to_uppercase(), beds: vec![] })
                .collect(),
        },
    ];
    p
}

struct Seed(Vec<Booking>);

impl Seed {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        connector: &ConnectorKind,
        via: Via,
        id: &str,
        status: BookingStatus,
        (a, dep): (NaiveDate, NaiveDate),
        unit: Option<(&str, bool)>,
        reference: Option<&str>,
        guest: Option<&str>,
    ) -> &mut Self {
        let mut b = Booking::new(key(connector.clone(), id), Provenance::new(via, Utc::now()), status, a, dep);
        if let Some((u, is_bed)) = unit {
            let id = SourceId::new(u);
            b.allocations = vec![if is_bed {
                Allocation { bed: Some(id), ..Allocation::default() }
            } else {
                Allocation { room: Some(id), ..Allocation::default() }
            }];
        }
        b.channel_ref = reference.map(str::to_owned);
        b.channel = reference.map(|_| Channel::Airbnb);
        b.guest.name = guest.map(str::to_owned);
        self.0.push(b);
        self
    }
}

fn seed() -> Vec<Booking> {
    use BookingStatus::*;
    let (pms, cb, ical, mail) =
        (ConnectorKind::BEDS24, ConnectorKind::CLOUDBEDS, ConnectorKind::ICAL, ConnectorKind::EMAIL);
    let mut s = Seed(Vec::new());
    // One stay, three sources: the PMS has it from the 28th, the feed clips it to "today".
    s.add(
        &pms,
        Via::Api,
        "b1",
        Confirmed,
        (d(3, 28), d(3, 30)),
        Some(("d1-a", true)),
        Some("HMABC12345"),
        Some("Ana Lima"),
    )
    .add(
        &ical,
        Via::Ical,
        "airbnb/HMABC12345",
        Confirmed,
        (d(3, 29), d(3, 30)),
        Some(("d1-a", true)),
        Some("HMABC12345"),
        None,
    )
    .add(
        &mail,
        Via::Email,
        "airbnb:HMABC12345",
        Confirmed,
        (d(3, 28), d(3, 30)),
        None,
        Some("hmabc12345"),
        Some("Ana Lima"),
    )
    // Checks out of bed B today; the next guest arrives in the same bed today.
    .add(&pms, Via::Api, "c", Confirmed, (d(3, 26), d(3, 29)), Some(("d1-b", true)), None, Some("Carl"))
    .add(&pms, Via::Api, "dd", Confirmed, (d(3, 29), d(3, 31)), Some(("d1-b", true)), None, Some("Dora"))
    .add(&cb, Via::Api, "ben", Confirmed, (d(3, 29), d(4, 2)), Some(("p1", false)), None, Some("Ben"))
    .add(&mail, Via::Email, "hostelworld:1234-567890123", Confirmed, (d(3, 29), d(3, 31)), None, None, Some("Hana"))
    // Booking.com's closures: P2 unexplained, D1-A explained by Ana's stay.
    .add(&ical, Via::Ical, "booking/p2", Unavailable, (d(3, 27), d(3, 31)), Some(("p2", false)), None, None)
    .add(&ical, Via::Ical, "booking/d1-a", Unavailable, (d(3, 29), d(3, 30)), Some(("d1-a", true)), None, None)
    .add(&pms, Via::Api, "gone", Cancelled, (d(3, 29), d(3, 30)), Some(("d1-c", true)), None, Some("Cancelled Guest"))
    .add(&pms, Via::Api, "owner", Block, (d(3, 28), d(3, 30)), Some(("d1-f", true)), None, None);
    let hana = s.0.iter_mut().find(|b| b.key.id.as_str().starts_with("hostelworld")).unwrap();
    hana.party = Party { adults: Some(2), children: None };
    hana.channel = Some(Channel::Hostelworld);
    s.0
}

fn builder() -> BoardBuilder {
    BoardBuilder::new(property(), chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap())
}

fn names(lines: &[StayLine]) -> Vec<&str> {
    let mut v: Vec<&str> = lines.iter().map(|l| l.guest.as_deref().unwrap_or("?")).collect();
    v.sort_unstable();
    v
}

#[test]
fn the_board_on_the_day_summer_time_starts() {
    let now = Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap();
    let sources = [
        SourceFreshness::new("Beds24", Some(now - Duration::minutes(5)), Duration::hours(1)),
        SourceFreshness::new("Airbnb iCal", Some(now - Duration::days(3)), Duration::hours(6)),
        SourceFreshness::new("Booking inbox", None, Duration::hours(1)),
    ];
    let b = builder().board(d(3, 29), &seed(), &sources, now);

    // Ana arrived yesterday per the PMS: the feed's clipped copy must not make her an arrival.
    assert_eq!(names(&b.arrivals), ["Ben", "Dora", "Hana"]);
    assert_eq!(names(&b.departures), ["Carl"]);
    assert_eq!(names(&b.in_house), ["Ana Lima", "Ben", "Dora", "Hana"]);
    let ana = b.in_house.iter().find(|l| l.guest.as_deref() == Some("Ana Lima")).unwrap();
    assert_eq!(ana.key.connector, ConnectorKind::BEDS24, "the PMS record leads");
    assert_eq!(ana.also_in.len(), 2, "feed and e-mail merged into it, never shown twice");
    assert_eq!(ana.units, ["D1 A"]);
    assert_eq!(b.merged_duplicates, 2);

    // D1: A (Ana), B (Dora), F (owner block) taken; C is free again (its stay was cancelled).
    assert_eq!(b.dorms.len(), 1);
    assert_eq!((b.dorms[0].beds, b.dorms[0].free), (6, 3));
    assert_eq!(b.dorms[0].free_beds, ["C", "D", "E"]);
    assert_eq!(b.free_rooms.iter().map(|r| r.room.as_str()).collect::<Vec<_>>(), ["P3"]);
    assert_eq!(names(&b.unallocated), ["Hana"]);
    assert_eq!(b.occupied_unknown.len(), 1, "P2 only: D1-A's closure is Ana's stay");
    assert_eq!(b.occupied_unknown[0].units, ["P2"]);

    // Carl's bed turns over for Dora today: high priority, due at 15:00 Lisbon summer time (14:00 UTC).
    assert_eq!(b.turnovers.len(), 1);
    assert_eq!(b.turnovers[0].priority, Priority::High);
    assert_eq!(b.turnovers[0].due_by, Utc.with_ymd_and_hms(2026, 3, 29, 14, 0, 0).unwrap());

    assert_eq!(b.warnings.len(), 2, "{:?}", b.warnings);
    assert!(b.warnings[0].starts_with("Airbnb iCal: last synced 3 days ago"));
    assert!(b.warnings[1].contains("never synced"));
}

#[test]
fn the_day_before_the_change_turnovers_are_due_in_winter_time() {
    let mut bookings = seed();
    // Another same-day turnover on the 28th, in winter time (UTC+0).
    let k = key(ConnectorKind::BEDS24, "e1");
    let mut e1 = Booking::new(k, Provenance::new(Via::Api, Utc::now()), BookingStatus::Confirmed, d(3, 25), d(3, 28));
    e1.allocations = vec![Allocation { bed: Some("d1-e".into()), ..Allocation::default() }];
    let mut e2 = e1.clone();
    e2.key = key(ConnectorKind::BEDS24, "e2");
    (e2.arrival, e2.departure) = (d(3, 28), d(3, 29));
    bookings.extend([e1, e2]);
    let b = builder().board(d(3, 28), &bookings, &[], Utc::now());
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    let t = b.turnovers.iter().find(|t| t.room.as_str() == "d1-e").unwrap();
    assert_eq!(t.due_by, Utc.with_ymd_and_hms(2026, 3, 28, 15, 0, 0).unwrap());
}

#[test]
fn today_is_the_property_local_date() {
    let b = builder();
    // 23:30 UTC on the 29th is 00:30 on the 30th in Lisbon summer time.
    assert_eq!(b.today(Utc.with_ymd_and_hms(2026, 3, 29, 23, 30, 0).unwrap()), d(3, 30));
    assert_eq!(b.today(Utc.with_ymd_and_hms(2026, 3, 28, 23, 30, 0).unwrap()), d(3, 28), "still winter time");
}

#[test]
fn occupancy_counts_beds_sold_per_night() {
    let nights = builder().occupancy(d(3, 28), d(3, 31), &seed());
    let got: Vec<(usize, usize, usize)> = nights.iter().map(|n| (n.sold, n.blocked, n.available)).collect();
    // 9 beds: six in D1 and three private rooms. The 29th: Ana, Dora, Ben, Hana's party of two and
    // P2's closure; D1-A's closure is Ana's stay, counted once.
    assert_eq!(got, [(3, 1, 8), (6, 1, 8), (5, 0, 9)]);
    assert!((nights[1].rate - 0.75).abs() < 1e-9);
}

#[test]
fn two_stays_in_one_bed_tonight_is_an_overbooking_warning() {
    let mut bookings = seed();
    let mut twin = bookings.iter().find(|b| b.key.id.as_str() == "dd").unwrap().clone();
    twin.key = key(ConnectorKind::BEDS24, "dd-twin");
    twin.guest.name = Some("Double Booked".into());
    bookings.push(twin);
    let b = builder().board(d(3, 29), &bookings, &[], Utc::now());
    assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
    assert!(b.warnings[0].starts_with("D1 B: 2 stays tonight"), "{}", b.warnings[0]);
}

/// With a confirmed mapping and housekeeping: host names everywhere, Dora's dirty bed flagged,
/// a suggested pair not applied, unmapped units listed.
#[test]
fn the_mapping_and_housekeeping_show_on_the_board() {
    use crate::mapping::{Basis, HostRoom, MappingEntry, RoomMapping};
    use crate::model::{Condition, Housekeeping, Occupancy};
    let k = |id: &str| key(ConnectorKind::BEDS24, id);
    let host = |id: &str, name: &str| HostRoom { id: id.into(), name: name.into() };
    let mut mapping = RoomMapping::new();
    mapping.entries.insert(k("d1-b"), MappingEntry::confirmed(host("h-1b", "Dorm 1 · bed 2"), "B"));
    mapping.entries.insert(k("p1"), MappingEntry::confirmed(host("h-101", "101"), "P1"));
    mapping.entries.insert(k("p2"), MappingEntry::suggested(host("h-102", "102"), "P2", Basis::Number));
    let mut dirty = Housekeeping::new(k("d1-b"), Condition::Dirty);
    dirty.occupancy = Some(Occupancy::Vacant);
    let now = Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap();
    let b = builder()
        .with_mapping(mapping)
        .with_housekeeping(vec![dirty, Housekeeping::new(k("p1"), Condition::Inspected)])
        .board(d(3, 29), &seed(), &[], now);

    let dora = b.arrivals.iter().find(|l| l.guest.as_deref() == Some("Dora")).unwrap();
    assert_eq!(dora.units, ["Dorm 1 · bed 2"], "the host's name");
    assert_eq!(b.turnovers[0].room_label.as_deref(), Some("Dorm 1 · bed 2"));
    assert_eq!(b.turnovers[0].host_room.as_ref().map(|h| h.id.as_str()), Some("h-1b"));
    let not_ready: Vec<&str> = b.not_ready().map(|r| r.name.as_str()).collect();
    assert_eq!(not_ready, ["Dorm 1 · bed 2"], "Ben's room is inspected; unknown rooms are not flagged");
    let p1 = b.rooms.iter().find(|r| r.unit == k("p1")).unwrap();
    assert_eq!((p1.name.as_str(), p1.condition, p1.arrival_today), ("101", Some(Condition::Inspected), true));
    assert!(b.unmapped.contains(&"P2".to_owned()), "a suggestion is not a mapping: {:?}", b.unmapped);
    assert_eq!(b.unmapped.len(), 7, "five dorm beds and two rooms: {:?}", b.unmapped);
    assert!(b.warnings.iter().any(|w| w.contains("not clean yet: Dorm 1 · bed 2")), "{:?}", b.warnings);
}
