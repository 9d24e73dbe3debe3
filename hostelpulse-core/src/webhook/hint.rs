use serde::{Deserialize, Serialize};

use crate::model::{AccountId, ConnectorKind, SourceId};

use crate::connector::BookingIds;

/// What a delivery says changed. Each kind has its own re-read: bookings by id, rooms and
/// housekeeping for the account. A room event never becomes a booking read, and there is no
/// "bookings, but no ids" (which would mean a read of the whole history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "ids", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Changed {
    /// These bookings: re-fetched by id.
    Bookings(BookingIds),
    /// Rooms' housekeeping or blocks (empty: the account's rooms in general): rooms and
    /// housekeeping are re-read.
    Rooms(Vec<SourceId>),
    /// Availability or inventory of these rooms or room types: rooms and housekeeping are re-read,
    /// never bookings.
    Availability(Vec<SourceId>),
}

/// What a verified webhook delivery says changed. Only a hint: the engine re-fetches the records
/// before trusting anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hint {
    /// Connector.
    pub connector: ConnectorKind,
    /// The account (property) the delivery is about.
    pub account: AccountId,
    /// The vendor's event name (`booking`, `SYNC_ROOM`, `reservation/created`, …).
    pub event: String,
    /// What changed.
    pub changed: Changed,
    /// What the delivery claims the status is. Never trusted: for display and logs only.
    pub claimed_status: Option<String>,
    /// A key to drop repeated deliveries of the same event.
    pub dedupe_key: String,
}

impl Hint {
    /// A hint that `changed`.
    pub fn new(
        connector: ConnectorKind,
        account: AccountId,
        event: impl Into<String>,
        changed: Changed,
        dedupe_key: impl Into<String>,
    ) -> Self {
        Self { connector, account, event: event.into(), changed, claimed_status: None, dedupe_key: dedupe_key.into() }
    }

    /// A hint about `bookings`.
    pub fn bookings(
        connector: ConnectorKind,
        account: AccountId,
        event: impl Into<String>,
        bookings: BookingIds,
        dedupe_key: impl Into<String>,
    ) -> Self {
        Self::new(connector, account, event, Changed::Bookings(bookings), dedupe_key)
    }

    /// A hint about rooms' housekeeping or blocks.
    pub fn rooms(
        connector: ConnectorKind,
        account: AccountId,
        event: impl Into<String>,
        rooms: Vec<SourceId>,
        dedupe_key: impl Into<String>,
    ) -> Self {
        Self::new(connector, account, event, Changed::Rooms(rooms), dedupe_key)
    }

    /// The bookings to re-fetch, when the hint is about bookings.
    pub fn booking_ids(&self) -> Option<&BookingIds> {
        match &self.changed {
            Changed::Bookings(ids) => Some(ids),
            _ => None,
        }
    }

    /// Adds the claimed status.
    pub fn with_claimed_status(mut self, status: impl Into<String>) -> Self {
        self.claimed_status = Some(status.into());
        self
    }
}

/// Why a delivery did not become a hint: the same three cases for every PMS that sends webhooks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HintError {
    /// Authentication failed (answer 401/403/404; the sender may retry).
    #[error("rejected: {0}")]
    Rejected(#[from] super::WebhookError),
    /// Authentic, but for another property (answer 200 so the sender stops).
    #[error("delivery for property {0}, not this one")]
    OtherProperty(String),
    /// Authentic, but not an event the connector understands.
    #[error("unrecognised delivery: {0}")]
    Unrecognised(String),
    /// Authentic and understood, but about nothing the SDK keeps (answer 200 so the sender stops).
    #[error("not used: {0}")]
    NotUsed(String),
}
