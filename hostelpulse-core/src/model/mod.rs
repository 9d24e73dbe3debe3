//! The normalized model: bookings, rooms and beds, availability, housekeeping.
//!
//! Every type serializes with stable snake_case field names; unknown is `null`, never an empty
//! string or a zero.

mod availability;
mod booking;
mod fingerprint;
mod housekeeping;
mod identity;
mod rooms;

pub use availability::Availability;
pub use booking::{Allocation, Booking, BookingStatus, Channel, Guest, Money, Note, NoteKind, Party};
pub use fingerprint::{Fingerprint, Fingerprinted};
pub use housekeeping::{Condition, Housekeeping, Occupancy};
pub use identity::{AccountId, ConnectorKind, ParseKeyError, Provenance, SourceId, SourceKey, Via};
pub use rooms::{Bed, Property, Room, RoomKind, RoomType};
