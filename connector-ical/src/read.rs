//! A feed read event by event: [`FeedEvents`] yields each classified event (or the reason one was
//! skipped) as it reaches it, so a feed of any size costs its bytes and little more.
//!
//! Three rules look across events: the producer (PRODID, or every UID in an OTA's domain), the
//! producer's fetch date (the first DTSTAMP) and the newest revision of a UID that occurs more than
//! once. A first pass over the lines, without parsing the events, settles the first two and counts
//! the UIDs. The second pass parses and classifies; an event whose UID the first pass saw more
//! than once is held back until the end, where the newest revision of each such UID is released.

use std::hash::BuildHasher;

use chrono::NaiveDate;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::classify::{Context, FeedEvent, FeedOptions, FeedSource, Verdict, classify_event, detect, revision};
use crate::lines::Lines;
use crate::parse::{Piece, Prop, Skipped, Splitter, content_line, quick_prop, quick_uid, read_event, unescape};
use crate::{Feed, classify};

/// One thing a feed says, in feed order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedItem {
    /// A classified event.
    Event(FeedEvent),
    /// Something that could not be used, and why.
    Skipped(Skipped),
}

/// What the first pass learns about a feed.
struct Survey {
    source: FeedSource,
    fetched: Option<Prop>,
    /// How many events carry each UID, by the UID's hash: a collision only holds an event back.
    uids: FxHashMap<u64, u32>,
}

fn uid_key(uid: &str) -> u64 {
    FxBuildHasher.hash_one(uid)
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len() && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Reads only the lines that can be a UID, a DTSTAMP or a PRODID, without splitting the feed into
/// events: every UID line counts, so a UID the second pass finds once in an event is unique (a
/// UID line read twice, or one in a nested component, only holds events back).
fn survey(mut lines: Lines<'_>, requested: FeedSource) -> Survey {
    let mut uids: FxHashMap<u64, u32> = FxHashMap::default();
    let (mut fetched, mut prodid) = (None, None);
    // Whether every UID (as sent) is in the airbnb.com / booking.com domain.
    let (mut any, mut airbnb, mut booking) = (false, true, true);
    let wanted = |l: &str| matches!(l.as_bytes().first(), Some(b'U' | b'u' | b'D' | b'd' | b'P' | b'p'));
    while let Some(line) = lines.next_where(wanted) {
        let Some((name, _, value)) = content_line(&line) else { continue };
        if name.eq_ignore_ascii_case("UID") {
            let sent = value.trim();
            any = true;
            airbnb &= ends_with_ignore_case(sent, "@airbnb.com");
            booking &= ends_with_ignore_case(sent, "@booking.com");
            // As `quick_uid` reads it.
            let uid = unescape(sent);
            if !uid.trim().is_empty() {
                *uids.entry(uid_key(uid.trim())).or_default() += 1;
            }
        } else if fetched.is_none() && name.eq_ignore_ascii_case("DTSTAMP") {
            fetched = quick_prop(&line).filter(|p| crate::classify::when(p).is_ok());
        } else if prodid.is_none() && name.eq_ignore_ascii_case("PRODID") {
            prodid = Some(value.trim().to_owned());
        }
    }
    let source = match requested {
        FeedSource::Auto => detect(prodid.as_deref(), |domain| {
            any && match domain {
                "@airbnb.com" => airbnb,
                _ => booking,
            }
        }),
        other => other,
    };
    Survey { source, fetched, uids }
}

/// An event whose UID occurs more than once, waiting for the end of the feed.
struct Held {
    uid: String,
    revision: (i64, String),
    line: usize,
    verdict: Verdict,
}

/// A feed's events, classified one by one as the feed is read (see the [module docs](self)).
/// Never panics, whatever the bytes.
pub struct FeedEvents<'a> {
    split: Splitter<'a>,
    opts: FeedOptions,
    source: FeedSource,
    horizon: NaiveDate,
    uids: FxHashMap<u64, u32>,
    /// The `icalendar` crate's input, reused from event to event.
    doc: String,
    held: Vec<Held>,
    same_day: Vec<usize>,
    /// How often each identity was released: a repeated one gets its arrival and count appended.
    identities: FxHashMap<String, usize>,
    /// What the end of the feed releases.
    tail: std::vec::IntoIter<FeedItem>,
    ended: bool,
}

impl std::fmt::Debug for FeedEvents<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedEvents").field("source", &self.source).field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl<'a> FeedEvents<'a> {
    /// Reads `bytes` as a feed (the first pass runs here; events are parsed as they are asked for).
    pub fn new(bytes: &'a [u8], opts: &FeedOptions) -> Self {
        let lines = Lines::new(bytes);
        let Survey { source, fetched, uids } = survey(lines.clone(), opts.reading.source);
        Self {
            split: Splitter::new(lines),
            opts: opts.clone(),
            source,
            horizon: classify::horizon(opts, fetched.as_ref()),
            uids,
            doc: String::new(),
            held: Vec::new(),
            same_day: Vec::new(),
            identities: FxHashMap::default(),
            tail: Vec::new().into_iter(),
            ended: false,
        }
    }

    /// The producer: as configured, or as detected.
    pub fn source(&self) -> FeedSource {
        self.source
    }

    fn release(&mut self, verdict: Verdict, uid: Option<String>, line: usize) -> Option<FeedItem> {
        match verdict {
            Verdict::Event(mut ev) => {
                let n = self.identities.entry(ev.identity.clone()).or_default();
                *n += 1;
                if *n > 1 {
                    ev.identity = format!("{}:{}:{n}", ev.identity, ev.arrival);
                }
                Some(FeedItem::Event(ev))
            }
            Verdict::Skip(reason) => Some(FeedItem::Skipped(Skipped { reason, uid, line: Some(line) })),
            Verdict::SameDay => {
                self.same_day.push(line);
                None
            }
        }
    }

    /// The end of the feed: the held events, each UID's newest revision (SEQUENCE, then
    /// LAST-MODIFIED/DTSTAMP) released and the older ones skipped; then the same-day note.
    fn end(&mut self) {
        self.ended = true;
        let held = std::mem::take(&mut self.held);
        let mut newest: FxHashMap<&str, &(i64, String)> = FxHashMap::default();
        for h in &held {
            let slot = newest.entry(h.uid.as_str()).or_insert(&h.revision);
            if h.revision > **slot {
                *slot = &h.revision;
            }
        }
        let current: Vec<bool> = held.iter().map(|h| newest.get(h.uid.as_str()) == Some(&&h.revision)).collect();
        let mut tail = Vec::new();
        for (h, current) in held.into_iter().zip(current) {
            if !current {
                let reason = format!("an older revision of UID {}", h.uid);
                tail.push(FeedItem::Skipped(Skipped { reason, uid: Some(h.uid), line: Some(h.line) }));
            } else if let Some(item) = self.release(h.verdict, Some(h.uid), h.line) {
                tail.push(item);
            }
        }
        tail.extend(classify::same_day_note(&self.same_day).map(FeedItem::Skipped));
        self.tail = tail.into_iter();
    }
}

impl Iterator for FeedEvents<'_> {
    type Item = FeedItem;

    fn next(&mut self) -> Option<FeedItem> {
        loop {
            if self.ended {
                return self.tail.next();
            }
            let ev = match self.split.next() {
                None => {
                    self.end();
                    continue;
                }
                Some(Piece::Skipped(s)) => return Some(FeedItem::Skipped(s)),
                Some(Piece::Event(ev)) => ev,
            };
            let parsed = read_event(&ev, &mut self.doc);
            // Held back when the first pass saw its UID more than once (or not at all: a UID it
            // read otherwise than the parser did is treated as shared).
            let shared = quick_uid(&ev.lines).is_none_or(|u| self.uids.get(&uid_key(&u)) != Some(&1));
            let line = ev.start;
            self.split.recycle(ev.lines);
            let e = match parsed {
                Ok(e) => e,
                Err(s) => return Some(FeedItem::Skipped(s)),
            };
            let uid = e.get("UID").map(|p| unescape(p.value.trim())).filter(|u| !u.trim().is_empty());
            let uid = uid.map(|u| u.into_owned());
            let cx = Context { opts: &self.opts, source: self.source, horizon: self.horizon };
            let verdict = classify_event(&e, uid.as_deref(), &cx);
            match uid {
                Some(uid) if shared => {
                    let (seq, stamp) = revision(&e);
                    self.held.push(Held { uid, revision: (seq, stamp.to_owned()), line, verdict });
                }
                uid => {
                    if let Some(item) = self.release(verdict, uid, line) {
                        return Some(item);
                    }
                }
            }
        }
    }
}

/// Parses and classifies a feed's bytes, whole. Never panics.
pub fn read_feed(bytes: &[u8], opts: &FeedOptions) -> Feed {
    let items = FeedEvents::new(bytes, opts);
    let mut feed = Feed { source: Some(items.source()), ..Feed::default() };
    for item in items {
        match item {
            FeedItem::Event(e) => feed.events.push(e),
            FeedItem::Skipped(s) => feed.skipped.push(s),
        }
    }
    feed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn event(uid: &str, seq: u32, start: &str, summary: &str) -> String {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{seq}\r\nDTSTART;VALUE=DATE:{start}\r\nDTEND;VALUE=DATE:20270301\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
        )
    }

    fn feed(events: &[String]) -> Vec<u8> {
        format!("BEGIN:VCALENDAR\r\nPRODID:-//x//y//EN\r\n{}END:VCALENDAR\r\n", events.concat()).into_bytes()
    }

    fn opts() -> FeedOptions {
        FeedOptions::new(chrono_tz::Europe::Lisbon).today(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
    }

    #[test]
    fn unique_events_come_in_feed_order_and_a_repeated_uid_keeps_its_newest_parsed_revision() {
        let bytes = feed(&[
            event("a", 2, "20270210", "Reserved - Newer"),
            event("b", 0, "20270211", "Blocked"),
            event("a", 1, "20270201", "Reserved - Older"),
            // The newest revision of `c` does not parse: the older one stands (its stay is not lost).
            event("c", 0, "20270212", "Reserved - Kept"),
            "BEGIN:VEVENT\r\nUID:c\r\nSEQUENCE:5\r\nORGANIZER;CN=a\\; b\\ c:x\r\nEND:VEVENT\r\n".to_owned(),
            event("d", 0, "20270214", "Booked"),
        ]);
        let items: Vec<FeedItem> = FeedEvents::new(&bytes, &opts()).collect();
        let shown: Vec<String> = items
            .iter()
            .map(|i| match i {
                FeedItem::Event(e) => format!("{} {}", e.identity, e.summary.as_deref().unwrap_or("")),
                FeedItem::Skipped(s) => format!("skipped {:?}: {}", s.uid, s.reason),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "uid:b Blocked".to_owned(),
                "skipped Some(\"c\"): line 34: a parameter of ORGANIZER is not `name=value` (a value holding ';', ':' or ',' must be in double quotes)".to_owned(),
                "uid:d Booked".to_owned(),
                "uid:a Reserved - Newer".to_owned(),
                "skipped Some(\"a\"): an older revision of UID a".to_owned(),
                "uid:c Reserved - Kept".to_owned(),
            ],
        );
        let whole = read_feed(&bytes, &opts());
        assert_eq!(whole.events.len(), 4);
        assert_eq!(whole.events.iter().filter(|e| e.kind == EventKind::Reservation).count(), 3);
    }

    #[test]
    fn the_first_pass_reads_quoted_parameters_and_folded_uids_as_the_parser_does() {
        // The fetch date behind a quoted parameter holding a colon, and a folded UID repeated: the
        // second pass must hold both revisions of it.
        let stamped = "BEGIN:VEVENT\r\nDTSTAMP;X-NOTE=\"a:b\":20200101T000000Z\r\nUID:long-\r\n uid@host\r\nSEQUENCE:1\r\nDTSTART;VALUE=DATE:20210301\r\nDTEND;VALUE=DATE:20210305\r\nSUMMARY:Blocked\r\nEND:VEVENT\r\n";
        let again = event("long-uid@host", 0, "20210301", "Blocked");
        let bytes = feed(&[stamped.to_owned(), again]);
        let f = read_feed(&bytes, &opts());
        assert_eq!(f.events.len(), 1, "{f:?}");
        assert!(f.skipped[0].reason.contains("older revision"), "{:?}", f.skipped);
        assert_eq!(content_line("DTSTAMP;X-NOTE=\"a:b\":2020"), Some(("DTSTAMP", "X-NOTE=\"a:b\"", "2020")));
        let p = quick_prop("DTSTART;VALUE=DATE;TZID=\"Europe/Paris\":20260101").unwrap();
        assert_eq!(
            (p.param("VALUE"), p.param("TZID"), p.value.as_str()),
            (Some("DATE"), Some("Europe/Paris"), "20260101")
        );
    }

    #[test]
    fn source_detection_sees_every_event_before_the_first_is_released() {
        let bytes =
            feed(&[event("1@airbnb.com", 0, "20270201", "Reserved"), event("2@airbnb.com", 0, "20270205", "x")]);
        let items = FeedEvents::new(&bytes, &opts());
        assert_eq!(items.source(), FeedSource::Airbnb);
        let bytes = feed(&[event("1@airbnb.com", 0, "20270201", "Reserved"), event("2@other", 0, "20270205", "x")]);
        assert_eq!(FeedEvents::new(&bytes, &opts()).source(), FeedSource::Other);
    }
}
