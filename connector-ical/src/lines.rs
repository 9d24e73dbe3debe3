//! A feed's content lines, read lazily from its bytes: decoded, control bytes dropped, every line
//! end taken as one, folded lines joined. A line borrows from the feed unless it had to be
//! changed, so reading a feed costs no copy of it.

use std::borrow::Cow;

/// The logical (unfolded) lines of a feed, numbered from 1 as the unfolded text counts them.
#[derive(Clone)]
pub(crate) struct Lines<'a> {
    /// The feed, when it is valid UTF-8 (nearly always): lines are then sliced, not decoded.
    text: Option<&'a str>,
    /// Where the rest begins.
    at: usize,
    rest: &'a [u8],
    /// Whether any byte could be a control character to drop: when none is, no line is looked at.
    suspect: bool,
    /// A physical line read ahead to see whether it continued the last one.
    ahead: Option<Cow<'a, str>>,
    n: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let rest = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        // Without an early exit the scan is vectorized: a few hundred microseconds per megabyte.
        let suspect = rest.chunks(4096).any(|c| c.iter().fold(false, |acc, &b| acc | suspect(b)));
        Self { text: std::str::from_utf8(rest).ok(), at: 0, rest, suspect, ahead: None, n: 0 }
    }

    /// The next physical line, decoded and cleaned. Line ends: LF, CRLF, a lone CR, and CR…CR LF
    /// (a CRLF file converted once more), which read as several would break every folded line.
    fn physical(&mut self) -> Option<Cow<'a, str>> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr2(b'\n', b'\r', self.rest) {
            None => (self.rest, &self.rest[self.rest.len()..]),
            Some(i) if self.rest[i] == b'\n' => (&self.rest[..i], &self.rest[i + 1..]),
            Some(i) => {
                let crs = self.rest[i..].iter().take_while(|&&b| b == b'\r').count();
                // CRs not followed by LF are each a line end of their own (old Mac files).
                let next = if self.rest.get(i + crs) == Some(&b'\n') { i + crs + 1 } else { i + 1 };
                (&self.rest[..i], &self.rest[next..])
            }
        };
        let start = self.at;
        self.at += self.rest.len() - rest.len();
        self.rest = rest;
        let line = match self.text {
            // Line ends are ASCII: the line's bounds are character boundaries.
            Some(text) => Cow::Borrowed(&text[start..start + line.len()]),
            None => String::from_utf8_lossy(line),
        };
        Some(if self.suspect { clean(line) } else { line })
    }
}

impl<'a> Lines<'a> {
    /// The next logical line whose first physical line passes `keep`, unfolded. Lines that do not
    /// pass are stepped over without being joined, so a look for a few properties costs little
    /// more than finding the line ends.
    pub(crate) fn next_where(&mut self, keep: impl Fn(&str) -> bool) -> Option<Cow<'a, str>> {
        loop {
            let line = match self.ahead.take() {
                Some(l) => l,
                None => self.physical()?,
            };
            // A continuation here belongs to a line that was stepped over.
            if line.starts_with([' ', '\t']) || !keep(&line) {
                continue;
            }
            let mut line = line;
            self.unfold(&mut line);
            return Some(line);
        }
    }

    /// Appends to `line` the physical lines that continue it: each begins with one space or tab
    /// (RFC 5545 folding). The first line that does not is kept for the next call.
    fn unfold(&mut self, line: &mut Cow<'a, str>) {
        while let Some(next) = self.physical() {
            match next.strip_prefix([' ', '\t']) {
                Some(rest) => line.to_mut().push_str(rest),
                None => {
                    self.ahead = Some(next);
                    break;
                }
            }
        }
    }
}

/// A byte that may belong to a control character other than tab and the line ends (C0, DEL, or
/// the lead byte of a C1 control).
fn suspect(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f || b == 0xc2
}

/// Drops control characters other than tab (NULs and the like in real exports).
fn clean(line: Cow<'_, str>) -> Cow<'_, str> {
    if !line.bytes().any(suspect) || !line.chars().any(|c| c.is_control() && c != '\t') {
        return line;
    }
    Cow::Owned(line.chars().filter(|c| !c.is_control() || *c == '\t').collect())
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = match self.ahead.take() {
            Some(l) => l,
            None => self.physical()?,
        };
        self.unfold(&mut line);
        self.n += 1;
        Some((self.n, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<(usize, String)> {
        Lines::new(text).map(|(n, l)| (n, l.into_owned())).collect()
    }

    #[test]
    fn every_mix_of_line_ends_reads_the_same() {
        let want = all(b"A:1\n 2\nB:3\n\nC:4\n");
        assert_eq!(want, [(1, "A:12".into()), (2, "B:3".into()), (3, String::new()), (4, "C:4".into())]);
        for text in
            ["A:1\r\r\n 2\r\r\nB:3\r\r\n\rC:4\r\r\n", "A:1\r\n 2\nB:3\r\rC:4\r", "A:1\r\r\n 2\u{1}\nB:3\n\nC:4\r\r\n"]
        {
            assert_eq!(all(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn a_bom_controls_and_bad_bytes() {
        assert_eq!(all("\u{feff}A:\u{0}1\u{7f}\u{85}\t2".as_bytes()), [(1, "A:1\t2".into())]);
        assert_eq!(all(b"A:\xff\n"), [(1, "A:\u{fffd}".into())]);
        // Only the first line can begin with a space without continuing anything.
        assert_eq!(all(b" A:1\n B"), [(1, " A:1B".into())]);
        assert!(all(b"").is_empty());
    }

    #[test]
    fn stepping_over_lines_never_starts_one_inside_a_folded_line() {
        let text = b"DESCRIPTION:a\r\n UID:not-one\r\nUID:x\r\n y\r\nSUMMARY:s\r\nuid:z";
        let mut lines = Lines::new(text);
        let mut found = Vec::new();
        while let Some(l) = lines.next_where(|l| l.starts_with(['U', 'u'])) {
            found.push(l.into_owned());
        }
        assert_eq!(found, ["UID:xy", "uid:z"]);
    }

    #[test]
    fn unchanged_lines_are_borrowed() {
        let text = b"A:1\r\nB:2\r\n 3\r\n";
        let lines: Vec<_> = Lines::new(text).collect();
        assert!(matches!(lines[0].1, Cow::Borrowed("A:1")));
        assert!(matches!(&lines[1].1, Cow::Owned(s) if s == "B:23"));
    }
}
