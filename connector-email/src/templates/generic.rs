//! The fallback for senders without a template: values found by labels in six languages and by
//! the shapes of known references. It recognises every mail, scores lower than a template, and
//! calls a mail with neither a reference nor stay dates "not a booking".

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of, stay_dates};
use crate::extract::Extracted;
use crate::find::Labels;
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "generic", recognises, extract, ref_shape };

fn recognises(_: &Ctx<'_>) -> bool {
    true
}

fn ref_shape(r: &str) -> bool {
    r.len() >= 4
}

static REFERENCE: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Booking number",
        "Booking no.",
        "Booking no",
        "Booking reference",
        "Booking ID",
        "Reservation number",
        "Reservation no.",
        "Reservation ID",
        "Reservation code",
        "Reservation",
        "Itinerary ID",
        "Itinerary number",
        "Itinerary",
        "Booking",
        "Confirmation number",
        "Confirmation code",
        "Confirmation",
        "Reference number",
        "Reference",
        "Numéro de réservation",
        "N° de réservation",
        "Référence",
        "Buchungsnummer",
        "Reservierungsnummer",
        "Buchungscode",
        "Número de reserva",
        "Localizador",
        "Codice prenotazione",
        "Numero di prenotazione",
        "Numero prenotazione",
        "Número da reserva",
        "Código da reserva",
    ])
});
static CHECKIN: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Check-in",
        "Check in",
        "Arrival date",
        "Arrival",
        "Arrivée",
        "Date d'arrivée",
        "Anreise",
        "Ankunft",
        "Anreisedatum",
        "Llegada",
        "Fecha de llegada",
        "Entrada",
        "Arrivo",
        "Data di arrivo",
        "Chegada",
        "Data de chegada",
    ])
});
static CHECKOUT: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Check-out",
        "Check out",
        "Checkout",
        "Departure date",
        "Departure",
        "Départ",
        "Date de départ",
        "Abreise",
        "Abreisedatum",
        "Salida",
        "Fecha de salida",
        "Partenza",
        "Data di partenza",
        "Saída",
        "Data de saída",
    ])
});
static NAME: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Guest name",
        "Guest",
        "Name",
        "Nom du client",
        "Nom",
        "Gastname",
        "Name des Gastes",
        "Nombre del huésped",
        "Nombre",
        "Nome dell'ospite",
        "Nome do hóspede",
        "Ospite",
        "Hóspede",
    ])
});
static FIRST_NAME: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["First name", "Prénom", "Vorname", "Nombre", "Nome"]));
static LAST_NAME: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&["Last name", "Nom de famille", "Nachname", "Apellidos", "Apellido", "Cognome", "Sobrenome"])
});
static EMAIL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Email", "E-mail", "Courriel", "Correo electrónico"]));
static PHONE: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Phone", "Telephone", "Téléphone", "Telefon", "Teléfono", "Telefono", "Telefone"]));
static ROOM: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Room type",
        "Room selection",
        "Room",
        "Chambre",
        "Zimmer",
        "Habitación",
        "Camera",
        "Quarto",
        "Bed",
        "Dorm",
    ])
});
static TOTAL: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Total price",
        "Total sum",
        "Total amount",
        "Total",
        "Montant total",
        "Prix total",
        "Gesamtbetrag",
        "Gesamtpreis",
        "Importe total",
        "Precio total",
        "Importo totale",
        "Totale",
        "Valor total",
        "Preço total",
    ])
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+").expect("compiles"));
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*\(?\s*#?\s*([A-Z0-9](?:[A-Z0-9]|-[A-Z0-9]){3,})(?-u:\b)").expect("compiles"));

fn extract(c: &Ctx<'_>) -> Found {
    let mut f = Extracted::new(kind_of(c.subject));
    f.channel_ref = REFERENCE
        .all(c.text)
        .find_map(|a| capture(&TOKEN, a.rest.trim_start()).filter(|t| t.chars().any(|ch| ch.is_ascii_digit())));
    (f.arrival, f.departure) = stay_dates(c.text, &CHECKIN, &CHECKOUT, c.sent);
    if f.channel_ref.is_none() && f.arrival.is_none() && f.departure.is_none() {
        return Found::NotABooking("no booking reference and no stay dates found".into());
    }
    f.channel = channel_of(c.from, c.text);
    let cell = |l: &Labels| l.first(c.text).and_then(|a| a.line()).and_then(|v| clean(first_words(v)));
    f.guest_name = match (cell(&FIRST_NAME), cell(&LAST_NAME)) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        _ => cell(&NAME),
    }
    .filter(|n| n.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !n.chars().any(|c| c.is_ascii_digit()));
    f.guest_email = EMAIL
        .first(c.text)
        .and_then(|a| ADDRESS.find(crate::find::head_lines(a.rest, 2)))
        .map(|m| m.as_str().to_owned());
    f.guest_phone = PHONE
        .first(c.text)
        .and_then(|a| a.line())
        .map(first_words)
        .filter(|p| p.chars().filter(char::is_ascii_digit).count() >= 6)
        .and_then(clean);
    f.room = ROOM.all(c.text).filter_map(|a| a.line()).map(first_words).find(|v| is_room_value(v)).and_then(clean);
    (f.adults, f.children) = lang::party(c.text);
    f.total = TOTAL.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    Found::Booking(f)
}

/// Whether what follows a room label is a room's name, not the rest of a table header or a
/// section title (`Room Information`, `Room details`, `Rooms and rates`).
fn is_room_value(v: &str) -> bool {
    const HEADER_WORDS: &[&str] = &[
        "information",
        "info",
        "details",
        "detail",
        "summary",
        "type",
        "types",
        "and",
        "&",
        "rate",
        "rates",
        "charges",
        "description",
        "overview",
        "informationen",
        "détails",
        "détail",
        "detalles",
        "dettagli",
        "detalhes",
    ];
    let first = v.split_whitespace().next().unwrap_or("").trim_matches(|c: char| !c.is_alphanumeric() && c != '&');
    !v.trim().is_empty() && !HEADER_WORDS.contains(&first.to_lowercase().as_str())
}

/// A value up to the next run of spaces (the next column in a flattened table).
fn first_words(v: &str) -> &str {
    v.split("  ").next().unwrap_or(v).trim()
}

/// The channel a mail without a template is about: the sender's domain when it is an OTA's own;
/// else the channel the mail names next to a source label ("Booked via: Expedia"); else the one
/// OTA the mail names at all. Never the sender's own domain: a relay or a PMS is not a channel.
fn channel_of(from: &str, text: &str) -> Option<Channel> {
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    if let Some(c) = KNOWN.iter().find(|(_, domains, _)| domains.iter().any(|d| domain.ends_with(d))) {
        return Some(c.2.clone());
    }
    if let Some(c) = SOURCE.all(text).find_map(|a| a.line().and_then(named_channel)) {
        return Some(c);
    }
    let lower = text.to_lowercase();
    let named: Vec<&Channel> =
        KNOWN.iter().filter(|(names, _, _)| names.iter().any(|n| mentions(&lower, n))).map(|(_, _, c)| c).collect();
    match named.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// A channel: the names a mail writes it with, the domains it sends from, and which it is.
type KnownChannel = (&'static [&'static str], &'static [&'static str], Channel);

/// Channels by the names a mail writes them with, and the domains they send from.
static KNOWN: LazyLock<Vec<KnownChannel>> = LazyLock::new(|| {
    vec![
        (&["hostelworld"][..], &["hostelworld.com"][..], Channel::Hostelworld),
        (&["booking.com"], &["booking.com"], Channel::BookingCom),
        (&["airbnb"], &["airbnb.com"], Channel::Airbnb),
        (&["expedia", "hotels.com"], &["expedia.com", "expediapartnercentral.com"], Channel::Expedia),
        (&["agoda"], &["agoda.com"], Channel::Agoda),
        (&["vrbo", "homeaway"], &["vrbo.com", "homeaway.com"], Channel::Vrbo),
        (&["trip.com", "ctrip"], &["trip.com", "ctrip.com"], Channel::Other("trip.com".into())),
    ]
});

static SOURCE: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Booked via",
        "Booking source",
        "Booking channel",
        "Channel",
        "Source",
        "Booking site",
        "Canal",
        "Kanal",
        "Buchungskanal",
        "Origine",
        "Origen",
        "Provenienza",
    ])
});

fn named_channel(value: &str) -> Option<Channel> {
    let lower = value.to_lowercase();
    KNOWN.iter().find(|(names, _, _)| names.iter().any(|n| mentions(&lower, n))).map(|(_, _, c)| c.clone())
}

/// `name` as a word of `lower` (not inside another word).
fn mentions(lower: &str, name: &str) -> bool {
    lower.match_indices(name).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + name.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}
