//! Housekeeping state per room (or bed).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::identity::SourceKey;

/// A room's cleanliness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Condition {
    /// Clean, ready to sell.
    Clean,
    /// Needs cleaning.
    Dirty,
    /// Cleaned and inspected.
    Inspected,
    /// Out of order / out of service.
    OutOfOrder,
    /// The source sent something we could not map; see the raw value.
    Unknown,
}

/// Whether someone is in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Occupancy {
    /// Nobody in house.
    Vacant,
    /// Guests in house.
    Occupied,
}

/// Housekeeping state of a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Housekeeping {
    /// The room or bed.
    pub room: SourceKey,
    /// Condition.
    pub condition: Condition,
    /// The source's own value, e.g. a Beds24 unit status text.
    pub condition_raw: Option<String>,
    /// Occupancy, when known.
    pub occupancy: Option<Occupancy>,
    /// Do-not-disturb, when known.
    pub do_not_disturb: Option<bool>,
    /// Housekeeper or front-desk comment.
    pub comment: Option<String>,
    /// The time the state applies to, when the source says.
    pub as_of: Option<DateTime<Utc>>,
}

impl Housekeeping {
    /// A state with only the condition known.
    pub fn new(room: SourceKey, condition: Condition) -> Self {
        Self { room, condition, condition_raw: None, occupancy: None, do_not_disturb: None, comment: None, as_of: None }
    }
}
