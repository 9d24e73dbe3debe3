//! Turnover tasks and room mapping on data synced from the emulator.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveTime;
use common::*;
use hostelpulse_core::mapping::{self, HostRoom};
use hostelpulse_core::model::{Booking, SourceKey};
use hostelpulse_core::sync::{CollectingSink, MemoryStore, Plan, SyncEngine, Trigger};
use hostelpulse_core::tasks::{TaskEvent, TurnoverPlanner, apply};
use hostelpulse_core::testkit::{Modification, Upstream};
use hostelpulse_core::{Connector, SourceId};

/// The host's copy of the bookings, kept from the sink's changes (upsert by key).
fn upsert(host: &mut BTreeMap<SourceKey, Booking>, sink: &CollectingSink) {
    for c in sink.take() {
        if let Some(b) = c.booking {
            host.insert(c.key, b);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turnovers_are_created_once_moved_on_date_changes_and_withdrawn_on_cancellation() {
    let emu = emulator(12).await;
    let c = connector_at(emu.base_url(), PROPERTY, api_key(&emu));
    let engine = SyncEngine::new(Arc::new(MemoryStore::new()));
    let sink = CollectingSink::new();
    let mut host_bookings = BTreeMap::new();
    let mut host_tasks = BTreeMap::new();
    let planner = TurnoverPlanner::new(chrono_tz::Europe::Lisbon, NaiveTime::from_hms_opt(15, 0, 0).unwrap());
    let replan = |bookings: &BTreeMap<SourceKey, Booking>, tasks: &mut BTreeMap<String, _>| {
        let all: Vec<Booking> = bookings.values().cloned().collect();
        let events = planner.reconcile(tasks, &planner.plan(&all));
        apply(tasks, &events);
        events
    };

    engine.run(&c, Plan::Full, Trigger::ScheduledFull, &sink).await;
    upsert(&mut host_bookings, &sink);
    let created = replan(&host_bookings, &mut host_tasks);
    let active = host_bookings.values().filter(|b| b.status.is_active_stay()).count();
    assert_eq!(created.len(), active, "one turnover per checking-out stay");
    assert!(created.iter().all(|e| matches!(e, TaskEvent::Created { .. })));

    // A second sync of the same data: nothing new.
    engine.run(&c, Plan::Full, Trigger::ScheduledFull, &sink).await;
    upsert(&mut host_bookings, &sink);
    assert!(replan(&host_bookings, &mut host_tasks).is_empty(), "the same checkout never makes two tasks");

    let live: Vec<&Booking> = host_bookings.values().filter(|b| b.status.is_active_stay()).collect();
    let (moved, cancelled) = (live[0].key.id.clone(), live[1].key.id.clone());
    emu.modify(&moved, Modification::ExtendStay).await.unwrap();
    emu.cancel(&cancelled).await.unwrap();
    engine
        .run(
            &c,
            Plan::Hint(hostelpulse_core::BookingIds::new([moved.clone(), cancelled.clone()]).unwrap()),
            Trigger::Webhook,
            &sink,
        )
        .await;
    upsert(&mut host_bookings, &sink);
    let events = replan(&host_bookings, &mut host_tasks);
    let id_of = |e: &TaskEvent| -> SourceId {
        match e {
            TaskEvent::Created { task } | TaskEvent::Withdrawn { task } | TaskEvent::Moved { to: task, .. } => {
                task.booking.id.clone()
            }
            _ => SourceId::new(""),
        }
    };
    let moved_events: Vec<_> = events.iter().filter(|e| id_of(e) == moved).collect();
    assert!(
        matches!(moved_events[..], [TaskEvent::Moved { from, to }] if to.checkout == from.checkout + chrono::Duration::days(1)),
        "{events:#?}"
    );
    let cancelled_events: Vec<_> = events.iter().filter(|e| id_of(e) == cancelled).collect();
    assert!(matches!(cancelled_events[..], [TaskEvent::Withdrawn { .. }]), "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_report_on_a_seeded_mismatch() {
    let emu = emulator(0).await;
    let c = connector_at(emu.base_url(), PROPERTY, api_key(&emu));
    let sources = mapping::source_rooms(&c.rooms().await.unwrap());
    assert_eq!(sources.len(), 16, "6 + 8 dorm beds and 2 private rooms");
    // The host knows the private rooms and Dorm 1's beds, plus a room Cloudbeds does not have.
    let mut hosts: Vec<HostRoom> =
        ["201", "202", "301"].iter().map(|n| HostRoom { id: format!("h-{n}"), name: n.to_string() }).collect();
    hosts.extend(
        (b'A'..=b'F').map(|b| HostRoom { id: format!("h-d1{}", b as char), name: format!("D1-Bed {}", b as char) }),
    );
    let suggested: BTreeMap<SourceKey, String> =
        mapping::suggest(&sources, &hosts).into_iter().map(|s| (s.source, s.host)).collect();
    assert_eq!(suggested.len(), 8);
    let report = mapping::verify(&suggested, &sources, &hosts);
    assert_eq!(report.unmapped_sources.len(), 8, "the female dorm's beds have no host room yet");
    assert!(report.unmapped_sources.iter().all(|s| s.dorm.as_deref().is_some_and(|d| d == "Dorm 2" || d == "Dorm 3")));
    assert_eq!(report.unmapped_hosts.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["h-301"]);
    assert!(report.duplicates.is_empty() && report.stale.is_empty());
}
