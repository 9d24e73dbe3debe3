//! Templates per sender, and the generic label-based fallback.
//!
//! A template recognises its mails by sender (or, when a forward hid the sender, by the body's
//! signature), then finds values by labels and patterns, never by position. The dispatcher scores
//! what was found and decides between booking, review and "not a booking".

mod agoda;
mod airbnb;
mod booking_com;
mod expedia;
mod generic;
mod hostelworld;
mod tripcom;

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::extract::{Extracted, Extraction, MailKind, Outcome};
use crate::find::{Labels, Text};
use crate::mime::Mail;

/// What a template read from a mail.
#[allow(clippy::large_enum_variant)] // one per parse, moved once
pub(crate) enum Found {
    /// Booking fields.
    Booking(Extracted),
    /// Recognised, but not a booking message.
    NotABooking(String),
}

/// One sender's template.
pub(crate) struct Template {
    /// Its name in results.
    pub name: &'static str,
    /// Whether the mail is this sender's.
    pub recognises: fn(&Ctx<'_>) -> bool,
    /// Reads the mail.
    pub extract: fn(&Ctx<'_>) -> Found,
    /// Whether a reference has the channel's documented shape.
    pub ref_shape: fn(&str) -> bool,
}

/// The templates in the order they are tried; `generic` last.
pub(crate) const TEMPLATES: &[Template] = &[
    airbnb::TEMPLATE,
    booking_com::HOST,
    booking_com::GUEST,
    expedia::TEMPLATE,
    hostelworld::TEMPLATE,
    agoda::TEMPLATE,
    tripcom::TEMPLATE,
    generic::TEMPLATE,
];

/// The names of every template, for documentation and the capability row.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|t| t.name)
}

/// What a template reads from.
pub(crate) struct Ctx<'m> {
    /// The original sender's address, lower case ("" when unknown).
    pub from: &'m str,
    /// The original subject ("" when unknown).
    pub subject: &'m str,
    /// The body text, with its lower-cased copy for the label searches.
    pub text: &'m Text<'m>,
    /// The send date, the reference for years left out.
    pub sent: Option<NaiveDate>,
}

impl Ctx<'_> {
    /// Whether the sender is at `domain` or one of its subdomains.
    pub fn sender_at(&self, domain: &str) -> bool {
        self.from.rsplit_once('@').is_some_and(|(_, d)| d == domain || d.ends_with(&format!(".{domain}")))
    }
}

static CANCELLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)cancel|annul|storn|cancelad|cancelación|cancellat|cancelamento|đã hủy|abgesagt").expect("compiles")
});
static MODIFIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)modif|changed|amended|amendment|geändert|änderung|alterad|alteração|cambiad|cambio de reserva")
        .expect("compiles")
});

/// New, modified or cancelled, from a subject (the body of a confirmation mentions its
/// cancellation policy, so it is not read here).
pub(crate) fn kind_of(subject: &str) -> MailKind {
    if CANCELLED.is_match(subject) {
        MailKind::Cancelled
    } else if MODIFIED.is_match(subject) {
        MailKind::Modified
    } else {
        MailKind::New
    }
}

/// Arrival and departure from check-in/check-out labels. Handles both labels on one line with
/// both dates below (Airbnb's two columns) and a departure without a year after an arrival in
/// December.
pub(crate) fn stay_dates(
    text: &Text<'_>,
    checkin: &Labels,
    checkout: &Labels,
    sent: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    for a in checkin.all(text) {
        let label_line = a.rest.lines().next().unwrap_or("");
        if checkout.occurs(label_line) {
            let below = crate::find::head_lines(a.rest, 6);
            let mut ds = crate::lang::dates(below);
            if let (Some(x), Some(y)) = (ds.next(), ds.next()) {
                let arrival = x.resolve(sent);
                return (arrival, y.resolve(arrival.or(sent)));
            }
            continue;
        }
        if let Some(arrival) = a.date(sent) {
            let departure = checkout.all(text).find_map(|d| d.date(Some(arrival)));
            return (Some(arrival), departure);
        }
    }
    (None, checkout.all(text).find_map(|d| d.date(sent)))
}

/// The first match of `re`'s group 1 in `text`, upper case.
pub(crate) fn capture(re: &Regex, text: &str) -> Option<String> {
    re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().trim().to_uppercase())
}

/// Trims a free-text value and drops it when empty.
pub(crate) fn clean(s: &str) -> Option<String> {
    let s = s.trim().trim_matches(|c: char| c == ':' || c == '|' || c == ',').trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Options for deciding between booking and review.
pub(crate) struct Judge {
    pub threshold: f32,
    /// Whether the senders' templates are tried (off: the generic extraction alone).
    pub sender_templates: bool,
}

impl Judge {
    /// Scores `fields` and decides the outcome.
    pub fn outcome(&self, t: &Template, mut fields: Extracted) -> Outcome {
        let mut reasons = Vec::new();
        let mut penalty = 0.0;
        if let Some(r) = fields.channel_ref.as_deref().filter(|r| !(t.ref_shape)(r)) {
            reasons.push(format!("reference `{r}` does not have the {} shape", t.name));
            penalty += 0.2;
        }
        if let (Some(a), Some(d)) = (fields.arrival, fields.departure)
            && d <= a
        {
            reasons.push(format!("departure {d} is not after arrival {a}: dates dropped"));
            fields.arrival = None;
            fields.departure = None;
            penalty += 0.2;
        }
        let required: &[bool] = if fields.kind == MailKind::Cancelled {
            &[fields.channel_ref.is_some()]
        } else {
            &[
                fields.channel_ref.is_some() || fields.guest_name.is_some(),
                fields.arrival.is_some(),
                fields.departure.is_some(),
            ]
        };
        let optional =
            [fields.guest_name.is_some(), fields.room.is_some(), fields.total.is_some(), fields.adults.is_some()];
        let ratio = |xs: &[bool]| xs.iter().filter(|x| **x).count() as f32 / xs.len() as f32;
        let base = if t.name == generic::TEMPLATE.name { 0.2 } else { 0.4 };
        let confidence = (base + 0.45 * ratio(required) + 0.15 * ratio(&optional) - penalty).clamp(0.0, 1.0);
        let confidence = (confidence * 100.0).round() / 100.0;
        if fields.channel_ref.is_none() && fields.kind == MailKind::Cancelled {
            reasons.push("a cancellation without a reference cannot be matched to a booking".into());
        }
        if fields.kind != MailKind::Cancelled {
            if fields.arrival.is_none() {
                reasons.push("no arrival date found".into());
            }
            if fields.departure.is_none() {
                reasons.push("no departure date found".into());
            }
        }
        if confidence < self.threshold {
            reasons.push(format!("confidence {confidence:.2} is below the review threshold {:.2}", self.threshold));
        }
        let extraction = Extraction { fields, confidence, template: t.name.into() };
        if reasons.is_empty() { Outcome::Booking(extraction) } else { Outcome::NeedsReview { extraction, reasons } }
    }
}

/// Runs the first template that recognises the mail (the generic one recognises every mail).
pub(crate) fn run(mail: &Mail, judge: &Judge) -> Outcome {
    let text = Text::new(&mail.text);
    let ctx = Ctx {
        from: mail.envelope.from.as_deref().unwrap_or(""),
        subject: mail.envelope.subject.as_deref().unwrap_or(""),
        text: &text,
        sent: mail.envelope.sent,
    };
    let t = TEMPLATES
        .iter()
        .filter(|t| judge.sender_templates || t.name == generic::TEMPLATE.name)
        .find(|t| (t.recognises)(&ctx))
        .unwrap_or(&generic::TEMPLATE);
    match (t.extract)(&ctx) {
        Found::NotABooking(reason) => {
            Outcome::NotABooking { reason, template: (t.name != generic::TEMPLATE.name).then_some(t.name.into()) }
        }
        // A reply in a reservation's message thread (a guest's question about a stay) names dates
        // but is no booking: without a reference it would become a second stay on the board.
        Found::Booking(fields) if mail.envelope.reply && fields.channel_ref.is_none() => Outcome::NotABooking {
            reason: "a reply in a message thread about a stay, with no booking reference: not a new booking".into(),
            template: (t.name != generic::TEMPLATE.name).then_some(t.name.into()),
        },
        Found::Booking(fields) => judge.outcome(t, fields),
    }
}
