//! Guest contact details out of everything that is not the host's own booking data: masks for
//! exports, and a scrubber for free text (audit failures and warnings quote what a source sent,
//! and a misaligned CSV column or a vendor's error message can carry an e-mail or a phone number).

use std::borrow::Cow;

/// The first character of the local part, then `***`, then the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Every digit but the last two replaced.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let keep = digits.len().saturating_sub(2);
    digits.iter().enumerate().map(|(i, d)| if i < keep { '•' } else { *d }).collect()
}

/// `text` with every e-mail address and every international phone number (`+` and at least
/// seven digits, spaces, dots, dashes or brackets between them) masked. Ids and dates are left
/// alone: a bare run of digits is not taken for a phone.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if !text.contains('@') && !text.contains('+') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while !rest.is_empty() {
        if let Some((len, masked)) = email_at(rest).or_else(|| phone_at(rest)) {
            out.push_str(&masked);
            rest = &rest[len..];
            changed = true;
            continue;
        }
        // Copy up to the start of the next word.
        let next =
            rest.char_indices().skip(1).find(|(i, c)| is_token_start(*c, &rest[..*i])).map_or(rest.len(), |(i, _)| i);
        out.push_str(&rest[..next]);
        rest = &rest[next..];
    }
    if changed { Cow::Owned(out) } else { Cow::Borrowed(text) }
}

fn is_token_start(c: char, before: &str) -> bool {
    let prev = before.chars().last();
    (c == '+' || c.is_alphanumeric()) && prev.is_none_or(|p| !p.is_alphanumeric() && p != '.' && p != '_' && p != '-')
}

fn is_local(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '%')
}

/// An e-mail address starting at the beginning of `s`: its length and its mask.
fn email_at(s: &str) -> Option<(usize, String)> {
    let at = s.find(|c: char| !is_local(c)).filter(|i| s[*i..].starts_with('@'))?;
    if at == 0 {
        return None;
    }
    let domain_len =
        s[at + 1..].find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-')).unwrap_or(s.len() - at - 1);
    let domain = s[at + 1..at + 1 + domain_len].trim_end_matches('.');
    if !domain.contains('.') || domain.starts_with('.') {
        return None;
    }
    let len = at + 1 + domain.len();
    Some((len, mask_email(&s[..len])))
}

/// An international phone number starting at the beginning of `s`.
fn phone_at(s: &str) -> Option<(usize, String)> {
    let body = s.strip_prefix('+')?;
    let mut digits = 0;
    let mut len = 0;
    for (i, c) in body.char_indices() {
        if c.is_ascii_digit() {
            digits += 1;
            len = i + 1;
        } else if !matches!(c, ' ' | '.' | '-' | '(' | ')') {
            break;
        }
    }
    (digits >= 7).then(|| (len + 1, format!("+{}", mask_phone(&body[..len]))))
}

/// Whether `text` holds what looks like a payment card number: 13 to 19 digits (spaces or
/// dashes between them allowed) that pass the Luhn check. Vendors refuse such numbers in free
/// text (Cloudbeds documents it), and they must never travel in a note.
pub fn has_card_number(text: &str) -> bool {
    let mut digits: Vec<u32> = Vec::new();
    let check = |digits: &mut Vec<u32>| {
        let found = (13..=19).contains(&digits.len()) && luhn(digits);
        digits.clear();
        found
    };
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if let Some(d) = c.to_digit(10) {
            digits.push(d);
        } else if matches!(c, ' ' | '-') && !digits.is_empty() && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            continue;
        } else if check(&mut digits) {
            return true;
        }
    }
    check(&mut digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { *d })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_in_free_text_are_masked_and_the_rest_kept() {
        assert_eq!(
            scrub("line 7 column Arrival: `ana.lima@example.com` is not a date"),
            "line 7 column Arrival: `a***@example.com` is not a date"
        );
        assert_eq!(scrub("call +351 912 345 678 now"), "call +••••••••••78 now");
        assert_eq!(scrub("booking 71234567 on 2026-12-01, total +84"), "booking 71234567 on 2026-12-01, total +84");
        assert!(matches!(scrub("no contact here"), Cow::Borrowed(_)));
        assert_eq!(scrub("a@b"), "a@b", "not an address without a domain");
        assert_eq!(scrub("x foo.bar@mail.example.org."), "x f***@mail.example.org.");
        assert_eq!(mask_phone("+353 15133590"), "•••••••••90");
    }

    #[test]
    fn card_numbers_are_found_by_length_and_luhn() {
        assert!(has_card_number("card 4111 1111 1111 1111 exp 12/28"));
        assert!(has_card_number("4111-1111-1111-1111"));
        assert!(has_card_number("pan:5500000000000004."));
        assert!(!has_card_number("4111 1111 1111 1112"), "fails Luhn");
        assert!(!has_card_number("booking 71234567, phone +351 912 345 678"), "ids and phones are not cards");
        assert!(!has_card_number("HW-558812345 paid 84.00"));
    }
}
