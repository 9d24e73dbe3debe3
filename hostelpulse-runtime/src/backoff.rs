//! When a failed run is tried again: capped exponential backoff with jitter.

use std::time::Duration;

use rand::Rng;

/// Capped exponential backoff with proportional jitter: the `n`-th consecutive failure waits
/// `first × 2^(n-1)`, at most `max`, shortened by up to `jitter` of itself at random (so that
/// accounts failing together, in a PMS outage, do not all retry in the same second).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait; failures keep retrying at this interval (a failing account is never
    /// given up on: an outage ends).
    pub max: Duration,
    /// The share of a wait taken off at random, 0–1.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 1 minute, doubling to 1 hour, 20% jitter.
    fn default() -> Self {
        Self { first: Duration::from_secs(60), max: Duration::from_secs(3600), jitter: 0.2 }
    }
}

impl RetryPolicy {
    /// A policy starting at `first`, doubling up to `max`, without jitter (see [`Self::jitter`]).
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max: max.max(first), jitter: 0.0 }
    }

    /// With jitter (clamped to 0–1).
    pub fn jitter(mut self, share: f64) -> Self {
        self.jitter = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
        self
    }

    /// The wait after `failures` consecutive failures (1 for the first), before jitter.
    pub fn base(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first.checked_mul(1u32 << doublings).map_or(self.max, |d| d.min(self.max))
    }

    /// The wait after `failures` consecutive failures, jittered with `rng`.
    pub fn delay(&self, failures: u32, rng: &mut impl Rng) -> Duration {
        let base = self.base(failures);
        if self.jitter <= 0.0 {
            return base;
        }
        let cut: f64 = rng.random_range(0.0..self.jitter);
        base.mul_f64(1.0 - cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn doubles_up_to_the_cap() {
        let p = RetryPolicy::new(Duration::from_secs(60), Duration::from_secs(3600));
        let secs: Vec<u64> = (1..=8).map(|n| p.base(n).as_secs()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.base(u32::MAX), p.max);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(p.delay(3, &mut rng), Duration::from_secs(240));
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_its_share() {
        let p = RetryPolicy::new(Duration::from_secs(100), Duration::from_secs(1000)).jitter(0.2);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let waits: Vec<Duration> = (0..1000).map(|_| p.delay(1, &mut rng)).collect();
        assert!(waits.iter().all(|w| *w > Duration::from_secs(80) && *w <= Duration::from_secs(100)));
        // Spread out, not one value.
        let distinct: std::collections::HashSet<_> = waits.iter().map(|w| w.as_millis()).collect();
        assert!(distinct.len() > 500, "{}", distinct.len());
    }
}
