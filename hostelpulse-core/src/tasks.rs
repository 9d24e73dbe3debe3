//! "Turnover / Room ready" tasks from check-outs.
//!
//! Tasks are derived, not accumulated: [`TurnoverPlanner::plan`] computes the tasks the current
//! bookings call for, and [`TurnoverPlanner::reconcile`] compares them with the tasks the host
//! already has, yielding create / move / withdraw events. Re-running on the same bookings yields
//! nothing, so the same check-out never makes two tasks; a date change moves its task; a
//! cancellation, a no-show or a move to another room withdraws it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::{Booking, SourceId, SourceKey};

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
    /// Its label (room number, bed name), when known.
    pub room_label: Option<String>,
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
}

impl TurnoverPlanner {
    /// A planner for a property in `timezone` checking in at `check_in`.
    pub fn new(timezone: Tz, check_in: NaiveTime) -> Self {
        Self { timezone, check_in, end_of_day: NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN) }
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
            out.insert(
                id.clone(),
                TurnoverTask {
                    id,
                    booking: b.key.clone(),
                    room: room.clone(),
                    room_label: label.clone(),
                    checkout: b.departure,
                    due_by,
                    priority,
                },
            );
        }
        out
    }

    /// The events that turn `existing` tasks into `desired` ones.
    pub fn reconcile(
        &self,
        existing: &BTreeMap<String, TurnoverTask>,
        desired: &BTreeMap<String, TurnoverTask>,
    ) -> Vec<TaskEvent> {
        let mut events = Vec::new();
        for (id, task) in desired {
            match existing.get(id) {
                None => events.push(TaskEvent::Created { task: task.clone() }),
                Some(old) if old != task => events.push(TaskEvent::Moved { from: old.clone(), to: task.clone() }),
                Some(_) => {}
            }
        }
        for (id, task) in existing {
            if !desired.contains_key(id) {
                events.push(TaskEvent::Withdrawn { task: task.clone() });
            }
        }
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
