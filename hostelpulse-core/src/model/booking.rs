//! Bookings: the stays (and blocks) a source knows about.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::identity::{Provenance, SourceId, SourceKey};

/// A booking's status, normalized across sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BookingStatus {
    /// Confirmed and holding inventory.
    Confirmed,
    /// A request, enquiry or unconfirmed booking.
    Tentative,
    /// Cancelled. The record stays; cancellation is a status, never a delete.
    Cancelled,
    /// The guest did not arrive.
    NoShow,
    /// The guest is in house.
    CheckedIn,
    /// The guest has left.
    CheckedOut,
    /// An owner or OTA block: inventory closed, not a guest stay.
    Block,
    /// Dates closed at the source without saying why: a stay or a closure (Booking.com's iCal
    /// `CLOSED - Not available`). The Today board shows "occupied, details unknown".
    Unavailable,
    /// A status the connector could not map; the raw value says what the source sent.
    Unknown,
}

impl BookingStatus {
    /// Whether the booking holds inventory (occupies a bed or room) on its dates.
    pub fn holds_inventory(self) -> bool {
        matches!(
            self,
            Self::Confirmed | Self::Tentative | Self::CheckedIn | Self::CheckedOut | Self::Block | Self::Unavailable
        )
    }

    /// Whether this is a guest stay that is still going ahead (not cancelled, no-show or a block).
    pub fn is_active_stay(self) -> bool {
        matches!(self, Self::Confirmed | Self::Tentative | Self::CheckedIn | Self::CheckedOut)
    }
}

/// The sales channel a booking came through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Booked directly with the property (walk-in, phone, own booking engine).
    Direct,
    /// Booking.com.
    BookingCom,
    /// Airbnb.
    Airbnb,
    /// Hostelworld.
    Hostelworld,
    /// Expedia group.
    Expedia,
    /// Agoda.
    Agoda,
    /// Vrbo / HomeAway.
    Vrbo,
    /// Another channel, by the name the source gives.
    Other(String),
}

/// Who is staying. Every field is optional: a source (or a token without the personal-data scope)
/// may not say, and unknown is not the same as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    /// The full name as the source gives it.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number as given.
    pub phone: Option<String>,
    /// Country, ISO 3166-1 alpha-2 where the source gives one, else the source's text.
    pub country: Option<String>,
    /// Preferred language, a BCP 47 tag or the source's code.
    pub language: Option<String>,
}

/// How many people. `None` means the source did not say, not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Adults.
    pub adults: Option<u16>,
    /// Children.
    pub children: Option<u16>,
}

/// Where a booking (or one line of it) sleeps. A source may know only the room type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The room type (Beds24 "room", Cloudbeds room type).
    pub room_type: Option<SourceId>,
    /// The room or unit. For a dorm bed, the dorm room.
    pub room: Option<SourceId>,
    /// The bed, for dorm bookings.
    pub bed: Option<SourceId>,
    /// The source's label for the allocation (e.g. "D1-Bed C", "Bed in 6 Bed Mixed Dorm").
    pub label: Option<String>,
}

impl Allocation {
    /// Whether a room or bed is assigned (not just a room type).
    pub fn is_assigned(&self) -> bool {
        self.room.is_some() || self.bed.is_some()
    }
}

/// An amount of money in an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount, exact (serialized as a decimal string).
    pub amount: Decimal,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl Money {
    /// An amount in `currency` (upper-cased).
    pub fn new(amount: Decimal, currency: impl AsRef<str>) -> Self {
        Self { amount, currency: currency.as_ref().trim().to_ascii_uppercase() }
    }
}

/// Whose words a note holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoteKind {
    /// The guest's comments or requests.
    Guest,
    /// Staff / internal notes.
    Internal,
    /// A tagged item (e.g. a Beds24 info item), with its code.
    Tagged,
}

/// A note on a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Whose words.
    pub kind: NoteKind,
    /// A code or tag, for tagged notes.
    pub code: Option<String>,
    /// The text.
    pub text: String,
}

/// A booking, normalized.
///
/// `arrival` and `departure` are calendar dates in the property's time zone; `departure` is the
/// checkout day (exclusive: the last night is the day before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Booking {
    /// Stable identity.
    pub key: SourceKey,
    /// How and when it arrived (volatile; not fingerprinted).
    pub provenance: Provenance,
    /// Normalized status.
    pub status: BookingStatus,
    /// The source's own status value(s), e.g. `cancelled/cancelledByGuest`.
    pub status_raw: Option<String>,
    /// First night, property-local.
    pub arrival: NaiveDate,
    /// Checkout day, property-local (exclusive).
    pub departure: NaiveDate,
    /// The guest.
    pub guest: Guest,
    /// The party size.
    pub party: Party,
    /// Where the booking sleeps; empty when the source says nothing.
    pub allocations: Vec<Allocation>,
    /// The sales channel, when known.
    pub channel: Option<Channel>,
    /// The channel's own reference (e.g. an Airbnb `HM…` code, a Booking.com number).
    pub channel_ref: Option<String>,
    /// The group this booking belongs to at the source (Beds24 `masterId`).
    pub group: Option<SourceId>,
    /// Total price.
    pub total: Option<Money>,
    /// Notes.
    pub notes: Vec<Note>,
    /// When the source created it.
    pub created_at: Option<DateTime<Utc>>,
    /// When the source last modified it.
    pub modified_at: Option<DateTime<Utc>>,
    /// When the source cancelled it.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// A booking with the required fields; everything else unknown.
    pub fn new(
        key: SourceKey,
        provenance: Provenance,
        status: BookingStatus,
        arrival: NaiveDate,
        departure: NaiveDate,
    ) -> Self {
        Self {
            key,
            provenance,
            status,
            status_raw: None,
            arrival,
            departure,
            guest: Guest::default(),
            party: Party::default(),
            allocations: Vec::new(),
            channel: None,
            channel_ref: None,
            group: None,
            total: None,
            notes: Vec::new(),
            created_at: None,
            modified_at: None,
            cancelled_at: None,
        }
    }

    /// Number of nights.
    pub fn nights(&self) -> i64 {
        (self.departure - self.arrival).num_days()
    }

    /// Whether the guest sleeps here on the night starting `date`.
    pub fn covers_night(&self, date: NaiveDate) -> bool {
        self.arrival <= date && date < self.departure
    }
}
