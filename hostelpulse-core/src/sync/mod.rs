//! The sync engine, its store and audit log.
//!
//! | plan | fetches | cursor | may declare records gone |
//! |---|---|---|---|
//! | full | every stay in a window (7 days back to 365 ahead by default) | set to the run's start | yes: after two consecutive complete fetches |
//! | incremental | modified since cursor − lookback (inclusive) | set to the run's start | no |
//! | hint | specific ids (webhooks are hints: re-fetched, never trusted) | unchanged | no |
//!
//! Changes reach the host's [`Sink`] first; fingerprints and the cursor are saved only after the
//! sink succeeded (at-least-once: a change may be delivered twice, never lost). A record older than
//! what the store holds is skipped (newer wins). Past stays are never cancelled by absence, and an
//! empty or truncated fetch never mass-cancels.

mod account_configs;
mod audit;
mod engine;
pub mod inbox;
pub mod jobs;
mod mapping_store;
mod memory;
pub mod room_state;
pub mod stay_events;
mod store;

pub use account_configs::{AccountConfigStore, StoredAccount};
pub use audit::{AccountStatus, AuditRecord, Counts, Outcome, PlanKind, Stage, Trigger};
pub use engine::{Change, ChangeClass, CollectingSink, Plan, RoomRefresh, Sink, SyncConfig, SyncEngine};
pub use inbox::InboxWorker;
pub use jobs::{AlertState, Blocked, JobRecord, JobStore, LeaseGrant, QueuedRetry, StartupFacts};
pub use mapping_store::{MappingStore, review_for_run};
pub use memory::MemoryStore;
pub use room_state::{RoomChangeClass, RoomCounts, RoomStateChange, RoomStateSink};
pub use stay_events::{EventingSink, PreviousBookings, StayEvent, StayEventKind, StayEventSink};
pub use store::{
    AuditLog, Commit, Inbox, InboxEntry, InboxItem, Origin, Queued, RecordMap, RecordState, Scope, Settled,
    StateUpdate, StoreError, SyncState, SyncStore,
};

#[cfg(test)]
mod tests;
