//! Housekeeping as synced entities: each room's state is diffed against the host's copy by
//! fingerprint, counted in the run's audit record and handed to the host as
//! [`RoomStateChange`]s, at least once.
//!
//! The host's copy is what its [`Sink`](super::Sink) kept at the last refresh
//! ([`Sink::kept_housekeeping`](super::Sink::kept_housekeeping)). A change reaches a
//! [`RoomStateSink`] before the new state is applied, so a refresh that fails after delivery
//! derives the same changes, with the same ids, on its retry.
//!
//! A room the source stops reporting is [`RoomChangeClass::Gone`]: counted and delivered, and
//! the room itself (its bookings, its mapping) is untouched.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::Scope;
use crate::error::BoxError;
use crate::model::{Fingerprinted, Housekeeping, SourceKey};

/// How one room's state changed since the host's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoomChangeClass {
    /// A room the host had no state for.
    Appeared,
    /// Condition, occupancy, do-not-disturb, the raw status or the comment changed.
    Changed,
    /// The source no longer reports the room.
    Gone,
}

impl RoomChangeClass {
    /// The name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appeared => "appeared",
            Self::Changed => "changed",
            Self::Gone => "gone",
        }
    }
}

/// One room's state change, with the state before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomStateChange {
    /// Stable for the same change of the same room: the room, the class and the fingerprint
    /// after it. A re-sent change yields the same id.
    pub id: String,
    /// How it changed.
    pub class: RoomChangeClass,
    /// The room or bed.
    pub room: SourceKey,
    /// As the host had it.
    pub before: Option<Housekeeping>,
    /// As the source reports it now (`None` for a room no longer reported).
    pub after: Option<Housekeeping>,
    /// When it changed: the source's time where it gives one, else when the run saw it.
    pub changed_at: DateTime<Utc>,
}

impl RoomStateChange {
    /// Whether the room's condition (clean, dirty, …) is what changed, or the room is new.
    pub fn condition_changed(&self) -> bool {
        self.before.as_ref().map(|h| h.condition) != self.after.as_ref().map(|h| h.condition)
    }
}

/// A room refresh's housekeeping counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomCounts {
    /// Rooms and beds in the rooms read (0 when the refresh read none).
    pub rooms: u64,
    /// Housekeeping states the source returned.
    pub states: u64,
    /// States of rooms the host had none for.
    pub appeared: u64,
    /// States that changed.
    pub changed: u64,
    /// States whose fingerprint did not change.
    pub unchanged: u64,
    /// Rooms the source no longer reports.
    pub gone: u64,
}

impl RoomCounts {
    /// Changes handed to the host.
    pub fn changes(&self) -> u64 {
        self.appeared + self.changed + self.gone
    }
}

/// Diffs `after` against the host's copy `before` (`None`: the host keeps none, so every state
/// appears). Fills in `as_of` where the source gave none: the run's time for changed states,
/// the kept time for unchanged ones, so `as_of` says since when a room has been as it is.
pub fn diff(
    before: Option<&[Housekeeping]>,
    after: &mut [Housekeeping],
    now: DateTime<Utc>,
) -> (Vec<RoomStateChange>, RoomCounts) {
    let kept: BTreeMap<&SourceKey, &Housekeeping> = before.unwrap_or_default().iter().map(|h| (&h.room, h)).collect();
    let mut counts = RoomCounts { states: after.len() as u64, ..RoomCounts::default() };
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for state in after.iter_mut() {
        if !seen.insert(state.room.clone()) {
            // A source listing a room twice: the first state counts, the rest change nothing.
            counts.unchanged += 1;
            continue;
        }
        let old = kept.get(&state.room).copied();
        match old {
            Some(old) if old.fingerprint() == state.fingerprint() => {
                if state.as_of.is_none() {
                    state.as_of = old.as_of;
                }
                counts.unchanged += 1;
            }
            _ => {
                let class = if old.is_some() { RoomChangeClass::Changed } else { RoomChangeClass::Appeared };
                match class {
                    RoomChangeClass::Changed => counts.changed += 1,
                    _ => counts.appeared += 1,
                }
                let changed_at = *state.as_of.get_or_insert(now);
                changes.push(RoomStateChange {
                    id: format!("{}:{}:{}", state.room, class.as_str(), state.fingerprint()),
                    class,
                    room: state.room.clone(),
                    before: old.cloned(),
                    after: Some(state.clone()),
                    changed_at,
                });
            }
        }
    }
    for (room, old) in kept {
        if !seen.contains(room) {
            counts.gone += 1;
            changes.push(RoomStateChange {
                id: format!("{room}:gone:{}", old.fingerprint()),
                class: RoomChangeClass::Gone,
                room: room.clone(),
                before: Some(old.clone()),
                after: None,
                changed_at: now,
            });
        }
    }
    (changes, counts)
}

/// Where room state changes go. Keep the ids seen: a change may come twice, never with
/// another id.
#[async_trait]
pub trait RoomStateSink: Send + Sync {
    /// Takes a refresh's changes. On error the refresh is not applied and its retry sends them
    /// again.
    async fn deliver(&self, scope: &Scope, changes: &[RoomStateChange]) -> Result<(), BoxError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Condition, ConnectorKind};

    fn state(room: &str, condition: Condition) -> Housekeeping {
        Housekeeping::new(SourceKey::new(ConnectorKind::CLOUDBEDS, "p", room), condition)
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn classes_and_counts() {
        let before =
            vec![state("101", Condition::Clean), state("102", Condition::Clean), state("103", Condition::Dirty)];
        let (_, _) = diff(None, &mut before.clone(), at("2026-11-30T08:00:00Z"));
        let mut after =
            vec![state("101", Condition::Dirty), state("102", Condition::Clean), state("104", Condition::Clean)];
        let (changes, counts) = diff(Some(&before), &mut after, at("2026-11-30T10:00:00Z"));
        assert_eq!(counts, RoomCounts { rooms: 0, states: 3, appeared: 1, changed: 1, unchanged: 1, gone: 1 });
        let classes: Vec<_> = changes.iter().map(|c| (c.room.id.as_str(), c.class)).collect();
        assert_eq!(
            classes,
            [("101", RoomChangeClass::Changed), ("104", RoomChangeClass::Appeared), ("103", RoomChangeClass::Gone)]
        );
        assert!(changes[0].condition_changed());
        assert_eq!(changes[2].after, None);
    }

    #[test]
    fn as_of_says_since_when() {
        let now = at("2026-11-30T10:00:00Z");
        let mut first = vec![state("101", Condition::Dirty)];
        diff(None, &mut first, now);
        assert_eq!(first[0].as_of, Some(now));
        // Unchanged an hour later: still dirty since ten.
        let mut again = vec![state("101", Condition::Dirty)];
        let (changes, _) = diff(Some(&first), &mut again, at("2026-11-30T11:00:00Z"));
        assert!(changes.is_empty());
        assert_eq!(again[0].as_of, Some(now));
        // The source's own time wins.
        let mut cleaned = vec![state("101", Condition::Clean)];
        cleaned[0].as_of = Some(at("2026-11-30T11:30:00Z"));
        let (changes, _) = diff(Some(&again), &mut cleaned, at("2026-11-30T12:00:00Z"));
        assert_eq!(changes[0].changed_at, at("2026-11-30T11:30:00Z"));
    }

    #[test]
    fn the_same_change_gets_the_same_id_and_duplicates_count_once() {
        let before = vec![state("101", Condition::Clean)];
        let after = vec![state("101", Condition::Dirty), state("101", Condition::Clean)];
        let (a, counts) = diff(Some(&before), &mut after.clone(), at("2026-11-30T10:00:00Z"));
        let (b, _) = diff(Some(&before), &mut after.clone(), at("2026-11-30T10:05:00Z"));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].id, b[0].id);
        assert_eq!((counts.changed, counts.unchanged), (1, 1));
    }
}
