//! Availability per date and room type.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::identity::SourceKey;

/// Availability of one room type on one night.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Availability {
    /// The room type.
    pub room_type: SourceKey,
    /// The night (property-local).
    pub date: NaiveDate,
    /// Units (beds for a dorm) still sellable; `None` when the source only says yes/no.
    /// May be negative when the source reports an overbooking.
    pub units_available: Option<i32>,
    /// Whether sales are closed that night; `None` when unknown.
    pub closed: Option<bool>,
}

impl Availability {
    /// One night's availability.
    pub fn new(room_type: SourceKey, date: NaiveDate, units_available: Option<i32>, closed: Option<bool>) -> Self {
        Self { room_type, date, units_available, closed }
    }
}
