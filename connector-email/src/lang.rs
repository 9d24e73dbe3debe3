//! Dates, amounts and head counts as booking mails write them, in English, French, Spanish,
//! German, Italian and Portuguese.
//!
//! Every reader here *finds* a value in a window of text rather than parsing a fixed position:
//! templates drift, and the same label is followed by a value on the same line in one rendering
//! and on the next line in another.

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

/// The month alternation, longest names first so `juillet` wins over `juil`.
static MONTH_ALT: LazyLock<String> =
    LazyLock::new(|| MONTHS_LONGEST_FIRST.iter().map(|(n, _)| regex::escape(n)).collect::<Vec<_>>().join("|"));

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
    // The regex finds where each date is; its parts are read from that span by hand. Asking the
    // regex for its groups ran a second, backtracking engine over the large month alternation on
    // every match, which cost more than finding them.
    DATE.find_iter(text).filter_map(|m| {
        let (year, month, day) = date_parts(m.as_str())?;
        let valid = (1..=12).contains(&month) && (1..=31).contains(&day);
        valid.then_some(WrittenDate { year, month, day, end: m.end() })
    })
}

/// The year, month and day of a span the date pattern matched, by the shape it has (the pattern's
/// five alternatives are told apart by their first characters).
fn date_parts(s: &str) -> Option<(Option<i32>, u32, u32)> {
    // The pattern's `\d` takes any decimal digit; only ASCII ones are numbers here.
    if s.chars().any(|c| c.is_numeric() && !c.is_ascii_digit()) {
        return None;
    }
    let mut runs = s.split(|c: char| !c.is_ascii_digit()).filter(|r| !r.is_empty());
    let mut next = || runs.next()?.parse::<u32>().ok();
    let (first, _) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    if s.contains('年') || first.len() == 4 {
        // 2026-10-05, 2026年10月5日
        return Some((Some(next()? as i32), next()?, next()?));
    }
    if first.is_empty() {
        // Sep 5, 2026 / Sep 5
        let month = month_at(s)?;
        let day = next()?;
        return Some((next().map(|y| y as i32), month, day));
    }
    if !s.chars().any(char::is_alphabetic) {
        // 05.10.2026: day first, unless only the other order makes a month.
        let (a, b, y) = (next()?, next()?, next()? as i32);
        return Some(if b > 12 && a <= 12 { (Some(y), a, b) } else { (Some(y), b, a) });
    }
    // 15 July 2026, 1er mars, 15 de julio de 2026, 30-Sep-2026
    let day = next()?;
    let month = letter_runs(s).find_map(month_at)?;
    Some((next().map(|y| y as i32), month, day))
}

/// The rest of `s` from each place where a run of letters begins.
fn letter_runs(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices()
        .filter(|&(i, c)| c.is_alphabetic() && s[..i].chars().next_back().is_none_or(|p| !p.is_alphabetic()))
        .map(|(i, _)| &s[i..])
}

/// The month whose name (any case) begins `s` and ends a word, the longest name first, as the
/// pattern's alternation has them.
fn month_at(s: &str) -> Option<u32> {
    let run = &s[..s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len())];
    let ends_word = |len: usize| s.as_bytes().get(len).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
    if run.is_ascii() {
        // Inside a run of ASCII letters no name can end a word: the whole run is the name or none.
        return MONTH_NUMBER.get(run.to_ascii_lowercase().as_str()).copied().filter(|_| ends_word(run.len()));
    }
    MONTHS_LONGEST_FIRST.iter().find_map(|&(name, n)| {
        let len = crate::find::prefix_ignore_case(s, name)?;
        ends_word(len).then_some(n)
    })
}

static MONTH_NUMBER: LazyLock<std::collections::HashMap<&'static str, u32>> =
    LazyLock::new(|| MONTHS.iter().copied().collect());

/// The month names, longest first.
static MONTHS_LONGEST_FIRST: LazyLock<Vec<(&'static str, u32)>> = LazyLock::new(|| {
    let mut names = MONTHS.to_vec();
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.chars().count()));
    names
});

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
    // As for dates: the regex finds each amount, its parts are read from the span by hand.
    AMOUNT.find_iter(text).find_map(|m| {
        let parts = amount_parts(m.as_str())?;
        let code = |written: Option<&str>| {
            written.and_then(|s| {
                if s.len() == 3 && s.chars().all(|ch| ch.is_ascii_uppercase()) {
                    (!NOT_CURRENCIES.contains(&s)).then(|| s.to_owned())
                } else {
                    SYMBOLS.iter().find(|(sym, _)| *sym == s).map(|(_, code)| (*code).to_owned())
                }
            })
        };
        let written = code(parts.pre).or_else(|| code(parts.post));
        // A written code beats the label's; a bare `$` defers to the label (`TOTAL (CAD) 137,69 $`).
        let currency = match (written, hint) {
            (Some(w), Some(h)) if w == "USD" && !m.as_str().contains("USD") => h.to_owned(),
            (Some(w), _) => w,
            (None, Some(h)) => h.to_owned(),
            (None, None) => return None,
        };
        let mut amount = decimal(parts.number)?;
        if parts.negative {
            amount = -amount;
        }
        Some((amount, currency))
    })
}

/// An amount's span, taken apart: the code or symbol before and after the number, its sign.
struct AmountParts<'s> {
    pre: Option<&'s str>,
    negative: bool,
    number: &'s str,
    post: Option<&'s str>,
}

/// A code (three capitals that are a word of their own) or a symbol at the start of `s`.
fn currency_at(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_uppercase) && b.get(3).is_none_or(|c| !is_word_byte(*c)) {
        return Some(&s[..3]);
    }
    SYMBOLS.iter().find(|(sym, _)| s.starts_with(sym)).map(|(sym, _)| &s[..sym.len()])
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The parts of a span the amount pattern matched: it begins with the code or symbol (if any) or
/// the number, and anything after the number's last digit is the code or symbol after it.
fn amount_parts(s: &str) -> Option<AmountParts<'_>> {
    let starts_number = |t: &str| t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '−');
    let (pre, rest) = if starts_number(s) {
        (None, s)
    } else {
        let pre = currency_at(s)?;
        let rest = &s[pre.len()..];
        // One white space may separate it from the number.
        let rest = match rest.chars().next() {
            Some(c) if c.is_whitespace() => &rest[c.len_utf8()..],
            _ => rest,
        };
        (Some(pre), rest)
    };
    let (negative, rest) = match rest.strip_prefix('-').or_else(|| rest.strip_prefix('−')) {
        Some(r) => (true, r),
        None => (false, rest),
    };
    // The pattern's `\d` takes any decimal digit; only ASCII ones are numbers here.
    let last_digit = rest.rfind(|c: char| c.is_ascii_digit())?;
    let (number, tail) = rest.split_at(last_digit + 1);
    if number.chars().any(|c| c.is_numeric() && !c.is_ascii_digit()) {
        return None;
    }
    let tail = match tail.chars().next() {
        Some(c) if c.is_whitespace() => &tail[c.len_utf8()..],
        _ => tail,
    };
    let post = (!tail.is_empty()).then(|| currency_at(tail)).flatten();
    Some(AmountParts { pre, negative, number, post })
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
    // The count is the digits the match starts with: read from the span, as asking for the
    // pattern's group runs a slower engine over the whole text.
    let n = |re: &Regex| {
        let m = re.find(text)?.as_str();
        m[..m.bytes().take_while(u8::is_ascii_digit).count()].parse().ok()
    };
    (n(&ADULTS), n(&CHILDREN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_party_is_read_as_the_patterns_groups_read_it() {
        let groups = |re: &Regex, t: &str| re.captures(t).and_then(|c| c[1].parse::<u16>().ok());
        for text in [
            "2 adults, 1 child",
            "Adults: 3\n12 Kinder",
            "1adult 0 kids",
            "999 guests 1000 guests",
            "x 4 Erwachsene und 2 Kinder",
            "no party here",
            "12345 adults",
            "٣ adults 2 personnes",
        ] {
            assert_eq!(party(text), (groups(&ADULTS, text), groups(&CHILDREN, text)), "{text}");
        }
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

    /// Dates as they were read before: the pattern's named groups.
    fn dates_by_groups(text: &str) -> Vec<WrittenDate> {
        let months: std::collections::HashMap<&str, u32> = MONTHS.iter().copied().collect();
        DATE.captures_iter(text)
            .filter_map(|c| {
                let num = |n: &str| c.name(n).and_then(|m| m.as_str().parse::<u32>().ok());
                let month_name =
                    |n: &str| c.name(n).and_then(|m| months.get(m.as_str().to_lowercase().as_str()).copied());
                let end = c.get(0).map_or(0, |m| m.end());
                let (year, month, day) = if let Some(y) = num("iy") {
                    (Some(y as i32), num("im")?, num("id")?)
                } else if let Some(y) = num("cy") {
                    (Some(y as i32), num("cm")?, num("cd")?)
                } else if let Some(y) = num("ny") {
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
            .collect()
    }

    /// Amounts as they were read before: the pattern's named groups.
    fn amounts_by_groups(text: &str, hint: Option<&str>) -> Vec<(Decimal, String)> {
        AMOUNT
            .captures_iter(text)
            .filter_map(|c| {
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
                let currency = match (written, hint) {
                    (Some(w), Some(h)) if w == "USD" && c.get(0).is_some_and(|m| !m.as_str().contains("USD")) => {
                        h.to_owned()
                    }
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
            .collect()
    }

    /// Every value read from a span by hand is what the pattern's groups gave, over every line
    /// (and pair of lines) of every sample mail and a set of awkward shapes.
    #[test]
    fn parts_read_by_hand_agree_with_the_groups() {
        let mut texts: Vec<String> = hostelpulse_sandbox::mail::SAMPLES
            .iter()
            .filter_map(|(_, b)| crate::mime::read(b, 1 << 24).ok())
            .flat_map(|m| {
                let lines: Vec<String> = m.text.lines().map(str::to_owned).collect();
                let pairs: Vec<String> = lines.windows(2).map(|w| w.join("\n")).collect();
                lines.into_iter().chain(pairs).collect::<Vec<_>>()
            })
            .collect();
        texts.extend(
            [
                "1ER MARS 2026, 2 de dezembro de 2026, 5 de dec, 30-Sep-2026, 15° juillet, 15. Juli 2026",
                "12026年10月5日 and 2026 年 10 月 5 日; ０５.10.2026; 05.1٠.2026; 13/05/2026 and 05/13/2026",
                "Sept 5th, 2026; SEP 5; juil. 30; févr 3; FÉVRIER 3 2027; Julyish 4; 15 Julyish",
                "US$ 12.50, R$ 100, € 1 000,50, 1.234,56 EUR, -12 USD, −3,5 £, BRL 7, VAT 20 EUR, 5 Kč, 3zł",
                "100EUR 7 $ 8USD ٣٤ EUR 12 PIN 45 CAD$ 1,2 US$",
            ]
            .map(str::to_owned),
        );
        for text in &texts {
            assert_eq!(dates(text).collect::<Vec<_>>(), dates_by_groups(text), "{text}");
            for hint in [None, Some("CAD")] {
                assert_eq!(first_amount(text, hint), amounts_by_groups(text, hint).into_iter().next(), "{text}");
            }
        }
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
