//! Finding values by their labels. A label matches case-insensitively at a word start, with an
//! optional `(XXX)` currency hint and colon after it; the value is whatever follows, on the same
//! line or the next ones — the typed readers in [`crate::lang`] pick the value out of that window.

use chrono::NaiveDate;
use regex::Regex;

use crate::lang;

/// How far after a label a value is looked for.
const WINDOW: usize = 600;

/// A set of labels meaning the same thing, in several languages.
pub(crate) struct Labels(Regex);

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
    pub fn new(labels: &[&str]) -> Self {
        // Longer labels first: the regex takes the first alternative that matches, and `Name`
        // must not win over `Name des Gastes`, leaving "des Gastes" as the value.
        let mut labels = labels.to_vec();
        labels.sort_by_key(|l| std::cmp::Reverse(l.len()));
        // A label ending in a letter must end a word: `Total` is not the start of `Totale`.
        let alt = labels
            .iter()
            .map(|l| {
                // An ASCII boundary keeps the search in the lazy DFA (a Unicode one cannot run there
                // on non-ASCII text); labels ending in a non-ASCII letter go without.
                let word_end = if l.ends_with(|c: char| c.is_ascii_alphanumeric()) { r"(?-u:\b)" } else { "" };
                format!("{}{word_end}", regex::escape(l))
            })
            .collect::<Vec<_>>()
            .join("|");
        Self(
            Regex::new(&format!(r"(?i)(?:{alt})(?:[ \t]*\([A-Z]{{3}}\))?[ \t]*[:：]?[ \t]*"))
                .expect("label pattern compiles"),
        )
    }

    /// The text after each occurrence, in order.
    pub fn all<'t>(&self, text: &'t str) -> impl Iterator<Item = After<'t>> {
        // The label must start a word. Checked here rather than in the pattern: a leading class
        // would keep the regex engine from using a literal prefilter.
        // `find_iter`, not `captures_iter`: capture groups cost a second, slower engine on every
        // match, and the one group (the currency hint) is read back from the match by hand.
        self.0.find_iter(text).filter(|m| starts_word(text, m.start())).map(move |m| {
            let rest = window(&text[m.end()..]);
            After { rest, hint: currency_hint(m.as_str()) }
        })
    }

    /// The text after the first occurrence.
    pub fn first<'t>(&self, text: &'t str) -> Option<After<'t>> {
        self.all(text).next()
    }

    /// Whether any label occurs.
    pub fn occurs(&self, text: &str) -> bool {
        self.0.find_iter(text).any(|m| starts_word(text, m.start()))
    }
}

/// The `XXX` of a matched label's `(XXX)` hint: the pattern allows a parenthesis only there.
fn currency_hint(matched: &str) -> Option<&str> {
    let open = matched.rfind('(')?;
    let code = matched.get(open + 1..open + 4)?;
    (matched[open + 4..].starts_with(')') && code.bytes().all(|b| b.is_ascii_alphabetic())).then_some(code)
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

/// The first `n` lines of `s`.
pub(crate) fn head_lines(s: &str, n: usize) -> &str {
    let end = s.match_indices('\n').nth(n.saturating_sub(1)).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_on_the_same_line_or_below() {
        let l = Labels::new(&["Check-in", "Arrivée"]);
        let d = |t: &str| l.first(t).and_then(|a| a.date(None));
        let want = NaiveDate::from_ymd_opt(2026, 7, 15);
        assert_eq!(d("Check-in Wednesday, 15 July 2026 (15:00 - 00:00)"), want);
        assert_eq!(d("Check-in\nWednesday, 15 July 2026"), want);
        assert_eq!(d("ARRIVÉE :\n\nmer. 15 juil. 2026"), want);
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
