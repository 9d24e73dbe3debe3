use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::WebhookError;

/// Remembers recent deliveries (by event id, or by body hash when there is none) for a TTL and
/// rejects repeats. Bounded: when full, expired entries are dropped first, then the oldest.
#[derive(Debug)]
pub struct ReplayGuard {
    ttl: Duration,
    capacity: usize,
    seen: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl ReplayGuard {
    /// A guard remembering up to `capacity` deliveries for `ttl`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), seen: Mutex::new(HashMap::new()) }
    }

    /// The dedupe key of a delivery: its event id when it has one, else the body's SHA-256.
    pub fn key(event_id: Option<&str>, body: &[u8]) -> String {
        match event_id {
            Some(id) => format!("id:{id}"),
            None => format!("body:{}", hex::encode(Sha256::digest(body))),
        }
    }

    /// Records `key` at `now`; a repeat within the TTL is rejected.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), WebhookError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = seen.get(key)
            && now - *at < self.ttl
        {
            return Err(WebhookError::Replay);
        }
        if seen.len() >= self.capacity {
            let ttl = self.ttl;
            seen.retain(|_, at| now - *at < ttl);
            if seen.len() >= self.capacity
                && let Some(oldest) = seen.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone())
            {
                seen.remove(&oldest);
            }
        }
        seen.insert(key.to_owned(), now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    #[test]
    fn repeats_within_the_ttl_are_rejected_and_allowed_after() {
        let clock = ManualClock::new("2026-11-22T10:00:00Z".parse().unwrap());
        let guard = ReplayGuard::new(Duration::minutes(10), 100);
        let k = ReplayGuard::key(Some("evt-1"), b"{}");
        assert!(guard.check(&k, clock.now()).is_ok());
        clock.advance(Duration::minutes(9));
        assert_eq!(guard.check(&k, clock.now()), Err(WebhookError::Replay));
        clock.advance(Duration::minutes(2));
        assert!(guard.check(&k, clock.now()).is_ok());
    }

    #[test]
    fn bodies_without_ids_dedupe_by_hash_and_capacity_is_bounded() {
        let clock = ManualClock::new("2026-11-22T10:00:00Z".parse().unwrap());
        let guard = ReplayGuard::new(Duration::hours(1), 2);
        let a = ReplayGuard::key(None, b"a");
        let b = ReplayGuard::key(None, b"b");
        assert_ne!(a, b);
        guard.check(&a, clock.now()).unwrap();
        clock.advance(Duration::seconds(1));
        guard.check(&b, clock.now()).unwrap();
        clock.advance(Duration::seconds(1));
        guard.check(&ReplayGuard::key(None, b"c"), clock.now()).unwrap();
        // `a` was the oldest and made room; `b` is still remembered.
        assert!(guard.check(&a, clock.now()).is_ok());
        assert_eq!(guard.check(&ReplayGuard::key(None, b"c"), clock.now()), Err(WebhookError::Replay));
    }
}
