//! Guards for paged list reads: a page limit that is never a silent success, and a source whose
//! paging loops (it answers a later page with one it already sent) detected instead of read for
//! ever. Shared by every connector that pages; the vendor-specific part (which parameter names
//! the page, how the last page is recognised) stays in the connector.

use std::hash::{BuildHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::connector::{BookingBatch, RecordFailure};
use crate::error::{Applied, Error, ErrorKind};
use crate::model::ConnectorKind;

/// Why paging stopped before the source said it was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingStop {
    /// The configured page limit was reached with more pages announced.
    Limit {
        /// The limit.
        pages: u32,
    },
    /// A page repeated an earlier one, row for row: the source's paging is looping.
    Repeated {
        /// The page that repeated.
        page: u32,
        /// The earlier page it repeated.
        same_as: u32,
    },
}

impl std::fmt::Display for PagingStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Limit { pages } => write!(
                f,
                "stopped after {pages} pages with more announced (the page limit); the rest of the list was not read"
            ),
            Self::Repeated { page, same_as } => write!(
                f,
                "page {page} repeated page {same_as} row for row (the source's paging is looping); the rest of the \
                 list was not read"
            ),
        }
    }
}

impl PagingStop {
    /// Marks a batch read through the stopped pages as incomplete, with the reason as a failure,
    /// so the run ends partial and declares nothing gone.
    pub fn mark(&self, batch: &mut BookingBatch) {
        batch.complete = false;
        batch.failures.push(RecordFailure::new(None, self.to_string()));
    }

    /// The stop as an error, for reads that are useless unless complete (rooms, properties):
    /// a loop is transient, a limit needs a larger limit in the configuration.
    pub fn into_error(self, connector: ConnectorKind, what: &str) -> Error {
        let kind = match self {
            Self::Limit { .. } => ErrorKind::Configuration,
            Self::Repeated { .. } => ErrorKind::Transient,
        };
        Error::Vendor { connector, kind, code: None, message: format!("{what}: {self}"), applied: Applied::No }
    }
}

/// The rows of a paged read, and why paging stopped early, if it did.
#[derive(Debug)]
pub struct Paged<R> {
    rows: Vec<R>,
    stop: Option<PagingStop>,
}

impl<R> Paged<R> {
    /// Every page was read.
    pub fn complete(rows: Vec<R>) -> Self {
        Self { rows, stop: None }
    }

    /// Paging stopped early, for `stop`.
    pub fn stopped(rows: Vec<R>, stop: PagingStop) -> Self {
        Self { rows, stop: Some(stop) }
    }

    /// The rows read, complete or not.
    pub fn rows(&self) -> &[R] {
        &self.rows
    }

    /// The rows read, complete or not, by value: a caller that converts them can free each as
    /// it goes.
    pub fn into_rows(self) -> Vec<R> {
        self.rows
    }

    /// Why paging stopped early.
    pub fn stop(&self) -> Option<PagingStop> {
        self.stop
    }

    /// The rows of a read that is useless unless complete (rooms, properties, calendars).
    pub fn all(self, connector: ConnectorKind, what: &str) -> Result<Vec<R>, Error> {
        match self.stop {
            Some(stop) => Err(stop.into_error(connector, what)),
            None => Ok(self.rows),
        }
    }

    /// Marks `batch` incomplete, with the reason, when paging stopped early.
    pub fn mark(&self, batch: &mut BookingBatch) {
        if let Some(stop) = &self.stop {
            stop.mark(batch);
        }
    }
}

/// Where an unfinished paged read stopped: the pages read so far, kept so that the next attempt
/// of the same read (the run the engine or the runtime retries) continues from the failed page
/// instead of page 1. A long full read under faults or a credit budget then finishes in as many
/// attempts as it has failures, not never.
///
/// One checkpoint per connector (the last unfinished read), held for [`Checkpoints::KEEP`]: a
/// resumed snapshot is assembled from pages read at different times, as any paged read is; the
/// engine's disappearance rule (two complete snapshots) keeps a page boundary that moved in between
/// from costing a booking.
#[derive(Debug)]
pub struct Checkpoints<R> {
    slot: std::sync::Mutex<Option<Checkpoint<R>>>,
}

impl<R> Default for Checkpoints<R> {
    fn default() -> Self {
        Self { slot: std::sync::Mutex::new(None) }
    }
}

#[derive(Debug)]
struct Checkpoint<R> {
    identity: String,
    next_page: u32,
    rows: Vec<R>,
    guard: PageGuard,
    at: tokio::time::Instant,
}

/// A paged read's progress: the rows so far, its guard, and the page to ask next.
#[derive(Debug)]
pub struct Progress<R> {
    /// Rows read so far.
    pub rows: Vec<R>,
    /// The guard, with the pages read so far.
    pub guard: PageGuard,
    /// The next page to request.
    pub next_page: u32,
}

impl<R> Checkpoints<R> {
    /// How long an unfinished read may be resumed.
    pub const KEEP: std::time::Duration = std::time::Duration::from_secs(30 * 60);

    /// The progress of the read with this `identity`: where an earlier attempt stopped, if it
    /// stopped within [`Checkpoints::KEEP`], else a fresh start.
    ///
    /// A different read leaves the checkpoint where it is: a by-id read for a webhook between two
    /// parts of a long full read must not cost the full read its progress.
    pub fn resume(&self, identity: &str, max_pages: u32) -> Progress<R> {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|c| c.at.elapsed() > Self::KEEP) {
            *slot = None;
        }
        match slot.take_if(|c| c.identity == identity) {
            Some(c) => {
                tracing::info!(page = c.next_page, rows = c.rows.len(), "resuming a paged read where it stopped");
                Progress { rows: c.rows, guard: c.guard, next_page: c.next_page }
            }
            None => Progress { rows: Vec::new(), guard: PageGuard::new(max_pages), next_page: 1 },
        }
    }

    /// Keeps the progress of a read that failed at `progress.next_page`, for the next attempt.
    pub fn save(&self, identity: String, progress: Progress<R>) {
        let Progress { rows, guard, next_page } = progress;
        *self.lock() = Some(Checkpoint { identity, next_page, rows, guard, at: tokio::time::Instant::now() });
    }

    /// Ends an attempt that failed at `page` with `err`: keeps the progress for the next attempt
    /// when the failure is one to retry, and hands the error back.
    pub fn fail(&self, identity: String, mut progress: Progress<R>, page: u32, err: Error) -> Error {
        if err.kind().is_retryable() {
            progress.next_page = page;
            self.save(identity, progress);
        }
        err
    }

    /// Whether a read is waiting to be resumed.
    pub fn pending(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Checkpoint<R>>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A checkpoint as the store keeps it (JSON text: the rows are the vendor's raw JSON, and a
/// long read's can be megabytes, so they are never turned into a `serde_json::Value` tree).
#[derive(Serialize, Deserialize)]
struct Saved<R> {
    identity: String,
    next_page: u32,
    max_pages: u32,
    /// Each page read so far: the hash of its rows and its number (the loop guard's memory).
    seen: Vec<(u64, u32)>,
    /// When the pages were read; a checkpoint older than [`Checkpoints::KEEP`] is not resumed.
    saved_at: DateTime<Utc>,
    rows: Vec<R>,
}

impl<R: Serialize + DeserializeOwned + Clone> Checkpoints<R> {
    /// The unfinished read, as JSON for the store, so that another process can continue it
    /// ([`Checkpoints::import`]); `None` when no read is waiting. The checkpoint stays here too.
    pub fn export(&self) -> Option<String> {
        let slot = self.lock();
        let c = slot.as_ref()?;
        let age = chrono::Duration::from_std(c.at.elapsed()).unwrap_or(chrono::Duration::MAX);
        let saved = Saved {
            identity: c.identity.clone(),
            next_page: c.next_page,
            max_pages: c.guard.max_pages,
            seen: c.guard.seen.iter().map(|(h, p)| (*h, *p)).collect(),
            saved_at: Utc::now().checked_sub_signed(age).unwrap_or(DateTime::<Utc>::MIN_UTC),
            rows: c.rows.clone(),
        };
        match serde_json::to_string(&saved) {
            Ok(text) => Some(text),
            Err(e) => {
                tracing::warn!(error = %e, "could not write a paging checkpoint; the read will start over");
                None
            }
        }
    }

    /// Takes over a checkpoint another process exported, unless one is already waiting here (this
    /// process's own is as new or newer) or it is older than [`Checkpoints::KEEP`]. Returns whether
    /// it was taken; an unreadable one is an error and changes nothing.
    pub fn import(&self, saved: &str) -> Result<bool, serde_json::Error> {
        let saved: Saved<R> = serde_json::from_str(saved)?;
        let mut slot = self.lock();
        if slot.is_some() {
            return Ok(false);
        }
        let age = (Utc::now() - saved.saved_at).to_std().unwrap_or_default();
        let Some(at) = tokio::time::Instant::now().checked_sub(age).filter(|_| age <= Self::KEEP) else {
            return Ok(false);
        };
        let guard = PageGuard { max_pages: saved.max_pages.max(1), seen: saved.seen.into_iter().collect() };
        *slot = Some(Checkpoint { identity: saved.identity, next_page: saved.next_page, rows: saved.rows, guard, at });
        Ok(true)
    }

    /// [`Checkpoints::import`] as a connector's [`crate::Connector::resume_paging`] answers it: an
    /// unreadable checkpoint is invalid input.
    pub fn resume_saved(&self, saved: &str) -> Result<(), Error> {
        self.import(saved).map(|_| ()).map_err(|e| Error::invalid_input(format!("saved paging checkpoint: {e}")))
    }
}

/// Counts pages and remembers a hash of each one's rows.
#[derive(Debug)]
pub struct PageGuard {
    max_pages: u32,
    seen: FxHashMap<u64, u32>,
}

impl PageGuard {
    /// A guard allowing `max_pages` pages (at least one).
    pub fn new(max_pages: u32) -> Self {
        Self { max_pages: max_pages.max(1), seen: FxHashMap::default() }
    }

    /// The page numbers to request, from 1 up to the limit.
    pub fn pages(&self) -> std::ops::RangeInclusive<u32> {
        1..=self.max_pages
    }

    /// The limit.
    pub fn max_pages(&self) -> u32 {
        self.max_pages
    }

    /// Checks page `page`, given its rows; an error means its rows must not be used. Empty pages
    /// never count as repeats (an empty last page is normal). A row may be given as anything that identifies it (its raw text, its id, a hash of it),
    /// the same way for every page of a read.
    pub fn check<T: Hash>(&mut self, page: u32, rows: impl IntoIterator<Item = T>) -> Result<(), PagingStop> {
        let mut h = FxBuildHasher.build_hasher();
        let mut n = 0usize;
        for r in rows {
            r.hash(&mut h);
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        n.hash(&mut h);
        match self.seen.insert(h.finish(), page) {
            Some(same_as) => Err(PagingStop::Repeated { page, same_as }),
            None => Ok(()),
        }
    }

    /// The stop to report when the loop over [`PageGuard::pages`] ran out with more announced.
    pub fn limit(&self) -> PagingStop {
        PagingStop::Limit { pages: self.max_pages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_page_is_named_with_the_page_it_repeats() {
        let mut g = PageGuard::new(10);
        assert_eq!(g.check(1, ["{\"id\":1}", "{\"id\":2}"]), Ok(()));
        assert_eq!(g.check(2, ["{\"id\":3}"]), Ok(()));
        assert_eq!(g.check(3, std::iter::empty::<&str>()), Ok(()), "an empty page is no repeat");
        assert_eq!(g.check(4, std::iter::empty::<&str>()), Ok(()));
        assert_eq!(g.check(5, ["{\"id\":1}", "{\"id\":2}"]), Err(PagingStop::Repeated { page: 5, same_as: 1 }));
        // Same rows split differently are different pages.
        let mut g = PageGuard::new(10);
        assert_eq!(g.check(1, ["{\"id\":1}{\"id\":2}"]), Ok(()));
        assert_eq!(g.check(2, ["{\"id\":1}", "{\"id\":2}"]), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unfinished_read_resumes_only_the_same_read_and_only_for_a_while() {
        let cp: Checkpoints<u32> = Checkpoints::default();
        let fresh = cp.resume("GET bookings ?a=1", 10);
        assert_eq!((fresh.next_page, fresh.rows.len()), (1, 0));
        let mut guard = PageGuard::new(10);
        guard.check(1, ["r1"]).unwrap();
        cp.save("GET bookings ?a=1".into(), Progress { rows: vec![1, 2], guard, next_page: 2 });
        assert!(cp.pending());
        // Another read starts afresh and leaves the checkpoint to its own read.
        assert_eq!(cp.resume("GET bookings ?a=2", 10).next_page, 1);
        assert!(cp.pending());
        let mut again = cp.resume("GET bookings ?a=1", 10);
        assert_eq!((again.next_page, again.rows), (2, vec![1, 2]));
        // The guard still knows page 1: a resumed read that loops back to it is caught.
        let mut guard = PageGuard::new(10);
        guard.check(1, ["r1"]).unwrap();
        again.guard = guard;
        assert!(again.guard.check(2, ["r1"]).is_err());
        // Past KEEP, a read starts over.
        cp.save("GET bookings ?a=1".into(), Progress { rows: vec![1], guard: PageGuard::new(10), next_page: 3 });
        tokio::time::advance(Checkpoints::<u32>::KEEP + std::time::Duration::from_secs(1)).await;
        assert_eq!(cp.resume("GET bookings ?a=1", 10).next_page, 1);
    }

    #[tokio::test]
    async fn a_checkpoint_travels_through_json_to_another_process_and_only_while_fresh() {
        let here: Checkpoints<Box<serde_json::value::RawValue>> = Checkpoints::default();
        assert_eq!(here.export(), None);
        let mut guard = PageGuard::new(40);
        guard.check(1, [r#"{"id":1}"#]).unwrap();
        guard.check(2, [r#"{"id":2}"#]).unwrap();
        let rows = [r#"{"id":1}"#, r#"{"id":2}"#]
            .iter()
            .map(|r| serde_json::value::RawValue::from_string((*r).to_owned()).unwrap())
            .collect();
        here.save("GET bookings ?a=1".into(), Progress { rows, guard, next_page: 3 });
        let text = here.export().expect("a read is waiting");
        assert!(here.pending(), "exporting keeps the checkpoint");

        let there: Checkpoints<Box<serde_json::value::RawValue>> = Checkpoints::default();
        assert!(there.import(&text).unwrap());
        let mut p = there.resume("GET bookings ?a=1", 40);
        assert_eq!(p.next_page, 3);
        assert_eq!(p.rows.iter().map(|r| r.get()).collect::<Vec<_>>(), [r#"{"id":1}"#, r#"{"id":2}"#]);
        assert_eq!(p.guard.max_pages(), 40);
        assert!(p.guard.check(3, [r#"{"id":1}"#]).is_err(), "the loop guard remembers the pages read elsewhere");

        // A process with a read of its own waiting keeps it; a stale or unreadable checkpoint is not taken.
        assert!(!here.import(&text).unwrap());
        let stale = text.replace(&Utc::now().format("%Y-%m-%d").to_string(), "2001-01-01");
        assert!(!Checkpoints::<Box<serde_json::value::RawValue>>::default().import(&stale).unwrap());
        assert!(Checkpoints::<Box<serde_json::value::RawValue>>::default().import("{not json").is_err());
    }

    #[test]
    fn a_stop_makes_the_batch_incomplete_and_partial() {
        let mut b = BookingBatch::complete(Vec::new(), Vec::new());
        PageGuard::new(3).limit().mark(&mut b);
        assert!(!b.complete);
        assert_eq!(b.failures.len(), 1);
        assert!(b.failures[0].reason.contains("after 3 pages"), "{}", b.failures[0].reason);
        let e = PagingStop::Repeated { page: 4, same_as: 2 }.into_error(ConnectorKind::BEDS24, "GET /properties");
        assert_eq!(e.kind(), ErrorKind::Transient);
        assert_eq!(PageGuard::new(0).pages(), 1..=1);
    }
}
