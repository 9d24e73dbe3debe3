//! Rooms: property → room type (private or dorm) → room/unit → bed.
//!
//! Beds24 models a dorm as one "room" whose units are beds (`unitAllocation: perGuest`); Cloudbeds
//! lists one room per bed, grouped by `dormRoomName`. Both map to a dorm [`RoomType`] holding
//! [`Room`]s (the physical dorm rooms) holding [`Bed`]s.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use super::identity::{Provenance, SourceKey};

/// Private room or shared dorm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoomKind {
    /// Sold by the room.
    Private,
    /// Sold by the bed.
    Dorm,
}

/// A bed in a dorm room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bed {
    /// Identity at the source.
    pub key: SourceKey,
    /// The source's name, e.g. "Bed 3" or "D1-Bed C".
    pub name: String,
}

/// A room or unit: for a private type the sellable room; for a dorm the physical room with its beds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    /// Identity at the source. Synthesized when the source has no id for a dorm room
    /// (Cloudbeds groups beds only by `dormRoomName`).
    pub key: SourceKey,
    /// The source's name or number.
    pub name: String,
    /// Beds; empty for private rooms.
    pub beds: Vec<Bed>,
}

/// A room type: what is sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomType {
    /// Identity at the source.
    pub key: SourceKey,
    /// Name.
    pub name: String,
    /// Private or dorm.
    pub kind: RoomKind,
    /// Maximum guests per unit (per room for private, usually 1 per bed for dorms), when known.
    pub max_guests: Option<u16>,
    /// Rooms (with beds for dorms).
    pub rooms: Vec<Room>,
}

impl RoomType {
    /// Sellable units: beds for a dorm, rooms for a private type.
    pub fn sellable_units(&self) -> usize {
        match self.kind {
            RoomKind::Dorm => self.rooms.iter().map(|r| r.beds.len()).sum(),
            _ => self.rooms.len(),
        }
    }
}

/// A property and its rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Property {
    /// Identity at the source (the id is the property id).
    pub key: SourceKey,
    /// How and when it arrived.
    pub provenance: Provenance,
    /// Name.
    pub name: String,
    /// IANA time zone, when the source gives one.
    pub timezone: Option<chrono_tz::Tz>,
    /// Default currency (ISO 4217), when known.
    pub currency: Option<String>,
    /// Standard check-in time, when known.
    pub check_in_time: Option<NaiveTime>,
    /// Standard check-out time, when known.
    pub check_out_time: Option<NaiveTime>,
    /// Room types.
    pub room_types: Vec<RoomType>,
}

impl Property {
    /// A property with no rooms yet.
    pub fn new(key: SourceKey, provenance: Provenance, name: impl Into<String>) -> Self {
        Self {
            key,
            provenance,
            name: name.into(),
            timezone: None,
            currency: None,
            check_in_time: None,
            check_out_time: None,
            room_types: Vec::new(),
        }
    }
}
