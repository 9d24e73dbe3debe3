//! The sync engine: fetch, fingerprint, diff against the store, hand changes to the host's sink,
//! and only then save fingerprints and the cursor.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

mod parts;
mod records;

use super::audit::{AccountStatus, AuditRecord, Counts, Outcome, PlanKind, Stage, Trigger};
use super::room_state::RoomStateChange;
use super::store::{
    Commit, InboxItem, Origin, RecordMap, RecordState, Scope, Settled, StateUpdate, StoreError, SyncState, SyncStore,
};
use crate::capability::{Incremental, Operation, Visibility};
use crate::clock::{Clock, SystemClock};
use crate::connector::{BookingBatch, BookingIds, BookingQuery, Connector, DateRange, RecordFailure, TransportStats};
use crate::error::{Advice, BoxError, Error};
use crate::model::{Booking, BookingStatus, Fingerprinted, Housekeeping, Property, SourceId, SourceKey};

/// What a run fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plan {
    /// Every stay in the configured window (default 7 days back to 365 ahead).
    Full,
    /// Every stay in this window.
    FullWindow(DateRange),
    /// Modified since the saved cursor minus the lookback overlap (a full run when there is no cursor).
    Incremental,
    /// These bookings (e.g. from a webhook): re-fetched before anything is trusted.
    Hint(BookingIds),
    /// A push source's pending deliveries (Sirvoy, from the store's inbox) applied, and the
    /// bookings they touched read back. Every run of such a source applies them first; this plan
    /// reads nothing else.
    Push,
    /// Rooms and housekeeping only (a room-level webhook): never a booking read.
    Rooms,
    /// Housekeeping only (a poll of room conditions, or after a run that read the rooms): never
    /// a booking or room-list read. Recorded as a [`PlanKind::Rooms`] run.
    Housekeeping,
}

/// How a record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeClass {
    /// Seen for the first time.
    Inserted,
    /// Content changed.
    Updated,
    /// Status became cancelled.
    Cancelled,
    /// Back from cancelled or disappeared.
    Restored,
    /// Missing from two consecutive complete fetches that should have returned it. The host marks it
    /// cancelled; it never deletes it.
    Disappeared,
}

/// One change handed to the sink. Upsert by `key`: the same change may arrive twice (at-least-once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The class.
    pub class: ChangeClass,
    /// The record's key.
    pub key: SourceKey,
    /// The record as fetched; `None` for disappeared records.
    pub booking: Option<Booking>,
}

/// Rooms and housekeeping as a room refresh ([`Plan::Rooms`]) read them; `None` where the source
/// cannot read that part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomRefresh {
    /// Properties with their room types, rooms and beds.
    pub properties: Option<Vec<Property>>,
    /// Housekeeping state per room.
    pub housekeeping: Option<Vec<Housekeeping>>,
    /// How the housekeeping differs from the host's copy ([`Sink::kept_housekeeping`]); empty
    /// when the refresh read none. The engine fills it in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RoomStateChange>,
}

impl RoomRefresh {
    /// A refresh of what was read.
    pub fn new(properties: Option<Vec<Property>>, housekeeping: Option<Vec<Housekeeping>>) -> Self {
        Self { properties, housekeeping, changes: Vec::new() }
    }
}

/// Where changes go: the host's own database. Must be idempotent by source key.
///
/// A [`ChangeClass::Disappeared`] change marks the booking as gone (a status, with the time):
/// it is never a reason to delete the row.
#[async_trait]
pub trait Sink: Send + Sync {
    /// Applies changes. On error nothing is saved, and the next run sends them again.
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError>;

    /// Applies a room refresh of `scope`. The default ignores it (hosts that keep no rooms).
    async fn apply_rooms(&self, scope: &Scope, rooms: &RoomRefresh) -> Result<(), BoxError> {
        let _ = (scope, rooms);
        Ok(())
    }

    /// The housekeeping state `apply_rooms` last kept for `scope`, which the engine diffs the
    /// next refresh against. The default keeps none: every state then counts as appeared.
    async fn kept_housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, BoxError> {
        let _ = scope;
        Ok(None)
    }
}

/// A sink that keeps every change in memory (tests, previews, the demo).
#[derive(Debug, Default)]
pub struct CollectingSink {
    changes: Mutex<Vec<Change>>,
}

impl CollectingSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the changes collected so far.
    pub fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.changes.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl Sink for CollectingSink {
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        self.changes.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(changes);
        Ok(())
    }
}

/// Engine settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// Days before today a full window starts.
    pub days_back: u32,
    /// Days after today a full window ends.
    pub days_ahead: u32,
    /// Overlap subtracted from the cursor on incremental runs (clock skew, second-resolution times).
    pub lookback: Duration,
    /// Complete full fetches a record must be missing from before it is declared disappeared.
    pub confirm_passes: u8,
    /// A full fetch missing more than this share of the expected records is suspect (truncated)...
    pub suspect_share: f64,
    /// ...when at least this many are missing.
    pub suspect_min: usize,
    /// The property's time zone, for "today" (UTC when unset).
    pub timezone: Option<chrono_tz::Tz>,
    /// How many records not synced an audit record lists one by one; the rest are counted per
    /// reason in its warnings (a junk feed must not write a huge audit row on every poll).
    pub max_listed_failures: usize,
    /// The most an incremental cursor is set back for a source whose clock is behind ours (its
    /// `Date` header): beyond it the run warns that a full run is needed.
    pub max_clock_skew: Duration,
}

/// Skews up to this many seconds are the `Date` header's resolution and the response's latency,
/// not a wrong clock: the lookback covers them.
const SKEW_TOLERANCE_SECS: i64 = 2;

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            days_back: 7,
            days_ahead: 365,
            lookback: Duration::minutes(10),
            confirm_passes: 2,
            suspect_share: 0.5,
            suspect_min: 4,
            timezone: None,
            max_listed_failures: 100,
            max_clock_skew: Duration::hours(6),
        }
    }
}

impl SyncConfig {
    /// Sets the full window.
    pub fn window(mut self, days_back: u32, days_ahead: u32) -> Self {
        self.days_back = days_back;
        self.days_ahead = days_ahead;
        self
    }

    /// Sets the incremental overlap.
    pub fn lookback(mut self, d: Duration) -> Self {
        self.lookback = d;
        self
    }

    /// Sets the passes needed to declare a record disappeared (at least 1).
    pub fn confirm_passes(mut self, n: u8) -> Self {
        self.confirm_passes = n.max(1);
        self
    }

    /// Sets the truncation guard.
    pub fn suspect(mut self, share: f64, min: usize) -> Self {
        self.suspect_share = share;
        self.suspect_min = min;
        self
    }

    /// Sets how many failures an audit record lists one by one.
    pub fn max_listed_failures(mut self, n: usize) -> Self {
        self.max_listed_failures = n;
        self
    }

    /// Sets how far a cursor may be set back for a source's slow clock.
    pub fn max_clock_skew(mut self, d: Duration) -> Self {
        self.max_clock_skew = d;
        self
    }

    /// Sets the property's time zone.
    pub fn timezone(mut self, tz: chrono_tz::Tz) -> Self {
        self.timezone = Some(tz);
        self
    }
}

/// One async lock per account, so an account never runs two syncs at once in this process
/// (across processes, the store's state version refuses the second commit).
type ScopeLocks = Arc<Mutex<HashMap<Scope, Arc<tokio::sync::Mutex<()>>>>>;

/// Runs connectors against a store. Cheap to clone; clones share the per-account locks.
#[derive(Clone)]
pub struct SyncEngine {
    store: Arc<dyn SyncStore>,
    clock: Arc<dyn Clock>,
    config: SyncConfig,
    locks: ScopeLocks,
    worker: Option<Arc<str>>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What a batch changes, before anything is written.
struct Diff {
    counts: Counts,
    failures: Vec<RecordFailure>,
    changes: Vec<Change>,
    upserts: Vec<(SourceId, RecordState)>,
}

/// What a caller of [`SyncEngine::diff_uncapped`] already knows about its batch.
struct Prepared {
    /// The bookings' fingerprints, in the batch's order.
    fingerprints: Vec<crate::model::Fingerprint>,
    /// No id occurs twice in the batch.
    distinct: bool,
}

struct RunCtx {
    scope: Scope,
    trigger: Trigger,
    plan: PlanKind,
    started_at: DateTime<Utc>,
    run_id: String,
    cursor_before: Option<DateTime<Utc>>,
    warnings: Vec<String>,
    stats_before: Option<TransportStats>,
    dry_run: bool,
    origin: Origin,
    /// The loaded connector-state version, for sources that keep state.
    state_version: Option<u64>,
    /// Inbox deliveries this run applied: settled once its commit holds them.
    applied: Vec<i64>,
    /// What the room mapping lacks, once the host keeps one.
    mapping: Option<crate::mapping::MappingReview>,
    /// The rooms of bookings already handed to the sink by the parts of a read in parts.
    rooms_delivered: Vec<crate::mapping::SourceRoom>,
}

impl SyncEngine {
    /// An engine over `store` with default settings and the system clock.
    pub fn new(store: Arc<dyn SyncStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            config: SyncConfig::default(),
            locks: ScopeLocks::default(),
            worker: None,
        }
    }

    /// Names the process running this engine in every audit record it writes, so runs of
    /// several workers sharing a store can be told apart (and checked never to overlap).
    pub fn with_worker(mut self, worker: impl Into<String>) -> Self {
        self.worker = Some(Arc::from(worker.into()));
        self
    }

    async fn lock_scope(&self, scope: &Scope) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(scope.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Sets the settings.
    pub fn with_config(mut self, config: SyncConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SyncStore> {
        &self.store
    }

    /// Today in the property's time zone.
    pub fn today(&self) -> NaiveDate {
        let now = self.clock.now();
        match self.config.timezone {
            Some(tz) => now.with_timezone(&tz).date_naive(),
            None => now.date_naive(),
        }
    }

    /// The default full window around today.
    pub fn full_window(&self) -> DateRange {
        let today = self.today();
        DateRange {
            start: today - Duration::days(i64::from(self.config.days_back)),
            end: today + Duration::days(i64::from(self.config.days_ahead)),
        }
    }

    /// Owner-visible status of one account from its last `window` runs.
    pub async fn status(&self, scope: &Scope, window: usize) -> Result<AccountStatus, StoreError> {
        let recent = self.store.recent(scope, window).await?;
        Ok(AccountStatus::from_records(scope.connector.clone(), scope.account.clone(), &recent, self.clock.now()))
    }

    /// Runs one connector for its account under `plan`. Always returns the audit record (which was
    /// also written to the store, unless the store itself failed).
    pub async fn run(&self, connector: &dyn Connector, plan: Plan, trigger: Trigger, sink: &dyn Sink) -> AuditRecord {
        self.run_as(connector, plan, trigger, sink, uuid::Uuid::new_v4().to_string()).await
    }

    /// [`SyncEngine::run`] under a run id the caller chose, given out before the run started (a
    /// queued "sync now" answers with it, so its audit record can be looked up once it ran).
    pub async fn run_as(
        &self,
        connector: &dyn Connector,
        plan: Plan,
        trigger: Trigger,
        sink: &dyn Sink,
        run_id: String,
    ) -> AuditRecord {
        let scope = Scope::new(connector.kind(), connector.account().clone());
        let span = tracing::info_span!("sync", connector = %scope.connector, account = %scope.account, ?trigger, run_id = %run_id);
        self.run_inner(connector, plan, trigger, sink, scope, run_id).instrument(span).await
    }

    async fn run_inner(
        &self,
        connector: &dyn Connector,
        plan: Plan,
        trigger: Trigger,
        sink: &dyn Sink,
        scope: Scope,
        run_id: String,
    ) -> AuditRecord {
        let started_at = self.clock.now();
        let mut ctx = RunCtx {
            scope,
            trigger,
            plan: PlanKind::Full,
            started_at,
            run_id,
            cursor_before: None,
            warnings: Vec::new(),
            stats_before: connector.transport_stats(),
            dry_run: false,
            origin: Origin::Fetch,
            state_version: None,
            applied: Vec::new(),
            mapping: None,
            rooms_delivered: Vec::new(),
        };
        let _running = self.lock_scope(&ctx.scope).await;
        // A room refresh touches no booking state: nothing to load, no inbox deliveries to apply.
        match plan {
            Plan::Rooms => return self.refresh_rooms(ctx, connector, sink, true).await,
            Plan::Housekeeping => return self.refresh_rooms(ctx, connector, sink, false).await,
            _ => {}
        }
        let (mut state, pending) = match records::load_state(&*self.store, &ctx.scope).await {
            Ok(s) => s,
            Err(e) => {
                return self
                    .fail(&ctx, Some(connector), Counts::default(), Vec::new(), Stage::Load, None, e.to_string())
                    .await;
            }
        };
        ctx.cursor_before = state.cursor;
        if let Some(saved) = &state.paging_checkpoint
            && let Err(e) = connector.resume_paging(saved).await
        {
            // Only progress is lost: the read starts over from its first page.
            ctx.warnings
                .push(format!("could not resume the unfinished read saved by an earlier run ({e}); started over"));
        }
        if connector.keeps_state() {
            // The store, not this process's memory, is what the last committed run left.
            if let Err(e) = connector.restore_state(state.connector_state.clone()).await {
                let msg = format!("could not restore the connector's saved state: {e}");
                return self.fail(&ctx, Some(connector), Counts::default(), Vec::new(), Stage::Load, None, msg).await;
            }
            ctx.state_version = Some(state.state_version);
        }
        let (touched, delivery_failures) = match self.apply_deliveries(&mut ctx, connector).await {
            Ok(x) => x,
            Err(e) => {
                let msg = format!("could not read the webhook inbox: {e}");
                return self.fail(&ctx, Some(connector), Counts::default(), Vec::new(), Stage::Load, None, msg).await;
            }
        };

        let (query, window) = match plan {
            Plan::Full => (BookingQuery::stay_window(self.full_window()), Some(self.full_window())),
            Plan::FullWindow(w) => (BookingQuery::stay_window(w), Some(w)),
            Plan::Incremental if !connector.capabilities().supports(Operation::ReadBookingsModified) => {
                ctx.warnings.push("the source has no incremental read: ran a full sync".into());
                (BookingQuery::stay_window(self.full_window()), Some(self.full_window()))
            }
            Plan::Incremental => match state.cursor {
                Some(c) => {
                    ctx.plan = PlanKind::Incremental;
                    (BookingQuery::modified_since(c - self.config.lookback), None)
                }
                None => {
                    ctx.warnings.push("no saved cursor: ran a full sync instead of an incremental one".into());
                    (BookingQuery::stay_window(self.full_window()), Some(self.full_window()))
                }
            },
            Plan::Hint(ids) => {
                ctx.plan = PlanKind::Hint;
                (BookingQuery::ids(ids), None)
            }
            Plan::Push => {
                ctx.plan = PlanKind::Push;
                match BookingIds::new(touched) {
                    Some(ids) => (BookingQuery::ids(ids), None),
                    // Nothing to read back, but the deliveries are now part of the saved state.
                    None => {
                        if let Err(audit) = self.records_now(&ctx, connector, &mut state, pending).await {
                            return audit;
                        }
                        let batch = BookingBatch::complete(Vec::new(), delivery_failures);
                        return self.diff_and_commit(ctx, Some(connector), state, batch, None, sink).await;
                    }
                }
            }
            // Returned above, before the state was loaded.
            Plan::Rooms | Plan::Housekeeping => {
                let rooms = plan == Plan::Rooms;
                return self.refresh_rooms(ctx, connector, sink, rooms).await;
            }
        };

        if ctx.plan == PlanKind::Full {
            return self.run_in_parts(ctx, connector, state, pending, &query, window, delivery_failures, sink).await;
        }
        if let Err(audit) = self.records_now(&ctx, connector, &mut state, pending).await {
            return audit;
        }
        let mut batch = match connector.bookings(&query).await {
            Ok(b) => b,
            Err(e) => return self.connector_failed(&ctx, connector, e).await,
        };
        batch.failures.extend(delivery_failures);
        // Absence is evidence of deletion only where the source says so and the read was a
        // snapshot of the scope: inbox and push sources report cancellations as data.
        let window = window.filter(|_| absence_means_gone(connector));

        // Before declaring anything gone, ask for it by id where the source can: a record that moved
        // out of the window (or whose page was lost) is then updated instead of cancelled.
        if let Some(w) = window
            && batch.complete
            && connector.capabilities().supports(Operation::ReadBookingsById)
            && let Some(confirm) = BookingIds::new(self.to_confirm(&state, &batch, w))
        {
            match connector.bookings(&BookingQuery::ids(confirm)).await {
                Ok(extra) => {
                    batch.bookings.extend(extra.bookings);
                    batch.failures.extend(extra.failures);
                }
                Err(e) => {
                    ctx.warnings
                        .push(format!("could not confirm missing bookings by id ({e}); none declared gone this run"));
                    batch.complete = false;
                }
            }
        }

        self.diff_and_commit(ctx, Some(connector), state, batch, window, sink).await
    }

    /// Puts the records still on their way into `state`; a store that fails to read them fails
    /// the run.
    async fn records_now(
        &self,
        ctx: &RunCtx,
        connector: &dyn Connector,
        state: &mut SyncState,
        pending: Option<records::PendingRecords<'_>>,
    ) -> Result<(), AuditRecord> {
        let Some(pending) = pending else { return Ok(()) };
        match pending.finish().await {
            Ok(records) => {
                state.records = records;
                Ok(())
            }
            Err(e) => Err(self
                .fail(ctx, Some(connector), Counts::default(), Vec::new(), Stage::Load, None, e.to_string())
                .await),
        }
    }

    /// Diffs a batch obtained elsewhere (a CSV import) against the store and applies it like a run.
    /// Nothing is declared disappeared: a partial source cannot tell.
    pub async fn apply_batch(
        &self,
        scope: Scope,
        batch: BookingBatch,
        trigger: Trigger,
        sink: &dyn Sink,
    ) -> AuditRecord {
        self.batch(scope, batch, trigger, sink, false).await
    }

    /// What [`SyncEngine::apply_batch`] would do, without touching the sink or the store: the
    /// returned record's counts say what would be inserted, updated or left unchanged.
    pub async fn preview_batch(&self, scope: Scope, batch: BookingBatch, trigger: Trigger) -> AuditRecord {
        self.batch(scope, batch, trigger, &CollectingSink::new(), true).await
    }

    /// Applies the batches of one large import (a CSV file read in chunks) as consecutive runs,
    /// one audit record per batch, like [`SyncEngine::apply_batch`] called for each in turn: while
    /// one batch is handed to the sink and committed, the next is read and compared. Stops at the
    /// first failed run, whose record is the last one returned; the batches after it are not
    /// applied.
    ///
    /// The account stays locked for the whole import, so the records a batch still being written
    /// will commit are exactly what the next batch is compared with: a booking in two batches is
    /// counted once as inserted, then as unchanged or updated.
    pub async fn apply_batches<S>(
        &self,
        scope: Scope,
        batches: S,
        trigger: Trigger,
        sink: &dyn Sink,
    ) -> Vec<AuditRecord>
    where
        S: futures_util::Stream<Item = BookingBatch>,
    {
        use futures_util::StreamExt;
        let _running = self.lock_scope(&scope).await;
        let mut batches = std::pin::pin!(batches);
        let mut records = Vec::new();
        let mut writing: Option<std::pin::Pin<Box<dyn Future<Output = AuditRecord> + Send + '_>>> = None;
        // The records the batch being written commits: the next batch is compared with them.
        let mut committing = RecordMap::default();
        loop {
            let next = async {
                let batch = batches.next().await?;
                Some(self.prepare_import(&scope, trigger, batch, &committing, false).await)
            };
            let (written, next) = match writing.take() {
                Some(write) => {
                    let (record, next) = futures_util::future::join(write, next).await;
                    (Some(record), next)
                }
                None => (None, next.await),
            };
            if let Some(record) = written {
                let failed = matches!(record.outcome, Outcome::Failed { .. });
                records.push(record);
                if failed {
                    break;
                }
            }
            let (ctx, diff) = match next {
                None => break,
                Some(Err(failed)) => {
                    records.push(failed);
                    break;
                }
                Some(Ok(prepared)) => prepared,
            };
            committing = diff.upserts.iter().cloned().collect();
            writing = Some(Box::pin(self.write(ctx, None, diff, sink)));
        }
        records
    }

    /// Loads what an import batch names, overlays what the previous batch is committing, and
    /// compares; a failed load is the batch's failed run.
    async fn prepare_import(
        &self,
        scope: &Scope,
        trigger: Trigger,
        batch: BookingBatch,
        committing: &RecordMap,
        dry_run: bool,
    ) -> Result<(RunCtx, Diff), AuditRecord> {
        let mut ctx = self.import_ctx(scope.clone(), trigger, dry_run);
        // An import never declares anything gone, so it needs only the records it names: a large
        // file imported in chunks stays linear in its size.
        let ids: Vec<&SourceId> = batch.bookings.iter().map(|b| &b.key.id).collect();
        let mut state = match self.store.load_some(scope, &ids).await {
            Ok(s) => s,
            Err(e) => {
                return Err(self
                    .fail(&ctx, None, Counts::default(), Vec::new(), Stage::Load, None, e.to_string())
                    .await);
            }
        };
        // The load may or may not see the previous batch's commit yet; what it commits wins.
        for b in &batch.bookings {
            if let Some(rec) = committing.get(&b.key.id) {
                state.records.insert(b.key.id.clone(), rec.clone());
            }
        }
        ctx.cursor_before = state.cursor;
        let diff = self.diff(&mut ctx, &state, batch, None);
        Ok((ctx, diff))
    }

    fn import_ctx(&self, scope: Scope, trigger: Trigger, dry_run: bool) -> RunCtx {
        RunCtx {
            scope,
            trigger,
            plan: PlanKind::Import,
            started_at: self.clock.now(),
            run_id: uuid::Uuid::new_v4().to_string(),
            cursor_before: None,
            warnings: Vec::new(),
            stats_before: None,
            dry_run,
            origin: Origin::Import,
            state_version: None,
            applied: Vec::new(),
            mapping: None,
            rooms_delivered: Vec::new(),
        }
    }

    async fn batch(
        &self,
        scope: Scope,
        batch: BookingBatch,
        trigger: Trigger,
        sink: &dyn Sink,
        dry_run: bool,
    ) -> AuditRecord {
        let _running = self.lock_scope(&scope).await;
        match self.prepare_import(&scope, trigger, batch, &RecordMap::default(), dry_run).await {
            Ok((ctx, diff)) => self.write(ctx, None, diff, sink).await,
            Err(failed) => failed,
        }
    }

    fn is_expected(&self, rec: &RecordState, window: DateRange, today: NaiveDate) -> bool {
        // Past stays that fall out of a feed are never cancelled by absence, and neither are
        // records another part of the source (a CSV import) wrote.
        rec.origin == Origin::Fetch
            && !rec.gone
            && !rec.cancelled
            && window.overlaps_stay(rec.arrival, rec.departure)
            && rec.departure > today
    }

    fn to_confirm(&self, state: &SyncState, batch: &BookingBatch, window: DateRange) -> Vec<SourceId> {
        let (_, seen) = latest_and_seen(batch);
        self.expected_unseen(state, |id| seen.contains(id), window)
    }

    /// The records a complete read of `window` should have shown, did not, and would be declared
    /// gone this run: the ones to ask for by id first.
    fn expected_unseen(&self, state: &SyncState, seen: impl Fn(&SourceId) -> bool, window: DateRange) -> Vec<SourceId> {
        let today = self.today();
        state
            .records
            .iter()
            .filter(|(id, rec)| {
                self.is_expected(rec, window, today)
                    && !seen(id)
                    && rec.missing_passes + 1 >= self.config.confirm_passes
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    async fn diff_and_commit(
        &self,
        mut ctx: RunCtx,
        connector: Option<&dyn Connector>,
        state: SyncState,
        batch: BookingBatch,
        window: Option<DateRange>,
        sink: &dyn Sink,
    ) -> AuditRecord {
        let diff = self.diff(&mut ctx, &state, batch, window);
        self.write(ctx, connector, diff, sink).await
    }

    /// Compares a batch with the stored records: what changed, what to save. Touches nothing.
    fn diff(&self, ctx: &mut RunCtx, state: &SyncState, batch: BookingBatch, window: Option<DateRange>) -> Diff {
        let mut diff = self.diff_uncapped(ctx, state, batch, window, None);
        if let Some(summary) = cap_failures(&mut diff.failures, self.config.max_listed_failures) {
            ctx.warnings.push(summary);
        }
        diff
    }

    /// [`SyncEngine::diff`] with every failure listed (a read in parts caps them once, at its end).
    fn diff_uncapped(
        &self,
        ctx: &mut RunCtx,
        state: &SyncState,
        batch: BookingBatch,
        window: Option<DateRange>,
        prepared: Option<Prepared>,
    ) -> Diff {
        let mut counts = Counts::default();
        let mut failures = Vec::new();
        let mut changes = Vec::new();
        let mut upserts = Vec::new();
        let mut anomalies = Vec::new();
        // The fetched records are compared where they are; the changed ones are moved, never
        // copied, into the changes once the comparison is done.
        let mut changed: Vec<(usize, ChangeClass)> = Vec::new();
        let (latest, seen) = match &prepared {
            // Each booking is its own latest copy, and no disappearance is judged here.
            Some(p) if p.distinct && window.is_none() => ((0..batch.bookings.len()).collect(), HashSet::default()),
            _ => latest_and_seen(&batch),
        };
        let fingerprints = prepared.map(|p| p.fingerprints);

        for i in latest {
            let b = &batch.bookings[i];
            counts.fetched += 1;
            if b.key.connector != ctx.scope.connector || b.key.account != ctx.scope.account {
                failures.push(RecordFailure::new(
                    Some(b.key.id.clone()),
                    format!("record belongs to {}, not to this account", b.key),
                ));
                continue;
            }
            let prev = state.records.get(&b.key.id);
            let fp = match &fingerprints {
                Some(fps) => fps[i],
                None => b.fingerprint(),
            };
            // Content first: what the source shows now is applied even when its modification
            // time went backwards (a vendor clock correction); a time only orders deliveries of
            // one record within a batch. The anomaly is reported, never silently skipped.
            if let (Some(p), Some(new_m)) = (prev, b.modified_at)
                && let Some(old_m) = p.modified_at.filter(|old| new_m < *old)
                && p.fingerprint != fp
            {
                counts.clock_anomalies += 1;
                if anomalies.len() < self.config.max_listed_failures {
                    anomalies.push(format!("{} ({old_m} → {new_m})", b.key.id));
                }
            }
            let cancelled = b.status == BookingStatus::Cancelled;
            let class = match prev {
                None => ChangeClass::Inserted,
                Some(p) if p.fingerprint == fp && !p.gone => {
                    counts.unchanged += 1;
                    // A record an import wrote that the snapshot now shows belongs to the snapshot.
                    let origin = if ctx.origin == Origin::Fetch { Origin::Fetch } else { p.origin };
                    if p.missing_passes > 0 || origin != p.origin {
                        upserts.push((b.key.id.clone(), RecordState { missing_passes: 0, origin, ..p.clone() }));
                    }
                    continue;
                }
                Some(p) if cancelled && !p.cancelled => ChangeClass::Cancelled,
                Some(p) if !cancelled && (p.cancelled || p.gone) => ChangeClass::Restored,
                Some(_) => ChangeClass::Updated,
            };
            match class {
                ChangeClass::Inserted => counts.inserted += 1,
                ChangeClass::Updated => counts.updated += 1,
                ChangeClass::Cancelled => counts.cancelled += 1,
                ChangeClass::Restored => counts.restored += 1,
                ChangeClass::Disappeared => {}
            }
            upserts.push((
                b.key.id.clone(),
                RecordState {
                    fingerprint: fp,
                    modified_at: b.modified_at,
                    arrival: b.arrival,
                    departure: b.departure,
                    cancelled,
                    missing_passes: 0,
                    gone: false,
                    origin: match (ctx.origin, prev) {
                        // An import never takes a record away from the snapshot that owns it.
                        (Origin::Import, Some(p)) => p.origin,
                        (o, _) => o,
                    },
                },
            ));
            changed.push((i, class));
        }

        if counts.clock_anomalies > 0 {
            ctx.warnings.push(format!(
                "{} changed booking(s) carried a modification time older than the one stored (the source's clock \
                 went back?); their content was applied: {}",
                counts.clock_anomalies,
                anomalies.join(", ")
            ));
        }
        let mut gone = Vec::new();
        if let Some(w) = window {
            if batch.complete {
                let seen = (|id: &SourceId| seen.contains(id), seen.is_empty());
                let warnings = self.disappearances(&ctx.scope, state, seen, w, &mut counts, &mut gone, &mut upserts);
                ctx.warnings.extend(warnings);
            } else {
                ctx.warnings.push("the fetch was incomplete: no booking was declared gone".into());
            }
        }
        drop(seen);
        let BookingBatch { bookings, failures: unreadable, .. } = batch;
        failures.splice(0..0, unreadable);
        changes.extend(take_changed(bookings, changed));
        changes.extend(gone);
        counts.failed = failures.len() as u64;
        Diff { counts, failures, changes, upserts }
    }

    /// Hands a diff's changes to the sink, then commits its records, cursor and audit record.
    async fn write(
        &self,
        mut ctx: RunCtx,
        connector: Option<&dyn Connector>,
        diff: Diff,
        sink: &dyn Sink,
    ) -> AuditRecord {
        let Diff { counts, failures, changes, upserts } = diff;
        if ctx.dry_run {
            let outcome = if failures.is_empty() { Outcome::Ok } else { Outcome::Partial };
            return self.audit(&ctx, connector, counts, failures, ctx.cursor_before, outcome);
        }
        if !changes.is_empty()
            && let Err(e) = sink.apply(&changes).await
        {
            let msg = format!("the host could not store the changes: {e}");
            return self.fail(&ctx, connector, counts, failures, Stage::Sink, None, msg).await;
        }
        let mut seen = crate::mapping::allocated_rooms(changes.iter().filter_map(|c| c.booking.as_ref()));
        if !ctx.rooms_delivered.is_empty() {
            seen.append(&mut ctx.rooms_delivered);
            seen.sort_by(|a, b| a.key.cmp(&b.key));
            seen.dedup_by(|a, b| a.key == b.key);
        }
        self.review_mapping(&mut ctx, &seen).await;

        let cursor_after = match (ctx.plan, connector) {
            (PlanKind::Full | PlanKind::Incremental, Some(c)) => Some(self.cursor_for(&mut ctx, c)),
            _ => ctx.cursor_before,
        };
        let connector_state = match (connector, ctx.state_version) {
            (Some(c), Some(expected_version)) => match c.save_state().await {
                Ok(v) => v.map(|value| StateUpdate { value, expected_version }),
                Err(e) => {
                    let msg = format!("could not read the connector's state to save it: {e}");
                    return self.fail(&ctx, connector, counts, failures, Stage::Commit, Some(e.kind()), msg).await;
                }
            },
            _ => None,
        };
        let outcome = if failures.is_empty() { Outcome::Ok } else { Outcome::Partial };
        let audit = self.audit(&ctx, connector, counts, failures, cursor_after, outcome);
        let commit = Commit {
            upserts,
            cursor: cursor_after.filter(|c| Some(*c) != ctx.cursor_before),
            audit: audit.clone(),
            connector_state,
        };
        if let Err(e) = self.store.commit(&ctx.scope, &commit).await {
            tracing::error!(error = %e, "could not save the sync state; the next run repeats these changes");
            let mut failed = audit;
            failed.cursor_after = ctx.cursor_before;
            failed.outcome = Outcome::Failed {
                stage: Stage::Commit,
                kind: None,
                message: format!("could not save sync state: {e}"),
            };
            let _ = self.store.append(&failed).await;
            return failed;
        }
        // The commit cleared the stored checkpoint; an unfinished read this run did not touch
        // (a hint run between two parts of a full read) is still waiting, so it goes back.
        if let Some(c) = connector
            && let Some(checkpoint) = c.paging_checkpoint().await
            && let Err(e) = self.store.save_paging_checkpoint(&ctx.scope, &checkpoint).await
        {
            tracing::warn!(error = %e, "could not keep where an unfinished read stopped; it starts over");
        }
        // The deliveries this run applied are in the committed state now.
        for id in &ctx.applied {
            let done = Settled::Done { run_id: ctx.run_id.clone(), at: self.clock.now() };
            if let Err(e) = self.store.inbox_settle(*id, &done).await {
                tracing::warn!(entry = id, error = %e, "could not mark an applied delivery done; it is applied again (idempotent)");
            }
        }
        // Only now may the source forget what this run read (a mailbox marks its mails seen).
        if let Some(c) = connector.filter(|c| c.keeps_state())
            && let Err(e) = c.acknowledge().await
        {
            tracing::warn!(error = %e, "could not acknowledge what the run read; it is read again next run");
        }
        tracing::info!(
            inserted = counts.inserted,
            updated = counts.updated,
            unchanged = counts.unchanged,
            cancelled = counts.cancelled,
            disappeared = counts.disappeared,
            failed = counts.failed,
            "sync finished"
        );
        audit
    }

    /// The cursor a successful full or incremental run saves: its start, set back by how far the
    /// source's clock is behind ours, so the next poll's "modified since" (in the source's time)
    /// misses nothing the lookback alone would.
    fn cursor_for(&self, ctx: &mut RunCtx, connector: &dyn Connector) -> DateTime<Utc> {
        let behind = connector.transport_stats().and_then(|s| s.clock_skew_secs).map_or(0, |s| -s);
        if behind <= SKEW_TOLERANCE_SECS {
            return ctx.started_at;
        }
        let behind = Duration::seconds(behind);
        let widen = behind.min(self.config.max_clock_skew);
        ctx.warnings.push(if widen < behind {
            format!(
                "the source's clock is {} s behind ours (its Date header); the cursor was set back only {} s, so a \
                 full run is needed to be sure nothing was missed",
                behind.num_seconds(),
                widen.num_seconds()
            )
        } else {
            format!(
                "the source's clock is {} s behind ours (its Date header); the cursor was set back as much so the \
                 next incremental poll misses nothing",
                behind.num_seconds()
            )
        });
        ctx.started_at - widen
    }

    #[allow(clippy::too_many_arguments)]
    fn disappearances(
        &self,
        scope: &Scope,
        state: &SyncState,
        (seen, saw_none): (impl Fn(&SourceId) -> bool, bool),
        window: DateRange,
        counts: &mut Counts,
        changes: &mut Vec<Change>,
        upserts: &mut Vec<(SourceId, RecordState)>,
    ) -> Vec<String> {
        let today = self.today();
        let expected: Vec<_> = state.records.iter().filter(|(_, r)| self.is_expected(r, window, today)).collect();
        let absent: Vec<_> = expected.iter().filter(|(id, _)| !seen(id)).collect();
        if absent.is_empty() {
            return Vec::new();
        }
        if saw_none {
            return vec![format!(
                "the source returned no bookings where {} were expected; treated as suspect, nothing declared gone",
                expected.len()
            )];
        }
        if absent.len() >= self.config.suspect_min
            && absent.len() as f64 > self.config.suspect_share * expected.len() as f64
        {
            return vec![format!(
                "{} of {} expected bookings were missing; treated as a truncated feed, nothing declared gone",
                absent.len(),
                expected.len()
            )];
        }
        for (id, rec) in absent {
            let passes = rec.missing_passes.saturating_add(1);
            if passes >= self.config.confirm_passes {
                counts.disappeared += 1;
                upserts.push(((*id).clone(), RecordState { missing_passes: passes, gone: true, ..(*rec).clone() }));
                changes.push(Change {
                    class: ChangeClass::Disappeared,
                    key: SourceKey::new(scope.connector.clone(), scope.account.clone(), (*id).clone()),
                    booking: None,
                });
            } else {
                upserts.push(((*id).clone(), RecordState { missing_passes: passes, ..(*rec).clone() }));
            }
        }
        Vec::new()
    }

    /// Applies the scope's pending push deliveries to a stateful connector, oldest first. Returns
    /// the bookings they touched, and a failure per delivery the connector could not read (it is
    /// settled with the run all the same: kept in the report, not retried for ever).
    async fn apply_deliveries(
        &self,
        ctx: &mut RunCtx,
        connector: &dyn Connector,
    ) -> Result<(Vec<SourceId>, Vec<RecordFailure>), StoreError> {
        let mut touched = Vec::new();
        let mut failures = Vec::new();
        if !connector.keeps_state() {
            return Ok((touched, failures));
        }
        for entry in self.store.inbox_entries(&ctx.scope).await? {
            let InboxItem::Push { body } = &entry.item else { continue };
            if entry.done_at.is_some() {
                continue;
            }
            match connector.ingest(body.as_bytes()).await {
                Ok(ids) => touched.extend(ids),
                Err(e) if e.kind() == crate::error::ErrorKind::Unsupported => continue,
                Err(e) => failures.push(
                    RecordFailure::new(None, format!("webhook delivery not applied: {e}"))
                        .at(format!("inbox entry {}", entry.id)),
                ),
            }
            ctx.applied.push(entry.id);
        }
        Ok((touched, failures))
    }

    /// A room refresh: rooms (when `read_rooms`) and housekeeping where the source reads them,
    /// housekeeping diffed against the host's copy, handed to the sink.
    async fn refresh_rooms(
        &self,
        mut ctx: RunCtx,
        connector: &dyn Connector,
        sink: &dyn Sink,
        read_rooms: bool,
    ) -> AuditRecord {
        ctx.plan = PlanKind::Rooms;
        let caps = connector.capabilities();
        let mut counts = Counts::default();
        let properties = if read_rooms && caps.supports(Operation::ReadRooms) {
            match connector.rooms().await {
                Ok(p) => Some(p),
                Err(e) => return self.connector_failed(&ctx, connector, e).await,
            }
        } else {
            None
        };
        let mut housekeeping = if caps.supports(Operation::ReadHousekeeping) {
            match connector.housekeeping().await {
                Ok(h) => Some(h),
                Err(e) => return self.connector_failed(&ctx, connector, e).await,
            }
        } else {
            None
        };
        if properties.is_none() && housekeeping.is_none() {
            ctx.warnings.push("the source reads neither rooms nor housekeeping: nothing refreshed".into());
        }
        let rooms: usize = properties.iter().flatten().flat_map(|p| &p.room_types).map(|t| t.rooms.len()).sum();
        counts.fetched = (rooms + housekeeping.as_ref().map_or(0, Vec::len)) as u64;
        let mut room_counts = None;
        let mut changes = Vec::new();
        if let Some(states) = housekeeping.as_mut() {
            let kept = match sink.kept_housekeeping(&ctx.scope).await {
                Ok(k) => k,
                Err(e) => {
                    let msg = format!("the host could not read its housekeeping copy: {e}");
                    return self.fail(&ctx, Some(connector), counts, Vec::new(), Stage::Sink, None, msg).await;
                }
            };
            let (c, mut n) = super::room_state::diff(kept.as_deref(), states, self.clock.now());
            n.rooms = rooms as u64;
            changes = c;
            room_counts = Some(n);
        }
        let refresh = RoomRefresh { properties, housekeeping, changes };
        if let Err(e) = sink.apply_rooms(&ctx.scope, &refresh).await {
            let msg = format!("the host could not store the rooms: {e}");
            return self.fail(&ctx, Some(connector), counts, Vec::new(), Stage::Sink, None, msg).await;
        }
        self.review_mapping(&mut ctx, &[]).await;
        let mut audit = self.audit(&ctx, Some(connector), counts, Vec::new(), ctx.cursor_before, Outcome::Ok);
        audit.rooms = room_counts;
        self.append(&audit).await;
        audit
    }

    /// Puts what the room mapping lacks for this account into the run's report. A store that
    /// cannot say costs the run nothing: the review is advice, never a reason to fail.
    async fn review_mapping(&self, ctx: &mut RunCtx, seen: &[crate::mapping::SourceRoom]) {
        match self.store.mapping_review(&ctx.scope, seen).await {
            Ok(Some(review)) => {
                if let Some(line) = review.summary() {
                    ctx.warnings.push(line);
                }
                ctx.mapping = Some(review);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not check the room mapping"),
        }
    }

    fn audit(
        &self,
        ctx: &RunCtx,
        connector: Option<&dyn Connector>,
        counts: Counts,
        failures: Vec<RecordFailure>,
        cursor_after: Option<DateTime<Utc>>,
        outcome: Outcome,
    ) -> AuditRecord {
        let transport = match (connector.and_then(|c| c.transport_stats()), ctx.stats_before) {
            (Some(now), Some(before)) => now.since(&before),
            (Some(now), None) => now,
            _ => TransportStats::default(),
        };
        // The audit log is kept and shown to owners: what sources sent is quoted in failures,
        // warnings and messages, and guest contact details never stay in it.
        let scrub = |s: &str| crate::privacy::scrub(s).into_owned();
        let failures = failures
            .into_iter()
            .map(|mut f| {
                f.reason = scrub(&f.reason);
                f.location = f.location.as_deref().map(scrub);
                f
            })
            .collect();
        let outcome = match outcome {
            Outcome::Failed { stage, kind, message } => Outcome::Failed { stage, kind, message: scrub(&message) },
            other => other,
        };
        AuditRecord {
            run_id: ctx.run_id.clone(),
            connector: ctx.scope.connector.clone(),
            account: ctx.scope.account.clone(),
            trigger: ctx.trigger,
            plan: ctx.plan,
            started_at: ctx.started_at,
            finished_at: self.clock.now(),
            cursor_before: ctx.cursor_before,
            cursor_after,
            counts,
            failures,
            warnings: ctx.warnings.iter().map(|w| scrub(w)).collect(),
            transport,
            outcome,
            worker: self.worker.as_deref().map(str::to_owned),
            mapping: ctx.mapping.clone(),
            rooms: None,
        }
    }

    async fn connector_failed(&self, ctx: &RunCtx, connector: &dyn Connector, err: Error) -> AuditRecord {
        // Where the read stopped goes to the store, so the next attempt continues there even if it
        // runs in another process (a deferred full sync of a large property spans credit windows).
        if !ctx.dry_run
            && let Some(checkpoint) = connector.paging_checkpoint().await
            && let Err(e) = self.store.save_paging_checkpoint(&ctx.scope, &checkpoint).await
        {
            tracing::warn!(error = %e, "could not save where the read stopped; the next attempt starts over");
        }
        let outcome = read_failure(&err);
        if let Outcome::Failed { stage, message, .. } = &outcome {
            tracing::warn!(?stage, %message, "sync failed");
        }
        let audit = self.audit(ctx, Some(connector), Counts::default(), Vec::new(), ctx.cursor_before, outcome);
        self.append(&audit).await;
        audit
    }

    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        ctx: &RunCtx,
        connector: Option<&dyn Connector>,
        counts: Counts,
        failures: Vec<RecordFailure>,
        stage: Stage,
        kind: Option<crate::error::ErrorKind>,
        message: String,
    ) -> AuditRecord {
        tracing::warn!(?stage, %message, "sync failed");
        let audit =
            self.audit(ctx, connector, counts, failures, ctx.cursor_before, Outcome::Failed { stage, kind, message });
        self.append(&audit).await;
        audit
    }

    async fn append(&self, audit: &AuditRecord) {
        if let Err(e) = self.store.append(audit).await {
            tracing::error!(error = %e, "could not write the audit record");
        }
    }
}

/// Moves the changed bookings (positions in `bookings` with their class, each position once)
/// into changes, in the order `changed` lists them, and frees the rest.
fn take_changed(mut bookings: Vec<Booking>, changed: Vec<(usize, ChangeClass)>) -> Vec<Change> {
    // Taken from the back with `swap_remove`: what fills a taken slot comes from beyond it, where
    // nothing is left to take, so the unchanged bookings are never moved as a whole.
    let mut order: Vec<(usize, usize, ChangeClass)> =
        changed.into_iter().enumerate().map(|(listed, (at, class))| (at, listed, class)).collect();
    order.sort_unstable_by_key(|&(at, ..)| std::cmp::Reverse(at));
    let mut taken: Vec<(usize, Change)> = order
        .into_iter()
        .map(|(at, listed, class)| {
            let b = bookings.swap_remove(at);
            (listed, Change { class, key: b.key.clone(), booking: Some(b) })
        })
        .collect();
    free_elsewhere(bookings);
    taken.sort_unstable_by_key(|(listed, _)| *listed);
    taken.into_iter().map(|(_, change)| change).collect()
}

/// Frees a large part's unchanged bookings on a thread of their own: a hundred thousand bookings
/// hold about a million small allocations, and the run need not wait for them to be returned.
fn free_elsewhere(bookings: Vec<Booking>) {
    const LARGE: usize = 10_000;
    if bookings.len() < LARGE {
        return;
    }
    // Should the thread not start, the closure and the bookings in it are dropped here instead.
    let _ = std::thread::Builder::new().name("hostelpulse-free".into()).spawn(move || drop(bookings));
}

/// The fetched records, one per id (pages can overlap when a record moves while we read: the newest
/// copy wins), and every id the source showed — converted or not, since a record that failed to
/// convert still exists upstream. One hashing pass serves both.
/// The positions in `batch.bookings` of the newest version of each record (in order of first
/// appearance), and every id the batch names.
fn latest_and_seen(batch: &BookingBatch) -> (Vec<usize>, HashSet<&SourceId>) {
    let bookings = &batch.bookings;
    let mut seen: HashSet<&SourceId> =
        HashSet::with_capacity_and_hasher(bookings.len() + batch.failures.len(), Default::default());
    let mut latest: Vec<usize> = Vec::with_capacity(bookings.len());
    // Duplicates are rare, so the id → position index is only built once one shows up.
    let mut index: Option<HashMap<&SourceId, usize>> = None;
    for (at, b) in bookings.iter().enumerate() {
        if seen.insert(&b.key.id) {
            if let Some(ix) = index.as_mut() {
                ix.insert(&b.key.id, latest.len());
            }
            latest.push(at);
            continue;
        }
        let ix =
            index.get_or_insert_with(|| latest.iter().enumerate().map(|(i, &x)| (&bookings[x].key.id, i)).collect());
        if let Some(&i) = ix.get(&b.key.id)
            && b.modified_at >= bookings[latest[i]].modified_at
        {
            latest[i] = at;
        }
    }
    seen.extend(batch.failures.iter().filter_map(|f| f.source_id.as_ref()));
    (latest, seen)
}

/// The outcome of a run whose read failed with `err`: deferred to the time the source named, or
/// failed, saying what to do.
fn read_failure(err: &Error) -> Outcome {
    let what_to_do = match err.advice() {
        Advice::WaitUntil(retry_at) => return Outcome::Deferred { retry_at },
        Advice::Retry => "it will be retried",
        Advice::Reauthenticate => "reconnect the account",
        _ => "check the connection settings",
    };
    Outcome::Failed { stage: Stage::Fetch, kind: Some(err.kind()), message: format!("{err} ({what_to_do})") }
}

/// Whether a record missing from a complete window read may be taken as deleted: only where the
/// source makes deletions visible that way and is not a push or inbox source.
fn absence_means_gone(connector: &dyn Connector) -> bool {
    let sync = connector.capabilities().sync;
    !matches!(sync.deletions, Visibility::NotVisible | Visibility::Webhook) && sync.incremental != Incremental::PushOnly
}

/// Keeps the first `max` failures and summarizes the rest as counts per reason (the reason's text
/// up to its first colon: "unreadable event", "held for review", …), most frequent first.
pub(super) fn cap_failures(failures: &mut Vec<RecordFailure>, max: usize) -> Option<String> {
    if failures.len() <= max {
        return None;
    }
    let rest = failures.split_off(max);
    let mut by_reason: HashMap<&str, u64> = HashMap::default();
    for f in &rest {
        let head = f.reason.split(':').next().unwrap_or("").trim();
        let head = if head.len() > 80 { head.get(..80).unwrap_or("other") } else { head };
        *by_reason.entry(head).or_default() += 1;
    }
    let mut counts: Vec<(&str, u64)> = by_reason.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = counts.iter().take(10).map(|(r, n)| format!("{r} ×{n}")).collect();
    let more = if counts.len() > 10 { format!(" and {} other reasons", counts.len() - 10) } else { String::new() };
    Some(format!("{} more records not synced, not listed: {}{more}", rest.len(), shown.join(", ")))
}
