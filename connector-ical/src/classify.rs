//! Parsed events → classified feed events: dates by RFC 5545 and the property's zone, kinds and
//! details by source, and identities that survive the OTAs' re-cutting of events between fetches.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use hostelpulse_core::dates::{basic_date, basic_date_time};
use serde::{Deserialize, Serialize};

use crate::parse::{Prop, RawEvent, Skipped};

/// Who produced a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeedSource {
    /// Detect from PRODID and UIDs.
    Auto,
    /// Airbnb host calendar export.
    Airbnb,
    /// Booking.com extranet export.
    BookingCom,
    /// Vrbo / HomeAway (no real export seen: unverified rules).
    Vrbo,
    /// Anything else: generic rules.
    Other,
}

/// How date-time values become dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DateTimeRule {
    /// The date in the property's zone (a 17:00Z check-in is the next day in Asia/Pacific).
    PropertyLocal,
    /// The UTC date (for producers that write all-day stays as midnight UTC).
    UtcDate,
}

/// The per-feed reading switches: who produced it and how its dates are meant. A feed's
/// [`crate::FeedConfig`] holds them; [`FeedOptions`] adds what the whole property shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedReading {
    /// The producer (auto-detected by default).
    pub source: FeedSource,
    /// The feed's end date is the last night, not the check-out day (Beds24 offers such exports).
    pub end_is_last_night: bool,
    /// How date-times become dates.
    pub datetime_rule: DateTimeRule,
    /// An all-day event that ends on the day it starts means that one night is taken (some
    /// scrapers and channel tools mark an occupied day so). Off by default: such events are
    /// skipped, with one feed-level note that names this switch.
    pub same_day_is_one_night: bool,
    /// The longest stay read as a reservation, in nights (default 366): a longer "stay" is a
    /// broken date, skipped with a reason. Closures may be longer (channel "booking window"
    /// blocks run 18 months ahead) up to ten times this.
    pub max_stay_nights: u32,
}

impl Default for FeedReading {
    /// Auto-detected source, property-local dates, exclusive end.
    fn default() -> Self {
        Self {
            source: FeedSource::Auto,
            end_is_last_night: false,
            datetime_rule: DateTimeRule::PropertyLocal,
            same_day_is_one_night: false,
            max_stay_nights: 366,
        }
    }
}

impl FeedReading {
    /// Sets the source.
    pub fn source(mut self, source: FeedSource) -> Self {
        self.source = source;
        self
    }

    /// Treats the end date as the last night.
    pub fn end_is_last_night(mut self, yes: bool) -> Self {
        self.end_is_last_night = yes;
        self
    }

    /// Sets the date-time rule.
    pub fn datetime_rule(mut self, rule: DateTimeRule) -> Self {
        self.datetime_rule = rule;
        self
    }

    /// Sets the longest stay read as a reservation (at least 1 night).
    pub fn max_stay_nights(mut self, nights: u32) -> Self {
        self.max_stay_nights = nights.max(1);
        self
    }

    /// Reads an all-day event that ends on the day it starts as one night.
    pub fn same_day_is_one_night(mut self, yes: bool) -> Self {
        self.same_day_is_one_night = yes;
        self
    }
}

/// How to read a feed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FeedOptions {
    /// The feed's own switches.
    pub reading: FeedReading,
    /// The property's time zone.
    pub timezone: Tz,
    /// The fetch date when the feed carries no DTSTAMP (default: today in the property's zone).
    pub today: Option<NaiveDate>,
}

impl FeedOptions {
    /// Default reading (see [`FeedReading::default`]) in the property's zone.
    pub fn new(timezone: Tz) -> Self {
        Self { reading: FeedReading::default(), timezone, today: None }
    }

    /// Sets the fetch date used when the feed carries no DTSTAMP.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Sets the feed's reading switches.
    pub fn reading(mut self, reading: FeedReading) -> Self {
        self.reading = reading;
        self
    }
}

/// What an event means for occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A guest stay.
    Reservation,
    /// An owner or channel block.
    Block,
    /// Closed without saying why (Booking.com: a stay or a closure).
    Unavailable,
}

/// A classified event. Unknown values are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// Identity within the feed, stable across fetches (see the crate docs).
    pub identity: String,
    /// The event's UID as sent.
    pub uid: Option<String>,
    /// Kind.
    pub kind: EventKind,
    /// First night.
    pub arrival: NaiveDate,
    /// Check-out day.
    pub departure: NaiveDate,
    /// `airbnb`, `booking_com`, `vrbo`, or `None`.
    pub channel: Option<String>,
    /// The channel's reference (Airbnb `HM…` code).
    pub channel_ref: Option<String>,
    /// Guest name, when the feed carries one.
    pub guest_name: Option<String>,
    /// Last four digits of the guest's phone (Airbnb).
    pub phone_last4: Option<String>,
    /// Adults, when the feed says.
    pub adults: Option<u16>,
    /// The event's SUMMARY.
    pub summary: Option<String>,
    /// `STATUS:CANCELLED` in the feed.
    pub cancelled: bool,
}

/// A classified feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    /// The producer, as detected.
    pub source: Option<FeedSource>,
    /// Events.
    pub events: Vec<FeedEvent>,
    /// What was skipped, with reasons.
    pub skipped: Vec<Skipped>,
}

/// The producer, from its exact signatures: the organisation field of PRODID (`-//Airbnb
/// Inc//…`, `-//admin.booking.com…//…`, `-//HomeAway.com…//…`), or every event's UID in the
/// OTA's domain (`uids_in(domain)`). A PRODID that merely mentions an OTA (a third-party sync
/// tool's "Merged Airbnb Calendars") is not the OTA: its events follow the generic rules.
pub(crate) fn detect(prodid: Option<&str>, uids_in: impl Fn(&str) -> bool) -> FeedSource {
    let org = prodid.map(prodid_org).unwrap_or_default().to_lowercase();
    if org == "airbnb inc" || uids_in("@airbnb.com") {
        FeedSource::Airbnb
    } else if org.starts_with("admin.booking.com") || uids_in("@booking.com") {
        FeedSource::BookingCom
    } else if org.starts_with("homeaway") || org.starts_with("vrbo") {
        FeedSource::Vrbo
    } else {
        FeedSource::Other
    }
}

/// The organisation field of a PRODID (`-//Org//Product//Lang`), unescaped; the whole value when
/// it has no such structure.
fn prodid_org(prodid: &str) -> String {
    let v = crate::parse::unescape(prodid.trim());
    let v = v.trim();
    match v.strip_prefix("-//").or_else(|| v.strip_prefix("+//")) {
        Some(rest) => rest.split("//").next().unwrap_or_default().trim().to_owned(),
        None => v.to_owned(),
    }
}

/// Windows zone names seen in Exchange/Outlook exports.
fn windows_zone(name: &str) -> Option<Tz> {
    Some(match name {
        "W. Europe Standard Time" => chrono_tz::Europe::Berlin,
        "Romance Standard Time" => chrono_tz::Europe::Paris,
        "GMT Standard Time" => chrono_tz::Europe::London,
        "Central Europe Standard Time" => chrono_tz::Europe::Budapest,
        "Eastern Standard Time" => chrono_tz::America::New_York,
        "Central Standard Time" => chrono_tz::America::Chicago,
        "Pacific Standard Time" => chrono_tz::America::Los_Angeles,
        "E. South America Standard Time" => chrono_tz::America::Sao_Paulo,
        "Tokyo Standard Time" => chrono_tz::Asia::Tokyo,
        "AUS Eastern Standard Time" => chrono_tz::Australia::Sydney,
        _ => return None,
    })
}

pub(crate) enum When {
    Date(NaiveDate),
    /// An instant (UTC, or a known zone).
    Instant(DateTime<Utc>),
    /// Wall time with no usable zone: read in the property's zone.
    Floating(NaiveDateTime),
}

pub(crate) fn when(p: &Prop) -> Result<When, String> {
    let v = p.value.trim();
    if p.param("VALUE").is_some_and(|x| x.eq_ignore_ascii_case("DATE"))
        || (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        return basic_date(v)
            .or_else(|| NaiveDate::parse_from_str(v, "%Y%m%d").ok())
            .map(When::Date)
            .ok_or_else(|| format!("{} `{v}` is not a date", p.name));
    }
    let (body, utc) = match v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        Some(b) => (b, true),
        None => (v, false),
    };
    let naive = basic_date_time(body)
        .or_else(|| NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").ok())
        .ok_or_else(|| format!("{} `{v}` is not a date or date-time", p.name))?;
    if utc {
        return Ok(When::Instant(naive.and_utc()));
    }
    let zone = p
        .param("TZID")
        .map(|z| z.trim().trim_matches('"').trim())
        .and_then(|z| z.parse::<Tz>().ok().or_else(|| windows_zone(z)));
    match zone {
        Some(tz) => match tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                Ok(When::Instant(t.with_timezone(&Utc)))
            }
            chrono::LocalResult::None => Ok(When::Floating(naive)),
        },
        None => Ok(When::Floating(naive)),
    }
}

pub(crate) fn to_date(w: &When, opts: &FeedOptions) -> NaiveDate {
    match w {
        When::Date(d) => *d,
        When::Instant(t) => match opts.reading.datetime_rule {
            DateTimeRule::UtcDate => t.date_naive(),
            _ => t.with_timezone(&opts.timezone).date_naive(),
        },
        When::Floating(n) => n.date(),
    }
}

/// RFC 5545 durations: `P1D`, `P2W`, `PT12H`, `P1DT2H30M`, with an optional sign.
fn duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let s = s.strip_prefix('P')?;
    let (mut total, mut num, mut in_time) = (Duration::zero(), String::new(), false);
    for c in s.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' => in_time = true,
            unit => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                // Every step checked: `P999999999999999999W` is a bad event, not a panic.
                let part = match (unit, in_time) {
                    ('W', false) => Duration::try_weeks(n),
                    ('D', false) => Duration::try_days(n),
                    ('H', true) => Duration::try_hours(n),
                    ('M', true) => Duration::try_minutes(n),
                    ('S', true) => Duration::try_seconds(n),
                    _ => return None,
                }?;
                total = total.checked_add(&part)?;
            }
        }
    }
    num.is_empty().then_some(if neg { -total } else { total })
}

fn dates(e: &RawEvent, opts: &FeedOptions) -> Result<(NaiveDate, NaiveDate), String> {
    let start_prop = e.get("DTSTART").ok_or("no DTSTART")?;
    let start = when(start_prop)?;
    let arrival = to_date(&start, opts);
    let mut departure = match (e.get("DTEND"), e.get("DURATION")) {
        (Some(end), _) => to_date(&when(end)?, opts),
        (None, Some(d)) => {
            let dur = duration(&d.value).ok_or_else(|| format!("DURATION `{}` is not a duration", d.value.trim()))?;
            let too_long = || format!("DURATION `{}` ends beyond any calendar date", d.value.trim());
            match &start {
                When::Date(d) => d.checked_add_signed(Duration::days(dur.num_days())).ok_or_else(too_long)?,
                When::Instant(t) => to_date(&When::Instant(t.checked_add_signed(dur).ok_or_else(too_long)?), opts),
                When::Floating(n) => n.checked_add_signed(dur).ok_or_else(too_long)?.date(),
            }
        }
        // A DATE start alone is one day; a date-time start alone has no length.
        (None, None) => match start {
            When::Date(d) => d.succ_opt().ok_or("DTSTART is the last calendar date")?,
            _ => return Err("a date-time DTSTART with neither DTEND nor DURATION has no length".into()),
        },
    };
    if opts.reading.end_is_last_night && matches!(start, When::Date(_)) {
        departure = departure.succ_opt().ok_or("DTEND is the last calendar date")?;
    }
    if departure < arrival {
        return Err(format!("DTEND ({departure}) is before DTSTART ({arrival})"));
    }
    if departure == arrival {
        if matches!(start, When::Date(_)) {
            if opts.reading.same_day_is_one_night {
                return Ok((arrival, arrival.succ_opt().ok_or("DTSTART is the last calendar date")?));
            }
            return Err(SAME_DAY.into());
        }
        return Err(format!("the event ends on the day it starts ({arrival}): no night"));
    }
    Ok((arrival, departure))
}

/// The skip reason of an all-day event that ends on the day it starts (collected into one note).
const SAME_DAY: &str = "an all-day event that ends on the day it starts";

/// A guest's name in an Airbnb-style summary (`Ana Lima - HMK9PKXFZ5`, `Reserved - Ana Lima`):
/// the summary without the confirmation code, booking words and separators, when a name is left.
fn airbnb_guest(summary: &str) -> Option<String> {
    let code = airbnb_code(summary);
    let words: Vec<&str> = summary
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '|' | '(' | ')' | ':' | ','))
        .filter(|w| !w.is_empty())
        .filter(|w| code.as_deref() != Some(*w))
        .filter(|w| {
            let l = w.to_lowercase();
            !["reserved", "booked", "booking", "reservation", "airbnb", "confirmed"].contains(&l.as_str())
                && !w.chars().all(|c| c.is_ascii_digit())
        })
        .collect();
    (!words.is_empty() && words.iter().all(|w| w.chars().any(char::is_alphabetic))).then(|| words.join(" "))
}

/// The Airbnb confirmation code: `HM` + 8 upper-case letters or digits.
fn airbnb_code(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(9)).find_map(|i| {
        let cand = &b[i..i + 10];
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let after = b.get(i + 10).is_none_or(|c| !c.is_ascii_alphanumeric());
        (boundary
            && after
            && cand.starts_with(b"HM")
            && cand[2..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        .then(|| String::from_utf8_lossy(cand).into_owned())
    })
}

fn after_label<'a>(text: &'a str, labels: &[&str]) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        labels.iter().any(|x| k.trim().eq_ignore_ascii_case(x)).then(|| v.trim()).filter(|v| !v.is_empty())
    })
}

fn phone_last4(text: &str) -> Option<String> {
    let v = after_label(text, &["Phone Number (Last 4 Digits)", "Phone (last 4)"])?;
    let d: String = v.chars().filter(char::is_ascii_digit).collect();
    (d.len() == 4).then_some(d)
}

fn name_after_dash(summary: &str, prefixes: &[&str]) -> Option<String> {
    prefixes.iter().find_map(|p| {
        let rest = summary.strip_prefix(p)?.trim_start();
        let rest = rest.strip_prefix('-').or_else(|| rest.strip_prefix(':'))?.trim();
        (!rest.is_empty()).then(|| rest.to_owned())
    })
}

struct Kinded {
    kind: EventKind,
    channel: Option<&'static str>,
    channel_ref: Option<String>,
    guest_name: Option<String>,
    phone_last4: Option<String>,
    adults: Option<u16>,
}

fn generic(summary: &str, description: &str) -> Kinded {
    let lower = summary.to_lowercase();
    let mut k = Kinded {
        kind: EventKind::Unavailable,
        channel: None,
        channel_ref: None,
        guest_name: None,
        phone_last4: None,
        adults: None,
    };
    if ["blocked", "block", "maintenance", "owner", "out of order", "out of service"].iter().any(|w| lower.contains(w))
    {
        k.kind = EventKind::Block;
    } else if ["not available", "unavailable", "closed"].iter().any(|w| lower.contains(w)) {
        k.kind = EventKind::Unavailable;
    } else if lower.starts_with("avaibook - ") {
        // AVAIBOOK - <property> - <guest first name> - <n> pax
        let parts: Vec<&str> = summary.split(" - ").map(str::trim).collect();
        k.kind = EventKind::Reservation;
        k.guest_name = parts.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string());
        k.adults = parts.get(3).and_then(|p| p.split_whitespace().next()).and_then(|n| n.parse().ok());
    } else if ["reserved", "réservée", "reservado", "booked", "booking", "reservation", "confirmed"]
        .iter()
        .any(|w| lower.starts_with(w) || lower.contains(w))
    {
        k.kind = EventKind::Reservation;
        k.guest_name = name_after_dash(summary, &["Reserved", "Réservée", "Reservado", "Booked"]);
    }
    // Guesty / Hospitable style label lines.
    if let Some(v) = after_label(description, &["Name", "Guest", "Guest name"]) {
        k.guest_name.get_or_insert_with(|| v.to_owned());
        k.kind = EventKind::Reservation;
    }
    if let Some(v) = after_label(description, &["Booking ID", "Confirmation", "Confirmation code", "Reservation"]) {
        k.channel_ref = Some(v.to_owned());
    }
    k.adults = k.adults.or_else(|| {
        after_label(description, &["Adults", "Guests"]).and_then(|v| v.split_whitespace().next()?.parse().ok())
    });
    k
}

fn kind_of(source: FeedSource, summary: &str, description: &str) -> Kinded {
    let lower = summary.to_lowercase();
    match source {
        FeedSource::Airbnb => {
            // Airbnb's own export says "Reserved" or "Airbnb (Not available)". Tools that write
            // Airbnb-style feeds put the guest and the confirmation code in the summary, or say
            // "booking": a code, or a word for a booking, is a reservation; anything else a block.
            let code = airbnb_code(summary).or_else(|| airbnb_code(description));
            let says_booked = ["reserved", "booked", "booking", "reservation"].iter().any(|w| lower.contains(w));
            let reserved = !lower.contains("not available") && (says_booked || code.is_some());
            let guest_name = reserved.then(|| airbnb_guest(summary)).flatten();
            Kinded {
                kind: if reserved { EventKind::Reservation } else { EventKind::Block },
                channel: Some("airbnb"),
                channel_ref: reserved.then_some(code).flatten(),
                guest_name,
                phone_last4: reserved.then(|| phone_last4(description)).flatten(),
                adults: None,
            }
        }
        FeedSource::BookingCom => {
            // "CLOSED - Not available" is a booking or a closure: the feed cannot tell. Older feeds
            // reportedly put the guest's name after "CLOSED - " (unverified).
            let name =
                name_after_dash(summary, &["CLOSED", "Closed"]).filter(|n| !n.eq_ignore_ascii_case("not available"));
            Kinded {
                kind: if name.is_some() { EventKind::Reservation } else { EventKind::Unavailable },
                channel: Some("booking_com"),
                channel_ref: None,
                guest_name: name,
                phone_last4: None,
                adults: None,
            }
        }
        FeedSource::Vrbo => {
            let name = name_after_dash(summary, &["Reserved", "Réservée"]);
            let reserved = name.is_some() || lower.starts_with("reserved") || lower.starts_with("réservée");
            Kinded {
                kind: if reserved { EventKind::Reservation } else { EventKind::Block },
                channel: Some("vrbo"),
                channel_ref: None,
                guest_name: name,
                phone_last4: None,
                adults: None,
            }
        }
        _ => generic(summary, description),
    }
}

fn is_marker(summary: &str) -> bool {
    let l = summary.trim();
    ["check-in", "check-out", "checkin", "checkout", "check in", "check out"].iter().any(|m| {
        let Some(head) = l.get(..m.len()).filter(|h| h.eq_ignore_ascii_case(m)) else { return false };
        let rest = &l[head.len()..];
        rest.is_empty() || rest.starts_with(':') || rest.starts_with(" -")
    })
}

pub(crate) fn revision(e: &RawEvent) -> (i64, &str) {
    let seq = e.get("SEQUENCE").and_then(|p| p.value.trim().parse().ok()).unwrap_or(0);
    let stamp = e.get("LAST-MODIFIED").or_else(|| e.get("DTSTAMP")).map(|p| p.value.trim()).unwrap_or_default();
    (seq, stamp)
}

/// What the feed as a whole decides for each of its events.
pub(crate) struct Context<'o> {
    pub opts: &'o FeedOptions,
    pub source: FeedSource,
    /// See [`horizon`].
    pub horizon: NaiveDate,
    /// By UID: the original dates of the occurrences that other events of the feed move
    /// (`RECURRENCE-ID`).
    pub moved: &'o rustc_hash::FxHashMap<String, Vec<NaiveDate>>,
}

/// A year after the producer's own fetch date (`fetched`: the feed's first DTSTAMP), or after
/// today when the feed has none: events ending later are rolling closures.
pub(crate) fn horizon(opts: &FeedOptions, fetched: Option<&Prop>) -> NaiveDate {
    let local = opts.clone().reading(opts.reading.datetime_rule(DateTimeRule::PropertyLocal));
    let fetched = fetched
        .and_then(|p| when(p).ok())
        .map(|w| to_date(&w, &local))
        .or(opts.today)
        .unwrap_or_else(|| Utc::now().with_timezone(&opts.timezone).date_naive());
    fetched + Duration::days(365)
}

/// One event, classified on its own.
pub(crate) enum Verdict {
    Event(FeedEvent),
    /// A recurring event's occurrences in the year read, and what could not be read of it.
    Series(Vec<FeedEvent>, Option<String>),
    Skip(String),
    /// An all-day event that ends on the day it starts (one note for the feed).
    SameDay,
}

/// Classifies one parsed event whose UID (unescaped) is `uid`.
pub(crate) fn classify_event(e: &RawEvent, uid: Option<&str>, cx: &Context<'_>) -> Verdict {
    let (opts, source) = (cx.opts, cx.source);
    let summary = e.text("SUMMARY").unwrap_or_default();
    if is_marker(&summary) {
        return Verdict::Skip(format!("`{summary}` marks a check-in or check-out, not a stay"));
    }
    let (arrival, departure) = match dates(e, opts) {
        Ok(d) => d,
        Err(reason) if reason == SAME_DAY => return Verdict::SameDay,
        Err(reason) => return Verdict::Skip(reason),
    };
    let description = e.text("DESCRIPTION").unwrap_or_default();
    let k = kind_of(source, &summary, &description);
    let nights = (departure - arrival).num_days();
    let bound = i64::from(opts.reading.max_stay_nights);
    let limit = if k.kind == EventKind::Reservation { bound } else { bound * 10 };
    if nights > limit {
        return Verdict::Skip(format!(
            "a {} event of {nights} nights ({arrival} to {departure}) is longer than the {limit} nights a {} may \
             last: its dates are taken for broken",
            kind_name(k.kind),
            if k.kind == EventKind::Reservation { "stay" } else { "closure" }
        ));
    }
    // Identity: Airbnb reservations by their code (stable, and shared with e-mails and PMSs).
    // Booking.com events and Airbnb blocks by their end date: the OTA clips an event in progress
    // (or re-cuts a past block) and issues a new UID on every fetch, but keeps its end — except
    // the rolling "booking window" closures far ahead, whose end moves daily and whose UID stays.
    // Everything else by UID.
    let rolling = departure > cx.horizon;
    let identity = match (source, k.kind, &k.channel_ref, uid) {
        (FeedSource::Airbnb, EventKind::Reservation, Some(code), _) => format!("airbnb:{code}"),
        (FeedSource::Airbnb | FeedSource::BookingCom, _, _, Some(u)) if rolling => format!("uid:{u}"),
        (FeedSource::Airbnb, _, _, _) | (FeedSource::BookingCom, _, _, _) => {
            format!("{}:{departure}", kind_name(k.kind))
        }
        (_, _, _, Some(u)) => format!("uid:{u}"),
        _ => format!("{}:{arrival}:{departure}", kind_name(k.kind)),
    };
    let event = FeedEvent {
        identity,
        uid: uid.map(str::to_owned),
        kind: k.kind,
        arrival,
        departure,
        channel: k.channel.map(str::to_owned),
        channel_ref: k.channel_ref,
        guest_name: k.guest_name,
        phone_last4: k.phone_last4,
        adults: k.adults,
        summary: (!summary.is_empty()).then_some(summary),
        cancelled: e.get("STATUS").is_some_and(|s| s.value.trim().eq_ignore_ascii_case("CANCELLED")),
    };
    match e.get("RECURRENCE-ID").map(when) {
        // One moved occurrence of a series: it keeps the identity of the occurrence it replaces.
        Some(Ok(original)) => {
            let original = to_date(&original, opts);
            Verdict::Event(FeedEvent { identity: format!("{}:{original}", event.identity), ..event })
        }
        Some(Err(reason)) => Verdict::Skip(reason),
        None if crate::recur::recurs(e) => series(e, event, cx),
        None => Verdict::Event(event),
    }
}

/// A recurring event's occurrences from a month before the producer's fetch date to a year
/// after it, each with the master's length and its own first night in its identity. A rule that
/// cannot be read leaves the first occurrence, with the reason.
fn series(e: &RawEvent, first: FeedEvent, cx: &Context<'_>) -> Verdict {
    let window = (cx.horizon - Duration::days(365 + 31), cx.horizon);
    let moved = first.uid.as_ref().and_then(|u| cx.moved.get(u)).map_or(&[][..], Vec::as_slice);
    let start = e.get("DTSTART").map(when);
    let expanded = match start {
        Some(Ok(start)) => crate::recur::occurrences(e, &start, cx.opts, window, moved),
        _ => Err("no readable DTSTART".into()),
    };
    let occurrences = match expanded {
        Ok(o) => o,
        Err(reason) => {
            let note = format!("{reason}: only the occurrence on {} was read", first.arrival);
            return Verdict::Series(vec![first], Some(note));
        }
    };
    let nights = first.departure - first.arrival;
    let note = occurrences.truncated.then(|| {
        format!(
            "a recurring event has more than {} occurrences in the year read: the later ones were not read",
            crate::recur::MAX_OCCURRENCES
        )
    });
    let events = occurrences
        .starts
        .iter()
        .map(|&arrival| FeedEvent {
            identity: format!("{}:{arrival}", first.identity),
            arrival,
            departure: arrival + nights,
            ..first.clone()
        })
        .collect();
    Verdict::Series(events, note)
}

/// The feed-level note for all-day events that end on the day they start, at these lines.
pub(crate) fn same_day_note(lines: &[usize]) -> Option<Skipped> {
    let first = *lines.first()?;
    let shown: Vec<String> = lines.iter().take(5).map(usize::to_string).collect();
    Some(Skipped {
        reason: format!(
            "{} all-day event(s) end on the day they start (line {}{}): skipped. If this feed marks an \
             occupied day that way, set `same_day_is_one_night` for it",
            lines.len(),
            shown.join(", "),
            if lines.len() > 5 { ", …" } else { "" }
        ),
        uid: None,
        line: Some(first),
    })
}

fn kind_name(k: EventKind) -> &'static str {
    match k {
        EventKind::Reservation => "reservation",
        EventKind::Block => "block",
        EventKind::Unavailable => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_feed;

    fn one(feed: &str, opts: &FeedOptions) -> Result<FeedEvent, Vec<Skipped>> {
        let f = read_feed(feed.as_bytes(), opts);
        f.events.into_iter().next().ok_or(f.skipped)
    }

    fn ev(props: &str) -> String {
        format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nSUMMARY:Booked\n{props}\nEND:VEVENT\nEND:VCALENDAR\n")
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn date_values_are_taken_as_is_with_an_exclusive_end() {
        let o = FeedOptions::new(chrono_tz::Pacific::Honolulu);
        let e = one(&ev("DTSTART;VALUE=DATE:20260824\nDTEND;VALUE=DATE:20260902"), &o).unwrap();
        assert_eq!((e.arrival, e.departure), (d("2026-08-24"), d("2026-09-02")), "never converted through UTC");
        let e = one(
            &ev("DTSTART;VALUE=DATE:20260824\nDTEND;VALUE=DATE:20260901"),
            &o.clone().reading(FeedReading::default().end_is_last_night(true)),
        )
        .unwrap();
        assert_eq!(e.departure, d("2026-09-02"), "an end that is the last night moves one day");
        let e = one(&ev("DTSTART;VALUE=DATE:20260824"), &o).unwrap();
        assert_eq!(e.departure, d("2026-08-25"), "a DATE start alone is one day");
        let e = one(&ev("DTSTART;VALUE=DATE:20260824\nDURATION:P3D"), &o).unwrap();
        assert_eq!(e.departure, d("2026-08-27"));
    }

    #[test]
    fn date_times_become_property_local_dates_across_dst_and_extreme_zones() {
        // 17:00Z check-in is the next day in Kiritimati (UTC+14) and the same day in Pago Pago (UTC-11).
        let feed = ev("DTSTART:20260901T170000Z\nDTEND:20260904T100000Z");
        let kiri = one(&feed, &FeedOptions::new(chrono_tz::Pacific::Kiritimati)).unwrap();
        assert_eq!((kiri.arrival, kiri.departure), (d("2026-09-02"), d("2026-09-05")));
        let pago = one(&feed, &FeedOptions::new(chrono_tz::Pacific::Pago_Pago)).unwrap();
        assert_eq!((pago.arrival, pago.departure), (d("2026-09-01"), d("2026-09-03")));
        let utc = one(
            &feed,
            &FeedOptions::new(chrono_tz::Pacific::Kiritimati)
                .reading(FeedReading::default().datetime_rule(DateTimeRule::UtcDate)),
        )
        .unwrap();
        assert_eq!((utc.arrival, utc.departure), (d("2026-09-01"), d("2026-09-04")));
        // Across the end of summer time in Paris: 16:00 local on both sides stays on its date.
        let dst = one(
            &ev("DTSTART;TZID=Europe/Paris:20261024T160000\nDTEND;TZID=Europe/Paris:20261026T110000"),
            &FeedOptions::new(chrono_tz::Europe::Paris),
        )
        .unwrap();
        assert_eq!((dst.arrival, dst.departure), (d("2026-10-24"), d("2026-10-26")));
        // A Windows zone name and an unknown one are tolerated.
        let win = one(
            &ev("DTSTART;TZID=\"W. Europe Standard Time\":20261024T160000\nDTEND;TZID=Nowhere/Else:20261026T110000"),
            &FeedOptions::new(chrono_tz::Europe::Berlin),
        )
        .unwrap();
        assert_eq!((win.arrival, win.departure), (d("2026-10-24"), d("2026-10-26")));
    }

    #[test]
    fn an_end_before_the_start_is_rejected_with_a_reason() {
        let err = one(&ev("DTSTART;VALUE=DATE:20250601\nDTEND;VALUE=DATE:20250227"), &FeedOptions::new(chrono_tz::UTC))
            .unwrap_err();
        assert!(err[0].reason.contains("before DTSTART"), "{err:?}");
    }

    #[test]
    fn out_of_range_durations_are_bad_events_not_panics() {
        assert_eq!(duration("P999999999999999999W"), None);
        assert_eq!(duration("PT99999999999999999H"), None);
        let o = FeedOptions::new(chrono_tz::Europe::Lisbon);
        for d in ["P999999999999999999W", "P99999999D", "PT99999999999H"] {
            let r = one(&ev(&format!("DTSTART;VALUE=DATE:20260824\nDURATION:{d}")), &o);
            assert!(r.is_err(), "{d}: {r:?}");
        }
        let r = one(&ev("DTSTART:20260824T140000Z\nDURATION:PT99999999999H"), &o);
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn durations() {
        assert_eq!(duration("P1W2DT3H"), Some(Duration::days(9) + Duration::hours(3)));
        assert_eq!(duration("-PT15M"), Some(-Duration::minutes(15)));
        assert_eq!(duration("P"), Some(Duration::zero()));
        assert_eq!(duration("1D"), None);
        assert_eq!(duration("P1X"), None);
    }

    #[test]
    fn airbnb_codes() {
        assert_eq!(
            airbnb_code("https://www.airbnb.com/hosting/reservations/details/HMYXB825YD\nx").as_deref(),
            Some("HMYXB825YD")
        );
        assert_eq!(airbnb_code("itinerary?code=HM2ZK3ND9R"), Some("HM2ZK3ND9R".into()));
        assert_eq!(airbnb_code("HMYXB825YDX"), None);
    }
}
