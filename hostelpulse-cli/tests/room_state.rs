//! Room state end to end, against the Cloudbeds emulator, each step a separate `hostelpulse`
//! process on one state file: the stored room mapping is suggested, confirmed and applied; a
//! room marked dirty upstream shows dirty on the board; a checkout makes exactly one turnover
//! task with the host's room, due before the next arrival, which a cancellation withdraws; a new
//! upstream room is reported unmapped; no booking vanishes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{Duration, Utc};
use hostelpulse_sandbox::CloudbedsEmulator;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hostelpulse");

fn hostelpulse(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("RUST_LOG", "error").output().expect("the binary runs");
    assert!(
        out.status.success(),
        "hostelpulse {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn json(args: &[&str]) -> Value {
    let text = hostelpulse(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("hostelpulse {args:?}: not JSON ({e}):\n{text}"))
}

/// Task events appended so far, one JSON object per line.
fn task_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn mapping_housekeeping_and_turnover_tasks_across_processes() {
    let emu = CloudbedsEmulator::builder().reservations(0).start().await.unwrap();
    let property = emu.property_id().to_owned();
    let today = Utc::now().with_timezone(&chrono_tz::Europe::Lisbon).date_naive();
    // 201: one stay checks out today, the next arrives today. 202: a stay checks out tomorrow.
    let leaving = emu.add_reservation(today - Duration::days(2), today, "445567-1");
    let arriving = emu.add_reservation(today, today + Duration::days(2), "445567-1");
    let later = emu.add_reservation(today - Duration::days(1), today + Duration::days(1), "445567-2");

    let dir = tempfile::tempdir().unwrap();
    let (config, db, tasks, hosts) = (
        dir.path().join("hostel.toml"),
        dir.path().join("state.sqlite"),
        dir.path().join("tasks.jsonl"),
        dir.path().join("host-rooms.toml"),
    );
    let stay_events = dir.path().join("events.jsonl");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"Casa\"\ntimezone = \"Europe/Lisbon\"\nrooms_from = \"cb\"\n\n[[account]]\n\
             connector = \"cloudbeds\"\nid = \"cb\"\nproperty_id = \"{property}\"\n\
             api_key = {{ value = \"{key}\", insecure_inline = true }}\nhttp = {{ base_url = \"{url}\" }}\n",
            key = emu.issue_api_key(&property),
            url = emu.base_url()
        ),
    )
    .unwrap();
    std::fs::write(
        &hosts,
        "[[room]]\nid = \"h-201\"\nname = \"Room 201\"\n\n[[room]]\nid = \"h-202\"\nname = \"Room 202\"\n",
    )
    .unwrap();
    let (config, db, tasks_to, hosts) =
        (config.to_str().unwrap(), db.to_str().unwrap(), tasks.to_str().unwrap(), hosts.to_str().unwrap());
    let events_to = stay_events.to_str().unwrap();
    let sync =
        || json(&["sync", "--config", config, "--db", db, "--tasks-to", tasks_to, "--events-to", events_to, "--json"]);

    // First sync: no mapping yet, so none is reported; the checkouts already make their tasks.
    let report = sync();
    assert_eq!(report["cb"]["outcome"]["status"], "ok", "{report:#}");
    assert!(report["cb"].get("mapping").is_none(), "no mapping kept: nothing to report");
    let first = task_events(&tasks);
    assert_eq!(first.len(), 3, "one task per stay checking out within the horizon: {first:#?}");
    // Housekeeping is synced like bookings: every room's state appears once, as an event.
    let appeared: Vec<String> = task_events(&stay_events)
        .iter()
        .filter(|e| e["kind"] == "room_appeared")
        .map(|e| e["room"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(appeared.contains(&"445567-1".to_owned()) && appeared.contains(&"445567-2".to_owned()), "{appeared:?}");
    let distinct: std::collections::BTreeSet<&String> = appeared.iter().collect();
    assert_eq!(distinct.len(), appeared.len(), "each room once");
    assert!(first.iter().all(|e| e["event"]["event"] == "created"));

    // Triage: who slept in 201 last night, and one booking by id — Cloudbeds answers itself.
    let night = (today - Duration::days(1)).to_string();
    let found = json(&[
        "stay",
        "--config",
        config,
        "--db",
        db,
        "--account",
        "cb",
        "--room",
        "445567-1",
        "--night",
        &night,
        "--json",
    ]);
    assert_eq!(found["answered_by"], "source", "{found:#}");
    let ids: Vec<&str> =
        found["bookings"].as_array().unwrap().iter().map(|b| b["key"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [leaving.as_str()]);
    let found = json(&["stay", "--config", config, "--db", db, "--account", "cb", "--booking", &arriving, "--json"]);
    assert_eq!(found["bookings"][0]["arrival"], today.to_string());

    // The host's rooms: suggestions by number, stored unconfirmed, then confirmed.
    let suggested = json(&["mapping", "suggest", hosts, "--db", db, "--json"]);
    let pairs: BTreeMap<String, String> = suggested
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["source"].as_str().unwrap().to_owned(), s["host"]["id"].as_str().unwrap().to_owned()))
        .collect();
    let k = |room: &str| format!("cloudbeds:{property}:{room}");
    assert_eq!(pairs, BTreeMap::from([(k("445567-1"), "h-201".into()), (k("445567-2"), "h-202".into())]));
    let shown = json(&["mapping", "show", "--db", db, "--json"]);
    assert_eq!(shown["review"]["unconfirmed"].as_array().unwrap().len(), 2, "suggestions wait for the host");
    hostelpulse(&["mapping", "confirm", "--all", "--db", db]);

    // Upstream: 201 marked dirty; the owner adds room 203.
    emu.set_room_condition("445567-1", "dirty");
    emu.add_private_room("445567-3", "203", "445567");
    let report = sync();
    let unmapped: Vec<&str> =
        report["cb"]["mapping"]["unmapped"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(unmapped.contains(&"203"), "the new room is reported unmapped: {unmapped:?}");
    assert!(unmapped.contains(&"D1-Bed A"), "so are the dorm beds nobody mapped: {unmapped:?}");
    assert!(!unmapped.contains(&"201") && !unmapped.contains(&"202"));
    assert!(
        report["cb"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("room mapping needs review"))
    );

    // The condition change is one event, with the state before and after.
    let changed: Vec<Value> = task_events(&stay_events).into_iter().filter(|e| e["kind"] == "room_changed").collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0]["room"]["id"], "445567-1");
    assert_eq!(
        (changed[0]["before"]["condition"].as_str(), changed[0]["after"]["condition"].as_str()),
        (Some("clean"), Some("dirty"))
    );

    // The board: the host's names, 201 dirty with an arrival today.
    let date = today.to_string();
    let board = json(&["today", "--config", config, "--db", db, "--date", &date, "--json"]);
    let rooms = board["rooms"].as_array().unwrap();
    let r201 = rooms.iter().find(|r| r["host_room"] == "h-201").expect("201 on the board");
    assert_eq!((r201["name"].as_str(), r201["condition"].as_str()), (Some("Room 201"), Some("dirty")));
    assert_eq!(r201["arrival_today"], true);
    assert!(
        board["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("not clean yet: Room 201"))
    );
    assert!(board["unmapped"].as_array().unwrap().iter().any(|n| n == "203"));
    let turnover = &board["turnovers"][0];
    assert_eq!((turnover["room_label"].as_str(), turnover["priority"].as_str()), (Some("Room 201"), Some("high")));

    // The kept tasks were moved onto the host's rooms, never created twice.
    let events = task_events(&tasks);
    let task_201 = format!("turnover:cloudbeds:{property}:{leaving}:445567-1");
    let of = |id: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["event"].get("task").or(e["event"].get("to")).is_some_and(|t| t["id"] == id))
            .collect()
    };
    let moved: Vec<&Value> = of(&task_201).into_iter().filter(|e| e["event"]["event"] == "moved").collect();
    assert_eq!(moved.len(), 1, "{events:#?}");
    let to = &moved[0]["event"]["to"];
    assert_eq!((to["host_room"]["id"].as_str(), to["priority"].as_str()), (Some("h-201"), Some("high")));
    let due: chrono::DateTime<Utc> = to["due_by"].as_str().unwrap().parse().unwrap();
    let check_in = today.and_hms_opt(15, 0, 0).unwrap().and_local_timezone(chrono_tz::Europe::Lisbon).unwrap();
    assert_eq!(due, check_in.with_timezone(&Utc), "ready by the next arrival's check-in");

    // 202's guest checks out (an event, before the departure date): still the one task.
    emu.set_reservation_status(&later, "checked_out");
    sync();
    // The stay checking out of 201 is cancelled: its task is withdrawn, once.
    emu.set_reservation_status(&leaving, "canceled");
    sync();
    sync();
    let events = task_events(&tasks);
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    let mut withdrawn: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        let ev = &e["event"];
        let id = ev.get("task").or(ev.get("to")).unwrap()["id"].as_str().unwrap().to_owned();
        match ev["event"].as_str() {
            Some("created") => *created.entry(id).or_default() += 1,
            Some("withdrawn") => *withdrawn.entry(id).or_default() += 1,
            _ => {}
        }
    }
    assert!(created.values().all(|n| *n == 1), "no task created twice: {created:?}");
    assert_eq!(created.len(), 3, "{created:?}");
    assert_eq!(withdrawn, BTreeMap::from([(task_201.clone(), 1)]));
    let ids: std::collections::BTreeSet<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "each event delivered once");

    // The stay events: three new bookings, 202's checkout, the cancellation — each once.
    let stays = task_events(&stay_events);
    let of_kind = |kind: &str| -> Vec<&str> {
        stays.iter().filter(|e| e["kind"] == kind).map(|e| e["key"]["id"].as_str().unwrap()).collect()
    };
    assert_eq!(of_kind("new_booking").len(), 3, "{stays:#?}");
    assert_eq!(of_kind("checked_out"), [later.as_str()]);
    assert_eq!(of_kind("cancelled"), [leaving.as_str()]);
    let cancel = stays.iter().find(|e| e["kind"] == "cancelled").unwrap();
    assert_eq!(
        (cancel["before"]["status"].as_str(), cancel["after"]["status"].as_str()),
        (Some("confirmed"), Some("cancelled"))
    );
    let ids: std::collections::BTreeSet<&str> = stays.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), stays.len(), "no event twice");
    // Three more syncs changed no room: still the one room change.
    assert_eq!(stays.iter().filter(|e| e["kind"] == "room_changed").count(), 1);

    // Every housekeeping refresh is in the audit log with its counts: the last saw no change.
    let log = hostelpulse::store::SqliteStore::open_existing(db).await.unwrap();
    let scope = hostelpulse::sync::Scope::new(hostelpulse::model::ConnectorKind::CLOUDBEDS, property.as_str().into());
    let recent = hostelpulse::sync::AuditLog::recent(&log, &scope, 20).await.unwrap();
    let rooms: Vec<_> = recent.iter().filter_map(|r| r.rooms).collect();
    assert_eq!(rooms.len(), 5, "one housekeeping refresh per sync");
    assert_eq!((rooms[0].changes(), rooms[0].unchanged), (0, rooms[0].states), "newest first: {rooms:?}");
    assert!(rooms.iter().any(|c| c.changed == 1));

    // Nothing vanished: the cancelled stay is still in the state, marked cancelled.
    let store = hostelpulse::store::SqliteStore::open_existing(db).await.unwrap();
    let stays = store.bookings_between(today - Duration::days(7), today + Duration::days(7)).await.unwrap();
    let ids: Vec<&str> = stays.iter().map(|b| b.key.id.as_str()).collect();
    for id in [&leaving, &arriving, &later] {
        assert!(ids.contains(&id.as_str()), "{id} kept: {ids:?}");
    }
    assert_eq!(stays.len(), 3, "nothing doubled");
    let cancelled = stays.iter().find(|b| b.key.id.as_str() == leaving).unwrap();
    assert_eq!(cancelled.status, hostelpulse::model::BookingStatus::Cancelled);
}
