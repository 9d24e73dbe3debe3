//! The emulated Cloudbeds account: properties with room types, rooms and dorm beds, reservations
//! shaped like `getReservationsWithRateDetails` rows, housekeeping, notes, subscriptions.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

pub(crate) struct Property {
    pub id: String,
    pub name: String,
    pub tz: Tz,
    pub room_types: Vec<Value>,
    pub rooms: Vec<Value>,
    pub reservations: BTreeMap<String, Value>,
    pub housekeeping: BTreeMap<String, Value>,
    pub notes: HashMap<String, Vec<Value>>,
    pub webhooks: Vec<(String, String, String, String)>,
    pub recent: VecDeque<Instant>,
    pub log: Vec<Instant>,
    pub suspended: bool,
    pub violations: u64,
    pub next_id: u64,
    pub last_modified: DateTime<Utc>,
}

pub(crate) struct State {
    pub properties: BTreeMap<String, Property>,
    pub api_keys: HashMap<String, String>,
    /// Keys that see several properties (a group or association).
    pub group_keys: HashMap<String, Vec<String>>,
    pub access_tokens: HashMap<String, (String, Instant)>,
    pub refresh_tokens: HashMap<String, String>,
    pub codes: HashMap<String, String>,
    /// Scopes asked for on the authorization page, by code, then by refresh token.
    pub code_scopes: HashMap<String, String>,
    pub refresh_scopes: HashMap<String, String>,
    /// Scopes the emulated owner declines on the authorization page.
    pub withheld: Vec<String>,
    pub client: (String, String),
    pub rate_limit: usize,
    pub rate_window: std::time::Duration,
    pub minted: u64,
    pub today: NaiveDate,
}

pub(crate) fn room(
    id: &str,
    name: &str,
    dorm: Option<&str>,
    private: bool,
    rt: &str,
    rt_name: &str,
    max: u32,
) -> Value {
    json!({ "roomID": id, "roomName": name, "dormRoomName": dorm.unwrap_or(""), "roomDescription": "", "maxGuests": max,
        "isPrivate": private, "isVirtual": false, "roomBlocked": false, "roomTypeID": rt, "roomTypeName": rt_name,
        "roomTypeNameShort": rt_name.chars().filter(|c| c.is_ascii_uppercase()).collect::<String>(), "doorlockID": "" })
}

const GUESTS: [(&str, &str, &str); 6] = [
    ("Mia", "Schneider", "DE"),
    ("Luc", "Martin", "FR"),
    ("Giulia", "Bianchi", "IT"),
    ("Tom", "Walker", "GB"),
    ("Inês", "Sousa", "PT"),
    ("Yuki", "Sato", "JP"),
];
const SOURCES: [(&str, &str); 4] = [("Hostelworld", "HW-"), ("Booking.com", "44"), ("Website", ""), ("Expedia", "EX")];

pub(crate) fn local(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Property {
    pub fn seeded(id: &str, today: NaiveDate, now: DateTime<Utc>, n: usize) -> Self {
        let rt = |id: &str, name: &str, private: bool, max: u32| {
            json!({ "roomTypeID": id, "propertyID": "", "roomTypeName": name,
            "roomTypeNameShort": "", "roomTypeDescription": "", "isPrivate": private, "maxGuests": max, "adultsIncluded": max, "childrenIncluded": 0 })
        };
        let mut p = Self {
            id: id.to_owned(),
            name: format!("Harbour Hostel {id}"),
            tz: chrono_tz::Europe::Lisbon,
            room_types: vec![
                rt("445566", "Bed in 6-bed mixed dorm", false, 1),
                rt("445568", "Bed in 4-bed female dorm", false, 1),
                rt("445567", "Private twin", true, 2),
            ],
            rooms: Vec::new(),
            reservations: BTreeMap::new(),
            housekeeping: BTreeMap::new(),
            notes: HashMap::new(),
            webhooks: Vec::new(),
            recent: VecDeque::new(),
            log: Vec::new(),
            suspended: false,
            violations: 0,
            next_id: 31_400_000,
            last_modified: now,
        };
        for t in &mut p.room_types {
            t["propertyID"] = json!(id);
        }
        for b in 1..=6 {
            p.rooms.push(room(
                &format!("445566-{b}"),
                &format!("D1-Bed {}", (b'A' + b - 1) as char),
                Some("Dorm 1"),
                false,
                "445566",
                "Bed in 6-bed mixed dorm",
                1,
            ));
        }
        for (dorm, first) in [("Dorm 2", 1u8), ("Dorm 3", 5u8)] {
            for b in first..first + 4 {
                p.rooms.push(room(
                    &format!("445568-{b}"),
                    &format!("{}-Bed {b}", &dorm[5..]),
                    Some(dorm),
                    false,
                    "445568",
                    "Bed in 4-bed female dorm",
                    1,
                ));
            }
        }
        for (i, r) in ["201", "202"].iter().enumerate() {
            p.rooms.push(room(&format!("445567-{}", i + 1), r, None, true, "445567", "Private twin", 2));
        }
        for r in &p.rooms {
            let rid = r["roomID"].as_str().unwrap_or_default().to_owned();
            p.housekeeping.insert(rid, json!({ "roomCondition": "clean", "doNotDisturb": false, "roomComments": "" }));
        }
        let room_ids: Vec<(String, String, String)> = p
            .rooms
            .iter()
            .map(|r| {
                (
                    r["roomID"].as_str().unwrap_or("").to_owned(),
                    r["roomName"].as_str().unwrap_or("").to_owned(),
                    r["roomTypeID"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        for i in 0..n {
            let (rid, rname, rt) = &room_ids[i % room_ids.len()];
            let arrival = today + Duration::days((i * 5 % 28) as i64 - 2);
            let departure = arrival + Duration::days(1 + (i % 3) as i64);
            let (first, last, country) = GUESTS[i % GUESTS.len()];
            let (source, prefix) = SOURCES[i % SOURCES.len()];
            let created = now - Duration::days(15) + Duration::minutes(i as i64);
            let status = if i % 8 == 5 { "canceled" } else { "confirmed" };
            p.add(arrival, departure, rid, rname, rt, first, last, country, source, prefix, status, created);
        }
        p
    }

    /// The name of a room type ("" for one it does not have).
    pub fn room_type_name(&self, room_type: &str) -> String {
        self.room_types
            .iter()
            .find(|t| t["roomTypeID"] == room_type)
            .and_then(|t| t["roomTypeName"].as_str())
            .unwrap_or("")
            .to_owned()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        arrival: NaiveDate,
        departure: NaiveDate,
        room_id: &str,
        room_name: &str,
        room_type: &str,
        first: &str,
        last: &str,
        country: &str,
        source: &str,
        prefix: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> String {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let guest_id = format!("9{id}");
        let rt_name = self.room_type_name(room_type);
        let r = json!({
            "propertyID": self.id, "reservationID": id, "isDeleted": false,
            "dateCreated": local(self.tz, at), "dateCreatedUTC": utc(at), "dateModified": local(self.tz, at), "dateModifiedUTC": utc(at),
            "status": status, "reservationCheckIn": format!("{arrival} 15:00:00"), "reservationCheckOut": format!("{departure} 11:00:00"),
            "guestID": guest_id, "guestCountry": country, "sourceName": source, "source": { "name": source, "category": if source == "Website" { "direct" } else { "ota" } },
            "thirdPartyIdentifier": if prefix.is_empty() { String::new() } else { format!("{prefix}{}", 558_000_000 + self.next_id) },
            "propertyCurrency": "EUR", "total": 28.0 * (departure - arrival).num_days() as f64, "balance": 0,
            "rooms": [{ "roomTypeID": room_type, "roomTypeName": rt_name, "subReservationID": id, "isRoomLocked": false, "guestID": guest_id,
                "guestName": format!("{first} {last}"), "adults": "1", "children": "0", "reservationRoomID": format!("8{id}"),
                "roomID": room_id, "roomName": room_name, "roomCheckIn": arrival.to_string(), "roomCheckOut": departure.to_string(),
                "roomStatus": if status == "canceled" { "cancelled" } else { "not_checked_in" } }],
            "guestList": { guest_id.clone(): { "guestID": guest_id, "guestFirstName": first, "guestLastName": last,
                "guestEmail": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()), "guestPhone": "", "guestCellPhone": "+351 910 000 000",
                "guestCountry": country, "guestStatus": "not_checked_in", "isMainGuest": true } },
            "estimatedArrivalTime": "15:00",
        });
        self.reservations.insert(id.clone(), r);
        if status == "canceled"
            && let Some(r) = self.reservations.get_mut(&id)
        {
            r["dateCancelledUTC"] = json!(utc(at));
        }
        id
    }

    /// Stamps a change with a strictly increasing modification time (second resolution).
    pub fn touch(&mut self, id: &str) -> Option<&mut Value> {
        let now = Utc::now().max(self.last_modified + Duration::seconds(1));
        self.last_modified = now;
        let tz = self.tz;
        let r = self.reservations.get_mut(id)?;
        r["dateModified"] = json!(local(tz, now));
        r["dateModifiedUTC"] = json!(utc(now));
        Some(r)
    }
}
