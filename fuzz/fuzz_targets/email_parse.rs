//! Feeds arbitrary bytes to the message parser: it must never panic, a booking it reports must
//! have its dates in order and what a booking needs, and its confidence must stay within 0–1.
#![no_main]

use hostelpulse_connector_email::{MailKind, Outcome, ParseOptions, parse_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // libfuzzer-sys aborts on every panic through its hook, even one the parser catches (it
    // contains a known mail-parser 0.11 panic). Back to the default hook: a panic that escapes
    // the parser still reaches libfuzzer-sys's own catch and counts as a crash.
    init: {
        drop(std::panic::take_hook());
    },
    |data: &[u8]| {
    if let Ok(parsed) = parse_message(data, &ParseOptions::default()) {
        if let Some(e) = parsed.outcome.extraction() {
            assert!((0.0..=1.0).contains(&e.confidence));
            if let (Some(a), Some(d)) = (e.fields.arrival, e.fields.departure) {
                assert!(d > a, "dates out of order reported");
            }
        }
        // A booking that syncs has what a booking needs: both dates, or a reference to cancel.
        if let Outcome::Booking(b) = &parsed.outcome {
            let f = &b.fields;
            assert!(f.arrival.is_some() && f.departure.is_some() || f.kind == MailKind::Cancelled && f.channel_ref.is_some());
        }
    }
    }
);
