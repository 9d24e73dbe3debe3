//! Recurring events: a Google or Outlook calendar closes a room every Monday with one event and an
//! `RRULE`, not fifty-two. Read whole, each occurrence in the year read becomes its own event;
//! read as one event, only the first closure would reach the board.
//!
//! The rule is expanded by the `rrule` crate in the property's zone. `EXDATE` removes occurrences
//! and `RDATE` adds them, by date; an occurrence that another event of the feed moves
//! (`RECURRENCE-ID`) is left to that event.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rrule::{RRule, RRuleSet, Unvalidated};

use crate::classify::{FeedOptions, When, to_date, when};
use crate::parse::{Prop, RawEvent};

/// The most occurrences one event yields in the year read (a daily rule yields 396).
pub(crate) const MAX_OCCURRENCES: u16 = 1_000;

/// The occurrences of a recurring event that start in `[from, until]`, as first nights.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Occurrences {
    pub starts: Vec<NaiveDate>,
    /// More occurred than [`MAX_OCCURRENCES`]: the rest were not read.
    pub truncated: bool,
}

/// Whether the event recurs (an `RRULE` or an `RDATE`).
pub(crate) fn recurs(e: &RawEvent) -> bool {
    e.props.iter().any(|p| p.name == "RRULE" || p.name == "RDATE")
}

/// The dates a date list property names (`EXDATE`, `RDATE`: comma-separated, with the
/// property's parameters).
fn listed_dates<'e>(e: &'e RawEvent, name: &'e str, opts: &'e FeedOptions) -> impl Iterator<Item = NaiveDate> + 'e {
    e.props.iter().filter(move |p| p.name == name).flat_map(move |p| {
        p.value.split(',').filter_map(move |v| {
            let one = Prop { name: p.name.clone(), params: p.params.clone(), value: v.trim().to_owned() };
            when(&one).ok().map(|w| to_date(&w, opts))
        })
    })
}

/// The start as the rule expands it: wall time in the property's zone.
fn rule_start(start: &When, opts: &FeedOptions) -> Option<DateTime<rrule::Tz>> {
    let tz = rrule::Tz::Tz(opts.timezone);
    match start {
        When::Date(d) => tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest(),
        When::Instant(t) => Some(t.with_timezone(&tz)),
        When::Floating(n) => tz.from_local_datetime(n).earliest(),
    }
}

/// The rule with its `UNTIL` as the expander needs it beside a start with a zone: a UTC
/// date-time. A date (the rule of an all-day event) means the end of that day, and a date-time
/// without `Z` is wall time, both in the property's zone.
fn until_in_utc(rule: &str, opts: &FeedOptions) -> String {
    let parts = rule.split(';').map(|part| {
        let Some((key, value)) = part.split_once('=') else { return part.to_owned() };
        if !key.trim().eq_ignore_ascii_case("UNTIL") || value.ends_with(['Z', 'z']) {
            return part.to_owned();
        }
        let local = hostelpulse_core::dates::basic_date(value)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .or_else(|| hostelpulse_core::dates::basic_date_time(value));
        match local.and_then(|t| opts.timezone.from_local_datetime(&t).latest()) {
            Some(t) => format!("UNTIL={}", t.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ")),
            None => part.to_owned(),
        }
    });
    parts.collect::<Vec<_>>().join(";")
}

/// Expands the event's rules. `moved`: the original dates of occurrences other events replace.
/// An unreadable rule is an error in words.
pub(crate) fn occurrences(
    e: &RawEvent,
    start: &When,
    opts: &FeedOptions,
    (from, until): (NaiveDate, NaiveDate),
    moved: &[NaiveDate],
) -> Result<Occurrences, String> {
    let dt_start = rule_start(start, opts).ok_or("DTSTART does not exist in the property's time zone")?;
    let mut set = RRuleSet::new(dt_start);
    for p in e.props.iter().filter(|p| p.name == "RRULE") {
        let unreadable = || format!("RRULE `{}` is not a recurrence rule", p.value.trim());
        // RFC 5545 writes rules in ASCII; the crate slices a weekday's letters by byte and panics
        // inside a character (found by fuzzing), so anything else never reaches it.
        if !p.value.is_ascii() {
            return Err(unreadable());
        }
        let text = until_in_utc(p.value.trim(), opts);
        let rule: RRule<Unvalidated> = std::panic::catch_unwind(|| text.parse::<RRule<Unvalidated>>())
            .map_err(|_| unreadable())?
            .map_err(|_| unreadable())?;
        let rule = std::panic::catch_unwind(|| rule.validate(dt_start))
            .map_err(|_| unreadable())?
            .map_err(|_| format!("RRULE `{}` cannot recur", p.value.trim()))?;
        set = set.rrule(rule);
    }
    let bound = |d: NaiveDate| rule_start(&When::Date(d), opts);
    let (Some(after), Some(before)) = (bound(from), bound(until + Duration::days(1))) else {
        return Err("the window read does not exist in the property's time zone".into());
    };
    let mut starts: BTreeSet<NaiveDate> = BTreeSet::new();
    let mut truncated = false;
    if !set.get_rrule().is_empty() {
        // A rule that panics inside the crate must not take the host down.
        let result = std::panic::catch_unwind(|| set.after(after).before(before).all(MAX_OCCURRENCES))
            .map_err(|_| "a recurrence rule the expander cannot follow".to_owned())?;
        truncated = result.limited && result.dates.len() >= usize::from(MAX_OCCURRENCES);
        starts.extend(result.dates.iter().map(|t| to_date(&When::Instant(t.with_timezone(&Utc)), opts)));
        if result.dates.is_empty() && result.limited && result.dates.len() < usize::from(MAX_OCCURRENCES) {
            // `limited` without dates: the expander stopped at one of its own limits.
            return Err("the recurrence rule stops at the expander's limits before the window read".into());
        }
    }
    starts.extend(listed_dates(e, "RDATE", opts));
    for gone in listed_dates(e, "EXDATE", opts).chain(moved.iter().copied()) {
        starts.remove(&gone);
    }
    starts.retain(|d| (from..=until).contains(d));
    Ok(Occurrences { starts: starts.into_iter().collect(), truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(lines: &[&str]) -> RawEvent {
        let text: Vec<(usize, &str)> = lines.iter().enumerate().map(|(i, l)| (i + 1, *l)).collect();
        crate::parse::parse_event(1, &text, &mut String::new()).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn expand(e: &RawEvent, moved: &[NaiveDate]) -> Result<Occurrences, String> {
        let opts = FeedOptions::new(chrono_tz::Europe::Lisbon);
        let start = when(e.get("DTSTART").unwrap()).unwrap();
        occurrences(e, &start, &opts, (d("2026-12-01"), d("2027-01-31")), moved)
    }

    #[test]
    fn a_weekly_closure_recurs_in_the_window_without_its_exceptions() {
        let e = event(&[
            "DTSTART;VALUE=DATE:20261102",
            "DTEND;VALUE=DATE:20261103",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270101",
            "EXDATE;VALUE=DATE:20261214,20261221",
            "RDATE;VALUE=DATE:20261226",
        ]);
        let o = expand(&e, &[d("2026-12-28")]).unwrap();
        assert_eq!(o.starts, [d("2026-12-07"), d("2026-12-26")], "Mondays of December, less the exceptions, plus one");
        assert!(!o.truncated);
    }

    #[test]
    fn date_times_recur_in_the_property_zone_and_counts_are_bounded() {
        let e = event(&[
            "DTSTART;TZID=Europe/Lisbon:20261130T230000",
            "DTEND;TZID=Europe/Lisbon:20261201T090000",
            "RRULE:FREQ=DAILY",
        ]);
        let o = expand(&e, &[]).unwrap();
        assert_eq!(o.starts.first(), Some(&d("2026-12-01")));
        assert_eq!(o.starts.len(), 62, "every day of December and January, 23:00 local each");
        // UNTIL as a date on an all-day rule, and as wall time: both read in the property's zone.
        let e = event(&["DTSTART;VALUE=DATE:20261201", "RRULE:FREQ=DAILY;UNTIL=20261203"]);
        assert_eq!(expand(&e, &[]).unwrap().starts, [d("2026-12-01"), d("2026-12-02"), d("2026-12-03")]);
        let e = event(&["DTSTART;TZID=Europe/Lisbon:20261201T100000", "RRULE:FREQ=DAILY;UNTIL=20261202T100000"]);
        assert_eq!(expand(&e, &[]).unwrap().starts, [d("2026-12-01"), d("2026-12-02")]);
        let e = event(&["DTSTART:20261201T000000Z", "RRULE:FREQ=MINUTELY"]);
        let o = expand(&e, &[]).unwrap();
        assert!(o.truncated, "{o:?}");
    }

    #[test]
    fn a_rule_that_cannot_be_read_is_said_in_words() {
        let e = event(&["DTSTART;VALUE=DATE:20261102", "RRULE:FREQ=WEEKLY;BYDAY=MOO"]);
        let err = expand(&e, &[]).unwrap_err();
        assert!(err.contains("RRULE") && err.contains("not a recurrence rule"), "{err}");
        let e = event(&["DTSTART;VALUE=DATE:20261102", "RRULE:FREQ=FORTNIGHTLY"]);
        assert!(expand(&e, &[]).is_err());
        // Found by fuzzing: a weekday with a letter beyond ASCII made the crate panic.
        let e = event(&["DTSTART;VALUE=DATE:20261102", "RRULE:FREQ=DAILY;BYDAY=MO, T\u{fffd}, WE"]);
        assert!(expand(&e, &[]).unwrap_err().contains("not a recurrence rule"));
    }
}
