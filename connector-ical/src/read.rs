//! A feed read event by event: [`FeedEvents`] yields each classified event (or the reason one was
//! skipped) as it reaches it, so a feed of any size costs its bytes and little more.
//!
//! Four rules look across events: the producer (PRODID, or every UID in an OTA's domain), the
//! producer's fetch date (the first DTSTAMP), the occurrences of a series that other events move
//! (`RECURRENCE-ID`), and the newest revision of a UID that occurs more than once. A first pass
//! over the lines, without parsing the events, settles the first three and counts the UIDs. The
//! second pass parses and classifies; an event whose UID the first pass saw more than once is held
//! back until the end, where the newest revision of each such UID is released.

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
    /// By UID, the `RECURRENCE-ID`s of the events that move one occurrence of a series.
    moved: FxHashMap<String, Vec<Prop>>,
}

fn uid_key(uid: &str) -> u64 {
    FxBuildHasher.hash_one(uid)
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len() && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Reads only the lines that can be a UID, a DTSTAMP, a PRODID, a RECURRENCE-ID or an event's
/// BEGIN/END, without parsing the events: every UID line counts, so a UID the second pass finds
/// once in an event is unique (a UID line read twice, or one in a nested component, only holds
/// events back).
fn survey(mut lines: Lines<'_>, requested: FeedSource) -> Survey {
    let mut uids: FxHashMap<u64, u32> = FxHashMap::default();
    let (mut fetched, mut prodid) = (None, None);
    // Whether every UID (as sent) is in the airbnb.com / booking.com domain.
    let (mut any, mut airbnb, mut booking) = (false, true, true);
    let mut moved: FxHashMap<String, Vec<Prop>> = FxHashMap::default();
    // Inside a VEVENT: its UID and RECURRENCE-ID so far.
    let mut in_event: Option<(Option<String>, Option<Prop>)> = None;
    let wanted = |l: &str| {
        matches!(l.as_bytes().first().map(u8::to_ascii_uppercase), Some(b'U' | b'D' | b'P' | b'R' | b'B' | b'E'))
    };
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
                if let Some((slot @ None, _)) = &mut in_event {
                    *slot = Some(uid.trim().to_owned());
                }
            }
        } else if fetched.is_none() && name.eq_ignore_ascii_case("DTSTAMP") {
            fetched = quick_prop(&line).filter(|p| crate::classify::when(p).is_ok());
        } else if prodid.is_none() && name.eq_ignore_ascii_case("PRODID") {
            prodid = Some(value.trim().to_owned());
        } else if name.eq_ignore_ascii_case("RECURRENCE-ID") {
            if let Some((_, rid)) = &mut in_event {
                *rid = quick_prop(&line);
            }
        } else if value.trim().eq_ignore_ascii_case("VEVENT") {
            if name.eq_ignore_ascii_case("BEGIN") {
                in_event = Some((None, None));
            } else if name.eq_ignore_ascii_case("END")
                && let Some((Some(uid), Some(rid))) = in_event.take()
            {
                moved.entry(uid).or_default().push(rid);
            }
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
    Survey { source, fetched, uids, moved }
}

/// An event whose UID occurs more than once, waiting for the end of the feed.
struct Held {
    uid: String,
    /// What its revisions compete under: the UID, and the `RECURRENCE-ID` of an event that moves
    /// one occurrence of a series (which never competes with the series itself).
    key: String,
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
    /// By UID, the original first nights of the occurrences other events move.
    moved: FxHashMap<String, Vec<NaiveDate>>,
    /// Items released together (a series' occurrences), handed out one by one.
    pending: std::collections::VecDeque<FeedItem>,
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
        let Survey { source, fetched, uids, moved } = survey(lines.clone(), opts.reading.source);
        let moved = moved
            .into_iter()
            .map(|(uid, ids)| {
                let dates = ids.iter().filter_map(|p| crate::classify::when(p).ok());
                (uid, dates.map(|w| crate::classify::to_date(&w, opts)).collect())
            })
            .collect();
        Self {
            split: Splitter::new(lines),
            opts: opts.clone(),
            source,
            horizon: classify::horizon(opts, fetched.as_ref()),
            uids,
            moved,
            pending: std::collections::VecDeque::new(),
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

    fn name(&mut self, mut ev: FeedEvent) -> FeedItem {
        let n = self.identities.entry(ev.identity.clone()).or_default();
        *n += 1;
        if *n > 1 {
            ev.identity = format!("{}:{}:{n}", ev.identity, ev.arrival);
        }
        FeedItem::Event(ev)
    }

    fn release(&mut self, verdict: Verdict, uid: Option<String>, line: usize) -> Option<FeedItem> {
        match verdict {
            Verdict::Event(ev) => Some(self.name(ev)),
            Verdict::Series(events, note) => {
                for ev in events {
                    let item = self.name(ev);
                    self.pending.push_back(item);
                }
                if let Some(reason) = note {
                    self.pending.push_back(FeedItem::Skipped(Skipped { reason, uid, line: Some(line) }));
                }
                self.pending.pop_front()
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
            let slot = newest.entry(h.key.as_str()).or_insert(&h.revision);
            if h.revision > **slot {
                *slot = &h.revision;
            }
        }
        let current: Vec<bool> = held.iter().map(|h| newest.get(h.key.as_str()) == Some(&&h.revision)).collect();
        let mut tail = Vec::new();
        for (h, current) in held.into_iter().zip(current) {
            if !current {
                let reason = format!("an older revision of UID {}", h.uid);
                tail.push(FeedItem::Skipped(Skipped { reason, uid: Some(h.uid), line: Some(h.line) }));
            } else if let Some(item) = self.release(h.verdict, Some(h.uid), h.line) {
                // A series' other occurrences wait in `pending`: they follow its first, here.
                tail.push(item);
                tail.extend(self.pending.drain(..));
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
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
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
            let cx = Context { opts: &self.opts, source: self.source, horizon: self.horizon, moved: &self.moved };
            let verdict = classify_event(&e, uid.as_deref(), &cx);
            match uid {
                Some(uid) if shared => {
                    let (seq, stamp) = revision(&e);
                    let key = match e.get("RECURRENCE-ID") {
                        Some(rid) => format!("{uid}\u{1f}{}", rid.value.trim()),
                        None => uid.clone(),
                    };
                    self.held.push(Held { uid, key, revision: (seq, stamp.to_owned()), line, verdict });
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
    fn a_recurring_closure_is_read_occurrence_by_occurrence_with_its_moved_one() {
        let series = "BEGIN:VEVENT\r\nUID:clean@host\r\nDTSTAMP:20261201T080000Z\r\nSUMMARY:Blocked for cleaning\r\n\
            DTSTART;VALUE=DATE:20261207\r\nDTEND;VALUE=DATE:20261208\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n\
            EXDATE;VALUE=DATE:20261214\r\nEND:VEVENT\r\n";
        // The occurrence of the 21st moved to the 22nd, with a higher SEQUENCE than the series.
        let moved = "BEGIN:VEVENT\r\nUID:clean@host\r\nSEQUENCE:2\r\nRECURRENCE-ID;VALUE=DATE:20261221\r\n\
            SUMMARY:Blocked for cleaning\r\nDTSTART;VALUE=DATE:20261222\r\nDTEND;VALUE=DATE:20261223\r\nEND:VEVENT\r\n";
        let unreadable = "BEGIN:VEVENT\r\nUID:odd@host\r\nSUMMARY:Blocked\r\nDTSTART;VALUE=DATE:20261207\r\n\
            DTEND;VALUE=DATE:20261208\r\nRRULE:FREQ=FORTNIGHTLY\r\nEND:VEVENT\r\n";
        let bytes = feed(&[series.to_owned(), moved.to_owned(), unreadable.to_owned()]);
        let f = read_feed(&bytes, &opts());
        let got: Vec<(String, String)> =
            f.events.iter().map(|e| (e.identity.clone(), format!("{}/{}", e.arrival, e.departure))).collect();
        let want = [
            ("uid:odd@host", "2026-12-07/2026-12-08"),
            ("uid:clean@host:2026-12-07", "2026-12-07/2026-12-08"),
            ("uid:clean@host:2026-12-28", "2026-12-28/2026-12-29"),
            ("uid:clean@host:2026-12-21", "2026-12-22/2026-12-23"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_owned(), b.to_owned())), "{:?}", f.skipped);
        assert_eq!(f.skipped.len(), 1, "{:?}", f.skipped);
        assert!(
            f.skipped[0].reason.contains("FORTNIGHTLY")
                && f.skipped[0].reason.contains("only the occurrence on 2026-12-07")
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
