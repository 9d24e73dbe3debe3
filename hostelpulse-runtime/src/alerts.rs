//! Alerts: rules with defaults and per-account overrides, evaluated after every run and on a
//! periodic tick. Each alert fires once, repeats at a bounded rate while its condition holds, and
//! resolves when the condition clears. Delivered through an [`AlertSink`]: the log
//! ([`LogAlerts`]), an HTTP POST signed with HMAC-SHA256 ([`HttpAlerts`]), or the host's own.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::error::BoxError;
use hostelpulse_core::sync::AlertState;
use serde::{Deserialize, Serialize};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertRule {
    /// N runs in a row failed or were deferred.
    ConsecutiveFailures,
    /// The last successful sync is older than the account's lag threshold.
    SyncLag,
    /// No webhook arrived for longer than expected from a source that promised them.
    WebhookSilence,
    /// The source rejected the credentials: nothing syncs until the owner reconnects.
    CredentialsRejected,
    /// A feed (iCal, FrontDesk Master export) has not been read successfully for too long.
    FeedStale,
    /// Records failed to convert in the last run (they are listed in its report).
    RecordsFailing,
}

impl AlertRule {
    /// Every rule.
    pub const ALL: [AlertRule; 6] = [
        Self::ConsecutiveFailures,
        Self::SyncLag,
        Self::WebhookSilence,
        Self::CredentialsRejected,
        Self::FeedStale,
        Self::RecordsFailing,
    ];

    /// The rule's name in events, metrics and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsecutiveFailures => "consecutive_failures",
            Self::SyncLag => "sync_lag",
            Self::WebhookSilence => "webhook_silence",
            Self::CredentialsRejected => "credentials_rejected",
            Self::FeedStale => "feed_stale",
            Self::RecordsFailing => "records_failing",
        }
    }
}

/// Thresholds. `None` turns a rule off.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AlertRules {
    /// Failed or deferred runs in a row (default 3).
    pub consecutive_failures: Option<u32>,
    /// Longest time since the last successful run of any plan (default: set per account by the
    /// runtime, three poll intervals but at least 30 minutes, or 26 hours for accounts that are
    /// not polled).
    pub sync_lag: Option<Duration>,
    /// Longest time without a webhook, for accounts that receive them (default 24 hours).
    pub webhook_silence: Option<Duration>,
    /// Longest time a feed may go unread (default 6 hours; feeds only).
    pub feed_stale: Option<Duration>,
    /// Records failing to convert in one run (default 1).
    pub records_failing: Option<usize>,
    /// Alert about rejected credentials (default on).
    pub credentials_rejected: bool,
    /// How often a firing alert is sent again (default 6 hours).
    pub repeat_every: Duration,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            consecutive_failures: Some(3),
            sync_lag: None,
            webhook_silence: Some(Duration::from_secs(24 * 3600)),
            feed_stale: Some(Duration::from_secs(6 * 3600)),
            records_failing: Some(1),
            credentials_rejected: true,
            repeat_every: Duration::from_secs(6 * 3600),
        }
    }
}

/// What the runtime knows about an account when it evaluates the rules.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Facts {
    /// Failed or deferred runs since the last success.
    pub consecutive_failures: u32,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When the last successful run finished.
    pub last_success: Option<DateTime<Utc>>,
    /// When the account was first managed (lag counts from here before any success).
    pub managed_since: Option<DateTime<Utc>>,
    /// The source rejected the credentials; the message.
    pub credentials_rejected: Option<String>,
    /// The account receives webhooks.
    pub expects_webhooks: bool,
    /// When the last webhook arrived.
    pub last_webhook: Option<DateTime<Utc>>,
    /// The account reads feeds.
    pub is_feed: bool,
    /// Records that failed to convert in the last run.
    pub last_run_failures: usize,
}

/// Whether an event starts, repeats or ends an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertStatus {
    /// The condition was just met.
    Firing,
    /// Still met; sent again after `repeat_every`.
    Repeat,
    /// The condition cleared.
    Resolved,
}

impl AlertStatus {
    /// The status's name in events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Repeat => "repeat",
            Self::Resolved => "resolved",
        }
    }
}

/// One alert delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlertEvent {
    /// The account, as the runtime names it (`property/account`).
    pub account: String,
    /// The rule.
    pub rule: AlertRule,
    /// Starting, repeating or ending.
    pub status: AlertStatus,
    /// When the condition was first seen.
    pub since: DateTime<Utc>,
    /// When this event was raised.
    pub at: DateTime<Utc>,
    /// What is wrong, for a person (no secret, no guest detail).
    pub detail: String,
}

fn secs(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3600 => format!("{} hours", s / 3600),
        s if s >= 120 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

fn older_than(
    at: Option<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: Duration,
) -> Option<chrono::TimeDelta> {
    let from = at.or(since)?;
    let age = now - from;
    (age.to_std().is_ok_and(|a| a > limit)).then_some(age)
}

/// Each rule's condition now: `Some(detail)` when it holds.
pub fn conditions(rules: &AlertRules, facts: &Facts, now: DateTime<Utc>) -> BTreeMap<AlertRule, Option<String>> {
    let mut out = BTreeMap::new();
    let failures = rules.consecutive_failures.filter(|n| facts.consecutive_failures >= *n).map(|_| {
        format!(
            "{} runs in a row did not succeed; last error: {}",
            facts.consecutive_failures,
            facts.last_error.as_deref().unwrap_or("unknown")
        )
    });
    out.insert(AlertRule::ConsecutiveFailures, failures);
    let lag =
        rules.sync_lag.and_then(|limit| older_than(facts.last_success, facts.managed_since, now, limit)).map(|age| {
            match facts.last_success {
                Some(_) => format!("last successful sync {} ago", secs(age)),
                None => format!("no successful sync in the {} since the account was added", secs(age)),
            }
        });
    out.insert(AlertRule::SyncLag, lag);
    let silence = rules
        .webhook_silence
        .filter(|_| facts.expects_webhooks)
        .and_then(|limit| older_than(facts.last_webhook, facts.managed_since, now, limit))
        .map(|age| format!("no webhook for {}; check the webhook's settings at the source", secs(age)));
    out.insert(AlertRule::WebhookSilence, silence);
    let rejected = facts
        .credentials_rejected
        .as_ref()
        .filter(|_| rules.credentials_rejected)
        .map(|why| format!("credentials rejected: {why}; reconnect the account"));
    out.insert(AlertRule::CredentialsRejected, rejected);
    let stale = rules
        .feed_stale
        .filter(|_| facts.is_feed)
        .and_then(|limit| older_than(facts.last_success, facts.managed_since, now, limit))
        .map(|age| format!("the feeds have not been read for {}", secs(age)));
    out.insert(AlertRule::FeedStale, stale);
    let failing = rules
        .records_failing
        .filter(|n| facts.last_run_failures >= *n)
        .map(|_| format!("{} record(s) could not be read in the last run; see its report", facts.last_run_failures));
    out.insert(AlertRule::RecordsFailing, failing);
    out
}

/// Moves each rule's stored state on to `now` and returns the events to deliver: a new condition
/// fires, a held one repeats after `repeat_every`, a cleared one resolves.
pub fn evaluate(
    account: &str,
    rules: &AlertRules,
    facts: &Facts,
    state: &mut BTreeMap<String, AlertState>,
    now: DateTime<Utc>,
) -> Vec<AlertEvent> {
    let repeat = chrono::Duration::from_std(rules.repeat_every).unwrap_or(chrono::Duration::MAX);
    let mut events = Vec::new();
    for (rule, holds) in conditions(rules, facts, now) {
        let key = rule.as_str();
        let event = |status, since, detail: &str| AlertEvent {
            account: account.to_owned(),
            rule,
            status,
            since,
            at: now,
            detail: detail.to_owned(),
        };
        match (holds, state.get_mut(key)) {
            (Some(detail), None) => {
                events.push(event(AlertStatus::Firing, now, &detail));
                state.insert(key.to_owned(), AlertState::fired(now, detail));
            }
            (Some(detail), Some(s)) => {
                s.detail = detail;
                if now - s.last_sent >= repeat {
                    s.last_sent = now;
                    s.sent += 1;
                    events.push(event(AlertStatus::Repeat, s.since, &s.detail));
                }
            }
            (None, Some(s)) => {
                events.push(event(AlertStatus::Resolved, s.since, &s.detail));
                state.remove(key);
            }
            (None, None) => {}
        }
    }
    events
}

/// Where alerts go.
#[async_trait]
pub trait AlertSink: Send + Sync {
    /// Delivers one event. A failure is logged and the event is not retried (the condition's
    /// repeat delivers it again while it holds).
    async fn deliver(&self, event: &AlertEvent) -> Result<(), BoxError>;
}

/// Alerts as log lines (`tracing`: WARN when firing, INFO when resolved).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAlerts;

#[async_trait]
impl AlertSink for LogAlerts {
    async fn deliver(&self, e: &AlertEvent) -> Result<(), BoxError> {
        match e.status {
            AlertStatus::Resolved => {
                tracing::info!(account = %e.account, rule = e.rule.as_str(), since = %e.since, "alert resolved: {}", e.detail)
            }
            _ => tracing::warn!(account = %e.account, rule = e.rule.as_str(), since = %e.since, "alert: {}", e.detail),
        }
        Ok(())
    }
}

/// Keeps every event; for tests and for hosts that poll.
#[derive(Debug, Default)]
pub struct CollectingAlerts {
    events: Mutex<Vec<AlertEvent>>,
}

impl CollectingAlerts {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far, in order.
    pub fn events(&self) -> Vec<AlertEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl AlertSink for CollectingAlerts {
    async fn deliver(&self, e: &AlertEvent) -> Result<(), BoxError> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).push(e.clone());
        Ok(())
    }
}

/// Every event to each of several sinks.
pub struct FanOut(pub Vec<std::sync::Arc<dyn AlertSink>>);

#[async_trait]
impl AlertSink for FanOut {
    async fn deliver(&self, e: &AlertEvent) -> Result<(), BoxError> {
        let mut first_error = None;
        for s in &self.0 {
            if let Err(err) = s.deliver(e).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(feature = "http-alerts")]
pub use http::HttpAlerts;

#[cfg(feature = "http-alerts")]
mod http {
    use super::*;
    use hostelpulse_core::webhook::sign_hmac;
    use secrecy::SecretString;

    /// The header carrying the hex HMAC-SHA256 of `"{timestamp}.{body}"`.
    pub const SIGNATURE_HEADER: &str = "x-hostelpulse-signature";
    /// The header carrying the Unix timestamp that was signed.
    pub const TIMESTAMP_HEADER: &str = "x-hostelpulse-timestamp";

    /// Alerts POSTed as JSON to the host, signed with HMAC-SHA256 over `"{timestamp}.{body}"`
    /// (headers [`SIGNATURE_HEADER`] and [`TIMESTAMP_HEADER`]). The host verifies them with
    /// `hostelpulse_core::webhook::WebhookVerifier` and `HmacScheme::timestamped` — the same
    /// verifier this SDK uses for the PMSs' webhooks — which also refuses stale timestamps.
    pub struct HttpAlerts {
        url: reqwest::Url,
        secret: SecretString,
        client: reqwest::Client,
    }

    impl std::fmt::Debug for HttpAlerts {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("HttpAlerts").field("url", &self.url.origin().ascii_serialization()).finish()
        }
    }

    impl HttpAlerts {
        /// Alerts to `url`, signed with `secret` (at least 16 characters).
        pub fn new(url: reqwest::Url, secret: SecretString) -> Result<Self, hostelpulse_core::Error> {
            hostelpulse_core::webhook::check_secret(&secret, "alert secret")?;
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| hostelpulse_core::Error::config(format!("alert client: {e}")))?;
            Ok(Self { url, secret, client })
        }
    }

    #[async_trait]
    impl AlertSink for HttpAlerts {
        async fn deliver(&self, e: &AlertEvent) -> Result<(), BoxError> {
            let body = serde_json::to_vec(e)?;
            let ts = Utc::now().timestamp();
            let sig = sign_hmac(&self.secret, Some(ts), &body);
            let res = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header(TIMESTAMP_HEADER, ts.to_string())
                .header(SIGNATURE_HEADER, sig)
                .body(body)
                .send()
                .await?;
            if !res.status().is_success() {
                return Err(format!("alert endpoint answered {}", res.status()).into());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_alert_fires_once_repeats_at_its_rate_and_resolves() {
        let rules = AlertRules { repeat_every: Duration::from_secs(3600), ..AlertRules::default() };
        let mut state = BTreeMap::new();
        let mut facts = Facts { consecutive_failures: 2, last_error: Some("503".into()), ..Facts::default() };
        assert!(evaluate("a", &rules, &facts, &mut state, t("2026-12-01T10:00:00Z")).is_empty());
        facts.consecutive_failures = 3;
        let e = evaluate("a", &rules, &facts, &mut state, t("2026-12-01T10:05:00Z"));
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].rule, e[0].status), (AlertRule::ConsecutiveFailures, AlertStatus::Firing));
        assert!(e[0].detail.contains("3 runs in a row") && e[0].detail.contains("503"), "{}", e[0].detail);
        facts.consecutive_failures = 4;
        assert!(evaluate("a", &rules, &facts, &mut state, t("2026-12-01T11:04:59Z")).is_empty());
        let e = evaluate("a", &rules, &facts, &mut state, t("2026-12-01T11:05:00Z"));
        assert_eq!((e.len(), e[0].status, e[0].since), (1, AlertStatus::Repeat, t("2026-12-01T10:05:00Z")));
        facts.consecutive_failures = 0;
        let e = evaluate("a", &rules, &facts, &mut state, t("2026-12-01T11:10:00Z"));
        assert_eq!((e.len(), e[0].status), (1, AlertStatus::Resolved));
        assert!(state.is_empty());
        assert!(evaluate("a", &rules, &facts, &mut state, t("2026-12-01T11:20:00Z")).is_empty());
    }

    #[test]
    fn time_based_rules_count_from_the_last_success_or_from_when_the_account_was_added() {
        let rules = AlertRules { sync_lag: Some(Duration::from_secs(1800)), ..AlertRules::default() };
        let facts = Facts {
            managed_since: Some(t("2026-12-01T10:00:00Z")),
            expects_webhooks: true,
            is_feed: false,
            ..Facts::default()
        };
        let c = conditions(&rules, &facts, t("2026-12-01T10:30:00Z"));
        assert_eq!(c[&AlertRule::SyncLag], None);
        let c = conditions(&rules, &facts, t("2026-12-01T10:30:01Z"));
        assert!(c[&AlertRule::SyncLag].as_deref().is_some_and(|d| d.contains("no successful sync")));
        let facts = Facts { last_success: Some(t("2026-12-01T10:29:00Z")), ..facts };
        assert_eq!(conditions(&rules, &facts, t("2026-12-01T10:40:00Z"))[&AlertRule::SyncLag], None);
        assert_eq!(conditions(&rules, &facts, t("2026-12-02T09:59:00Z"))[&AlertRule::WebhookSilence], None);
        assert!(conditions(&rules, &facts, t("2026-12-02T10:00:01Z"))[&AlertRule::WebhookSilence].is_some());
        // Feed staleness applies to feeds only.
        assert_eq!(conditions(&rules, &facts, t("2026-12-03T00:00:00Z"))[&AlertRule::FeedStale], None);
    }
}
