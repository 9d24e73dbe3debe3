//! Full reads in parts. A full run takes the source's bookings a part at a time
//! ([`Connector::bookings_in_parts`]): each part is compared with the stored records and handed to
//! the sink at once, and only the record states and the ids seen are kept for the end of the read,
//! where the disappearance rule judges the whole snapshot and one commit saves the run. A large
//! property's bookings are then never all in memory.
//!
//! A read that stops part-way (a credit window spent, a fault) commits the record states of the
//! parts the sink already took, with the run's failed or deferred audit record, so the host and the
//! store agree; the connector's checkpoint then lets the next attempt continue after them.

use async_trait::async_trait;

use super::records::PendingRecords;
use super::{Diff, Prepared, RunCtx, SyncEngine, absence_means_gone, cap_failures, read_failure};
use crate::capability::Operation;
use crate::connector::{BookingBatch, BookingIds, BookingParts, BookingQuery, Connector, DateRange, RecordFailure};
use crate::error::Error;
use crate::mapping::allocated_rooms;
use crate::model::{Booking, Fingerprint, Fingerprinted, SourceId};
use crate::sync::Sink;
use crate::sync::audit::{AuditRecord, Counts, Outcome, Stage};
use crate::sync::store::{Commit, RecordState, SyncState};

use super::HashSet;

/// What a read in parts has delivered so far.
struct Parts<'e> {
    engine: &'e SyncEngine,
    sink: &'e dyn Sink,
    ctx: RunCtx,
    /// The stored records, with the states of the parts delivered so far laid over them: a
    /// record in two parts (a page boundary moved while reading) is compared with its first copy.
    state: SyncState,
    counts: Counts,
    failures: Vec<RecordFailure>,
    upserts: Vec<(SourceId, RecordState)>,
    /// Whether a record's state was saved twice (committed once, the last one).
    repeated: bool,
    /// Every id the source showed, converted or not, for the disappearance rule.
    seen: Seen,
    /// Why the sink refused a part: the read stops there.
    sink_failed: Option<String>,
    /// The stored records, while the store is still reading them.
    pending: Option<PendingRecords<'e>>,
    /// Why the store could not read the records: the read stops there and the run fails.
    load_failed: Option<String>,
}

#[async_trait]
impl BookingParts for Parts<'_> {
    async fn part(&mut self, mut bookings: Vec<Booking>, failures: Vec<RecordFailure>) -> Result<(), Error> {
        // Fingerprinted before the stored records are needed: a store still reading them (the
        // first part of a run) works alongside.
        let mut fingerprints: Vec<Fingerprint> = bookings.iter().map(Fingerprinted::fingerprint).collect();
        self.records_loaded().await?;
        // A copy older than the one an earlier part delivered is not applied over it.
        let older = |b: &Booking| {
            self.seen.contains(&b.key.id)
                && self
                    .state
                    .records
                    .get(&b.key.id)
                    .and_then(|r| r.modified_at)
                    .is_some_and(|m| b.modified_at < Some(m))
        };
        // Nothing was delivered before the first part: nothing to compare with.
        let keep: Vec<bool> =
            if self.seen.0.is_empty() { Vec::new() } else { bookings.iter().map(|b| !older(b)).collect() };
        if keep.contains(&false) {
            let (mut b, mut f) = (keep.iter(), keep.iter());
            bookings.retain(|_| b.next() == Some(&true));
            fingerprints.retain(|_| f.next() == Some(&true));
        }
        let before = self.seen.0.len();
        self.seen.0.reserve(bookings.len() + failures.len());
        let ids = bookings.iter().map(|b| &b.key.id).chain(failures.iter().filter_map(|f| f.source_id.as_ref()));
        let named = ids.clone().count();
        for id in ids {
            self.seen.insert(id);
        }
        // Every id new to the read: none repeats within this part or an earlier one.
        let distinct = self.seen.0.len() - before == named;
        self.repeated |= !distinct;
        let prepared = Prepared { fingerprints, distinct };
        let batch = BookingBatch::complete(bookings, failures);
        let diff = self.engine.diff_uncapped(&mut self.ctx, &self.state, batch, None, Some(prepared));
        self.deliver(diff).await
    }

    fn seen_before(&mut self, ids: Vec<SourceId>) {
        for id in &ids {
            self.seen.insert(id);
        }
    }
}

impl Parts<'_> {
    /// Waits for the stored records if they are still on their way.
    async fn records_loaded(&mut self) -> Result<(), Error> {
        let Some(pending) = self.pending.take() else { return Ok(()) };
        match pending.finish().await {
            Ok(records) => {
                self.state.records = records;
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                self.load_failed = Some(message.clone());
                Err(Error::invalid_input(format!("could not read the stored records: {message}")))
            }
        }
    }

    async fn deliver(&mut self, diff: Diff) -> Result<(), Error> {
        let Diff { counts, failures, changes, upserts } = diff;
        if !self.ctx.dry_run
            && !changes.is_empty()
            && let Err(e) = self.sink.apply(&changes).await
        {
            let message = format!("the host could not store the changes: {e}");
            self.sink_failed = Some(message.clone());
            return Err(Error::invalid_input(message));
        }
        self.ctx.rooms_delivered.extend(allocated_rooms(changes.iter().filter_map(|c| c.booking.as_ref())));
        for (id, rec) in &upserts {
            self.state.records.insert(id.clone(), rec.clone());
        }
        self.counts += counts;
        self.failures.extend(failures);
        self.upserts.extend(upserts);
        Ok(())
    }

    /// The record states to commit, each id once (its last state).
    fn take_upserts(&mut self) -> Vec<(SourceId, RecordState)> {
        let mut upserts = std::mem::take(&mut self.upserts);
        if self.repeated {
            let mut kept: HashSet<SourceId> = HashSet::default();
            upserts.reverse();
            upserts.retain(|(id, _)| kept.insert(id.clone()));
            upserts.reverse();
        }
        upserts
    }
}

impl SyncEngine {
    /// A full run, its read taken in parts.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_in_parts(
        &self,
        ctx: RunCtx,
        connector: &dyn Connector,
        state: SyncState,
        pending: Option<PendingRecords<'_>>,
        query: &BookingQuery,
        window: Option<DateRange>,
        delivery_failures: Vec<RecordFailure>,
        sink: &dyn Sink,
    ) -> AuditRecord {
        let mut parts = Parts {
            engine: self,
            sink,
            ctx,
            state,
            counts: Counts::default(),
            failures: Vec::new(),
            upserts: Vec::new(),
            repeated: false,
            seen: Seen::default(),
            sink_failed: None,
            pending,
            load_failed: None,
        };
        let read = connector.bookings_in_parts(query, &mut parts).await;
        // A read that delivered no part still needs the records, for the disappearance rule; a
        // failure to read them is kept in `load_failed`.
        if read.is_ok() {
            let _ = parts.records_loaded().await;
        }
        if let Some(message) = parts.load_failed.take() {
            let ctx = &parts.ctx;
            return self.fail(ctx, Some(connector), Counts::default(), Vec::new(), Stage::Load, None, message).await;
        }
        if let Some(message) = parts.sink_failed.take() {
            return self.stopped(parts, connector, Stopped::Sink(message)).await;
        }
        let mut complete = match read {
            Ok(complete) => complete,
            Err(e) => return self.stopped(parts, connector, Stopped::Read(e)).await,
        };
        // A delivery that could not be read still names a record that exists upstream.
        for id in delivery_failures.iter().filter_map(|f| f.source_id.as_ref()) {
            parts.seen.insert(id);
        }
        parts.failures.extend(delivery_failures);
        // Absence is evidence of deletion only where the source says so and the read was a
        // snapshot of the scope.
        let window = window.filter(|_| absence_means_gone(connector));

        // Before declaring anything gone, ask for it by id where the source can: a record that moved
        // out of the window (or whose page was lost) is then updated instead of cancelled.
        if let Some(w) = window
            && complete
            && connector.capabilities().supports(Operation::ReadBookingsById)
            && let Some(confirm) = BookingIds::new(self.expected_unseen(&parts.state, |id| parts.seen.contains(id), w))
        {
            match connector.bookings(&BookingQuery::ids(confirm)).await {
                Ok(extra) => {
                    // A failed part leaves its reason in `sink_failed`, handled below.
                    let _ = parts.part(extra.bookings, extra.failures).await;
                    if let Some(message) = parts.sink_failed.take() {
                        return self.stopped(parts, connector, Stopped::Sink(message)).await;
                    }
                }
                Err(e) => {
                    parts
                        .ctx
                        .warnings
                        .push(format!("could not confirm missing bookings by id ({e}); none declared gone this run"));
                    complete = false;
                }
            }
        }

        let mut upserts = parts.take_upserts();
        let Parts { mut ctx, state, mut counts, mut failures, seen, .. } = parts;
        let mut gone = Vec::new();
        if let Some(w) = window {
            if complete {
                let seen = (|id: &SourceId| seen.contains(id), seen.0.is_empty());
                let warnings = self.disappearances(&ctx.scope, &state, seen, w, &mut counts, &mut gone, &mut upserts);
                ctx.warnings.extend(warnings);
            } else {
                ctx.warnings.push("the fetch was incomplete: no booking was declared gone".into());
            }
        }
        drop((state, seen));
        counts.failed = failures.len() as u64;
        if let Some(summary) = cap_failures(&mut failures, self.config.max_listed_failures) {
            ctx.warnings.push(summary);
        }
        self.write(ctx, Some(connector), Diff { counts, failures, changes: gone, upserts }, sink).await
    }

    /// Ends a read in parts that stopped: the parts the sink took are committed with the run's
    /// record, so the host and the store agree, and the connector's checkpoint is kept for the next
    /// attempt.
    async fn stopped(&self, mut parts: Parts<'_>, connector: &dyn Connector, why: Stopped) -> AuditRecord {
        let upserts = parts.take_upserts();
        let Parts { ctx, counts, mut failures, .. } = parts;
        let mut counts = counts;
        counts.failed = failures.len() as u64;
        if let Some(summary) = cap_failures(&mut failures, self.config.max_listed_failures) {
            tracing::warn!(%summary, "records not synced before the read stopped");
        }
        let outcome = match why {
            Stopped::Sink(message) => Outcome::Failed { stage: Stage::Sink, kind: None, message },
            Stopped::Read(err) => read_failure(&err),
        };
        if let Outcome::Failed { stage, message, .. } = &outcome {
            tracing::warn!(?stage, %message, "sync failed");
        }
        let audit = self.audit(&ctx, Some(connector), counts, failures, ctx.cursor_before, outcome);
        if upserts.is_empty() || ctx.dry_run {
            self.append(&audit).await;
        } else {
            let commit = Commit { upserts, cursor: None, audit: audit.clone(), connector_state: None };
            if let Err(e) = self.store.commit(&ctx.scope, &commit).await {
                // The host has those parts; the next run compares them again and hands them over
                // once more (the sink upserts by key).
                tracing::error!(error = %e, "could not save the states of the parts delivered before the read stopped");
                self.append(&audit).await;
            }
        }
        // After the commit, which clears a stored checkpoint: where the read stopped goes to the
        // store, so the next attempt continues there even in another process.
        if !ctx.dry_run
            && let Some(checkpoint) = connector.paging_checkpoint().await
            && let Err(e) = self.store.save_paging_checkpoint(&ctx.scope, &checkpoint).await
        {
            tracing::warn!(error = %e, "could not save where the read stopped; the next attempt starts over");
        }
        audit
    }
}

/// The ids a read showed, kept as 64-bit hashes rather than copies: a large property's read holds
/// no second copy of its ids. Two ids sharing a hash would only make a record look seen, which can
/// keep it from being declared gone for a run — never lose it.
#[derive(Default)]
struct Seen(HashSet<u64>);

impl Seen {
    fn key(id: &SourceId) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(id.as_str())
    }

    /// Adds `id`; false when it was there already.
    fn insert(&mut self, id: &SourceId) -> bool {
        self.0.insert(Self::key(id))
    }

    fn contains(&self, id: &SourceId) -> bool {
        self.0.contains(&Self::key(id))
    }
}

/// Why a read in parts stopped.
enum Stopped {
    /// The sink refused a part.
    Sink(String),
    /// The connector's read failed.
    Read(Error),
}
