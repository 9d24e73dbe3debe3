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

/// Stay events (checked in, checked out, cancelled, …) appended to a file, one JSON object per
/// line; a run retried after a failure appends its events again with the same ids.
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
    let bookings: Vec<_> = store
        .bookings_between(from, until)
        .await?
        .into_iter()
        .filter(|b| mine.contains(&Scope::new(b.key.connector.clone(), b.key.account.clone())))
        .collect();
    Ok(keeper.reconcile(store as &dyn TaskStore, &bookings, today, now).await?)
}

/// Hands pending events to the host's file; `None` leaves them pending in the state.
pub async fn deliver(store: &dyn StateStore, to: Option<&PathBuf>) -> Result<usize, BoxError> {
    let Some(path) = to else { return Ok(0) };
    let sink = JsonLinesTasks::new(path.clone());
    Ok(TaskKeeper::deliver(store as &dyn TaskStore, &sink, Utc::now()).await?)
}

/// `hostelpulse run`: after every committed run that changed something, the tasks of the
/// account's property are reconciled and delivered; once at start for every property.
pub async fn keep_running(
    mut events: tokio::sync::broadcast::Receiver<hostelpulse::runtime::RuntimeEvent>,
    fleet: Arc<hostelpulse::config::Fleet>,
    store: Arc<dyn StateStore>,
    to: Option<PathBuf>,
) {
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
    for cfg in fleet.properties.iter().cloned() {
        pass(cfg).await;
    }
    loop {
        let e = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let hostelpulse::runtime::RuntimeEvent::Ran { account, run, .. } = e else { continue };
        if !run.outcome.is_success() || run.counts.changes() == 0 {
            continue;
        }
        if let Some(cfg) = fleet.properties.iter().find(|p| p.property_accounts().any(|a| a.id() == account)) {
            pass(cfg.clone()).await;
        }
    }
}
