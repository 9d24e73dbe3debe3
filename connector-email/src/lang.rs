//! Dates, amounts and head counts as booking mails write them, in English, French, Spanish,
//! German, Italian and Portuguese.
//!
//! Every reader here *finds* a value in a window of text rather than parsing a fixed position:
//! templates drift, and the same label is followed by a value on the same line in one rendering
//! and on the next line in another.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use rust_decimal::Decimal;

/// Month names and abbreviations of the six languages, lower case, with their month number.
/// Spellings without accents are listed too: plain-text renderings often drop them.
const MONTHS: &[(&str, u32)] = &[
    // English
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // French
    ("janvier", 1),
    ("février", 2),
    ("fevrier", 2),
    ("mars", 3),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("aout", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    ("janv", 1),
    ("févr", 2),
    ("fevr", 2),
    ("fév", 2),
    ("avr", 4),
    ("juil", 7),
    ("déc", 12),
    // Spanish
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("ene", 1),
    ("abr", 4),
    ("ago", 8),
    ("dic", 12),
    // German
    ("januar", 1),
    ("jänner", 1),
    ("februar", 2),
    ("märz", 3),
    ("maerz", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("mär", 3),
    ("mrz", 3),
    ("okt", 10),
    ("dez", 12),
    // Italian
    ("gennaio", 1),
    ("febbraio", 2),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("set", 9),
    ("ott", 10),
    // Portuguese
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("marco", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    ("fev", 2),
    ("out", 10),
];

static MONTH_NUMBER: LazyLock<HashMap<&'static str, u32>> = LazyLock::new(|| MONTHS.iter().copied().collect());

/// The month alternation, longest names first so `juillet` wins over `juil`.
static MONTH_ALT: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<&str> = MONTHS.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names.iter().map(|n| regex::escape(n)).collect::<Vec<_>>().join("|")
});

/// One regex for every date shape seen in booking mails; the leftmost match wins.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let m = &*MONTH_ALT;
    Regex::new(&format!(
        r"(?ix)
        (?-u:\b)(?P<iy>\d{{4}})[-/.](?P<im>\d{{1,2}})[-/.](?P<id>\d{{1,2}})(?-u:\b)
      | (?P<cy>\d{{4}})\s?年\s?(?P<cm>\d{{1,2}})\s?月\s?(?P<cd>\d{{1,2}})\s?日
      | (?-u:\b)(?P<nd>\d{{1,2}})[./](?P<nm>\d{{1,2}})[./](?P<ny>\d{{4}})(?-u:\b)
      | (?-u:\b)(?P<dd>\d{{1,2}})(?:st|nd|rd|th|er|º|°)?\.?(?:\s+de)?[\s-]+(?P<dm>{m})(?-u:\b)\.?(?:(?:,?\s+(?:de\s+)?|-)(?P<dy>\d{{4}})(?-u:\b))?
      | (?-u:\b)(?P<mm>{m})(?-u:\b)\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?-u:\b)(?:,?\s+(?P<my>\d{{4}})(?-u:\b))?
        "
    ))
    .expect("date pattern compiles")
});

/// A date as written: the year may be missing (Airbnb omits it within the send year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrittenDate {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    /// Byte range of the match in the searched text.
    pub end: usize,
}

impl WrittenDate {
    /// The calendar date, inferring a missing year from `reference` (the message's send date):
    /// the first candidate year that does not put the date more than two months before the
    /// reference, so a mail sent in December about 3 January means next year.
    pub fn resolve(&self, reference: Option<NaiveDate>) -> Option<NaiveDate> {
        match (self.year, reference) {
            (Some(y), _) => NaiveDate::from_ymd_opt(y, self.month, self.day),
            (None, Some(r)) => (r.year() - 1..=r.year() + 1)
                .filter_map(|y| NaiveDate::from_ymd_opt(y, self.month, self.day))
                .find(|d| *d >= r - chrono::Days::new(62)),
            (None, None) => None,
        }
    }
}

/// Every written date in `text`, in order.
pub(crate) fn dates(text: &str) -> impl Iterator<Item = WrittenDate> + '_ {
    DATE.captures_iter(text).filter_map(|c| {
        let num = |n: &str| c.name(n).and_then(|m| m.as_str().parse::<u32>().ok());
        let month_name =
            |n: &str| c.name(n).and_then(|m| MONTH_NUMBER.get(m.as_str().to_lowercase().as_str()).copied());
        let end = c.get(0).map_or(0, |m| m.end());
        let (year, month, day) = if let Some(y) = num("iy") {
            (Some(y as i32), num("im")?, num("id")?)
        } else if let Some(y) = num("cy") {
            // 2026年10月5日 (Chinese and Japanese extranets).
            (Some(y as i32), num("cm")?, num("cd")?)
        } else if let Some(y) = num("ny") {
            // Day first: every language here but US English writes numeric dates that way, and
            // the US mails we know spell the month out.
            let (a, b) = (num("nd")?, num("nm")?);
            if b > 12 && a <= 12 { (Some(y as i32), a, b) } else { (Some(y as i32), b, a) }
        } else if c.name("dm").is_some() {
            (num("dy").map(|y| y as i32), month_name("dm")?, num("dd")?)
        } else {
            (num("my").map(|y| y as i32), month_name("mm")?, num("md")?)
        };
        let valid = (1..=12).contains(&month) && (1..=31).contains(&day);
        valid.then_some(WrittenDate { year, month, day, end })
    })
}

/// The first date in `text`, resolved against `reference`.
pub(crate) fn first_date(text: &str, reference: Option<NaiveDate>) -> Option<NaiveDate> {
    dates(text).find_map(|d| d.resolve(reference))
}

/// Currency symbols and the ISO code they stand for when no code is written next to them.
const SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("R$", "BRL"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₫", "VND"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₺", "TRY"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
    ("$", "USD"),
];

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    let sym = SYMBOLS.iter().map(|(s, _)| regex::escape(s)).collect::<Vec<_>>().join("|");
    Regex::new(&format!(
        r"(?x)
        (?:(?P<pre>(?-u:\b)[A-Z]{{3}}(?-u:\b)|{sym})\s?)?
        (?P<neg>[-−])?
        (?P<num>\d{{1,3}}(?:[.,\x{{a0}}\x{{202f}}\ ]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)
        (?:\s?(?P<post>(?-u:\b)[A-Z]{{3}}(?-u:\b)|{sym}))?"
    ))
    .expect("amount pattern compiles")
});

/// Three-letter words that look like currency codes but are not.
const NOT_CURRENCIES: &[&str] = &["VAT", "PIN", "PST", "PDT", "EST", "CET", "BST", "GMT", "UTC", "THU", "MON", "FRI"];

/// The first amount in `text` that carries a currency (a code or symbol next to it, or
/// `hint`, a code the label gave, e.g. `TOTAL (USD)`).
pub(crate) fn first_amount(text: &str, hint: Option<&str>) -> Option<(Decimal, String)> {
    AMOUNT.captures_iter(text).find_map(|c| {
        let code = |name: &str| {
            c.name(name).map(|m| m.as_str()).and_then(|s| {
                if s.len() == 3 && s.chars().all(|ch| ch.is_ascii_uppercase()) {
                    (!NOT_CURRENCIES.contains(&s)).then(|| s.to_owned())
                } else {
                    SYMBOLS.iter().find(|(sym, _)| *sym == s).map(|(_, code)| (*code).to_owned())
                }
            })
        };
        let written = code("pre").or_else(|| code("post"));
        // A written code beats the label's; a bare `$` defers to the label (`TOTAL (CAD) 137,69 $`).
        let currency = match (written, hint) {
            (Some(w), Some(h)) if w == "USD" && c.get(0).is_some_and(|m| !m.as_str().contains("USD")) => h.to_owned(),
            (Some(w), _) => w,
            (None, Some(h)) => h.to_owned(),
            (None, None) => return None,
        };
        let mut amount = decimal(c.name("num")?.as_str())?;
        if c.name("neg").is_some() {
            amount = -amount;
        }
        Some((amount, currency))
    })
}

/// A number written with either decimal convention: the last `.` or `,` followed by one or two
/// digits is the decimal point; other separators group thousands.
pub(crate) fn decimal(s: &str) -> Option<Decimal> {
    let s: String = s.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
    let decimal_at = s.rfind(['.', ',']).filter(|&i| (1..=2).contains(&(s.len() - i - 1)));
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.char_indices() {
        match ch {
            '.' | ',' if Some(i) == decimal_at => out.push('.'),
            '.' | ',' => {}
            c => out.push(c),
        }
    }
    Decimal::from_str(&out).ok()
}

static ADULTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(\d{1,3})\s*(?:adults?|adultes?|adultos?|adulti|adulto|erwachsene[rn]?|persons?|personnes?|guests?)(?-u:\b)",
    )
    .expect("adults pattern compiles")
});

static CHILDREN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(\d{1,3})\s*(?:child|children|kids?|enfants?|niños?|ninos?|bambini|bambino|crianças?|criancas?|kinder|kind)(?-u:\b)")
        .expect("children pattern compiles")
});

/// Adults and children written as `1 adult, 2 children`, `2 adultes`, `2 Erwachsene`, ….
pub(crate) fn party(text: &str) -> (Option<u16>, Option<u16>) {
    let n = |re: &Regex| re.captures(text).and_then(|c| c[1].parse().ok());
    (n(&ADULTS), n(&CHILDREN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn year_first_dates_with_any_separator_and_in_cjk_form() {
        for text in ["2026/10/05", "2026.10.05", "2026-10-05", "2026年10月5日", "2026 年 10 月 5 日"] {
            assert_eq!(first_date(text, None), Some(d(2026, 10, 5)), "{text}");
        }
        assert_eq!(first_date("2026/13/05", None), None, "no thirteenth month");
    }

    #[test]
    fn reads_the_date_shapes_of_the_corpus() {
        let r = Some(d(2026, 7, 15));
        for (text, want) in [
            ("THU, JUN 27, 2024   MON, JUL 1, 2024", d(2024, 6, 27)),
            ("Wednesday, 15 July 2026 (15:00 - 00:00)", d(2026, 7, 15)),
            ("Wednesday, June 3, 2026 (from 2:00 PM)", d(2026, 6, 3)),
            ("jeu. 30 juil.", d(2026, 7, 30)),
            ("Sep 5, 2026     Sep 6, 2026", d(2026, 9, 5)),
            ("30-Sep-2026 (30-09-2026)", d(2026, 9, 30)),
            ("Arrival  10.08.2018     Departure", d(2018, 8, 10)),
            ("2026-07-15 4 h 40 a.m. (GMT-05:00)", d(2026, 7, 15)),
            ("Mittwoch, 15. Juli 2026", d(2026, 7, 15)),
            ("miércoles, 15 de julio de 2026", d(2026, 7, 15)),
            ("mercoledì 15 luglio 2026", d(2026, 7, 15)),
            ("quarta-feira, 15 de julho de 2026", d(2026, 7, 15)),
            ("sam. 3 oct.", d(2026, 10, 3)),
        ] {
            assert_eq!(first_date(text, r), Some(want), "{text}");
        }
    }

    #[test]
    fn infers_a_missing_year_from_the_send_date() {
        let feb = WrittenDate { year: None, month: 2, day: 23, end: 0 };
        assert_eq!(feb.resolve(Some(d(2024, 2, 16))), Some(d(2024, 2, 23)));
        let jan = WrittenDate { year: None, month: 1, day: 3, end: 0 };
        assert_eq!(jan.resolve(Some(d(2025, 12, 20))), Some(d(2026, 1, 3)), "December mail about January");
        assert_eq!(jan.resolve(None), None, "no year and no reference: unknown, not guessed");
        let bad = WrittenDate { year: Some(2026), month: 2, day: 30, end: 0 };
        assert_eq!(bad.resolve(None), None);
    }

    #[test]
    fn reads_amounts_in_both_decimal_conventions() {
        let dec = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(first_amount("TOTAL (USD)   $545.62", Some("USD")), Some((dec("545.62"), "USD".into())));
        assert_eq!(first_amount("137,69 $", Some("CAD")), Some((dec("137.69"), "CAD".into())));
        assert_eq!(first_amount("€ 453.90", None), Some((dec("453.90"), "EUR".into())));
        assert_eq!(first_amount("Total Cost:     85.24 CAD", None), Some((dec("85.24"), "CAD".into())));
        assert_eq!(first_amount("VND 1,200,000.00", None), Some((dec("1200000.00"), "VND".into())));
        assert_eq!(first_amount("999,99 €", None), Some((dec("999.99"), "EUR".into())));
        assert_eq!(first_amount("1.234,50 EUR", None), Some((dec("1234.50"), "EUR".into())));
        assert_eq!(first_amount("2 nights", None), None, "a number without a currency is not an amount");
    }

    #[test]
    fn reads_party_sizes_in_six_languages() {
        assert_eq!(party("1 adult, 2 children"), (Some(1), Some(2)));
        assert_eq!(party("2 adultes"), (Some(2), None));
        assert_eq!(party("2 Erwachsene, 1 Kind"), (Some(2), Some(1)));
        assert_eq!(party("3 adultos y 2 niños"), (Some(3), Some(2)));
        assert_eq!(party("2 adulti, 1 bambino"), (Some(2), Some(1)));
        assert_eq!(party("2 adultos, 1 criança"), (Some(2), Some(1)));
    }
}
