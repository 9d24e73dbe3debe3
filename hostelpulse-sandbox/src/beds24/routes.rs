//! The emulated Beds24 API v2 endpoints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::state::{CreditHeaderNames, Listing, State as Account, ts};
use crate::query::{all, date, header, one, params};

type Shared = Arc<Inner>;

const PAGE_SIZE: usize = 100;
const PERSONAL: [&str; 13] = [
    "title",
    "firstName",
    "lastName",
    "email",
    "phone",
    "mobile",
    "fax",
    "company",
    "address",
    "city",
    "state",
    "postcode",
    "country",
];
const HOLDS_INVENTORY: [&str; 4] = ["confirmed", "new", "request", "black"];

pub(super) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v2/authentication/setup", get(setup))
        .route("/v2/authentication/token", get(token))
        .route("/v2/authentication/details", get(details))
        .route("/v2/bookings", get(get_bookings).post(post_bookings).delete(delete_bookings))
        .route("/v2/properties", get(get_properties).post(post_properties))
        .route("/v2/inventory/rooms/calendar", get(calendar))
        .route("/v2/inventory/rooms/availability", get(availability))
        .layer(middleware::from_fn_with_state(shared.clone(), credits))
        .with_state(shared)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "success": false, "type": "error", "code": status.as_u16(), "error": message })))
        .into_response()
}

/// What a request costs: fractional, like the real account's.
fn cost(method: &Method, path: &str, query: &str) -> f64 {
    match (method, path) {
        (&Method::GET, "/v2/bookings") if query.contains("includeInfoItems=true") => 1.2,
        (&Method::GET, p) if p.starts_with("/v2/authentication") => 0.5,
        _ => 1.0,
    }
}

fn credit_headers(
    resp: &mut Response,
    names: CreditHeaderNames,
    remaining: f64,
    resets_in: f64,
    cost: f64,
    limit: f64,
) {
    let (rem, reset, c, total) = match names {
        CreditHeaderNames::Observed => {
            ("x-five-min-limit-remaining", "x-five-min-limit-resets-in", "x-request-cost", None)
        }
        CreditHeaderNames::Spec => (
            "X-FiveMinCreditLimit-Remaining",
            "X-FiveMinCreditLimit-ResetsIn",
            "X-RequestCost",
            Some("X-FiveMinCreditLimit"),
        ),
    };
    let h = resp.headers_mut();
    let mut put = |name: &str, v: String| {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(v)) {
            h.insert(n, v);
        }
    };
    put(rem, format!("{:.1}", remaining.max(0.0)));
    put(reset, format!("{}", resets_in.ceil() as u64));
    put(c, format!("{cost:.1}"));
    if let Some(t) = total {
        put(t, format!("{limit:.0}"));
    }
}

/// Charges every request against the 5-minute credit window; 429 (code 1016) when it is spent.
async fn credits(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let (method, path, query) =
        (req.method().clone(), req.uri().path().to_owned(), req.uri().query().unwrap_or("").to_owned());
    let c = cost(&method, &path, &query);
    let (names, limit, resets_in, remaining_before) = {
        let mut s = shared.lock();
        s.count(&format!("{method} {path}"));
        let resets_in = s.window_left();
        (s.header_names, s.credits_limit, resets_in, s.credits_limit - s.credits_used)
    };
    if remaining_before < c {
        shared.lock().rejected += 1;
        let mut resp = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({ "success": false, "code": 1016, "message": "Credit limit exceeded in last 5 minutes" })),
        )
            .into_response();
        credit_headers(&mut resp, names, remaining_before, resets_in, 0.0, limit);
        return resp;
    }
    shared.lock().credits_used += c;
    let mut resp = next.run(req).await;
    let remaining = {
        let s = shared.lock();
        s.credits_limit - s.credits_used
    };
    credit_headers(&mut resp, names, remaining, resets_in, c, limit);
    resp
}

enum Access {
    Read,
    Write(&'static str),
}

/// A refused request; small enough to return by value.
struct Denied(StatusCode, String);

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        error(self.0, &self.1)
    }
}

fn authorize(s: &mut Account, headers: &HeaderMap, access: Access) -> Result<(), Denied> {
    let Some(token) = header(headers, "token") else {
        return Err(Denied(StatusCode::UNAUTHORIZED, "Token is missing".into()));
    };
    let long_life = s.long_life_tokens.contains(token);
    let valid = long_life || s.access_tokens.get(token).is_some_and(|exp| *exp > Instant::now());
    if !valid {
        return Err(Denied(StatusCode::UNAUTHORIZED, "Token is invalid or expired".into()));
    }
    if let Access::Write(scope) = access {
        let has = s.scopes.iter().any(|x| x == &format!("write:{scope}") || x == &format!("all:{scope}"));
        if long_life || !has {
            return Err(Denied(StatusCode::FORBIDDEN, format!("no write access to {scope}")));
        }
    }
    Ok(())
}

/// The JSON array every Beds24 POST takes.
fn json_array(body: &[u8]) -> Result<Vec<Value>, Denied> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => Ok(items),
        _ => Err(Denied(StatusCode::BAD_REQUEST, "the body must be a JSON array".into())),
    }
}

fn mint(s: &mut Account) -> String {
    s.minted += 1;
    let token = format!("tk{:0>150}", s.minted);
    s.access_tokens.insert(token.clone(), Instant::now() + s.token_life);
    token
}

async fn setup(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = shared.lock();
    let Some(code) = header(&headers, "code").filter(|c| s.invite_codes.contains(*c)).map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "Invalid or used invite code");
    };
    s.invite_codes.remove(&code);
    let refresh = format!("rt{:0>150}", s.minted + 1000);
    s.refresh_tokens.insert(refresh.clone());
    let token = mint(&mut s);
    axum::Json(json!({ "token": token, "expiresIn": s.token_life.as_secs(), "refreshToken": refresh })).into_response()
}

async fn token(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = shared.lock();
    if !header(&headers, "refreshToken").is_some_and(|r| s.refresh_tokens.contains(r)) {
        return error(StatusCode::BAD_REQUEST, "Invalid refresh token");
    }
    let token = mint(&mut s);
    axum::Json(json!({ "token": token, "expiresIn": s.token_life.as_secs() })).into_response()
}

async fn details(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = shared.lock();
    if authorize(&mut s, &headers, Access::Read).is_err() {
        return axum::Json(json!({ "validToken": false, "diagnostics": { "requestIp": "127.0.0.1" } })).into_response();
    }
    let expires = header(&headers, "token")
        .and_then(|t| s.access_tokens.get(t))
        .map(|e| e.saturating_duration_since(Instant::now()).as_secs());
    let mut token = json!({ "ownerId": 54321, "scopes": s.scopes, "deviceName": "hostelpulse",
        "linkedProperties": false, "onlyPropertyId": null, "whiteListOnly": false, "whiteList": [] });
    // A long-life token has no expiry to give: the field is left out (the spec types it integer).
    if let Some(expires) = expires {
        token["expiresIn"] = json!(expires);
    }
    axum::Json(json!({ "validToken": true, "token": token, "diagnostics": { "requestIp": "127.0.0.1" } }))
        .into_response()
}

fn parse_modified(v: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(v).ok().map(|t| t.with_timezone(&Utc)))
}

fn field_date(b: &Value, key: &str) -> Option<NaiveDate> {
    b[key].as_str()?.parse().ok()
}

/// One page already cut out of a list: `more` says whether another follows.
fn page_of(kind: &str, data: Vec<Value>, more: bool, page: usize, link: impl Fn(usize) -> String) -> Response {
    axum::Json(json!({ "success": true, "type": kind, "count": data.len(),
        "pages": { "nextPageExists": more, "nextPageLink": if more { Value::String(link(page + 1)) } else { Value::Null } }, "data": data }))
    .into_response()
}

fn list(kind: &str, rows: Vec<Value>, page: usize, link: impl Fn(usize) -> String) -> Response {
    let total = rows.len();
    let start = (page.max(1) - 1) * PAGE_SIZE;
    let data: Vec<Value> = rows.into_iter().skip(start).take(PAGE_SIZE).collect();
    let more = start + data.len() < total;
    axum::Json(json!({ "success": true, "type": kind, "count": data.len(),
        "pages": { "nextPageExists": more, "nextPageLink": if more { Value::String(link(page.max(1) + 1)) } else { Value::Null } }, "data": data }))
    .into_response()
}

async fn get_bookings(State(shared): State<Shared>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Read) {
        return r.into_response();
    }
    let p = params(&q);
    let ids: Vec<u64> = all(&p, "id").filter_map(|v| v.parse().ok()).collect();
    let mut statuses: Vec<&str> = all(&p, "status").collect();
    if statuses.is_empty() {
        // The spec's default hides cancelled bookings.
        statuses = vec!["confirmed", "request", "new", "black", "inquiry"];
    }
    let (af, at, df, dt) =
        (date(&p, "arrivalFrom"), date(&p, "arrivalTo"), date(&p, "departureFrom"), date(&p, "departureTo"));
    let modified = one(&p, "modifiedFrom").and_then(parse_modified);
    let no_criteria = ids.is_empty() && [af, at, df, dt].iter().all(Option::is_none) && modified.is_none();
    let personal = s.scopes.iter().any(|x| x == "read:bookings-personal" || x == "all:bookings-personal");
    let info = one(&p, "includeInfoItems") == Some("true");
    let today = s.today;
    let page = one(&p, "page").and_then(|v| v.parse().ok()).unwrap_or(1usize).max(1);
    let page = match s.repeat_pages_after {
        Some(n) if page > n => n,
        _ => page,
    };
    // The matching ids are listed once per read; each page then copies and trims only its own
    // rows (and one more, to know whether a next page exists).
    let query: String =
        q.as_deref().unwrap_or("").split('&').filter(|kv| !kv.starts_with("page=")).collect::<Vec<_>>().join("&");
    let generation = s.generation;
    let ids = match s.listing.take() {
        Some(l) if l.query == query && l.generation == generation => l.ids,
        _ => s
            .bookings
            .iter()
            .filter(|(_, b)| statuses.contains(&b["status"].as_str().unwrap_or("")))
            .filter(|(_, b)| ids.is_empty() || b["id"].as_u64().is_some_and(|id| ids.contains(&id)))
            .filter(|(_, b)| af.is_none_or(|d| field_date(b, "arrival").is_some_and(|a| a >= d)))
            .filter(|(_, b)| at.is_none_or(|d| field_date(b, "arrival").is_some_and(|a| a <= d)))
            .filter(|(_, b)| df.is_none_or(|d| field_date(b, "departure").is_some_and(|x| x >= d)))
            .filter(|(_, b)| dt.is_none_or(|d| field_date(b, "departure").is_some_and(|x| x <= d)))
            .filter(|(_, b)| {
                modified.is_none_or(|m| b["modifiedTime"].as_str().and_then(parse_modified).is_some_and(|t| t >= m))
            })
            // With no criteria the API returns only upcoming bookings.
            .filter(|(_, b)| !no_criteria || field_date(b, "departure").is_some_and(|d| d >= today))
            .map(|(id, _)| *id)
            .collect::<Vec<u64>>(),
    };
    let mut rows: Vec<Value> = ids
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE + 1)
        .filter_map(|id| s.bookings.get(id))
        .map(|b| {
            let mut b = b.clone();
            if let Some(o) = b.as_object_mut() {
                if !personal {
                    PERSONAL.iter().for_each(|k| {
                        o.remove(*k);
                    });
                }
                if !info {
                    o.remove("infoItems");
                }
            }
            b
        })
        .collect();
    s.listing = Some(Listing { query, generation, ids });
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    let base = q.clone().unwrap_or_default();
    page_of("booking", rows, more, page, |n| format!("https://api.beds24.com/v2/bookings?{base}&page={n}"))
}

/// `maxLength` of the booking's text fields in the Beds24 v2 spec (`BookingPost`).
const TEXT_LIMITS: &[(&str, usize)] = &[
    ("title", 100),
    ("firstName", 100),
    ("lastName", 100),
    ("email", 100),
    ("phone", 100),
    ("mobile", 100),
    ("address", 250),
    ("comments", 1000),
    ("notes", 2000),
    ("message", 1000),
    ("groupNote", 5000),
];

fn apply_item(s: &mut Account, item: &Value, allow_webhooks: &mut Vec<u64>) -> Value {
    let Some(obj) = item.as_object() else {
        return json!({ "success": false, "errors": [{ "action": "parse", "message": "item is not an object" }] });
    };
    // The spec's length limits on booking text fields: an item over one is refused whole.
    if let Some((field, max)) = TEXT_LIMITS
        .iter()
        .find(|(f, max)| obj.get(*f).and_then(Value::as_str).is_some_and(|v| v.chars().count() > *max))
    {
        return json!({ "success": false, "errors": [{ "action": "modify", "field": field, "message": format!("{field} is longer than {max} characters") }] });
    }
    let mut errors = Vec::new();
    let (id, is_new) = match obj.get("id").and_then(Value::as_u64) {
        Some(id) if s.bookings.contains_key(&id) => (id, false),
        Some(id) => {
            return json!({ "success": false, "errors": [{ "action": "modify", "field": "id", "message": format!("booking {id} not found") }] });
        }
        None => {
            let valid = obj.get("roomId").and_then(Value::as_u64).and_then(|r| s.room_qty(r)).is_some()
                && obj.get("arrival").and_then(Value::as_str).and_then(|d| d.parse::<NaiveDate>().ok()).is_some()
                && obj.get("departure").and_then(Value::as_str).and_then(|d| d.parse::<NaiveDate>().ok()).is_some();
            if !valid {
                return json!({ "success": false, "errors": [{ "action": "new booking", "field": "roomId", "message": "roomId, arrival and departure are required" }] });
            }
            let mut b = json!({ "status": "confirmed", "subStatus": "none", "numAdult": 1, "numChild": 0, "notes": "", "comments": "" });
            for (k, v) in obj.iter().filter(|(k, _)| !matches!(k.as_str(), "infoItems" | "actions")) {
                b[k] = v.clone();
            }
            (s.insert(b, Utc::now()), true)
        }
    };
    let next_info = &mut s.next_info_id;
    let mut new_infos = Vec::new();
    for info in obj.get("infoItems").and_then(Value::as_array).into_iter().flatten() {
        match (info.get("id").and_then(Value::as_u64), info.get("code").and_then(Value::as_str)) {
            (Some(iid), None) => new_infos.push((Some(iid), None)),
            (_, Some(code)) if !code.trim().is_empty() => {
                *next_info += 1;
                new_infos.push((None, Some(json!({ "id": *next_info, "code": code, "text": info.get("text").cloned().unwrap_or(json!("")), "bookingId": id, "createTime": ts(Utc::now()) }))));
            }
            _ => errors.push(json!({ "action": "infoItems", "field": "code", "message": "invalid info item" })),
        }
    }
    let Some(b) = s.touch(id) else { return json!({ "success": false }) };
    if !is_new {
        for (k, v) in obj.iter().filter(|(k, _)| !matches!(k.as_str(), "id" | "infoItems" | "actions")) {
            b[k] = v.clone();
        }
        if obj.contains_key("status") {
            let cancelled = b["status"] == "cancelled";
            b["cancelTime"] = if cancelled { json!(ts(Utc::now())) } else { Value::Null };
        }
    }
    let items = b["infoItems"].as_array_mut();
    if let Some(items) = items {
        for (del, add) in new_infos {
            if let Some(iid) = del {
                items.retain(|i| i["id"].as_u64() != Some(iid));
            }
            if let Some(add) = add {
                items.push(add);
            }
        }
    }
    if obj.get("actions").and_then(|a| a.get("allowWebhooks")).and_then(Value::as_bool) == Some(true) {
        allow_webhooks.push(id);
    }
    let key = if is_new { "new" } else { "modified" };
    let mut out = json!({ "success": errors.is_empty(), key: { "id": id } });
    if !errors.is_empty() {
        out["errors"] = json!(errors);
        out["warnings"] = json!([]);
    }
    out
}

async fn post_bookings(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (results, hooks) = {
        let mut s = shared.lock();
        if let Err(r) = authorize(&mut s, &headers, Access::Write("bookings")) {
            return r.into_response();
        }
        let items = match json_array(&body) {
            Ok(items) => items,
            Err(d) => return d.into_response(),
        };
        let mut hooks = Vec::new();
        let results: Vec<Value> = items.iter().map(|i| apply_item(&mut s, i, &mut hooks)).collect();
        (results, hooks)
    };
    for id in hooks {
        shared.fire_webhook(id);
    }
    (StatusCode::CREATED, axum::Json(Value::Array(results))).into_response()
}

async fn delete_bookings(State(shared): State<Shared>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Write("bookings")) {
        return r.into_response();
    }
    let p = params(&q);
    s.generation += 1;
    let results: Vec<Value> = all(&p, "id")
        .filter_map(|v| v.parse::<u64>().ok())
        .map(|id| match s.bookings.remove(&id) {
            Some(_) => json!({ "success": true, "deleted": { "id": id } }),
            None => json!({ "success": false, "errors": [{ "action": "delete", "field": "id", "message": format!("booking {id} not found") }] }),
        })
        .collect();
    (StatusCode::CREATED, axum::Json(Value::Array(results))).into_response()
}

async fn get_properties(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Read) {
        return r.into_response();
    }
    list("property", vec![s.property.clone()], 1, |_| String::new())
}

async fn post_properties(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Write("properties")) {
        return r.into_response();
    }
    let items = match json_array(&body) {
        Ok(items) => items,
        Err(d) => return d.into_response(),
    };
    let mut results = Vec::new();
    for item in items {
        if item["id"] != s.property_id() {
            results.push(json!({ "success": false, "errors": [{ "field": "id", "message": "unknown property" }] }));
            continue;
        }
        for rt in item["roomTypes"].as_array().into_iter().flatten() {
            let Some(room) =
                s.property["roomTypes"].as_array_mut().and_then(|a| a.iter_mut().find(|r| r["id"] == rt["id"]))
            else {
                continue;
            };
            for u in rt["units"].as_array().into_iter().flatten() {
                if let Some(unit) = room["units"].as_array_mut().and_then(|a| a.iter_mut().find(|x| x["id"] == u["id"]))
                    && let Some(text) = u.get("statusText")
                {
                    unit["statusText"] = text.clone();
                }
            }
        }
        results.push(json!({ "success": true, "modified": { "id": s.property_id() } }));
    }
    (StatusCode::CREATED, axum::Json(Value::Array(results))).into_response()
}

/// Units free per room and night: quantity minus the bookings that hold inventory that night.
fn free(s: &Account, room: u64, night: NaiveDate) -> i64 {
    let qty = s.room_qty(room).unwrap_or(0) as i64;
    let taken = s
        .bookings
        .values()
        .filter(|b| {
            b["roomId"] == room
                && HOLDS_INVENTORY.contains(&b["status"].as_str().unwrap_or(""))
                && b["subStatus"] != "noShow"
        })
        .filter(|b| {
            field_date(b, "arrival").is_some_and(|a| a <= night)
                && field_date(b, "departure").is_some_and(|d| night < d)
        })
        .count() as i64;
    qty - taken
}

fn rooms_asked(s: &Account, p: &[(String, String)]) -> Vec<u64> {
    let asked: Vec<u64> = all(p, "roomId").filter_map(|v| v.parse().ok()).collect();
    if !asked.is_empty() {
        return asked;
    }
    s.property["roomTypes"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_u64()).collect()
}

async fn calendar(State(shared): State<Shared>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Read) {
        return r.into_response();
    }
    let p = params(&q);
    let (Some(start), Some(end)) = (date(&p, "startDate"), date(&p, "endDate")) else {
        return error(StatusCode::BAD_REQUEST, "startDate and endDate are required");
    };
    let with_avail = one(&p, "includeNumAvail") == Some("true");
    let rows: Vec<Value> = rooms_asked(&s, &p)
        .into_iter()
        .map(|room| {
            // Consecutive equal nights are merged; `to` is inclusive.
            let mut ranges: Vec<Value> = Vec::new();
            if with_avail {
                for night in start.iter_days().take_while(|d| *d <= end) {
                    let n = free(&s, room, night);
                    match ranges.last_mut() {
                        Some(last) if last["numAvail"] == n => last["to"] = json!(night.to_string()),
                        _ => ranges.push(json!({ "from": night.to_string(), "to": night.to_string(), "numAvail": n })),
                    }
                }
            }
            json!({ "propertyId": s.property_id(), "roomId": room, "calendar": ranges })
        })
        .collect();
    list("calendar", rows, 1, |_| String::new())
}

async fn availability(State(shared): State<Shared>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let mut s = shared.lock();
    if let Err(r) = authorize(&mut s, &headers, Access::Read) {
        return r.into_response();
    }
    let p = params(&q);
    let (Some(start), Some(end)) = (date(&p, "startDate"), date(&p, "endDate")) else {
        return error(StatusCode::BAD_REQUEST, "startDate and endDate are required");
    };
    let rows: Vec<Value> = rooms_asked(&s, &p)
        .into_iter()
        .map(|room| {
            let days: serde_json::Map<String, Value> = start
                .iter_days()
                .take_while(|d| *d <= end)
                .map(|d| (d.to_string(), json!(free(&s, room, d) > 0)))
                .collect();
            json!({ "roomId": room, "propertyId": s.property_id(), "availability": days })
        })
        .collect();
    list("availability", rows, 1, |_| String::new())
}

/// Delivers a v2 booking webhook, retrying like Beds24 does on failure.
pub(super) async fn deliver(client: reqwest::Client, url: String, header: Option<(String, String)>, booking: Value) {
    let body = json!({ "timeStamp": ts(Utc::now()), "retries": 0, "booking": booking, "infoItems": [], "invoiceItems": [], "messages": [] });
    for attempt in 0..4u32 {
        let mut req = client.post(&url).header("content-type", "application/json").body(body.to_string());
        if let Some((n, v)) = &header {
            req = req.header(n, v);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return,
            _ => tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await,
        }
    }
    tracing::warn!(%url, "beds24 emulator: webhook not accepted after retries");
}
