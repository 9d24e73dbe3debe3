//! A scope's stored records, read while the run does other work. A full run compares every
//! record of the account; on a store that reads them on its own thread or connection
//! ([`SyncStore::load_head`]), they are asked for as soon as the run has the account's cursor and
//! checkpoint, and waited for only when the first part of the read has been fingerprinted.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::sync::store::{RecordMap, Scope, StoreError, SyncState, SyncStore};

type Loading<'s> = Pin<Box<dyn Future<Output = Result<RecordMap, StoreError>> + Send + 's>>;

/// Records on their way from the store.
pub(super) enum PendingRecords<'s> {
    /// The store is still reading.
    Loading(Loading<'s>),
    /// The store answered on the first poll.
    Done(Result<RecordMap, StoreError>),
}

impl<'s> PendingRecords<'s> {
    /// Asks the store for the records and polls once, so its read is under way before this
    /// task turns to other work.
    async fn start(store: &'s dyn SyncStore, scope: Scope) -> Self {
        let mut loading: Loading<'s> = Box::pin(async move { store.load_records(&scope).await });
        match std::future::poll_fn(|cx| Poll::Ready(loading.as_mut().poll(cx))).await {
            Poll::Ready(done) => Self::Done(done),
            Poll::Pending => Self::Loading(loading),
        }
    }

    /// The records, once the store has them.
    pub(super) async fn finish(self) -> Result<RecordMap, StoreError> {
        match self {
            Self::Loading(loading) => loading.await,
            Self::Done(done) => done,
        }
    }
}

/// A scope's state: everything but the records now, and the records either with it or on their
/// way.
pub(super) async fn load_state<'s>(
    store: &'s dyn SyncStore,
    scope: &Scope,
) -> Result<(SyncState, Option<PendingRecords<'s>>), StoreError> {
    match store.load_head(scope).await? {
        Some(head) => Ok((head, Some(PendingRecords::start(store, scope.clone()).await))),
        None => Ok((store.load(scope).await?, None)),
    }
}
