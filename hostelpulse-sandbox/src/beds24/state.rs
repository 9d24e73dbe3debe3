//! The emulated Beds24 account: one property, its rooms and units, bookings as JSON objects shaped
//! like the spec's, tokens and the credit window.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};

pub(crate) const PROPERTY_ID: u64 = 145678;

/// Which spelling of the credit headers the emulator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreditHeaderNames {
    /// `x-five-min-limit-remaining`, `x-five-min-limit-resets-in`, `x-request-cost` (what live servers send).
    Observed,
    /// `X-FiveMinCreditLimit`, `-Remaining`, `-ResetsIn`, `X-RequestCost` (what the spec documents).
    Spec,
}

pub(crate) struct State {
    pub property: Value,
    pub bookings: BTreeMap<u64, Value>,
    pub next_id: u64,
    pub next_info_id: u64,
    pub invite_codes: HashSet<String>,
    pub refresh_tokens: HashSet<String>,
    pub access_tokens: HashMap<String, Instant>,
    pub long_life_tokens: HashSet<String>,
    pub token_life: Duration,
    pub scopes: Vec<String>,
    pub credits_limit: f64,
    pub credits_used: f64,
    /// Requests refused with 429 because the credit window was spent.
    pub rejected: u64,
    pub window: Duration,
    pub window_start: Instant,
    pub header_names: CreditHeaderNames,
    pub requests: HashMap<String, u64>,
    pub last_modified: DateTime<Utc>,
    pub today: NaiveDate,
    pub minted: u64,
    /// A paging glitch: pages after this one are answered with this one again.
    pub repeat_pages_after: Option<usize>,
    /// Bumped by every change to the bookings (a new one, a modification through
    /// [`State::touch`], a deletion, a renumbering).
    pub generation: u64,
    /// The booking list of the last `GET /bookings`, for its next page.
    pub listing: Option<Listing>,
}

/// The ids a booking query matched, in order, kept so that reading page after page costs one
/// page each, not a pass over every booking (a 100,000-booking sync is 1,000 pages). Valid only
/// for the same query, and only while the bookings did not change in between.
pub(crate) struct Listing {
    pub query: String,
    pub generation: u64,
    pub ids: Vec<u64>,
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn unit(id: u64, name: &str, status: &str) -> Value {
    json!({ "id": id, "name": name, "statusText": status, "statusColor": if status == "dirty" { "cc0000" } else { "00aa00" }, "note": "" })
}

fn seed_property() -> Value {
    let dorm6: Vec<Value> = (1..=6)
        .map(|i| {
            unit(i, &format!("D1-Bed {}", (b'A' + i as u8 - 1) as char), if i % 3 == 0 { "dirty" } else { "clean" })
        })
        .collect();
    let dorm4: Vec<Value> =
        (1..=4).map(|i| unit(i, &format!("D2-Bed {}", (b'A' + i as u8 - 1) as char), "clean")).collect();
    json!({
        "id": PROPERTY_ID, "name": "Harbour Hostel", "propertyType": "hostel", "currency": "EUR",
        "city": "Lisbon", "country": "PT", "checkInStart": "14:00", "checkInEnd": "23:00", "checkOutEnd": "11:00",
        "account": { "ownerId": 54321, "unitStatuses": [{ "text": "clean", "color": "00aa00" }, { "text": "dirty", "color": "cc0000" }] },
        "roomTypes": [
            { "id": 316001, "propertyId": PROPERTY_ID, "name": "Bed in 6-bed mixed dorm", "roomType": "bedInDormitory", "qty": 6, "maxPeople": 1, "unitAllocation": "perGuest", "units": dorm6 },
            { "id": 316003, "propertyId": PROPERTY_ID, "name": "Bed in 4-bed female dorm", "roomType": "bedInDormitory", "qty": 4, "maxPeople": 1, "unitAllocation": "perGuest", "units": dorm4 },
            { "id": 316002, "propertyId": PROPERTY_ID, "name": "Private twin", "roomType": "twin", "qty": 2, "maxPeople": 2, "unitAllocation": "perBooking", "units": [unit(1, "201", "clean"), unit(2, "202", "dirty")] },
            { "id": 316004, "propertyId": PROPERTY_ID, "name": "Double room", "roomType": "double", "qty": 2, "maxPeople": 2, "unitAllocation": "perBooking", "units": [unit(1, "301", "clean"), unit(2, "302", "clean")] }
        ]
    })
}

const NAMES: [(&str, &str, &str); 8] = [
    ("Mia", "Schneider", "DE"),
    ("Lucas", "Martin", "FR"),
    ("Sofia", "Rossi", "IT"),
    ("Noah", "Smith", "GB"),
    ("Ana", "Silva", "PT"),
    ("Kenji", "Tanaka", "JP"),
    ("Emma", "Johnson", "US"),
    ("Mateo", "García", "ES"),
];
const CHANNELS: [(&str, &str, &str); 4] =
    [("hostelworld", "Hostelworld", "HW-"), ("booking", "Booking.com", "44"), ("airbnb", "Airbnb", "HM"), ("", "", "")];
const ROOMS: [(u64, u64); 4] = [(316001, 6), (316003, 4), (316002, 2), (316004, 2)];

impl State {
    pub fn new(
        today: NaiveDate,
        now: DateTime<Utc>,
        bookings: usize,
        credits_limit: f64,
        header_names: CreditHeaderNames,
    ) -> Self {
        let mut s = Self {
            property: seed_property(),
            bookings: BTreeMap::new(),
            next_id: 71_300_000,
            next_info_id: 90_000,
            generation: 0,
            listing: None,
            invite_codes: HashSet::new(),
            refresh_tokens: HashSet::new(),
            access_tokens: HashMap::new(),
            long_life_tokens: HashSet::new(),
            token_life: Duration::from_secs(86_400),
            scopes: [
                "read:bookings",
                "write:bookings",
                "read:bookings-personal",
                "read:inventory",
                "read:properties",
                "write:properties",
            ]
            .map(String::from)
            .to_vec(),
            credits_limit,
            credits_used: 0.0,
            rejected: 0,
            window: Duration::from_secs(300),
            window_start: Instant::now(),
            header_names,
            requests: HashMap::new(),
            last_modified: now,
            today,
            minted: 0,
            repeat_pages_after: None,
        };
        s.seed(bookings, now);
        s
    }

    /// A month of bookings across the rooms: some cancelled, a no-show, an owner block.
    fn seed(&mut self, n: usize, now: DateTime<Utc>) {
        // An owner block on room 202 for maintenance.
        let block_from = self.today + chrono::Duration::days(10);
        let block_to = self.today + chrono::Duration::days(13);
        // Stays per unit, so every seeded stay goes to a unit free on its dates, as a real PMS
        // allocates: a stay that finds none within a week of its wished arrival is a cancelled
        // request instead of a double booking. (Each unit's list stays short: its stays do not
        // overlap and all fall within about six weeks.)
        let mut taken: std::collections::HashMap<(u64, u64), Vec<(NaiveDate, NaiveDate)>> = Default::default();
        taken.entry((316002, 2)).or_default().push((block_from, block_to));
        for i in 0..n {
            let (room, qty) = ROOMS[i % ROOMS.len()];
            let wished = self.today + chrono::Duration::days((i * 7 % 30) as i64 - 3);
            let nights = 1 + (i % 4) as i64;
            let preferred = i as u64 % qty;
            let free =
                |arrival: NaiveDate, taken: &std::collections::HashMap<(u64, u64), Vec<(NaiveDate, NaiveDate)>>| {
                    let departure = arrival + chrono::Duration::days(nights);
                    (0..qty).map(|k| 1 + (preferred + k) % qty).find(|u| {
                        taken.get(&(room, *u)).is_none_or(|v| v.iter().all(|(a, d)| departure <= *a || *d <= arrival))
                    })
                };
            let found = (0..7)
                .map(|shift| wished + chrono::Duration::days(shift))
                .find_map(|a| free(a, &taken).map(|u| (a, u)));
            let cancelled = i % 9 == 4 || found.is_none();
            let (arrival, unit) = found.unwrap_or((wished, 1 + preferred));
            let departure = arrival + chrono::Duration::days(nights);
            if !cancelled {
                taken.entry((room, unit)).or_default().push((arrival, departure));
            }
            let (first, last, country) = NAMES[i % NAMES.len()];
            let (channel, source, prefix) = CHANNELS[i % CHANNELS.len()];
            // Creation times a minute apart from 20 days ago — closer together beyond 28,800
            // bookings, so every seeded time stays in the past however many are seeded.
            let span = 20 * 24 * 60 * 60;
            let step = (span / n.max(1) as i64).clamp(1, 60);
            let created = now - chrono::Duration::seconds(span) + chrono::Duration::seconds(step * i as i64);
            let mut b = json!({
                "roomId": room, "unitId": unit, "status": "confirmed", "subStatus": "none",
                "arrival": arrival.to_string(), "departure": departure.to_string(),
                "numAdult": if room == 316002 || room == 316004 { 2 } else { 1 }, "numChild": 0,
                "firstName": first, "lastName": last, "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
                "mobile": "+351 910 000 000", "country2": country, "lang": country.to_lowercase(),
                "price": 21.0 * nights as f64, "channel": channel, "apiSource": source,
                "apiReference": if prefix.is_empty() { String::new() } else { format!("{prefix}{}", 55_880_000 + i) },
                "comments": if i % 5 == 0 { "Lower bunk if possible" } else { "" }, "notes": "",
            });
            // The spec's channel codes have none for a direct booking: the field is left out.
            if channel.is_empty()
                && let Some(o) = b.as_object_mut()
            {
                o.remove("channel");
            }
            if cancelled {
                b["status"] = json!("cancelled");
                b["subStatus"] = json!("cancelledByGuest");
                b["cancelTime"] = json!(ts((created + chrono::Duration::days(2)).min(now)));
            }
            if i % 17 == 11 {
                b["subStatus"] = json!("noShow");
            }
            self.insert(b, created);
        }
        let block = json!({ "roomId": 316002, "unitId": 2, "status": "black", "arrival": block_from.to_string(),
            "departure": block_to.to_string(), "numAdult": 0, "numChild": 0, "notes": "Maintenance" });
        self.insert(block, now - chrono::Duration::days(5));
    }

    /// A unit of `room` free on `[arrival, departure)` (cancelled stays free theirs; `except` is
    /// the booking being moved), trying `preferred` first.
    pub fn free_unit(
        &self,
        room: u64,
        arrival: NaiveDate,
        departure: NaiveDate,
        preferred: u64,
        except: Option<u64>,
    ) -> Option<u64> {
        let qty = self.room_qty(room)?;
        let busy = |unit: u64| {
            self.bookings.iter().any(|(id, b)| {
                let dates = |k: &str| b[k].as_str().and_then(|d| d.parse::<NaiveDate>().ok());
                Some(*id) != except
                    && b["roomId"] == room
                    && b["unitId"] == unit
                    && b["status"] != "cancelled"
                    && dates("arrival").zip(dates("departure")).is_some_and(|(a, d)| a < departure && arrival < d)
            })
        };
        (0..qty).map(|k| 1 + (preferred.saturating_sub(1) + k) % qty).find(|u| !busy(*u))
    }

    /// The emulated property's id.
    pub fn property_id(&self) -> u64 {
        self.property["id"].as_u64().unwrap_or(PROPERTY_ID)
    }

    /// Renumbers the emulated property (several emulators side by side: one property each).
    pub fn set_property_id(&mut self, id: u64) {
        self.property["id"] = json!(id);
        if let Some(types) = self.property["roomTypes"].as_array_mut() {
            for t in types {
                t["propertyId"] = json!(id);
            }
        }
        for b in self.bookings.values_mut() {
            b["propertyId"] = json!(id);
        }
        self.generation += 1;
    }

    /// Stamps and stores a new booking; returns its id.
    pub fn insert(&mut self, mut b: Value, at: DateTime<Utc>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        b["id"] = json!(id);
        b["propertyId"] = json!(self.property_id());
        b["masterId"] = Value::Null;
        b["bookingTime"] = json!(ts(at));
        b["modifiedTime"] = json!(ts(at));
        if b.get("infoItems").is_none() {
            b["infoItems"] = json!([]);
        }
        self.bookings.insert(id, b);
        self.generation += 1;
        id
    }

    /// A strictly increasing modification time (second resolution, like the API's).
    pub fn touch(&mut self, id: u64) -> Option<&mut Value> {
        let now = Utc::now().max(self.last_modified + chrono::Duration::seconds(1));
        self.last_modified = now;
        self.generation += 1;
        let b = self.bookings.get_mut(&id)?;
        b["modifiedTime"] = json!(ts(now));
        Some(b)
    }

    pub fn count(&mut self, endpoint: &str) {
        *self.requests.entry(endpoint.to_owned()).or_default() += 1;
    }

    /// Resets the window when it has passed; returns seconds until it resets.
    pub fn window_left(&mut self) -> f64 {
        let elapsed = self.window_start.elapsed();
        if elapsed >= self.window {
            self.window_start = Instant::now();
            self.credits_used = 0.0;
            return self.window.as_secs_f64();
        }
        (self.window - elapsed).as_secs_f64()
    }

    pub fn room_qty(&self, room_id: u64) -> Option<u64> {
        self.property["roomTypes"].as_array()?.iter().find(|r| r["id"] == room_id).and_then(|r| r["qty"].as_u64())
    }
}
