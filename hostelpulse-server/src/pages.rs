//! The owner's pages, rendered on the server (no JavaScript): the dashboard, an account's run
//! history, the Today board and the mapping page. Forms post back and redirect, so every action
//! works with a keyboard, on a phone, and without scripts.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::Console;
use crate::api::{self, ConfirmRequest};
use crate::problem::Problem;

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/", get(dashboard))
        .route("/runs", get(history))
        .route("/capabilities", get(capabilities))
        .route("/sync", axum::routing::post(sync_form))
        .route("/board", get(board))
        .route("/mapping", get(mapping).post(mapping_form))
        .layer(axum::middleware::from_fn(same_site_forms))
}

/// Refuses a form posted from another site. Open on loopback (no token), the console could
/// otherwise be driven by any page its owner visits; browsers say where a request comes from
/// (`Sec-Fetch-Site`, else `Origin`). Requests without either (programs) are not browsers'.
pub(crate) async fn same_site_forms(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{Method, header};
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let cross = match site {
            Some(s) => !matches!(s, "same-origin" | "none"),
            None => match (
                headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
                headers.get(header::HOST).and_then(|v| v.to_str().ok()),
            ) {
                (Some(origin), Some(host)) => {
                    origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/')) != Some(host)
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
        };
        if cross {
            return problem_page(Problem::new(
                StatusCode::FORBIDDEN,
                "cross-site",
                "a form from another site was refused",
            ));
        }
    }
    next.run(request).await
}

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4d4d4d; --line: #c9c9c9; --bad: #a3000b; --ok: #0b6b2e; --warn: #7a4a00; --accent: #0b4f9c; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: #fff; margin: 0; }
header { background: #0b2e59; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; }
header a { color: #fff; font-weight: 600; }
header .brand { font-size: 1.1rem; margin-right: auto; }
main { padding: 1rem; max-width: 72rem; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #ffb000; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: .5rem; top: .5rem; background: #fff; color: #000; padding: .25rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; } thead th { background: #f2f2f2; }
.bad { color: var(--bad); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
tr.unmapped { background: #fff3d6; }
button { font: inherit; padding: .35rem .8rem; min-height: 2.5rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
input, select { font: inherit; padding: .3rem; min-height: 2.5rem; border: 1px solid #767676; border-radius: 4px; max-width: 100%; }
form.inline { display: flex; flex-wrap: wrap; gap: .4rem; align-items: end; margin: 0; }
label { display: block; font-size: .9rem; color: var(--muted); }
.notice { border-left: 4px solid var(--warn); background: #fff8e6; padding: .5rem .75rem; margin: .5rem 0; }
.muted { color: var(--muted); }
@media (max-width: 40rem) {
  th, td { padding: .35rem .3rem; font-size: .95rem; } main { padding: .5rem; }
  /* Narrow screens: each row of a wide table becomes a card, its cells one under the other. */
  table.stack, table.stack tbody, table.stack tr, table.stack th, table.stack td { display: block; width: 100%; }
  table.stack thead { position: absolute; left: -9999px; }
  table.stack tr { border-bottom: 2px solid var(--line); padding: .4rem 0; }
  table.stack td, table.stack th { border: 0; padding: .1rem .3rem; }
  table.stack caption { display: block; text-align: left; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
"#;

pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — hostelpulse" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "hostelpulse" }
                    nav aria-label="Main" {
                        a href="./" { "Sync status" } " · "
                        a href="board" { "Today" } " · "
                        a href="mapping" { "Room mapping" }
                    }
                }
                main #main { h1 { (title) } (body) }
            }
        }
    }
}

fn problem_page(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, page(&p.title, html! { p.bad role="alert" { (p.detail) } })).into_response()
}

/// "5 minutes ago", "3 hours ago", "2 days ago".
pub(crate) fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - t).num_seconds();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match s {
        i64::MIN..=44 => "just now".into(),
        45..=5399 => plural(((s + 30) / 60).max(1), "minute"),
        5400..=129_599 => plural((s + 1800) / 3600, "hour"),
        _ => plural((s + 43_200) / 86_400, "day"),
    }
}

/// "in 3 minutes" for a time ahead, else as [`ago`].
fn ago_or_in(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t <= now {
        return ago(t, now);
    }
    match ago(now - (t - now), now).strip_suffix(" ago") {
        Some(span) => format!("in {span}"),
        None => "now".into(),
    }
}

fn duration(secs: i64) -> String {
    match secs {
        ..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

#[derive(Debug, Deserialize)]
struct DashboardQuery {
    queued: Option<String>,
}

async fn dashboard(State(console): State<Console>, Query(q): Query<DashboardQuery>) -> Response {
    let lines = match api::account_lines(&console).await {
        Ok(l) => l,
        Err(p) => return problem_page(p),
    };
    let now = Utc::now();
    let can_sync = console.inner.runtime.is_some();
    let has_registry = console.inner.registry.is_some();
    page(
        "Sync status",
        html! {
            @if let Some(a) = &q.queued {
                p.notice role="status" { "A sync of " strong { (a) } " is queued; it shows below once it has run." }
            }
            @if lines.is_empty() {
                p { "No account is configured." }
            } @else {
                div.scroll {
                    table.stack {
                        caption.muted { "One line per account: last success, lag and failures in a row." }
                        thead { tr {
                            th scope="col" { "Account" } th scope="col" { "Source" } th scope="col" { "Property" }
                            th scope="col" { "Status" } th scope="col" { "Last success" } th scope="col" { "Lag" }
                            @if can_sync { th scope="col" { span.muted { "Action" } } }
                        } }
                        tbody {
                            @for a in &lines {
                                tr {
                                    th scope="row" {
                                        a href={ "runs?account=" (a.id) } { (a.id) }
                                        @if has_registry { br; a.muted href={ "capabilities?account=" (a.id) } { "what it can do" } }
                                    }
                                    td data-label="Source" { (a.connector) }
                                    td data-label="Property" { (a.property) }
                                    td data-label="Status" {
                                        @if a.consecutive_failures > 0 {
                                            span.bad { "failing (" (a.consecutive_failures) " in a row)" }
                                            @if let Some(e) = &a.last_error { br; span.muted { (e) } }
                                        } @else if a.last_success.is_some() {
                                            span.ok { "ok" }
                                        } @else {
                                            span.warn { "not synced yet" }
                                        }
                                        @if let Some(b) = &a.blocked { br; span.bad { "stopped: credentials rejected — " (b) } }
                                        @for alert in &a.alerts { br; span.bad role="status" { "alert: " (alert.rule.replace('_', " ")) " — " (alert.detail) } }
                                        @if let Some(t) = a.retry_at { br; span.muted { "retry " (ago_or_in(t, now)) } }
                                        @if a.running { " " span.muted { "(syncing now)" } }
                                    }
                                    td data-label="Last success" {
                                        @match a.last_success {
                                            Some(t) => time datetime=(t.to_rfc3339()) title=(t.to_rfc3339()) { (ago(t, now)) },
                                            None => span.muted { "never" },
                                        }
                                    }
                                    td data-label="Lag" { @match a.lag_secs { Some(s) => (duration(s)), None => "—" } }
                                    @if can_sync {
                                        td {
                                            form.inline method="post" action="sync" {
                                                input type="hidden" name="account" value=(a.id);
                                                input type="hidden" name="plan" value="incremental";
                                                button type="submit" aria-label={ "Sync " (a.id) " now" } { "Sync now" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct CapabilitiesQuery {
    account: String,
    /// Ask the source what these credentials allow (one or two requests).
    check: Option<bool>,
}

/// An account's capability matrix, honest about what the source does itself, what hostelpulse
/// makes up for, and what needs another plan or scope; checked, what this connection allows.
async fn capabilities(State(console): State<Console>, Query(q): Query<CapabilitiesQuery>) -> Response {
    let c = match api::connector_of(&console, &q.account) {
        Ok(c) => c,
        Err(p) => return problem_page(p),
    };
    let declared = c.capabilities();
    let checked = if q.check.unwrap_or(false) { Some(c.check().await.map(|h| h.effective)) } else { None };
    let effective = checked.as_ref().and_then(|r| r.as_ref().ok());
    page(
        &format!("What {} can do", q.account),
        html! {
            p { (declared.name) " — "
                a href={ "runs?account=" (q.account) } { "run history" } }
            @match &checked {
                None => form method="get" action="capabilities" {
                    input type="hidden" name="account" value=(q.account);
                    input type="hidden" name="check" value="true";
                    button type="submit" { "Check this connection" }
                    " " span.muted { "(asks the source what these credentials, scopes and plan allow)" }
                },
                Some(Ok(_)) => p.notice role="status" { "Checked just now: the right-hand column is what this connection allows." },
                Some(Err(e)) => p.bad role="alert" { "The check failed: " (e) },
            }
            div.scroll {
                table.stack {
                    caption.muted { "Each operation: done by the source (native), made up for by hostelpulse (simulated), or not available and why." }
                    thead { tr {
                        th scope="col" { "Operation" } th scope="col" { "This source" }
                        @if effective.is_some() { th scope="col" { "This connection" } }
                    } }
                    tbody {
                        @for op in hostelpulse::core::capability::Operation::ALL {
                            @let d = declared.support(op);
                            tr {
                                th scope="row" { code { (op.as_str()) } }
                                td data-label="This source" class=(support_class(&d)) { (d.label()) }
                                @if let Some(e) = effective {
                                    @let s = e.support(op);
                                    td data-label="This connection" class=(support_class(&s)) { (s.label()) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "How it syncs" }
            div.scroll {
                table.stack {
                    tbody {
                        @for (name, label) in declared.sync_summary() {
                            tr { th scope="row" { (name) } td data-label=(name) { (label) } }
                        }
                    }
                }
            }
            @if !declared.uncertain.is_empty() {
                h2 { "Not certain at the source" }
                ul { @for note in &declared.uncertain { li { (note) } } }
            }
        },
    )
    .into_response()
}

fn support_class(s: &hostelpulse::core::capability::Support) -> &'static str {
    use hostelpulse::core::capability::Support;
    match s {
        Support::Native => "ok",
        Support::Simulated { .. } => "",
        Support::Unsupported { .. } => "muted",
        _ => "warn",
    }
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    account: String,
    before: Option<DateTime<Utc>>,
}

async fn history(State(console): State<Console>, Query(q): Query<HistoryQuery>) -> Response {
    let runs = match api::run_lines(&console, &q.account, 25, q.before).await {
        Ok(r) => r,
        Err(p) => return problem_page(p),
    };
    let now = Utc::now();
    page(
        &format!("Runs of {}", q.account),
        html! {
            @if runs.is_empty() { p { "No run yet." } } @else {
                div.scroll { table {
                    thead { tr {
                        th scope="col" { "Started" } th scope="col" { "Plan" } th scope="col" { "Outcome" }
                        th scope="col" { "Fetched" } th scope="col" { "New" } th scope="col" { "Changed" }
                        th scope="col" { "Cancelled" } th scope="col" { "Failed" }
                    } }
                    tbody { @for r in &runs { tr {
                        td { time datetime=(r.started_at.to_rfc3339()) title=(r.started_at.to_rfc3339()) { (ago(r.started_at, now)) } }
                        td { (r.plan) @if let Some(n) = r.rooms_changed { " " span.muted { "(" (n) " room changes)" } } }
                        td {
                            span class=(if r.outcome == "ok" { "ok" } else if r.outcome == "failed" { "bad" } else { "warn" }) { (r.outcome) }
                            @if let Some(m) = &r.message { br; span.muted { (m) } }
                        }
                        td { (r.fetched) } td { (r.inserted) } td { (r.updated) } td { (r.cancelled) } td { (r.failed) }
                    } } }
                } }
                @if runs.len() == 25 {
                    @if let Some(last) = runs.last() {
                        p { a href={ "runs?account=" (q.account) "&before=" (last.started_at.to_rfc3339().replace('+', "%2B")) } { "Older runs" } }
                    }
                }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct SyncForm {
    account: String,
    plan: String,
}

async fn sync_form(State(console): State<Console>, Form(f): Form<SyncForm>) -> Response {
    match api::queue(&console, &f.account, &f.plan) {
        Ok(q) => Redirect::to(&format!("./?queued={}", q.account)).into_response(),
        Err(p) => problem_page(p),
    }
}

#[derive(Debug, Deserialize)]
struct BoardQuery {
    property: Option<String>,
    date: Option<NaiveDate>,
}

async fn board(State(console): State<Console>, Query(q): Query<BoardQuery>) -> Response {
    let names: Vec<&str> = console.inner.properties.iter().map(|p| p.property.name.as_str()).collect();
    let Some(name) = q.property.as_deref().or(names.first().copied()) else {
        return page("Today", html! { p { "No property is configured." } }).into_response();
    };
    let b = match api::board_of(&console, name, q.date).await {
        Ok(b) => b,
        Err(p) => return problem_page(p),
    };
    let not_ready: Vec<&str> = b.not_ready().map(|r| r.name.as_str()).collect();
    let tz = console.property(name).map(|c| c.property.timezone).unwrap_or(chrono_tz::UTC);
    page(
        &format!("Today at {name}"),
        html! {
            @if names.len() > 1 {
                form.inline method="get" action="board" {
                    div { label for="property" { "Property" }
                        select #property name="property" { @for n in &names { option value=(n) selected[*n == name] { (n) } } } }
                    div { label for="date" { "Date" } input #date type="date" name="date" value=(b.date); }
                    button.secondary type="submit" { "Show" }
                }
            }
            p.muted { (b.date.format("%A %-d %B %Y")) }
            @for w in &b.warnings { p.notice role="status" { (w) } }
            section aria-labelledby="arr" {
                h2 #arr { "Arrivals (" (b.arrivals.len()) ")" }
                (stays(&b.arrivals))
            }
            section aria-labelledby="dep" {
                h2 #dep { "Departures (" (b.departures.len()) ")" }
                (stays(&b.departures))
            }
            section aria-labelledby="inh" {
                h2 #inh { "In house tonight (" (b.in_house.len()) ")" }
                (stays(&b.in_house))
            }
            section aria-labelledby="beds" {
                h2 #beds { "Free beds tonight" }
                @if b.dorms.is_empty() && b.free_rooms.is_empty() { p.muted { "No rooms known yet." } }
                ul {
                    @for d in &b.dorms { li { strong { (d.room) } " — " (d.free) " of " (d.beds) " beds free" } }
                    @for r in &b.free_rooms { li { strong { (r.room) } " (" (r.room_type) ") — free" } }
                }
            }
            section aria-labelledby="turn" {
                h2 #turn { "Rooms to turn over (" (b.turnovers.len()) ")" }
                @if !not_ready.is_empty() { p.bad role="alert" { "Not clean yet, with an arrival today: " (not_ready.join(", ")) } }
                @if b.turnovers.is_empty() { p.muted { "None today." } } @else {
                    div.scroll { table {
                        thead { tr { th scope="col" { "Room" } th scope="col" { "Due by" } th scope="col" { "Priority" } th scope="col" { "Condition" } } }
                        tbody { @for t in &b.turnovers {
                            @let label = t.host_room.as_ref().map(|h| h.name.clone()).or(t.room_label.clone()).unwrap_or_else(|| t.room.to_string());
                            @let condition = b.rooms.iter().find(|r| r.unit.id == t.room).and_then(|r| r.condition);
                            tr {
                                th scope="row" { (label) }
                                td { (t.due_by.with_timezone(&tz).format("%H:%M")) }
                                td { (serde_plain(&t.priority)) }
                                td { @match condition { Some(c) => (serde_plain(&c)), None => span.muted { "unknown" } } }
                            }
                        } }
                    } }
                }
            }
            @if !b.rooms.is_empty() {
                section aria-labelledby="rooms" {
                    h2 #rooms { "Rooms" }
                    div.scroll { table {
                        thead { tr { th scope="col" { "Room" } th scope="col" { "Condition" } th scope="col" { "Occupancy" } th scope="col" { "Arrival today" } } }
                        tbody { @for r in &b.rooms { tr {
                            th scope="row" { (r.name) }
                            td { @match r.condition { Some(c) => span class=(if r.must_be_ready() { "bad" } else { "" }) { (serde_plain(&c)) }, None => span.muted { "—" } } }
                            td { @match r.occupancy { Some(o) => (serde_plain(&o)), None => "—" } }
                            td { @if r.arrival_today { "yes" } @else { "" } }
                        } } }
                    } }
                }
            }
            @if !b.unmapped.is_empty() {
                p.notice { "Not mapped to your rooms yet: " (b.unmapped.join(", ")) ". " a href="mapping" { "Map them" } }
            }
        },
    )
    .into_response()
}

fn stays(lines: &[hostelpulse::board::StayLine]) -> Markup {
    html! {
        @if lines.is_empty() { p.muted { "None." } } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Guest" } th scope="col" { "Where" } th scope="col" { "Stay" } th scope="col" { "Channel" } } }
                tbody { @for s in lines { tr {
                    th scope="row" { (s.guest.as_deref().unwrap_or("(no name)")) }
                    td { @if s.units.is_empty() { span.warn { "unallocated" } } @else { (s.units.join(", ")) } }
                    td { (s.arrival.format("%-d %b")) " → " (s.departure.format("%-d %b")) }
                    td { @match &s.channel { Some(c) => (serde_plain(c)), None => span.muted { "—" } } }
                } } }
            } }
        }
    }
}

/// An enum's serialized name for a person (`booking_com` → `booking com`).
fn serde_plain(v: &impl serde::Serialize) -> String {
    api::serde_plain(v).replace('_', " ")
}

async fn mapping(State(console): State<Console>) -> Response {
    let view = match api::mapping_view(&console).await {
        Ok(v) => v,
        Err(p) => return problem_page(p),
    };
    let waiting = view.rows.iter().filter(|r| r.state == "suggested").count();
    page(
        "Room mapping",
        html! {
            p { "Pair each room and bed of your sources with your own room. Suggestions apply only once confirmed." }
            @if let Some(s) = &view.summary { p.notice role="status" { (s) } }
            @if waiting > 0 {
                form.inline method="post" action="mapping" {
                    input type="hidden" name="action" value="confirm_all";
                    button type="submit" { "Confirm all " (waiting) " suggestions" }
                }
            }
            @if view.rows.is_empty() { p.muted { "No source has listed its rooms yet: run a sync first." } } @else {
                div.scroll { table.stack {
                    thead { tr { th scope="col" { "Source room" } th scope="col" { "State" } th scope="col" { "Your room" } } }
                    tbody { @for (i, r) in view.rows.iter().enumerate() {
                        tr class=(if r.state == "unmapped" { "unmapped" } else { "" }) {
                            th scope="row" {
                                (r.source_name)
                                @if let Some(d) = &r.dorm { " " span.muted { "(" (d) ")" } }
                                br; span.muted { (r.source_key) }
                            }
                            td data-label="State" { span class=(match r.state.as_str() { "confirmed" => "ok", "suggested" => "warn", _ => "bad" }) { (r.state) } }
                            td {
                                form.inline method="post" action="mapping" {
                                    input type="hidden" name="key" value=(r.source_key);
                                    div { label for={ "id" (i) } { "Room id" }
                                        input id={ "id" (i) } name="host_id" value=(r.host_id.as_deref().unwrap_or("")) required size="8"; }
                                    div { label for={ "name" (i) } { "Room name" }
                                        input id={ "name" (i) } name="host_name" value=(r.host_name.as_deref().unwrap_or("")) required size="12"; }
                                    @if r.state == "suggested" {
                                        button type="submit" name="action" value="confirm" { "Confirm" }
                                    } @else {
                                        button.secondary type="submit" name="action" value="save" { "Save" }
                                    }
                                }
                            }
                        }
                    } }
                } }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct MappingForm {
    action: String,
    key: Option<String>,
    host_id: Option<String>,
    host_name: Option<String>,
}

async fn mapping_form(State(console): State<Console>, Form(f): Form<MappingForm>) -> Response {
    let done = match (f.action.as_str(), &f.key) {
        ("confirm_all", _) => {
            api::confirm_pairs(&console, &ConfirmRequest { all: true, ..Default::default() }).await.map(|_| ())
        }
        // A suggestion edited before confirming is saved as edited.
        ("confirm" | "save", Some(key)) => {
            api::set(&console, key, f.host_id.as_deref().unwrap_or(""), f.host_name.as_deref().unwrap_or("")).await
        }
        _ => Err(Problem::bad_request("unknown action")),
    };
    match done {
        Ok(()) => Redirect::to("mapping").into_response(),
        Err(p) => problem_page(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_reads_like_a_person() {
        let now: DateTime<Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
        let at = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(ago(at(10), now), "just now");
        assert_eq!(ago(at(60), now), "1 minute ago");
        assert_eq!(ago(at(300), now), "5 minutes ago");
        assert_eq!(ago(at(3 * 3600), now), "3 hours ago");
        assert_eq!(ago(at(2 * 86_400), now), "2 days ago");
        assert_eq!(ago_or_in(now + chrono::Duration::seconds(180), now), "in 3 minutes");
        assert_eq!(ago_or_in(now + chrono::Duration::seconds(5), now), "now");
    }
}
