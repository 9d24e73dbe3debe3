//! Where the room mapping is kept, and how a run reports what it lacks.

use async_trait::async_trait;

use super::store::StoreError;
use crate::mapping::{MappingEntry, MappingReview, RoomMapping, SourceRoom};
use crate::model::SourceKey;

/// The stored room mapping (source room or bed → host room), shared by every account of a store.
#[async_trait]
pub trait MappingStore: Send + Sync {
    /// Every stored pair.
    async fn room_mapping(&self) -> Result<RoomMapping, StoreError>;
    /// Inserts or replaces pairs, in one transaction.
    async fn put_room_mapping(&self, pairs: &[(SourceKey, MappingEntry)]) -> Result<(), StoreError>;
    /// Removes pairs (the source room is gone, or the host unmapped it), in one transaction.
    async fn remove_room_mapping(&self, keys: &[SourceKey]) -> Result<(), StoreError>;
}

/// The review a sync report carries for one account: `known` are the rooms the store holds for
/// the account (`None` for sources that list no rooms), `seen` the rooms this run's bookings are
/// allocated to. Nothing is reported until the host has stored a first pair: a host that maps
/// nothing does not want every room listed on every run.
pub fn review_for_run(
    mapping: &RoomMapping,
    known: Option<Vec<SourceRoom>>,
    seen: &[SourceRoom],
) -> Option<MappingReview> {
    if mapping.is_empty() {
        return None;
    }
    let judge_removed = known.is_some();
    let mut rooms = known.unwrap_or_default();
    // A booking's label is not the room list's name: renames are judged on room lists only.
    let listed: std::collections::BTreeSet<SourceKey> = rooms.iter().map(|r| r.key.clone()).collect();
    let mut have = listed.clone();
    // A stay another source reports on a mapped unit of the PMS (a feed configured onto its unit
    // ids) is in a mapped room: only units no pair names are judged.
    for s in seen.iter().filter(|s| mapping.host_for_unit(&s.key).is_none() || mapping.entries.contains_key(&s.key)) {
        if have.insert(s.key.clone()) {
            rooms.push(s.clone());
        }
    }
    let mut review = mapping.review(&rooms);
    review.renamed.retain(|r| listed.contains(&r.key));
    if !judge_removed {
        review.removed.clear();
    }
    Some(review)
}
