//! Agoda booking vouchers (`booking@agoda.com`, `@mail.agoda.net`): `Agoda Booking ID <n> -
//! CONFIRMED`, a table with bilingual labels (English and the property's language) — the value
//! sits in the next cell, after the translation — dates as `30-Sep-2026 (30-09-2026)`, and the
//! room, room count, occupancy and extra beds in the row under their headers. Our sample is a
//! reduced structural copy: fields beyond those labels are uncertain.

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, clean, kind_of, stay_dates};
use crate::extract::{Extracted, MailKind};
use crate::find::Labels;
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "agoda", recognises, extract, ref_shape };

fn recognises(c: &Ctx<'_>) -> bool {
    c.sender_at("agoda.com")
        || c.sender_at("agoda.net")
        || BOOKING_ID.is_match(c.subject)
        || BOOKING_ID.is_match(c.text)
}

fn ref_shape(r: &str) -> bool {
    (6..=12).contains(&r.len()) && r.chars().all(|c| c.is_ascii_digit())
}

static BOOKING_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)Agoda Booking ID\s*:?\s*(\d{6,12})(?:\s*-\s*(\w+))?").expect("compiles"));
static ROW_HEADER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?im)^Room Type(?-u:\b).*$").expect("compiles"));

static FIRST: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Customer First Name"]));
static LAST: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Customer Last Name"]));
static CHECKIN: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Check-in", "Arrival"]));
static CHECKOUT: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Check-out", "Departure"]));
static RATE: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Net rate", "Total"]));
static REQUESTS: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Special Requests", "Special Request"]));

fn extract(c: &Ctx<'_>) -> Found {
    let id = BOOKING_ID.captures(c.subject).or_else(|| BOOKING_ID.captures(c.text));
    let status = id.as_ref().and_then(|m| m.get(2)).map(|s| s.as_str().to_lowercase()).unwrap_or_default();
    let mut f = Extracted::new(match status.as_str() {
        s if s.starts_with("cancel") => MailKind::Cancelled,
        s if s.starts_with("amend") || s.starts_with("modif") => MailKind::Modified,
        _ => kind_of(c.subject),
    });
    f.channel = Some(Channel::Agoda);
    f.channel_ref = id.map(|m| m[1].to_owned());
    let name = |l: &Labels| l.first(c.text).and_then(|a| a.cell()).and_then(clean);
    f.guest_name = match (name(&FIRST), name(&LAST)) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    };
    (f.arrival, f.departure) = stay_dates(c.text, &CHECKIN, &CHECKOUT, c.sent);
    // Headers on one row (each with its translation below it), values on the next line.
    if let Some(h) = ROW_HEADER.find(c.text) {
        let after = &c.text[h.end()..];
        let row = after.lines().map(str::trim).find(|l| l.contains('\t') && lang::party(l).0.is_some());
        if let Some(row) = row {
            f.room = row.split('\t').next().and_then(clean);
            (f.adults, f.children) = lang::party(row);
        }
    }
    f.total = RATE.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    if let Some(r) = REQUESTS.first(c.text).and_then(|a| a.cell()).and_then(clean) {
        f.notes.push(r);
    }
    Found::Booking(f)
}
