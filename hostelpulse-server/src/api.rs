//! The JSON API under `/api/v1/`.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use hostelpulse::mapping::{HostRoom, MappingEntry, SourceRoom};
use hostelpulse::model::SourceKey;
use hostelpulse::sync::{AccountStatus, AuditRecord, Outcome, PlanKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::Console;
use crate::problem::Problem;

type ApiResult<T> = Result<Json<T>, Problem>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hostelpulse owner console",
        description = "Sync status, runs, sync now, room mapping, the Today board and turnover tasks of the properties one hostelpulse runtime keeps fresh."
    ),
    paths(accounts, crate::accounts::put_account, crate::accounts::delete_account, crate::accounts::get_account, runs, run, capabilities, stay, sync_now, sync_property, properties, board, tasks, mapping, confirm, set_pair),
    modifiers(&BearerScheme),
    components(schemas(
        AccountLine,
        crate::accounts::AccountRequest,
        crate::accounts::AccountConfigView,
        AlertLine,
        RunLine,
        SyncRequest,
        SyncQueued,
        PropertyLine,
        MappingView,
        MappingRow,
        ConfirmRequest,
        SetRequest,
        Problem
    ))
)]
pub(crate) struct ApiDoc;

/// The standalone console's bearer token (mounted, the host's own scheme applies instead).
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        api.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/api/v1/accounts", get(accounts))
        .route("/api/v1/accounts/{id}", put(crate::accounts::put_account).delete(crate::accounts::delete_account))
        .route("/api/v1/accounts/{id}/config", get(crate::accounts::get_account))
        .route("/api/v1/accounts/{id}/runs", get(runs))
        .route("/api/v1/accounts/{id}/runs/{run_id}", get(run))
        .route("/api/v1/accounts/{id}/capabilities", get(capabilities))
        .route("/api/v1/accounts/{id}/stay", get(stay))
        .route("/api/v1/accounts/{id}/sync", post(sync_now))
        .route("/api/v1/properties", get(properties))
        .route("/api/v1/properties/{name}/board", get(board))
        .route("/api/v1/properties/{name}/tasks", get(tasks))
        .route("/api/v1/properties/{name}/sync", post(sync_property))
        .route("/api/v1/mapping", get(mapping))
        .route("/api/v1/mapping/confirm", post(confirm))
        .route("/api/v1/mapping/{key}", put(set_pair))
        .route("/api/v1/openapi.json", get(|| async { Json(crate::openapi()) }))
}

/// One account: its source and property, and how its syncs have gone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct AccountLine {
    /// The account id from the configuration.
    pub id: String,
    /// The connector (`cloudbeds`, `beds24`, `ical`, …).
    pub connector: String,
    /// The property it belongs to (empty for an account the file keeps for another property).
    pub property: String,
    /// The end of the last successful bookings sync.
    pub last_success: Option<DateTime<Utc>>,
    /// Seconds between now and the last successful sync's cursor.
    pub lag_secs: Option<i64>,
    /// Failed or deferred runs since the last success.
    pub consecutive_failures: u32,
    /// The last failure, when the last run failed.
    pub last_error: Option<String>,
    /// A run is in progress (known when the console runs beside the runtime).
    pub running: bool,
    /// When the next poll is due.
    pub next_poll_at: Option<DateTime<Utc>>,
    /// A queued retry's time, after a failed or deferred run.
    pub retry_at: Option<DateTime<Utc>>,
    /// Why the account is stopped until its credentials change, when the source rejected them.
    pub blocked: Option<String>,
    /// The alerts firing: rule names (`consecutive_failures`, `sync_lag`, …) with what they say.
    pub alerts: Vec<AlertLine>,
}

/// An alert firing for an account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct AlertLine {
    /// The rule.
    pub rule: String,
    /// Since when the condition holds.
    pub since: DateTime<Utc>,
    /// What it says.
    pub detail: String,
}

/// One run as the audit log keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct RunLine {
    /// The run's id.
    pub run_id: String,
    /// `full`, `incremental`, `hint`, `push` or `rooms`.
    pub plan: String,
    /// What started it.
    pub trigger: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// `ok`, `partial`, `deferred` or `failed`.
    pub outcome: String,
    /// Why it failed or was deferred.
    pub message: Option<String>,
    /// Records the source returned.
    pub fetched: u64,
    /// New bookings.
    pub inserted: u64,
    /// Changed bookings.
    pub updated: u64,
    /// Bookings cancelled.
    pub cancelled: u64,
    /// Records that failed to convert.
    pub failed: u64,
    /// Rooms whose housekeeping state changed (room refreshes).
    pub rooms_changed: Option<u64>,
}

impl From<&AuditRecord> for RunLine {
    fn from(r: &AuditRecord) -> Self {
        let (outcome, message) = match &r.outcome {
            Outcome::Ok => ("ok", None),
            Outcome::Partial => ("partial", Some(r.outcome.to_string())),
            Outcome::Deferred { .. } => ("deferred", Some(r.outcome.to_string())),
            _ => ("failed", Some(r.outcome.to_string())),
        };
        Self {
            run_id: r.run_id.clone(),
            plan: serde_plain(&r.plan),
            trigger: serde_plain(&r.trigger),
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: outcome.into(),
            message,
            fetched: r.counts.fetched,
            inserted: r.counts.inserted,
            updated: r.counts.updated,
            cancelled: r.counts.cancelled,
            failed: r.counts.failed,
            rooms_changed: r.rooms.map(|n| n.changes()),
        }
    }
}

/// An enum's serialized name (`PlanKind::Full` → `full`).
pub(crate) fn serde_plain(v: &impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Which run to queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct SyncRequest {
    /// `full` (every stay in the window) or `incremental` (changes since the last run).
    pub plan: String,
}

/// A run was queued in the runtime.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct SyncQueued {
    /// The account.
    pub account: String,
    /// The plan queued.
    pub plan: String,
    /// The id the run's audit record will carry (`accounts/{id}/runs/{run_id}` once it ran).
    /// Asked again before the run starts, the same run answers: the same id.
    pub run_id: String,
}

/// A property and its accounts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct PropertyLine {
    /// Its name.
    pub name: String,
    /// Its time zone.
    pub timezone: String,
    /// Its accounts' ids.
    pub accounts: Vec<String>,
}

/// One source room or bed and its pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct MappingRow {
    /// `connector:account:id`.
    pub source_key: String,
    /// The source's name for it.
    pub source_name: String,
    /// The dorm a bed sits in.
    pub dorm: Option<String>,
    /// Its room type.
    pub room_type: Option<String>,
    /// The host's room id, when paired.
    pub host_id: Option<String>,
    /// The host's room name, when paired.
    pub host_name: Option<String>,
    /// `confirmed`, `suggested` (waiting for the host) or `unmapped`.
    pub state: String,
}

/// The stored mapping beside the rooms the sources have.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct MappingView {
    /// Every source room and bed, and every stored pair.
    pub rows: Vec<MappingRow>,
    /// What needs the host's attention, when anything does.
    pub summary: Option<String>,
}

/// Suggestions to confirm.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct ConfirmRequest {
    /// Source keys (`connector:account:id`) whose suggestions to confirm.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Confirm every suggestion waiting.
    #[serde(default)]
    pub all: bool,
}

/// A pair the host chooses (confirmed at once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct SetRequest {
    /// The host's room id.
    pub host_id: String,
    /// The host's room name.
    pub host_name: String,
}

/// History paging.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// At most this many (default 20, at most 200).
    limit: Option<usize>,
    /// Only runs that started before this time (the `started_at` of the last run of a page).
    before: Option<DateTime<Utc>>,
}

/// The board's day.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BoardQuery {
    /// The day (default: today in the property's time zone).
    date: Option<NaiveDate>,
}

pub(crate) async fn account_lines(console: &Console) -> Result<Vec<AccountLine>, Problem> {
    let views = console.inner.runtime.as_ref().map(|h| h.accounts()).unwrap_or_default();
    // Schedules, retries and alerts as the runtime (any worker) saved them.
    let jobs = console.store().jobs().await.map_err(Problem::store)?;
    let now = Utc::now();
    let mut out = Vec::new();
    for p in &console.inner.properties {
        // Accounts a file keeps beside its property's (another property's) are shown too.
        let own: Vec<&str> = p.property_accounts().map(|a| a.id()).collect();
        for a in &p.accounts {
            let scope = a.scope();
            let recent = console.store().recent(&scope, 50).await.map_err(Problem::store)?;
            let s = AccountStatus::from_records(scope.connector.clone(), scope.account.clone(), &recent, now);
            let view = views.iter().find(|v| v.id == a.id());
            let job = jobs.iter().find(|(s, _)| *s == scope).map(|(_, j)| j);
            out.push(AccountLine {
                id: a.id().to_owned(),
                connector: a.connector().to_owned(),
                property: if own.contains(&a.id()) { p.property.name.clone() } else { String::new() },
                last_success: s.last_success,
                lag_secs: s.lag_secs,
                consecutive_failures: s.consecutive_failures,
                last_error: s.last_error,
                running: view.is_some_and(|v| v.running),
                next_poll_at: job.and_then(|j| j.next_poll_at),
                retry_at: job.and_then(|j| j.retry.as_ref()).map(|r| r.at),
                blocked: job.and_then(|j| j.blocked.as_ref()).map(|b| b.reason.clone()),
                alerts: job
                    .map(|j| {
                        j.alerts
                            .iter()
                            .map(|(rule, st)| AlertLine {
                                rule: rule.clone(),
                                since: st.since,
                                detail: st.detail.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// Every account with its sync status.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "status",
    responses((status = 200, body = [AccountLine]), (status = 503, body = Problem)))]
async fn accounts(State(console): State<Console>) -> ApiResult<Vec<AccountLine>> {
    Ok(Json(account_lines(&console).await?))
}

pub(crate) async fn run_lines(
    console: &Console,
    id: &str,
    limit: usize,
    before: Option<DateTime<Utc>>,
) -> Result<Vec<RunLine>, Problem> {
    let Some((_, a)) = console.account(id) else { return Err(Problem::not_found(format!("no account `{id}`"))) };
    // The log answers newest first; paging by start time keeps pages stable while runs arrive.
    let wanted = limit.clamp(1, 200);
    let mut fetch = wanted;
    loop {
        let recent = console.store().recent(&a.scope(), fetch).await.map_err(Problem::store)?;
        let page: Vec<RunLine> =
            recent.iter().filter(|r| before.is_none_or(|b| r.started_at < b)).take(wanted).map(RunLine::from).collect();
        if page.len() == wanted || recent.len() < fetch || fetch >= 100_000 {
            return Ok(page);
        }
        fetch *= 4;
    }
}

/// An account's runs, newest first, with their row counts.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/runs", tag = "status",
    params(("id" = String, Path, description = "The account id"), RunsQuery),
    responses((status = 200, body = [RunLine]), (status = 404, body = Problem)))]
async fn runs(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Vec<RunLine>> {
    Ok(Json(run_lines(&console, &id, q.limit.unwrap_or(20), q.before).await?))
}

pub(crate) fn queue(console: &Console, id: &str, plan: &str) -> Result<SyncQueued, Problem> {
    let plan_kind = match plan {
        "full" => PlanKind::Full,
        "incremental" => PlanKind::Incremental,
        other => return Err(Problem::bad_request(format!("plan `{other}`: `full` or `incremental`"))),
    };
    if console.account(id).is_none() {
        return Err(Problem::not_found(format!("no account `{id}`")));
    }
    let Some(runtime) = &console.inner.runtime else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "no-runtime",
            "this console runs without the runtime: start it with `hostelpulse run`",
        ));
    };
    let Some(run_id) = runtime.queue_run(id, plan_kind) else {
        return Err(Problem::not_found(format!("the runtime does not run `{id}`")));
    };
    Ok(SyncQueued { account: id.to_owned(), plan: plan.to_owned(), run_id })
}

/// Queues a full or incremental run of every account of a property now.
#[utoipa::path(post, path = "/api/v1/properties/{name}/sync", tag = "sync",
    params(("name" = String, Path, description = "The property's name")), request_body = SyncRequest,
    responses((status = 202, body = [SyncQueued]), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn sync_property(
    State(console): State<Console>,
    Path(name): Path<String>,
    Json(req): Json<SyncRequest>,
) -> Result<(StatusCode, Json<Vec<SyncQueued>>), Problem> {
    let Some(cfg) = console.property(&name) else { return Err(Problem::not_found(format!("no property `{name}`"))) };
    let ids: Vec<String> = cfg.property_accounts().map(|a| a.id().to_owned()).collect();
    let queued = ids.iter().map(|id| queue(&console, id, &req.plan)).collect::<Result<Vec<_>, _>>()?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// Queues a full or incremental run of one account now (it runs as soon as the account is
/// free; its record then appears in the account's runs).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/sync", tag = "sync",
    params(("id" = String, Path, description = "The account id")), request_body = SyncRequest,
    responses((status = 202, body = SyncQueued), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn sync_now(
    State(console): State<Console>,
    Path(id): Path<String>,
    Json(req): Json<SyncRequest>,
) -> Result<(StatusCode, Json<SyncQueued>), Problem> {
    Ok((StatusCode::ACCEPTED, Json(queue(&console, &id, &req.plan)?)))
}

/// The properties and their accounts.
#[utoipa::path(get, path = "/api/v1/properties", tag = "board", responses((status = 200, body = [PropertyLine])))]
async fn properties(State(console): State<Console>) -> Json<Vec<PropertyLine>> {
    Json(
        console
            .inner
            .properties
            .iter()
            .map(|p| PropertyLine {
                name: p.property.name.clone(),
                timezone: p.property.timezone.to_string(),
                accounts: p.property_accounts().map(|a| a.id().to_owned()).collect(),
            })
            .collect(),
    )
}

pub(crate) async fn board_of(
    console: &Console,
    name: &str,
    date: Option<NaiveDate>,
) -> Result<hostelpulse::board::Board, Problem> {
    let Some(cfg) = console.property(name) else { return Err(Problem::not_found(format!("no property `{name}`"))) };
    let now = Utc::now();
    let date = date.unwrap_or_else(|| now.with_timezone(&cfg.property.timezone).date_naive());
    hostelpulse::property::board_for(cfg, console.store(), date, now).await.map_err(Problem::store)
}

/// A property's Today board: arrivals, departures, in house, free beds, rooms to turn over with
/// their condition, unmapped rooms and stale-source warnings.
#[utoipa::path(get, path = "/api/v1/properties/{name}/board", tag = "board",
    params(("name" = String, Path, description = "The property's name"), BoardQuery),
    responses((status = 200, description = "The board (see `hostelpulse::board::Board`)", body = Object),
        (status = 404, body = Problem)))]
async fn board(
    State(console): State<Console>,
    Path(name): Path<String>,
    Query(q): Query<BoardQuery>,
) -> Result<Json<hostelpulse::board::Board>, Problem> {
    Ok(Json(board_of(&console, &name, q.date).await?))
}

/// Which turnover tasks.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TasksQuery {
    /// Only the check-outs of this day (default: every kept task).
    date: Option<NaiveDate>,
}

/// A property's kept turnover tasks, for one check-out day or all.
#[utoipa::path(get, path = "/api/v1/properties/{name}/tasks", tag = "board",
    params(("name" = String, Path, description = "The property's name"), TasksQuery),
    responses((status = 200, description = "The kept tasks (see `hostelpulse::tasks::TurnoverTask`)", body = [Object]),
        (status = 404, body = Problem)))]
async fn tasks(
    State(console): State<Console>,
    Path(name): Path<String>,
    Query(q): Query<TasksQuery>,
) -> Result<Json<Vec<hostelpulse::tasks::TurnoverTask>>, Problem> {
    if console.property(&name).is_none() {
        return Err(Problem::not_found(format!("no property `{name}`")));
    }
    let kept = console.store().kept_tasks(&name).await.map_err(Problem::store)?;
    let mut list: Vec<_> = kept.into_values().filter(|t| q.date.is_none_or(|d| t.checkout == d)).collect();
    list.sort_by(|a, b| (a.due_by, &a.id).cmp(&(b.due_by, &b.id)));
    Ok(Json(list))
}

pub(crate) async fn mapping_view(console: &Console) -> Result<MappingView, Problem> {
    let store = console.store();
    let mapping = store.room_mapping().await.map_err(Problem::store)?;
    let saved = store.properties().await.map_err(Problem::store)?;
    let sources: Vec<SourceRoom> =
        saved.iter().flat_map(|(_, props)| hostelpulse::mapping::source_rooms(props)).collect();
    let review = mapping.review(&sources);
    let mut rows: Vec<MappingRow> = sources
        .iter()
        .map(|s| {
            let entry = mapping.entries.get(&s.key);
            MappingRow {
                source_key: s.key.to_string(),
                source_name: s.name.clone(),
                dorm: s.dorm.clone(),
                room_type: Some(s.room_type.clone()),
                host_id: entry.map(|e| e.host.id.clone()),
                host_name: entry.map(|e| e.host.name.clone()),
                state: state_of(entry).into(),
            }
        })
        .collect();
    // Pairs whose room no source lists any more stay visible.
    for (k, e) in &mapping.entries {
        if !sources.iter().any(|s| &s.key == k) {
            rows.push(MappingRow {
                source_key: k.to_string(),
                source_name: e.source_name.clone(),
                dorm: None,
                room_type: None,
                host_id: Some(e.host.id.clone()),
                host_name: Some(e.host.name.clone()),
                state: state_of(Some(e)).into(),
            });
        }
    }
    Ok(MappingView { rows, summary: review.summary() })
}

fn state_of(entry: Option<&MappingEntry>) -> &'static str {
    match entry {
        Some(e) if e.confirmed => "confirmed",
        Some(_) => "suggested",
        None => "unmapped",
    }
}

/// The source rooms and beds beside the stored pairs, and what needs review.
#[utoipa::path(get, path = "/api/v1/mapping", tag = "mapping",
    responses((status = 200, body = MappingView), (status = 503, body = Problem)))]
async fn mapping(State(console): State<Console>) -> ApiResult<MappingView> {
    Ok(Json(mapping_view(&console).await?))
}

fn parse_key(k: &str) -> Result<SourceKey, Problem> {
    k.parse().map_err(|e| Problem::bad_request(format!("`{k}`: {e}")))
}

pub(crate) async fn confirm_pairs(console: &Console, req: &ConfirmRequest) -> Result<usize, Problem> {
    let store = console.store();
    let mapping = store.room_mapping().await.map_err(Problem::store)?;
    let wanted: Vec<SourceKey> = if req.all {
        mapping.entries.iter().filter(|(_, e)| !e.confirmed).map(|(k, _)| k.clone()).collect()
    } else {
        req.keys.iter().map(|k| parse_key(k)).collect::<Result<_, _>>()?
    };
    let mut pairs = Vec::new();
    for k in wanted {
        let Some(e) = mapping.entries.get(&k) else {
            return Err(Problem::not_found(format!("no stored pair for {k}: set one first")));
        };
        let mut e = e.clone();
        e.confirmed = true;
        pairs.push((k, e));
    }
    store.put_room_mapping(&pairs).await.map_err(Problem::store)?;
    Ok(pairs.len())
}

/// Confirms suggestions: from then on they name rooms on the board and in tasks.
#[utoipa::path(post, path = "/api/v1/mapping/confirm", tag = "mapping", request_body = ConfirmRequest,
    responses((status = 200, body = MappingView), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn confirm(State(console): State<Console>, Json(req): Json<ConfirmRequest>) -> ApiResult<MappingView> {
    confirm_pairs(&console, &req).await?;
    Ok(Json(mapping_view(&console).await?))
}

pub(crate) async fn set(console: &Console, key: &str, host_id: &str, host_name: &str) -> Result<(), Problem> {
    let key = parse_key(key)?;
    let (host_id, host_name) = (host_id.trim(), host_name.trim());
    if host_id.is_empty() || host_name.is_empty() {
        return Err(Problem::bad_request("the host room's id and name are both needed"));
    }
    let store = console.store();
    let saved = store.properties().await.map_err(Problem::store)?;
    let name = saved
        .iter()
        .flat_map(|(_, props)| hostelpulse::mapping::source_rooms(props))
        .find(|s| s.key == key)
        .map(|s| s.name)
        .unwrap_or_else(|| key.id.to_string());
    let entry = MappingEntry::confirmed(HostRoom { id: host_id.to_owned(), name: host_name.to_owned() }, name);
    store.put_room_mapping(&[(key, entry)]).await.map_err(Problem::store)
}

/// Pairs a source room or bed with a host room (confirmed).
#[utoipa::path(put, path = "/api/v1/mapping/{key}", tag = "mapping",
    params(("key" = String, Path, description = "The source key, `connector:account:id`")), request_body = SetRequest,
    responses((status = 200, body = MappingView), (status = 400, body = Problem)))]
async fn set_pair(
    State(console): State<Console>,
    Path(key): Path<String>,
    Json(req): Json<SetRequest>,
) -> ApiResult<MappingView> {
    set(&console, &key, &req.host_id, &req.host_name).await?;
    Ok(Json(mapping_view(&console).await?))
}

/// One run's whole audit record: counts, every record not synced and why, warnings, transport
/// figures, the mapping review.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/runs/{run_id}", tag = "status",
    params(("id" = String, Path, description = "The account id"), ("run_id" = String, Path, description = "The run id")),
    responses((status = 200, description = "The audit record (see `hostelpulse::sync::AuditRecord`)", body = Object),
        (status = 404, body = Problem)))]
async fn run(
    State(console): State<Console>,
    Path((id, run_id)): Path<(String, String)>,
) -> Result<Json<AuditRecord>, Problem> {
    let Some((_, a)) = console.account(&id) else { return Err(Problem::not_found(format!("no account `{id}`"))) };
    let recent = console.store().recent(&a.scope(), 10_000).await.map_err(Problem::store)?;
    recent
        .into_iter()
        .find(|r| r.run_id == run_id)
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no run `{run_id}` of `{id}` in the audit log")))
}

/// Whether to check the credentials.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CapabilitiesQuery {
    /// Also run the connector's check (one or two requests to the source) for the effective
    /// capabilities: what these credentials, scopes and plan allow.
    check: Option<bool>,
}

pub(crate) fn connector_of(console: &Console, id: &str) -> Result<std::sync::Arc<dyn hostelpulse::Connector>, Problem> {
    let Some(registry) = &console.inner.registry else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "no-registry",
            "this console was built without the accounts' connectors (ConsoleBuilder::registry)",
        ));
    };
    registry.get(id).map(|a| a.connector.clone()).ok_or_else(|| Problem::not_found(format!("no account `{id}`")))
}

/// The account's capability matrix: declared for its connector, and with `check=true` the
/// effective one its credentials allow (or why the check failed).
#[utoipa::path(get, path = "/api/v1/accounts/{id}/capabilities", tag = "status",
    params(("id" = String, Path, description = "The account id"), CapabilitiesQuery),
    responses((status = 200, description = "`declared`, and `effective` or `check_error` when checked", body = Object),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn capabilities(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(q): Query<CapabilitiesQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    let c = connector_of(&console, &id)?;
    let mut out = serde_json::json!({ "declared": c.capabilities() });
    if q.check.unwrap_or(false) {
        match c.check().await {
            Ok(h) => out["effective"] = serde_json::to_value(&h.effective).unwrap_or_default(),
            Err(e) => out["check_error"] = e.to_string().into(),
        }
    }
    Ok(Json(out))
}

/// A stay to look up: by booking, or by room or bed and night.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StayQueryParams {
    /// The source's booking id.
    booking: Option<String>,
    /// The source's room or bed id (with `night`).
    room: Option<String>,
    /// The night (with `room`).
    night: Option<NaiveDate>,
}

/// Guest stay lookup for triage: at the source where it answers directly (Cloudbeds), else from
/// the synced bookings; `answered_by` says which, `source_error` why the source did not.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/stay", tag = "board",
    params(("id" = String, Path, description = "The account id"), StayQueryParams),
    responses((status = 200, description = "`bookings`, `answered_by`, `source_error`", body = Object),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn stay(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(q): Query<StayQueryParams>,
) -> Result<Json<hostelpulse::store::StayLookup>, Problem> {
    use hostelpulse::core::StayQuery;
    let query = match (q.booking, q.room, q.night) {
        (Some(b), None, None) => StayQuery::Booking { id: b.as_str().into() },
        (None, Some(r), Some(n)) => StayQuery::RoomNight { room: r.as_str().into(), night: n },
        _ => return Err(Problem::bad_request("ask by `booking`, or by `room` and `night`")),
    };
    let c = connector_of(&console, &id)?;
    hostelpulse::store::lookup_stay(c.as_ref(), console.store(), &query).await.map(Json).map_err(Problem::store)
}
