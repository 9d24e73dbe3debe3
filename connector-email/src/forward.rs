//! Forwarded mail: the owner forwards a confirmation to the inbox, so the envelope is theirs and
//! the original's headers reappear as a text block with localized labels. This finds that block
//! (Gmail's and Android's marker lines, Apple Mail's "Begin forwarded message:", Outlook's bare
//! `From:`/`Sent:`/`Subject:` block) and reads the original sender, subject and date from it.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::lang;

/// What the forward block said about the original.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub sent: Option<NaiveDate>,
    /// The original body: everything after the block.
    pub body: String,
}

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|original message|message d'origine|message transféré|message transfere|weitergeleitete nachricht|ursprüngliche nachricht|mensaje reenviado|mensaje original|messaggio inoltrato|messaggio originale|mensagem encaminhada|mensagem original)[ \t]*-*|begin forwarded message:|début du message réexpédié\s*:|anfang der weitergeleiteten nachricht:|inicio del mensaje reenviado:|inizio messaggio inoltrato:|início da mensagem reencaminhada:|mensagem reencaminhada:)[ \t]*$",
    )
    .expect("marker pattern compiles")
});

/// A header line of the block: label, optional space before the colon (French), value.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[ \t]*(from|de|von|da|date|datum|fecha|data|sent|envoyé|envoye|gesendet|enviado|enviada|inviato|subject|objet|betreff|asunto|oggetto|assunto|to|à|a|an|para|cc|reply-to|répondre à)[ \t]*:[ \t]*(.*)$")
        .expect("header pattern compiles")
});

static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+").expect("address pattern compiles"));

#[derive(Clone, Copy, PartialEq)]
enum Field {
    From,
    Date,
    Subject,
    Other,
}

fn field(label: &str) -> Field {
    match label.to_lowercase().as_str() {
        "from" | "de" | "von" | "da" => Field::From,
        "date" | "datum" | "fecha" | "data" | "sent" | "envoyé" | "envoye" | "gesendet" | "enviado" | "enviada"
        | "inviato" => Field::Date,
        "subject" | "objet" | "betreff" | "asunto" | "oggetto" | "assunto" => Field::Subject,
        _ => Field::Other,
    }
}

/// The innermost forward block in `text`, if any.
pub(crate) fn unwrap(text: &str) -> Option<Block> {
    // A forward's header block sits under the forwarder's few lines: only the head is searched.
    let head = &text[..floor_char_boundary(text, HEAD)];
    // After a marker line, the block starts at the next header line; without one, a run of
    // header lines with both a sender and a subject is the block (Outlook, mail-client exports).
    let starts: Vec<usize> = match MARKER.find_iter(head).last() {
        Some(m) => vec![m.end()],
        None => line_starts(text)
            .filter(|&s| HEADER.captures(line_at(text, s)).is_some_and(|c| field(&c[1]) == Field::From))
            .collect(),
    };
    starts.into_iter().rev().find_map(|s| block_at(text, s))
}

/// How much of the body is searched for a forward block.
const HEAD: usize = 16 * 1024;

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).filter(move |&i| i < text.len())
}

fn line_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    &rest[..rest.find('\n').unwrap_or(rest.len())]
}

fn block_at(text: &str, start: usize) -> Option<Block> {
    let mut block = Block::default();
    let mut pos = start;
    let mut seen = 0;
    let mut last = Field::Other;
    let mut wrapped = false;
    while pos < text.len() {
        let line = line_at(text, pos);
        let next = (pos + line.len() + 1).min(text.len());
        if line.trim().is_empty() {
            pos = next;
            // HTML renderings put a blank line between header lines: the block goes on if the
            // next text is another header line.
            let resumes = text[pos..].lines().find(|l| !l.trim().is_empty()).is_some_and(|l| HEADER.is_match(l));
            if seen > 0 && !resumes {
                break;
            }
            continue;
        }
        match HEADER.captures(line) {
            Some(c) => {
                seen += 1;
                let value = c[2].trim();
                last = field(&c[1]);
                match last {
                    Field::From => {
                        block.from = ADDRESS.find(value).map(|m| m.as_str().to_ascii_lowercase());
                        let name = value.split(['<', '[']).next().unwrap_or("").trim().trim_matches('"').trim();
                        block.from_name = (!name.is_empty() && !name.contains('@')).then(|| name.to_owned());
                    }
                    Field::Date => block.sent = lang::dates(value).find_map(|d| d.year.and_then(|_| d.resolve(None))),
                    Field::Subject => block.subject = Some(value.to_owned()),
                    Field::Other => {}
                }
            }
            // A long subject wraps onto one more line.
            None if seen > 0
                && last == Field::Subject
                && block.subject.as_ref().is_some_and(|s| s.len() >= 50)
                && !wrapped =>
            {
                wrapped = true;
                if let Some(s) = block.subject.as_mut() {
                    s.push(' ');
                    s.push_str(line.trim());
                }
            }
            None if seen > 0 && last == Field::From && block.from.is_none() => {
                block.from = ADDRESS.find(line).map(|m| m.as_str().to_ascii_lowercase());
            }
            None => break,
        }
        pos = next;
    }
    (block.from.is_some() && (block.subject.is_some() || block.sent.is_some())).then(|| {
        block.body = text[pos.min(text.len())..].to_owned();
        block
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_french_android_forward() {
        let t = "Envoyé depuis mon appareil Galaxy\n\n-------- Message d'origine --------\nDe : Airbnb <automated@airbnb.com>\n\
                 Date : 2026-07-15 4 h 40 a.m. (GMT-05:00)\nÀ : forwarder@example.com\nObjet : Réservation confirmée : Jean Tremblay arrive le 30 juil.\n\nBody\n";
        let b = unwrap(t).unwrap();
        assert_eq!(b.from.as_deref(), Some("automated@airbnb.com"));
        assert_eq!(b.from_name.as_deref(), Some("Airbnb"));
        assert_eq!(b.subject.as_deref(), Some("Réservation confirmée : Jean Tremblay arrive le 30 juil."));
        assert_eq!(b.sent, NaiveDate::from_ymd_opt(2026, 7, 15));
        assert_eq!(b.body, "Body\n");
    }

    #[test]
    fn reads_gmail_apple_and_german_outlook_blocks() {
        let gmail = "---------- Forwarded message ---------\nFrom: Expedia Group <booknotif@expedia.com>\n\
                     Date: Thu, Jul 16, 2026 at 9:10 PM\nSubject: Expedia - New Booking - Arriving on 5 Sep 2026\nTo: <owner@example.com>\n\nx\n";
        assert_eq!(unwrap(gmail).unwrap().from.as_deref(), Some("booknotif@expedia.com"));
        let apple = "Begin forwarded message:\n\nFrom: noreply@booking.com\nSubject: Thanks!\nDate: 27 May 2026 at 10:53:57 BST\n\nx\n";
        let b = unwrap(apple).unwrap();
        assert_eq!(b.sent, NaiveDate::from_ymd_opt(2026, 5, 27));
        let outlook = "Hallo\n\nVon: Booking.com <noreply@booking.com>\nGesendet: Montag, 29. Juni 2026 14:29\nAn: Owner\nBetreff: Thanks!\n\nx\n";
        let b = unwrap(outlook).unwrap();
        assert_eq!((b.subject.as_deref(), b.sent), (Some("Thanks!"), NaiveDate::from_ymd_opt(2026, 6, 29)));
    }

    #[test]
    fn plain_mail_is_not_a_forward() {
        assert!(unwrap("From the team: welcome!\nNo subject line here.\n").is_none());
    }
}
