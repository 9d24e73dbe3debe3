//! What a parse produces: a booking extraction with its confidence and template, a booking that
//! needs review, or a typed "not a booking".

use std::borrow::Cow;

use chrono::NaiveDate;
use hostelpulse_core::model::{Channel, Money};
use serde::{Deserialize, Serialize};

use crate::mime::Envelope;

/// What the mail announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MailKind {
    /// A new booking.
    New,
    /// A change to a booking.
    Modified,
    /// A cancellation.
    Cancelled,
}

/// The fields a template found. Every field is optional: unknown is not the same as empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Extracted {
    /// New, modified or cancelled.
    pub kind: MailKind,
    /// The sales channel.
    pub channel: Option<Channel>,
    /// The channel's reference (Airbnb `HM…` code, Booking.com number, …), upper case.
    pub channel_ref: Option<String>,
    /// The guest's name as written.
    pub guest_name: Option<String>,
    /// The guest's e-mail (often a channel relay alias).
    pub guest_email: Option<String>,
    /// The guest's phone.
    pub guest_phone: Option<String>,
    /// Arrival date.
    pub arrival: Option<NaiveDate>,
    /// Departure (checkout) date.
    pub departure: Option<NaiveDate>,
    /// Adults.
    pub adults: Option<u16>,
    /// Children.
    pub children: Option<u16>,
    /// The room, room type or bed as the mail names it (e.g. "Bunk Bed in Mixed Dormitory Room").
    pub room: Option<String>,
    /// The total price of the stay (the payout where a partner mail shows only that).
    pub total: Option<Money>,
    /// Guest requests and other notes worth keeping.
    pub notes: Vec<String>,
}

impl Extracted {
    /// Nothing known yet.
    pub fn new(kind: MailKind) -> Self {
        Self {
            kind,
            channel: None,
            channel_ref: None,
            guest_name: None,
            guest_email: None,
            guest_phone: None,
            arrival: None,
            departure: None,
            adults: None,
            children: None,
            room: None,
            total: None,
            notes: Vec::new(),
        }
    }
}

/// A booking extraction with how sure the parser is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Extraction {
    /// The fields.
    pub fields: Extracted,
    /// 0–1: how much of what a booking needs was found, and how well it fits the template.
    pub confidence: f32,
    /// The template that produced it (`airbnb`, `booking_com_guest`, …, or `generic`).
    pub template: Cow<'static, str>,
}

/// The result of parsing one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// A booking message, confident enough to sync.
    Booking(Extraction),
    /// A booking message the parser is not sure enough about: shown for review, not synced.
    NeedsReview {
        /// What was found.
        extraction: Extraction,
        /// Why it needs a person (low confidence, a field missing, a reference of the wrong shape).
        reasons: Vec<String>,
    },
    /// Not a booking message (a booking request, a guest message, a newsletter, …).
    NotABooking {
        /// Why.
        reason: String,
        /// The template that recognised the sender, if one did.
        template: Option<Cow<'static, str>>,
    },
}

impl Outcome {
    /// The extraction, unless this is not a booking.
    pub fn extraction(&self) -> Option<&Extraction> {
        match self {
            Self::Booking(e) | Self::NeedsReview { extraction: e, .. } => Some(e),
            Self::NotABooking { .. } => None,
        }
    }
}

/// A parsed message: its envelope (after unwrapping a forward) and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ParsedMail {
    /// Sender, subject and date of the original.
    pub envelope: Envelope,
    /// What it is.
    pub outcome: Outcome,
}
