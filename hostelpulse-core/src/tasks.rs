//! "Turnover / Room ready" tasks from check-outs.
//!
//! Tasks are derived, not accumulated: [`TurnoverPlanner::plan`] computes the tasks the current
//! bookings call for, and [`TurnoverPlanner::reconcile`] compares them with the tasks the host
//! already has, yielding create / move / withdraw events. Re-running on the same bookings yields
//! nothing, so the same check-out never makes two tasks; a date change moves its task; a
//! cancellation, a no-show or a move to another room withdraws it.
//!
//! Hosts that want tasks kept for them use a [`TaskKeeper`]: after each sync it reconciles the
//! plan against the tasks a [`TaskStore`] keeps, records the events that applied in the store's
//! outbox in the same transaction, and hands them to the host's [`TaskSink`] until the sink has
//! taken them. Every event carries a stable id, so a sink that upserts by it sees each event
//! exactly once even when a crash between delivery and acknowledgement sends it again.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use crate::error::BoxError;
use crate::mapping::{HostRoom, RoomMapping};
use crate::model::{Booking, SourceId, SourceKey};
use crate::sync::StoreError;

/// How urgent a turnover is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Priority {
    /// Nobody arrives in that room or bed on the check-out day.
    Normal,
    /// Someone arrives the same day: the room must be ready by check-in time.
    High,
}

/// A "Turnover / Room ready" task. Its id is stable per booking and room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TurnoverTask {
    /// Idempotency key: the booking's source key and the room or bed.
    pub id: String,
    /// The booking checking out.
    pub booking: SourceKey,
    /// The room or bed to turn over.
    pub room: SourceId,
    /// Its label (room number, bed name), when known: the host's name once the room is mapped.
    pub room_label: Option<String>,
    /// The host's room or bed, once the mapping is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_room: Option<HostRoom>,
    /// The check-out day (property-local).
    pub checkout: NaiveDate,
    /// Ready by: check-in time on the next arrival date for that room, or the end of the check-out day.
    pub due_by: DateTime<Utc>,
    /// Priority.
    pub priority: Priority,
}

/// A change to the host's task list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
// A handful of events per sync: boxing the tasks would cost every host a deref for nothing.
#[allow(clippy::large_enum_variant)]
pub enum TaskEvent {
    /// A new task.
    Created {
        /// The task.
        task: TurnoverTask,
    },
    /// The same task with another date, deadline or priority.
    Moved {
        /// As it was.
        from: TurnoverTask,
        /// As it is now.
        to: TurnoverTask,
    },
    /// No longer needed (cancelled, no-show, moved to another room).
    Withdrawn {
        /// The task.
        task: TurnoverTask,
    },
}

/// Plans turnovers for one property.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TurnoverPlanner {
    /// The property's time zone.
    pub timezone: Tz,
    /// Standard check-in time.
    pub check_in: NaiveTime,
    /// "End of day" for turnovers with no arrival behind them.
    pub end_of_day: NaiveTime,
    /// The confirmed room mapping applied to the tasks.
    pub mapping: RoomMapping,
}

impl TurnoverPlanner {
    /// A planner for a property in `timezone` checking in at `check_in`.
    pub fn new(timezone: Tz, check_in: NaiveTime) -> Self {
        Self {
            timezone,
            check_in,
            end_of_day: NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN),
            mapping: RoomMapping::default(),
        }
    }

    /// Applies a room mapping: tasks of mapped rooms carry the host's room and its name.
    pub fn with_mapping(mut self, mapping: RoomMapping) -> Self {
        self.mapping = mapping;
        self
    }

    fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        // On a DST gap the earliest valid instant after it is used; on a fold the earlier one.
        match self.timezone.from_local_datetime(&date.and_time(time)) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            chrono::LocalResult::None => {
                let later = date.and_time(time) + chrono::Duration::hours(1);
                self.timezone
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| later.and_utc())
            }
        }
    }

    /// The tasks `bookings` call for: one per checking-out stay and room or bed it occupies.
    pub fn plan(&self, bookings: &[Booking]) -> BTreeMap<String, TurnoverTask> {
        let stays: Vec<(&Booking, SourceId, Option<String>)> = bookings
            .iter()
            .filter(|b| b.status.is_active_stay())
            .flat_map(|b| {
                b.allocations.iter().filter_map(move |a| {
                    let room = a.bed.clone().or_else(|| a.room.clone())?;
                    Some((b, room, a.label.clone()))
                })
            })
            .collect();
        let mut out = BTreeMap::new();
        for (b, room, label) in &stays {
            let next_arrival = stays
                .iter()
                .filter(|(o, r, _)| r == room && o.key != b.key && o.arrival >= b.departure)
                .map(|(o, _, _)| o.arrival)
                .min();
            let (due_by, priority) = match next_arrival {
                Some(d) if d == b.departure => (self.at(d, self.check_in), Priority::High),
                Some(d) => (self.at(d, self.check_in), Priority::Normal),
                None => (self.at(b.departure, self.end_of_day), Priority::Normal),
            };
            let id = format!("turnover:{}:{}", b.key, room);
            let unit = SourceKey::new(b.key.connector.clone(), b.key.account.clone(), room.clone());
            let host_room = self.mapping.host_for_unit(&unit).cloned();
            let label = host_room.as_ref().map(|h| h.name.clone()).or_else(|| label.clone());
            out.insert(
                id.clone(),
                TurnoverTask {
                    id,
                    booking: b.key.clone(),
                    room: room.clone(),
                    room_label: label,
                    host_room,
                    checkout: b.departure,
                    due_by,
                    priority,
                },
            );
        }
        out
    }

    /// The events that turn `existing` tasks into `desired` ones.
    ///
    /// A task is named after the booking it came from, and the same stay can come from two
    /// sources (an OTA's iCal copy first, the PMS's later, merged into one). So a desired task no
    /// existing one has the id of takes over an existing task nothing desires any more when both
    /// are the same turnover: the same unit (the host's room where both are mapped, else the
    /// source's) on the same check-out day. It keeps the existing id and is `moved`, never
    /// withdrawn and created again: whoever was assigned to it stays assigned.
    pub fn reconcile(
        &self,
        existing: &BTreeMap<String, TurnoverTask>,
        desired: &BTreeMap<String, TurnoverTask>,
    ) -> Vec<TaskEvent> {
        let same_turnover = |a: &TurnoverTask, b: &TurnoverTask| {
            a.checkout == b.checkout
                && match (&a.host_room, &b.host_room) {
                    (Some(x), Some(y)) => x.id == y.id,
                    _ => a.room == b.room,
                }
        };
        let mut orphans: Vec<&TurnoverTask> = existing.values().filter(|t| !desired.contains_key(&t.id)).collect();
        let mut events = Vec::new();
        for (id, task) in desired {
            match existing.get(id) {
                Some(old) if old != task => events.push(TaskEvent::Moved { from: old.clone(), to: task.clone() }),
                Some(_) => {}
                None => match orphans.iter().position(|old| same_turnover(old, task)) {
                    Some(i) => {
                        let old = orphans.remove(i);
                        let to = TurnoverTask { id: old.id.clone(), ..task.clone() };
                        if *old != to {
                            events.push(TaskEvent::Moved { from: old.clone(), to });
                        }
                    }
                    None => events.push(TaskEvent::Created { task: task.clone() }),
                },
            }
        }
        events.extend(orphans.into_iter().map(|task| TaskEvent::Withdrawn { task: task.clone() }));
        events
    }
}

/// Applies events to a task list (what a host's own store does).
pub fn apply(tasks: &mut BTreeMap<String, TurnoverTask>, events: &[TaskEvent]) {
    for e in events {
        match e {
            TaskEvent::Created { task } | TaskEvent::Moved { to: task, .. } => {
                tasks.insert(task.id.clone(), task.clone());
            }
            TaskEvent::Withdrawn { task } => {
                tasks.remove(&task.id);
            }
        }
    }
}

/// How an event changes `current`, the task the store keeps under the event's id, when several
/// runs reconcile at once: an event planned against an older list is re-based on what is kept,
/// and one that changes nothing is dropped. Stores call this inside the transaction that writes.
pub fn settle(current: Option<&TurnoverTask>, event: &TaskEvent) -> Option<TaskEvent> {
    match (event, current) {
        (TaskEvent::Created { task } | TaskEvent::Moved { to: task, .. }, None) => {
            Some(TaskEvent::Created { task: task.clone() })
        }
        (TaskEvent::Created { task } | TaskEvent::Moved { to: task, .. }, Some(kept)) => {
            (kept != task).then(|| TaskEvent::Moved { from: kept.clone(), to: task.clone() })
        }
        (TaskEvent::Withdrawn { .. }, Some(kept)) => Some(TaskEvent::Withdrawn { task: kept.clone() }),
        (TaskEvent::Withdrawn { .. }, None) => None,
    }
}

impl TaskEvent {
    /// The task the event is about (as it is after the event, or as it was when withdrawn).
    pub fn task(&self) -> &TurnoverTask {
        match self {
            Self::Created { task } | Self::Moved { to: task, .. } | Self::Withdrawn { task } => task,
        }
    }
}

/// An event recorded in a store's task outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskDelivery {
    /// The outbox id: stable across re-deliveries, increasing in the order events were recorded.
    pub id: i64,
    /// The property the task belongs to (as the host named it to the keeper).
    pub property: String,
    /// What happened.
    pub event: TaskEvent,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl TaskDelivery {
    /// A delivery recorded now (stores set `recorded_at` from their own column).
    pub fn new(id: i64, property: impl Into<String>, event: TaskEvent) -> Self {
        Self { id, property: property.into(), event, recorded_at: Utc::now() }
    }
}

/// Kept turnover tasks and the outbox of their events.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// The kept tasks of a property, by id.
    async fn kept_tasks(&self, property: &str) -> Result<BTreeMap<String, TurnoverTask>, StoreError>;
    /// In one transaction: settles each event against the kept task ([`settle`]), writes the
    /// result and appends the events that changed something to the outbox. Returns those.
    async fn record_task_events(
        &self,
        property: &str,
        events: &[TaskEvent],
        at: DateTime<Utc>,
    ) -> Result<Vec<TaskDelivery>, StoreError>;
    /// Outbox events not yet acknowledged, oldest first, at most `limit`.
    async fn pending_task_events(&self, limit: usize) -> Result<Vec<TaskDelivery>, StoreError>;
    /// Marks outbox events as taken by the host.
    async fn acknowledge_task_events(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Where kept tasks' events go: the host's task list. Upsert by [`TaskDelivery::id`] (or the
/// task id): a delivery whose acknowledgement was lost comes again.
#[async_trait]
pub trait TaskSink: Send + Sync {
    /// Takes events, oldest first. On error none counts as taken and all come again.
    async fn deliver(&self, events: &[TaskDelivery]) -> Result<(), BoxError>;
}

/// Why keeping tasks failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The store failed; nothing was recorded or acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The host's sink refused the events; they stay pending and come again.
    #[error("the host's task sink failed: {0}")]
    Sink(#[source] BoxError),
}

/// Keeps one property's turnover tasks in a [`TaskStore`] and delivers their events.
#[derive(Debug, Clone)]
pub struct TaskKeeper {
    property: String,
    planner: TurnoverPlanner,
    horizon_days: i64,
}

impl TaskKeeper {
    /// A keeper for `property` (the name tasks are kept under) with `planner`'s times and
    /// mapping, looking 60 days ahead.
    pub fn new(property: impl Into<String>, planner: TurnoverPlanner) -> Self {
        Self { property: property.into(), planner, horizon_days: 60 }
    }

    /// How many days ahead tasks are kept (at least 1). A stay moved beyond it has its task
    /// withdrawn, and created again once it comes within.
    pub fn horizon_days(mut self, days: i64) -> Self {
        self.horizon_days = days.max(1);
        self
    }

    /// The stay dates whose bookings [`TaskKeeper::reconcile`] needs: from the day before
    /// `today` to two weeks past the horizon (next arrivals set the deadlines).
    pub fn window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        (today - chrono::Duration::days(1), today + chrono::Duration::days(self.horizon_days + 14))
    }

    /// Plans the tasks `bookings` call for (every source of the property, duplicates across
    /// sources merged) with check-out from yesterday to the horizon, and records what changed
    /// against the kept tasks of that range. Kept tasks before it are history and stay.
    pub async fn reconcile(
        &self,
        store: &dyn TaskStore,
        bookings: &[Booking],
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<TaskDelivery>, TaskError> {
        let from = today - chrono::Duration::days(1);
        let until = today + chrono::Duration::days(self.horizon_days);
        let in_range = |t: &TurnoverTask| t.checkout >= from && t.checkout < until;
        let merged: Vec<Booking> = crate::board::merge_sources(bookings).into_iter().map(|(b, _)| b).collect();
        let desired: BTreeMap<String, TurnoverTask> =
            self.planner.plan(&merged).into_iter().filter(|(_, t)| in_range(t)).collect();
        let mut kept = store.kept_tasks(&self.property).await?;
        kept.retain(|_, t| in_range(t));
        let events = self.planner.reconcile(&kept, &desired);
        if events.is_empty() {
            return Ok(Vec::new());
        }
        Ok(store.record_task_events(&self.property, &events, now).await?)
    }

    /// Hands every pending outbox event (of all properties) to `sink`, in batches, and
    /// acknowledges each batch the sink took. Returns how many were delivered.
    pub async fn deliver(store: &dyn TaskStore, sink: &dyn TaskSink, now: DateTime<Utc>) -> Result<usize, TaskError> {
        let mut total = 0;
        loop {
            let batch = store.pending_task_events(500).await?;
            if batch.is_empty() {
                return Ok(total);
            }
            sink.deliver(&batch).await.map_err(TaskError::Sink)?;
            let ids: Vec<i64> = batch.iter().map(|d| d.id).collect();
            store.acknowledge_task_events(&ids, now).await?;
            total += batch.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Allocation, BookingStatus, ConnectorKind, Provenance, Via};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stay(id: &str, bed: &str, arrival: &str, departure: &str) -> Booking {
        let mut b = Booking::new(
            SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id),
            Provenance::new(Via::Api, Utc::now()),
            BookingStatus::Confirmed,
            d(arrival),
            d(departure),
        );
        b.allocations = vec![Allocation {
            room_type: Some("445566".into()),
            room: Some("dorm:445566:Dorm 1".into()),
            bed: Some(bed.into()),
            label: Some(format!("Bed {bed}")),
        }];
        b
    }

    fn planner() -> TurnoverPlanner {
        TurnoverPlanner::new(chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap())
    }

    #[test]
    fn one_task_per_checkout_due_at_the_next_check_in_high_when_same_day() {
        let p = planner();
        let bookings = vec![
            stay("a", "b1", "2026-07-10", "2026-07-13"),
            stay("b", "b1", "2026-07-13", "2026-07-15"),
            stay("c", "b2", "2026-07-10", "2026-07-12"),
        ];
        let tasks = p.plan(&bookings);
        assert_eq!(tasks.len(), 3);
        let a = &tasks["turnover:cloudbeds:173042:a:b1"];
        assert_eq!(a.priority, Priority::High, "someone arrives in b1 the same day");
        assert_eq!(a.due_by, "2026-07-13T14:00:00Z".parse::<DateTime<Utc>>().unwrap(), "15:00 Lisbon summer time");
        let c = &tasks["turnover:cloudbeds:173042:c:b2"];
        assert_eq!(c.priority, Priority::Normal);
        assert_eq!(c.due_by, "2026-07-12T22:59:00Z".parse::<DateTime<Utc>>().unwrap(), "end of the check-out day");
    }

    #[test]
    fn re_planning_the_same_bookings_changes_nothing() {
        let p = planner();
        let bookings = vec![stay("a", "b1", "2026-07-10", "2026-07-13")];
        let mut host = BTreeMap::new();
        let first = p.reconcile(&host, &p.plan(&bookings));
        assert_eq!(first.len(), 1);
        apply(&mut host, &first);
        for _ in 0..3 {
            assert!(p.reconcile(&host, &p.plan(&bookings)).is_empty(), "the same checkout never makes two tasks");
        }
    }

    #[test]
    fn the_pms_copy_arriving_after_the_ota_copy_takes_the_task_over() {
        let p = planner();
        let mut host = BTreeMap::new();
        // The OTA's iCal copy first, on the PMS's bed id.
        let mut ota = stay("uid-1@booking.com", "b1", "2026-07-10", "2026-07-13");
        ota.key = SourceKey::new(ConnectorKind::ICAL, "booking", "uid-1@booking.com");
        let created = p.reconcile(&host, &p.plan(std::slice::from_ref(&ota)));
        apply(&mut host, &created);
        let id = created[0].task().id.clone();
        // Then only the PMS's copy (the merge keeps one): the same turnover, moved onto it.
        let pms = stay("r-9", "b1", "2026-07-10", "2026-07-13");
        let events = p.reconcile(&host, &p.plan(std::slice::from_ref(&pms)));
        assert!(
            matches!(&events[..], [TaskEvent::Moved { from, to }] if from.id == id && to.id == id && to.booking == pms.key),
            "{events:?}"
        );
        apply(&mut host, &events);
        for _ in 0..2 {
            assert!(p.reconcile(&host, &p.plan(std::slice::from_ref(&pms))).is_empty(), "settled: no churn");
        }
        // Another bed or another day is another turnover.
        let elsewhere = stay("r-9", "b2", "2026-07-10", "2026-07-13");
        let events = p.reconcile(&host, &p.plan(std::slice::from_ref(&elsewhere)));
        assert_eq!(events.len(), 2, "{events:?}");
    }

    #[test]
    fn date_changes_move_and_cancellations_withdraw() {
        let p = planner();
        let mut host = BTreeMap::new();
        let mut a = stay("a", "b1", "2026-07-10", "2026-07-13");
        let created = p.reconcile(&host, &p.plan(std::slice::from_ref(&a)));
        apply(&mut host, &created);

        a.departure = d("2026-07-14");
        let events = p.reconcile(&host, &p.plan(std::slice::from_ref(&a)));
        assert!(
            matches!(&events[..], [TaskEvent::Moved { from, to }] if from.checkout == d("2026-07-13") && to.checkout == d("2026-07-14"))
        );
        apply(&mut host, &events);

        // Moved to another bed: the old bed's task goes, the new bed's comes.
        a.allocations[0].bed = Some("b4".into());
        let events = p.reconcile(&host, &p.plan(std::slice::from_ref(&a)));
        assert_eq!(events.len(), 2);
        apply(&mut host, &events);

        a.status = BookingStatus::Cancelled;
        let events = p.reconcile(&host, &p.plan(std::slice::from_ref(&a)));
        assert!(matches!(&events[..], [TaskEvent::Withdrawn { .. }]));
        apply(&mut host, &events);
        assert!(host.is_empty());
    }

    #[test]
    fn deadlines_respect_dst_changes() {
        let p = planner();
        // Lisbon leaves summer time on 2026-10-25: 15:00 is 14:00Z the day before and 15:00Z that day.
        let tasks = p.plan(&[stay("a", "b1", "2026-10-22", "2026-10-25"), stay("b", "b1", "2026-10-25", "2026-10-27")]);
        assert_eq!(
            tasks["turnover:cloudbeds:173042:a:b1"].due_by,
            "2026-10-25T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let tasks = p.plan(&[stay("a", "b1", "2026-10-21", "2026-10-24"), stay("b", "b1", "2026-10-24", "2026-10-27")]);
        assert_eq!(
            tasks["turnover:cloudbeds:173042:a:b1"].due_by,
            "2026-10-24T14:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}

#[cfg(test)]
mod kept_tests {
    use super::*;
    use crate::model::{Allocation, BookingStatus, ConnectorKind, Provenance, Via};
    use crate::sync::MemoryStore;

    fn stay(id: &str, room: &str, arrival: &str, departure: &str) -> Booking {
        let mut b = Booking::new(
            SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id),
            Provenance::new(Via::Api, Utc::now()),
            BookingStatus::Confirmed,
            arrival.parse().unwrap(),
            departure.parse().unwrap(),
        );
        b.allocations = vec![Allocation { room: Some(room.into()), ..Allocation::default() }];
        b
    }

    #[test]
    fn settling_re_bases_events_planned_against_an_older_list() {
        let p = TurnoverPlanner::new(chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap());
        let t = p.plan(&[stay("a", "r1", "2026-12-01", "2026-12-03")]).into_values().next().unwrap();
        let mut later = t.clone();
        later.checkout = "2026-12-04".parse().unwrap();
        let created = TaskEvent::Created { task: t.clone() };
        assert_eq!(settle(None, &created), Some(created.clone()));
        assert_eq!(settle(Some(&t), &created), None, "already kept: nothing new");
        assert_eq!(
            settle(Some(&later), &created),
            Some(TaskEvent::Moved { from: later.clone(), to: t.clone() }),
            "kept in another form: a move from what is kept"
        );
        let withdrawn = TaskEvent::Withdrawn { task: t.clone() };
        assert_eq!(settle(None, &withdrawn), None, "withdrawn by someone else already");
        assert_eq!(settle(Some(&later), &withdrawn), Some(TaskEvent::Withdrawn { task: later }));
    }

    #[tokio::test]
    async fn a_checkout_as_an_event_or_as_a_date_is_one_task() {
        let store = MemoryStore::new();
        let keeper = TaskKeeper::new(
            "Casa",
            TurnoverPlanner::new(chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap()),
        );
        let today: NaiveDate = "2026-12-01".parse().unwrap();
        let now = Utc::now();
        let mut a = stay("a", "r1", "2026-11-29", "2026-12-01");
        assert_eq!(keeper.reconcile(&store, std::slice::from_ref(&a), today, now).await.unwrap().len(), 1);
        a.status = BookingStatus::CheckedOut;
        assert!(keeper.reconcile(&store, std::slice::from_ref(&a), today, now).await.unwrap().is_empty());
        // Beyond the horizon: withdrawn; back within it: created again.
        let short = keeper.clone().horizon_days(5);
        a.departure = "2026-12-20".parse().unwrap();
        let events = short.reconcile(&store, std::slice::from_ref(&a), today, now).await.unwrap();
        assert!(matches!(&events[..], [d] if matches!(d.event, TaskEvent::Withdrawn { .. })));
        assert_eq!(store.pending_task_events(10).await.unwrap().len(), 2);
    }
}
