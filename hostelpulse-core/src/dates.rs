//! Dates and times in the exact ISO forms sources and stores write, read by hand: a large sync
//! reads hundreds of thousands, and chrono's general parser costs several times as much. Anything
//! else is `None`, for the caller to hand to chrono.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The digits of `b` as a number, if they are all digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

/// `YYYY-MM-DD` exactly, a day that exists.
pub fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(digits(&b[..4])?).ok()?, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, a time that exists (a leap second is left to chrono).
pub fn iso_utc_seconds(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let time = NaiveTime::from_hms_opt(digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?)?;
    Some(iso_date(s.get(..10)?)?.and_time(time).and_utc())
}

/// `YYYYMMDD` exactly (ISO 8601's basic form, as iCalendar writes dates), a day that exists.
pub fn basic_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 8 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(digits(&b[..4])?).ok()?, digits(&b[4..6])?, digits(&b[6..8])?)
}

/// `YYYYMMDDTHHMMSS` exactly (iCalendar's date-time, without its zone), a time that exists (a
/// leap second is left to chrono).
pub fn basic_date_time(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 15 || b[8] != b'T' {
        return None;
    }
    let time = NaiveTime::from_hms_opt(digits(&b[9..11])?, digits(&b[11..13])?, digits(&b[13..15])?)?;
    Some(basic_date(s.get(..8)?)?.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is read by hand agrees with chrono; what is not is left to it.
    #[test]
    fn agrees_with_chrono_and_takes_nothing_else() {
        for s in ["2026-12-01", "2024-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(iso_date(s), s.parse().ok(), "{s}");
        }
        for s in ["2026-02-30", "2026-13-01", "2026-1-01", "2026/12/01", "20261201", "2026-12-0a", "+2026-12-01", ""] {
            assert_eq!(iso_date(s), None, "{s}");
        }
        for s in ["2025-06-02T09:14:22Z", "2024-02-29T23:59:59Z", "2026-12-01T00:00:00Z"] {
            let chrono = DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc));
            assert_eq!(iso_utc_seconds(s), chrono, "{s}");
        }
        for s in ["20261201", "20240229", "00010101"] {
            assert_eq!(basic_date(s), NaiveDate::parse_from_str(s, "%Y%m%d").ok(), "{s}");
        }
        for s in ["20260230", "2026121", "202612010", "2026-12-", "+2026120", ""] {
            assert_eq!(basic_date(s), None, "{s}");
        }
        for s in ["20250602T091422", "20240229T235959", "20261201T000000"] {
            assert_eq!(basic_date_time(s), NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").ok(), "{s}");
        }
        for s in ["20161231T235960", "20250602 091422", "20250602T240000", "20250602T0914"] {
            assert_eq!(basic_date_time(s), None, "{s}");
        }
        for s in ["2016-12-31T23:59:60Z", "2025-06-02T09:14:22+02:00", "2025-06-02 09:14:22Z", "2025-06-02T24:00:00Z"] {
            assert_eq!(iso_utc_seconds(s), None, "{s}");
        }
    }
}
