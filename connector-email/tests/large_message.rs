//! A 20 MB message: refused by default with an error that says what to do, and parsed within
//! bounded memory when the limit allows it. Its own test binary, so the peak-heap reading sees no
//! other test's allocations.

use hostelpulse_connector_email::{MessageError, Outcome, ParseOptions, parse_message};
use hostelpulse_sandbox::mail::sample;
use peak_alloc::PeakAlloc;

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

fn twenty_mb_message() -> Vec<u8> {
    let mut m = sample("booking-guest-confirmed-gb.eml").unwrap().to_vec();
    // Replace the closing boundary with a 20 MB base64 attachment, then close.
    let close = b"--=_booking_gb_alt--\r\n";
    let at = m.windows(close.len()).position(|w| w == close).unwrap();
    m.truncate(at);
    m.extend_from_slice(
        b"--=_booking_gb_alt\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let line = [b'A'; 76];
    while m.len() < 20 * 1024 * 1024 {
        m.extend_from_slice(&line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(close);
    m
}

#[test]
fn a_20_mb_message_is_refused_by_default_and_bounded_when_allowed() {
    let big = twenty_mb_message();
    let err = parse_message(&big, &ParseOptions::default()).unwrap_err();
    assert!(matches!(err, MessageError::TooLarge { limit, .. } if limit == 10 * 1024 * 1024), "{err}");
    assert!(err.to_string().contains("max_message_bytes"), "the error says what to do: {err}");

    PEAK.reset_peak_usage();
    let before = PEAK.current_usage();
    let parsed = parse_message(&big, &ParseOptions::default().max_message_bytes(32 * 1024 * 1024)).unwrap();
    let growth = PEAK.peak_usage().saturating_sub(before);
    assert!(matches!(parsed.outcome, Outcome::Booking(_)), "the text part still reads: {:?}", parsed.outcome);
    // mail-parser decodes the attachment once (base64 → 15 MB); nothing else scales with it.
    assert!(growth < 3 * big.len(), "peak heap growth {growth} for a {} byte message", big.len());
}
