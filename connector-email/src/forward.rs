//! Forwarded mail: the owner forwards a confirmation to the inbox, so the envelope is theirs and
//! the original's headers reappear as a text block with localized labels. This finds that block
//! (Gmail's and Android's marker lines, Apple Mail's "Begin forwarded message:", Outlook's bare
//! `From:`/`Sent:`/`Subject:` block) and reads the original sender, subject and date from it.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::find::line_at;
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

/// The marker lines that open a forward block, lower-cased: the dashed ones (`---- Forwarded
/// message ----`, dashes optional after the words) and the ones ending in a colon (Apple Mail's
/// "Begin forwarded message:", space before the colon allowed).
const DASHED_MARKERS: &[&str] = &[
    "forwarded message",
    "original message",
    "message d'origine",
    "message transféré",
    "message transfere",
    "weitergeleitete nachricht",
    "ursprüngliche nachricht",
    "mensaje reenviado",
    "mensaje original",
    "messaggio inoltrato",
    "messaggio originale",
    "mensagem encaminhada",
    "mensagem original",
];
const COLON_MARKERS: &[&str] = &[
    "begin forwarded message",
    "début du message réexpédié",
    "anfang der weitergeleiteten nachricht",
    "inicio del mensaje reenviado",
    "inizio messaggio inoltrato",
    "início da mensagem reencaminhada",
    "mensagem reencaminhada",
];

/// Whether `line` is a forward marker line. Checked by hand rather than with one case-insensitive
/// regex: the regex's Unicode case folding made it a third of the cost of reading a mail.
fn is_marker(line: &str) -> bool {
    let t = line.trim_matches([' ', '\t', '\r']);
    // The longest marker is under 60 characters; anything much longer is prose.
    if t.len() > 96 {
        return false;
    }
    if let Some(rest) = t.strip_prefix("--") {
        let words =
            rest.trim_start_matches('-').trim_matches([' ', '\t']).trim_end_matches('-').trim_end_matches([' ', '\t']);
        return words.len() <= 40 && DASHED_MARKERS.contains(&words.to_lowercase().as_str());
    }
    match t.strip_suffix(':') {
        Some(words) => COLON_MARKERS.contains(&words.trim_end().to_lowercase().as_str()),
        None => false,
    }
}

/// The labels of the block's header lines, lower-cased.
const LABELS: &[(&str, Field)] = &[
    ("from", Field::From),
    ("de", Field::From),
    ("von", Field::From),
    ("da", Field::From),
    ("date", Field::Date),
    ("datum", Field::Date),
    ("fecha", Field::Date),
    ("data", Field::Date),
    ("sent", Field::Date),
    ("envoyé", Field::Date),
    ("envoye", Field::Date),
    ("gesendet", Field::Date),
    ("enviado", Field::Date),
    ("enviada", Field::Date),
    ("inviato", Field::Date),
    ("subject", Field::Subject),
    ("objet", Field::Subject),
    ("betreff", Field::Subject),
    ("asunto", Field::Subject),
    ("oggetto", Field::Subject),
    ("assunto", Field::Subject),
    ("to", Field::Other),
    ("à", Field::Other),
    ("a", Field::Other),
    ("an", Field::Other),
    ("para", Field::Other),
    ("cc", Field::Other),
    ("reply-to", Field::Other),
    ("répondre à", Field::Other),
];

/// Whether the line's first letter can start a sender label (`From`, `De`, `Von`, `Da`): most
/// lines are ruled out by one byte.
fn starts_from_label(line: &str) -> bool {
    line.trim_start_matches([' ', '\t']).bytes().next().is_some_and(|b| matches!(b | 0x20, b'f' | b'd' | b'v'))
}

/// A header line of the block: label, optional space before the colon (French), value.
fn header(line: &str) -> Option<(Field, &str)> {
    let (label, value) = line.split_once(':')?;
    let label = label.trim_matches([' ', '\t']);
    // The longest label is 10 characters (12 bytes); most lines fail here, without lower-casing.
    if label.is_empty() || label.len() > 12 {
        return None;
    }
    let lower = label.to_lowercase();
    let field = LABELS.iter().find(|(l, _)| *l == lower)?.1;
    Some((field, value.trim_start_matches([' ', '\t'])))
}

static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+").expect("address pattern compiles"));

#[derive(Clone, Copy, PartialEq)]
enum Field {
    From,
    Date,
    Subject,
    Other,
}

/// The innermost forward block in `text`, if any.
pub(crate) fn unwrap(text: &str) -> Option<Block> {
    // A forward's marker sits under the forwarder's few lines: only the head is searched for it.
    let head = &text[..floor_char_boundary(text, HEAD)];
    // After a marker line, the block starts at the next header line; without one, a run of
    // header lines with both a sender and a subject is the block (Outlook, mail-client exports).
    // One pass over the lines finds both.
    let mut marker = None;
    let mut from_lines = Vec::new();
    let mut start = 0;
    for line in crate::find::split_lines(text) {
        let end = start + line.len();
        if end <= head.len() && is_marker(line) {
            marker = Some(end);
        }
        if marker.is_none() && starts_from_label(line) && header(line).is_some_and(|(f, _)| f == Field::From) {
            from_lines.push(start);
        }
        start = end + 1;
    }
    let starts = match marker {
        Some(end) => vec![end],
        None => from_lines,
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
            let resumes = text[pos..].lines().find(|l| !l.trim().is_empty()).is_some_and(|l| header(l).is_some());
            if seen > 0 && !resumes {
                break;
            }
            continue;
        }
        match header(line) {
            Some((f, value)) => {
                seen += 1;
                let value = value.trim();
                last = f;
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
