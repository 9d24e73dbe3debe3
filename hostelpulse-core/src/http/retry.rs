//! Retry policy: exponential backoff with full jitter, bounded by attempts and total elapsed time,
//! honouring `Retry-After` and vendor reset headers.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, HeaderName, RETRY_AFTER};

/// How the backoff delay is randomized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Jitter {
    /// Uniform in `[0, ceiling]` ("full jitter"): spreads a fleet of clients best after an outage.
    Full,
    /// The ceiling itself; for tests and single-client tools.
    None,
}

/// When and how often to retry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Ceiling of the first backoff.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Retries stop once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// The longest single wait the caller accepts; a longer `Retry-After` or reset returns
    /// [`crate::Error::Throttled`] instead of sleeping.
    pub max_wait: Duration,
    /// Jitter.
    pub jitter: Jitter,
    /// Vendor headers giving seconds until a rate-limit window resets (read on throttling only).
    pub reset_headers: Vec<HeaderName>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
            max_wait: Duration::from_secs(60),
            jitter: Jitter::Full,
            reset_headers: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Sets attempts in all.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first backoff ceiling.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Sets the largest backoff ceiling.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets the total elapsed bound.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Sets the longest single wait.
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Sets the jitter.
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.jitter = j;
        self
    }

    /// Adds a vendor "seconds until reset" header.
    pub fn reset_header(mut self, name: HeaderName) -> Self {
        self.reset_headers.push(name);
        self
    }

    /// The backoff ceiling before retry number `retry` (1 for the first retry): capped exponential.
    pub fn ceiling(&self, retry: u32) -> Duration {
        // backon computes the capped exponential schedule; we only take its n-th step.
        let mut schedule = ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .without_max_times()
            .build();
        let step = schedule.nth(retry.saturating_sub(1) as usize).unwrap_or(self.max_delay);
        // backon multiplies in f32; round to whole milliseconds so schedules are exact.
        Duration::from_millis(step.as_secs_f64().mul_add(1000.0, 0.5) as u64).min(self.max_delay)
    }

    /// The delay before retry number `retry`, jittered.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => {
                let ms = ceiling.as_millis().min(u128::from(u64::MAX)) as u64;
                Duration::from_millis(rand::random_range(0..=ms))
            }
        }
    }

    /// The server's wait hint: the longest of `Retry-After` and, when `throttled`, the vendor
    /// reset headers.
    pub fn server_hint(&self, headers: &HeaderMap, throttled: bool, now: SystemTime) -> Option<Duration> {
        let mut hint = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, now));
        if throttled {
            for name in &self.reset_headers {
                if let Some(secs) = headers.get(name).and_then(|v| v.to_str().ok()).and_then(parse_seconds) {
                    hint = Some(hint.map_or(secs, |h| h.max(secs)));
                }
            }
        }
        hint
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP date. A date in the past means now.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(d) = parse_seconds(value) {
        return Some(d);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses non-negative (possibly fractional) seconds.
pub fn parse_seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(7.0 * 86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn ceilings_grow_exponentially_and_cap() {
        let p = RetryPolicy::default().base_delay(Duration::from_millis(100)).max_delay(Duration::from_secs(1));
        let c: Vec<_> = (1..=6).map(|n| p.ceiling(n).as_millis()).collect();
        assert_eq!(c, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling() {
        let p = RetryPolicy::default().base_delay(Duration::from_millis(100));
        for n in 1..=5 {
            for _ in 0..50 {
                assert!(p.backoff(n) <= p.ceiling(n));
            }
        }
        assert_eq!(p.clone().jitter(Jitter::None).backoff(3), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 22 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn the_longest_server_hint_wins_and_reset_headers_count_only_when_throttled() {
        let p = RetryPolicy::default().reset_header(HeaderName::from_static("x-five-min-limit-resets-in"));
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        h.insert("x-five-min-limit-resets-in", HeaderValue::from_static("42.5"));
        let now = SystemTime::now();
        assert_eq!(p.server_hint(&h, true, now), Some(Duration::from_millis(42_500)));
        assert_eq!(p.server_hint(&h, false, now), Some(Duration::from_secs(5)));
        assert_eq!(p.server_hint(&HeaderMap::new(), true, now), None);
    }
}
