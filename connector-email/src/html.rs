//! HTML bodies as line-oriented text.
//!
//! mail-parser's own `html_to_text` breaks lines only at `<br>` and `</p>`, which runs the cells
//! of a table and the blocks of a layout into one line. Booking mails are tables, so this keeps
//! their shape: block elements end a line, table rows end a line and cells are separated by a
//! tab. Entities are decoded by mail-parser.

use mail_parser::decoders::html::html_to_text as decode_entities;

/// What an element means for the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Element {
    /// Its content is never text (`head`, `style`, `script`, …).
    Skipped,
    /// It starts and ends a line (`p`, `div`, `tr`, `br`, …).
    Line,
    /// A table cell: its end is a tab.
    Cell,
    /// Anything else.
    Other,
}

/// What the element `name` (any case) is. One `match` over the lower-cased name: a mail's HTML
/// has thousands of tags, and comparing each with every listed name was a tenth of the parse.
fn element(name: &str) -> Element {
    let mut lower = [0u8; 10];
    let Some(buf) = lower.get_mut(..name.len()) else { return Element::Other };
    for (d, s) in buf.iter_mut().zip(name.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    match &*buf {
        b"head" | b"style" | b"script" | b"title" | b"template" | b"noscript" => Element::Skipped,
        b"br" | b"p" | b"div" | b"tr" | b"table" | b"tbody" | b"thead" | b"li" | b"ul" | b"ol" | b"h1" | b"h2"
        | b"h3" | b"h4" | b"h5" | b"h6" | b"blockquote" | b"section" | b"article" | b"header" | b"footer"
        | b"center" | b"hr" | b"pre" => Element::Line,
        b"td" | b"th" => Element::Cell,
        _ => Element::Other,
    }
}

/// Converts an HTML document or fragment to text.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 4);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while let Some(lt) = memchr::memchr(b'<', &bytes[i..]) {
        i += lt;
        push_text(&mut out, &html[text_start..i]);
        if html[i..].starts_with("<!--") {
            i = memchr::memmem::find(&bytes[i..], b"-->").map_or(bytes.len(), |e| i + e + 3);
            text_start = i;
            continue;
        }
        let (tag, end) = match memchr::memchr(b'>', &bytes[i..]) {
            Some(e) => (&html[i + 1..i + e], i + e + 1),
            None => (&html[i + 1..], bytes.len()),
        };
        let closing = tag.starts_with('/');
        let name = tag.trim_start_matches('/');
        let name = &name[..name.bytes().position(|b| !b.is_ascii_alphanumeric()).unwrap_or(name.len())];
        let element = element(name);
        i = end;
        if !closing && element == Element::Skipped {
            // Skip to the matching close tag; a document that never closes it has no more text.
            i = find_close(&html[i..], name).map_or(bytes.len(), |p| {
                let after = i + p;
                memchr::memchr(b'>', &bytes[after..]).map_or(bytes.len(), |e| after + e + 1)
            });
        } else if element == Element::Line {
            newline(&mut out);
        } else if closing && element == Element::Cell {
            out.push('\t');
        }
        text_start = i;
    }
    push_text(&mut out, &html[text_start.min(html.len())..]);
    tidy(&out, 1)
}

/// Where `</name` begins in `hay`, the name in any case.
fn find_close(hay: &str, name: &str) -> Option<usize> {
    let b = hay.as_bytes();
    memchr::memmem::find_iter(b, b"</")
        .find(|&at| b.get(at + 2..at + 2 + name.len()).is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes())))
}

fn push_text(out: &mut String, run: &str) {
    if run.trim().is_empty() {
        if !run.is_empty() && !out.ends_with([' ', '\n', '\t']) && !out.is_empty() {
            out.push(' ');
        }
        return;
    }
    if run.starts_with(char::is_whitespace) && !out.ends_with([' ', '\n', '\t']) && !out.is_empty() {
        out.push(' ');
    }
    let b = run.as_bytes();
    if memchr::memchr(b'&', b).is_some() {
        out.push_str(decode_entities(run).trim());
    } else if run.is_ascii()
        && memchr::memchr3(b'\n', b'\r', b'\t', b).is_none()
        && memchr::memchr2(0x0b, 0x0c, b).is_none()
        && memchr::memmem::find(b, b"  ").is_none()
    {
        // Words already one space apart (most runs): what the split below would give.
        out.push_str(run.trim_matches(' '));
    } else {
        let mut first = true;
        for word in run.split_whitespace() {
            if !first {
                out.push(' ');
            }
            out.push_str(word);
            first = false;
        }
    }
    if run.ends_with(char::is_whitespace) {
        out.push(' ');
    }
}

fn newline(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    out.push('\n');
}

/// Trims every line and keeps at most `max_blank` blank lines in a row (none at the start or end).
pub(crate) fn tidy(text: &str, max_blank: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = usize::MAX;
    for line in text.lines() {
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\u{a0}');
        if line.is_empty() {
            blank = blank.saturating_add(1);
            if blank > max_blank {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_table_rows_and_cells() {
        let t = to_text(
            "<html><head><style>td{color:red}</style></head><body><table><tr><td>Check-in<br>Nhận phòng</td>\
             <td>30-Sep-2026</td></tr><tr><td>Net rate</td><td>VND 1,200,000.00</td></tr></table></body></html>",
        );
        assert_eq!(t, "Check-in\nNhận phòng\t30-Sep-2026\n\nNet rate\tVND 1,200,000.00\n");
    }

    #[test]
    fn decodes_entities_and_skips_comments() {
        let t = to_text("<div>De : Expedia Group &lt;booknotif@expedia.com&gt;</div><!-- x --><p>Taxes &amp; fees</p>");
        assert_eq!(t, "De : Expedia Group <booknotif@expedia.com>\n\nTaxes & fees\n");
    }

    #[test]
    fn every_element_name_is_told_in_any_case() {
        for (name, want) in [
            ("STYLE", Element::Skipped),
            ("noScript", Element::Skipped),
            ("Br", Element::Line),
            ("BLOCKQUOTE", Element::Line),
            ("h6", Element::Line),
            ("TD", Element::Cell),
            ("th", Element::Cell),
            ("span", Element::Other),
            ("", Element::Other),
            ("blockquotes", Element::Other),
            ("a-very-long-custom-element", Element::Other),
        ] {
            assert!(element(name) == want, "{name}");
        }
    }

    #[test]
    fn text_runs_keep_one_space_between_words() {
        for run in ["a b", " a  b ", "a\tb\nc", "é  ü", "a\u{a0}b", "\u{2003}x y\u{2003}", "a\x0bb", "a\x0cb", "plain"]
        {
            let mut fast = String::from("x");
            push_text(&mut fast, run);
            let mut want = String::from("x");
            if run.starts_with(char::is_whitespace) {
                want.push(' ');
            }
            want.push_str(&run.split_whitespace().collect::<Vec<_>>().join(" "));
            if run.ends_with(char::is_whitespace) {
                want.push(' ');
            }
            assert_eq!(fast, want, "{run:?}");
        }
    }

    #[test]
    fn survives_broken_markup() {
        for s in ["<", "<div", "<style>never closed", "a <!-- b", "<td>x</td", "</>", "<<<>>>"] {
            let _ = to_text(s);
        }
    }
}
