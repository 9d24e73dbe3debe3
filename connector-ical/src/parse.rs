//! From raw bytes to events: tolerant of everything real feeds do (CRLF, LF and lone CR, a BOM,
//! NUL and control bytes, folded lines, blank lines, repeated headers, several VCALENDARs, missing
//! ENDs, stray lines, bare VEVENTs). Each VEVENT is parsed on its own with the `icalendar` crate,
//! so one broken event is reported and skipped while the feed yields the rest. Never panics.

use std::borrow::Cow;

use icalendar::parser::read_calendar_simple;

pub(crate) use crate::lines::Lines;
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
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
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

fn begin_end(line: &str) -> Option<(bool, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim();
    let begin = name.eq_ignore_ascii_case("BEGIN");
    (begin || name.eq_ignore_ascii_case("END")).then(|| (begin, value.trim()))
}

/// A content line's name, parameters and value, split at the first colon outside double quotes
/// (a quoted parameter value may hold one), without parsing further.
pub(crate) fn content_line(line: &str) -> Option<(&str, &str, &str)> {
    let mut quoted = false;
    let colon = line.bytes().position(|b| {
        quoted ^= b == b'"';
        b == b':' && !quoted
    })?;
    let head = &line[..colon];
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    Some((name.trim(), params, &line[colon + 1..]))
}

/// A content line as a property, read without the `icalendar` crate (for the few a feed's survey
/// needs before its events are parsed).
pub(crate) fn quick_prop(line: &str) -> Option<Prop> {
    let (name, params, value) = content_line(line)?;
    let mut quoted = false;
    let params = params
        .split(|c: char| {
            quoted ^= c == '"';
            c == ';' && !quoted
        })
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (param_key(k), v.trim().trim_matches('"').to_owned()))
        .collect();
    Some(Prop { name: prop_name(name), params, value: value.to_owned() })
}

/// The first UID in an event's lines, unescaped and trimmed, without parsing the event.
pub(crate) fn quick_uid<L: AsRef<str>>(lines: &[(usize, L)]) -> Option<String> {
    lines.iter().find_map(|(_, l)| {
        let (name, _, value) = content_line(l.as_ref())?;
        name.eq_ignore_ascii_case("UID").then(|| unescape(value.trim()).trim().to_owned()).filter(|v| !v.is_empty())
    })
}

/// Parses one VEVENT's lines with the `icalendar` crate, in `doc` (a buffer reused across events).
pub(crate) fn parse_event<L: AsRef<str>>(
    start: usize,
    lines: &[(usize, L)],
    doc: &mut String,
) -> Result<RawEvent, Skipped> {
    // CRLF, as RFC 5545 writes it: the icalendar parser backtracks far more on bare LF, with a cost
    // that grows with the document (a whole 10,000-event feed: 17 s with LF, 70 ms with CRLF).
    doc.clear();
    doc.push_str("BEGIN:VEVENT\r\n");
    for (_, l) in lines {
        doc.push_str(l.as_ref());
        doc.push_str("\r\n");
    }
    doc.push_str("END:VEVENT\r\n");
    // The parser's plain errors: its verbose ones cost an allocation on every branch it tries,
    // and an unreadable event is explained by `diagnose`, not by the parser's message.
    let components = read_calendar_simple(doc).map_err(|_| Skipped {
        reason: diagnose(start, lines),
        uid: quick_uid(lines),
        line: Some(start),
    })?;
    let comp = components
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
fn diagnose<L: AsRef<str>>(start: usize, lines: &[(usize, L)]) -> String {
    let name_ok = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    for (n, line) in lines {
        let Some((head, _)) = line.as_ref().split_once(':') else { continue };
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

/// One event's lines, as the splitter found them.
pub(crate) struct EventLines<'a> {
    /// The line of its `BEGIN:VEVENT`.
    pub start: usize,
    /// Its property lines (nested components left out), numbered.
    pub lines: Vec<(usize, Cow<'a, str>)>,
}

/// What splitting a feed yields, in feed order.
pub(crate) enum Piece<'a> {
    Event(EventLines<'a>),
    Skipped(Skipped),
}

/// Splits a feed into its events as it reads it: tolerant of line noise, repeated or missing
/// BEGIN/END lines, several calendars and bare events. Components nested in an event (VALARM)
/// are left out whole. Keeps the calendar's own PRODID and `X-WR-TIMEZONE`.
pub(crate) struct Splitter<'a> {
    lines: Lines<'a>,
    current: Option<EventLines<'a>>,
    nested: Vec<String>,
    /// The last event's line buffer, handed back to be reused: a feed has thousands of events.
    spare: Vec<(usize, Cow<'a, str>)>,
    pub prodid: Option<String>,
    pub calendar_timezone: Option<String>,
}

fn not_a_property(n: usize) -> Skipped {
    Skipped { reason: format!("line {n} is not a property (no ':')"), uid: None, line: Some(n) }
}

fn trim_end(line: Cow<'_, str>) -> Cow<'_, str> {
    match line {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_end()),
        Cow::Owned(mut s) => {
            s.truncate(s.trim_end().len());
            Cow::Owned(s)
        }
    }
}

impl<'a> Splitter<'a> {
    pub(crate) fn new(lines: Lines<'a>) -> Self {
        Self { lines, current: None, nested: Vec::new(), spare: Vec::new(), prodid: None, calendar_timezone: None }
    }

    /// Hands an event's line buffer back for the next event.
    pub(crate) fn recycle(&mut self, mut lines: Vec<(usize, Cow<'a, str>)>) {
        lines.clear();
        self.spare = lines;
    }

    fn open(&mut self, start: usize) -> Option<EventLines<'a>> {
        self.current.replace(EventLines { start, lines: std::mem::take(&mut self.spare) })
    }

    fn calendar_property(&mut self, n: usize, line: &str) -> Option<Skipped> {
        let Some((name, value)) = line.split_once(':') else { return Some(not_a_property(n)) };
        let name = name.split(';').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("PRODID") && self.prodid.is_none() {
            self.prodid = Some(value.trim().to_owned());
        } else if name.eq_ignore_ascii_case("X-WR-TIMEZONE") && self.calendar_timezone.is_none() {
            self.calendar_timezone = Some(value.trim().to_owned());
        }
        None
    }
}

impl<'a> Iterator for Splitter<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        while let Some((n, raw)) = self.lines.next() {
            let line = trim_end(raw);
            if line.trim().is_empty() {
                continue;
            }
            if let Some((begin, what)) = begin_end(&line) {
                if self.current.is_some() && !self.nested.is_empty() {
                    if begin {
                        self.nested.push(what.to_owned());
                    } else if self.nested.last().is_some_and(|n| n.eq_ignore_ascii_case(what)) {
                        self.nested.pop();
                    }
                    continue;
                }
                let event = what.eq_ignore_ascii_case("VEVENT");
                let calendar = what.eq_ignore_ascii_case("VCALENDAR");
                match (begin, self.current.is_some()) {
                    // A new event before the last one ended: the last is complete enough.
                    (true, _) if event => {
                        if let Some(closed) = self.open(n) {
                            return Some(Piece::Event(closed));
                        }
                    }
                    (false, true) if event || calendar => return self.current.take().map(Piece::Event),
                    (true, true) => self.nested.push(what.to_owned()),
                    _ => {}
                }
                continue;
            }
            if self.current.is_some() && !self.nested.is_empty() {
                continue;
            }
            match self.current.as_mut() {
                Some(ev) if line.contains(':') => ev.lines.push((n, line)),
                Some(_) => return Some(Piece::Skipped(not_a_property(n))),
                None => {
                    if let Some(skipped) = self.calendar_property(n, &line) {
                        return Some(Piece::Skipped(skipped));
                    }
                }
            }
        }
        self.current.take().map(Piece::Event)
    }
}

/// Splits a feed into events and parses each (the whole feed at once; [`crate::FeedEvents`]
/// reads a feed event by event).
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut split = Splitter::new(Lines::new(bytes));
    let mut out = Parsed::default();
    let mut doc = String::new();
    while let Some(piece) = split.next() {
        match piece {
            Piece::Skipped(s) => out.skipped.push(s),
            Piece::Event(ev) => {
                match read_event(&ev, &mut doc) {
                    Ok(e) => out.events.push(e),
                    Err(s) => out.skipped.push(s),
                }
                split.recycle(ev.lines);
            }
        }
    }
    out.prodid = split.prodid;
    out.calendar_timezone = split.calendar_timezone;
    out
}

/// One event's lines, parsed; an empty event is skipped with a reason.
pub(crate) fn read_event(ev: &EventLines<'_>, doc: &mut String) -> Result<RawEvent, Skipped> {
    if ev.lines.is_empty() {
        return Err(Skipped { reason: "empty event".into(), uid: None, line: Some(ev.start) });
    }
    parse_event(ev.start, &ev.lines, doc)
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
