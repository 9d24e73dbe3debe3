//! A stateful Beds24 API v2 emulator on loopback.
//!
//! Serves `/v2/authentication/{setup,token,details}`, `GET/POST/DELETE /v2/bookings` (filters,
//! explicit statuses, 100-row pages), `GET/POST /v2/properties`, and the inventory calendar and
//! availability — with credit headers (the observed names by default, the spec's by a switch), 429
//! with code 1016 when the 5-minute credits are spent, and a webhook sender that POSTs v2 payloads
//! when a booking changes upstream. Seeded with a small hostel: two dorms with beds, two private
//! room types, a month of bookings, some cancelled, a no-show and an owner block.

mod routes;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use hostelpulse_core::model::SourceId;
use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};
use hostelpulse_core::{Error, Result};
use serde_json::{Value, json};

pub use state::CreditHeaderNames;
use state::State;

use crate::server::Running;

/// The property id the emulator serves.
pub const BEDS24_PROPERTY_ID: u64 = state::PROPERTY_ID;

/// Where booking webhooks go: a URL and an optional custom header (name, value).
#[derive(Debug, Clone)]
struct WebhookTarget {
    url: String,
    header: Option<(String, String)>,
}

pub(crate) struct Inner {
    state: Mutex<State>,
    webhook: Mutex<Option<WebhookTarget>>,
    client: reqwest::Client,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fire_webhook(&self, id: u64) {
        let target = self.webhook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let booking = self.lock().bookings.get(&id).cloned();
        if let (Some(t), Some(b)) = (target, booking) {
            tokio::spawn(routes::deliver(self.client.clone(), t.url, t.header, b));
        }
    }
}

/// Builds a [`Beds24Emulator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Beds24EmulatorBuilder {
    bookings: usize,
    credits: f64,
    header_names: CreditHeaderNames,
    today: Option<NaiveDate>,
    property_id: Option<u64>,
}

impl Beds24EmulatorBuilder {
    /// The property's id (default [`BEDS24_PROPERTY_ID`]): emulators side by side need their own.
    pub fn property_id(mut self, id: u64) -> Self {
        self.property_id = Some(id);
        self
    }

    /// How many bookings to seed (default 60).
    pub fn bookings(mut self, n: usize) -> Self {
        self.bookings = n;
        self
    }

    /// Credits per 5-minute window (default 100).
    pub fn credits(mut self, credits: f64) -> Self {
        self.credits = credits;
        self
    }

    /// Which credit header names to send.
    pub fn header_names(mut self, names: CreditHeaderNames) -> Self {
        self.header_names = names;
        self
    }

    /// The emulator's "today" (default: the real date, UTC).
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Starts the server.
    pub async fn start(self) -> std::io::Result<Beds24Emulator> {
        let today = self.today.unwrap_or_else(|| Utc::now().date_naive());
        let mut state = State::new(today, Utc::now(), self.bookings, self.credits, self.header_names);
        if let Some(id) = self.property_id {
            state.set_property_id(id);
        }
        let inner =
            Arc::new(Inner { state: Mutex::new(state), webhook: Mutex::new(None), client: crate::webhook_client() });
        let outage = crate::server::Outage::default();
        let server = Running::serve(outage.wrap(routes::router(inner.clone()))).await?;
        Ok(Beds24Emulator { inner, server, outage })
    }
}

/// A running Beds24 emulator. Dropping it stops the server.
pub struct Beds24Emulator {
    inner: Arc<Inner>,
    server: Running,
    outage: crate::server::Outage,
}

impl std::fmt::Debug for Beds24Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beds24Emulator").field("addr", &self.server.addr()).finish_non_exhaustive()
    }
}

impl Beds24Emulator {
    /// A builder with defaults: 60 bookings, 100 credits, observed header names.
    pub fn builder() -> Beds24EmulatorBuilder {
        Beds24EmulatorBuilder {
            bookings: 60,
            credits: 100.0,
            header_names: CreditHeaderNames::Observed,
            today: None,
            property_id: None,
        }
    }

    /// The emulated property's id.
    pub fn property_id(&self) -> u64 {
        self.inner.lock().property_id()
    }

    /// The switch that takes this emulator down (every request answered 503) and back up.
    pub fn outage(&self) -> &crate::server::Outage {
        &self.outage
    }

    /// The API root to configure a connector with (`http://127.0.0.1:PORT/v2`).
    pub fn base_url(&self) -> String {
        self.server.url("/v2")
    }

    /// The server's root URL (for a proxy in front of it).
    pub fn root_url(&self) -> String {
        self.server.url("")
    }

    /// Issues an invite code, as the owner would in the control panel.
    pub fn issue_invite_code(&self) -> String {
        let mut s = self.inner.lock();
        let code = format!("invite-{}", s.invite_codes.len() + s.minted as usize + 1);
        s.invite_codes.insert(code.clone());
        code
    }

    /// Issues a refresh token directly.
    pub fn issue_refresh_token(&self) -> String {
        let mut s = self.inner.lock();
        let token = format!("refresh-{}", s.refresh_tokens.len() + 1);
        s.refresh_tokens.insert(token.clone());
        token
    }

    /// Issues a read-only long-life token.
    pub fn issue_long_life_token(&self) -> String {
        let mut s = self.inner.lock();
        let token = format!("longlife-{}", s.long_life_tokens.len() + 1);
        s.long_life_tokens.insert(token.clone());
        token
    }

    /// Expires every access token now (the next call gets a 401).
    pub fn expire_access_tokens(&self) {
        let mut s = self.inner.lock();
        let now = Instant::now();
        s.access_tokens.values_mut().for_each(|e| *e = now);
    }

    /// A paging glitch seen in the wild: every booking page after `page` is answered with page
    /// `page` again, still announcing a next page (`None` ends the glitch).
    pub fn repeat_pages_after(&self, page: Option<usize>) {
        self.inner.lock().repeat_pages_after = page;
    }

    /// Sets the scopes tokens carry.
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.inner.lock().scopes = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// Sets the credit window (default 5 minutes); a short one keeps throttling tests fast.
    pub fn set_credit_window(&self, window: Duration) {
        let mut s = self.inner.lock();
        s.window = window;
        s.window_start = Instant::now();
        s.credits_used = 0.0;
    }

    /// Requests served for `"METHOD /v2/path"`.
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.inner.lock().requests.get(endpoint).copied().unwrap_or(0)
    }

    /// Requests refused (429) because the 5-minute credit window was spent.
    pub fn rejected(&self) -> u64 {
        self.inner.lock().rejected
    }

    /// Every request served.
    pub fn total_requests(&self) -> u64 {
        self.inner.lock().requests.values().sum()
    }

    /// Forgets the request counts.
    pub fn reset_requests(&self) {
        self.inner.lock().requests.clear();
    }

    /// Credits spent in the current window.
    pub fn credits_used(&self) -> f64 {
        self.inner.lock().credits_used
    }

    /// Sends booking webhooks (v2) to `url` with an optional custom header when bookings change upstream.
    pub fn set_webhook(&self, url: impl Into<String>, header: Option<(String, String)>) {
        *self.inner.webhook.lock().unwrap_or_else(|e| e.into_inner()) = Some(WebhookTarget { url: url.into(), header });
    }

    /// A booking as the API holds it.
    pub fn booking(&self, id: u64) -> Option<Value> {
        self.inner.lock().bookings.get(&id).cloned()
    }

    /// Every booking id.
    pub fn booking_ids(&self) -> Vec<u64> {
        self.inner.lock().bookings.keys().copied().collect()
    }

    /// A unit's status text.
    pub fn unit_status(&self, room_id: u64, unit_id: u64) -> Option<String> {
        let s = self.inner.lock();
        let room = s.property["roomTypes"].as_array()?.iter().find(|r| r["id"] == room_id)?;
        room["units"].as_array()?.iter().find(|u| u["id"] == unit_id)?["statusText"].as_str().map(str::to_owned)
    }

    fn change(&self, id: &SourceId, f: impl FnOnce(&mut Value)) -> Result<()> {
        let n: u64 = id.as_str().parse().map_err(|_| Error::invalid_input(format!("no booking {id}")))?;
        {
            let mut s = self.inner.lock();
            let b = s.touch(n).ok_or_else(|| Error::invalid_input(format!("no booking {id}")))?;
            f(b);
            // A stay whose new dates collide on its unit moves to a free one of its room, as the
            // PMS would move it.
            let b = b.clone();
            let date = |k: &str| b[k].as_str().and_then(|d| d.parse::<NaiveDate>().ok());
            if let (Some(room), Some(unit), Some(a), Some(d)) =
                (b["roomId"].as_u64(), b["unitId"].as_u64(), date("arrival"), date("departure"))
                && b["status"] != "cancelled"
                && let Some(free) = s.free_unit(room, a, d, unit, Some(n))
                && free != unit
                && let Some(stored) = s.bookings.get_mut(&n)
            {
                stored["unitId"] = json!(free);
            }
        }
        self.inner.fire_webhook(n);
        Ok(())
    }
}

/// Changes made "at Beds24" (by guests, OTAs or the owner): they fire webhooks, as real ones do.
#[async_trait]
impl Upstream for Beds24Emulator {
    async fn create(&self, b: NewBooking) -> Result<SourceId> {
        let name = b.guest_name.unwrap_or_default();
        let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
        // Allocated like the PMS does: a unit free on the dates, in the first room type that has
        // one (dorm beds for a bed booking), and no booking when the hostel is full.
        let rooms: &[u64] = if b.bed.is_some() { &[316001, 316003] } else { &[316004, 316002, 316001, 316003] };
        let (room, unit) = {
            let s = self.inner.lock();
            rooms.iter().find_map(|r| s.free_unit(*r, b.arrival, b.departure, 1, None).map(|u| (*r, u)))
        }
        .ok_or_else(|| {
            Error::invalid_input(format!("the hostel is fully booked from {} to {}", b.arrival, b.departure))
        })?;
        let booking = json!({ "roomId": room, "unitId": unit, "status": "confirmed", "subStatus": "none", "arrival": b.arrival.to_string(),
            "departure": b.departure.to_string(), "numAdult": b.adults, "numChild": 0, "firstName": first, "lastName": last,
            "apiReference": "", "notes": "", "comments": "", "price": 60.0 });
        let id = {
            let mut s = self.inner.lock();
            let now = Utc::now().max(s.last_modified + chrono::Duration::seconds(1));
            s.last_modified = now;
            s.insert(booking, now)
        };
        self.inner.fire_webhook(id);
        Ok(SourceId::from(id))
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        self.change(id, |b| match change {
            Modification::ExtendStay => {
                if let Some(d) = b["departure"].as_str().and_then(|d| d.parse::<NaiveDate>().ok()) {
                    b["departure"] = json!((d + chrono::Duration::days(1)).to_string());
                }
            }
            Modification::RenameGuest(name) => {
                let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
                b["firstName"] = json!(first);
                b["lastName"] = json!(last);
            }
            _ => {}
        })
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        self.change(id, |b| {
            b["status"] = json!("cancelled");
            b["subStatus"] = json!("cancelledByGuest");
            b["cancelTime"] = json!(state::ts(Utc::now()));
        })
    }

    async fn delete(&self, id: &SourceId) -> Result<()> {
        let n: u64 = id.as_str().parse().map_err(|_| Error::invalid_input(format!("no booking {id}")))?;
        let mut s = self.inner.lock();
        s.generation += 1;
        s.bookings.remove(&n).map(|_| ()).ok_or_else(|| Error::invalid_input(format!("no booking {id}")))
    }
}
