//! From RFC 822 bytes to the text a template reads: MIME decoded by mail-parser (multipart,
//! quoted-printable, base64, legacy charsets, attached `message/rfc822`), the plain part preferred
//! and HTML converted when there is none, then the forward unwrapped.

use chrono::NaiveDate;
use mail_parser::{Message, MessageParser, PartType};
use serde::{Deserialize, Serialize};

use crate::error::MessageError;
use crate::{forward, html};

/// The most body text a template scans: booking details sit in the first screens, and a cap keeps
/// a pathological message's cost bounded.
const MAX_TEXT: usize = 512 * 1024;

/// Where the text that was read came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BodySource {
    /// A `text/plain` part.
    Plain,
    /// A `text/html` part converted to text (HTML-only mail).
    Html,
    /// No body at all.
    None,
}

/// What a message says about itself, after a forward was unwrapped: the original sender, subject
/// and date, not the forwarder's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The outer `Message-ID`, when present.
    pub message_id: Option<String>,
    /// The original sender's address, lower case.
    pub from: Option<String>,
    /// The original sender's display name.
    pub from_name: Option<String>,
    /// The original subject, without `Fwd:`/`TR:`/`WG:` prefixes.
    pub subject: Option<String>,
    /// The day the original was sent (in the sender's offset): the reference for years that the
    /// body leaves out.
    pub sent: Option<NaiveDate>,
    /// The outer sender when the message was forwarded (the owner's address), else `None`.
    pub forwarded_by: Option<String>,
    /// The original is a reply in a message thread (its subject starts `Re:`, `AW:`, `SV:`…).
    #[serde(default)]
    pub reply: bool,
    /// Which part the text came from.
    pub body: BodySource,
}

/// A message ready for the templates.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub envelope: Envelope,
    /// The original's body as normalized text (forward header block removed).
    pub text: String,
}

/// Decodes `bytes` into a [`Mail`], refusing messages over `max_bytes`.
pub(crate) fn read(bytes: &[u8], max_bytes: usize) -> Result<Mail, MessageError> {
    if bytes.len() > max_bytes {
        return Err(MessageError::TooLarge { size: bytes.len(), limit: max_bytes });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(MessageError::Malformed { reason: "the message is empty".into() });
    }
    // mail-parser 0.11 panics on some malformed multipart nesting ("Invalid part ID", found by
    // fuzzing); a hostile mail must be an error, not a crash of the host. (With `panic = "abort"`
    // this cannot help; mail-parser 1.x needs a newer compiler than this workspace targets.)
    let outer = std::panic::catch_unwind(|| MessageParser::default().parse(bytes))
        .map_err(|_| MessageError::Malformed { reason: "MIME structure the parser cannot follow".into() })?
        .ok_or_else(|| MessageError::Malformed { reason: "not an RFC 822 message".into() })?;
    if outer.from().is_none() && outer.subject().is_none() && outer.date().is_none() && body_of(&outer).1.is_empty() {
        return Err(MessageError::Malformed { reason: why_unreadable(bytes) });
    }
    let message_id = outer.message_id().map(str::to_owned);
    let (outer_from, _) = address(&outer);

    // Forwarded as an attachment: the attached message is the original, headers and all.
    let attached = outer.attachments().find_map(|p| match &p.body {
        PartType::Message(m) => Some(m),
        _ => None,
    });
    let (msg, forwarded_by) = match attached {
        Some(inner) => (inner, outer_from.clone()),
        None => (&outer, None),
    };
    let (from, from_name) = address(msg);
    let (body, raw) = body_of(msg);
    let mut envelope = Envelope {
        message_id,
        from,
        from_name,
        subject: msg.subject().map(strip_forward_prefix),
        reply: msg.subject().is_some_and(is_reply),
        sent: msg.date().and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
        forwarded_by,
        body,
    };
    let mut text = normalize(&raw);
    if let Some(block) = forward::unwrap(&text) {
        if envelope.forwarded_by.is_none() {
            envelope.forwarded_by = envelope.from.take();
        }
        // The block's sender replaces the envelope's whole: a bare address has no name.
        envelope.from_name = block.from_name;
        envelope.from = block.from;
        if let Some(s) = &block.subject {
            envelope.reply = is_reply(s);
        }
        envelope.subject = block.subject.map(|s| strip_forward_prefix(&s)).or(envelope.subject);
        envelope.sent = block.sent.or(envelope.sent);
        text = block.body;
    }
    Ok(Mail { envelope, text })
}

fn address(m: &Message<'_>) -> (Option<String>, Option<String>) {
    let first = m.from().and_then(|a| a.first());
    (
        first.and_then(|a| a.address()).map(|a| a.trim().to_ascii_lowercase()),
        first.and_then(|a| a.name()).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
    )
}

/// Why a message gave neither a sender, a subject, a date nor a body, in words that are true of
/// this message: what its header block holds, and what is wrong with its body.
fn why_unreadable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = match text.find("\r\n\r\n").map(|i| (i, 4)).or_else(|| text.find("\n\n").map(|i| (i, 2))) {
        Some((i, sep)) => (&text[..i], &text[i + sep..]),
        None => (text.as_ref(), ""),
    };
    let header_lines = head
        .lines()
        .filter(|l| {
            l.split_once(':').is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()))
        })
        .count();
    let mut facts = vec![if header_lines == 0 {
        "no header lines before the first blank line".to_owned()
    } else {
        format!("{header_lines} header line(s), but no From, Subject or Date that can be read")
    }];
    facts.push(match boundary(head) {
        Some(b) if boundary(body).as_deref() == Some(b.as_str()) => {
            format!("nested parts reuse the same boundary (`{}`), so no part can be told apart", short(&b))
        }
        Some(b) if !body.contains(&format!("--{b}")) => {
            format!("the multipart boundary (`{}`) never appears in the body", short(&b))
        }
        Some(_) => "no text or HTML part could be decoded".to_owned(),
        None if body.trim().is_empty() => "an empty body".to_owned(),
        None => "a body in no text form that can be decoded".to_owned(),
    });
    facts.join("; ")
}

/// The first `boundary=` parameter in `text`, unquoted.
fn boundary(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("boundary=")? + "boundary=".len();
    let rest = &text[at..];
    let value = match rest.strip_prefix('"') {
        Some(q) => q.split('"').next()?,
        None => rest.split(|c: char| c == ';' || c.is_whitespace()).next()?,
    };
    (!value.is_empty()).then(|| value.to_owned())
}

fn short(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() { format!("{cut}…") } else { cut }
}

/// The plain part, or the HTML part as text when there is no plain part worth reading (some
/// senders put only "view this mail in a browser" there).
fn body_of(m: &Message<'_>) -> (BodySource, String) {
    let plain = m.text_bodies().find_map(|p| match &p.body {
        PartType::Text(t) => Some(t.as_ref()),
        _ => None,
    });
    let html = m.html_bodies().find_map(|p| match &p.body {
        PartType::Html(h) => Some(h.as_ref()),
        _ => None,
    });
    match (plain, html) {
        (Some(p), Some(h)) if p.trim().len() < 64 => (BodySource::Html, html::to_text(cap(h, MAX_TEXT * 4))),
        (Some(p), _) => (BodySource::Plain, cap(p, MAX_TEXT).to_owned()),
        (None, Some(h)) => (BodySource::Html, html::to_text(cap(h, MAX_TEXT * 4))),
        (None, None) => (BodySource::None, String::new()),
    }
}

fn cap(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether a subject, under any forward prefixes, is a reply's (`Re:`, `AW:`, `SV:`, `Antw:`,
/// `Odp:`, `RIF:`, `Ynt:`).
fn is_reply(subject: &str) -> bool {
    let mut s = subject.trim();
    loop {
        let lower = s.to_lowercase();
        if ["re:", "aw:", "sv:", "antw:", "odp:", "rif:", "ynt:", "vs:"].iter().any(|p| lower.starts_with(p)) {
            return true;
        }
        match ["fwd:", "fw:", "tr:", "wg:", "rv:", "i:", "enc:"].iter().find(|p| lower.starts_with(**p)) {
            Some(p) => s = s[p.len()..].trim_start(),
            None => return false,
        }
    }
}

/// `Fwd: TR: Réservation confirmée` → `Réservation confirmée`.
fn strip_forward_prefix(s: &str) -> String {
    let mut s = s.trim();
    loop {
        let lower = s.to_lowercase();
        let Some(p) =
            ["fwd:", "fw:", "tr:", "wg:", "rv:", "i:", "enc:", "re:", "aw:"].iter().find(|p| lower.starts_with(**p))
        else {
            return s.to_owned();
        };
        s = s[p.len()..].trim_start();
    }
}

/// Line endings to `\n`, no-break and zero-width spaces to spaces, quoting (`> `) and the
/// asterisks of plain-text bold (`*Guest:*`) removed, lines trimmed, at most one blank line in a row.
pub(crate) fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank = usize::MAX;
    for line in crate::find::split_lines(raw) {
        let mut line = line.trim_end_matches('\r').trim_start();
        while let Some(rest) = line.strip_prefix('>') {
            line = rest.trim_start();
        }
        let start = out.len();
        // Most lines hold none of the characters that need work: copy those whole.
        // (0xC2, 0xE2 and 0xEF lead the UTF-8 of the no-break and zero-width spaces.)
        let b = line.as_bytes();
        if memchr::memchr3(b'*', b'\r', 0xC2, b).is_some() || memchr::memchr2(0xE2, 0xEF, b).is_some() {
            clean_line(line, &mut out);
        } else {
            out.push_str(line);
        }
        let kept = out[start..].trim_end_matches([' ', '\t', '\u{a0}']).len();
        out.truncate(start + kept);
        if kept == 0 {
            blank = blank.saturating_add(1);
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.trim().is_empty() {
        out.clear();
    }
    out
}

fn clean_line(line: &str, out: &mut String) {
    let mut prev: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{a0}' | '\u{202f}' | '\u{2007}' => out.push(' '),
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\r' => {}
            '*' => {
                let edge = |x: Option<&char>| x.is_none_or(|c| c.is_whitespace() || *c == ':');
                if !(edge(prev.as_ref()) || edge(chars.peek())) {
                    out.push('*');
                }
            }
            c => out.push(c),
        }
        prev = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_plain_text_bold_and_quotes() {
        assert_eq!(normalize("> *Reservation ID: *2511634261\r\n> > x\r\n"), "Reservation ID: 2511634261\nx\n");
        assert_eq!(normalize("250,000.00*2"), "250,000.00*2\n", "a multiplication is not bold");
    }

    #[test]
    fn forward_prefixes_go() {
        assert_eq!(strip_forward_prefix("Fwd: TR: Réservation confirmée"), "Réservation confirmée");
        assert_eq!(strip_forward_prefix("Booking.com - New booking!"), "Booking.com - New booking!");
    }
}
