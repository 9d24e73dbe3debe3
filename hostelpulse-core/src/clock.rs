//! Wall-clock time behind a trait, so signature windows, cursors and sync lag can be tested with an
//! injected clock instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(start) }
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Wall-clock time that moves with tokio's clock: `start` plus the tokio time elapsed since the
/// clock was made. Under a paused tokio clock (`tokio::time::pause`) it advances exactly as the
/// test advances time, so schedules written in wall-clock times are tested without sleeping.
#[derive(Debug, Clone, Copy)]
pub struct TokioWallClock {
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioWallClock {
    /// A clock standing at `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self { start, origin: tokio::time::Instant::now() }
    }

    /// A clock that starts at the system's time.
    pub fn system() -> Self {
        Self::starting_at(Utc::now())
    }
}

impl Clock for TokioWallClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.origin);
        self.start + Duration::from_std(elapsed).unwrap_or(Duration::MAX)
    }
}
