//! An iCal feed server on loopback whose feeds can be edited: serves `/feeds/{id}.ics` with
//! ETag and Last-Modified and answers conditional requests with 304. Its feeds use a generic
//! producer (`Reserved - <name>`, stable UIDs), and it implements the kit's [`Upstream`], where a
//! cancellation is what it is in a real feed: the event vanishes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, NaiveDate, Utc};
use hostelpulse_core::model::SourceId;
use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};
use hostelpulse_core::{Error, Result};

use crate::server::Running;

#[derive(Debug, Clone)]
struct Event {
    summary: String,
    start: NaiveDate,
    end: NaiveDate,
    sequence: u32,
}

#[derive(Debug, Default)]
struct Feed {
    events: BTreeMap<String, Event>,
    raw: Option<Vec<u8>>,
    version: u64,
}

#[derive(Debug, Default)]
struct Feeds {
    feeds: BTreeMap<String, Feed>,
    next_uid: u64,
    served: u64,
    not_modified: u64,
}

impl Feeds {
    fn body(&self, id: &str) -> Option<Vec<u8>> {
        let f = self.feeds.get(id)?;
        if let Some(raw) = &f.raw {
            return Some(raw.clone());
        }
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut s = String::from(
            "BEGIN:VCALENDAR\r\nPRODID:-//hostelpulse//Sandbox Feed//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\n",
        );
        for (uid, e) in &f.events {
            s.push_str(&format!(
                "BEGIN:VEVENT\r\nDTSTAMP:{stamp}\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:{}\r\nUID:{uid}\r\nSEQUENCE:{}\r\nEND:VEVENT\r\n",
                e.start.format("%Y%m%d"),
                e.end.format("%Y%m%d"),
                e.summary,
                e.sequence
            ));
        }
        s.push_str("END:VCALENDAR\r\n");
        Some(s.into_bytes())
    }
}

/// A running feed server. Dropping it stops the server.
#[derive(Debug)]
pub struct IcalFeedServer {
    feeds: Arc<Mutex<Feeds>>,
    server: Running,
}

const NAMES: [&str; 6] = ["Ana Lima", "Tom Walker", "Yuki Sato", "Luc Martin", "Mia Schneider", "Inês Sousa"];

impl IcalFeedServer {
    /// Serves `feeds`, each seeded with `per_feed` stays over the coming weeks.
    pub async fn start(feeds: &[&str], per_feed: usize) -> std::io::Result<Self> {
        let today = Utc::now().date_naive();
        let mut state = Feeds::default();
        for (fi, id) in feeds.iter().enumerate() {
            let mut f = Feed::default();
            let mut day = today - Duration::days(2);
            for i in 0..per_feed {
                let nights = 1 + ((i + fi) % 3) as i64;
                state.next_uid += 1;
                f.events.insert(
                    format!("sandbox-{}@hostelpulse.test", state.next_uid),
                    Event {
                        summary: format!("Reserved - {}", NAMES[(i + fi) % NAMES.len()]),
                        start: day,
                        end: day + Duration::days(nights),
                        sequence: 0,
                    },
                );
                day += Duration::days(nights + 1);
            }
            state.feeds.insert(id.to_string(), f);
        }
        let feeds = Arc::new(Mutex::new(state));
        let router = Router::new().route("/feeds/{file}", get(serve)).with_state(feeds.clone());
        Ok(Self { feeds, server: Running::serve(router).await? })
    }

    fn lock(&self) -> MutexGuard<'_, Feeds> {
        self.feeds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A feed's URL.
    pub fn url(&self, feed: &str) -> String {
        self.server.url(&format!("/feeds/{feed}.ics"))
    }

    /// Replaces a feed's body with raw bytes (a hostile or empty feed); `None` goes back to events.
    pub fn set_raw(&self, feed: &str, body: Option<Vec<u8>>) {
        if let Some(f) = self.lock().feeds.get_mut(feed) {
            f.raw = body;
            f.version += 1;
        }
    }

    /// Stops serving a feed (404 from now on), as a revoked or deleted export does. Unlike
    /// dropping the server, no other test can take over its port meanwhile.
    pub fn remove(&self, feed: &str) {
        self.lock().feeds.remove(feed);
    }

    /// Full bodies served.
    pub fn served(&self) -> u64 {
        self.lock().served
    }

    /// 304 answers given.
    pub fn not_modified(&self) -> u64 {
        self.lock().not_modified
    }

    fn first_feed(&self) -> Result<String> {
        self.lock().feeds.keys().next().cloned().ok_or_else(|| Error::invalid_input("no feeds"))
    }

    fn edit(&self, id: &SourceId, f: impl FnOnce(&mut Feed, &str)) -> Result<()> {
        let (feed, uid) =
            id.as_str().split_once("/uid:").ok_or_else(|| Error::invalid_input(format!("not a sandbox id: {id}")))?;
        let mut s = self.lock();
        let feed = s.feeds.get_mut(feed).ok_or_else(|| Error::invalid_input(format!("no feed for {id}")))?;
        if !feed.events.contains_key(uid) {
            return Err(Error::invalid_input(format!("no event {id}")));
        }
        f(feed, uid);
        feed.version += 1;
        Ok(())
    }
}

fn etag(version: u64) -> String {
    format!("\"v{version}\"")
}

async fn serve(State(feeds): State<Arc<Mutex<Feeds>>>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let id = file.trim_end_matches(".ics");
    let mut s = feeds.lock().unwrap_or_else(|e| e.into_inner());
    let Some(version) = s.feeds.get(id).map(|f| f.version) else { return StatusCode::NOT_FOUND.into_response() };
    let tag = etag(version);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        s.not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    s.served += 1;
    let body = s.body(id).unwrap_or_default();
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate_now()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    r
}

fn httpdate_now() -> String {
    Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Feed edits as an OTA would make them. The returned ids follow the iCal connector's scheme for
/// generic feeds: `<feed>/uid:<uid>`.
#[async_trait]
impl Upstream for IcalFeedServer {
    async fn create(&self, b: NewBooking) -> Result<SourceId> {
        let feed = self.first_feed()?;
        let mut s = self.lock();
        s.next_uid += 1;
        let uid = format!("sandbox-{}@hostelpulse.test", s.next_uid);
        let f = s.feeds.get_mut(&feed).ok_or_else(|| Error::invalid_input("no feed"))?;
        let summary = format!("Reserved - {}", b.guest_name.unwrap_or_else(|| "Guest".into()));
        f.events.insert(uid.clone(), Event { summary, start: b.arrival, end: b.departure, sequence: 0 });
        f.version += 1;
        Ok(SourceId::new(format!("{feed}/uid:{uid}")))
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        self.edit(id, |feed, uid| {
            if let Some(e) = feed.events.get_mut(uid) {
                match change {
                    Modification::ExtendStay => e.end += Duration::days(1),
                    Modification::RenameGuest(name) => e.summary = format!("Reserved - {name}"),
                    _ => {}
                }
                e.sequence += 1;
            }
        })
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        self.edit(id, |feed, uid| {
            feed.events.remove(uid);
        })
    }

    async fn delete(&self, id: &SourceId) -> Result<()> {
        self.cancel(id).await
    }
}
