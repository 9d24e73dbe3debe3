use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a delivery was rejected. Nothing here echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature header is missing.
    #[error("missing signature header `{0}`")]
    MissingSignature(String),
    /// No active secret produces this signature.
    #[error("signature does not match")]
    BadSignature,
    /// The timestamp header is missing or unreadable.
    #[error("missing or unreadable timestamp header `{0}`")]
    MissingTimestamp(String),
    /// The timestamp is outside the tolerance (either direction).
    #[error("timestamp {skew_secs} s away from now, tolerance {tolerance_secs} s")]
    StaleTimestamp {
        /// Seconds between the timestamp and now (negative: in the future).
        skew_secs: i64,
        /// The tolerance.
        tolerance_secs: i64,
    },
    /// The static secret header is missing or wrong.
    #[error("shared-secret header `{0}` missing or wrong")]
    BadStaticHeader(String),
    /// The URL secret is missing or wrong.
    #[error("URL secret missing or wrong")]
    BadUrlSecret,
    /// The sender's address is not on the allow-list.
    #[error("sender {0} is not on the allow-list")]
    IpNotAllowed(IpAddr),
    /// The sender's address is unknown but an allow-list is configured.
    #[error("sender address unknown; an allow-list is configured")]
    UnknownSender,
    /// The delivery was seen before (same event id or body) within the replay window.
    #[error("duplicate delivery")]
    Replay,
    /// The body is larger than allowed.
    #[error("body of {0} bytes is larger than allowed")]
    TooLarge(usize),
}

/// An HMAC-SHA256 signature scheme.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HmacScheme {
    /// Header carrying the hex signature (an optional `sha256=` prefix is accepted).
    pub signature_header: String,
    /// Header carrying a Unix timestamp that is signed too, as `"{timestamp}.{body}"`.
    pub timestamp_header: Option<String>,
    /// Allowed distance between the timestamp and now, in both directions.
    pub tolerance: Duration,
}

impl HmacScheme {
    /// Signature over the body only.
    pub fn body(signature_header: impl Into<String>) -> Self {
        Self { signature_header: signature_header.into(), timestamp_header: None, tolerance: Duration::from_secs(300) }
    }

    /// Signature over `"{timestamp}.{body}"`, with a tolerance.
    pub fn timestamped(
        signature_header: impl Into<String>,
        timestamp_header: impl Into<String>,
        tolerance: Duration,
    ) -> Self {
        Self { signature_header: signature_header.into(), timestamp_header: Some(timestamp_header.into()), tolerance }
    }
}

/// Signs a body the way [`HmacScheme`] verifies it; for emulators and tests.
pub fn sign_hmac(secret: &SecretString, timestamp: Option<i64>, body: &[u8]) -> String {
    let mut mac = new_mac(secret);
    if let Some(ts) = timestamp {
        mac.update(ts.to_string().as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn new_mac(secret: &SecretString) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// What arrived: raw body, headers, the secret segment of the URL it was posted to, and the peer.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// Headers.
    pub headers: &'a HeaderMap,
    /// The raw body, before any parsing.
    pub body: &'a [u8],
    /// The secret part of the URL path or query, when the route has one.
    pub url_secret: Option<&'a str>,
    /// The sender's address (after trusted proxies), when known.
    pub remote_ip: Option<IpAddr>,
}

/// Checks deliveries against what a connector configured. Every configured check must pass.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct WebhookVerifier {
    hmac: Option<(HmacScheme, Vec<SecretString>)>,
    static_header: Option<(String, Vec<SecretString>)>,
    url_secrets: Vec<SecretString>,
    allow: Vec<IpNet>,
    max_body: Option<usize>,
}

impl WebhookVerifier {
    /// A verifier with no checks; add them with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires an HMAC signature made with any of `secrets` (several while rotating).
    pub fn hmac(mut self, scheme: HmacScheme, secrets: Vec<SecretString>) -> Self {
        self.hmac = Some((scheme, secrets));
        self
    }

    /// Requires header `name` to equal one of `values`.
    pub fn static_header(mut self, name: impl Into<String>, values: Vec<SecretString>) -> Self {
        self.static_header = Some((name.into(), values));
        self
    }

    /// Requires the URL secret to equal one of `secrets`.
    pub fn url_secret(mut self, secrets: Vec<SecretString>) -> Self {
        self.url_secrets = secrets;
        self
    }

    /// Requires the sender to be in one of these networks.
    pub fn allow_ips(mut self, nets: Vec<IpNet>) -> Self {
        self.allow = nets;
        self
    }

    /// Rejects bodies larger than `bytes`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Verifies a delivery at time `now`.
    pub fn verify(&self, d: &Delivery<'_>, now: DateTime<Utc>) -> Result<(), WebhookError> {
        if let Some(max) = self.max_body
            && d.body.len() > max
        {
            return Err(WebhookError::TooLarge(d.body.len()));
        }
        if !self.allow.is_empty() {
            let ip = d.remote_ip.ok_or(WebhookError::UnknownSender)?;
            let ip = canonical(ip);
            if !self.allow.iter().any(|n| n.contains(&ip)) {
                return Err(WebhookError::IpNotAllowed(ip));
            }
        }
        if !self.url_secrets.is_empty() {
            let given = d.url_secret.ok_or(WebhookError::BadUrlSecret)?;
            if !any_equal(&self.url_secrets, given.as_bytes()) {
                return Err(WebhookError::BadUrlSecret);
            }
        }
        if let Some((name, values)) = &self.static_header {
            let given = d.headers.get(name.as_str()).ok_or_else(|| WebhookError::BadStaticHeader(name.clone()))?;
            if !any_equal(values, given.as_bytes()) {
                return Err(WebhookError::BadStaticHeader(name.clone()));
            }
        }
        if let Some((scheme, secrets)) = &self.hmac {
            verify_hmac(scheme, secrets, d, now)?;
        }
        Ok(())
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Constant-time comparison against every candidate (no early exit on the first match). An empty
/// configured secret matches nothing, so a misconfiguration can never accept an empty header.
fn any_equal(candidates: &[SecretString], given: &[u8]) -> bool {
    let mut ok = subtle::Choice::from(0);
    for c in candidates {
        let c = c.expose_secret().as_bytes();
        ok |= c.ct_eq(given) & subtle::Choice::from(u8::from(!c.is_empty()));
    }
    ok.into()
}

/// The shortest webhook secret (header value or URL path secret) accepted: 16 characters, about
/// 80 bits when random. A generated secret (`generate_secret`) has 64 hex characters.
pub const MIN_SECRET_LEN: usize = 16;

/// Refuses an empty or short webhook secret, as a configuration error naming `what`.
pub fn check_secret(secret: &SecretString, what: &str) -> crate::Result<()> {
    let n = secret.expose_secret().chars().count();
    if n < MIN_SECRET_LEN {
        return Err(crate::Error::config(format!(
            "{what} is {n} characters long: webhook secrets need at least {MIN_SECRET_LEN} (generate one, e.g. `openssl rand -hex 32`)"
        )));
    }
    Ok(())
}

fn verify_hmac(
    scheme: &HmacScheme,
    secrets: &[SecretString],
    d: &Delivery<'_>,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let sig_header = d
        .headers
        .get(scheme.signature_header.as_str())
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| WebhookError::MissingSignature(scheme.signature_header.clone()))?;
    let sig_hex = sig_header.trim().trim_start_matches("sha256=");
    let sig = hex::decode(sig_hex).map_err(|_| WebhookError::BadSignature)?;
    let timestamp = match &scheme.timestamp_header {
        Some(h) => {
            let ts: i64 = d
                .headers
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| WebhookError::MissingTimestamp(h.clone()))?;
            let skew = now.timestamp() - ts;
            let tol = scheme.tolerance.as_secs() as i64;
            if skew.abs() > tol {
                return Err(WebhookError::StaleTimestamp { skew_secs: skew, tolerance_secs: tol });
            }
            Some(ts)
        }
        None => None,
    };
    for secret in secrets {
        let mut mac = new_mac(secret);
        if let Some(ts) = timestamp {
            mac.update(ts.to_string().as_bytes());
            mac.update(b".");
        }
        mac.update(d.body);
        // verify_slice compares in constant time.
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookError::BadSignature)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use http::HeaderValue;

    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn delivery<'a>(h: &'a HeaderMap, body: &'a [u8]) -> Delivery<'a> {
        Delivery { headers: h, body, url_secret: None, remote_ip: None }
    }

    #[test]
    fn hmac_accepts_any_active_secret_during_rotation() {
        let clock = ManualClock::new("2026-11-22T10:00:00Z".parse().unwrap());
        let body = br#"{"event":"x"}"#;
        let scheme = HmacScheme::timestamped("x-signature", "x-timestamp", Duration::from_secs(300));
        let v = WebhookVerifier::new().hmac(scheme, vec![secret("new"), secret("old")]);
        let ts = clock.now().timestamp();
        for key in ["old", "new"] {
            let sig = sign_hmac(&secret(key), Some(ts), body);
            let h = headers(&[("x-signature", format!("sha256={sig}")), ("x-timestamp", ts.to_string())]);
            assert_eq!(v.verify(&delivery(&h, body), clock.now()), Ok(()), "key {key}");
        }
        let forged = sign_hmac(&secret("retired"), Some(ts), body);
        let h = headers(&[("x-signature", forged), ("x-timestamp", ts.to_string())]);
        assert_eq!(v.verify(&delivery(&h, body), clock.now()), Err(WebhookError::BadSignature));
        // A changed body fails.
        let sig = sign_hmac(&secret("new"), Some(ts), body);
        let h = headers(&[("x-signature", sig), ("x-timestamp", ts.to_string())]);
        assert_eq!(v.verify(&delivery(&h, b"{\"event\":\"y\"}"), clock.now()), Err(WebhookError::BadSignature));
    }

    #[test]
    fn timestamps_are_checked_in_both_directions() {
        let clock = ManualClock::new("2026-11-22T10:00:00Z".parse().unwrap());
        let body = b"{}";
        let v = WebhookVerifier::new()
            .hmac(HmacScheme::timestamped("sig", "ts", Duration::from_secs(300)), vec![secret("k")]);
        let at = |offset: i64| {
            let ts = clock.now().timestamp() + offset;
            headers(&[("sig", sign_hmac(&secret("k"), Some(ts), body)), ("ts", ts.to_string())])
        };
        assert!(v.verify(&delivery(&at(-300), body), clock.now()).is_ok());
        assert!(v.verify(&delivery(&at(300), body), clock.now()).is_ok());
        assert_eq!(
            v.verify(&delivery(&at(-301), body), clock.now()),
            Err(WebhookError::StaleTimestamp { skew_secs: 301, tolerance_secs: 300 })
        );
        assert_eq!(
            v.verify(&delivery(&at(301), body), clock.now()),
            Err(WebhookError::StaleTimestamp { skew_secs: -301, tolerance_secs: 300 })
        );
        let no_ts = headers(&[("sig", sign_hmac(&secret("k"), None, body))]);
        assert_eq!(v.verify(&delivery(&no_ts, body), clock.now()), Err(WebhookError::MissingTimestamp("ts".into())));
    }

    #[test]
    fn empty_and_short_secrets_never_pass() {
        let v = WebhookVerifier::new().static_header("x-hook-secret", vec![secret("")]);
        let mut h = HeaderMap::new();
        h.insert("x-hook-secret", HeaderValue::from_static(""));
        let d = Delivery { headers: &h, body: b"{}", url_secret: None, remote_ip: None };
        assert!(v.verify(&d, Utc::now()).is_err(), "an empty configured secret accepts nothing");
        assert!(check_secret(&secret(""), "secret").is_err());
        assert!(check_secret(&secret("short-secret"), "secret").is_err());
        assert!(check_secret(&secret("0123456789abcdef"), "secret").is_ok());
    }

    #[test]
    fn static_header_url_secret_and_ip_allow_list() {
        let now = Utc::now();
        let v = WebhookVerifier::new()
            .static_header("x-hostelpulse-key", vec![secret("abc")])
            .url_secret(vec![secret("u-123"), secret("u-old")])
            .allow_ips(vec!["52.1.2.0/24".parse().unwrap()]);
        let h = headers(&[("x-hostelpulse-key", "abc".into())]);
        let ok = Delivery {
            headers: &h,
            body: b"{}",
            url_secret: Some("u-old"),
            remote_ip: Some(IpAddr::V4(Ipv4Addr::new(52, 1, 2, 9))),
        };
        assert_eq!(v.verify(&ok, now), Ok(()));
        // IPv4-mapped IPv6 peers are matched as IPv4.
        let mapped = Delivery { remote_ip: Some("::ffff:52.1.2.9".parse().unwrap()), ..ok };
        assert_eq!(v.verify(&mapped, now), Ok(()));
        let wrong_ip = Delivery { remote_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), ..ok };
        assert!(matches!(v.verify(&wrong_ip, now), Err(WebhookError::IpNotAllowed(_))));
        assert_eq!(v.verify(&Delivery { remote_ip: None, ..ok }, now), Err(WebhookError::UnknownSender));
        assert_eq!(v.verify(&Delivery { url_secret: Some("u-12"), ..ok }, now), Err(WebhookError::BadUrlSecret));
        let bad = headers(&[("x-hostelpulse-key", "abd".into())]);
        assert_eq!(
            v.verify(&Delivery { headers: &bad, ..ok }, now),
            Err(WebhookError::BadStaticHeader("x-hostelpulse-key".into()))
        );
    }

    #[test]
    fn oversized_bodies_are_rejected_and_errors_do_not_leak_secrets() {
        let v = WebhookVerifier::new().max_body(4).url_secret(vec![secret("topsecret")]);
        let h = HeaderMap::new();
        assert_eq!(v.verify(&delivery(&h, b"12345"), Utc::now()), Err(WebhookError::TooLarge(5)));
        assert!(!format!("{v:?}").contains("topsecret"));
        let err = v.verify(&Delivery { url_secret: Some("guess"), ..delivery(&h, b"1") }, Utc::now()).unwrap_err();
        assert!(!err.to_string().contains("topsecret"));
    }
}
