//! What the runtime reports through the [`metrics`](https://docs.rs/metrics) facade. Install any
//! recorder (the `hostelpulse run` command installs a Prometheus one and serves `/metrics`);
//! without one, recording costs next to nothing.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `hostelpulse_runs_total` | counter | `account`, `connector`, `plan`, `outcome` | runs by outcome (`ok`, `partial`, `deferred`, `failed`) |
//! | `hostelpulse_records_total` | counter | `account`, `class` | records by change class (`fetched`, `inserted`, `updated`, `unchanged`, `cancelled`, `restored`, `disappeared`, `failed`) |
//! | `hostelpulse_run_duration_seconds` | histogram | `connector`, `plan` | how long runs take |
//! | `hostelpulse_sync_lag_seconds` | gauge | `account` | now minus the last successful run's end |
//! | `hostelpulse_last_success_timestamp_seconds` | gauge | `account` | the last successful run's end (Unix time) |
//! | `hostelpulse_requests_total` | counter | `account` | requests sent to the source (retries included) |
//! | `hostelpulse_retries_total` | counter | `account` | requests retried |
//! | `hostelpulse_throttled_seconds_total` | counter | `account` | time spent waiting for the source's rate limit |
//! | `hostelpulse_inbox_depth` | gauge | | webhook deliveries waiting in the inbox |
//! | `hostelpulse_queue_depth` | gauge | | accounts with a run in the retry queue |
//! | `hostelpulse_running_syncs` | gauge | | runs in progress |
//! | `hostelpulse_accounts_blocked` | gauge | | accounts stopped until their credentials change |
//! | `hostelpulse_alerts_firing` | gauge | `rule` | alerts currently firing |
//! | `hostelpulse_alerts_total` | counter | `rule`, `status` | alert events delivered (`firing`, `repeat`, `resolved`) |

use chrono::{DateTime, Utc};
use hostelpulse_core::sync::{AuditRecord, Outcome};
use metrics::{counter, gauge, histogram};

/// Counters, histogram and gauges of one finished run.
pub fn record_run(account: &str, run: &AuditRecord, now: DateTime<Utc>) {
    let outcome = match &run.outcome {
        Outcome::Ok => "ok",
        Outcome::Partial => "partial",
        Outcome::Deferred { .. } => "deferred",
        Outcome::Failed { .. } => "failed",
        #[allow(unreachable_patterns)]
        _ => "other",
    };
    let plan = plan_name(run);
    let connector = run.connector.as_str().to_owned();
    counter!("hostelpulse_runs_total", "account" => account.to_owned(), "connector" => connector.clone(), "plan" => plan, "outcome" => outcome).increment(1);
    let c = &run.counts;
    for (class, n) in [
        ("fetched", c.fetched),
        ("inserted", c.inserted),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("cancelled", c.cancelled),
        ("restored", c.restored),
        ("disappeared", c.disappeared),
        ("failed", c.failed),
    ] {
        if n > 0 {
            counter!("hostelpulse_records_total", "account" => account.to_owned(), "class" => class).increment(n);
        }
    }
    let took = (run.finished_at - run.started_at).to_std().unwrap_or_default();
    histogram!("hostelpulse_run_duration_seconds", "connector" => connector, "plan" => plan).record(took.as_secs_f64());
    let t = &run.transport;
    counter!("hostelpulse_requests_total", "account" => account.to_owned()).increment(t.requests);
    counter!("hostelpulse_retries_total", "account" => account.to_owned()).increment(t.retries);
    counter!("hostelpulse_throttled_seconds_total", "account" => account.to_owned()).increment(t.throttled_ms / 1000);
    if run.outcome.is_success() {
        gauge!("hostelpulse_last_success_timestamp_seconds", "account" => account.to_owned())
            .set(run.finished_at.timestamp() as f64);
        lag(account, Some(run.finished_at), now);
    }
}

/// The lag gauge of one account.
pub fn lag(account: &str, last_success: Option<DateTime<Utc>>, now: DateTime<Utc>) {
    if let Some(at) = last_success {
        gauge!("hostelpulse_sync_lag_seconds", "account" => account.to_owned())
            .set((now - at).num_milliseconds().max(0) as f64 / 1000.0);
    }
}

fn plan_name(run: &AuditRecord) -> &'static str {
    use hostelpulse_core::sync::PlanKind;
    match run.plan {
        PlanKind::Full => "full",
        PlanKind::Incremental => "incremental",
        PlanKind::Hint => "hint",
        PlanKind::Push => "push",
        PlanKind::Rooms => "rooms",
        PlanKind::Import => "import",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}
