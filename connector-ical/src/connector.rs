//! The iCal connector: fetches every mapped feed (conditionally), classifies, keeps per-feed status.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::capability::Capabilities;
use hostelpulse_core::connector::{BookingBatch, BookingQuery, Connector, Health, RecordFailure, TransportStats};
use hostelpulse_core::error::{Error, Result};
use hostelpulse_core::http::{HttpClient, Request};
use hostelpulse_core::model::{
    AccountId, ConnectorKind, Property, Provenance, Room, RoomKind, RoomType, SourceKey, Via,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::capabilities;
use crate::classify::{Feed, FeedOptions};
use crate::config::{FeedConfig, IcalConfig};
use crate::convert;
use crate::fetch;

/// What the connector knows about one feed's recent fetches (the owner's "is my calendar
/// working?" view).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedStatus {
    /// Feed id.
    pub id: String,
    /// Last fetch attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last successful fetch.
    pub last_success: Option<DateTime<Utc>>,
    /// Last HTTP status.
    pub http_status: Option<u16>,
    /// SHA-256 of the last body.
    pub content_hash: Option<String>,
    /// Events in the last body.
    pub event_count: usize,
    /// No successful fetch for `stale_after_missed` poll intervals.
    pub stale: bool,
    /// The last error, when the last attempt failed.
    pub last_error: Option<String>,
    /// The last fetch was empty after a non-empty one: treated as suspect.
    pub suspect_empty: bool,
}

/// One feed's state, saved with each run's commit: the validators of the last body and what it
/// classified to, so that a later process (the next CLI run, a restarted runtime) asks
/// conditionally and a 304 reuses the stored result instead of downloading the body again.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FeedState {
    /// SHA-256 of the feed's URL (never the URL: it carries the OTA's secret token). Validators
    /// saved for another URL do not apply.
    url_digest: String,
    status: FeedStatus,
    etag: Option<String>,
    last_modified: Option<String>,
    last: Option<Feed>,
}

impl FeedState {
    fn new(feed: &FeedConfig) -> Self {
        Self {
            url_digest: url_digest(feed),
            status: FeedStatus { id: feed.id.clone(), ..FeedStatus::default() },
            ..Self::default()
        }
    }
}

fn url_digest(feed: &FeedConfig) -> String {
    hex::encode(Sha256::digest(feed.url.expose_secret().as_bytes()))
}

/// The state saved in the store: every configured feed's, by feed id.
#[derive(Debug, Default, Deserialize)]
struct Saved {
    feeds: std::collections::BTreeMap<String, FeedState>,
}

/// [`Saved`], written from the live state without copying it.
#[derive(Serialize)]
struct SavedRef<'a> {
    feeds: std::collections::BTreeMap<&'a str, &'a FeedState>,
}

/// Reads an account's iCal feeds.
#[derive(Debug)]
pub struct IcalConnector {
    cfg: Arc<IcalConfig>,
    http: HttpClient,
    state: Mutex<HashMap<String, FeedState>>,
}

impl IcalConnector {
    /// A connector from its configuration.
    pub fn new(cfg: IcalConfig) -> Result<Self> {
        let transport = fetch::transport(fetch::Reach::of(&cfg), cfg.max_redirects, cfg.max_bytes, cfg.request_timeout)
            .map_err(|e| Error::config(format!("HTTP client: {e}")))?;
        // Feeds are fetched by absolute URL; the base only satisfies the builder.
        let http = HttpClient::builder(ConnectorKind::ICAL, "https://ical.invalid/")
            .transport(transport)
            .request_timeout(cfg.request_timeout)
            .retry(cfg.retry.clone())
            .build()?;
        let state = cfg.feeds.iter().map(|f| (f.id.clone(), FeedState::new(f))).collect();
        Ok(Self { cfg: Arc::new(cfg), http, state: Mutex::new(state) })
    }

    /// Per-feed status, with staleness at `now`.
    pub async fn feed_status(&self, now: DateTime<Utc>) -> Vec<FeedStatus> {
        let state = self.state.lock().await;
        let limit = chrono::Duration::from_std(self.cfg.poll_interval * self.cfg.stale_after_missed)
            .unwrap_or(chrono::Duration::MAX);
        let mut out: Vec<FeedStatus> = state
            .values()
            .map(|s| {
                let mut st = s.status.clone();
                st.stale = st.last_attempt.is_some() && st.last_success.is_none_or(|t| now - t > limit);
                st
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    fn options(&self, feed: &FeedConfig) -> FeedOptions {
        FeedOptions::new(self.cfg.timezone).reading(feed.reading)
    }

    /// Fetches one feed (conditional GET) and classifies it. A 304 reuses the last result.
    async fn fetch(&self, feed: &FeedConfig) -> Result<Feed> {
        let url = url::Url::parse(feed.url.expose_secret())
            .map_err(|e| Error::config(format!("feed `{}`: invalid URL ({e})", feed.id)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!("feed `{}`: only http(s) URLs are fetched", feed.id)));
        }
        if !fetch::Reach::of(&self.cfg).literal_permitted(&url) {
            return Err(Error::config(format!(
                "feed `{}`: refusing to fetch a loopback, private or link-local address",
                feed.id
            )));
        }
        let (etag, modified) = {
            let state = self.state.lock().await;
            let s = state.get(&feed.id);
            (s.and_then(|s| s.etag.clone()), s.and_then(|s| s.last_modified.clone()))
        };
        let mut req = Request::get_url(url);
        if let Some(e) = &etag {
            req = req.header("if-none-match", e)?;
        }
        if let Some(m) = &modified {
            req = req.header("if-modified-since", m)?;
        }
        let now = Utc::now();
        let result = self.http.send(req).await;
        let mut state = self.state.lock().await;
        let s = state.entry(feed.id.clone()).or_default();
        s.status.last_attempt = Some(now);
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                s.status.last_error = Some(e.to_string());
                if let Error::Http { status, .. } = &e {
                    s.status.http_status = Some(*status);
                }
                return Err(e);
            }
        };
        s.status.http_status = Some(resp.status);
        // A redirect that reached us was not followed (a `file:` or other non-http location): it
        // is an error, never an empty feed.
        if (300..400).contains(&resp.status) && resp.status != 304 {
            let to = resp.headers.get("location").and_then(|v| v.to_str().ok()).and_then(|l| url::Url::parse(l).ok());
            let to = to.map_or_else(|| "an unreadable location".to_owned(), |u| format!("a {} URL", u.scheme()));
            let e = Error::config(format!("feed `{}`: redirected to {to}, which is not followed", feed.id));
            s.status.last_error = Some(e.to_string());
            return Err(e);
        }
        s.status.last_error = None;
        if resp.status == 304
            && let Some(last) = &s.last
        {
            s.status.last_success = Some(now);
            return Ok(last.clone());
        }
        if let Some(why) = crate::parse::not_a_calendar(&resp.body) {
            let e = Error::config(format!("feed `{}`: {why}", feed.id));
            s.status.last_error = Some(e.to_string());
            return Err(e);
        }
        let header = |name: &str| resp.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        s.etag = header("etag");
        s.last_modified = header("last-modified");
        let parsed = crate::read_feed(&resp.body, &self.options(feed));
        let previous = s.status.event_count;
        s.status.suspect_empty = parsed.events.is_empty() && previous > 0;
        s.status.event_count = parsed.events.len();
        s.status.content_hash = Some(hex::encode(Sha256::digest(&resp.body)));
        s.status.last_success = Some(now);
        s.last = Some(parsed.clone());
        Ok(parsed)
    }

    /// Fetches and classifies one configured feed now.
    pub async fn feed(&self, id: &str) -> Result<Feed> {
        let feed = self
            .cfg
            .feeds
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| Error::invalid_input(format!("no feed `{id}`")))?;
        self.fetch(feed).await
    }

    /// Every feed, converted. A feed that failed, or came back empty after having events, makes the
    /// batch incomplete so nothing is declared gone on its account.
    async fn read_all(&self) -> Result<BookingBatch> {
        let provenance = Provenance::new(Via::Ical, Utc::now());
        let mut batch = BookingBatch::complete(Vec::new(), Vec::new());
        let mut errors = Vec::new();
        for feed in &self.cfg.feeds {
            match self.fetch(feed).await {
                Ok(f) => {
                    if f.events.is_empty()
                        && self.state.lock().await.get(&feed.id).is_some_and(|s| s.status.suspect_empty)
                    {
                        tracing::warn!(feed = %feed.id, "feed came back empty after having events: treated as suspect");
                        batch.complete = false;
                    }
                    batch.bookings.extend(
                        f.events
                            .iter()
                            .map(|e| convert::booking(e, feed, &self.cfg.kind, &self.cfg.account, &provenance)),
                    );
                    if f.events.is_empty() && !f.skipped.is_empty() {
                        // Not a quiet success: the feed answered, and nothing in it could be read.
                        batch.failures.push(RecordFailure::new(
                            None,
                            format!("feed {}: every event was skipped ({} of them)", feed.id, f.skipped.len()),
                        ));
                    }
                    batch.failures.extend(f.skipped.iter().map(|s| {
                        let failure = RecordFailure::new(None, format!("feed {}: {}", feed.id, s.reason));
                        match s.line {
                            Some(l) => failure.at(format!("feed {} line {l}", feed.id)),
                            None => failure,
                        }
                    }));
                }
                Err(e) => {
                    batch.complete = false;
                    errors.push(e);
                }
            }
        }
        // All feeds failing is the run failing; some failing is a partial, incomplete read.
        if !self.cfg.feeds.is_empty() && errors.len() == self.cfg.feeds.len() {
            return Err(errors.remove(0));
        }
        for e in errors {
            batch.failures.push(RecordFailure::new(None, format!("feed not read: {e}")));
        }
        // Stale feeds reach the run's audit record, and so the owner's status view.
        for st in self.feed_status(Utc::now()).await.into_iter().filter(|s| s.stale) {
            let since = st.last_success.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into());
            batch
                .failures
                .push(RecordFailure::new(None, format!("feed {} is stale: last successful fetch {since}", st.id)));
        }
        Ok(batch)
    }
}

#[async_trait]
impl Connector for IcalConnector {
    fn kind(&self) -> ConnectorKind {
        self.cfg.kind.clone()
    }

    fn account(&self) -> &AccountId {
        &self.cfg.account
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = capabilities::declared();
        caps.connector = self.cfg.kind.clone();
        caps
    }

    async fn check(&self) -> Result<Health> {
        let mut health = Health::new(self.capabilities());
        for feed in &self.cfg.feeds {
            match self.fetch(feed).await {
                Ok(f) => health.notes.push(format!(
                    "feed {}: {} events, {} skipped",
                    feed.id,
                    f.events.len(),
                    f.skipped.len()
                )),
                Err(e) => health.notes.push(format!("feed {}: {e}", feed.id)),
            }
        }
        Ok(health)
    }

    fn keeps_state(&self) -> bool {
        true
    }

    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        let mut saved: Saved = hostelpulse_core::connector::decode_state(saved, "iCal connector")?;
        let mut state = self.state.lock().await;
        state.clear();
        for feed in &self.cfg.feeds {
            let kept = saved.feeds.remove(&feed.id).filter(|s| s.url_digest == url_digest(feed));
            state.insert(feed.id.clone(), kept.unwrap_or_else(|| FeedState::new(feed)));
        }
        Ok(())
    }

    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        let state = self.state.lock().await;
        let saved = SavedRef { feeds: state.iter().map(|(id, s)| (id.as_str(), s)).collect() };
        hostelpulse_core::connector::encode_state(&saved, "iCal connector")
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        let key = |id: &str| SourceKey::new(self.cfg.kind.clone(), self.cfg.account.clone(), id);
        let mut p = Property::new(
            key(self.cfg.account.as_str()),
            Provenance::new(Via::Ical, Utc::now()),
            self.cfg.account.to_string(),
        );
        p.timezone = Some(self.cfg.timezone);
        p.room_types = self
            .cfg
            .feeds
            .iter()
            .map(|f| {
                let unit = f
                    .unit
                    .bed
                    .clone()
                    .or_else(|| f.unit.room.clone())
                    .or_else(|| f.unit.room_type.clone())
                    .unwrap_or_else(|| f.id.clone().into());
                RoomType {
                    key: key(f.unit.room_type.as_ref().map(|r| r.as_str()).unwrap_or(unit.as_str())),
                    name: f.unit.label.clone().unwrap_or_else(|| f.id.clone()),
                    kind: if f.unit.bed.is_some() { RoomKind::Dorm } else { RoomKind::Private },
                    max_guests: None,
                    rooms: vec![Room { key: key(unit.as_str()), name: f.id.clone(), beds: Vec::new() }],
                }
            })
            .collect();
        Ok(vec![p])
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        if query.modified_since.is_some() {
            return Err(self.unsupported(hostelpulse_core::Operation::ReadBookingsModified));
        }
        let mut batch = self.read_all().await?;
        if let Some(w) = query.stay {
            batch.bookings.retain(|b| w.overlaps_stay(b.arrival, b.departure));
        }
        batch.bookings.retain(|b| query.wants_id(&b.key.id));
        Ok(batch)
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.http.stats())
    }
}
