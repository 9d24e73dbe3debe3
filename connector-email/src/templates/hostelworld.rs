//! Hostelworld. **No real sample was found**: this template is built from the labels hostel
//! owners' mail rules and KDE's guest-side extractor use (`Reference Number`, `Booking Reference`,
//! `Check In`, `Check Out`, `Total Price`, `Deposit Paid`, `Balance Due`) and the reference shape
//! `NNNN-NNNNNNNNN`. Treat its results as uncertain; its confidence is scored like the others,
//! so a drifted mail lands in review rather than in the calendar.

use std::sync::LazyLock;

use chrono::Days;
use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of, stay_dates};
use crate::extract::Extracted;
use crate::find::Labels;
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "hostelworld", recognises, extract, ref_shape };

fn recognises(c: &Ctx<'_>) -> bool {
    c.sender_at("hostelworld.com") || c.subject.to_lowercase().contains("hostelworld")
}

fn ref_shape(r: &str) -> bool {
    REF_SHAPE.is_match(r)
}

static REF_SHAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{3,6}-\d{6,10}$").expect("compiles"));
static REF: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)(\d{3,6}-\d{6,10})(?-u:\b)").expect("compiles"));
static TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*([A-Z0-9][A-Z0-9-]{4,})").expect("compiles"));
static NIGHTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)(\d{1,3})\s*nights?(?-u:\b)").expect("compiles"));
static BED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(\d+\s*x\s*)?((?:bed|basic bed|standard bed) in (?:a\s+)?\d+\s*(?:bed|-bed)[^\n\t]*?dorm(?:itory)?(?: room)?(?: ensuite)?)")
        .expect("compiles")
});

static REFERENCE: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Reference Number", "Booking Reference", "Booking Ref", "Reference"]));
static CHECKIN: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Check In", "Check-In", "Arrival", "Arriving"]));
static CHECKOUT: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Check Out", "Check-Out", "Departure", "Departing"]));
static NAME: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guest Name", "Customer Name", "Name"]));
static EMAIL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Email", "E-mail"]));
static PHONE: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Phone", "Telephone", "Mobile"]));
static PERSONS: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guests", "Persons", "People"]));
static TOTAL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Total Price", "Total Cost", "Total"]));
static DEPOSIT: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Deposit Paid", "Deposit"]));
static BALANCE: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Balance Due", "Balance"]));
static ROOM: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Room Type", "Room", "Accommodation"]));

fn extract(c: &Ctx<'_>) -> Found {
    let mut f = Extracted::new(kind_of(c.subject));
    f.channel = Some(Channel::Hostelworld);
    f.channel_ref = REFERENCE
        .all(c.text)
        .find_map(|a| a.line().and_then(|l| capture(&REF, l).or_else(|| capture(&TOKEN, l))))
        .or_else(|| capture(&REF, c.subject))
        .or_else(|| capture(&REF, c.text));
    (f.arrival, f.departure) = stay_dates(c.text, &CHECKIN, &CHECKOUT, c.sent);
    if f.departure.is_none()
        && let (Some(a), Some(n)) = (f.arrival, NIGHTS.captures(c.text).and_then(|m| m[1].parse::<u64>().ok()))
    {
        f.departure = a.checked_add_days(Days::new(n));
    }
    f.guest_name = NAME.first(c.text).and_then(|a| a.line()).and_then(clean);
    f.guest_email = EMAIL.first(c.text).and_then(|a| a.line()).and_then(clean).filter(|e| e.contains('@'));
    f.guest_phone = PHONE
        .first(c.text)
        .and_then(|a| a.line())
        .and_then(clean)
        .filter(|p| p.chars().filter(char::is_ascii_digit).count() >= 6);
    let persons = PERSONS.first(c.text).map(|a| lang::party(crate::find::head_lines(a.rest, 2)));
    (f.adults, f.children) = persons.filter(|p| p.0.is_some()).unwrap_or_else(|| lang::party(c.text));
    f.room = BED
        .captures(c.text)
        .and_then(|m| clean(&m[2]))
        .or_else(|| ROOM.first(c.text).and_then(|a| a.line()).and_then(clean));
    f.total = TOTAL.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    for (label, what) in [(&*DEPOSIT, "deposit paid to Hostelworld"), (&*BALANCE, "balance due at the hostel")] {
        if let Some((amount, cur)) = label.first(c.text).and_then(|a| a.amount()) {
            f.notes.push(format!("{what}: {amount} {cur}"));
        }
    }
    Found::Booking(f)
}
