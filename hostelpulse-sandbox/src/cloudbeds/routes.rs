//! The emulated Cloudbeds PMS API v1.3 methods, dispatched by name (`/api/v1.3/{method}`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::Inner;
use super::state::{Property, State as Account, local};
use crate::query::{header, one, params};

type Shared = Arc<Inner>;

pub(super) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/api/v1.3/{method}", any(dispatch))
        .route("/api/v1.1/oauth", axum::routing::get(authorize))
        .with_state(shared)
}

/// The authorization page, with the owner's consent given at once for the first property:
/// redirects to `redirect_uri` with a code (and the `state` it was given).
async fn authorize(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let p = params(&query);
    let mut s = shared.lock();
    if one(&p, "client_id") != Some(s.client.0.as_str()) || one(&p, "response_type") != Some("code") {
        return (StatusCode::BAD_REQUEST, "unknown client or response type").into_response();
    }
    let Some(redirect) = one(&p, "redirect_uri").and_then(|u| url::Url::parse(u).ok()) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let Some(property) = s.properties.keys().next().cloned() else {
        return (StatusCode::BAD_REQUEST, "no property").into_response();
    };
    s.minted += 1;
    let code = format!("code-{}", s.minted);
    s.codes.insert(code.clone(), property);
    s.code_scopes.insert(code.clone(), one(&p, "scope").unwrap_or_default().to_owned());
    let mut to = redirect;
    to.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = one(&p, "state") {
        to.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(axum::http::header::LOCATION, to.to_string())]).into_response()
}

/// The scope line to answer with: the scopes granted, when some asked for were withheld.
fn granted(s: &Account, asked: &str) -> Option<String> {
    let asked: Vec<&str> = asked.split_whitespace().collect();
    let kept: Vec<&str> = asked.iter().copied().filter(|a| !s.withheld.iter().any(|w| w == a)).collect();
    (kept.len() != asked.len()).then(|| kept.join(" "))
}

fn ok(data: Value) -> Response {
    axum::Json(json!({ "success": true, "data": data })).into_response()
}

fn fail(message: &str) -> Response {
    axum::Json(json!({ "success": false, "message": message })).into_response()
}

fn denied_box(message: &str) -> Box<Response> {
    Box::new(denied(message))
}

fn denied(message: &str) -> Response {
    (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "access_denied", "message": message }))).into_response()
}

fn list(rows: Vec<Value>, p: &[(String, String)], default_size: usize, max_size: usize) -> Response {
    let size = one(p, "pageSize").and_then(|v| v.parse::<usize>().ok()).unwrap_or(default_size).clamp(1, max_size);
    let page = one(p, "pageNumber").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let total = rows.len();
    let data: Vec<Value> = rows.into_iter().skip((page - 1) * size).take(size).collect();
    axum::Json(json!({ "success": true, "data": data, "count": data.len(), "total": total })).into_response()
}

/// The property a request is about: `propertyID`/`propertyIDs`, the header, or the credential's own.
fn property_of(p: &[(String, String)], headers: &HeaderMap, own: &str) -> String {
    one(p, "propertyID")
        .or_else(|| one(p, "propertyIDs"))
        .or_else(|| header(headers, "x-property-id"))
        .unwrap_or(own)
        .split(',')
        .next()
        .unwrap_or(own)
        .to_owned()
}

/// Strict rate enforcement: a request over the limit in any one-second window suspends the
/// credentials, as Cloudbeds does for sustained excess.
fn admit(prop: &mut Property, limit: usize, window: Duration) -> Result<(), Box<Response>> {
    if prop.suspended {
        return Err(denied_box(
            "API credentials suspended for exceeding the rate limit; contact Cloudbeds to reinstate them",
        ));
    }
    let now = Instant::now();
    while prop.recent.front().is_some_and(|t| now.duration_since(*t) >= window) {
        prop.recent.pop_front();
    }
    if prop.recent.len() >= limit {
        prop.suspended = true;
        prop.violations += 1;
        return Err(denied_box(
            "API credentials suspended for exceeding the rate limit; contact Cloudbeds to reinstate them",
        ));
    }
    prop.recent.push_back(now);
    prop.log.push(now);
    Ok(())
}

async fn dispatch(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    http_method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let is_write = http_method == Method::POST || http_method == Method::PUT;
    if is_write && header(&headers, "content-type").is_some_and(|c| c.contains("json")) {
        return fail("JSON bodies are not accepted: send application/x-www-form-urlencoded");
    }
    let mut p = params(&q);
    if is_write {
        p.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    if name == "access_token" {
        return access_token(&shared, &p);
    }
    let mut hooks = Vec::new();
    let resp = {
        let mut s = shared.lock();
        // A group (association) key sees several properties: getHotels without a property lists
        // them all; any other call names the property it is for.
        let key = header(&headers, "x-api-key")
            .or_else(|| header(&headers, "authorization").and_then(|a| a.strip_prefix("Bearer ")));
        let group = key.and_then(|k| s.group_keys.get(k).cloned());
        if let Some(group) = &group
            && name == "getHotels"
            && one(&p, "propertyIDs").is_none()
        {
            let rows = group.iter().filter_map(|id| s.properties.get(id)).map(hotel).collect();
            return list(rows, &p, 20, 100);
        }
        let own = match (group, authenticate(&mut s, &headers)) {
            (Some(group), _) => {
                let pid = property_of(&p, &headers, group.first().map_or("", String::as_str));
                if !group.contains(&pid) {
                    return fail("None of the included property id's match the access_token user's property id");
                }
                pid
            }
            (None, Ok(own)) => own,
            (None, Err(r)) => return *r,
        };
        let pid = property_of(&p, &headers, &own);
        if pid != own {
            return fail("None of the included property id's match the access_token user's property id");
        }
        let (limit, window) = (s.rate_limit, s.rate_window);
        let today = s.today;
        let Some(prop) = s.properties.get_mut(&pid) else {
            return fail("Please specify \"propertyID\" parameter for this call");
        };
        if let Err(r) = admit(prop, limit, window) {
            return *r;
        }
        method(prop, &name, &p, today, &mut hooks)
    };
    for (url, payload) in hooks {
        tokio::spawn(super::deliver(shared.client.clone(), url, payload));
    }
    resp
}

/// A property as `getHotels` lists it.
fn hotel(prop: &Property) -> Value {
    json!({ "propertyID": prop.id, "propertyName": prop.name, "propertyTimezone": prop.tz.name(),
        "propertyCurrency": [{ "currencyCode": "EUR", "currencySymbol": "€", "currencyPosition": "after" }] })
}

fn authenticate(s: &mut Account, headers: &HeaderMap) -> Result<String, Box<Response>> {
    if let Some(key) = header(headers, "x-api-key") {
        return s
            .api_keys
            .get(key)
            .cloned()
            .ok_or_else(|| denied_box("The resource owner or authorization server denied the request."));
    }
    if let Some(token) = header(headers, "authorization").and_then(|a| a.strip_prefix("Bearer ")) {
        if let Some((prop, exp)) = s.access_tokens.get(token)
            && *exp > Instant::now()
        {
            return Ok(prop.clone());
        }
        if let Some(prop) = s.api_keys.get(token) {
            return Ok(prop.clone());
        }
    }
    Err(denied_box("The resource owner or authorization server denied the request."))
}

fn access_token(shared: &Shared, p: &[(String, String)]) -> Response {
    let mut s = shared.lock();
    if one(p, "client_id") != Some(s.client.0.as_str()) || one(p, "client_secret") != Some(s.client.1.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client", "error_description": "Client authentication failed" })),
        )
            .into_response();
    }
    let bad_code = || {
        (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "server_error", "error_description": "The authorization code is invalid or has expired." }))).into_response()
    };
    s.minted += 1;
    let n = s.minted;
    match one(p, "grant_type") {
        Some("authorization_code") | Some("urn:ietf:params:oauth:grant-type:api-key") => {
            let Some(prop) = one(p, "code").and_then(|c| s.codes.remove(c)) else { return bad_code() };
            let asked = one(p, "code").and_then(|c| s.code_scopes.remove(c)).unwrap_or_default();
            if one(p, "grant_type") == Some("authorization_code") {
                let (access, refresh) = (format!("at-{n}"), format!("rt-{n}"));
                s.access_tokens.insert(access.clone(), (prop.clone(), Instant::now() + Duration::from_secs(3600)));
                s.refresh_tokens.insert(refresh.clone(), prop.clone());
                let scope = granted(&s, &asked);
                s.refresh_scopes.insert(refresh.clone(), asked);
                let mut answer = json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh, "resources": [{ "type": "property", "id": prop }] });
                if let Some(scope) = scope {
                    answer["scope"] = json!(scope);
                }
                axum::Json(answer).into_response()
            } else {
                let key = format!("cbat_{n:0>32}");
                s.api_keys.insert(key.clone(), prop.clone());
                axum::Json(json!({ "access_token": key, "token_type": "Bearer", "resources": [{ "type": "property", "id": prop }] })).into_response()
            }
        }
        Some("refresh_token") => {
            let Some(prop) = one(p, "refresh_token").and_then(|r| s.refresh_tokens.remove(r)) else {
                return (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(
                        json!({ "error": "invalid_grant", "error_description": "The refresh token is invalid." }),
                    ),
                )
                    .into_response();
            };
            // Rotates the refresh token: the old one stops working.
            let (access, refresh) = (format!("at-{n}"), format!("rt-{n}"));
            if let Some(asked) = one(p, "refresh_token").and_then(|r| s.refresh_scopes.remove(r)) {
                s.refresh_scopes.insert(refresh.clone(), asked);
            }
            s.access_tokens.insert(access.clone(), (prop.clone(), Instant::now() + Duration::from_secs(3600)));
            s.refresh_tokens.insert(refresh.clone(), prop.clone());
            axum::Json(json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh, "resources": [{ "type": "property", "id": prop }] })).into_response()
        }
        _ => fail("unsupported grant_type"),
    }
}

fn date_of(v: &Value) -> Option<NaiveDate> {
    v.as_str()?.get(..10)?.parse().ok()
}

fn assigned(r: &Value) -> Vec<Value> {
    r["rooms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["roomID"].is_string() && x["roomStatus"] != "cancelled")
        .map(|x| json!({ "reservationRoomID": x["reservationRoomID"], "roomTypeID": x["roomTypeID"], "roomTypeName": x["roomTypeName"],
            "subReservationID": x["subReservationID"], "roomID": x["roomID"], "roomName": x["roomName"], "startDate": x["roomCheckIn"],
            "endDate": x["roomCheckOut"], "adults": x["adults"], "children": x["children"] }))
        .collect()
}

fn method(
    prop: &mut Property,
    name: &str,
    p: &[(String, String)],
    today: NaiveDate,
    hooks: &mut Vec<(String, Value)>,
) -> Response {
    match name {
        "userinfo" => axum::Json(json!({ "user_id": "123", "first_name": "Front", "last_name": "Desk", "email": "frontdesk@example.com" })).into_response(),
        "getHotels" => list(vec![hotel(prop)], p, 20, 100),
        "getRoomTypes" => list(prop.room_types.clone(), p, 20, 100),
        // count/total count properties here, not rooms.
        "getRooms" => list(vec![json!({ "propertyID": prop.id, "rooms": prop.rooms })], p, 20, 100),
        "getReservationsWithRateDetails" => {
            let ids: Option<Vec<&str>> = one(p, "reservationID").map(|v| v.split(',').map(str::trim).collect());
            let modified = one(p, "modifiedFrom").and_then(|v| NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S").ok());
            let checkout_from = one(p, "reservationCheckOutFrom").and_then(|v| v.parse::<NaiveDate>().ok());
            let deleted = one(p, "includeDeleted") == Some("true");
            let rows: Vec<Value> = prop
                .reservations
                .values()
                .filter(|r| deleted || r["isDeleted"] != true)
                .filter(|r| ids.as_ref().is_none_or(|ids| ids.contains(&r["reservationID"].as_str().unwrap_or(""))))
                // modifiedFrom is read in property-local time.
                .filter(|r| modified.is_none_or(|m| r["dateModified"].as_str().and_then(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M:%S").ok()).is_some_and(|d| d >= m)))
                .filter(|r| checkout_from.is_none_or(|c| date_of(&r["reservationCheckOut"]).is_some_and(|d| d >= c)))
                .cloned()
                .collect();
            list(rows, p, 100, 100)
        }
        "getReservation" => {
            let Some(r) = one(p, "reservationID").and_then(|id| prop.reservations.get(id)).filter(|r| r["isDeleted"] != true) else {
                return fail("Reservation not found");
            };
            let mut d = r.clone();
            d["assigned"] = json!(assigned(r));
            d["unassigned"] = json!([]);
            d["startDate"] = json!(date_of(&r["reservationCheckIn"]).map(|d| d.to_string()));
            d["endDate"] = json!(date_of(&r["reservationCheckOut"]).map(|d| d.to_string()));
            // Here `source` is the source's name, a string (the spec and the real answer); the
            // list calls carry the object form.
            d["source"] = r["sourceName"].clone();
            d["guestName"] = r["rooms"][0]["guestName"].clone();
            d["guestEmail"] = r["guestList"].as_object().and_then(|g| g.values().next()).map(|g| g["guestEmail"].clone()).unwrap_or(Value::Null);
            ok(d)
        }
        "getReservationAssignments" => {
            let night = one(p, "date").and_then(|v| v.parse::<NaiveDate>().ok()).unwrap_or(today);
            let rows: Vec<Value> = prop
                .reservations
                .values()
                .filter(|r| r["isDeleted"] != true && r["status"] != "canceled" && r["status"] != "no_show")
                .filter(|r| date_of(&r["reservationCheckIn"]).is_some_and(|a| a <= night) && date_of(&r["reservationCheckOut"]).is_some_and(|d| night < d))
                .map(|r| {
                    let assigned: Vec<Value> = assigned(r)
                        .into_iter()
                        .map(|mut a| {
                            let dorm = prop.rooms.iter().find(|x| x["roomID"] == a["roomID"]).map(|x| x["dormRoomName"].clone()).unwrap_or(Value::Null);
                            a["dormRoomName"] = dorm;
                            a
                        })
                        .collect();
                    json!({ "propertyID": prop.id, "reservationID": r["reservationID"], "guestName": r["rooms"][0]["guestName"], "status": r["status"],
                        "startDate": date_of(&r["reservationCheckIn"]).map(|d| d.to_string()), "endDate": date_of(&r["reservationCheckOut"]).map(|d| d.to_string()),
                        // A count here (an array in getReservation): every emulated stay has its rooms.
                        "assigned": assigned, "unassigned": 0 })
                })
                .collect();
            axum::Json(json!({ "success": true, "data": rows })).into_response()
        }
        "getRatePlans" => {
            let (Some(start), Some(end)) = (one(p, "startDate").and_then(|v| v.parse::<NaiveDate>().ok()), one(p, "endDate").and_then(|v| v.parse::<NaiveDate>().ok())) else {
                return fail("startDate and endDate are required");
            };
            let plans: Vec<Value> = prop
                .room_types
                .iter()
                .map(|t| {
                    let tid = t["roomTypeID"].as_str().unwrap_or("");
                    let units = prop.rooms.iter().filter(|r| r["roomTypeID"] == tid).count() as i64;
                    let days: Vec<Value> = start
                        .iter_days()
                        .take_while(|d| *d < end)
                        .map(|d| {
                            let taken = prop
                                .reservations
                                .values()
                                .filter(|r| r["isDeleted"] != true && r["status"] != "canceled" && r["status"] != "no_show")
                                .flat_map(|r| r["rooms"].as_array().cloned().unwrap_or_default())
                                .filter(|x| x["roomTypeID"] == tid && x["roomStatus"] != "cancelled")
                                .filter(|x| date_of(&x["roomCheckIn"]).is_some_and(|a| a <= d) && date_of(&x["roomCheckOut"]).is_some_and(|b| d < b))
                                .count() as i64;
                            json!({ "date": d.to_string(), "rateBase": 28.0, "totalRate": 28.0, "roomsAvailable": units - taken, "closedToArrival": false, "closedToDeparture": false, "blocked": false })
                        })
                        .collect();
                    json!({ "rateID": format!("r-{tid}"), "roomTypeID": tid, "propertyID": prop.id, "ratePlanNamePublic": "Standard", "roomRateDetailed": days })
                })
                .collect();
            axum::Json(json!({ "success": true, "data": plans })).into_response()
        }
        "getHousekeepingStatus" => {
            let rows: Vec<Value> = prop
                .rooms
                .iter()
                .map(|r| {
                    let rid = r["roomID"].as_str().unwrap_or("");
                    let hk = prop.housekeeping.get(rid).cloned().unwrap_or_else(|| json!({}));
                    let occupied = prop.reservations.values().any(|x| {
                        x["isDeleted"] != true
                            && x["rooms"].as_array().into_iter().flatten().any(|y| y["roomID"] == rid && y["roomStatus"] == "in_house")
                    });
                    json!({ "date": today.to_string(), "roomTypeID": r["roomTypeID"], "roomTypeName": r["roomTypeName"], "roomID": rid, "roomName": r["roomName"],
                        "roomCondition": hk["roomCondition"], "roomOccupied": occupied, "roomBlocked": false, "frontdeskStatus": "unused",
                        "housekeeperID": "0", "housekeeper": "", "doNotDisturb": hk["doNotDisturb"], "refusedService": false, "vacantPickup": false, "roomComments": hk["roomComments"] })
                })
                .collect();
            list(rows, p, 100, 5000)
        }
        "postHousekeepingStatus" => {
            let Some(rid) = one(p, "roomID").filter(|r| prop.housekeeping.contains_key(*r)) else { return fail("Invalid roomID") };
            let condition = one(p, "roomCondition").unwrap_or("clean");
            if !["clean", "dirty", "inspected"].contains(&condition) {
                return fail("Invalid roomCondition");
            }
            let hk = prop.housekeeping.entry(rid.to_owned()).or_insert_with(|| json!({}));
            hk["roomCondition"] = json!(condition);
            if let Some(c) = one(p, "roomComments") {
                hk["roomComments"] = json!(c);
            }
            let data = json!({ "date": today.to_string(), "roomID": rid, "roomCondition": condition, "roomComments": hk["roomComments"], "doNotDisturb": hk["doNotDisturb"] });
            hooks.extend(prop.subscribers("housekeeping", "room_condition_changed", json!({ "roomId": rid, "roomId_str": rid, "condition": condition })));
            ok(data)
        }
        "postRoomCheckIn" | "postRoomCheckOut" => {
            let (Some(id), Some(sub)) = (one(p, "reservationID"), one(p, "subReservationID")) else { return fail("reservationID and subReservationID are required") };
            let check_in = name == "postRoomCheckIn";
            let Some(r) = prop.touch(id) else { return fail("Reservation not found") };
            let Some(room) = r["rooms"].as_array_mut().and_then(|a| a.iter_mut().find(|x| x["subReservationID"] == sub)) else { return fail("Room not found") };
            if check_in && !room["roomID"].is_string() {
                return fail("Room must be assigned before check-in");
            }
            room["roomStatus"] = json!(if check_in { "in_house" } else { "checked_out" });
            let all_out = r["rooms"].as_array().into_iter().flatten().all(|x| x["roomStatus"] == "checked_out" || x["roomStatus"] == "cancelled");
            r["status"] = json!(if check_in { "checked_in" } else if all_out { "checked_out" } else { "checked_in" });
            let status = r["status"].clone();
            hooks.extend(prop.subscribers("reservation", "status_changed", json!({ "reservationID": id, "status": status })));
            axum::Json(json!({ "success": true })).into_response()
        }
        "postReservationNote" => {
            let (Some(id), Some(text)) = (one(p, "reservationID"), one(p, "reservationNote")) else { return fail("reservationID and reservationNote are required") };
            if !prop.reservations.contains_key(id) {
                return fail("Reservation not found");
            }
            if hostelpulse_core::privacy::has_card_number(text) {
                return fail("It's strictly forbidden to send unencrypted payment data through the API");
            }
            let notes = prop.notes.entry(id.to_owned()).or_default();
            let note_id = format!("55{:0>5}", notes.len() + 1);
            notes.push(json!({ "reservationNoteID": note_id, "reservationNote": text, "dateCreated": local(prop.tz, Utc::now()) }));
            axum::Json(json!({ "success": true, "reservationNoteID": note_id })).into_response()
        }
        "getReservationNotes" => {
            let notes = one(p, "reservationID").and_then(|id| prop.notes.get(id)).cloned().unwrap_or_default();
            ok(json!(notes))
        }
        "putReservation" => {
            let (Some(id), Some(status)) = (one(p, "reservationID"), one(p, "status")) else { return fail("reservationID and status are required") };
            if !["confirmed", "not_confirmed", "canceled", "checked_in", "checked_out", "no_show"].contains(&status) {
                return fail("Invalid status");
            }
            let Some(r) = prop.touch(id) else { return fail("Reservation not found") };
            r["status"] = json!(status);
            let data = r.clone();
            hooks.extend(prop.subscribers("reservation", "status_changed", json!({ "reservationID": id, "status": status })));
            axum::Json(json!({ "success": true, "message": "", "data": data })).into_response()
        }
        "postWebhook" => {
            let (Some(object), Some(action), Some(url)) = (one(p, "object"), one(p, "action"), one(p, "endpointUrl")) else { return fail("object, action and endpointUrl are required") };
            // Above every id in use: after a removal the count of subscriptions may name a live one.
            let next = prop.webhooks.iter().filter_map(|w| w.0.strip_prefix("sub")?.parse::<u64>().ok()).max().unwrap_or(0) + 1;
            let id = format!("sub{next:0>10}");
            prop.webhooks.push((id.clone(), object.to_owned(), action.to_owned(), url.to_owned()));
            ok(json!({ "subscriptionID": id }))
        }
        "getWebhooks" => ok(json!(prop
            .webhooks
            .iter()
            .map(|(id, o, a, url)| json!({ "id": id, "key": { "type": "property", "id": prop.id }, "event": { "entity": o, "action": a },
                "owner": { "type": "client", "id": "hostelpulse" }, "subscriptionType": "webhook", "subscriptionData": { "endpoint": url } }))
            .collect::<Vec<_>>())),
        "deleteWebhook" => {
            let Some(id) = one(p, "subscriptionID") else { return fail("subscriptionID is required") };
            let before = prop.webhooks.len();
            prop.webhooks.retain(|w| w.0 != id);
            if prop.webhooks.len() == before {
                return fail("Subscription not found");
            }
            axum::Json(json!({ "success": true })).into_response()
        }
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({ "success": false, "message": format!("unknown method {name}") }))).into_response(),
    }
}

impl Property {
    /// Webhook deliveries for `object/action` to every subscriber, with the common envelope.
    pub(crate) fn subscribers(&self, object: &str, action: &str, extra: Value) -> Vec<(String, Value)> {
        let now = Utc::now();
        let mut payload = json!({ "version": "1.0", "event": format!("{object}/{action}"), "timestamp": now.timestamp_micros() as f64 / 1e6,
            "propertyID": self.id.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(self.id)), "propertyID_str": self.id });
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.webhooks
            .iter()
            .filter(|w| w.1 == object && w.2 == action)
            .map(|w| (w.3.clone(), payload.clone()))
            .collect()
    }
}
