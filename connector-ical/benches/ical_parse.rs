//! `ical_parse`: a generated 10,000-event feed (Airbnb-style, folded descriptions). Measures the
//! icalendar crate's parse of the whole feed alone (`read_calendar`, as a host calls it, and
//! `read_calendar_simple`, the same grammar with plain errors), and this crate's parse + classify
//! (`read_feed`, event by event), with the peak heap growth of each. Goal: parse + classify at most
//! 1.3× the crate's parse.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hostelpulse_connector_ical::{FeedOptions, read_feed};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const N: usize = 10_000;

fn feed() -> String {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nCALSCALE:GREGORIAN\r\nVERSION:2.0\r\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for i in 0..N {
        let a = start + chrono::Duration::days((i * 2) as i64);
        let d = a + chrono::Duration::days(1 + (i % 3) as i64);
        if i % 5 == 4 {
            s.push_str(&format!(
                "BEGIN:VEVENT\r\nDTSTAMP:20260819T074442Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Airbnb (Not available)\r\nUID:7f662ec65913-{i:032x}@airbnb.com\r\nEND:VEVENT\r\n",
                a.format("%Y%m%d"),
                d.format("%Y%m%d")
            ));
        } else {
            s.push_str(&format!(
                "BEGIN:VEVENT\r\nDTSTAMP:20260819T074442Z\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Reserved\r\nUID:1418fb94e984-{i:032x}@airbnb.com\r\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de\r\n tails/HM{:08}\\nPhone Number (Last 4 Digits): {:04}\r\nEND:VEVENT\r\n",
                a.format("%Y%m%d"),
                d.format("%Y%m%d"),
                i,
                i % 10_000
            ));
        }
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let out = f();
    (out, HEAP.peak_usage().saturating_sub(base))
}

fn bench(c: &mut Criterion) {
    let text = feed();
    let opts = FeedOptions::new(chrono_tz::Europe::Lisbon);
    let (classified, ours) = peak(|| read_feed(text.as_bytes(), &opts));
    assert_eq!(classified.events.len(), N);
    assert!(classified.skipped.is_empty());
    let (n, theirs) = peak(|| {
        icalendar::parser::read_calendar(&icalendar::parser::unfold(&text)).map(|c| c.components.len()).unwrap_or(0)
    });
    assert_eq!(n, N, "the icalendar crate parsed every event too");
    eprintln!(
        "ical_parse: {N} events, {:.1} MiB; peak heap: icalendar parse {:.1} MiB, parse + classify {:.1} MiB",
        text.len() as f64 / 1048576.0,
        theirs as f64 / 1048576.0,
        ours as f64 / 1048576.0
    );

    let mut g = c.benchmark_group("ical_parse");
    g.sample_size(20);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("icalendar_parse", |b| {
        b.iter(|| {
            icalendar::parser::read_calendar(&icalendar::parser::unfold(&text)).map(|c| c.components.len()).unwrap_or(0)
        })
    });
    // The same grammar with the parser's plain errors instead of its verbose ones (what this
    // crate calls per event): the cheapest parse the crate offers.
    g.bench_function("icalendar_parse_simple", |b| {
        b.iter(|| {
            icalendar::parser::read_calendar_simple(&icalendar::parser::unfold(&text))
                .map(|c| c.first().map_or(0, |cal| cal.components.len()))
                .unwrap_or(0)
        })
    });
    g.bench_function("parse_and_classify", |b| b.iter(|| read_feed(text.as_bytes(), &opts).events.len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
