//! The audit record every sync run writes, and the owner-visible status derived from the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connector::{RecordFailure, TransportStats};
use crate::error::ErrorKind;
use crate::model::{AccountId, ConnectorKind};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// The daily full sync.
    ScheduledFull,
    /// A scheduled incremental poll.
    Poll,
    /// A webhook hint.
    Webhook,
    /// Started by a person.
    Manual,
    /// A CSV import.
    Csv,
}

/// Which plan a run executed (an incremental run without a cursor runs as full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlanKind {
    /// A stay-date window, complete.
    Full,
    /// Modified since the cursor.
    Incremental,
    /// Specific ids.
    Hint,
    /// A push source's delivery applied, and the bookings it touched read back.
    Push,
    /// Rooms and housekeeping only.
    Rooms,
    /// A batch the host handed over (a CSV import).
    Import,
}

/// Where a failed run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Reading the store.
    Load,
    /// Fetching from the connector.
    Fetch,
    /// Handing changes to the host's sink.
    Sink,
    /// Saving fingerprints and the cursor.
    Commit,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Everything fetched was processed.
    Ok,
    /// Done, but some records could not be converted (listed in `failures`).
    Partial,
    /// The source throttled beyond the run's budget; nothing was saved; retry after `retry_at`.
    Deferred {
        /// When to retry.
        retry_at: DateTime<Utc>,
    },
    /// The run failed; the cursor stayed where it was.
    Failed {
        /// Where.
        stage: Stage,
        /// The error class, for connector errors.
        kind: Option<ErrorKind>,
        /// A message an owner can read.
        message: String,
    },
}

impl Outcome {
    /// Whether the run saved its results.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Ok | Self::Partial)
    }

    /// The status name, as the serialized record's `status` tag spells it (stores index it).
    pub fn status(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Deferred { .. } => "deferred",
            Self::Failed { .. } => "failed",
        }
    }
}

/// Counts per change class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records the connector returned.
    pub fetched: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Records whose fingerprint did not change.
    pub unchanged: u64,
    /// Records whose status became cancelled.
    pub cancelled: u64,
    /// Records that came back from cancelled (or disappeared).
    pub restored: u64,
    /// Records confirmed gone by two complete fetches.
    pub disappeared: u64,
    /// Changed records whose modification time was older than the stored one (a source clock
    /// correction): applied all the same, and named in the run's warnings.
    #[serde(default)]
    pub clock_anomalies: u64,
    /// Records that failed to convert.
    pub failed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.fetched += o.fetched;
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.cancelled += o.cancelled;
        self.restored += o.restored;
        self.disappeared += o.disappeared;
        self.clock_anomalies += o.clock_anomalies;
        self.failed += o.failed;
    }
}

impl Counts {
    /// Changes handed to the sink.
    pub fn changes(&self) -> u64 {
        self.inserted + self.updated + self.cancelled + self.restored + self.disappeared
    }
}

/// One sync run, as written to the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// Unique run id.
    pub run_id: String,
    /// Connector.
    pub connector: ConnectorKind,
    /// Account.
    pub account: AccountId,
    /// What started it.
    pub trigger: Trigger,
    /// The plan executed.
    pub plan: PlanKind,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// Cursor before the run.
    pub cursor_before: Option<DateTime<Utc>>,
    /// Cursor after the run (unchanged unless the run succeeded).
    pub cursor_after: Option<DateTime<Utc>>,
    /// Counts.
    pub counts: Counts,
    /// Records that failed to convert, with reasons.
    pub failures: Vec<RecordFailure>,
    /// Things the owner should know (a suspect empty feed, a fall-back to full).
    pub warnings: Vec<String>,
    /// HTTP requests, retries and throttled time during the run.
    pub transport: TransportStats,
    /// How it ended.
    pub outcome: Outcome,
    /// The worker process that ran it (see [`crate::sync::SyncEngine::with_worker`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// What the stored room mapping lacks for this account (unmapped rooms, renames upstream),
    /// once the host keeps one ([`crate::sync::MappingStore`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<crate::mapping::MappingReview>,
    /// A room refresh's housekeeping counts (room refreshes that read housekeeping only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<super::room_state::RoomCounts>,
}

/// The owner-visible status of one account, from its audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountStatus {
    /// Connector.
    pub connector: ConnectorKind,
    /// Account.
    pub account: AccountId,
    /// Last run's start.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last successful run's end.
    pub last_success: Option<DateTime<Utc>>,
    /// Failed or deferred runs since the last success.
    pub consecutive_failures: u32,
    /// Seconds between now and the last successful cursor.
    pub lag_secs: Option<i64>,
    /// Share of failed runs among the last `window` runs.
    pub error_rate: f64,
    /// Runs the rate is over.
    pub window: usize,
    /// The last failure's message, when the last run failed.
    pub last_error: Option<String>,
    /// When a deferred run asked to be retried.
    pub retry_at: Option<DateTime<Utc>>,
}

impl AccountStatus {
    /// Status from audit records of one account, newest first, at `now`.
    pub fn from_records(
        connector: ConnectorKind,
        account: AccountId,
        newest_first: &[AuditRecord],
        now: DateTime<Utc>,
    ) -> Self {
        // The account's status is its bookings' sync: a room refresh neither ends a run of
        // failures nor says how fresh the bookings are.
        let syncs: Vec<&AuditRecord> = newest_first.iter().filter(|r| r.plan != PlanKind::Rooms).collect();
        let newest_first = syncs.as_slice();
        let last_success = newest_first.iter().find(|r| r.outcome.is_success());
        let consecutive_failures = newest_first.iter().take_while(|r| !r.outcome.is_success()).count() as u32;
        let failed = newest_first.iter().filter(|r| !r.outcome.is_success()).count();
        let (last_error, retry_at) = match newest_first.first().map(|r| &r.outcome) {
            Some(Outcome::Failed { message, .. }) => (Some(message.clone()), None),
            Some(Outcome::Deferred { retry_at }) => {
                (Some(format!("throttled by the source; retrying after {retry_at}")), Some(*retry_at))
            }
            _ => (None, None),
        };
        Self {
            connector,
            account,
            last_attempt: newest_first.first().map(|r| r.started_at),
            last_success: last_success.map(|r| r.finished_at),
            consecutive_failures,
            lag_secs: last_success.and_then(|r| r.cursor_after).map(|c| (now - c).num_seconds()),
            error_rate: if newest_first.is_empty() { 0.0 } else { failed as f64 / newest_first.len() as f64 },
            window: newest_first.len(),
            last_error,
            retry_at,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Partial => f.write_str("partial (some records could not be read; see the failures)"),
            Self::Deferred { retry_at } => write!(f, "deferred by the source's rate limit until {retry_at}"),
            Self::Failed { message, .. } => write!(f, "failed: {message}"),
        }
    }
}

/// The sync report a person reads: one line of counts, then every record not synced and why.
impl std::fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        writeln!(f, "{}/{} {:?} sync ({:?}): {}", self.connector, self.account, self.plan, self.trigger, self.outcome)?;
        write!(
            f,
            "  {} fetched: {} new, {} changed, {} unchanged, {} cancelled, {} restored, {} gone, {} not synced",
            c.fetched, c.inserted, c.updated, c.unchanged, c.cancelled, c.restored, c.disappeared, c.failed
        )?;
        for failure in &self.failures {
            let id = failure.source_id.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string);
            write!(f, "\n  not synced: {id}: {}", failure.reason)?;
            if let Some(at) = &failure.location {
                write!(f, " (at {at})")?;
            }
        }
        for w in &self.warnings {
            write!(f, "\n  warning: {w}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}: ", self.connector, self.account)?;
        match self.last_success {
            Some(t) => write!(f, "last success {}", t.format("%Y-%m-%d %H:%M UTC"))?,
            None => f.write_str("never synced")?,
        }
        if let Some(lag) = self.lag_secs {
            write!(f, ", {} behind", human_secs(lag))?;
        }
        if self.consecutive_failures > 0 {
            write!(f, ", {} failure(s) in a row", self.consecutive_failures)?;
        }
        write!(f, ", {:.0}% of the last {} runs failed", self.error_rate * 100.0, self.window)?;
        if let Some(e) = &self.last_error {
            write!(f, "; last error: {e}")?;
        }
        if let Some(t) = self.retry_at {
            write!(f, "; retry at {}", t.format("%Y-%m-%d %H:%M UTC"))?;
        }
        Ok(())
    }
}

fn human_secs(s: i64) -> String {
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_name_is_the_serialized_tag() {
        let all = [
            Outcome::Ok,
            Outcome::Partial,
            Outcome::Deferred { retry_at: DateTime::<Utc>::UNIX_EPOCH },
            Outcome::Failed { stage: Stage::Fetch, kind: None, message: "down".into() },
        ];
        for o in all {
            let tag = serde_json::to_value(&o).unwrap()["status"].as_str().unwrap().to_owned();
            assert_eq!(o.status(), tag);
        }
    }
}
