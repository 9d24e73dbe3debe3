//! Expedia Group Partner Central notifications (`booknotif@expedia.com`): `Reservation ID`,
//! `Guest:` with the phone on the next line, a relay `Guest Email`, `Room Type Name`, and a row
//! under `Check-In Check-Out Adults Kids/Ages Room Nights` holding the dates and party. The
//! machine line `NotificationType: BookingReserve|BookingChange|BookingCancel` gives the kind;
//! the modification and cancellation subjects are not documented, so the subject is a fallback.

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of};
use crate::extract::{Extracted, MailKind};
use crate::find::{Labels, head_lines};
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "expedia", recognises, extract, ref_shape };

fn recognises(c: &Ctx<'_>) -> bool {
    c.sender_at("expedia.com")
        || c.sender_at("expediapartnercentral.com")
        || c.text.contains("expediapartnercentral.com") && c.text.contains("Reservation ID")
}

fn ref_shape(r: &str) -> bool {
    (8..=12).contains(&r.len()) && r.chars().all(|c| c.is_ascii_digit())
}

static NOTIFICATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"NotificationType:\s*Booking(\w+)").expect("compiles"));
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*(\d{6,14})").expect("compiles"));
static GUEST_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^\s*(.+?)(?:\s{2,}|\s+Booked on(?-u:\b)|\t|$)").expect("compiles"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+?[\d\s().-]{7,20}$").expect("compiles"));
/// The table's header line, matched from the start of a line that holds `check-in`.
static ROW_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)\A.*check-in\s+check-out\s+adults.*$").expect("compiles"));
static NUMBERS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)(\d{1,3})(?-u:\b)").expect("compiles"));

static RESERVATION_ID: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Reservation ID"]));
static GUEST: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guest"]));
static GUEST_EMAIL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Guest Email"]));
static ROOM: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Room Type Name"]));
static TOTAL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Total Cost", "Total"]));
static SPECIAL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Special Request"]));

/// Where the first line that starts the table's header ends: the lines holding a `check-in` are
/// tried in order, each with the header's pattern anchored at its start, so the pattern never
/// scans a text that has no `check-in`.
fn row_header_end(text: &str) -> Option<usize> {
    let mut tried = None;
    crate::find::find_ignore_case(text, "check-in").find_map(|at| {
        let line = memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |nl| nl + 1);
        if tried == Some(line) {
            return None;
        }
        tried = Some(line);
        ROW_HEADER.find(&text[line..]).map(|m| line + m.end())
    })
}

fn extract(c: &Ctx<'_>) -> Found {
    let kind = match NOTIFICATION.captures(c.text).map(|m| m[1].to_lowercase()) {
        Some(k) if k.starts_with("cancel") => MailKind::Cancelled,
        Some(k) if k.starts_with("change") || k.starts_with("modif") => MailKind::Modified,
        Some(_) => MailKind::New,
        None => kind_of(c.subject),
    };
    let mut f = Extracted::new(kind);
    f.channel = Some(Channel::Expedia);
    f.channel_ref = RESERVATION_ID.all(c.text).find_map(|a| capture(&DIGITS, a.rest));
    if let Some(g) = GUEST.all(c.text).find(|a| !a.rest.starts_with("Email") && !a.rest.starts_with("has")) {
        f.guest_name = GUEST_NAME.captures(g.rest).and_then(|m| clean(&m[1]));
        // The phone is the line after the guest's name.
        f.guest_phone = g.rest.lines().skip(1).take(2).map(str::trim).find(|l| PHONE.is_match(l)).map(str::to_owned);
    }
    f.guest_email = GUEST_EMAIL.first(c.text).and_then(|a| a.line()).and_then(clean).filter(|e| e.contains('@'));
    f.room = ROOM.first(c.text).and_then(|a| a.line()).and_then(clean);
    if let Some(header_end) = row_header_end(c.text) {
        let row_text = head_lines(c.text[header_end..].trim_start_matches('\n'), 1);
        let mut ds = lang::dates(row_text);
        if let (Some(a), Some(d)) = (ds.next(), ds.next()) {
            f.arrival = a.resolve(c.sent);
            f.departure = d.resolve(f.arrival.or(c.sent));
            let mut counts = NUMBERS.captures_iter(&row_text[d.end..]).filter_map(|m| m[1].parse::<u16>().ok());
            f.adults = counts.next();
            f.children = counts.next();
        }
    }
    f.total = TOTAL.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    if let Some(s) = SPECIAL.first(c.text).and_then(|a| a.line()).filter(|l| !l.starts_with("Daily Rate")) {
        f.notes.push(s.to_owned());
    }
    Found::Booking(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_row_is_found_where_the_whole_text_pattern_finds_it() {
        let whole = Regex::new(r"(?im)^.*check-in\s+check-out\s+adults.*$").unwrap();
        for text in [
            "",
            "Check-In Check-Out Adults Kids/Ages\nOct 5 Oct 7 2 0",
            "x\nRoom  Check-In   Check-Out  Adults  Kids\nrow",
            "check-in alone\nthen Check-in\nCheck-out\nAdults here\nrow",
            "check-in check-in check-out adults\nrow",
            "no header\ncheck-inx check-out adults",
            "Check-In\tCheck-Out\tAdults",
            "é check-in check-out adults ü\n",
            "check-in\n\ncheck-in check-out\nkids",
            "CHECK-IN\r\nCHECK-OUT ADULTS\r\n",
        ] {
            assert_eq!(row_header_end(text), whole.find(text).map(|m| m.end()), "{text:?}");
        }
    }
}
