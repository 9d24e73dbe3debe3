//! From raw bytes to events: tolerant of everything real feeds do (CRLF, LF and lone CR, a BOM,
//! NUL and control bytes, folded lines, blank lines, repeated headers, several VCALENDARs, missing
//! ENDs, stray lines, bare VEVENTs). Each VEVENT is parsed on its own with the `icalendar` crate,
//! so one broken event is reported and skipped while the feed yields the rest. Never panics.

use std::borrow::Cow;

use icalendar::parser::read_calendar;
use serde::{Deserialize, Serialize};

/// Something the parser could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Why.
    pub reason: String,
    /// The event's UID, when it could be read.
    pub uid: Option<String>,
    /// The line (of the unfolded text, 1-based), when known.
    pub line: Option<usize>,
}

/// One property of an event: name (upper case), parameters (upper-case keys), raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    /// Name, upper case (the common names are static: no allocation per event).
    pub name: Cow<'static, str>,
    /// Parameters: key (upper case; the common ones static) and value.
    pub params: Vec<(Cow<'static, str>, String)>,
    /// The value, still escaped.
    pub value: String,
}

impl Prop {
    /// A parameter's value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A VEVENT's properties, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Where it began.
    pub line: usize,
    /// Properties.
    pub props: Vec<Prop>,
}

impl RawEvent {
    /// The first property called `name`.
    pub fn get(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// The first property's unescaped text value.
    pub fn text(&self, name: &str) -> Option<String> {
        let p = self.get(name)?;
        let v = unescape(&p.value);
        let t = v.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

/// A feed, split and parsed.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The first PRODID.
    pub prodid: Option<String>,
    /// `X-WR-TIMEZONE`, when present.
    pub calendar_timezone: Option<String>,
    /// Events.
    pub events: Vec<RawEvent>,
    /// Lines and events that could not be used.
    pub skipped: Vec<Skipped>,
}

/// RFC 5545 TEXT unescaping: `\n`/`\N` newline, `\,` `\;` `\\` literal. Borrows when there is
/// nothing to unescape.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Property names classification reads, kept static so parsing allocates no name for them.
const KNOWN: &[&str] = &[
    "DTSTART",
    "DTEND",
    "DTSTAMP",
    "UID",
    "SUMMARY",
    "DESCRIPTION",
    "STATUS",
    "SEQUENCE",
    "LAST-MODIFIED",
    "DURATION",
    "CREATED",
    "LOCATION",
    "ORGANIZER",
    "URL",
    "CLASS",
    "TRANSP",
];

fn param_key(raw: &str) -> Cow<'static, str> {
    let raw = raw.trim();
    match ["VALUE", "TZID"].iter().find(|k| k.eq_ignore_ascii_case(raw)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(raw.to_ascii_uppercase()),
    }
}

fn prop_name(raw: &str) -> Cow<'static, str> {
    let raw = raw.trim();
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(raw)) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(raw.to_ascii_uppercase()),
    }
}

/// Decodes, drops the BOM and NUL/control bytes, normalizes line ends to LF and unfolds.
pub fn normalize(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // Fast path: CRLF is the only oddity in most real feeds; a byte scan decides.
    let odd = text.bytes().any(|b| b < 0x20 && b != b'\n' && b != b'\t' && b != b'\r');
    let clean = if odd {
        clean_controls(text)
    } else if text.contains('\r') {
        line_ends(text)
    } else {
        text.to_owned()
    };
    unfold(&clean)
}

/// Every line end as one LF: LF, CRLF, a lone CR, and CR CR LF (a real export's, from a CRLF
/// file converted once more) — which read as two line ends would break every folded line.
fn line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            end_of_line(&mut chars);
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// After a CR: swallows the rest of its line end (more CRs, then one LF).
fn end_of_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut ahead = chars.clone();
    while ahead.peek() == Some(&'\r') {
        ahead.next();
    }
    // CR…CR LF is one line end; CRs not followed by LF are each their own (old Mac files).
    if ahead.peek() == Some(&'\n') {
        ahead.next();
        *chars = ahead;
    }
}

/// Drops control characters other than tab, and turns every line end into LF.
fn clean_controls(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                end_of_line(&mut chars);
                clean.push('\n');
            }
            '\n' | '\t' => clean.push(c),
            c if c.is_control() => {}
            c => clean.push(c),
        }
    }
    clean
}

/// Unfolds: a line break followed by one space or tab continues the line (remove both).
fn unfold(clean: &str) -> String {
    let mut out = String::with_capacity(clean.len());
    let mut lines = clean.split('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        while let Some(next) = lines.peek() {
            if let Some(rest) = next.strip_prefix(' ').or_else(|| next.strip_prefix('\t')) {
                out.push_str(rest);
                lines.next();
            } else {
                break;
            }
        }
        out.push('\n');
    }
    out
}

fn begin_end(line: &str) -> Option<(bool, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let begin = name.eq_ignore_ascii_case("BEGIN");
    (begin || name.eq_ignore_ascii_case("END")).then(|| (begin, value.trim()))
}

fn quick_uid(lines: &[(usize, &str)]) -> Option<String> {
    lines.iter().find_map(|(_, l)| {
        let (name, value) = l.split_once(':')?;
        let name = name.split(';').next()?.trim();
        name.eq_ignore_ascii_case("UID").then(|| value.trim().to_owned()).filter(|v| !v.is_empty())
    })
}

/// Parses one VEVENT's lines with the `icalendar` crate, in `doc` (a buffer reused across events).
fn parse_event(start: usize, lines: &[(usize, &str)], doc: &mut String) -> Result<RawEvent, Skipped> {
    // CRLF, as RFC 5545 writes it: the icalendar parser backtracks far more on bare LF, with a cost
    // that grows with the document (a whole 10,000-event feed: 17 s with LF, 70 ms with CRLF).
    doc.clear();
    doc.push_str("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n");
    for (_, l) in lines {
        doc.push_str(l);
        doc.push_str("\r\n");
    }
    doc.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let cal = read_calendar(doc).map_err(|_| Skipped {
        reason: diagnose(start, lines),
        uid: quick_uid(lines),
        line: Some(start),
    })?;
    let comp = cal
        .components
        .into_iter()
        .find(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
        .ok_or_else(|| Skipped { reason: "unreadable event".into(), uid: quick_uid(lines), line: Some(start) })?;
    let props = comp
        .properties
        .iter()
        .map(|p| Prop {
            name: prop_name(p.name.as_str()),
            params: p
                .params
                .iter()
                .map(|x| {
                    (
                        param_key(x.key.as_str()),
                        x.val.as_ref().map(|v| v.as_str().trim_matches('"').to_owned()).unwrap_or_default(),
                    )
                })
                .collect(),
            value: p.val.as_str().to_owned(),
        })
        .collect();
    Ok(RawEvent { line: start, props })
}

/// Says in words what makes an event unreadable, with the line number in the feed (the parser's
/// own message speaks of its internals and of lines relative to the event). Names only: values
/// can hold guests' data.
fn diagnose(start: usize, lines: &[(usize, &str)]) -> String {
    let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    for (n, line) in lines {
        let Some((head, _)) = line.split_once(':') else { continue };
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or("").trim();
        if !name_ok(name) {
            let shown: String = name.chars().take(40).collect();
            return format!("line {n}: `{shown}` is not a property name (letters, digits and '-' only)");
        }
        for param in parts {
            match param.split_once('=') {
                None if param.trim().is_empty() => return format!("line {n}: {name} has an empty parameter (';;')"),
                None => {
                    return format!(
                        "line {n}: a parameter of {name} is not `name=value` (a value holding ';', ':' or ',' must be in double quotes)"
                    );
                }
                Some((key, _)) if !name_ok(key.trim()) => {
                    return format!("line {n}: a parameter of {name} has an invalid name");
                }
                Some(_) => {}
            }
        }
    }
    format!("line {start}: an event whose properties are not valid iCalendar")
}

/// What a document that is not a calendar at all is, in words; `None` for a calendar. A revoked
/// feed URL typically answers with an HTML page, or nothing.
pub fn not_a_calendar(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Some("the response is empty, not an iCalendar file; the feed URL may be revoked".into());
    }
    let has_calendar = text.lines().take(200).any(|l| {
        l.trim()
            .split_once(':')
            .is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("BEGIN") && v.trim().eq_ignore_ascii_case("VCALENDAR"))
    });
    if has_calendar {
        return None;
    }
    let looks_html = text
        .get(..text.len().min(512))
        .is_some_and(|h| h.to_ascii_lowercase().contains("<html") || h.to_ascii_lowercase().contains("<!doctype"));
    Some(if looks_html {
        "not an iCalendar file: an HTML page (no BEGIN:VCALENDAR); the feed URL may be revoked".into()
    } else {
        "not an iCalendar file: no BEGIN:VCALENDAR; the feed URL may be revoked".into()
    })
}

/// Splits a feed into events and parses each.
pub fn parse(bytes: &[u8]) -> Parsed {
    let text = normalize(bytes);
    let mut out = Parsed::default();
    let mut current: Option<(usize, Vec<(usize, &str)>)> = None;
    // Components nested inside an event (VALARM) are skipped whole.
    let mut nested: Vec<&str> = Vec::new();
    // Buffers reused from event to event: a feed has thousands.
    let mut doc = String::new();
    let mut spare: Vec<(usize, &str)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if let Some((begin, what)) = begin_end(line) {
            if current.is_some() && !nested.is_empty() {
                if begin {
                    nested.push(what);
                } else if nested.last().is_some_and(|n| n.eq_ignore_ascii_case(what)) {
                    nested.pop();
                }
                continue;
            }
            let component = if what.eq_ignore_ascii_case("VEVENT") {
                "VEVENT"
            } else if what.eq_ignore_ascii_case("VCALENDAR") {
                "VCALENDAR"
            } else {
                ""
            };
            match (begin, component, current.is_some()) {
                (true, "VEVENT", true) => {
                    // A new event before the last one ended: keep the last, it is complete enough.
                    close(&mut out, &mut current, &mut spare, &mut doc);
                    current = Some((n, std::mem::take(&mut spare)));
                }
                (true, "VEVENT", false) => current = Some((n, std::mem::take(&mut spare))),
                (false, "VEVENT", true) | (false, "VCALENDAR", true) => {
                    close(&mut out, &mut current, &mut spare, &mut doc);
                }
                (true, _, true) => nested.push(what),
                _ => {}
            }
            continue;
        }
        if current.is_some() && !nested.is_empty() {
            continue;
        }
        match current.as_mut() {
            Some((_, lines)) => {
                if line.contains(':') {
                    lines.push((n, line));
                } else {
                    out.skipped.push(Skipped {
                        reason: format!("line {n} is not a property (no ':')"),
                        uid: None,
                        line: Some(n),
                    });
                }
            }
            None => {
                let Some((name, value)) = line.split_once(':') else {
                    out.skipped.push(Skipped {
                        reason: format!("line {n} is not a property (no ':')"),
                        uid: None,
                        line: Some(n),
                    });
                    continue;
                };
                let name = name.split(';').next().unwrap_or("").trim().to_ascii_uppercase();
                match name.as_str() {
                    "PRODID" if out.prodid.is_none() => out.prodid = Some(value.trim().to_owned()),
                    "X-WR-TIMEZONE" if out.calendar_timezone.is_none() => {
                        out.calendar_timezone = Some(value.trim().to_owned())
                    }
                    _ => {}
                }
            }
        }
    }
    close(&mut out, &mut current, &mut spare, &mut doc);
    out
}

/// Parses the open event, if any, and keeps its line buffer for the next one.
fn close<'t>(
    out: &mut Parsed,
    current: &mut Option<(usize, Vec<(usize, &'t str)>)>,
    spare: &mut Vec<(usize, &'t str)>,
    doc: &mut String,
) {
    if let Some((start, mut lines)) = current.take() {
        finish(out, start, &lines, doc);
        lines.clear();
        *spare = lines;
    }
}

fn finish(out: &mut Parsed, start: usize, lines: &[(usize, &str)], doc: &mut String) {
    if lines.is_empty() {
        out.skipped.push(Skipped { reason: "empty event".into(), uid: None, line: Some(start) });
        return;
    }
    match parse_event(start, lines, doc) {
        Ok(e) => out.events.push(e),
        Err(s) => out.skipped.push(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_bom_folding_and_escapes() {
        let feed = "\u{feff}BEGIN:VCALENDAR\rPRODID:x\r\nBEGIN:VEVENT\nUID:a\r\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de\r\n tails/HMYXB825YD\\nPhone Number (Last 4 Digits): 0001\r\nDTSTART;VALUE=DATE:20260824\nEND:VEVENT\r\n";
        let p = parse(feed.as_bytes());
        assert_eq!(p.prodid.as_deref(), Some("x"));
        assert_eq!(p.events.len(), 1);
        assert_eq!(
            p.events[0].text("DESCRIPTION").unwrap(),
            "Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMYXB825YD\nPhone Number (Last 4 Digits): 0001"
        );
        assert_eq!(p.events[0].get("DTSTART").unwrap().param("VALUE"), Some("DATE"));
    }

    #[test]
    fn unreadable_events_are_explained_in_words_with_the_feed_line() {
        let feed = "BEGIN:VCALENDAR\nPRODID:x\nBEGIN:VEVENT\nUID:ok\nDTSTART;VALUE=DATE:20260824\nEND:VEVENT\n\
                    BEGIN:VEVENT\nUID:b\nORGANIZER;CN=that\\, that\\; %th%%at%\\ that\\::это\\, то\\; that\\ %th%%at%\\:\nEND:VEVENT\nEND:VCALENDAR\n";
        let p = parse(feed.as_bytes());
        let reasons: Vec<&str> = p.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(p.events.len(), 1, "{reasons:?}");
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("line 9: a parameter of ORGANIZER is not `name=value`"), "{reasons:?}");
        assert!(!reasons[0].contains("Satisfy") && !reasons[0].contains("это"), "no parser internals, no values");
        // The diagnosis itself, line by line.
        assert_eq!(
            diagnose(3, &[(4, "DT START:1")]),
            "line 4: `DT START` is not a property name (letters, digits and '-' only)"
        );
        assert_eq!(diagnose(3, &[(5, "DTSTART;;VALUE=DATE:1")]), "line 5: DTSTART has an empty parameter (';;')");
        assert_eq!(diagnose(3, &[(5, "UID:1")]), "line 3: an event whose properties are not valid iCalendar");
    }

    #[test]
    fn a_document_that_is_not_a_calendar_says_so() {
        assert_eq!(not_a_calendar(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), None);
        assert_eq!(not_a_calendar("\u{feff}\r\nbegin:vcalendar\n".as_bytes()), None);
        assert!(not_a_calendar(b"").unwrap().contains("empty"));
        assert!(not_a_calendar(b"  \r\n ").unwrap().contains("revoked"));
        let html = not_a_calendar(b"<!DOCTYPE html><html><body>Calendar not found</body></html>").unwrap();
        assert!(html.contains("HTML") && html.contains("revoked"), "{html}");
        assert!(not_a_calendar(b"{\"error\": \"gone\"}").unwrap().contains("no BEGIN:VCALENDAR"));
    }

    #[test]
    fn every_mix_of_line_ends_keeps_folded_lines_whole() {
        let want = normalize(b"A:1\n 2\nB:3\n\nC:4\n");
        assert!(want.starts_with("A:12\nB:3\n\nC:4\n"), "{want:?}");
        // CR CR LF (a CRLF file converted again), CRLF, LF and lone CR, with and without other
        // control bytes (the slow path).
        for text in
            ["A:1\r\r\n 2\r\r\nB:3\r\r\n\rC:4\r\r\n", "A:1\r\n 2\nB:3\r\rC:4\r", "A:1\r\r\n 2\u{1}\nB:3\n\nC:4\r\r\n"]
        {
            assert_eq!(normalize(text.as_bytes()), want, "{text:?}");
        }
        // An Airbnb reservation whose DESCRIPTION is folded, written with CR CR LF: still a reservation.
        let feed = "BEGIN:VCALENDAR\r\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\r\nBEGIN:VEVENT\r\r\nDTSTART;VALUE=DATE:20260824\r\r\nDTEND;VALUE=DATE:20260826\r\r\nSUMMARY:Reserved\r\r\nUID:x@airbnb.com\r\r\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de\r\r\n tails/HMYXB825YD\r\r\nEND:VEVENT\r\r\nEND:VCALENDAR\r\r\n";
        let p = parse(feed.as_bytes());
        assert_eq!(p.events.len(), 1, "{:?}", p.skipped);
        assert!(p.events[0].get("DESCRIPTION").is_some_and(|d| d.value.contains("HMYXB825YD")));
    }

    #[test]
    fn stray_lines_and_broken_events_are_reported_and_the_rest_kept() {
        let feed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nDTSTART:20260101\nEND:VEVENT\nX\nBEGIN:VEVENT\nEND:VEVENT\nBEGIN:VEVENT\nUID:3\nBEGIN:VALARM\nACTION:DISPLAY\nEND:VALARM\nDTSTART:20260105\n";
        let p = parse(feed.as_bytes());
        assert_eq!(p.events.len(), 2, "{p:?}");
        assert_eq!(p.skipped.len(), 2, "{:?}", p.skipped);
        assert!(p.events[1].get("ACTION").is_none(), "nested VALARM lines are not the event's");
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b"\0\0\0"[..],
            b"BeGIN:\0VEVENT",
            b":::\n;;;\n",
            b"BEGIN:VEVENT\nDTSTART;=;=:\n",
            &[0xff, 0xfe, 0x00, 0x41][..],
            b"BEGIN:VEVENT\n \n\t\n",
        ] {
            let _ = parse(input);
        }
    }
}
