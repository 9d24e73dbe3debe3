//! A stateful Cloudbeds PMS API v1.3 emulator on loopback.
//!
//! Serves the methods a hostel sync uses — `getHotels`, `getRoomTypes`, `getRooms` (beds grouped
//! by `dormRoomName`), `getReservationsWithRateDetails`, `getReservation`, `getRatePlans`,
//! `getHousekeepingStatus`, `postHousekeepingStatus`, `postRoomCheckIn`/`Out`,
//! `postReservationNote`, `putReservation`, `postWebhook`/`getWebhooks`/`deleteWebhook`,
//! `access_token`, `userinfo` — with form-encoded writes (JSON refused), `success:false` errors,
//! API keys and OAuth, strict per-property rate enforcement (a request over the limit within one
//! second, less 100 ms of slack for arrival jitter, suspends the credentials, as Cloudbeds does for
//! sustained excess), and webhook delivery to
//! subscribers when reservations change upstream.

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

use crate::server::Running;
use state::{Property, State};

/// The first property's id.
pub const CLOUDBEDS_PROPERTY_ID: &str = "173042";
/// The OAuth client the emulator knows.
pub const CLIENT_ID: &str = "live1_hostelpulse";
/// Its secret.
pub const CLIENT_SECRET: &str = "emulator-client-secret";

pub(crate) struct Inner {
    state: Mutex<State>,
    client: reqwest::Client,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) async fn deliver(client: reqwest::Client, url: String, payload: Value) {
    for attempt in 0..4u32 {
        let sent = client.post(&url).header("content-type", "application/json").body(payload.to_string()).send().await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
    }
    tracing::warn!(%url, "cloudbeds emulator: webhook not accepted after retries");
}

/// Builds a [`CloudbedsEmulator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CloudbedsEmulatorBuilder {
    properties: Vec<String>,
    reservations: usize,
    rate_limit: usize,
    slack: Duration,
    withheld: Vec<String>,
}

impl CloudbedsEmulatorBuilder {
    /// Scopes the owner declines on the authorization page: the token answer then names the
    /// scopes granted (RFC 6749 §5.1 requires it when they differ from those asked for).
    pub fn withhold_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.withheld = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The property ids to serve (default: one, [`CLOUDBEDS_PROPERTY_ID`]).
    pub fn properties<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.properties = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Reservations seeded per property (default 40).
    pub fn reservations(mut self, n: usize) -> Self {
        self.reservations = n;
        self
    }

    /// Requests per second per property before credentials are suspended (default 5).
    pub fn rate_limit(mut self, n: usize) -> Self {
        self.rate_limit = n;
        self
    }

    /// Arrival jitter tolerated before a suspension (default 100 ms): Cloudbeds "allows some slack",
    /// so the rate is enforced over a window of one second minus this.
    pub fn rate_slack(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }

    /// Starts the server.
    pub async fn start(self) -> std::io::Result<CloudbedsEmulator> {
        let today = Utc::now().date_naive();
        let now = Utc::now();
        let properties = self
            .properties
            .iter()
            .map(|id| (id.clone(), Property::seeded(id, today, now, self.reservations)))
            .collect();
        let state = State {
            properties,
            api_keys: Default::default(),
            group_keys: Default::default(),
            access_tokens: Default::default(),
            refresh_tokens: Default::default(),
            codes: Default::default(),
            code_scopes: Default::default(),
            refresh_scopes: Default::default(),
            withheld: self.withheld,
            client: (CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned()),
            rate_limit: self.rate_limit,
            rate_window: Duration::from_secs(1).saturating_sub(self.slack),
            minted: 0,
            today,
        };
        let inner = Arc::new(Inner { state: Mutex::new(state), client: crate::webhook_client() });
        let outage = crate::server::Outage::default();
        let server = Running::serve(outage.wrap(routes::router(inner.clone()))).await?;
        Ok(CloudbedsEmulator { inner, server, outage, property: self.properties.first().cloned().unwrap_or_default() })
    }
}

/// A running Cloudbeds emulator. Dropping it stops the server.
pub struct CloudbedsEmulator {
    inner: Arc<Inner>,
    server: Running,
    outage: crate::server::Outage,
    property: String,
}

impl std::fmt::Debug for CloudbedsEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudbedsEmulator").field("addr", &self.server.addr()).finish_non_exhaustive()
    }
}

impl CloudbedsEmulator {
    /// A builder: one property, 40 reservations, 5 requests/s.
    pub fn builder() -> CloudbedsEmulatorBuilder {
        CloudbedsEmulatorBuilder {
            properties: vec![CLOUDBEDS_PROPERTY_ID.to_owned()],
            reservations: 40,
            rate_limit: 5,
            slack: Duration::from_millis(100),
            withheld: Vec::new(),
        }
    }

    /// A transport that serves the connector's requests in process (same state as the server):
    /// for tests on tokio's paused clock. Pair it with a high `rate_limit`, since the emulator
    /// counts its limit on the wall clock.
    pub fn in_process(&self) -> crate::InProcess {
        crate::InProcess::new(routes::router(self.inner.clone()))
    }

    /// The API root (`http://127.0.0.1:PORT/api/v1.3`).
    pub fn base_url(&self) -> String {
        self.server.url("/api/v1.3")
    }

    /// The server root (for a proxy).
    pub fn root_url(&self) -> String {
        self.server.url("")
    }

    /// An API key that sees several properties, as a group's or association's does.
    pub fn issue_group_key(&self, properties: &[&str]) -> String {
        let mut s = self.inner.lock();
        s.minted += 1;
        let key = format!("cbat_group{:0>27}", s.minted);
        s.group_keys.insert(key.clone(), properties.iter().map(|p| (*p).to_owned()).collect());
        key
    }

    /// The switch that takes this emulator down (every request answered 503) and back up.
    pub fn outage(&self) -> &crate::server::Outage {
        &self.outage
    }

    /// The property [`Upstream`] changes apply to (the first one).
    pub fn property_id(&self) -> &str {
        &self.property
    }

    /// Issues an API key for `property`.
    pub fn issue_api_key(&self, property: &str) -> String {
        let mut s = self.inner.lock();
        s.minted += 1;
        let key = format!("cbat_{:0>32}", s.minted);
        s.api_keys.insert(key.clone(), property.to_owned());
        key
    }

    /// Issues an authorization code for `property` (what the redirect would carry).
    pub fn issue_auth_code(&self, property: &str) -> String {
        let mut s = self.inner.lock();
        s.minted += 1;
        let code = format!("code-{}", s.minted);
        s.codes.insert(code.clone(), property.to_owned());
        code
    }

    /// Expires every OAuth access token.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        self.inner.lock().access_tokens.values_mut().for_each(|(_, e)| *e = now);
    }

    /// Request instants served for `property` (for rate assertions).
    pub fn request_log(&self, property: &str) -> Vec<Instant> {
        self.inner.lock().properties.get(property).map(|p| p.log.clone()).unwrap_or_default()
    }

    /// Whether `property`'s credentials were suspended for exceeding the rate.
    pub fn suspended(&self, property: &str) -> bool {
        self.inner.lock().properties.get(property).is_some_and(|p| p.suspended)
    }

    /// Requests over the rate limit, every property together: each suspended its property's
    /// credentials.
    pub fn violations(&self) -> u64 {
        self.inner.lock().properties.values().map(|p| p.violations).sum()
    }

    /// Lifts a suspension.
    pub fn reinstate(&self, property: &str) {
        if let Some(p) = self.inner.lock().properties.get_mut(property) {
            p.suspended = false;
            p.recent.clear();
        }
    }

    /// Adds a private room to the first property's room type `room_type` (a room the owner
    /// created in the PMS), clean.
    pub fn add_private_room(&self, room_id: &str, name: &str, room_type: &str) {
        let mut s = self.inner.lock();
        let Some(p) = s.properties.get_mut(&self.property) else { return };
        let rt_name = p.room_type_name(room_type);
        p.rooms.push(state::room(room_id, name, None, true, room_type, &rt_name, 2));
        p.housekeeping.insert(
            room_id.to_owned(),
            serde_json::json!({ "roomCondition": "clean", "doNotDisturb": false, "roomComments": "" }),
        );
    }

    /// Books `room_id` of the first property for `arrival..departure` (as the front desk would),
    /// confirmed; returns the reservation id.
    pub fn add_reservation(&self, arrival: chrono::NaiveDate, departure: chrono::NaiveDate, room_id: &str) -> String {
        let mut s = self.inner.lock();
        let Some(p) = s.properties.get_mut(&self.property) else { return String::new() };
        let Some(room) = p.rooms.iter().find(|r| r["roomID"] == room_id).cloned() else { return String::new() };
        let now = chrono::Utc::now().max(p.last_modified + chrono::Duration::seconds(1));
        p.last_modified = now;
        let (name, rt) = (room["roomName"].as_str().unwrap_or(""), room["roomTypeID"].as_str().unwrap_or(""));
        p.add(arrival, departure, room_id, name, rt, "Ana", "Lima", "BR", "Website", "", "confirmed", now)
    }

    /// Sets a reservation's status as `putReservation` does (a cancellation also cancels its
    /// rooms), with a new modification time.
    pub fn set_reservation_status(&self, id: &str, status: &str) {
        let mut s = self.inner.lock();
        let Some(r) = s.properties.get_mut(&self.property).and_then(|p| p.touch(id)) else { return };
        r["status"] = serde_json::json!(status);
        if status == "canceled" {
            for room in r["rooms"].as_array_mut().into_iter().flatten() {
                room["roomStatus"] = serde_json::json!("cancelled");
            }
        }
    }

    /// Sets a room's housekeeping condition as the front desk does at Cloudbeds: subscribers get
    /// `housekeeping/room_condition_changed` (call it inside a tokio runtime).
    pub fn set_room_condition(&self, room_id: &str, condition: &str) {
        let hooks = {
            let mut s = self.inner.lock();
            let Some(prop) = s.properties.get_mut(&self.property) else { return };
            let Some(hk) = prop.housekeeping.get_mut(room_id) else { return };
            hk["roomCondition"] = serde_json::json!(condition);
            prop.subscribers(
                "housekeeping",
                "room_condition_changed",
                json!({ "roomId": room_id, "roomId_str": room_id, "condition": condition }),
            )
        };
        for (url, payload) in hooks {
            tokio::spawn(deliver(self.inner.client.clone(), url, payload));
        }
    }

    /// The first property's webhook subscriptions as (id, "object/action", endpoint URL).
    pub fn subscriptions(&self) -> Vec<(String, String, String)> {
        let s = self.inner.lock();
        s.properties
            .get(&self.property)
            .map(|p| p.webhooks.iter().map(|(id, o, a, url)| (id.clone(), format!("{o}/{a}"), url.clone())).collect())
            .unwrap_or_default()
    }

    /// A reservation row as the API holds it.
    pub fn reservation(&self, id: &str) -> Option<Value> {
        self.inner.lock().properties.get(&self.property).and_then(|p| p.reservations.get(id).cloned())
    }

    /// Reservation ids of the first property.
    pub fn reservation_ids(&self) -> Vec<String> {
        self.inner
            .lock()
            .properties
            .get(&self.property)
            .map(|p| p.reservations.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// A room's housekeeping condition.
    pub fn room_condition(&self, room_id: &str) -> Option<String> {
        let s = self.inner.lock();
        s.properties.get(&self.property)?.housekeeping.get(room_id)?["roomCondition"].as_str().map(str::to_owned)
    }

    /// Notes of a reservation.
    pub fn notes(&self, id: &str) -> Vec<String> {
        let s = self.inner.lock();
        s.properties
            .get(&self.property)
            .and_then(|p| p.notes.get(id))
            .map(|n| n.iter().filter_map(|x| x["reservationNote"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    fn change(&self, id: &SourceId, event: &str, f: impl FnOnce(&mut Value) -> Value) -> Result<()> {
        let hooks = {
            let mut s = self.inner.lock();
            let prop = s.properties.get_mut(&self.property).ok_or_else(|| Error::invalid_input("no property"))?;
            let r = prop.touch(id.as_str()).ok_or_else(|| Error::invalid_input(format!("no reservation {id}")))?;
            let extra = f(r);
            let (object, action) = event.split_once('/').unwrap_or((event, ""));
            prop.subscribers(object, action, extra)
        };
        for (url, payload) in hooks {
            tokio::spawn(deliver(self.inner.client.clone(), url, payload));
        }
        Ok(())
    }
}

fn shift(v: &mut Value, days: i64) {
    if let Some(d) = v.as_str().and_then(|s| s.get(..10)).and_then(|s| s.parse::<NaiveDate>().ok()) {
        let rest = v.as_str().and_then(|s| s.get(10..)).unwrap_or("").to_owned();
        *v = json!(format!("{}{rest}", d + chrono::Duration::days(days)));
    }
}

/// Changes made "at Cloudbeds" (by guests, OTAs, the front desk): they fire webhooks.
#[async_trait]
impl Upstream for CloudbedsEmulator {
    async fn create(&self, b: NewBooking) -> Result<SourceId> {
        let (id, hooks) = {
            let mut s = self.inner.lock();
            let prop = s.properties.get_mut(&self.property).ok_or_else(|| Error::invalid_input("no property"))?;
            let (room, name, rt) =
                if b.bed.is_some() { ("445566-1", "D1-Bed A", "445566") } else { ("445567-1", "201", "445567") };
            let guest = b.guest_name.unwrap_or_else(|| "Walk In".into());
            let (first, last) = guest.split_once(' ').unwrap_or((guest.as_str(), ""));
            let now = Utc::now().max(prop.last_modified + chrono::Duration::seconds(1));
            prop.last_modified = now;
            let id =
                prop.add(b.arrival, b.departure, room, name, rt, first, last, "PT", "Website", "", "confirmed", now);
            let hooks = prop.subscribers(
                "reservation",
                "created",
                json!({ "reservationID": id, "startDate": b.arrival.to_string(), "endDate": b.departure.to_string() }),
            );
            (id, hooks)
        };
        for (url, payload) in hooks {
            tokio::spawn(deliver(self.inner.client.clone(), url, payload));
        }
        Ok(SourceId::new(id))
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        match change {
            Modification::ExtendStay => self.change(id, "reservation/dates_changed", |r| {
                shift(&mut r["reservationCheckOut"], 1);
                if let Some(rooms) = r["rooms"].as_array_mut() {
                    rooms.iter_mut().for_each(|x| shift(&mut x["roomCheckOut"], 1));
                }
                // This event spells its keys in camel case.
                json!({ "propertyId": r["propertyID"], "reservationId": r["reservationID"], "startDate": r["reservationCheckIn"].as_str().and_then(|s| s.get(..10)), "endDate": r["reservationCheckOut"].as_str().and_then(|s| s.get(..10)) })
            }),
            Modification::RenameGuest(name) => self.change(id, "guest/details_changed", |r| {
                let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
                if let Some(g) = r["guestList"].as_object_mut().and_then(|g| g.values_mut().next()) {
                    g["guestFirstName"] = json!(first);
                    g["guestLastName"] = json!(last);
                }
                json!({ "reservationId": r["reservationID"], "guestId": r["guestID"] })
            }),
            _ => Ok(()),
        }
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        self.change(id, "reservation/status_changed", |r| {
            r["status"] = json!("canceled");
            r["dateCancelledUTC"] = r["dateModifiedUTC"].clone();
            if let Some(rooms) = r["rooms"].as_array_mut() {
                rooms.iter_mut().for_each(|x| x["roomStatus"] = json!("cancelled"));
            }
            json!({ "reservationID": r["reservationID"], "status": "canceled" })
        })
    }

    async fn delete(&self, id: &SourceId) -> Result<()> {
        self.change(id, "reservation/deleted", |r| {
            r["isDeleted"] = json!(true);
            json!({ "reservationId": r["reservationID"] })
        })
    }
}
