//! Kept turnover tasks: after each sync the property's tasks are reconciled in the state, and
//! their events go to the host (`--tasks-to FILE`, one JSON object per line) until taken.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use hostelpulse::config::Config;
use hostelpulse::sync::Scope;
use hostelpulse::tasks::{TaskDelivery, TaskKeeper, TaskSink, TaskStore, TurnoverPlanner};

use crate::ops::StateStore;
use crate::views::BoxError;

/// Appends each event as one JSON line and syncs the file before the events count as taken; an
/// event whose acknowledgement was lost is appended again with the same `id`.
pub struct JsonLinesTasks {
    path: PathBuf,
}

impl JsonLinesTasks {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

/// Appends one JSON object per item and syncs the file before returning.
pub async fn append_json_lines<T: serde::Serialize>(path: &std::path::Path, items: &[T]) -> Result<(), BoxError> {
    let mut text = String::new();
    for e in items {
        text += &serde_json::to_string(e)?;
        text.push('\n');
    }
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_data()?;
        Ok(())
    })
    .await?
}

#[async_trait::async_trait]
impl TaskSink for JsonLinesTasks {
    async fn deliver(&self, events: &[TaskDelivery]) -> Result<(), BoxError> {
        append_json_lines(&self.path, events).await
    }
}

/// Stay events (checked in, checked out, cancelled, …) and room state changes appended to a
/// file, one JSON object per line; a run retried after a failure appends its events again with
/// the same ids. Every line has an `id` and a `kind`: the stay event kinds, or `room_appeared`,
/// `room_changed`, `room_gone` for a room's housekeeping state.
pub struct JsonLinesStayEvents {
    path: PathBuf,
}

impl JsonLinesStayEvents {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

#[async_trait::async_trait]
impl hostelpulse::sync::StayEventSink for JsonLinesStayEvents {
    async fn deliver(&self, events: &[hostelpulse::sync::StayEvent]) -> Result<(), BoxError> {
        append_json_lines(&self.path, events).await
    }
}

#[async_trait::async_trait]
impl hostelpulse::sync::RoomStateSink for JsonLinesStayEvents {
    async fn deliver(&self, scope: &Scope, changes: &[hostelpulse::sync::RoomStateChange]) -> Result<(), BoxError> {
        let lines = changes
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c)?;
                if let Some(o) = v.as_object_mut() {
                    o.insert("kind".into(), format!("room_{}", c.class.as_str()).into());
                    o.insert("account".into(), scope.account.as_str().into());
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        append_json_lines(&self.path, &lines).await
    }
}

/// Reconciles one property's tasks against its stored bookings (every account of the
/// property, duplicates across sources merged) and the confirmed room mapping.
pub async fn keep(cfg: &Config, store: &dyn StateStore) -> Result<Vec<TaskDelivery>, BoxError> {
    let tz = cfg.property.timezone;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let mapping = store.room_mapping().await?;
    let planner = TurnoverPlanner::new(tz, cfg.property.check_in).with_mapping(mapping);
    let keeper = TaskKeeper::new(cfg.property.name.clone(), planner);
    let (from, until) = keeper.window(today);
    let mine: Vec<Scope> = crate::ops::property_scopes(cfg);
    let bookings = store.bookings_of_between(&mine, from, until).await?;
    Ok(keeper.reconcile(store as &dyn TaskStore, &bookings, today, now).await?)
}

/// Hands pending events to the host's file; `None` leaves them pending in the state.
pub async fn deliver(store: &dyn StateStore, to: Option<&PathBuf>) -> Result<usize, BoxError> {
    let Some(path) = to else { return Ok(0) };
    let sink = JsonLinesTasks::new(path.clone());
    Ok(TaskKeeper::deliver(store as &dyn TaskStore, &sink, Utc::now()).await?)
}

/// `hostelpulse run --tasks-to FILE`: the tasks of a property are reconciled after a burst of runs of its
/// accounts that changed something (2 s after the burst's first run), and every hour for the
/// properties this worker ran (check-outs come within the horizon as days pass). Several workers
/// each reconcile what they run; the store settles their events so none is recorded twice.
pub async fn keep_running(
    mut events: tokio::sync::broadcast::Receiver<hostelpulse::runtime::RuntimeEvent>,
    fleet: Arc<hostelpulse::config::Fleet>,
    store: Arc<dyn StateStore>,
    to: Option<PathBuf>,
) {
    use std::collections::BTreeSet;
    use tokio::time::Instant;
    let pass = |cfg: Config| {
        let (store, to) = (store.clone(), to.clone());
        async move {
            if let Err(e) = keep(&cfg, store.as_ref()).await {
                tracing::warn!(property = %cfg.property.name, error = %e, "could not reconcile turnover tasks");
            }
            if let Err(e) = deliver(store.as_ref(), to.as_ref()).await {
                tracing::warn!(error = %e, "could not deliver task events; they stay pending");
            }
        }
    };
    // Events a previous process recorded but could not hand over go first.
    if let Err(e) = deliver(store.as_ref(), to.as_ref()).await {
        tracing::warn!(error = %e, "could not deliver task events; they stay pending");
    }
    let (mut dirty, mut ran) = (BTreeSet::<usize>::new(), BTreeSet::<usize>::new());
    let mut due = Instant::now();
    let mut periodic = Instant::now() + KEEP_PERIOD;
    loop {
        let deadline = if dirty.is_empty() { periodic } else { due.min(periodic) };
        let e = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => {
                let now = Instant::now();
                if !dirty.is_empty() && now >= due {
                    for i in std::mem::take(&mut dirty) {
                        pass(fleet.properties[i].clone()).await;
                    }
                }
                if now >= periodic {
                    for i in std::mem::take(&mut ran) {
                        pass(fleet.properties[i].clone()).await;
                    }
                    periodic = Instant::now() + KEEP_PERIOD;
                }
                continue;
            }
            Ok(Ok(e)) => e,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => return,
        };
        let hostelpulse::runtime::RuntimeEvent::Ran { account, run, .. } = e else { continue };
        if !run.outcome.is_success() {
            continue;
        }
        let Some(i) = fleet.properties.iter().position(|p| p.property_accounts().any(|a| a.id() == account)) else {
            continue;
        };
        ran.insert(i);
        if run.counts.changes() > 0 {
            if dirty.is_empty() {
                // Counted from the burst's first run, so a busy fleet still gets reconciled.
                due = Instant::now() + KEEP_DEBOUNCE;
            }
            dirty.insert(i);
        }
    }
}

/// How often the properties a worker ran are reconciled even when nothing changed.
const KEEP_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long the keeper waits for a burst of runs to end before reconciling what they touched.
const KEEP_DEBOUNCE: std::time::Duration = std::time::Duration::from_secs(2);
