//! `hostelpulse sandbox`: the bundled emulators on loopback for N properties — a Beds24 and a
//! Cloudbeds property each, an iCal feed each; the first property also has a Maildir of
//! forwarded confirmations and a Sirvoy account — one configuration for all of them, and a small
//! control API to change things upstream (bookings, outages) while `hostelpulse run` watches.
//!
//! Prints one JSON line when ready (`{"ready": true, "config": …, "accounts": […], "control": …}`)
//! and runs until SIGINT or SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use hostelpulse::core::SourceId;
use hostelpulse::core::testkit::{NewBooking, Upstream};
use hostelpulse::sirvoy::generate_secret;
use hostelpulse_sandbox::mail::{MaildirWriter, SAMPLES};
use hostelpulse_sandbox::{Beds24Emulator, CloudbedsEmulator, IcalFeedServer, Running, SirvoySender};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::views::BoxError;

const HOOK_SECRET: &str = "sandbox-hook-secret";
const SIRVOY_PROPERTY: &str = "4711";
const FIRST_CLOUDBEDS: u64 = 173_042;

/// What `hostelpulse sandbox` was asked for.
pub struct Options {
    pub properties: usize,
    pub write_config: PathBuf,
    pub db: Option<PathBuf>,
    pub webhooks_to: Option<String>,
    pub poll_every: Option<u64>,
}

/// The running emulators.
pub struct Sandbox {
    pub beds24: Vec<Beds24Emulator>,
    pub cloudbeds: CloudbedsEmulator,
    pub feeds: IcalFeedServer,
    pub sirvoy: Option<SirvoySender>,
    pub accounts: Vec<String>,
    pub config: String,
}

impl Sandbox {
    /// Starts the emulators for `n` properties and writes their configuration's text. Webhooks
    /// (Beds24, Sirvoy) go to `webhooks_to` when given (the address `hostelpulse run` listens on).
    pub async fn start(
        n: usize,
        work: &Path,
        webhooks_to: Option<&str>,
        poll_every: Option<u64>,
    ) -> Result<Self, BoxError> {
        let n = n.max(1);
        let mut beds24 = Vec::with_capacity(n);
        for i in 0..n {
            let e = Beds24Emulator::builder()
                .bookings(40)
                .property_id(hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID + i as u64)
                .start()
                .await?;
            if let Some(to) = webhooks_to {
                e.set_webhook(
                    format!("{to}/hooks/beds24-{}", i + 1),
                    Some(("x-hook-secret".into(), HOOK_SECRET.into())),
                );
            }
            beds24.push(e);
        }
        let cb_ids: Vec<String> = (0..n).map(|i| (FIRST_CLOUDBEDS + i as u64).to_string()).collect();
        let cloudbeds = CloudbedsEmulator::builder().properties(cb_ids.clone()).reservations(20).start().await?;
        let feed_ids: Vec<String> = (1..=n).map(|i| format!("booking-{i}")).collect();
        let feeds = IcalFeedServer::start(&feed_ids.iter().map(String::as_str).collect::<Vec<_>>(), 4).await?;
        let maildir = work.join("Maildir");
        let inbox = MaildirWriter::create(&maildir)?;
        for (_, bytes) in SAMPLES {
            inbox.deliver(bytes)?;
        }
        let sirvoy_secret = generate_secret();
        let sirvoy = webhooks_to.map(|to| {
            SirvoySender::new(format!("{to}/hooks/sirvoy-1/{}", sirvoy_secret.expose_secret()), SIRVOY_PROPERTY)
        });
        let feed_token = generate_secret();
        let mut config = String::from(
            "# Written by `hostelpulse sandbox`: every property of the bundled emulators on loopback.\n\
             # The secrets are the sandbox's own, inline; a real configuration names environment variables.\n",
        );
        let mut accounts = Vec::new();
        for i in 0..n {
            let k = i + 1;
            config.push_str(&format!(
                r#"
[[property]]
name = "Sandbox Hostel {k}"
timezone = "Europe/Lisbon"
check_in = "14:00:00"
rooms_from = "beds24-{k}"
"#
            ));
            if let Some(secs) = poll_every {
                config.push_str(&format!("schedule = {{ poll_every_secs = {secs} }}\n"));
            }
            let webhook = if webhooks_to.is_some() {
                format!(
                    "webhook = {{ header = \"x-hook-secret\", secret = {{ value = \"{HOOK_SECRET}\", insecure_inline = true }} }}\n"
                )
            } else {
                String::new()
            };
            let b = &beds24[i];
            config.push_str(&format!(
                r#"
[[property.account]]
connector = "beds24"
id = "beds24-{k}"
property_id = {pid}
credentials = {{ invite_code = {{ value = "{invite}", insecure_inline = true }} }}
http = {{ base_url = "{url}" }}
{webhook}
[[property.account]]
connector = "cloudbeds"
id = "cloudbeds-{k}"
property_id = "{cb}"
api_key = {{ value = "{key}", insecure_inline = true }}
http = {{ base_url = "{cb_url}" }}

[[property.account]]
connector = "ical"
id = "feeds-{k}"
allow_private_addresses = true
feeds = [{{ id = "booking-{k}", url = {{ value = "{feed}?t={token}", insecure_inline = true }}, room_type = "316002", room = "316002-2", source = "booking" }}]
"#,
                pid = b.property_id(),
                invite = b.issue_invite_code(),
                url = b.base_url(),
                cb = cb_ids[i],
                key = cloudbeds.issue_api_key(&cb_ids[i]),
                cb_url = cloudbeds.base_url(),
                feed = feeds.url(&format!("booking-{k}")),
                token = feed_token.expose_secret(),
            ));
            accounts.extend([format!("beds24-{k}"), format!("cloudbeds-{k}"), format!("feeds-{k}")]);
            if i == 0 {
                config.push_str(&format!(
                    r#"
[[property.account]]
connector = "email"
id = "inbox-1"
maildir = "{maildir}"

[[property.account]]
connector = "sirvoy"
id = "sirvoy-1"
property_id = "{SIRVOY_PROPERTY}"
plan = "Pro"
url_secret = {{ value = "{secret}", insecure_inline = true }}
allowed_senders = ["127.0.0.0/8"]
"#,
                    maildir = maildir.display(),
                    secret = sirvoy_secret.expose_secret(),
                ));
                accounts.extend(["inbox-1".to_owned(), "sirvoy-1".to_owned()]);
            }
        }
        Ok(Self { beds24, cloudbeds, feeds, sirvoy, accounts, config })
    }
}

pub async fn run(o: Options) -> Result<(), BoxError> {
    let work = o
        .write_config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(format!("{}.sandbox", o.write_config.file_name().and_then(|f| f.to_str()).unwrap_or("hostelpulse")));
    std::fs::create_dir_all(&work)?;
    let sandbox = Arc::new(Sandbox::start(o.properties, &work, o.webhooks_to.as_deref(), o.poll_every).await?);
    std::fs::write(&o.write_config, &sandbox.config)?;
    if let Some(db) = &o.db {
        // A fresh state for the configuration (an old one holds other emulators' ids).
        let _ = std::fs::remove_file(db);
    }
    let control = Running::serve(control_router(sandbox.clone())).await?;
    // Listening for the stop before saying we are ready: a stop sent at once is not lost.
    let stop = crate::run::stop_signal();
    outln!(
        "{}",
        json!({
            "ready": true,
            "config": o.write_config,
            "db": o.db,
            "accounts": sandbox.accounts,
            "properties": o.properties.max(1),
            "control": control.url(""),
        })
    );
    crate::run::stopped(stop).await;
    Ok(())
}

type Shared = Arc<Sandbox>;

/// `POST /beds24/{n}/cancel`, `/beds24/{n}/create`, `/cloudbeds/cancel`, `/sirvoy/create`,
/// `/feeds/{n}/remove` (the export is revoked: 404 from then on),
/// `/{beds24|cloudbeds}/outage/{on|off}`: changes upstream, answered with what changed.
fn control_router(sandbox: Shared) -> Router {
    Router::new()
        .route("/beds24/{n}/cancel", post(beds24_cancel))
        .route("/beds24/{n}/create", post(beds24_create))
        .route("/cloudbeds/cancel", post(cloudbeds_cancel))
        .route("/sirvoy/create", post(sirvoy_create))
        .route("/feeds/{n}/remove", post(feed_remove))
        .route("/{pms}/outage/{state}", post(outage))
        .route("/stats", axum::routing::get(stats))
        .with_state(sandbox)
}

type Answer = (StatusCode, String);

fn answer(r: Result<serde_json::Value, String>) -> Answer {
    match r {
        Ok(v) => (StatusCode::OK, v.to_string()),
        Err(e) => (StatusCode::BAD_REQUEST, json!({ "error": e }).to_string()),
    }
}

fn beds24(s: &Sandbox, n: usize) -> Result<&Beds24Emulator, String> {
    n.checked_sub(1).and_then(|i| s.beds24.get(i)).ok_or_else(|| format!("no Beds24 property {n}"))
}

async fn beds24_cancel(State(s): State<Shared>, UrlPath(n): UrlPath<usize>) -> Answer {
    answer(
        async {
            let e = beds24(&s, n)?;
            let id = e
                .booking_ids()
                .into_iter()
                .find(|id| e.booking(*id).is_some_and(|b| b["status"] == "confirmed"))
                .ok_or("no confirmed booking left")?;
            e.cancel(&SourceId::from(id)).await.map_err(|e| e.to_string())?;
            Ok(json!({ "cancelled": id.to_string() }))
        }
        .await,
    )
}

async fn beds24_create(State(s): State<Shared>, UrlPath(n): UrlPath<usize>) -> Answer {
    answer(
        async {
            let e = beds24(&s, n)?;
            let today = Utc::now().date_naive();
            for offset in 1..60 {
                let a = today + chrono::Duration::days(offset);
                if let Ok(id) = e.create(NewBooking::new(a, a + chrono::Duration::days(2)).guest("Sandbox Guest")).await
                {
                    return Ok(json!({ "created": id.to_string(), "arrival": a }));
                }
            }
            Err("no room free in the next two months".to_owned())
        }
        .await,
    )
}

async fn cloudbeds_cancel(State(s): State<Shared>) -> Answer {
    answer(
        async {
            let c = &s.cloudbeds;
            let id = c
                .reservation_ids()
                .into_iter()
                .find(|id| c.reservation(id).is_some_and(|r| r["status"] == "confirmed"))
                .ok_or("no confirmed reservation left")?;
            c.cancel(&SourceId::new(id.clone())).await.map_err(|e| e.to_string())?;
            Ok(json!({ "cancelled": id }))
        }
        .await,
    )
}

async fn sirvoy_create(State(s): State<Shared>) -> Answer {
    answer(
        async {
            let sender = s.sirvoy.as_ref().ok_or("start the sandbox with --webhooks-to to send Sirvoy deliveries")?;
            let a = Utc::now().date_naive() + chrono::Duration::days(3);
            let id = sender
                .create(NewBooking::new(a, a + chrono::Duration::days(2)).guest("Sirvoy Guest"))
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({ "created": id.to_string() }))
        }
        .await,
    )
}

async fn outage(State(s): State<Shared>, UrlPath((pms, state)): UrlPath<(String, String)>) -> Answer {
    let down = match state.as_str() {
        "on" => true,
        "off" => false,
        other => return answer(Err(format!("`{other}`: say on or off"))),
    };
    match pms.as_str() {
        "beds24" => s.beds24.iter().for_each(|e| e.outage().set(down)),
        "cloudbeds" => s.cloudbeds.outage().set(down),
        other => return answer(Err(format!("no outage switch for `{other}` (beds24, cloudbeds)"))),
    }
    answer(Ok(json!({ "pms": pms, "down": down })))
}

/// What the emulators counted: requests each refused for going over a vendor limit.
async fn stats(State(s): State<Shared>) -> Answer {
    let beds24_rejected: u64 = s.beds24.iter().map(Beds24Emulator::rejected).sum();
    answer(Ok(
        json!({ "cloudbeds_rate_violations": s.cloudbeds.violations(), "beds24_credit_rejections": beds24_rejected }),
    ))
}

async fn feed_remove(State(s): State<Shared>, UrlPath(n): UrlPath<usize>) -> Answer {
    let id = format!("booking-{n}");
    s.feeds.remove(&id);
    answer(Ok(json!({ "removed": id })))
}
