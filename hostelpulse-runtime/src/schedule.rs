//! When each account's plans run: a full sync once a day at a property-local quiet hour, polls at
//! an interval its source's rate limit and capabilities allow, and a spread for catching up after
//! downtime.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use hostelpulse_core::Capabilities;
use hostelpulse_core::capability::{Incremental, Operation, RateLimit};

/// What a poll runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollPlan {
    /// Records modified since the cursor.
    Incremental,
    /// A complete read (sources without a modification key: iCal feeds, mailboxes).
    Full,
}

/// One account's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schedule {
    /// The local time of the daily full sync.
    pub full_at: NaiveTime,
    /// The property's time zone, in which `full_at` is read.
    pub timezone: Tz,
    /// The interval between polls; `None`: the account is not polled (push-only sources).
    pub poll_every: Option<Duration>,
    /// What a poll runs.
    pub poll_plan: PollPlan,
    /// Whether housekeeping (each room's condition) is refreshed after every successful poll
    /// and full sync. By default where the source reads it and counts no credits: on a credit
    /// budget (Beds24) bookings come first, and housekeeping is left to room webhooks.
    pub housekeeping: bool,
}

/// The default quiet hour: 03:00, when a hostel's front desk is least busy and OTAs push least.
pub const DEFAULT_FULL_AT: NaiveTime = match NaiveTime::from_hms_opt(3, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

impl Schedule {
    /// The default for a connector, from its capabilities:
    ///
    /// | source | poll |
    /// |---|---|
    /// | requests-per-second limit, incremental by modification time (Cloudbeds) | incremental, every 5 min |
    /// | credit budget (Beds24) | incremental, every 10 min |
    /// | a poll interval the source sets (iCal, FrontDesk Master) | full read, every 30 min or the source's minimum |
    /// | no modification key and no limit (mailboxes) | full read, every 5 min |
    /// | push only (Sirvoy) | none: the inbox applies deliveries as they arrive |
    pub fn for_capabilities(caps: &Capabilities, timezone: Tz) -> Self {
        let incremental = caps.supports(Operation::ReadBookingsModified);
        let (poll_every, poll_plan) = match (&caps.sync.incremental, &caps.sync.rate_limit) {
            (Incremental::PushOnly, _) => (None, PollPlan::Full),
            (_, RateLimit::PollInterval { min_secs }) => {
                (Some(Duration::from_secs(u64::from(*min_secs).max(30 * 60))), PollPlan::Full)
            }
            (_, RateLimit::Credits { .. }) if incremental => {
                (Some(Duration::from_secs(10 * 60)), PollPlan::Incremental)
            }
            _ if incremental => (Some(Duration::from_secs(5 * 60)), PollPlan::Incremental),
            _ => (Some(Duration::from_secs(5 * 60)), PollPlan::Full),
        };
        let housekeeping = caps.supports(Operation::ReadHousekeeping)
            && !matches!(caps.sync.rate_limit, RateLimit::Credits { .. })
            && poll_every.is_some();
        Self { full_at: DEFAULT_FULL_AT, timezone, poll_every, poll_plan, housekeeping }
    }

    /// With another quiet hour.
    pub fn full_at(mut self, at: NaiveTime) -> Self {
        self.full_at = at;
        self
    }

    /// With another poll interval (`None`: no polls). Never below one second.
    pub fn poll_every(mut self, every: Option<Duration>) -> Self {
        self.poll_every = every.map(|d| d.max(Duration::from_secs(1)));
        self
    }

    /// With housekeeping refreshed after each successful poll and full sync, or not.
    pub fn housekeeping(mut self, on: bool) -> Self {
        self.housekeeping = on;
        self
    }

    /// The first daily full sync strictly after `after`: the next `full_at` in the property's
    /// time zone. On a day the clock skips that hour (spring forward), the first valid minute
    /// after it; on a day it repeats it (fall back), the first occurrence.
    pub fn next_full_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let local = after.with_timezone(&self.timezone).date_naive();
        for day in 0..3 {
            let Some(date) = local.checked_add_days(chrono::Days::new(day)) else { break };
            let mut naive = date.and_time(self.full_at);
            // A skipped local time: step forward a minute at a time until the clock has it.
            for _ in 0..180 {
                if let Some(t) = self.timezone.from_local_datetime(&naive).earliest() {
                    let t = t.with_timezone(&Utc);
                    if t > after {
                        return t;
                    }
                    break;
                }
                naive += chrono::Duration::minutes(1);
            }
        }
        after + chrono::Duration::days(1)
    }

    /// The next poll after one that ran (or was due) at `at`.
    pub fn next_poll_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.poll_every.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| at + d)
    }
}

/// Where the `position`-th of `count` overdue accounts is put when catching up: evenly over
/// `spread` from `now`, so a process that was down does not start every account at once.
pub fn catch_up_slot(now: DateTime<Utc>, spread: Duration, position: usize, count: usize) -> DateTime<Utc> {
    if count <= 1 || spread.is_zero() {
        return now;
    }
    let step = spread.as_secs_f64() / count as f64;
    now + chrono::Duration::milliseconds((step * position as f64 * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostelpulse_core::ConnectorKind;
    use hostelpulse_core::capability::{Granularity, SyncSemantics, Visibility, WebhookAuth};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn schedule(tz: Tz) -> Schedule {
        Schedule {
            full_at: DEFAULT_FULL_AT,
            timezone: tz,
            poll_every: None,
            poll_plan: PollPlan::Full,
            housekeeping: false,
        }
    }

    #[test]
    fn the_daily_full_is_at_the_local_quiet_hour() {
        let s = schedule(chrono_tz::Europe::Lisbon);
        // Winter: Lisbon is UTC.
        assert_eq!(s.next_full_after(at("2026-12-01T02:59:59Z")), at("2026-12-01T03:00:00Z"));
        assert_eq!(s.next_full_after(at("2026-12-01T03:00:00Z")), at("2026-12-02T03:00:00Z"));
        // Summer: UTC+1.
        assert_eq!(s.next_full_after(at("2026-07-01T12:00:00Z")), at("2026-07-02T02:00:00Z"));
        let tokyo = schedule(chrono_tz::Asia::Tokyo);
        assert_eq!(tokyo.next_full_after(at("2026-07-01T12:00:00Z")), at("2026-07-01T18:00:00Z"));
    }

    #[test]
    fn a_skipped_or_repeated_quiet_hour_still_runs_once() {
        // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist that day.
        let s = schedule(chrono_tz::America::New_York).full_at(NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(s.next_full_after(at("2026-03-08T05:00:00Z")), at("2026-03-08T07:00:00Z"));
        // It falls back on 2026-11-01: 01:30 happens twice; the first one counts.
        let s = s.full_at(NaiveTime::from_hms_opt(1, 30, 0).unwrap());
        assert_eq!(s.next_full_after(at("2026-11-01T04:00:00Z")), at("2026-11-01T05:30:00Z"));
        assert_eq!(s.next_full_after(at("2026-11-01T05:30:00Z")), at("2026-11-02T06:30:00Z"));
    }

    fn caps(incremental: Incremental, rate_limit: RateLimit, modified: bool) -> Capabilities {
        let sync = SyncSemantics::new(
            incremental,
            Visibility::Status,
            Visibility::NotVisible,
            Granularity::Room,
            WebhookAuth::NotOffered,
            rate_limit,
            "",
        );
        let c = Capabilities::new(ConnectorKind::new("x"), "X", sync);
        if modified { c.with(Operation::ReadBookingsModified, hostelpulse_core::Support::Native) } else { c }
    }

    #[test]
    fn defaults_follow_the_capability_matrix() {
        let tz = chrono_tz::UTC;
        let rps = RateLimit::RequestsPerSecond { per_second: 5, per: "property".into() };
        let s = Schedule::for_capabilities(&caps(Incremental::ModifiedSince { reliable: true }, rps, true), tz);
        assert_eq!((s.poll_every, s.poll_plan), (Some(Duration::from_secs(300)), PollPlan::Incremental));
        let credits = RateLimit::Credits { credits: 100, window_secs: 300, per: "account".into() };
        let s = Schedule::for_capabilities(&caps(Incremental::ModifiedSince { reliable: true }, credits, true), tz);
        assert_eq!((s.poll_every, s.poll_plan), (Some(Duration::from_secs(600)), PollPlan::Incremental));
        let feed = RateLimit::PollInterval { min_secs: 3600 };
        let s = Schedule::for_capabilities(&caps(Incremental::None, feed, false), tz);
        assert_eq!((s.poll_every, s.poll_plan), (Some(Duration::from_secs(3600)), PollPlan::Full));
        let s = Schedule::for_capabilities(&caps(Incremental::PushOnly, RateLimit::None, false), tz);
        assert_eq!(s.poll_every, None);
        let s = Schedule::for_capabilities(&caps(Incremental::None, RateLimit::None, false), tz);
        assert_eq!((s.poll_every, s.poll_plan), (Some(Duration::from_secs(300)), PollPlan::Full));
    }

    #[test]
    fn housekeeping_follows_polls_where_it_costs_no_credits() {
        let tz = chrono_tz::UTC;
        let reads = |c: Capabilities| c.with(Operation::ReadHousekeeping, hostelpulse_core::Support::Native);
        let rps = RateLimit::RequestsPerSecond { per_second: 5, per: "property".into() };
        let modified = Incremental::ModifiedSince { reliable: true };
        assert!(Schedule::for_capabilities(&reads(caps(modified.clone(), rps.clone(), true)), tz).housekeeping);
        assert!(!Schedule::for_capabilities(&caps(modified.clone(), rps, true), tz).housekeeping, "not read");
        let credits = RateLimit::Credits { credits: 100, window_secs: 300, per: "account".into() };
        let beds24 = Schedule::for_capabilities(&reads(caps(modified, credits, true)), tz);
        assert!(!beds24.housekeeping, "bookings first on a credit budget");
        assert!(beds24.housekeeping(true).housekeeping, "unless the owner asks");
        let push = Schedule::for_capabilities(&reads(caps(Incremental::PushOnly, RateLimit::None, false)), tz);
        assert!(!push.housekeeping, "no polls to follow");
    }

    #[test]
    fn catching_up_spreads_accounts_evenly() {
        let now = at("2026-12-01T10:00:00Z");
        let slots: Vec<_> = (0..4).map(|i| catch_up_slot(now, Duration::from_secs(60), i, 4)).collect();
        assert_eq!(
            slots,
            [
                at("2026-12-01T10:00:00Z"),
                at("2026-12-01T10:00:15Z"),
                at("2026-12-01T10:00:30Z"),
                at("2026-12-01T10:00:45Z")
            ]
        );
        assert_eq!(catch_up_slot(now, Duration::from_secs(60), 0, 1), now);
    }
}
