//! Parsing one message: MIME, forward, template, score.

use crate::error::MessageError;
use crate::extract::ParsedMail;
use crate::{mime, templates};

/// How messages are read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Messages larger than this are refused with [`MessageError::TooLarge`] before parsing.
    /// Default 10 MiB: confirmations are tens of kilobytes, and the cap bounds time and memory.
    pub max_message_bytes: usize,
    /// Below this confidence (0–1) a booking goes to review instead of being synced. Default 0.7.
    pub review_threshold: f32,
    /// Whether the senders' own templates are tried before the generic extraction. Default on.
    /// Off, every mail is read as one from a sender without a template: to measure how well an
    /// unknown layout is read, or to get past a template that misreads a sender's redesign.
    pub sender_templates: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self { max_message_bytes: 10 * 1024 * 1024, review_threshold: 0.7, sender_templates: true }
    }
}

impl ParseOptions {
    /// Sets the size limit.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Turns the senders' templates on or off (see [`ParseOptions::sender_templates`]).
    pub fn sender_templates(mut self, on: bool) -> Self {
        self.sender_templates = on;
        self
    }

    /// Sets the review threshold (clamped to 0–1).
    pub fn review_threshold(mut self, threshold: f32) -> Self {
        self.review_threshold = threshold.clamp(0.0, 1.0);
        self
    }
}

/// Parses one RFC 822 message (raw bytes, as received by an inbound-mail webhook or read from a
/// mailbox) into a booking, a booking to review, or "not a booking".
///
/// ```
/// use hostelpulse_connector_email::{Outcome, ParseOptions, parse_message};
///
/// let mail = b"From: Expedia Group <booknotif@expedia.com>\r\n\
/// Subject: Expedia - New Booking - Arriving on 5 Sep 2026\r\n\
/// Date: Thu, 16 Jul 2026 21:10:00 -0700\r\n\r\n\
/// Reservation ID: 2511634261\r\nGuest: Marie Gagnon  Booked on: Jul 16, 2026\r\n\
/// Room Type Name: Economy Double Room\r\n\
/// Check-In\tCheck-Out\tAdults\tKids/Ages\tRoom Nights\r\nSep 5, 2026\tSep 6, 2026\t2\t0\t1\r\n\
/// Total Cost: 85.24 CAD\r\nNotificationType: BookingReserve\r\n";
/// let parsed = parse_message(mail, &ParseOptions::default()).unwrap();
/// let Outcome::Booking(b) = parsed.outcome else { panic!("{:?}", parsed.outcome) };
/// assert_eq!(b.template, "expedia");
/// assert_eq!(b.fields.channel_ref.as_deref(), Some("2511634261"));
/// assert_eq!(b.fields.departure.unwrap().to_string(), "2026-09-06");
/// ```
pub fn parse_message(bytes: &[u8], options: &ParseOptions) -> Result<ParsedMail, MessageError> {
    let mail = mime::read(bytes, options.max_message_bytes)?;
    let judge = templates::Judge { threshold: options.review_threshold, sender_templates: options.sender_templates };
    let outcome = templates::run(&mail, &judge);
    Ok(ParsedMail { envelope: mail.envelope, outcome })
}
