//! Booking.com, both families:
//!
//! - **host notifications** (`noreply@booking.com`, subject `Booking.com - New booking! (<number>,
//!   <check-in date>)`, `Modified booking`, `Cancelled booking`, `New last-minute booking`): the
//!   body is minimal, so the result holds the number, the arrival and the kind; the departure has
//!   to come from the iCal feed or the extranet, and the result goes to review until it does.
//! - **guest confirmations** (`Thanks! Your booking is confirmed at <property>`), which a guest or
//!   the owner forwards: number, dates, room, party, guest name and the price in the property's
//!   currency. Label and value share a line in the text part and sit on separate lines in
//!   mail-client exports; both are read.
//!
//! Guest-message notifications (`We received this message from …`) are not bookings.

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of, stay_dates};
use crate::extract::{Extracted, MailKind};
use crate::find::Labels;
use crate::lang;

pub(super) const HOST: Template =
    Template { name: "booking_com_host", recognises: host, extract: extract_host, ref_shape };
pub(super) const GUEST: Template =
    Template { name: "booking_com_guest", recognises: guest, extract: extract_guest, ref_shape };

fn ref_shape(r: &str) -> bool {
    r.len() == 10 && r.chars().all(|c| c.is_ascii_digit())
}

static HOST_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)booking\.com\s*[-–:]\s*(.*?)\s*\(\s*(\d{6,12})\s*(?:,\s*([^)]*))?\)").expect("compiles")
});
static GUEST_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)we received this message from|nous avons reçu ce message|please type your reply above this line")
        .expect("compiles")
});
static EXTRANET_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"res_id=(\d{6,12})").expect("compiles"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)(\d{8,12})(?-u:\b)").expect("compiles"));

fn host(c: &Ctx<'_>) -> bool {
    (c.sender_at("booking.com") || c.subject.to_lowercase().starts_with("booking.com"))
        && (HOST_SUBJECT.is_match(c.subject) || GUEST_MESSAGE.is_match(c.subject) || GUEST_MESSAGE.is_match(c.text))
}

fn extract_host(c: &Ctx<'_>) -> Found {
    if GUEST_MESSAGE.is_match(c.subject) || GUEST_MESSAGE.is_match(c.text) {
        return Found::NotABooking("a guest message relayed by Booking.com, not a booking change".into());
    }
    let mut f = Extracted::new(MailKind::New);
    f.channel = Some(Channel::BookingCom);
    if let Some(m) = HOST_SUBJECT.captures(c.subject) {
        f.kind = kind_of(&m[1]);
        f.channel_ref = Some(m[2].to_owned());
        // The date in the subject is the check-in, written with its year.
        f.arrival = m.get(3).and_then(|d| lang::first_date(d.as_str(), c.sent));
    }
    f.channel_ref = f.channel_ref.or_else(|| capture(&EXTRANET_ID, c.text));
    Found::Booking(f)
}

fn guest(c: &Ctx<'_>) -> bool {
    c.sender_at("booking.com")
        || (c.text.contains("Booking.com") && CONFIRMATION.occurs(c.text) && c.text.contains("PIN"))
}

static CONFIRMATION: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Confirmation number",
        "Confirmation",
        "Booking number",
        "Numéro de confirmation",
        "Bestätigungsnummer",
        "Buchungsnummer",
        "Número de confirmación",
        "Numero di conferma",
        "Número de confirmação",
    ])
});
static CHECKIN: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Check-in", "Arrivée", "Anreise", "Entrada", "Llegada", "Arrivo", "Check-in"]));
static CHECKOUT: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Check-out", "Départ", "Abreise", "Salida", "Partenza", "Saída"]));
static RESERVATION: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Your reservation",
        "Votre réservation",
        "Ihre Buchung",
        "Tu reserva",
        "La tua prenotazione",
        "A sua reserva",
        "Sua reserva",
    ])
});
static BOOKED_FOR: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "You booked for",
        "Vous avez réservé pour",
        "Sie haben gebucht für",
        "Has reservado para",
        "Hai prenotato per",
        "Reservou para",
    ])
});
static GUEST_NAME: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Guest name",
        "Nom du client",
        "Name des Gastes",
        "Nombre del cliente",
        "Nome dell'ospite",
        "Nome do hóspede",
    ])
});
static TOTAL: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Total price",
        "Prix total",
        "Montant total",
        "Gesamtpreis",
        "Precio total",
        "Prezzo totale",
        "Preço total",
    ])
});
static NIGHTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^\d+\s+\S+\s*,\s*(.+)$").expect("compiles"));

fn extract_guest(c: &Ctx<'_>) -> Found {
    let mut f = Extracted::new(kind_of(c.subject));
    f.channel = Some(Channel::BookingCom);
    f.channel_ref = CONFIRMATION.all(c.text).find_map(|a| a.line().and_then(|l| capture(&NUMBER, l)));
    (f.arrival, f.departure) = stay_dates(c.text, &CHECKIN, &CHECKOUT, c.sent);
    // "2 nights, Queen Room": the room follows the length of stay.
    f.room = RESERVATION.all(c.text).find_map(|a| a.line().and_then(|l| NIGHTS.captures(l)).and_then(|m| clean(&m[1])));
    if let Some((a, ch)) = BOOKED_FOR.first(c.text).and_then(|a| a.line()).map(lang::party) {
        (f.adults, f.children) = (a, ch);
    }
    f.guest_name = GUEST_NAME.first(c.text).and_then(|a| a.line()).and_then(clean);
    f.total = TOTAL.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    Found::Booking(f)
}
