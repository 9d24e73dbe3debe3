//! The demo: every bundled emulator on loopback → one configuration → SQLite → capability
//! matrix, a sync report per source, the Today board → changes upstream (Beds24 webhooks, a
//! cancellation mail, a Sirvoy delivery) → the changes and the turnover tasks they cause.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use hostelpulse::config::Config;
use hostelpulse::core::http::listener::listen;
use hostelpulse::core::testkit::{Modification, NewBooking, Upstream};
use hostelpulse::core::{CapabilityMatrix, SourceId};
use hostelpulse::sirvoy::generate_secret;
use hostelpulse::sync::{CollectingSink, Inbox, InboxWorker, Plan, Scope, SyncEngine, Trigger};
use hostelpulse::tasks::{TaskEvent, TurnoverPlanner};
use hostelpulse::{Registry, store::SqliteStore};
use hostelpulse_sandbox::mail::{BookingMailer, MaildirWriter, SAMPLES};
use hostelpulse_sandbox::{Beds24Emulator, CloudbedsEmulator, IcalFeedServer, Running, SirvoySender};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::views::{self, BoxError};
use crate::{ops, serve};

const HOOK_SECRET: &str = "demo-hook-secret";
const SIRVOY_PROPERTY: &str = "4711";

/// Runs every inbox entry that is due: the webhook deliveries received so far.
async fn process_inbox(
    store: &Arc<SqliteStore>,
    registry: &Registry,
    seen: Option<&CollectingSink>,
) -> Result<Vec<(String, hostelpulse::sync::AuditRecord)>, BoxError> {
    let worker = InboxWorker::new(SyncEngine::new(store.clone()));
    let lookup = |scope: &Scope| registry.for_scope(scope).map(|a| a.connector.clone());
    let done = worker.process_due(Utc::now(), &lookup, &ops::Recording::new(store.as_ref(), seen)).await?;
    Ok(done
        .into_iter()
        .filter_map(|p| {
            let id = registry.for_scope(&p.entry.scope).map(|a| a.id.clone())?;
            p.run.map(|r| (format!("{id} (webhook)"), r))
        })
        .collect())
}

/// An Airbnb export for one bed, holding the stay Beds24 also has (same `HM…` code: the board
/// shows it once) and an owner block later on.
fn airbnb_feed(code: &str, arrival: NaiveDate, departure: NaiveDate) -> Vec<u8> {
    let f = |d: NaiveDate| d.format("%Y%m%d").to_string();
    let block = departure + chrono::Duration::days(5);
    format!(
        "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nVERSION:2.0\r\n\
         BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Reserved\r\nUID:demo-1@airbnb.com\r\n\
         DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/{code}\\nPhone Number (Last 4 Digits): 0001\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Airbnb (Not available)\r\nUID:demo-2@airbnb.com\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
        f(arrival),
        f(departure),
        f(block),
        f(block + chrono::Duration::days(2))
    )
    .into_bytes()
}

/// A Booking.com export closing a private room around today: "occupied, details unknown".
fn booking_feed(today: NaiveDate) -> Vec<u8> {
    let f = |d: NaiveDate| d.format("%Y%m%d").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nPRODID:-//Booking.com//EN\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{}\r\n\
         DTEND;VALUE=DATE:{}\r\nSUMMARY:CLOSED - Not available\r\nUID:demo-3@booking.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        f(today - chrono::Duration::days(1)),
        f(today + chrono::Duration::days(2))
    )
    .into_bytes()
}

/// A Beds24 Airbnb stay covering today: its code, bed (room id, unit) and dates.
fn airbnb_stay(emu: &Beds24Emulator, today: NaiveDate) -> Option<(String, u64, u64, NaiveDate, NaiveDate)> {
    emu.booking_ids().into_iter().filter_map(|id| emu.booking(id)).find_map(|b| {
        let code = b["apiReference"].as_str().filter(|c| c.starts_with("HM"))?.to_owned();
        let date = |k: &str| b[k].as_str().and_then(|s| s.parse::<NaiveDate>().ok());
        let (a, d) = (date("arrival")?, date("departure")?);
        (b["status"] == "confirmed" && a <= today && today < d)
            .then(|| (code, b["roomId"].as_u64().unwrap_or(0), b["unitId"].as_u64().unwrap_or(0), a, d))
    })
}

pub async fn run(db: Option<PathBuf>, json: bool, serve: Option<std::net::SocketAddr>) -> Result<(), BoxError> {
    let started = Instant::now();
    let today = Utc::now().with_timezone(&chrono_tz::Europe::Lisbon).date_naive();
    let work = std::env::temp_dir().join(format!("hostelpulse-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    // The emulators.
    let beds24 = Beds24Emulator::builder().bookings(80).start().await?;
    let cloudbeds = CloudbedsEmulator::builder().reservations(30).start().await?;
    let (code, room, unit, a, d) = airbnb_stay(&beds24, today).ok_or("the Beds24 emulator has no Airbnb stay today")?;
    let feeds = IcalFeedServer::start(&["airbnb-bed", "booking-202"], 0).await?;
    feeds.set_raw("airbnb-bed", Some(airbnb_feed(&code, a, d)));
    feeds.set_raw("booking-202", Some(booking_feed(today)));
    let maildir = work.join("Maildir");
    let mailer = BookingMailer::create(&maildir)?;
    let inbox = MaildirWriter::create(&maildir)?;
    for (_, bytes) in SAMPLES {
        inbox.deliver(bytes)?;
    }
    let expedia =
        mailer.create(NewBooking::new(today, today + chrono::Duration::days(2)).guest("Marie Gagnon")).await?;

    let db = db.unwrap_or_else(|| work.join("hostelpulse.sqlite"));
    let _ = std::fs::remove_file(&db);
    let store = ops::open(&db).await?;
    let sirvoy_secret = generate_secret();
    // OTA export URLs carry their secret in the query (Airbnb's `?s=…`): so do the demo's.
    let feed_token = generate_secret();

    // One configuration for all of it, as a host would write it (the sandbox's secrets inline).
    // Dorm beds are mapped to the bed in their dorm; a private room to the room.
    let unit_id = hostelpulse::beds24::convert::unit_id(room, unit);
    let airbnb_unit = if [316001, 316003].contains(&room) {
        format!("room = \"{}\", bed = \"{unit_id}\"", hostelpulse::beds24::convert::dorm_room_id(room))
    } else {
        format!("room = \"{unit_id}\"")
    };
    let config = format!(
        r#"[property]
name = "Harbour Hostel"
timezone = "Europe/Lisbon"
check_in = "14:00:00"
rooms_from = "beds24"
accounts = ["beds24", "feeds", "inbox"]

[[account]]
connector = "beds24"
id = "beds24"
property_id = {beds24_property}
credentials = {{ invite_code = {{ value = "{invite}", insecure_inline = true }} }}
http = {{ base_url = "{beds24_url}" }}
webhook = {{ header = "x-hook-secret", secret = {{ value = "{hook_secret}", insecure_inline = true }} }}

[[account]]
connector = "cloudbeds"
id = "cloudbeds"
property_id = "{cb_property}"
api_key = {{ value = "{cb_key}", insecure_inline = true }}
http = {{ base_url = "{cb_url}" }}

[[account]]
connector = "ical"
id = "feeds"
allow_private_addresses = true
feeds = [
  {{ id = "airbnb-bed", url = {{ value = "{airbnb_url}?s={token}", insecure_inline = true }}, room_type = "{room}", {airbnb_unit}, source = "airbnb" }},
  {{ id = "booking-202", url = {{ value = "{booking_url}?t={token}", insecure_inline = true }}, room_type = "316002", room = "316002-2", source = "booking" }},
]

[[account]]
connector = "email"
id = "inbox"
maildir = "{maildir}"

# A second property's Sirvoy account: Sirvoy pushes its bookings to `webhook serve`.
[[account]]
connector = "sirvoy"
id = "sirvoy"
property_id = "{sirvoy_property}"
plan = "Pro"
url_secret = {{ value = "{sirvoy_secret}", insecure_inline = true }}
allowed_senders = ["127.0.0.0/8"]
"#,
        beds24_property = hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
        invite = beds24.issue_invite_code(),
        beds24_url = beds24.base_url(),
        cb_property = cloudbeds.property_id(),
        cb_key = cloudbeds.issue_api_key(cloudbeds.property_id()),
        cb_url = cloudbeds.base_url(),
        airbnb_url = feeds.url("airbnb-bed"),
        booking_url = feeds.url("booking-202"),
        token = feed_token.expose_secret(),
        maildir = maildir.display(),
        hook_secret = HOOK_SECRET,
        sirvoy_property = SIRVOY_PROPERTY,
        sirvoy_secret = sirvoy_secret.expose_secret(),
    );
    let config_path = work.join("hostelpulse.toml");
    std::fs::write(&config_path, &config)?;
    let (cfg, registry) = ops::registry(&config_path, &store).await?;
    // Webhooks arrive where `hostelpulse webhook serve` takes them: verified, then queued in the
    // store's inbox before they are answered.
    let receiver =
        Running::serve(serve::router(serve::App::new(Arc::new(registry.clone()), store.clone(), serve::Log::Quiet)))
            .await?;
    beds24.set_webhook(receiver.url("/hooks/beds24"), Some(("x-hook-secret".into(), HOOK_SECRET.into())));
    let sender =
        SirvoySender::new(receiver.url(&format!("/hooks/sirvoy/{}", sirvoy_secret.expose_secret())), SIRVOY_PROPERTY);
    for i in 0..3 {
        let a = today + chrono::Duration::days(i * 2);
        sender.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest(format!("Sirvoy Guest {i}"))).await?;
    }
    let mut out = json!({});
    if !json {
        outln!(
            "hostelpulse demo — Beds24, Cloudbeds, iCal feeds, a Sirvoy webhook sender and a Maildir, all on loopback"
        );
        outln!("configuration: {}\nstate:         {}", config_path.display(), db.display());
    }

    // What each connection can do: declared for every connector, effective for this Beds24 login.
    let pms = registry.get("beds24").ok_or("no beds24 account")?;
    let health = pms.connector.check().await?;
    if json {
        out["capabilities"] = serde_json::to_value(hostelpulse::capability_matrix())?;
    } else {
        outln!(
            "\nWhat each connector can do (declared):\n\n{}",
            hostelpulse::capability_matrix().operations_markdown()
        );
        outln!(
            "\nThis Beds24 connection (token scopes: {}):\n\n{}",
            health.scopes.join(", "),
            CapabilityMatrix::new([health.effective]).operations_markdown()
        );
    }

    // Everything, once, into SQLite: the Sirvoy deliveries waiting in the inbox, then every source.
    let mut runs = process_inbox(&store, &registry, None).await?;
    runs.extend(ops::sync_accounts(&registry, &store, None, &Plan::Full, Trigger::ScheduledFull, None).await?);
    let board = ops::board_for(&cfg, &store, today).await?;
    let planner = TurnoverPlanner::new(cfg.property.timezone, cfg.property.check_in);
    let tasks_before = planner.plan(&current(&store, &cfg, today).await?);
    if json {
        out["first_sync"] = serde_json::to_value(runs.iter().map(|(id, r)| (id, r)).collect::<Vec<_>>())?;
        out["board"] = serde_json::to_value(&board)?;
    } else {
        outln!("\nFirst sync, one report per source:\n{}", views::reports(&runs));
        if let Some(f) = views::failures(&runs) {
            outln!("\nNot synced, with the reason (nothing is dropped silently):\n{f}");
        }
        outln!("\n{}", views::board(&board, cfg.property.timezone));
    }

    // Upstream, as guests and OTAs would: a cancellation, a date change and a new booking at
    // Beds24 (webhooks follow), an Expedia cancellation mail, a Sirvoy modification.
    let ids = beds24.booking_ids();
    let (cancel, extend) = (SourceId::from(ids[1]), SourceId::from(ids[2]));
    beds24.cancel(&cancel).await?;
    beds24.modify(&extend, Modification::ExtendStay).await?;
    // A new three-night stay on the first dates from the day after tomorrow with a double free
    // (the PMS refuses to double-book).
    let mut new = None;
    for offset in 2..40 {
        let arrival = today + chrono::Duration::days(offset);
        let stay = NewBooking::new(arrival, arrival + chrono::Duration::days(3)).guest("Ana Lima");
        if let Ok(id) = beds24.create(stay).await {
            new = Some(id);
            break;
        }
    }
    let new = new.ok_or("the emulated hostel has no double free for three nights in the next weeks")?;
    mailer.cancel(&expedia).await?;
    let sirvoy_first = SourceId::new("900001");
    sender.modify(&sirvoy_first, Modification::RenameGuest("Renamed Guest".into())).await?;

    // Beds24 sends its webhooks on its own time: wait (bounded) until the three are in the inbox.
    let pms_scope = Registry::scope_of(pms);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut hinted = 0;
    while hinted < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        hinted = store.inbox_entries(&pms_scope).await?.iter().filter(|e| e.done_at.is_none()).count();
    }
    if !json {
        outln!(
            "\nUpstream: Beds24 cancelled {cancel}, extended {extend}, created {new}; an Expedia cancellation mail; a Sirvoy change.\n\
             {hinted} webhook hint(s) verified from Beds24 and queued in the inbox."
        );
    }

    // The hinted bookings re-read, then the other sources' incremental (or full) reads.
    let seen = CollectingSink::new();
    let mut second = process_inbox(&store, &registry, Some(&seen)).await?;
    for id in ["beds24", "inbox"] {
        second.extend(
            ops::sync_accounts(&registry, &store, Some(id), &Plan::Incremental, Trigger::Poll, Some(&seen)).await?,
        );
    }
    let changes = seen.take();
    let tasks_after = planner.plan(&current(&store, &cfg, today).await?);
    let events = planner.reconcile(&tasks_before, &tasks_after);
    let runtime = runtime_at_work(&store, &cfg, &registry, &cloudbeds).await?;
    if json {
        out["second_sync"] = serde_json::to_value(second.iter().map(|(id, r)| (id, r)).collect::<Vec<_>>())?;
        out["changes"] = serde_json::to_value(&changes)?;
        out["task_events"] = serde_json::to_value(&events)?;
        out["runtime"] = serde_json::to_value(&runtime)?;
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("\nAfter the changes:\n{}", views::reports(&second));
        outln!("\nExactly these changes reached the store:\n{}", views::changes(&changes));
        outln!("\nTurnover tasks they caused:\n{}", task_events(&events, cfg.property.timezone));
        outln!(
            "\nThe runtime at work (`hostelpulse run`): Beds24 and Cloudbeds polled every second, an alert after two\n\
             failures in a row; Cloudbeds is taken down for a moment and comes back:\n{}",
            runtime_lines(&runtime)
        );
        outln!(
            "\nDone in {:.1} s. Explore the state: hostelpulse today --config {} --db {}",
            started.elapsed().as_secs_f64(),
            config_path.display(),
            db.display()
        );
    }
    if let Some(addr) = serve {
        serve_console(&store, &cfg, &registry, addr, json).await?;
    }
    Ok(())
}

/// `demo --serve`: the owner console over the demo's state, with the runtime keeping every
/// account fresh, on a loopback address until Ctrl-C.
async fn serve_console(
    store: &Arc<SqliteStore>,
    cfg: &Config,
    registry: &Registry,
    addr: std::net::SocketAddr,
    json: bool,
) -> Result<(), BoxError> {
    use hostelpulse::runtime::{Runtime, RuntimeConfig};
    if !addr.ip().is_loopback() {
        return Err(format!("demo --serve {addr}: the demo serves its console on a loopback address only").into());
    }
    let accounts = registry.accounts().iter().map(|a| hostelpulse::fleet::managed(cfg, a));
    let mut rc = RuntimeConfig::default();
    rc.catch_up_spread = Duration::from_secs(5);
    let rt = Runtime::builder(store.clone(), store.clone()).accounts(accounts).config(rc).build()?;
    let handle = rt.handle();
    let running = tokio::spawn(rt.run());
    let console = hostelpulse_server::Console::builder(store.clone())
        .properties([cfg.clone()])
        .runtime(handle.clone())
        .registry(Arc::new(registry.clone()))
        .build();
    let listener = listen(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let url = format!("http://{}/", listener.local_addr()?);
    let stop = crate::run::stop_signal();
    if json {
        outln!("{}", serde_json::json!({ "console": url }));
    } else {
        outln!("\nThe owner console: {url} (the dashboard, /board and /mapping; Ctrl-C stops it)");
    }
    axum::serve(listener, console.router()).with_graceful_shutdown(crate::run::stopped(stop)).await?;
    handle.shutdown();
    running.await.map_err(|e| format!("runtime: {e}"))??;
    Ok(())
}

/// The property's bookings from a week back to a month ahead, merged across sources (the turnover
/// planner's input).
async fn current(
    store: &SqliteStore,
    cfg: &Config,
    today: NaiveDate,
) -> Result<Vec<hostelpulse::model::Booking>, BoxError> {
    let own =
        ops::own_bookings(cfg, store, today - chrono::Duration::days(7), today + chrono::Duration::days(30)).await?;
    Ok(hostelpulse::board::merge_sources(&own).into_iter().map(|(b, _)| b).collect())
}

fn task_events(events: &[TaskEvent], tz: chrono_tz::Tz) -> String {
    let mut rows = vec![["event", "room / bed", "checkout", "due by", "priority"].map(String::from).to_vec()];
    for e in events {
        let (what, t) = match e {
            TaskEvent::Created { task } => ("created", task),
            TaskEvent::Moved { to, .. } => ("moved", to),
            TaskEvent::Withdrawn { task } => ("withdrawn", task),
            _ => continue,
        };
        rows.push(vec![
            what.into(),
            t.room_label.clone().unwrap_or_else(|| t.room.to_string()),
            t.checkout.to_string(),
            views::local(t.due_by, tz),
            format!("{:?}", t.priority).to_lowercase(),
        ]);
    }
    if rows.len() == 1 {
        return "(none)".into();
    }
    views::table(rows)
}

/// One line of the runtime's log in the demo.
#[derive(serde::Serialize)]
struct RuntimeLine {
    /// Seconds since the runtime started.
    at: f64,
    account: String,
    what: String,
    detail: String,
}

/// A few seconds of the runtime over the demo's PMS accounts: scheduled polls, an outage, the
/// alert it raises and its resolution.
async fn runtime_at_work(
    store: &Arc<SqliteStore>,
    cfg: &Config,
    registry: &Registry,
    cloudbeds: &CloudbedsEmulator,
) -> Result<Vec<RuntimeLine>, BoxError> {
    use hostelpulse::runtime::{AlertRule, AlertStatus, CollectingAlerts, Runtime, RuntimeConfig, RuntimeEvent};
    // Cloudbeds again, without request retries inside a run, so that the outage shows at once
    // (the runtime's own retries between runs are what this part shows).
    let mut quick = cfg.clone();
    quick.accounts.retain(|a| a.id() == "cloudbeds");
    quick.property.rooms_from = None;
    quick.property.accounts = None;
    for a in &mut quick.accounts {
        if let hostelpulse::config::AccountConfig::Cloudbeds { http, .. } = a {
            http.retry = false;
        }
    }
    let quick = Registry::build(&quick, &hostelpulse::config::EnvSecrets)?;
    let mut accounts = Vec::new();
    for a in [registry.get("beds24"), quick.get("cloudbeds")] {
        let a = a.ok_or("demo account missing")?;
        let m = hostelpulse::fleet::managed(cfg, a);
        let schedule = m.schedule.clone().poll_every(Some(Duration::from_secs(1)));
        let mut rules = m.alerts.clone();
        rules.consecutive_failures = Some(2);
        accounts.push(m.schedule(schedule).alerts(rules));
    }
    let mut rc = RuntimeConfig::default();
    rc.catch_up_spread = Duration::ZERO;
    rc.retry = hostelpulse::runtime::RetryPolicy::new(Duration::from_millis(300), Duration::from_secs(5));
    let rt = Runtime::builder(store.clone(), store.clone())
        .accounts(accounts)
        .alert_sink(Arc::new(CollectingAlerts::new()))
        .config(rc)
        .build()?;
    let handle = rt.handle();
    let mut events = handle.subscribe();
    let running = tokio::spawn(rt.run());
    let started = Instant::now();
    let mut lines = Vec::new();
    let deadline = started + Duration::from_secs(20);
    let mut outage_started = false;
    while Instant::now() < deadline {
        let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await else { continue };
        let at = started.elapsed().as_secs_f64();
        match e {
            RuntimeEvent::Ran { account, job, run } => {
                let what = format!("{job:?}").to_lowercase();
                let c = &run.counts;
                let detail = match &run.outcome {
                    hostelpulse::sync::Outcome::Ok => format!("ok — {} fetched, {} changed", c.fetched, c.changes()),
                    other => other.to_string(),
                };
                // Once both accounts have polled, take Cloudbeds down.
                if !outage_started && account == "cloudbeds" && what == "poll" {
                    cloudbeds.outage().set(true);
                    outage_started = true;
                    lines.push(RuntimeLine { at, account: account.clone(), what, detail });
                    lines.push(RuntimeLine {
                        at,
                        account: "cloudbeds".into(),
                        what: "(outage)".into(),
                        detail: "the Cloudbeds emulator answers 503 from now on".into(),
                    });
                    continue;
                }
                lines.push(RuntimeLine { at, account, what, detail });
            }
            RuntimeEvent::Alert(a) => {
                let status = match a.status {
                    AlertStatus::Firing => "ALERT firing",
                    AlertStatus::Resolved => "ALERT resolved",
                    _ => "ALERT repeated",
                };
                let done = a.status == AlertStatus::Resolved && a.rule == AlertRule::ConsecutiveFailures;
                if a.status == AlertStatus::Firing && a.rule == AlertRule::ConsecutiveFailures {
                    cloudbeds.outage().set(false);
                    lines.push(RuntimeLine {
                        at,
                        account: a.account.clone(),
                        what: status.into(),
                        detail: a.detail.clone(),
                    });
                    lines.push(RuntimeLine {
                        at,
                        account: "cloudbeds".into(),
                        what: "(back)".into(),
                        detail: "the Cloudbeds emulator answers again".into(),
                    });
                    continue;
                }
                lines.push(RuntimeLine { at, account: a.account, what: status.into(), detail: a.detail });
                if done {
                    break;
                }
            }
            _ => {}
        }
    }
    cloudbeds.outage().set(false);
    handle.shutdown();
    running.await.map_err(|e| format!("runtime: {e}"))??;
    Ok(lines)
}

fn runtime_lines(lines: &[RuntimeLine]) -> String {
    let mut rows = vec![["after", "account", "what", "detail"].map(String::from).to_vec()];
    for l in lines {
        let detail = match l.detail.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &l.detail[..cut]),
            None => l.detail.clone(),
        };
        rows.push(vec![format!("{:.1} s", l.at), l.account.clone(), l.what.clone(), detail]);
    }
    views::table(rows)
}
