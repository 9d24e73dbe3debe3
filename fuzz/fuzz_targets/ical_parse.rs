//! Feeds arbitrary bytes to the feed parser and classifier: it must never panic, and every event it
//! yields must have at least one night.
#![no_main]

use hostelpulse_connector_ical::{FeedOptions, read_feed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let feed = read_feed(data, &FeedOptions::new(chrono_tz::Pacific::Kiritimati));
    for e in &feed.events {
        assert!(e.departure > e.arrival);
    }
});
