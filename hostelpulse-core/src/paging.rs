//! Guards for paged list reads: a page limit that is never a silent success, and a source whose
//! paging loops (it answers a later page with one it already sent) detected instead of read for
//! ever. Shared by every connector that pages; the vendor-specific part (which parameter names
//! the page, how the last page is recognised) stays in the connector.

use std::hash::{BuildHasher, Hash, Hasher};

use rustc_hash::{FxBuildHasher, FxHashMap};

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

    /// Checks page `page`, given its rows' raw text; an error means its rows must not be used.
    /// Empty pages never count as repeats (an empty last page is normal).
    pub fn check<'a>(&mut self, page: u32, rows: impl IntoIterator<Item = &'a str>) -> Result<(), PagingStop> {
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
        assert_eq!(g.check(3, std::iter::empty()), Ok(()), "an empty page is no repeat");
        assert_eq!(g.check(4, std::iter::empty()), Ok(()));
        assert_eq!(g.check(5, ["{\"id\":1}", "{\"id\":2}"]), Err(PagingStop::Repeated { page: 5, same_as: 1 }));
        // Same rows split differently are different pages.
        let mut g = PageGuard::new(10);
        assert_eq!(g.check(1, ["{\"id\":1}{\"id\":2}"]), Ok(()));
        assert_eq!(g.check(2, ["{\"id\":1}", "{\"id\":2}"]), Ok(()));
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
