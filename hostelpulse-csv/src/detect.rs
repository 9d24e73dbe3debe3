//! Delimiter and date-format detection, from the file itself.

use chrono::NaiveDate;

/// The delimiter that splits the header line into the most fields.
pub fn detect_delimiter(header: &str) -> u8 {
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut in_quotes = false;
        let n = header
            .bytes()
            .filter(|b| {
                if *b == b'"' {
                    in_quotes = !in_quotes;
                }
                !in_quotes && *b == d
            })
            .count();
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// A date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateFormat {
    /// 2026-03-12
    Iso,
    /// 12/03/2026
    DayFirstSlash,
    /// 03/12/2026
    MonthFirstSlash,
    /// 12.03.2026
    DayFirstDot,
    /// 12-03-2026
    DayFirstDash,
    /// 2026/03/12
    IsoSlash,
    /// 12 Mar 2026
    DayMonthName,
}

impl DateFormat {
    const ALL: [DateFormat; 7] = [
        Self::Iso,
        Self::DayFirstSlash,
        Self::MonthFirstSlash,
        Self::DayFirstDot,
        Self::DayFirstDash,
        Self::IsoSlash,
        Self::DayMonthName,
    ];

    fn pattern(self) -> &'static str {
        match self {
            Self::Iso => "%Y-%m-%d",
            Self::DayFirstSlash => "%d/%m/%Y",
            Self::MonthFirstSlash => "%m/%d/%Y",
            Self::DayFirstDot => "%d.%m.%Y",
            Self::DayFirstDash => "%d-%m-%Y",
            Self::IsoSlash => "%Y/%m/%d",
            Self::DayMonthName => "%d %b %Y",
        }
    }

    /// Parses a value (a time part after the date is ignored).
    pub fn parse(self, value: &str) -> Option<NaiveDate> {
        let v = value.trim();
        let date_part = match self {
            Self::DayMonthName => v,
            _ => v.split([' ', 'T']).next().unwrap_or(v),
        };
        NaiveDate::parse_from_str(date_part, self.pattern()).ok()
    }
}

/// The format most samples parse with (at least half of them: a few bad dates are row errors, not
/// a reason to reject the file). Day-first wins over month-first when both fit equally (every day
/// ≤ 12): the second value says it was ambiguous.
pub fn detect_date_format<'a>(samples: impl IntoIterator<Item = &'a str>) -> Option<(DateFormat, bool)> {
    let samples: Vec<&str> = samples.into_iter().map(str::trim).filter(|s| !s.is_empty()).take(500).collect();
    if samples.is_empty() {
        return None;
    }
    let score = |f: &DateFormat| samples.iter().filter(|s| f.parse(s).is_some()).count();
    let best = DateFormat::ALL.iter().map(score).max().unwrap_or(0);
    if best * 2 < samples.len() || best == 0 {
        return None;
    }
    let fits: Vec<DateFormat> = DateFormat::ALL.into_iter().filter(|f| score(f) == best).collect();
    let ambiguous = fits.contains(&DateFormat::DayFirstSlash) && fits.contains(&DateFormat::MonthFirstSlash);
    fits.first().map(|f| (*f, ambiguous))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_dates() {
        assert_eq!(detect_delimiter("a;b;\"c,d\";e"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("a,b"), b',');
        assert_eq!(detect_date_format(["2026-03-12", "2026-11-01"]), Some((DateFormat::Iso, false)));
        assert_eq!(detect_date_format(["12/03/2026", "25/03/2026"]), Some((DateFormat::DayFirstSlash, false)));
        assert_eq!(detect_date_format(["03/12/2026", "03/25/2026"]), Some((DateFormat::MonthFirstSlash, false)));
        assert_eq!(detect_date_format(["03/04/2026"]), Some((DateFormat::DayFirstSlash, true)));
        assert_eq!(detect_date_format(["12 Mar 2026"]), Some((DateFormat::DayMonthName, false)));
        assert_eq!(detect_date_format(["12.03.2026 14:00"]), Some((DateFormat::DayFirstDot, false)));
        assert_eq!(detect_date_format(["soon"]), None);
        assert_eq!(detect_date_format(["2026-01-01", "2026-02-30", "2026-01-05"]), Some((DateFormat::Iso, false)));
    }
}
