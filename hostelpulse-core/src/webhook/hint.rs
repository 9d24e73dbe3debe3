use serde::{Deserialize, Serialize};

use crate::model::{AccountId, ConnectorKind, SourceId};

/// What a verified webhook delivery says changed. Only a hint: the engine re-fetches the records
/// before trusting anything (`Plan::Hint` for bookings, an incremental run for room-level hints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hint {
    /// Connector.
    pub connector: ConnectorKind,
    /// The account (property) the delivery is about.
    pub account: AccountId,
    /// The vendor's event name (`booking`, `SYNC_ROOM`, `reservation/created`, …).
    pub event: String,
    /// Bookings to re-fetch.
    pub bookings: Vec<SourceId>,
    /// Rooms or room types whose inventory changed.
    pub rooms: Vec<SourceId>,
    /// What the delivery claims the status is. Never trusted: for display and logs only.
    pub claimed_status: Option<String>,
    /// A key to drop repeated deliveries of the same event.
    pub dedupe_key: String,
}

impl Hint {
    fn new(
        connector: ConnectorKind,
        account: AccountId,
        event: String,
        bookings: Vec<SourceId>,
        rooms: Vec<SourceId>,
        dedupe_key: String,
    ) -> Self {
        Self { connector, account, event, bookings, rooms, claimed_status: None, dedupe_key }
    }

    /// A hint about `bookings`.
    pub fn bookings(
        connector: ConnectorKind,
        account: AccountId,
        event: impl Into<String>,
        bookings: Vec<SourceId>,
        dedupe_key: impl Into<String>,
    ) -> Self {
        Self::new(connector, account, event.into(), bookings, Vec::new(), dedupe_key.into())
    }

    /// A hint about rooms' inventory.
    pub fn rooms(
        connector: ConnectorKind,
        account: AccountId,
        event: impl Into<String>,
        rooms: Vec<SourceId>,
        dedupe_key: impl Into<String>,
    ) -> Self {
        Self::new(connector, account, event.into(), Vec::new(), rooms, dedupe_key.into())
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
}
