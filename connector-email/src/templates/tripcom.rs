//! Trip.com (Ctrip) partner notifications: `New Booking Received`, `Reservation no.<16 digits>`,
//! `Guest Name: SURNAME/GIVEN`, `Staying period: <date> - <date> | <n> night(s)`, room type and
//! count, estimated guests, payout lines and the guest's contact. Our sample is a reduced
//! structural copy; the price shown is the property's payout (the guest's price is not in the
//! mail), and that is what `total` holds.

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of};
use crate::extract::Extracted;
use crate::find::{Labels, contains_ignore_case};
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "tripcom", recognises, extract, ref_shape };

fn recognises(c: &Ctx<'_>) -> bool {
    c.sender_at("trip.com") || c.sender_at("ctrip.com") || (RESERVATION.is_match(c.text) && STAYING.occurs(c.text))
}

fn ref_shape(r: &str) -> bool {
    (10..=20).contains(&r.len()) && r.chars().all(|c| c.is_ascii_digit())
}

static RESERVATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)Reservation no\.?\s*:?\s*(\d{8,20})").expect("compiles"));
static STAYING: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Staying period"]));
static GUEST: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guest Name"]));
static ROOM: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Room Type"]));
static GUESTS: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guests (estimated)", "Guests"]));
static PAYOUT: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Your payout", "Total payout"]));
static PHONE: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Telephone", "Phone"]));
static EMAIL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Email"]));

fn extract(c: &Ctx<'_>) -> Found {
    let mut f = Extracted::new(kind_of(c.subject));
    if ["booking cancelled", "cancellation received"].iter().any(|w| contains_ignore_case(c.text, w)) {
        f.kind = crate::extract::MailKind::Cancelled;
    }
    f.channel = Some(Channel::Other("Trip.com".into()));
    f.channel_ref = capture(&RESERVATION, c.text);
    // SURNAME/GIVEN as the partner portal writes it, turned round to "GIVEN SURNAME".
    f.guest_name = GUEST.first(c.text).and_then(|a| a.line()).and_then(clean).map(|n| match n.split_once('/') {
        Some((surname, given)) => format!("{} {}", given.trim(), surname.trim()),
        None => n,
    });
    if let Some(a) = STAYING.first(c.text).and_then(|a| a.line()) {
        let mut ds = lang::dates(a);
        if let (Some(x), Some(y)) = (ds.next(), ds.next()) {
            f.arrival = x.resolve(c.sent);
            f.departure = y.resolve(f.arrival.or(c.sent));
        }
    }
    f.room = ROOM.first(c.text).and_then(|a| a.line()).and_then(|l| clean(l.split('|').next().unwrap_or(l)));
    if let Some(g) = GUESTS.first(c.text).and_then(|a| a.line()) {
        (f.adults, f.children) = lang::party(g);
    }
    f.total = PAYOUT.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    f.guest_phone = PHONE.first(c.text).and_then(|a| a.cell()).and_then(clean);
    f.guest_email = EMAIL.first(c.text).and_then(|a| a.cell()).and_then(clean).filter(|e| e.contains('@'));
    Found::Booking(f)
}
