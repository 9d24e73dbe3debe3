//! The Beds24 connector: endpoints and paging. Retry, pacing and tracing come from core's client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use hostelpulse_core::capability::{Capabilities, Operation};
use hostelpulse_core::connector::{
    BookingBatch, BookingParts, BookingQuery, Connector, DateRange, Health, RecordFailure, StayStatus, TransportStats,
    WriteReceipt,
};
use hostelpulse_core::error::{Applied, Error, ErrorKind, Result};
use hostelpulse_core::http::{
    CreditConfig, CreditHeaders, HeaderName, HttpClient, Pacer, PacingConfig, Request, Response, decode_json,
};
use hostelpulse_core::model::{
    AccountId, Availability, Condition, ConnectorKind, Housekeeping, Property, Provenance, SourceId, Via,
};
use hostelpulse_core::paging::{Checkpoints, Paged};
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use crate::auth::Auth;
use crate::capabilities;
use crate::config::{Beds24Config, NoteMode};
use crate::convert::{self, Ctx, RoomIndex};
use crate::wire;

/// Every booking status, asked for explicitly: by default Beds24 hides cancelled bookings.
const STATUSES: [&str; 6] = ["confirmed", "request", "new", "cancelled", "black", "inquiry"];
/// Ids per by-id request.
const IDS_PER_REQUEST: usize = 100;

/// The account's pacing: one request at a time, a credit budget fed by both spellings of the
/// credit headers, and a retry budget.
pub fn pacing(credits_per_window: f64) -> PacingConfig {
    let headers = CreditHeaders::new(
        &["x-five-min-limit-remaining", "x-fivemincreditlimit-remaining"],
        &["x-five-min-limit-resets-in", "x-fivemincreditlimit-resetsin"],
        &["x-request-cost", "x-requestcost"],
        &["x-fivemincreditlimit"],
    );
    PacingConfig::default()
        .serial(true)
        .credits(CreditConfig::new(credits_per_window, std::time::Duration::from_secs(300), headers))
        .retry_budget(20, 10)
}

/// The longest `notes` Beds24 keeps (`maxLength` in the v2 spec).
const NOTES_MAX_CHARS: usize = 2000;

/// Reads and writes one Beds24 property.
#[derive(Debug)]
pub struct Beds24Connector {
    cfg: Arc<Beds24Config>,
    http: HttpClient,
    auth: Auth,
    account: AccountId,
    rooms: Mutex<Option<Arc<RoomIndex>>>,
    /// Unfinished reads of raw rows (properties, calendars): kept in this process only, as they
    /// are a page or two.
    raw_checkpoints: Checkpoints<Box<RawValue>>,
    /// An unfinished bookings read outside a full sync (by id, modified since): its converted rows.
    booking_checkpoints: Checkpoints<convert::Row>,
    /// An unfinished full read in parts: the ids it handed over. The one a large full sync
    /// resumes, in another process too.
    part_checkpoints: Checkpoints<SourceId>,
}

/// One page of a list read, decoded.
struct PageOf<R> {
    success: Option<bool>,
    error: Option<String>,
    next_page_exists: bool,
    rows: Vec<R>,
    /// One key per row for the paging guard.
    keys: Vec<u64>,
}

/// What a paged read does with each page's rows.
trait Keep<R, T>: Send {
    /// Takes `rows` into `kept` (what the read keeps, and a checkpoint saves); an error stops the
    /// read.
    fn keep(&mut self, rows: Vec<R>, kept: &mut Vec<T>) -> impl Future<Output = Result<()>> + Send;
}

/// Keeps the rows as they are.
struct KeepAll;

impl<R: Send> Keep<R, R> for KeepAll {
    async fn keep(&mut self, rows: Vec<R>, kept: &mut Vec<R>) -> Result<()> {
        kept.extend(rows);
        Ok(())
    }
}

/// Hands converted rows on to the engine's parts, keeping their ids.
struct HandOn<'p> {
    parts: &'p mut dyn BookingParts,
    /// The stay window a booking must overlap to be handed on (Beds24 is asked a day wider).
    stay: Option<DateRange>,
    started: bool,
}

impl Keep<convert::Row, SourceId> for HandOn<'_> {
    async fn keep(&mut self, rows: Vec<convert::Row>, kept: &mut Vec<SourceId>) -> Result<()> {
        // A resumed read starts with the ids its earlier attempt handed over.
        if !std::mem::replace(&mut self.started, true) && !kept.is_empty() {
            self.parts.seen_before(kept.clone());
        }
        let mut bookings = Vec::with_capacity(rows.len());
        let mut failures = Vec::new();
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            match row {
                Ok(b) => {
                    ids.push(b.key.id.clone());
                    if self.stay.is_none_or(|w| w.overlaps_stay(b.arrival, b.departure)) {
                        bookings.push(b);
                    }
                }
                Err(f) => {
                    ids.extend(f.source_id.clone());
                    failures.push(f);
                }
            }
        }
        self.parts.part(bookings, failures).await?;
        kept.extend(ids);
        Ok(())
    }
}

fn row_key(k: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(k)
}

impl Beds24Connector {
    /// A connector from its configuration.
    pub fn new(cfg: Beds24Config) -> Result<Self> {
        let pacer = cfg.pacer.clone().unwrap_or_else(|| Arc::new(Pacer::new(pacing(cfg.credits_per_window))));
        let retry = cfg
            .retry
            .clone()
            .reset_header(HeaderName::from_static("x-five-min-limit-resets-in"))
            .reset_header(HeaderName::from_static("x-fivemincreditlimit-resetsin"));
        let http = HttpClient::builder(ConnectorKind::BEDS24, cfg.base_url.clone())
            .request_timeout(cfg.request_timeout)
            .retry(retry)
            .pacer(pacer)
            .inspector(Arc::new(crate::inspect::Beds24Inspector))
            .build()?;
        let account = AccountId::from(cfg.property_id);
        let auth = Auth::new(&cfg.credentials, account.clone(), cfg.token_store.clone(), cfg.device_name.clone());
        Ok(Self {
            cfg: Arc::new(cfg),
            http,
            auth,
            account,
            rooms: Mutex::new(None),
            raw_checkpoints: Checkpoints::default(),
            booking_checkpoints: Checkpoints::default(),
            part_checkpoints: Checkpoints::default(),
        })
    }

    /// The HTTP client (its pacer and counters).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn send(&self, req: Request) -> Result<Response> {
        let req = match &self.cfg.organization {
            Some(org) => req.header("organization", org)?,
            None => req,
        };
        self.auth
            .call(&self.http, |token| {
                let req = req.clone().secret_header("token", &token);
                async move { self.http.send(req?).await }
            })
            .await
    }

    /// Every page of a list query, its rows raw (`GET /properties`, the calendar).
    async fn pages(&self, req: Request) -> Result<Paged<Box<RawValue>>> {
        self.read_pages(req.identity(), req, &self.raw_checkpoints, &mut KeepAll, |resp| {
            let env: wire::ListEnvelope = resp.json()?;
            let keys = env.data.iter().map(|r| row_key(r.get())).collect();
            Ok(PageOf {
                success: env.success,
                error: env.error,
                next_page_exists: env.pages.next_page_exists,
                rows: env.data,
                keys,
            })
        })
        .await
    }

    /// Every page of a `GET /bookings` query, each converted as it arrives: a large property's
    /// raw JSON is never all in memory, and a read resumed across credit windows or processes
    /// keeps converted bookings, not pages.
    async fn booking_pages(&self, req: Request, rooms: &RoomIndex) -> Result<Paged<convert::Row>> {
        let provenance = Provenance::new(Via::Api, Utc::now());
        let ctx = self.ctx(rooms, &provenance);
        self.read_pages(req.identity(), req, &self.booking_checkpoints, &mut KeepAll, |resp| {
            self.booking_page(&resp, &ctx)
        })
        .await
    }

    /// [`Beds24Connector::booking_pages`], each page handed to `parts` as it arrives. The
    /// checkpoint of an unfinished read keeps the ids handed over, not the bookings: the engine
    /// has them, and an attempt that resumes the read names them as seen before.
    async fn booking_parts(
        &self,
        req: Request,
        rooms: &RoomIndex,
        stay: Option<DateRange>,
        parts: &mut dyn BookingParts,
    ) -> Result<bool> {
        let provenance = Provenance::new(Via::Api, Utc::now());
        let ctx = self.ctx(rooms, &provenance);
        let identity = format!("parts:{}", req.identity());
        let mut keeper = HandOn { parts: &mut *parts, stay, started: false };
        let paged = self
            .read_pages(identity, req, &self.part_checkpoints, &mut keeper, |resp| self.booking_page(&resp, &ctx))
            .await?;
        match paged.stop() {
            Some(stop) => {
                parts.part(Vec::new(), vec![RecordFailure::new(None, stop.to_string())]).await?;
                Ok(false)
            }
            None => Ok(true),
        }
    }

    fn ctx<'a>(&'a self, rooms: &'a RoomIndex, provenance: &'a Provenance) -> Ctx<'a> {
        Ctx {
            account: &self.account,
            rooms,
            currency: self.cfg.currency.as_deref(),
            checkin_code: &self.cfg.checkin_code,
            checkout_code: &self.cfg.checkout_code,
            provenance,
        }
    }

    fn booking_page(&self, resp: &Response, ctx: &Ctx<'_>) -> Result<PageOf<convert::Row>> {
        let p = convert::page(&resp.body, ctx, self.cfg.property_id)?;
        Ok(PageOf {
            success: p.success,
            error: p.error,
            next_page_exists: p.next_page_exists,
            rows: p.rows,
            keys: p.keys,
        })
    }

    /// Every page of a list query (`page` = 2, 3, … while `nextPageExists`), up to the page
    /// limit; a limit reached or a page repeating stops it, and says so. A read that fails on a
    /// retryable error keeps its pages, and the next attempt of the same read continues there
    /// (a full sync across credit windows or through faults finishes instead of starting over).
    ///
    /// `keep` takes each page's rows into what the read keeps (the rows themselves, or what a
    /// checkpoint needs of rows handed on); an error there stops the read.
    async fn read_pages<R, T>(
        &self,
        identity: String,
        req: Request,
        checkpoints: &Checkpoints<T>,
        keep: &mut impl Keep<R, T>,
        decode: impl Fn(Response) -> Result<PageOf<R>>,
    ) -> Result<Paged<T>> {
        let mut progress = checkpoints.resume(&identity, self.cfg.max_pages);
        for page in progress.next_page..=progress.guard.max_pages() {
            let r = if page == 1 { req.clone() } else { req.clone().query("page", page) };
            let env = match self.send(r).await.and_then(&decode) {
                Ok(env) => env,
                Err(e) => return Err(checkpoints.fail(identity, progress, page, e)),
            };
            if env.success == Some(false) {
                // A large body the inspector let through: a failure of unknown class, retried.
                return Err(Error::Vendor {
                    connector: ConnectorKind::BEDS24,
                    kind: ErrorKind::Transient,
                    code: None,
                    message: env.error.unwrap_or_else(|| "list request failed".into()),
                    applied: Applied::No,
                });
            }
            if let Err(stop) = progress.guard.check(page, &env.keys) {
                tracing::warn!(%stop, "stopped paging");
                return Ok(Paged::stopped(progress.rows, stop));
            }
            if let Err(e) = keep.keep(env.rows, &mut progress.rows).await {
                return Err(checkpoints.fail(identity, progress, page, e));
            }
            if !env.next_page_exists {
                return Ok(Paged::complete(progress.rows));
            }
        }
        let stop = progress.guard.limit();
        tracing::warn!(%stop, "stopped paging");
        Ok(Paged::stopped(progress.rows, stop))
    }

    async fn property(&self) -> Result<wire::Property> {
        let req = Request::get("properties")
            .query("id", self.cfg.property_id)
            .query("includeAllRooms", "true")
            .query("includeUnitDetails", "true");
        let rows = self.pages(req).await?.all(ConnectorKind::BEDS24, "GET /properties")?;
        for raw in rows {
            let p: wire::Property = decode_json(&ConnectorKind::BEDS24, "GET /properties", raw.get().as_bytes())?;
            if p.id == self.cfg.property_id {
                *self.rooms.lock().await = Some(Arc::new(RoomIndex::of(&p)));
                return Ok(p);
            }
        }
        Err(Error::config(format!("Beds24 property {} is not visible to this token", self.cfg.property_id)))
    }

    /// The room index, fetched once (dorms and unit names are needed to place bookings on beds).
    async fn room_index(&self) -> Result<Arc<RoomIndex>> {
        if let Some(idx) = self.rooms.lock().await.clone() {
            return Ok(idx);
        }
        self.property().await?;
        Ok(self.rooms.lock().await.clone().unwrap_or_default())
    }

    /// The list request of a query without ids.
    fn list_request(&self, query: &BookingQuery) -> Request {
        let mut req = self.booking_request(query.include_cancelled);
        if let Some(since) = query.modified_since {
            req = req.query("modifiedFrom", since.format("%Y-%m-%dT%H:%M:%S"));
        }
        if let Some(w) = query.stay {
            // Whether Beds24's bounds are inclusive is undocumented: ask a day wider on both sides,
            // then keep exactly the stays that overlap.
            req = req.query("arrivalTo", w.end).query("departureFrom", w.start);
        }
        req
    }

    fn booking_request(&self, include_cancelled: bool) -> Request {
        let statuses = STATUSES.iter().filter(|s| include_cancelled || **s != "cancelled");
        Request::get("bookings")
            .query("propertyId", self.cfg.property_id)
            .query_each("status", statuses)
            .query("includeInfoItems", "true")
    }

    /// Open or closed per room type and night, from `/inventory/rooms/availability` — cheaper
    /// than the calendar when counts are not needed (`endDate` there is the last night).
    pub async fn open_nights(&self, range: DateRange) -> Result<Vec<Availability>> {
        let rooms = self.room_index().await?;
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let req = Request::get("inventory/rooms/availability")
            .query("propertyId", self.cfg.property_id)
            .query_each("roomId", rooms.room_ids.iter())
            .query("startDate", range.start)
            .query("endDate", range.end - Duration::days(1));
        let what = "GET /inventory/rooms/availability";
        let rows = self.pages(req).await?.all(ConnectorKind::BEDS24, what)?;
        let rows = rows
            .iter()
            .map(|r| decode_json::<wire::RoomAvailability>(&ConnectorKind::BEDS24, what, r.get().as_bytes()))
            .collect::<Result<Vec<_>>>()?;
        convert::open_nights(&rows, &self.account).map_err(|m| Error::Decode {
            connector: ConnectorKind::BEDS24,
            what: what.into(),
            path: "data".into(),
            message: m,
        })
    }

    async fn post_bookings(&self, items: serde_json::Value) -> Result<Vec<wire::PostResult>> {
        let resp = self.send(Request::post("bookings").json(&items)?).await?;
        let results: Vec<wire::PostResult> = resp.json()?;
        let failed: Vec<_> = results.iter().filter(|r| !r.success).collect();
        if failed.is_empty() {
            return Ok(results);
        }
        // success:false does not mean nothing was written: a booking may exist with a bad sub-item.
        let applied =
            if failed.iter().any(|r| r.new.is_some() || r.modified.is_some()) { Applied::Partly } else { Applied::No };
        let message =
            failed.iter().flat_map(|r| r.errors.iter().map(ToString::to_string)).collect::<Vec<_>>().join("; ");
        Err(Error::Vendor {
            connector: ConnectorKind::BEDS24,
            kind: ErrorKind::Permanent,
            code: None,
            message: format!("Beds24 rejected the write: {message}"),
            applied,
        })
    }

    fn numeric(id: &SourceId, what: &str) -> Result<u64> {
        id.as_str().parse().map_err(|_| Error::invalid_input(format!("Beds24 {what} ids are numbers, got `{id}`")))
    }

    async fn fetch_by_ids(&self, ids: &[SourceId], rooms: &RoomIndex, out: &mut BookingBatch) -> Result<()> {
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let nums = chunk.iter().map(|id| Self::numeric(id, "booking")).collect::<Result<Vec<_>>>()?;
            let paged = self.booking_pages(self.booking_request(true).query_each("id", nums), rooms).await?;
            paged.mark(out);
            split(paged.into_rows(), out);
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for Beds24Connector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::BEDS24
    }

    fn account(&self) -> &AccountId {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        capabilities::declared(self.cfg.unit_status_write)
    }

    async fn check(&self) -> Result<Health> {
        let details: wire::AuthDetails = self.send(Request::get("authentication/details")).await?.json()?;
        let token = details.token.ok_or_else(|| Error::Auth {
            connector: ConnectorKind::BEDS24,
            message: "the token was not recognised".into(),
        })?;
        if let Some(only) = token.only_property_id
            && only != self.cfg.property_id
        {
            return Err(Error::config(format!(
                "this token is limited to property {only}, not {}",
                self.cfg.property_id
            )));
        }
        let mut health =
            Health::new(capabilities::effective(self.cfg.unit_status_write, &token.scopes, self.auth.is_read_only()));
        if let Some(secs) = token.expires_in {
            health.notes.push(format!("access token valid for another {} minutes", secs / 60));
        }
        health.scopes = token.scopes;
        Ok(health)
    }

    async fn discover(&self) -> Result<Vec<hostelpulse_core::DiscoveredProperty>> {
        // Without an id filter the token's whole account: every property it may read.
        let rows = self.pages(Request::get("properties")).await?.all(ConnectorKind::BEDS24, "GET /properties")?;
        rows.iter()
            .map(|raw| {
                let p: wire::Property = decode_json(&ConnectorKind::BEDS24, "GET /properties", raw.get().as_bytes())?;
                Ok(hostelpulse_core::DiscoveredProperty::new(p.id.to_string(), p.name))
            })
            .collect()
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        let p = self.property().await?;
        Ok(vec![convert::property(&p, &self.account, &Provenance::new(Via::Api, Utc::now()), self.cfg.timezone)])
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        let rooms = self.room_index().await?;
        let mut batch = BookingBatch::complete(Vec::new(), Vec::new());
        if let Some(ids) = &query.ids {
            self.fetch_by_ids(ids, &rooms, &mut batch).await?;
            return Ok(batch);
        }
        let paged = self.booking_pages(self.list_request(query), &rooms).await?;
        paged.mark(&mut batch);
        split(paged.into_rows(), &mut batch);
        if let Some(w) = query.stay {
            batch.bookings.retain(|b| w.overlaps_stay(b.arrival, b.departure));
        }
        Ok(batch)
    }

    async fn bookings_in_parts(&self, query: &BookingQuery, parts: &mut dyn BookingParts) -> Result<bool> {
        if query.ids.is_some() {
            let batch = self.bookings(query).await?;
            parts.part(batch.bookings, batch.failures).await?;
            return Ok(batch.complete);
        }
        let rooms = self.room_index().await?;
        self.booking_parts(self.list_request(query), &rooms, query.stay, parts).await
    }

    async fn availability(&self, range: DateRange) -> Result<Vec<Availability>> {
        let rooms = self.room_index().await?;
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let req = Request::get("inventory/rooms/calendar")
            .query("propertyId", self.cfg.property_id)
            .query_each("roomId", rooms.room_ids.iter())
            .query("startDate", range.start)
            .query("endDate", range.end - Duration::days(1))
            .query("includeNumAvail", "true");
        let rows = self.pages(req).await?.all(ConnectorKind::BEDS24, "GET /inventory/rooms/calendar")?;
        let cal = rows
            .iter()
            .map(|r| {
                decode_json::<wire::RoomCalendar>(
                    &ConnectorKind::BEDS24,
                    "GET /inventory/rooms/calendar",
                    r.get().as_bytes(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        convert::calendar(&cal, &self.account, range.start, range.end).map_err(|m| Error::Decode {
            connector: ConnectorKind::BEDS24,
            what: "GET /inventory/rooms/calendar".into(),
            path: "data".into(),
            message: m,
        })
    }

    async fn housekeeping(&self) -> Result<Vec<Housekeeping>> {
        let p = self.property().await?;
        Ok(convert::housekeeping(&p, &self.account, &self.cfg.unit_status_map, Utc::now()))
    }

    async fn set_stay_status(&self, booking: &SourceId, status: StayStatus) -> Result<WriteReceipt> {
        let id = Self::numeric(booking, "booking")?;
        let code = match status {
            StayStatus::CheckedIn => &self.cfg.checkin_code,
            StayStatus::CheckedOut => &self.cfg.checkout_code,
            _ => return Err(self.unsupported(Operation::SetStayStatus)),
        };
        let text = format!("hostelpulse {}", Utc::now().format("%Y-%m-%d %H:%M UTC"));
        let results = self.post_bookings(json!([{ "id": id, "infoItems": [{ "code": code, "text": text }] }])).await?;
        Ok(receipt(&results))
    }

    async fn add_note(&self, booking: &SourceId, text: &str) -> Result<WriteReceipt> {
        let id = Self::numeric(booking, "booking")?;
        let item = match &self.cfg.note_mode {
            NoteMode::InfoItem(code) => json!({ "id": id, "infoItems": [{ "code": code, "text": text }] }),
            NoteMode::AppendToNotes => {
                // The field is replaced on write: read it, append, write it back.
                let rows = self
                    .pages(self.booking_request(true).query("id", id))
                    .await?
                    .all(ConnectorKind::BEDS24, "GET /bookings")?;
                let current = rows
                    .first()
                    .and_then(|r| serde_json::from_str::<wire::Booking>(r.get()).ok())
                    .ok_or_else(|| Error::invalid_input(format!("no Beds24 booking {id}")))?;
                let notes = match current.notes.as_deref().map(str::trim_end).filter(|n| !n.is_empty()) {
                    Some(old) => format!("{old}\n{text}"),
                    None => text.to_owned(),
                };
                // Beds24 keeps at most 2,000 characters of notes. Cutting the owner's own notes to
                // make room is not ours to do: the note is refused, saying what to do instead.
                let length = notes.chars().count();
                if length > NOTES_MAX_CHARS {
                    return Err(Error::invalid_input(format!(
                        "booking {id}: the notes would be {length} characters, over Beds24's {NOTES_MAX_CHARS}: \
                         the note was not written (shorten the booking's notes in Beds24, or write notes as info \
                         items: `NoteMode::InfoItem`)"
                    )));
                }
                json!({ "id": id, "notes": notes })
            }
        };
        let results = self.post_bookings(json!([item])).await?;
        Ok(receipt(&results))
    }

    async fn set_housekeeping(&self, room: &SourceId, condition: Condition) -> Result<WriteReceipt> {
        if !self.cfg.unit_status_write {
            return Err(self.unsupported(Operation::SetHousekeeping));
        }
        let (room_id, unit) = room
            .as_str()
            .split_once('-')
            .and_then(|(r, u)| Some((r.parse::<u64>().ok()?, u.parse::<u64>().ok()?)))
            .ok_or_else(|| Error::invalid_input(format!("`{room}` is not a Beds24 unit id (room-unit)")))?;
        let mut texts: Vec<_> =
            self.cfg.unit_status_map.iter().filter(|(_, c)| **c == condition).map(|(t, _)| t.clone()).collect();
        texts.sort();
        let text = texts
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid_input(format!("no unit status text is mapped to {condition:?}")))?;
        let body = json!([{ "id": self.cfg.property_id, "roomTypes": [{ "id": room_id, "units": [{ "id": unit, "statusText": text }] }] }]);
        let resp = self.send(Request::post("properties").json(&body)?).await?;
        let results: Vec<wire::PostResult> = resp.json()?;
        if let Some(bad) = results.iter().find(|r| !r.success) {
            let message = bad.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return Err(Error::Vendor {
                connector: ConnectorKind::BEDS24,
                kind: ErrorKind::Permanent,
                code: None,
                message,
                applied: Applied::No,
            });
        }
        Ok(WriteReceipt::default())
    }

    async fn lookup_stay(&self, query: &hostelpulse_core::StayQuery) -> Result<Vec<hostelpulse_core::model::Booking>> {
        hostelpulse_core::connector::lookup_by_reads(self, query).await
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.http.stats())
    }

    async fn paging_checkpoint(&self) -> Option<String> {
        self.part_checkpoints.export().or_else(|| self.booking_checkpoints.export())
    }

    async fn resume_paging(&self, saved: &str) -> Result<()> {
        // Which read it belongs to shows in its rows: ids for a read in parts, bookings otherwise.
        match self.part_checkpoints.import(saved) {
            Ok(_) => Ok(()),
            Err(_) => self.booking_checkpoints.resume_saved(saved),
        }
    }
}

/// Converted rows into the batch's bookings and failures.
fn split(rows: Vec<convert::Row>, batch: &mut BookingBatch) {
    batch.bookings.reserve(rows.len());
    for row in rows {
        match row {
            Ok(b) => batch.bookings.push(b),
            Err(f) => batch.failures.push(f),
        }
    }
}

fn receipt(results: &[wire::PostResult]) -> WriteReceipt {
    let mut r = WriteReceipt::default();
    if let Some(first) = results.first() {
        r.id = first.new.as_ref().or(first.modified.as_ref()).and_then(|v| v.get("id")).map(|id| id.to_string());
        r.warnings = first.warnings.iter().map(ToString::to_string).collect();
    }
    r
}
