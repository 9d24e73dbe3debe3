//! Query strings and headers as the emulators read them (keys may repeat).

use axum::http::HeaderMap;
use chrono::NaiveDate;

/// Decoded `key=value` pairs, in order.
pub(crate) fn params(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

/// Every value of `key`.
pub(crate) fn all<'a>(p: &'a [(String, String)], key: &str) -> impl Iterator<Item = &'a str> {
    p.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The first value of `key`.
pub(crate) fn one<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
    all(p, key).next()
}

/// The first value of `key` as a date.
pub(crate) fn date(p: &[(String, String)], key: &str) -> Option<NaiveDate> {
    one(p, key).and_then(|v| v.parse().ok())
}

/// A header as text.
pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}
