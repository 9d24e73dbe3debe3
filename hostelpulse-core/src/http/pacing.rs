//! Pacing before sending: per-account limiters shared by every client of that account.
//!
//! - a requests-per-second limiter (governor, GCRA),
//! - a weighted credit budget over a window, updated from response headers (Beds24 charges
//!   fractional credits per request in a 5-minute window),
//! - optionally one request at a time,
//! - a retry budget (token bucket) so an outage does not become a retry storm.
//!
//! Waits use tokio's clock, so tests run under a paused clock without sleeping.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock as GovernorClock, ReasonablyRealtime};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderName};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// governor's clock, driven by tokio's (pausable) time.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl GovernorClock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        Instant::now().into_std()
    }
}

impl ReasonablyRealtime for TokioClock {}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>;

/// Header names a vendor reports its credit budget in. Several names per field are allowed
/// (a vendor may document one spelling and send another); matching is case-insensitive.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CreditHeaders {
    /// Credits remaining in the window.
    pub remaining: Vec<HeaderName>,
    /// Seconds until the window resets.
    pub resets_in: Vec<HeaderName>,
    /// What the request just made cost.
    pub cost: Vec<HeaderName>,
    /// The window's total.
    pub limit: Vec<HeaderName>,
}

impl CreditHeaders {
    /// Names for each field.
    pub fn new(
        remaining: &[&'static str],
        resets_in: &[&'static str],
        cost: &[&'static str],
        limit: &[&'static str],
    ) -> Self {
        let names = |v: &[&'static str]| v.iter().map(|s| HeaderName::from_static(s)).collect();
        Self { remaining: names(remaining), resets_in: names(resets_in), cost: names(cost), limit: names(limit) }
    }
}

/// A weighted credit budget over a rolling window.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CreditConfig {
    /// Credits per window.
    pub limit: f64,
    /// The window.
    pub window: Duration,
    /// The cost assumed before the source has told us one. Never zero: a missing cost header is
    /// not a free request.
    pub default_cost: f64,
    /// Where the source reports the budget.
    pub headers: CreditHeaders,
}

impl CreditConfig {
    /// A budget of `limit` credits per `window`.
    pub fn new(limit: f64, window: Duration, headers: CreditHeaders) -> Self {
        Self { limit, window, default_cost: 1.0, headers }
    }

    /// Sets the default cost.
    pub fn default_cost(mut self, cost: f64) -> Self {
        self.default_cost = if cost > 0.0 { cost } else { 1.0 };
        self
    }
}

#[derive(Debug)]
struct CreditState {
    remaining: f64,
    resets_at: Option<Instant>,
    next_cost: f64,
}

/// Pacing configuration for one account.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PacingConfig {
    /// Requests per second, strict: at most this many in any one-second window.
    pub requests_per_second: Option<NonZeroU32>,
    /// A credit budget.
    pub credits: Option<CreditConfig>,
    /// Send one request at a time.
    pub serial: bool,
    /// Retry budget capacity (retries that may be spent at once) and refill per minute.
    pub retry_budget: Option<(NonZeroU32, NonZeroU32)>,
    /// Added to the interval between requests. The source counts arrivals, not sends: network
    /// jitter can bunch evenly spaced requests, so a limit that suspends needs headroom.
    pub rate_margin: Duration,
}

impl PacingConfig {
    /// Sets a strict request rate.
    pub fn requests_per_second(mut self, n: u32) -> Self {
        self.requests_per_second = NonZeroU32::new(n);
        self
    }

    /// Sets the headroom added to the interval between requests.
    pub fn rate_margin(mut self, margin: Duration) -> Self {
        self.rate_margin = margin;
        self
    }

    /// Sets a credit budget.
    pub fn credits(mut self, c: CreditConfig) -> Self {
        self.credits = Some(c);
        self
    }

    /// One request at a time.
    pub fn serial(mut self, yes: bool) -> Self {
        self.serial = yes;
        self
    }

    /// Sets the retry budget.
    pub fn retry_budget(mut self, capacity: u32, per_minute: u32) -> Self {
        self.retry_budget = NonZeroU32::new(capacity).zip(NonZeroU32::new(per_minute));
        self
    }
}

/// The pacer refused to wait: the next slot is further away than the caller allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTooLong {
    /// How long the wait would be.
    pub wait: Duration,
}

/// Held while a request is in flight.
#[derive(Debug)]
pub struct Permit {
    _serial: Option<OwnedSemaphorePermit>,
    /// Time spent waiting for this permit.
    pub waited: Duration,
}

/// Per-account limiters. Share one `Arc<Pacer>` between every client of the same account.
#[derive(Debug)]
pub struct Pacer {
    rps: Option<Limiter>,
    credits: Option<(CreditConfig, Mutex<CreditState>)>,
    serial: Option<std::sync::Arc<Semaphore>>,
    retries: Option<Limiter>,
    waited_ms: AtomicU64,
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new(PacingConfig::default())
    }
}

impl Pacer {
    /// A pacer with this configuration.
    pub fn new(cfg: PacingConfig) -> Self {
        // Burst 1 makes the rate strict: GCRA with a larger burst lets almost twice the rate
        // through in one window, which a vendor that suspends credentials would not forgive.
        let rps = cfg.requests_per_second.map(|n| {
            let period = Duration::from_secs(1) / n.get() + cfg.rate_margin;
            let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(n)).allow_burst(NonZeroU32::MIN);
            RateLimiter::direct_with_clock(quota, TokioClock)
        });
        let retries = cfg.retry_budget.map(|(cap, per_min)| {
            RateLimiter::direct_with_clock(Quota::per_minute(per_min).allow_burst(cap), TokioClock)
        });
        let credits = cfg.credits.map(|c| {
            let state = CreditState { remaining: c.limit, resets_at: None, next_cost: c.default_cost };
            (c, Mutex::new(state))
        });
        Self {
            rps,
            credits,
            serial: cfg.serial.then(|| std::sync::Arc::new(Semaphore::new(1))),
            retries,
            waited_ms: AtomicU64::new(0),
        }
    }

    /// Total time spent waiting in this pacer.
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(Ordering::Relaxed))
    }

    /// Credits believed to remain (for status displays).
    pub fn credits_remaining(&self) -> Option<f64> {
        self.credits.as_ref().map(|(_, s)| lock(s).remaining)
    }

    /// Waits for a slot, at most `max_wait`.
    pub async fn acquire(&self, max_wait: Duration) -> Result<Permit, WaitTooLong> {
        let started = Instant::now();
        let serial = match &self.serial {
            Some(sem) => sem.clone().acquire_owned().await.ok(),
            None => None,
        };
        loop {
            let wait = self.credit_wait().max(self.rps_wait());
            if wait.is_zero() {
                break;
            }
            let so_far = started.elapsed();
            if so_far + wait > max_wait {
                return Err(WaitTooLong { wait: so_far + wait });
            }
            tokio::time::sleep(wait).await;
        }
        self.spend_credit();
        let waited = started.elapsed();
        self.waited_ms.fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
        Ok(Permit { _serial: serial, waited })
    }

    /// Whether one more retry fits in the retry budget (spends it if so).
    pub fn try_retry(&self) -> bool {
        self.retries.as_ref().is_none_or(|l| l.check().is_ok())
    }

    /// Records a wait spent outside `acquire` (a `Retry-After` sleep).
    pub fn record_wait(&self, d: Duration) {
        self.waited_ms.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
    }

    /// Updates the credit budget from a response's headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some((cfg, state)) = &self.credits else { return };
        let num =
            |names: &[HeaderName]| names.iter().find_map(|n| headers.get(n)?.to_str().ok()?.trim().parse::<f64>().ok());
        let mut s = lock(state);
        if let Some(r) = num(&cfg.headers.remaining) {
            s.remaining = r;
        }
        if let Some(secs) = num(&cfg.headers.resets_in).filter(|s| s.is_finite() && *s >= 0.0) {
            s.resets_at = Some(Instant::now() + Duration::from_secs_f64(secs.min(cfg.window.as_secs_f64() * 2.0)));
        }
        if let Some(c) = num(&cfg.headers.cost).filter(|c| *c > 0.0) {
            s.next_cost = c;
        }
    }

    /// Marks the budget exhausted until `resets_in` from now (a 429 from a credit-based source).
    pub fn exhausted(&self, resets_in: Duration) {
        if let Some((_, state)) = &self.credits {
            let mut s = lock(state);
            s.remaining = 0.0;
            s.resets_at = Some(Instant::now() + resets_in);
        }
    }

    fn rps_wait(&self) -> Duration {
        match &self.rps {
            Some(l) => match l.check() {
                Ok(()) => Duration::ZERO,
                Err(not_until) => not_until.wait_time_from(TokioClock.now()).max(Duration::from_millis(1)),
            },
            None => Duration::ZERO,
        }
    }

    fn credit_wait(&self) -> Duration {
        let Some((cfg, state)) = &self.credits else { return Duration::ZERO };
        let mut s = lock(state);
        let now = Instant::now();
        if let Some(at) = s.resets_at
            && now >= at
        {
            s.remaining = cfg.limit;
            s.resets_at = None;
        }
        if s.remaining >= s.next_cost {
            return Duration::ZERO;
        }
        match s.resets_at {
            Some(at) => at - now,
            // No reset time known: assume the window is a full one from now.
            None => {
                s.resets_at = Some(now + cfg.window);
                cfg.window
            }
        }
    }

    fn spend_credit(&self) {
        if let Some((_, state)) = &self.credits {
            let mut s = lock(state);
            s.remaining -= s.next_cost;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn beds24_like() -> CreditConfig {
        CreditConfig::new(
            100.0,
            Duration::from_secs(300),
            CreditHeaders::new(
                &["x-five-min-limit-remaining", "x-fivemincreditlimit-remaining"],
                &["x-five-min-limit-resets-in", "x-fivemincreditlimit-resetsin"],
                &["x-request-cost", "x-requestcost"],
                &["x-fivemincreditlimit"],
            ),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn strict_rate_allows_n_per_second_and_no_burst() {
        let p = Pacer::new(PacingConfig::default().requests_per_second(5));
        let t0 = Instant::now();
        let mut at = Vec::new();
        for _ in 0..11 {
            p.acquire(Duration::from_secs(10)).await.unwrap();
            at.push((Instant::now() - t0).as_millis());
        }
        // One every 200 ms: never more than 5 in any 1 s window.
        for w in at.windows(6) {
            assert!(w[5] - w[0] >= 1000, "{at:?}");
        }
        assert_eq!(at[10], 2000);
        assert_eq!(p.waited(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_margin_widens_the_interval() {
        let p = Pacer::new(PacingConfig::default().requests_per_second(5).rate_margin(Duration::from_millis(20)));
        let t0 = Instant::now();
        for _ in 0..6 {
            p.acquire(Duration::from_secs(10)).await.unwrap();
        }
        // The sixth request goes out 5 × 220 ms after the first: 100 ms of headroom for jitter.
        assert_eq!(Instant::now() - t0, Duration::from_millis(1100));
    }

    #[tokio::test(start_paused = true)]
    async fn credits_follow_the_headers_and_wait_for_the_reset() {
        let p = Pacer::new(PacingConfig::default().credits(beds24_like()));
        let mut h = HeaderMap::new();
        h.insert("x-five-min-limit-remaining", HeaderValue::from_static("1.4"));
        h.insert("x-five-min-limit-resets-in", HeaderValue::from_static("90"));
        h.insert("x-request-cost", HeaderValue::from_static("1.6"));
        p.acquire(Duration::from_secs(1)).await.unwrap();
        p.observe(&h);
        assert_eq!(p.credits_remaining(), Some(1.4));
        // 1.4 left, next request costs about 1.6: the next slot is at the reset, 90 s away.
        assert_eq!(
            p.acquire(Duration::from_secs(10)).await.unwrap_err(),
            WaitTooLong { wait: Duration::from_secs(90) }
        );
        let t0 = Instant::now();
        let permit = p.acquire(Duration::from_secs(120)).await.unwrap();
        assert_eq!(Instant::now() - t0, Duration::from_secs(90));
        assert_eq!(permit.waited, Duration::from_secs(90));
        // After the reset the budget is full again, minus this request.
        assert!((p.credits_remaining().unwrap() - 98.4).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn spec_header_spelling_is_read_too_and_a_missing_cost_is_not_free() {
        let p = Pacer::new(PacingConfig::default().credits(beds24_like()));
        let mut h = HeaderMap::new();
        h.insert("X-FiveMinCreditLimit-Remaining", HeaderValue::from_static("10"));
        p.observe(&h);
        assert_eq!(p.credits_remaining(), Some(10.0));
        p.acquire(Duration::ZERO).await.unwrap();
        assert_eq!(p.credits_remaining(), Some(9.0));
    }

    #[tokio::test(start_paused = true)]
    async fn exhaustion_blocks_until_the_reset() {
        let p = Pacer::new(PacingConfig::default().credits(beds24_like()));
        p.exhausted(Duration::from_secs(30));
        assert!(p.acquire(Duration::from_secs(29)).await.is_err());
        assert!(p.acquire(Duration::from_secs(31)).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_budget_runs_out_and_refills() {
        let p = Pacer::new(PacingConfig::default().retry_budget(3, 60));
        assert!(p.try_retry() && p.try_retry() && p.try_retry());
        assert!(!p.try_retry());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(p.try_retry());
        assert!(!p.try_retry());
    }

    #[tokio::test(start_paused = true)]
    async fn serial_pacing_lets_one_request_in_flight() {
        let p = std::sync::Arc::new(Pacer::new(PacingConfig::default().serial(true)));
        let first = p.acquire(Duration::from_secs(1)).await.unwrap();
        let p2 = p.clone();
        let second = tokio::spawn(async move { p2.acquire(Duration::from_secs(5)).await.map(|_| Instant::now()) });
        tokio::time::sleep(Duration::from_secs(2)).await;
        let released_at = Instant::now();
        drop(first);
        let got = second.await.unwrap().unwrap();
        assert!(got >= released_at);
    }
}
