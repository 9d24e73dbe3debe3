//! Airbnb host notifications (`automated@airbnb.com`): "Reservation confirmed - `<guest>` arrives
//! `<date>`" and its translations. The body carries the first name, listing, room type, dates
//! without a year inside the send year, guests, the `HM…` code and two price breakdowns (the
//! guest's first). No guest e-mail or phone. Booking requests are not bookings.

use std::sync::LazyLock;

use hostelpulse_core::model::{Channel, Money};
use regex::Regex;

use super::{Ctx, Found, Template, capture, clean, kind_of, stay_dates};
use crate::extract::Extracted;
use crate::find::Labels;
use crate::lang;

pub(super) const TEMPLATE: Template = Template { name: "airbnb", recognises, extract, ref_shape };

fn recognises(c: &Ctx<'_>) -> bool {
    c.sender_at("airbnb.com")
        || c.text.contains("airbnb.com/hosting/reservations/details/")
        || c.text.contains("airbnb.ca/hosting/reservations/details/")
}

fn ref_shape(r: &str) -> bool {
    r.len() == 10 && r.starts_with("HM") && r.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

static REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)booking request|reservation request|request to book|inquiry|enquiry|pending:|en attente|demande de réservation|solicitud de reserva|buchungsanfrage|richiesta di prenotazione|pedido de reserva")
        .expect("compiles")
});
static MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)sent you a message|message from|nouveau message|review|commentaire").expect("compiles")
});
static GUEST_IN_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:confirmed|confirmée|confirmada|bestätigt|confermata)\s*[-:–]\s*(.+?)\s+(?:arrives|arrive|llega|kommt|arriva|chega)(?-u:\b)")
        .expect("compiles")
});
static GUEST_CANCELLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:reservation\s+\S+\s+)?(?:cancell?ed\s*[-:–]\s*)?(.+?)\s+(?:cancell?ed|a annulé|ha cancelado|hat storniert|ha cancellato|cancelou)(?-u:\b)")
        .expect("compiles")
});
static CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)(HM[A-Z0-9]{8})(?-u:\b)").expect("compiles"));
static DETAILS_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/reservations/details/(HM[A-Z0-9]{8})").expect("compiles"));
/// The room kinds Airbnb writes on a line of their own under the listing's title, lower case.
const ROOM_KINDS: &[&str] = &[
    "entire home/apt",
    "entire place",
    "private room",
    "shared room",
    "hotel room",
    "room",
    "chambre privée",
    "chambre partagée",
    "chambre d'hôtel",
    "logement entier",
    "chambre",
    "habitación privada",
    "habitación compartida",
    "privatzimmer",
    "gemeinsames zimmer",
    "stanza privata",
    "stanza condivisa",
    "quarto privado",
    "quarto compartilhado",
];

/// The first line that is a room kind (in any case, blanks after it allowed): where it starts,
/// and the kind as written. Read line by line: a pattern anchored at every line start ran over
/// the whole text.
fn room_kind_line(text: &str) -> Option<(usize, &str)> {
    let longest = ROOM_KINDS.iter().map(|k| k.len()).max().unwrap_or(0);
    let mut start = 0;
    crate::find::split_lines(text).find_map(|line| {
        let at = start;
        start += line.len() + 1;
        let kind = line.trim_end_matches(char::is_whitespace);
        // A kind's capitals take as many bytes as its small letters, but for a few letters
        // outside these words: twice the longest is room enough.
        (!kind.is_empty() && kind.len() <= 2 * longest && ROOM_KINDS.contains(&kind.to_lowercase().as_str()))
            .then_some((at, kind))
    })
}

static CODE_LABEL: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&[
        "Confirmation code",
        "Code de confirmation",
        "Código de confirmación",
        "Bestätigungscode",
        "Codice di conferma",
        "Código de confirmação",
    ])
});
static CHECKIN: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&["Check-in", "Arrivée", "Llegada", "Ankunft", "Check-in", "Arrivo", "Chegada", "Entrada"])
});
static CHECKOUT: LazyLock<Labels> = LazyLock::new(|| {
    Labels::new(&["Checkout", "Check-out", "Départ", "Salida", "Abreise", "Abfahrt", "Partenza", "Saída"])
});
static GUESTS: LazyLock<Labels> =
    LazyLock::new(|| Labels::new(&["Guests", "Voyageurs", "Huéspedes", "Gäste", "Ospiti", "Hóspedes"]));
static TOTAL: LazyLock<Labels> = LazyLock::new(|| Labels::new(&["Total", "Gesamtbetrag", "Totale"]));

fn extract(c: &Ctx<'_>) -> Found {
    if REQUEST.is_match(c.subject) {
        return Found::NotABooking("an Airbnb booking request awaiting the host's answer, not a reservation".into());
    }
    let kind = kind_of(c.subject);
    if MESSAGE.is_match(c.subject) && kind == crate::extract::MailKind::New && !GUEST_IN_SUBJECT.is_match(c.subject) {
        return Found::NotABooking("an Airbnb message or review notification, not a booking change".into());
    }
    let mut f = Extracted::new(kind);
    f.channel = Some(Channel::Airbnb);
    f.channel_ref = CODE_LABEL
        .all(c.text)
        .find_map(|a| a.line().and_then(|l| capture(&CODE, l)))
        .or_else(|| capture(&DETAILS_URL, c.text))
        .or_else(|| capture(&CODE, c.subject))
        .or_else(|| capture(&CODE, c.text));
    (f.arrival, f.departure) = stay_dates(c.text, &CHECKIN, &CHECKOUT, c.sent);
    // The full name is only in the subject; the body has the first name.
    f.guest_name = GUEST_IN_SUBJECT
        .captures(c.subject)
        .or_else(|| GUEST_CANCELLED.captures(c.subject))
        .and_then(|m| clean(&m[1]))
        .filter(|n| !n.to_lowercase().starts_with("your"));
    if let Some(g) = GUESTS.all(c.text).map(|a| lang::party(crate::find::head_lines(a.rest, 3))).find(|p| p.0.is_some())
    {
        (f.adults, f.children) = (g.0, g.1.or(Some(0)));
    }
    f.room = room(c.text);
    f.total = TOTAL.all(c.text).find_map(|a| a.amount()).map(|(amount, cur)| Money::new(amount, cur));
    Found::Booking(f)
}

/// "<listing title> (<room kind>)": the room kind line ("Shared room", "Chambre") follows the
/// listing title, possibly with a blank line between.
fn room(text: &str) -> Option<String> {
    let (at, kind) = room_kind_line(text)?;
    let kind = kind.trim();
    let before = &text[..at];
    let title = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['[', '<']) && !l.starts_with("http"));
    Some(match title {
        Some(t) if !t.contains("://") => format!("{t} ({kind})"),
        _ => kind.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_kind_lines_are_found_where_the_former_pattern_found_them() {
        let pattern = Regex::new(&format!(
            r"(?im)^({})\s*$",
            ROOM_KINDS.iter().map(|k| regex::escape(k)).collect::<Vec<_>>().join("|")
        ))
        .unwrap();
        let texts = crate::test_texts::samples_and(&[
            "Cosy loft\nEntire home/apt\n",
            "Title\n\nCHAMBRE PRIVÉE  \r\nmore",
            " room\nroomy\nRoom\t\n",
            "x\nchambre\nchambre privée",
            "Habitación compartida",
            "",
            "\n\n",
        ]);
        for text in &texts {
            let want = pattern.captures(text).map(|m| (m.get(0).unwrap().start(), m.get(1).unwrap().as_str()));
            assert_eq!(room_kind_line(text), want, "{:?}", text.chars().take(80).collect::<String>());
        }
    }
}
