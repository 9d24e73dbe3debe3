//! The fallback for senders without a template: values found by labels in six languages and by
//! the shapes of known references. It recognises every mail, scores lower than a template, and
//! calls a mail with neither a reference nor stay dates "not a booking".

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of, stay_dates};
use crate::extract::Extracted;
use crate::find::{Labels, Text};
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
        "Client",
        "Customer",
        "Gast",
        "Kunde",
        "Cliente",
        "Huésped",
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
        "Total cost",
        "Total due",
        "Total to pay",
        "Grand total",
        "Amount due",
        "Your payout",
        "Total payout",
        "Payout",
        "Net rate",
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
    if f.arrival.is_none() || f.departure.is_none() {
        // "Staying period: Oct 5, 2026 - Oct 7, 2026": both dates under one label.
        if let Some((a, d)) = STAY.all(c.text).find_map(|l| stay_range(l.rest, c.sent)) {
            (f.arrival, f.departure) = (Some(a), Some(d));
        }
    }
    if f.channel_ref.is_none() && f.arrival.is_none() && f.departure.is_none() {
        return Found::NotABooking("no booking reference and no stay dates found".into());
    }
    f.channel = channel_of(c.from, c.text);
    f.guest_name = match (person(&FIRST_NAME, c.text), person(&LAST_NAME, c.text)) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        _ => person(&NAME, c.text),
    };
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

/// The first value after one of `labels` that reads as a person's name.
fn person(labels: &Labels, text: &Text<'_>) -> Option<String> {
    labels.all(text).find_map(|a| [a.line(), a.cell()].into_iter().flatten().find_map(person_name))
}

/// `v` as a person's name, or `None` when it reads as something else: a word of the layout
/// (`PAID` after `GUEST`, `has PRE-PAID` after `Guest`), a room (`SUITE WITH PRIVATE BATH` after
/// `GUEST`), an address or a number. Airline-style `SURNAME/GIVEN` is turned around.
fn person_name(v: &str) -> Option<String> {
    const PARTICLES: &[&str] = &[
        "de", "da", "do", "dos", "das", "del", "della", "di", "du", "van", "von", "der", "den", "la", "le", "y", "e",
        "bin", "al",
    ];
    // Gmail's text view writes bold labels as `*Guest:*`; a value may run on into the next
    // label (`Marie Gagnon Booked on: Jul 16`), which ends with its colon: cut before it.
    let v = clean(&first_words(v).replace('*', ""))?;
    let v = match v.split_once([':', '：']) {
        Some((before, _)) => {
            let mut words: Vec<&str> = before.split_whitespace().collect();
            while words.last().is_some_and(|w| w.starts_with(char::is_lowercase)) {
                words.pop();
            }
            words.pop();
            clean(&words.join(" "))?
        }
        None => v,
    };
    let v = match v.split_once('/') {
        Some((surname, given)) if !surname.trim().is_empty() && !given.trim().is_empty() && !given.contains('/') => {
            format!("{} {}", given.trim(), surname.trim())
        }
        _ => v,
    };
    let tokens: Vec<&str> = v.split_whitespace().collect();
    if tokens.is_empty() || tokens.len() > 5 {
        return None;
    }
    let word_like = |t: &&str| t.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'));
    let capitalised = |t: &&str| t.chars().next().is_some_and(char::is_uppercase);
    let all_caps = |t: &&str| t.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    let fits = tokens.iter().all(|t| word_like(t) && (capitalised(t) || PARTICLES.contains(t)))
        && tokens.iter().filter(|t| capitalised(t)).count() >= 1
        && v.chars().filter(|c| c.is_alphabetic()).count() >= 2;
    // Upper case is how some channels write names (`LINH TRẦN`), and how layouts write headings
    // (`PAID`, `SUITE WITH PRIVATE BATH`): a name in capitals has two or three words.
    let shouted = tokens.iter().all(all_caps);
    (fits && (!shouted || (2..=3).contains(&tokens.len()))).then_some(v)
}

/// Two dates written as a range after a stay label, in order.
fn stay_range(rest: &str, sent: Option<chrono::NaiveDate>) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let line = rest.lines().find(|l| !l.trim().is_empty())?;
    let mut dates = lang::dates(line);
    let arrival = dates.next()?.resolve(sent)?;
    let departure = dates.next()?.resolve(Some(arrival))?;
    (departure > arrival).then_some((arrival, departure))
}

static STAY: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Staying period",
        "Stay period",
        "Stay dates",
        "Dates of stay",
        "Length of stay",
        "Stay",
        "Dates",
        "Séjour",
        "Dates du séjour",
        "Aufenthalt",
        "Reisezeitraum",
        "Zeitraum",
        "Estancia",
        "Fechas",
        "Soggiorno",
        "Periodo",
        "Estadia",
        "Período",
    ])
});

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
fn channel_of(from: &str, text: &Text<'_>) -> Option<Channel> {
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    if let Some(c) = KNOWN.iter().find(|(_, domains, _)| domains.iter().any(|d| domain.ends_with(d))) {
        return Some(c.2.clone());
    }
    if let Some(c) = SOURCE.all(text).find_map(|a| a.line().and_then(named_channel)) {
        return Some(c);
    }
    let named: Vec<&Channel> =
        KNOWN.iter().filter(|(names, _, _)| names.iter().any(|n| mentions(text, n))).map(|(_, _, c)| c).collect();
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
    KNOWN.iter().find(|(names, _, _)| names.iter().any(|n| mentions(value, n))).map(|(_, _, c)| c.clone())
}

/// Whether `text` names `name` (ASCII) as a word of its own, in any case.
fn mentions(text: &str, name: &str) -> bool {
    // The match is ASCII, so its ends are character boundaries.
    crate::find::find_ignore_case(text, name).any(|i| {
        text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
            && text[i + name.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_told_from_the_words_around_it() {
        for (value, name) in [
            ("Marie Gagnon", Some("Marie Gagnon")),
            ("*Marie Gagnon Booked on:* Jul 16, 2026", Some("Marie Gagnon")),
            ("María de la Cruz", Some("María de la Cruz")),
            ("Sheila C.", Some("Sheila C.")),
            ("LINH TRẦN", Some("LINH TRẦN")),
            ("TRẦN/LINH", Some("LINH TRẦN")),
            ("Jean-Luc O'Neil", Some("Jean-Luc O'Neil")),
            ("PAID", None),
            ("has PRE-PAID", None),
            ("SUITE WITH PRIVATE BATH", None),
            ("will now let you know", None),
            ("Room 12", None),
            ("guest@example.com", None),
            ("", None),
        ] {
            assert_eq!(person_name(value).as_deref(), name, "{value}");
        }
    }

    #[test]
    fn a_stay_period_gives_both_dates() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let range = |t: &str| STAY.first(t).and_then(|a| stay_range(a.rest, d("2026-11-01")));
        assert_eq!(range("Staying period: Oct 5, 2026 - Oct 7, 2026"), d("2026-10-05").zip(d("2026-10-07")));
        assert_eq!(range("Dates: 28 Dec 2026 – 2 Jan 2027"), d("2026-12-28").zip(d("2027-01-02")));
        assert_eq!(range("Stay: Oct 7, 2026 - Oct 5, 2026"), None, "a range that runs backwards is no stay");
    }
}
