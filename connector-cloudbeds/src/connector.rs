//! The Cloudbeds connector: endpoints and paging. Retry, pacing and tracing come from core's client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use hostelpulse_core::capability::{Capabilities, Operation};
use hostelpulse_core::connector::{
    BookingBatch, BookingQuery, Connector, DateRange, Health, RecordFailure, StayStatus, TransportStats, WriteReceipt,
};
use hostelpulse_core::error::{Error, Result};
use hostelpulse_core::http::{HttpClient, Pacer, PacingConfig, Request, Response, decode_json};
use hostelpulse_core::model::{
    AccountId, Availability, Condition, ConnectorKind, Housekeeping, Property, Provenance, SourceId, Via,
};
use hostelpulse_core::paging::{Checkpoints, Paged};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use crate::auth::Auth;
use crate::capabilities;
use crate::config::{CloudbedsConfig, FilterZone};
use crate::convert::{self, RoomIndex};
use crate::wire;

const PAGE_SIZE: u64 = 100;
const IDS_PER_REQUEST: usize = 50;

/// The property's pacing: strict requests per second (no burst: exceeding can suspend the
/// credentials) with 15 ms of headroom per request for network jitter — Cloudbeds counts arrivals
/// — and a retry budget.
pub fn pacing(requests_per_second: u32) -> PacingConfig {
    PacingConfig::default()
        .requests_per_second(requests_per_second)
        .rate_margin(std::time::Duration::from_millis(15))
        .retry_budget(20, 10)
}

/// A reservation's guest stay, for a triage flow: who, where, when, in what state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GuestStay {
    /// Reservation id.
    pub reservation_id: String,
    /// Main guest's name.
    pub guest_name: Option<String>,
    /// Main guest's e-mail.
    pub guest_email: Option<String>,
    /// Main guest's phone.
    pub guest_phone: Option<String>,
    /// Rooms or beds with their names.
    pub rooms: Vec<(String, String)>,
    /// Check-in date.
    pub arrival: Option<String>,
    /// Check-out date.
    pub departure: Option<String>,
    /// Cloudbeds status.
    pub status: Option<String>,
    /// Estimated arrival time ("HH:MM").
    pub estimated_arrival_time: Option<String>,
}

/// Who sleeps where on one night (`getReservationAssignments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Assignment {
    /// Reservation id.
    pub reservation_id: String,
    /// The main guest's name.
    pub guest_name: Option<String>,
    /// The room or bed id.
    pub room_id: String,
    /// Its name.
    pub room_name: Option<String>,
    /// The dorm room, for beds.
    pub dorm_room_name: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignmentRow {
    #[serde(rename = "reservationID", deserialize_with = "wire::lenient_id", default)]
    reservation_id: Option<String>,
    guest_name: Option<String>,
    #[serde(default, deserialize_with = "wire::nullable")]
    assigned: Vec<Assigned>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationDetail {
    #[serde(rename = "reservationID", deserialize_with = "wire::lenient_id", default)]
    reservation_id: Option<String>,
    guest_name: Option<String>,
    guest_email: Option<String>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    estimated_arrival_time: Option<String>,
    #[serde(default, deserialize_with = "wire::nullable")]
    assigned: Vec<Assigned>,
    #[serde(default, deserialize_with = "wire::nullable")]
    guest_list: std::collections::BTreeMap<String, wire::Guest>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assigned {
    #[serde(rename = "roomID", deserialize_with = "wire::lenient_id", default)]
    room_id: Option<String>,
    room_name: Option<String>,
    #[serde(rename = "subReservationID", deserialize_with = "wire::lenient_id", default)]
    sub_reservation_id: Option<String>,
    dorm_room_name: Option<String>,
}

/// Reads and writes one Cloudbeds property.
#[derive(Debug)]
pub struct CloudbedsConnector {
    cfg: Arc<CloudbedsConfig>,
    http: HttpClient,
    auth: Auth,
    account: AccountId,
    rooms: Mutex<Option<Arc<RoomIndex>>>,
    timezone: Mutex<Option<chrono_tz::Tz>>,
    checkpoints: Checkpoints<Box<RawValue>>,
}

impl CloudbedsConnector {
    /// A connector from its configuration.
    pub fn new(cfg: CloudbedsConfig) -> Result<Self> {
        let pacer = cfg.pacer.clone().unwrap_or_else(|| Arc::new(Pacer::new(pacing(cfg.requests_per_second))));
        let mut builder = HttpClient::builder(ConnectorKind::CLOUDBEDS, cfg.base_url.clone())
            .request_timeout(cfg.request_timeout)
            .retry(cfg.retry.clone())
            .pacer(pacer)
            .inspector(Arc::new(crate::inspect::CloudbedsInspector));
        if let Some(t) = &cfg.transport {
            builder = builder.transport(t.clone());
        }
        let http = builder.build()?;
        let account = AccountId::new(cfg.property_id.clone());
        let auth = Auth::new(&cfg.credentials, account.clone(), cfg.token_store.clone());
        let tz = cfg.timezone;
        Ok(Self {
            cfg: Arc::new(cfg),
            http,
            auth,
            account,
            rooms: Mutex::new(None),
            timezone: Mutex::new(tz),
            checkpoints: Checkpoints::default(),
        })
    }

    /// The HTTP client (its pacer and counters). Token exchanges use it too.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn send(&self, req: Request) -> Result<Response> {
        let req = req.header("X-PROPERTY-ID", &self.cfg.property_id)?;
        self.auth
            .call(&self.http, |name, value| {
                let req = req.clone().secret_header(name, &value);
                async move { self.http.send(req?).await }
            })
            .await
    }

    async fn get_object<T: DeserializeOwned>(&self, method: &str, req: Request) -> Result<T> {
        let env: wire::ObjectEnvelope<T> = self.send(req).await?.json()?;
        env.data.ok_or_else(|| Error::Decode {
            connector: ConnectorKind::CLOUDBEDS,
            what: method.into(),
            path: "data".into(),
            message: "missing".into(),
        })
    }

    /// Every page: `pageNumber` from 1 while `pageNumber × pageSize < total`, up to the page
    /// limit; a limit reached or a page repeating stops it, and says so. A read that fails on a
    /// retryable error keeps its pages for the next attempt of the same read.
    async fn pages(&self, req: Request) -> Result<Paged<Box<RawValue>>> {
        let identity = req.identity();
        let mut progress = self.checkpoints.resume(&identity, self.cfg.max_pages);
        for page in progress.next_page..=progress.guard.max_pages() {
            let sent = self.send(req.clone().query("pageNumber", page).query("pageSize", PAGE_SIZE)).await;
            let env: wire::ListEnvelope = match sent.and_then(|r| r.json()) {
                Ok(env) => env,
                Err(e) => return Err(self.checkpoints.fail(identity, progress, page, e)),
            };
            if let Err(stop) = progress.guard.check(page, env.data.iter().map(|r| r.get())) {
                tracing::warn!(%stop, "stopped paging");
                return Ok(Paged::stopped(progress.rows, stop));
            }
            let got = env.data.len() as u64;
            progress.rows.extend(env.data);
            let total = env.total.unwrap_or(0);
            if got == 0 || u64::from(page) * PAGE_SIZE >= total {
                return Ok(Paged::complete(progress.rows));
            }
        }
        let stop = progress.guard.limit();
        tracing::warn!(%stop, "stopped paging");
        Ok(Paged::stopped(progress.rows, stop))
    }

    fn decode_rows<T: DeserializeOwned>(what: &str, rows: &[Box<RawValue>]) -> Result<Vec<T>> {
        rows.iter().map(|r| decode_json(&ConnectorKind::CLOUDBEDS, what, r.get().as_bytes())).collect()
    }

    /// The rows that decode; each one that does not is logged with its JSON path and left out, so
    /// one bad row never fails a whole read whose rows stand alone (assignments, rate plans).
    fn decode_good_rows<T: DeserializeOwned>(what: &str, rows: &[Box<RawValue>]) -> Vec<T> {
        rows.iter()
            .enumerate()
            .filter_map(|(i, r)| match decode_json(&ConnectorKind::CLOUDBEDS, what, r.get().as_bytes()) {
                Ok(row) => Some(row),
                Err(e) => {
                    tracing::warn!(row = i, error = %e, "a row that does not decode was left out");
                    None
                }
            })
            .collect()
    }

    async fn hotel(&self) -> Result<wire::Hotel> {
        let req = Request::get("getHotels").query("propertyIDs", &self.cfg.property_id);
        let rows = self.pages(req).await?.all(ConnectorKind::CLOUDBEDS, "GET getHotels")?;
        let hotels: Vec<wire::Hotel> = Self::decode_rows("GET getHotels", &rows)?;
        let hotel = hotels
            .into_iter()
            .find(|h| h.property_id.as_deref() == Some(self.cfg.property_id.as_str()))
            .ok_or_else(|| {
                Error::config(format!(
                    "Cloudbeds property {} is not visible to these credentials",
                    self.cfg.property_id
                ))
            })?;
        if let Some(tz) = hotel.property_timezone.as_deref().and_then(|t| t.parse().ok()) {
            *self.timezone.lock().await = Some(tz);
        }
        Ok(hotel)
    }

    async fn raw_rooms(&self) -> Result<Vec<wire::Room>> {
        let req = Request::get("getRooms").query("propertyIDs", &self.cfg.property_id);
        let rows = self.pages(req).await?.all(ConnectorKind::CLOUDBEDS, "GET getRooms")?;
        let groups: Vec<wire::PropertyRooms> = Self::decode_rows("GET getRooms", &rows)?;
        let rooms: Vec<wire::Room> = groups.into_iter().flat_map(|g| g.rooms).collect();
        *self.rooms.lock().await = Some(Arc::new(RoomIndex::of(&rooms)));
        Ok(rooms)
    }

    async fn room_index(&self) -> Result<Arc<RoomIndex>> {
        if let Some(idx) = self.rooms.lock().await.clone() {
            return Ok(idx);
        }
        self.raw_rooms().await?;
        Ok(self.rooms.lock().await.clone().unwrap_or_default())
    }

    async fn tz(&self) -> Result<Option<chrono_tz::Tz>> {
        if let Some(tz) = *self.timezone.lock().await {
            return Ok(Some(tz));
        }
        self.hotel().await?;
        Ok(*self.timezone.lock().await)
    }

    fn reservations_request(&self) -> Request {
        Request::get("getReservationsWithRateDetails")
            .query("propertyID", &self.cfg.property_id)
            .query("includeDeleted", "true")
            .query("includeGuestsDetails", "true")
    }

    fn convert(&self, rows: &[Box<RawValue>], rooms: &RoomIndex, batch: &mut BookingBatch) {
        let provenance = Provenance::new(Via::Api, Utc::now());
        for (i, raw) in rows.iter().enumerate() {
            let de = &mut serde_json::Deserializer::from_str(raw.get());
            match serde_path_to_error::deserialize::<_, wire::Reservation>(de) {
                Ok(r) => match convert::reservation(&r, &self.account, rooms, &provenance) {
                    Ok(Some(b)) => batch.bookings.push(b),
                    Ok(None) => {}
                    Err(reason) => batch
                        .failures
                        .push(RecordFailure::new(r.reservation_id.map(SourceId::new), reason).at(format!("data[{i}]"))),
                },
                Err(e) => {
                    let id = serde_json::from_str::<serde_json::Value>(raw.get()).ok().and_then(|v| {
                        v.get("reservationID")
                            .map(|x| SourceId::new(x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())))
                    });
                    batch
                        .failures
                        .push(RecordFailure::new(id, e.inner().to_string()).at(format!("data[{i}].{}", e.path())));
                }
            }
        }
    }

    async fn post_form(&self, method: &str, pairs: Vec<(&str, String)>) -> Result<serde_json::Value> {
        let resp = self.send(Request::post(method).form(pairs)).await?;
        resp.json()
    }

    /// Everything a triage screen needs about one reservation, in one call (`getReservation`).
    pub async fn guest_stay(&self, reservation_id: &SourceId) -> Result<GuestStay> {
        let req = Request::get("getReservation")
            .query("propertyID", &self.cfg.property_id)
            .query("reservationID", reservation_id);
        let d: ReservationDetail = self.get_object("GET getReservation", req).await?;
        let main = d.guest_list.values().find(|g| g.is_main_guest).or_else(|| d.guest_list.values().next());
        Ok(GuestStay {
            reservation_id: d.reservation_id.unwrap_or_else(|| reservation_id.to_string()),
            guest_name: d.guest_name,
            guest_email: d.guest_email.or_else(|| main.and_then(|g| g.guest_email.clone())),
            guest_phone: main
                .and_then(|g| g.guest_cell_phone.clone().filter(|p| !p.is_empty()).or_else(|| g.guest_phone.clone())),
            rooms: d
                .assigned
                .iter()
                .filter_map(|a| Some((a.room_id.clone()?, a.room_name.clone().unwrap_or_default())))
                .collect(),
            arrival: d.start_date,
            departure: d.end_date,
            status: d.status,
            estimated_arrival_time: d.estimated_arrival_time,
        })
    }

    /// Who sleeps in which room or bed on `date` (`getReservationAssignments`).
    pub async fn assignments(&self, date: chrono::NaiveDate) -> Result<Vec<Assignment>> {
        let req =
            Request::get("getReservationAssignments").query("propertyID", &self.cfg.property_id).query("date", date);
        let env: wire::ListEnvelope = self.send(req).await?.json()?;
        let rows: Vec<AssignmentRow> = Self::decode_good_rows("GET getReservationAssignments", &env.data);
        Ok(rows
            .into_iter()
            .flat_map(|r| {
                let (id, guest) = (r.reservation_id.unwrap_or_default(), r.guest_name);
                r.assigned.into_iter().filter_map(move |a| {
                    Some(Assignment {
                        reservation_id: id.clone(),
                        guest_name: guest.clone(),
                        room_id: a.room_id?,
                        room_name: a.room_name,
                        dorm_room_name: a.dorm_room_name.filter(|d| !d.is_empty()),
                    })
                })
            })
            .collect())
    }

    /// Sets a reservation's status with `putReservation` (`confirmed`, `not_confirmed`, `canceled`,
    /// `checked_in`, `checked_out`, `no_show`). Cloudbeds sends no status e-mail.
    pub async fn set_reservation_status(&self, reservation_id: &SourceId, status: &str) -> Result<()> {
        let pairs = vec![
            ("propertyID", self.cfg.property_id.clone()),
            ("reservationID", reservation_id.to_string()),
            ("status", status.to_owned()),
            ("sendStatusChangeEmail", "false".to_owned()),
        ];
        let resp = self.send(Request::put("putReservation").form(pairs)).await?;
        let _: serde_json::Value = resp.json()?;
        Ok(())
    }

    /// Subscribes `endpoint_url` to `object/action` (`postWebhook`); returns the subscription id.
    pub async fn subscribe(&self, object: &str, action: &str, endpoint_url: &str) -> Result<String> {
        let pairs = vec![
            ("propertyID", self.cfg.property_id.clone()),
            ("object", object.to_owned()),
            ("action", action.to_owned()),
            ("endpointUrl", endpoint_url.to_owned()),
        ];
        let resp = self.send(Request::post("postWebhook").form(pairs)).await?;
        let env: wire::ObjectEnvelope<wire::Subscription> = resp.json()?;
        env.data.and_then(|d| d.subscription_id).ok_or_else(|| Error::Decode {
            connector: ConnectorKind::CLOUDBEDS,
            what: "POST postWebhook".into(),
            path: "data.subscriptionID".into(),
            message: "missing".into(),
        })
    }

    /// The property's subscriptions (`getWebhooks`) as (id, "object/action", endpoint).
    pub async fn subscriptions(&self) -> Result<Vec<(String, String, String)>> {
        let resp = self.send(Request::get("getWebhooks").query("propertyID", &self.cfg.property_id)).await?;
        let v: serde_json::Value = resp.json()?;
        Ok(v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let endpoint = s["subscriptionData"]["endpoint"]
                    .as_str()
                    .or_else(|| s["subscriptionData"]["url"].as_str())
                    .unwrap_or_default();
                let event = format!(
                    "{}/{}",
                    s["event"]["entity"].as_str().unwrap_or(""),
                    s["event"]["action"].as_str().unwrap_or("")
                );
                (s["id"].as_str().unwrap_or_default().to_owned(), event, endpoint.to_owned())
            })
            .collect())
    }

    /// Removes a subscription (`deleteWebhook`).
    pub async fn unsubscribe(&self, subscription_id: &str) -> Result<()> {
        let req = Request::delete("deleteWebhook")
            .query("subscriptionID", subscription_id)
            .query("propertyIDs", &self.cfg.property_id);
        let _: serde_json::Value = self.send(req).await?.json()?;
        Ok(())
    }
}

#[async_trait]
impl hostelpulse_core::webhook::WebhookSubscriptions for CloudbedsConnector {
    fn sync_events(&self) -> Vec<String> {
        crate::webhook::SYNC_EVENTS.iter().map(|(o, a)| format!("{o}/{a}")).collect()
    }

    async fn list_subscriptions(&self) -> Result<Vec<hostelpulse_core::webhook::Subscription>> {
        Ok(self
            .subscriptions()
            .await?
            .into_iter()
            .map(|(id, event, endpoint)| hostelpulse_core::webhook::Subscription::new(id, event, endpoint))
            .collect())
    }

    async fn subscribe_endpoint(&self, event: &str, endpoint: &str) -> Result<String> {
        let (object, action) = event.split_once('/').unwrap_or((event, ""));
        self.subscribe(object, action, endpoint).await
    }

    async fn remove_subscription(&self, id: &str) -> Result<()> {
        self.unsubscribe(id).await
    }
}

#[async_trait]
impl Connector for CloudbedsConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::CLOUDBEDS
    }

    fn account(&self) -> &AccountId {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        capabilities::declared(self.cfg.requests_per_second)
    }

    async fn check(&self) -> Result<Health> {
        let user: wire::UserInfo = self.send(Request::get("userinfo")).await?.json()?;
        let hotel = self.hotel().await?;
        // What the server granted at the last authorization, where a connection is kept; else
        // what the configuration says the owner granted.
        let granted = match self.auth.kept() {
            Some((store, account)) => crate::auth::granted_scopes(store.as_ref(), account.clone()).await?,
            None => None,
        }
        .unwrap_or_else(|| self.cfg.granted_scopes.clone());
        let mut health = Health::new(capabilities::effective(self.cfg.requests_per_second, &granted));
        health.scopes = granted;
        health.notes.push(format!(
            "connected as {} to {}",
            user.email.unwrap_or_else(|| "an API key".into()),
            hotel.property_name.unwrap_or_else(|| self.cfg.property_id.clone())
        ));
        Ok(health)
    }

    async fn discover(&self) -> Result<Vec<hostelpulse_core::DiscoveredProperty>> {
        // Without `propertyIDs`, every property the key sees (one for a property's own key,
        // several for a group's or an association's).
        let rows = self.pages(Request::get("getHotels")).await?.all(ConnectorKind::CLOUDBEDS, "GET getHotels")?;
        let hotels: Vec<wire::Hotel> = Self::decode_rows("GET getHotels", &rows)?;
        Ok(hotels
            .into_iter()
            .filter_map(|h| {
                Some(hostelpulse_core::DiscoveredProperty::new(h.property_id?, h.property_name.unwrap_or_default()))
            })
            .collect())
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        let hotel = self.hotel().await?;
        let types = self
            .pages(Request::get("getRoomTypes").query("propertyIDs", &self.cfg.property_id))
            .await?
            .all(ConnectorKind::CLOUDBEDS, "GET getRoomTypes")?;
        let types: Vec<wire::RoomType> = Self::decode_rows("GET getRoomTypes", &types)?;
        let rooms = self.raw_rooms().await?;
        let provenance = Provenance::new(Via::Api, Utc::now());
        Ok(vec![convert::property(&hotel, &types, &rooms, &self.account, &provenance, self.cfg.timezone)])
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        let rooms = self.room_index().await?;
        let mut batch = BookingBatch::complete(Vec::new(), Vec::new());
        if let Some(ids) = &query.ids {
            for chunk in ids.chunks(IDS_PER_REQUEST) {
                let ids = chunk.iter().map(SourceId::as_str).collect::<Vec<_>>().join(",");
                let paged = self.pages(self.reservations_request().query("reservationID", ids)).await?;
                paged.mark(&mut batch);
                self.convert(paged.rows(), &rooms, &mut batch);
            }
            return Ok(batch);
        }
        let mut req = self.reservations_request();
        if let Some(since) = query.modified_since {
            let since = match (self.cfg.modified_filter_zone, self.tz().await?) {
                (FilterZone::PropertyLocal, Some(tz)) => since.with_timezone(&tz).naive_local(),
                _ => since.naive_utc(),
            };
            req = req.query("modifiedFrom", since.format("%Y-%m-%d %H:%M:%S"));
        }
        if let Some(w) = query.stay {
            // The only stay filter is on check-out: ask from the window's start, keep the overlap.
            req = req.query("reservationCheckOutFrom", w.start);
        }
        let paged = self.pages(req).await?;
        paged.mark(&mut batch);
        self.convert(paged.rows(), &rooms, &mut batch);
        if let Some(w) = query.stay {
            batch.bookings.retain(|b| w.overlaps_stay(b.arrival, b.departure));
        }
        if !query.include_cancelled {
            batch.bookings.retain(|b| b.status != hostelpulse_core::model::BookingStatus::Cancelled);
        }
        Ok(batch)
    }

    async fn availability(&self, range: DateRange) -> Result<Vec<Availability>> {
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let req = Request::get("getRatePlans")
            .query("propertyIDs", &self.cfg.property_id)
            .query("startDate", range.start)
            .query("endDate", range.end)
            .query("detailedRates", "true")
            .query("includeSharedRooms", "true");
        let env: wire::ListEnvelope = self.send(req).await?.json()?;
        let plans: Vec<wire::RatePlan> = Self::decode_good_rows("GET getRatePlans", &env.data);
        convert::availability(&plans, &self.account, range.start, range.end).map_err(|m| Error::Decode {
            connector: ConnectorKind::CLOUDBEDS,
            what: "GET getRatePlans".into(),
            path: "data".into(),
            message: m,
        })
    }

    async fn housekeeping(&self) -> Result<Vec<Housekeeping>> {
        let tz = self.tz().await?;
        let req = Request::get("getHousekeepingStatus").query("propertyID", &self.cfg.property_id);
        let rows = self.pages(req).await?.all(ConnectorKind::CLOUDBEDS, "GET getHousekeepingStatus")?;
        let rows: Vec<wire::HousekeepingRow> = Self::decode_rows("GET getHousekeepingStatus", &rows)?;
        Ok(convert::housekeeping(&rows, &self.account, tz))
    }

    async fn set_stay_status(&self, booking: &SourceId, status: StayStatus) -> Result<WriteReceipt> {
        let method = match status {
            StayStatus::CheckedIn => "postRoomCheckIn",
            StayStatus::CheckedOut => "postRoomCheckOut",
            _ => return Err(self.unsupported(Operation::SetStayStatus)),
        };
        let req =
            Request::get("getReservation").query("propertyID", &self.cfg.property_id).query("reservationID", booking);
        let detail: ReservationDetail = self.get_object("GET getReservation", req).await?;
        let subs: Vec<String> = detail.assigned.into_iter().filter_map(|a| a.sub_reservation_id).collect();
        if subs.is_empty() {
            return Err(Error::invalid_input(format!(
                "reservation {booking} has no assigned room: assign a room or bed first"
            )));
        }
        for sub in subs {
            let pairs = vec![
                ("propertyID", self.cfg.property_id.clone()),
                ("reservationID", booking.to_string()),
                ("subReservationID", sub),
            ];
            self.post_form(method, pairs).await?;
        }
        Ok(WriteReceipt::default())
    }

    async fn add_note(&self, booking: &SourceId, text: &str) -> Result<WriteReceipt> {
        // Cloudbeds forbids unencrypted payment data and rejects numbers that look like cards.
        if hostelpulse_core::privacy::has_card_number(text) {
            return Err(Error::invalid_input(
                "the note holds what looks like a payment card number: Cloudbeds forbids payment data in notes, and \
                 the note was not sent",
            ));
        }
        let pairs = vec![
            ("propertyID", self.cfg.property_id.clone()),
            ("reservationID", booking.to_string()),
            ("reservationNote", text.to_owned()),
        ];
        let v = self.post_form("postReservationNote", pairs).await?;
        // The note id comes back at the top level, not under `data`.
        let id = v.get("reservationNoteID").map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string()));
        Ok(id.map(WriteReceipt::with_id).unwrap_or_default())
    }

    async fn set_housekeeping(&self, room: &SourceId, condition: Condition) -> Result<WriteReceipt> {
        let value = match condition {
            Condition::Clean => "clean",
            Condition::Dirty => "dirty",
            Condition::Inspected => "inspected",
            other => {
                return Err(Error::invalid_input(format!(
                    "Cloudbeds housekeeping takes clean, dirty or inspected, not {other:?}"
                )));
            }
        };
        let pairs = vec![
            ("propertyID", self.cfg.property_id.clone()),
            ("roomID", room.to_string()),
            ("roomCondition", value.to_owned()),
        ];
        self.post_form("postHousekeepingStatus", pairs).await?;
        Ok(WriteReceipt::default())
    }

    async fn lookup_stay(&self, query: &hostelpulse_core::StayQuery) -> Result<Vec<hostelpulse_core::model::Booking>> {
        use hostelpulse_core::connector::{in_room_on, lookup_by_reads};
        let hostelpulse_core::StayQuery::RoomNight { room, night } = query else {
            return lookup_by_reads(self, query).await;
        };
        // Who sleeps where is one call here; a dorm (not a bookable unit at Cloudbeds) or an
        // empty answer falls back to the night's bookings.
        let ids: Vec<SourceId> = self
            .assignments(*night)
            .await?
            .into_iter()
            .filter(|a| a.room_id == room.as_str())
            .map(|a| SourceId::new(a.reservation_id))
            .collect();
        let Some(ids) = hostelpulse_core::BookingIds::new(ids) else { return lookup_by_reads(self, query).await };
        let batch = self.bookings(&BookingQuery::ids(ids)).await?;
        Ok(batch.bookings.into_iter().filter(|b| in_room_on(b, room, *night)).collect())
    }

    fn webhook_subscriptions(&self) -> Option<&dyn hostelpulse_core::webhook::WebhookSubscriptions> {
        Some(self)
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.http.stats())
    }

    async fn paging_checkpoint(&self) -> Option<String> {
        self.checkpoints.export()
    }

    async fn resume_paging(&self, saved: &str) -> Result<()> {
        self.checkpoints.resume_saved(saved)
    }
}
