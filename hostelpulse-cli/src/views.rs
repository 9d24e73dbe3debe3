//! Human output: tables for reports, changes, boards and tasks, and one-line errors that say what
//! to do.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hostelpulse::board::Board;
use hostelpulse::core::{Error, ErrorKind};
use hostelpulse::sync::{AccountStatus, AuditRecord, Change, ChangeClass};
use hostelpulse::tasks::TurnoverTask;
use tabled::builder::Builder;
use tabled::settings::peaker::Priority as Widest;
use tabled::settings::{Style, Width};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The terminal's width when standard output is one (`COLUMNS` overrides); `None` when piped, so
/// scripts get whole lines.
fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|c| *c >= 20) {
        return Some(c);
    }
    let term = console::Term::stdout();
    term.is_term().then(|| usize::from(term.size().1)).filter(|w| *w >= 20)
}

/// A table that fits the terminal: the widest columns are wrapped first.
pub fn table(rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    if let Some(w) = terminal_width() {
        t.with(Width::wrap(w).priority(Widest::max(true)).keep_words(true));
    }
    t.to_string()
}

/// A time in the property's zone, with the zone's abbreviation.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.map(String::from).to_vec()
}

/// One line per sync run.
pub fn reports(runs: &[(String, AuditRecord)]) -> String {
    let mut rows = vec![row([
        "account",
        "outcome",
        "fetched",
        "new",
        "changed",
        "unchanged",
        "cancelled",
        "gone",
        "failed",
        "requests",
        "ms",
    ])];
    for (id, r) in runs {
        let c = &r.counts;
        let outcome = match &r.outcome {
            hostelpulse::sync::Outcome::Ok => "ok".to_owned(),
            hostelpulse::sync::Outcome::Partial => "partial".to_owned(),
            hostelpulse::sync::Outcome::Deferred { retry_at } => format!("deferred until {retry_at}"),
            hostelpulse::sync::Outcome::Failed { message, .. } => format!("failed: {message}"),
            _ => "?".to_owned(),
        };
        rows.push(vec![
            id.clone(),
            outcome,
            c.fetched.to_string(),
            c.inserted.to_string(),
            c.updated.to_string(),
            c.unchanged.to_string(),
            c.cancelled.to_string(),
            c.disappeared.to_string(),
            c.failed.to_string(),
            r.transport.requests.to_string(),
            (r.finished_at - r.started_at).num_milliseconds().to_string(),
        ]);
    }
    table(rows)
}

/// Why records were not synced, one line each (not-a-booking mail, unreadable events, reviews).
pub fn failures(runs: &[(String, AuditRecord)]) -> Option<String> {
    let mut rows = vec![row(["account", "record", "reason"])];
    for (id, r) in runs {
        for f in &r.failures {
            let what = f.source_id.as_ref().map(ToString::to_string).or_else(|| f.location.clone()).unwrap_or_default();
            rows.push(vec![id.clone(), what, f.reason.clone()]);
        }
    }
    (rows.len() > 1).then(|| table(rows))
}

pub fn changes(list: &[Change]) -> String {
    let mut rows = vec![row(["change", "source", "booking", "guest", "stay", "status"])];
    for c in list {
        let class = match c.class {
            ChangeClass::Inserted => "new",
            ChangeClass::Updated => "changed",
            ChangeClass::Cancelled => "cancelled",
            ChangeClass::Restored => "restored",
            _ => "gone",
        };
        let b = c.booking.as_ref();
        rows.push(vec![
            class.into(),
            c.key.connector.to_string(),
            c.key.id.to_string(),
            b.and_then(|b| b.guest.name.clone()).unwrap_or_default(),
            b.map(|b| format!("{} → {}", b.arrival, b.departure)).unwrap_or_default(),
            b.map(|b| format!("{:?}", b.status)).unwrap_or_default(),
        ]);
    }
    table(rows)
}

pub fn board(b: &Board, tz: Tz) -> String {
    let mut out = format!("Today board — {} — {}\n", b.property, b.date);
    let stays = |title: &str, lines: &[hostelpulse::board::StayLine]| -> String {
        let mut rows = vec![row(["guest", "stay", "where", "channel", "also seen in"])];
        for l in lines {
            rows.push(vec![
                l.guest.clone().unwrap_or_else(|| "(name unknown)".into()),
                format!("{} → {}", l.arrival, l.departure),
                if l.units.is_empty() { "unallocated".into() } else { l.units.join(", ") },
                l.channel_ref.clone().unwrap_or_default(),
                l.also_in.iter().map(|k| k.connector.to_string()).collect::<Vec<_>>().join(", "),
            ]);
        }
        format!("\n{title} ({})\n{}\n", lines.len(), table(rows))
    };
    out += &stays("Arrivals", &b.arrivals);
    out += &stays("Departures", &b.departures);
    out += &stays("In house tonight", &b.in_house);
    let mut rows = vec![row(["dorm", "beds", "free", "free beds"])];
    for d in &b.dorms {
        let name = if d.room == d.room_type { d.room.clone() } else { format!("{} {}", d.room_type, d.room) };
        rows.push(vec![name, d.beds.to_string(), d.free.to_string(), d.free_beds.join(" ")]);
    }
    out += &format!("\nFree beds tonight\n{}\n", table(rows));
    out += &format!(
        "Free private rooms: {}\n",
        if b.free_rooms.is_empty() {
            "none".into()
        } else {
            b.free_rooms.iter().map(|r| r.room.clone()).collect::<Vec<_>>().join(", ")
        }
    );
    if !b.unallocated.is_empty() {
        out += &format!(
            "Unallocated tonight: {}\n",
            b.unallocated.iter().map(|l| l.guest.clone().unwrap_or_default()).collect::<Vec<_>>().join(", ")
        );
    }
    for u in &b.occupied_unknown {
        out += &format!(
            "Occupied, details unknown: {} ({} → {}, {})\n",
            if u.units.is_empty() { "unmapped".into() } else { u.units.join(", ") },
            u.arrival,
            u.departure,
            u.key.connector
        );
    }
    if !b.turnovers.is_empty() {
        out += &format!("\nTurnovers today\n{}\n", tasks(&b.turnovers, tz));
    }
    if b.rooms.iter().any(|r| r.condition.is_some()) {
        let mut rows = vec![row(["room / bed", "condition", "occupancy", "arrival today"])];
        for r in &b.rooms {
            let lower = |v: Option<String>| v.map(|s| s.to_lowercase().replace('"', "")).unwrap_or_else(|| "?".into());
            let mut condition = lower(r.condition.map(|c| serde_json::to_string(&c).unwrap_or_default()));
            if r.do_not_disturb == Some(true) {
                condition += ", do not disturb";
            }
            rows.push(vec![
                r.name.clone(),
                condition,
                lower(r.occupancy.map(|o| serde_json::to_string(&o).unwrap_or_default())),
                match (r.arrival_today, r.must_be_ready()) {
                    (true, true) => "yes — make ready by check-in".into(),
                    (true, false) => "yes".into(),
                    _ => String::new(),
                },
            ]);
        }
        out += &format!("\nRooms\n{}\n", table(rows));
    }
    if b.merged_duplicates > 0 {
        out += &format!("{} duplicate record(s) from other sources merged into the lines above\n", b.merged_duplicates);
    }
    for w in &b.warnings {
        out += &format!("warning: {w}\n");
    }
    out
}

/// Turnover tasks, their deadlines in the property's time zone.
pub fn tasks(list: &[TurnoverTask], tz: Tz) -> String {
    let mut rows = vec![row(["room / bed", "checkout", "due by", "priority", "booking"])];
    for t in list {
        rows.push(vec![
            t.room_label.clone().unwrap_or_else(|| t.room.to_string()),
            t.checkout.to_string(),
            local(t.due_by, tz),
            format!("{:?}", t.priority).to_lowercase(),
            t.booking.id.to_string(),
        ]);
    }
    table(rows)
}

pub fn statuses(list: &[(String, AccountStatus)]) -> String {
    let mut rows = vec![row(["account", "last success (UTC)", "lag", "failures in a row", "error rate", "last error"])];
    for (id, s) in list {
        rows.push(vec![
            id.clone(),
            s.last_success.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "never".into()),
            s.lag_secs.map(|l| format!("{l} s")).unwrap_or_default(),
            s.consecutive_failures.to_string(),
            format!("{:.0}%", s.error_rate * 100.0),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    table(rows)
}

/// One line: what went wrong and what to do about it.
pub fn advice(e: &(dyn std::error::Error + 'static)) -> String {
    let Some(err) = e.downcast_ref::<Error>() else { return e.to_string() };
    let what = err.to_string();
    let todo = match err.kind() {
        ErrorKind::Reauthenticate => match err.connector().map(|c| c.as_str()) {
            Some("beds24") => {
                "create a new invite code in Beds24 (Settings › Marketplace › API) and update the account"
            }
            Some("cloudbeds") => "create a new API key in Cloudbeds (or reconnect the app) and update the account",
            _ => "reconnect the account with new credentials",
        },
        ErrorKind::Configuration => "fix the configuration and run again",
        ErrorKind::Throttled => "the source asked to slow down: run again later",
        ErrorKind::Transient => "a passing failure: run again in a few minutes",
        ErrorKind::Unsupported => "this connection cannot do that (see `hostelpulse capabilities`)",
        _ => "see the message above",
    };
    format!("{what} — {todo}")
}
