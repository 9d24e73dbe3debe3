//! Finding values by their labels. A label matches case-insensitively at a word start, with an
//! optional `(XXX)` currency hint and colon after it; the value is whatever follows, on the same
//! line or the next ones — the typed readers in [`crate::lang`] pick the value out of that window.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, Input, MatchKind};
use chrono::NaiveDate;

use crate::lang;

/// How far after a label a value is looked for.
const WINDOW: usize = 600;

/// A text searched for labels, with its copy lower-cased in ASCII, made once for all the
/// searches the templates make in it (a dozen or more per mail).
pub(crate) struct Text<'t> {
    text: &'t str,
    lower: Vec<u8>,
}

impl<'t> Text<'t> {
    pub fn new(text: &'t str) -> Self {
        Self { text, lower: text.as_bytes().to_ascii_lowercase() }
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.text
    }
}

/// What one label search runs over: the text, and its lower-cased copy (borrowed from a [`Text`],
/// or made for a short piece of text such as one line).
pub(crate) struct Hay<'t> {
    text: &'t str,
    lower: Cow<'t, [u8]>,
}

impl<'t> From<&'t str> for Hay<'t> {
    fn from(text: &'t str) -> Self {
        Self { text, lower: Cow::Owned(text.as_bytes().to_ascii_lowercase()) }
    }
}

impl<'t> From<&'t Text<'_>> for Hay<'t> {
    fn from(text: &'t Text<'_>) -> Self {
        Self { text: text.text, lower: Cow::Borrowed(&text.lower) }
    }
}

/// A set of labels meaning the same thing, in several languages. The labels are looked for in
/// the text's lower-cased copy, as literals (`aho-corasick`'s vector search): ASCII letters in any
/// case, and the accented letters the labels hold in both their cases. (A case-insensitive regex
/// of the same labels could not use a literal search: the case variants of a dozen phrases are
/// too many.) What may follow a label is read by hand.
pub(crate) struct Labels {
    find: AhoCorasick,
    /// The labels, longest first: where the longest label at a place does not end a word
    /// (`Booking no` in `Booking non-refundable`), a shorter one (`Booking`) may.
    labels: Vec<&'static str>,
}

/// The text after one occurrence of a label.
#[derive(Debug, Clone, Copy)]
pub(crate) struct After<'t> {
    /// Up to [`WINDOW`] bytes after the label and its colon.
    pub rest: &'t str,
    /// A currency code the label carried, e.g. `USD` in `TOTAL (USD)`.
    pub hint: Option<&'t str>,
}

impl Labels {
    /// Labels matching any of `labels` (plain text, not patterns).
    pub fn new(labels: &[&'static str]) -> Self {
        let mut labels = labels.to_vec();
        labels.sort_by_key(|l| std::cmp::Reverse(l.len()));
        let patterns: Vec<String> = labels.iter().flat_map(|l| case_variants(l)).collect();
        // Leftmost, then longest: the longest label at the first place one occurs.
        let find = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("labels build a searcher");
        Self { find, labels }
    }

    /// The end of the label that starts at `at`: the first, longest first, that is there (in any
    /// case) and ends a word if it ends in a letter or digit (an ASCII boundary: the byte after it
    /// is not an ASCII letter, digit or `_`; `Total` is not the start of `Totale`).
    fn label_end(&self, text: &str, at: usize) -> Option<usize> {
        let ends_word =
            |end: usize| text.as_bytes().get(end).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        self.labels.iter().find_map(|l| {
            let end = at + prefix_ignore_case(&text[at..], l)?;
            (!l.ends_with(|c: char| c.is_ascii_alphanumeric()) || ends_word(end)).then_some(end)
        })
    }

    /// The end of the label the search matched at `found`, if it may end there: it does not end
    /// in a letter or digit, or the byte after it is not an ASCII letter, digit or `_`. (Any
    /// letter counts here, so this never accepts what [`Labels::label_end`] would refuse.)
    fn found_end(&self, text: &str, found: std::ops::Range<usize>) -> Option<usize> {
        let open_ended = text[found.clone()].chars().next_back().is_some_and(|c| !c.is_alphanumeric());
        let ends_word = text.as_bytes().get(found.end).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        (open_ended || ends_word).then_some(found.end)
    }

    /// Every occurrence, in order: where it starts, and the text after it and its colon.
    fn occurrences<'t>(&'t self, hay: Hay<'t>) -> impl Iterator<Item = (usize, After<'t>)> + 't {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let text = hay.text;
            while pos <= text.len() {
                let found = self.find.find(Input::new(&*hay.lower).span(pos..text.len()))?;
                let start = found.start();
                // The search found the longest label at `start`; only where that one does not
                // end a word are the shorter ones tried.
                let Some(end) = self.found_end(text, found.range()).or_else(|| self.label_end(text, start)) else {
                    // No label ends a word here: look again from the next character.
                    pos = start + text[start..].chars().next().map_or(1, char::len_utf8);
                    continue;
                };
                let (after, hint) = suffix(text, end);
                pos = after;
                return Some((start, After { rest: window(&text[after..]), hint }));
            }
            None
        })
    }

    /// The text after each occurrence that starts a word, in order.
    pub fn all<'t>(&'t self, text: impl Into<Hay<'t>>) -> impl Iterator<Item = After<'t>> + 't {
        let hay = text.into();
        let text = hay.text;
        // An occurrence inside a word is passed over whole, as the search resumes after it.
        self.occurrences(hay).filter(move |(at, _)| starts_word(text, *at)).map(|(_, a)| a)
    }

    /// The text after the first occurrence.
    pub fn first<'t>(&'t self, text: impl Into<Hay<'t>>) -> Option<After<'t>> {
        self.all(text).next()
    }

    /// Whether any label occurs.
    pub fn occurs<'t>(&'t self, text: impl Into<Hay<'t>>) -> bool {
        self.all(text).next().is_some()
    }
}

/// `label` as the search looks for it in a lower-cased text: its ASCII letters lower case, each
/// other letter in both its cases (one variant for each combination; labels hold at most three).
fn case_variants(label: &str) -> Vec<String> {
    let mut variants = vec![String::with_capacity(label.len())];
    for c in label.chars() {
        let mut cases: Vec<char> = Vec::with_capacity(2);
        if c.is_ascii() {
            cases.push(c.to_ascii_lowercase());
        } else {
            cases.push(c);
            // Only a case of the same length in bytes: the copy keeps every offset of the text.
            for other in [single(c.to_lowercase()), single(c.to_uppercase())].into_iter().flatten() {
                if other.len_utf8() == c.len_utf8() && !cases.contains(&other) {
                    cases.push(other);
                }
            }
        }
        variants = variants
            .into_iter()
            .flat_map(|v| {
                cases.iter().map(move |&case| {
                    let mut v = v.clone();
                    v.push(case);
                    v
                })
            })
            .collect();
    }
    variants
}

/// The only character of a case mapping, if it maps to one.
fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
    let c = mapped.next()?;
    mapped.next().is_none().then_some(c)
}

/// The byte length of `word` at the start of `s`, letters compared in any case (one character
/// for one), if it is there.
pub(crate) fn prefix_ignore_case(s: &str, word: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    for want in word.chars() {
        let (_, got) = chars.next()?;
        if got != want && !got.to_lowercase().eq(want.to_lowercase()) {
            return None;
        }
    }
    Some(chars.next().map_or(s.len(), |(i, _)| i))
}

/// What may follow a label: blanks, a `(XXX)` currency hint, a colon (ASCII or full-width) and
/// blanks. Returns where the value begins, and the hint.
fn suffix(text: &str, end: usize) -> (usize, Option<&str>) {
    let b = text.as_bytes();
    let blanks = |mut i: usize| {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    let mut i = end;
    let mut hint = None;
    let k = blanks(i);
    if b.get(k) == Some(&b'(')
        && b.get(k + 4) == Some(&b')')
        && b.get(k + 1..k + 4).is_some_and(|c| c.iter().all(u8::is_ascii_alphabetic))
    {
        hint = Some(&text[k + 1..k + 4]);
        i = k + 5;
    }
    i = blanks(i);
    if b.get(i) == Some(&b':') {
        i += 1;
    } else if text[i..].starts_with('：') {
        i += '：'.len_utf8();
    }
    (blanks(i), hint)
}

fn starts_word(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
}

fn window(s: &str) -> &str {
    if s.len() <= WINDOW {
        return s;
    }
    let mut end = WINDOW;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl<'t> After<'t> {
    /// The first non-empty line of the value, up to a tab (the next table cell).
    pub fn line(&self) -> Option<&'t str> {
        self.rest.lines().take(4).map(|l| l.split('\t').next().unwrap_or("").trim()).find(|l| !l.is_empty())
    }

    /// The value in a table cell: right after the label on its own line, else — when a cell holds
    /// a label and its translation — in the cell after the translation, else the next line.
    pub fn cell(&self) -> Option<&'t str> {
        let mut lines = self.rest.lines();
        if let Some(v) = lines.next().and_then(|l| l.split('\t').next()).map(str::trim).filter(|v| !v.is_empty()) {
            return Some(v);
        }
        for line in lines.take(3) {
            let v = match line.split_once('\t') {
                Some((_, value)) => value.split('\t').next().unwrap_or(""),
                None => line,
            }
            .trim();
            if !v.is_empty() {
                return Some(v);
            }
        }
        None
    }

    /// The first date in the value, resolved against `reference`.
    pub fn date(&self, reference: Option<NaiveDate>) -> Option<NaiveDate> {
        // Only the first lines: a date further down belongs to another label.
        let head = head_lines(self.rest, 4);
        lang::first_date(head, reference)
    }

    /// The first amount with a currency.
    pub fn amount(&self) -> Option<(rust_decimal::Decimal, String)> {
        lang::first_amount(head_lines(self.rest, 3), self.hint)
    }
}

/// Where `needle` (ASCII) occurs in `text`, in any case: found without lowering the whole text.
pub(crate) fn find_ignore_case<'t>(text: &'t str, needle: &'t str) -> impl Iterator<Item = usize> + 't {
    let (hay, n) = (text.as_bytes(), needle.as_bytes());
    let first = n.first().copied().unwrap_or(0);
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), hay)
        .filter(move |&at| !n.is_empty() && hay.get(at..at + n.len()).is_some_and(|w| w.eq_ignore_ascii_case(n)))
}

/// Whether `text` contains `needle` (ASCII) in any case.
pub(crate) fn contains_ignore_case(text: &str, needle: &str) -> bool {
    needle.is_empty() || find_ignore_case(text, needle).next().is_some()
}

/// The first `n` lines of `s`.
pub(crate) fn head_lines(s: &str, n: usize) -> &str {
    let end = memchr::memchr_iter(b'\n', s.as_bytes()).nth(n.saturating_sub(1)).unwrap_or(s.len());
    &s[..end]
}

/// `text.split('\n')`, with the line ends found by `memchr`'s vector search: a mail's body is
/// walked line by line more than once, and the standard searcher tests a word at a time.
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        // A `\n` is one byte and never inside a character: both sides of it are boundaries.
        Some(match ends.next() {
            Some(end) => {
                start = Some(end + 1);
                &text[from..end]
            }
            None => {
                start = None;
                &text[from..]
            }
        })
    })
}

/// The line of `text` that starts at `start`, without its `\n`.
pub(crate) fn line_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    &rest[..memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_the_standard_split_does() {
        for text in ["", "\n", "a", "a\n", "\na", "a\nb", "a\r\nb\n\n", "é\nü€\n\n\nx", "\n\n"] {
            let want: Vec<&str> = text.split('\n').collect();
            assert_eq!(split_lines(text).collect::<Vec<_>>(), want, "{text:?}");
            let mut at = 0;
            for line in &want {
                assert_eq!(line_at(text, at), *line, "{text:?} at {at}");
                at += line.len() + 1;
            }
            for n in 0usize..5 {
                let end = text.match_indices('\n').nth(n.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
                assert_eq!(head_lines(text, n), &text[..end], "{text:?}, {n} lines");
            }
        }
    }

    #[test]
    fn value_on_the_same_line_or_below() {
        let l = Labels::new(&["Check-in", "Arrivée"]);
        let d = |t: &str| l.first(t).and_then(|a| a.date(None));
        let want = NaiveDate::from_ymd_opt(2026, 7, 15);
        assert_eq!(d("Check-in Wednesday, 15 July 2026 (15:00 - 00:00)"), want);
        assert_eq!(d("Check-in\nWednesday, 15 July 2026"), want);
        assert_eq!(d("ARRIVÉE :\n\nmer. 15 juil. 2026"), want);
    }

    /// What the labels were found with before: one case-insensitive regex per set, longest label
    /// first, an ASCII word end after labels ending in a letter or digit.
    fn by_regex<'t>(labels: &[&str], text: &'t str) -> Vec<(usize, Option<&'t str>)> {
        let mut labels = labels.to_vec();
        labels.sort_by_key(|l| std::cmp::Reverse(l.len()));
        let alt = labels
            .iter()
            .map(|l| {
                let word_end = if l.ends_with(|c: char| c.is_ascii_alphanumeric()) { r"(?-u:\b)" } else { "" };
                format!("{}{word_end}", regex::escape(l))
            })
            .collect::<Vec<_>>()
            .join("|");
        let re = regex::Regex::new(&format!(r"(?i)(?:{alt})(?:[ \t]*\(([A-Z]{{3}})\))?[ \t]*[:：]?[ \t]*")).unwrap();
        re.captures_iter(text)
            .filter(|c| starts_word(text, c.get(0).unwrap().start()))
            .map(|c| (c.get(0).unwrap().end(), c.get(1).map(|m| m.as_str())))
            .collect()
    }

    #[test]
    fn the_literal_search_finds_what_the_pattern_found() {
        let sets: &[&[&str]] = &[
            &["Check-in", "Check in", "Arrival date", "Arrival", "Arrivée", "Date d'arrivée", "Anreise", "Llegada"],
            &["Check-out", "Check out", "Departure", "Départ", "Abreise", "Salida"],
            &[
                "Booking number",
                "Booking no.",
                "Booking no",
                "Booking",
                "Reservation",
                "Reservation ID",
                "Numéro de réservation",
                "Référence",
            ],
            &["Total", "Total price", "Total payout", "Your payout", "Montant total", "Prix total", "Gesamtpreis"],
            &["Name", "Guest", "Guest name", "Name des Gastes", "Nom du client"],
        ];
        let texts = crate::test_texts::samples_and(&[
            "Booking non-refundable, Booking no. 12 and BOOKING NUMBER: 9; Bookings\tBooking",
            "TOTAL (USD)   $545.62 total(eur): 3 Totale 4 subtotal 5 Total_x Total(US) 6",
            "ARRIVÉE :\n\nmer. 15 juil. 2026 ; arrivée：16 ; XArrival 1 Arrival",
            "Name des Gastes: Ana; name: Bo; Nameless; NOM DU CLIENT : Cy",
            "",
        ]);
        for set in sets {
            let labels = Labels::new(set);
            for text in &texts {
                // Where each value begins (its offset in the text), and the hint.
                fn at<'t>(text: &str, a: After<'t>) -> (usize, Option<&'t str>) {
                    (a.rest.as_ptr() as usize - text.as_ptr() as usize, a.hint)
                }
                let ours: Vec<(usize, Option<&str>)> = labels.all(text.as_str()).map(|a| at(text, a)).collect();
                assert_eq!(ours, by_regex(set, text), "{set:?} in {:?}", text.chars().take(80).collect::<String>());
                // The same through a text lower-cased once for all searches.
                let lowered = Text::new(text);
                assert_eq!(labels.all(&lowered).map(|a| at(text, a)).collect::<Vec<_>>(), ours);
            }
        }
    }

    #[test]
    fn contains_in_any_case() {
        assert!(contains_ignore_case("Your BOOKING Cancelled today", "booking cancelled"));
        assert!(!contains_ignore_case("booking cancel", "booking cancelled"));
        assert!(contains_ignore_case("x", ""));
    }

    #[test]
    fn cells_and_currency_hints() {
        let first = Labels::new(&["Customer First Name"]);
        assert_eq!(first.first("Customer First Name\nTên Khách Hàng\tMinh\n").unwrap().cell(), Some("Minh"));
        let total = Labels::new(&["Total"]);
        let a = total.first("TOTAL (USD)   $545.62").unwrap();
        assert_eq!(a.hint, Some("USD"));
        assert_eq!(a.amount().map(|(_, c)| c).as_deref(), Some("USD"));
    }
}
