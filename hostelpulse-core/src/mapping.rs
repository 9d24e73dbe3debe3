//! Mapping source rooms and beds to the host's own room identifiers: suggestions by name or number,
//! a verification report a mapping screen can show (unmapped source rooms, host rooms with no
//! source, duplicates, mappings to rooms the source no longer has), and the stored mapping itself
//! ([`RoomMapping`]) with the review a change upstream calls for ([`MappingReview`]).
//!
//! A stored entry remembers the source room's name when it was confirmed: a room renamed
//! upstream (a bed renumbered, a dorm split) no longer matches it and the mapping asks to be
//! reviewed, but keeps applying until the host decides.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Property, RoomKind, SourceKey};

/// A sellable unit at the source: a private room or a dorm bed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRoom {
    /// Its key.
    pub key: SourceKey,
    /// Its name ("201", "D1-Bed C").
    pub name: String,
    /// The dorm room it sits in, for beds.
    pub dorm: Option<String>,
    /// The room type's name.
    pub room_type: String,
}

/// A room (or bed) in the host application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRoom {
    /// The host's id.
    pub id: String,
    /// The host's name.
    pub name: String,
}

/// Every private room and dorm bed of some properties.
pub fn source_rooms(properties: &[Property]) -> Vec<SourceRoom> {
    let mut out = Vec::new();
    for p in properties {
        for t in &p.room_types {
            for r in &t.rooms {
                match t.kind {
                    RoomKind::Dorm => out.extend(r.beds.iter().map(|b| SourceRoom {
                        key: b.key.clone(),
                        name: b.name.clone(),
                        dorm: Some(r.name.clone()),
                        room_type: t.name.clone(),
                    })),
                    _ => out.push(SourceRoom {
                        key: r.key.clone(),
                        name: r.name.clone(),
                        dorm: None,
                        room_type: t.name.clone(),
                    }),
                }
            }
        }
    }
    out
}

/// Why a pair was suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Basis {
    /// Same name, ignoring case, spaces and punctuation.
    Name,
    /// Same room number (the digits in both names agree).
    Number,
}

/// A suggested pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The source room or bed.
    pub source: SourceKey,
    /// The host room.
    pub host: String,
    /// Why.
    pub basis: Basis,
}

fn normalized(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn digits(s: &str) -> Option<String> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    (!d.is_empty()).then_some(d)
}

/// Suggests a host room for each source room, by equal normalized name, else by equal number
/// when that number is unambiguous on both sides. Never suggests a host room twice.
pub fn suggest(sources: &[SourceRoom], hosts: &[HostRoom]) -> Vec<Suggestion> {
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    let by_name: BTreeMap<String, &HostRoom> = hosts.iter().map(|h| (normalized(&h.name), h)).collect();
    let count_digits = |names: &mut dyn Iterator<Item = &str>| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for n in names {
            if let Some(d) = digits(n) {
                *m.entry(d).or_default() += 1;
            }
        }
        m
    };
    let host_digits = count_digits(&mut hosts.iter().map(|h| h.name.as_str()));
    let source_digits = count_digits(&mut sources.iter().map(|s| s.name.as_str()));
    for s in sources {
        let full = match &s.dorm {
            Some(d) => format!("{d} {}", s.name),
            None => s.name.clone(),
        };
        let by_exact = by_name.get(&normalized(&s.name)).or_else(|| by_name.get(&normalized(&full)));
        if let Some(h) = by_exact.filter(|h| !taken.contains(h.id.as_str())) {
            taken.insert(&h.id);
            out.push(Suggestion { source: s.key.clone(), host: h.id.clone(), basis: Basis::Name });
            continue;
        }
        let Some(d) = digits(&s.name) else { continue };
        if source_digits.get(&d) != Some(&1) || host_digits.get(&d) != Some(&1) {
            continue;
        }
        if let Some(h) =
            hosts.iter().find(|h| digits(&h.name).as_deref() == Some(d.as_str()) && !taken.contains(h.id.as_str()))
        {
            taken.insert(&h.id);
            out.push(Suggestion { source: s.key.clone(), host: h.id.clone(), basis: Basis::Number });
        }
    }
    out
}

/// What is wrong with a mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MappingReport {
    /// Source rooms or beds mapped to nothing: their bookings cannot be placed.
    pub unmapped_sources: Vec<SourceRoom>,
    /// Host rooms no source room maps to.
    pub unmapped_hosts: Vec<HostRoom>,
    /// Host rooms that several source rooms map to, with those sources.
    pub duplicates: Vec<(String, Vec<SourceKey>)>,
    /// Mappings from source keys the source no longer has.
    pub stale: Vec<SourceKey>,
    /// Mappings to host ids the host does not have.
    pub unknown_hosts: Vec<(SourceKey, String)>,
}

impl MappingReport {
    /// Whether the mapping is complete and one to one.
    pub fn is_clean(&self) -> bool {
        self.unmapped_sources.is_empty()
            && self.duplicates.is_empty()
            && self.stale.is_empty()
            && self.unknown_hosts.is_empty()
    }
}

/// Checks `mapping` (source key → host id) against what the source and the host have.
pub fn verify(mapping: &BTreeMap<SourceKey, String>, sources: &[SourceRoom], hosts: &[HostRoom]) -> MappingReport {
    let source_keys: BTreeSet<&SourceKey> = sources.iter().map(|s| &s.key).collect();
    let host_ids: BTreeSet<&str> = hosts.iter().map(|h| h.id.as_str()).collect();
    let mut report = MappingReport {
        unmapped_sources: sources.iter().filter(|s| !mapping.contains_key(&s.key)).cloned().collect(),
        stale: mapping.keys().filter(|k| !source_keys.contains(k)).cloned().collect(),
        unknown_hosts: mapping
            .iter()
            .filter(|(_, h)| !host_ids.contains(h.as_str()))
            .map(|(k, h)| (k.clone(), h.clone()))
            .collect(),
        ..MappingReport::default()
    };
    let mut by_host: BTreeMap<&str, Vec<SourceKey>> = BTreeMap::new();
    for (k, h) in mapping.iter().filter(|(k, _)| source_keys.contains(k)) {
        by_host.entry(h.as_str()).or_default().push(k.clone());
    }
    report.duplicates = by_host.iter().filter(|(_, v)| v.len() > 1).map(|(h, v)| (h.to_string(), v.clone())).collect();
    report.unmapped_hosts = hosts.iter().filter(|h| !by_host.contains_key(h.id.as_str())).cloned().collect();
    report
}

/// One stored pair: a source room or bed and the host room it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MappingEntry {
    /// The host's room.
    pub host: HostRoom,
    /// The source room's name when the pair was made (renames upstream are flagged against it).
    pub source_name: String,
    /// Confirmed by the host. Suggestions are stored unconfirmed and are not applied.
    pub confirmed: bool,
    /// Why it was suggested; `None` when the host chose it.
    pub basis: Option<Basis>,
}

impl MappingEntry {
    /// A pair the host chose (confirmed).
    pub fn confirmed(host: HostRoom, source_name: impl Into<String>) -> Self {
        Self { host, source_name: source_name.into(), confirmed: true, basis: None }
    }

    /// A suggested pair, waiting for the host to confirm it.
    pub fn suggested(host: HostRoom, source_name: impl Into<String>, basis: Basis) -> Self {
        Self { host, source_name: source_name.into(), confirmed: false, basis: Some(basis) }
    }
}

/// A source room whose name changed since its pair was confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    /// The source room or bed.
    pub key: SourceKey,
    /// Its name when the pair was made.
    pub was: String,
    /// Its name now.
    pub now: String,
    /// The host room it is still mapped to.
    pub host: String,
}

/// What in a stored mapping needs the host's attention, against the rooms the source has now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MappingReview {
    /// Source rooms or beds with no confirmed pair: their bookings, tasks and housekeeping show
    /// under the source's own names.
    pub unmapped: Vec<SourceRoom>,
    /// Pairs whose source room was renamed upstream.
    pub renamed: Vec<Renamed>,
    /// Pairs whose source room the source no longer has.
    pub removed: Vec<SourceKey>,
    /// Suggested pairs not confirmed yet.
    pub unconfirmed: Vec<SourceKey>,
}

impl MappingReview {
    /// Whether nothing needs attention.
    pub fn is_clean(&self) -> bool {
        self.unmapped.is_empty() && self.renamed.is_empty() && self.removed.is_empty() && self.unconfirmed.is_empty()
    }

    /// One line for a sync report; `None` when clean.
    pub fn summary(&self) -> Option<String> {
        if self.is_clean() {
            return None;
        }
        let mut parts = Vec::new();
        let names = |v: &mut dyn Iterator<Item = String>| {
            let all: Vec<String> = v.collect();
            let more = all.len().saturating_sub(5);
            let mut s = all.into_iter().take(5).collect::<Vec<_>>().join(", ");
            if more > 0 {
                s += &format!(" and {more} more");
            }
            s
        };
        if !self.unmapped.is_empty() {
            let list = names(&mut self.unmapped.iter().map(|r| format!("{} ({})", r.name, r.key)));
            parts.push(format!("{} unmapped: {list}", self.unmapped.len()));
        }
        if !self.renamed.is_empty() {
            let list = names(&mut self.renamed.iter().map(|r| format!("`{}` is now `{}`", r.was, r.now)));
            parts.push(format!("{} renamed upstream: {list}", self.renamed.len()));
        }
        if !self.removed.is_empty() {
            let list = names(&mut self.removed.iter().map(ToString::to_string));
            parts.push(format!("{} no longer at the source: {list}", self.removed.len()));
        }
        if !self.unconfirmed.is_empty() {
            parts.push(format!("{} suggestion(s) to confirm", self.unconfirmed.len()));
        }
        Some(format!("room mapping needs review — {}", parts.join("; ")))
    }
}

/// The stored mapping: source room or bed → host room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomMapping {
    /// The pairs, confirmed or suggested.
    pub entries: BTreeMap<SourceKey, MappingEntry>,
}

impl RoomMapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the host has started mapping at all (any pair stored).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The host room a source room or bed is, once confirmed.
    pub fn host_for(&self, key: &SourceKey) -> Option<&HostRoom> {
        self.entries.get(key).filter(|e| e.confirmed).map(|e| &e.host)
    }

    /// The host room of a unit a booking is allocated to: its own pair, else the one confirmed
    /// pair of another account with the same unit id. Feeds and mailboxes are configured onto
    /// the PMS's unit ids (`room = "316001-dorm"`), so their stays land in the PMS's mapped rooms;
    /// an id two accounts' pairs share is ambiguous and maps to nothing.
    pub fn host_for_unit(&self, key: &SourceKey) -> Option<&HostRoom> {
        if let Some(h) = self.host_for(key) {
            return Some(h);
        }
        let mut same = self.entries.iter().filter(|(k, e)| e.confirmed && k.id == key.id).map(|(_, e)| &e.host);
        let first = same.next()?;
        same.all(|h| h == first).then_some(first)
    }

    /// The pairs of one account (a store keeps every account's mapping together).
    pub fn of_account(&self, connector: &crate::model::ConnectorKind, account: &crate::model::AccountId) -> Self {
        Self {
            entries: self
                .entries
                .iter()
                .filter(|(k, _)| &k.connector == connector && &k.account == account)
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect(),
        }
    }

    /// Suggestions for the source rooms without a pair, as unconfirmed entries (confirmed pairs
    /// and the host rooms they use are left alone).
    pub fn suggestions_for(&self, sources: &[SourceRoom], hosts: &[HostRoom]) -> Vec<(SourceKey, MappingEntry)> {
        let used: BTreeSet<&str> = self.entries.values().filter(|e| e.confirmed).map(|e| e.host.id.as_str()).collect();
        let free_hosts: Vec<HostRoom> = hosts.iter().filter(|h| !used.contains(h.id.as_str())).cloned().collect();
        let open: Vec<SourceRoom> =
            sources.iter().filter(|s| !self.entries.get(&s.key).is_some_and(|e| e.confirmed)).cloned().collect();
        let names: BTreeMap<&SourceKey, &str> = open.iter().map(|s| (&s.key, s.name.as_str())).collect();
        suggest(&open, &free_hosts)
            .into_iter()
            .filter_map(|s| {
                let host = free_hosts.iter().find(|h| h.id == s.host)?.clone();
                let name = names.get(&s.source).copied().unwrap_or_default();
                Some((s.source.clone(), MappingEntry::suggested(host, name, s.basis)))
            })
            .collect()
    }

    /// What needs review against `sources`, the rooms the source has now. Only entries of the
    /// accounts `sources` come from are judged removed: another account's rooms are not known here.
    pub fn review(&self, sources: &[SourceRoom]) -> MappingReview {
        let accounts: BTreeSet<(&crate::model::ConnectorKind, &crate::model::AccountId)> =
            sources.iter().map(|s| (&s.key.connector, &s.key.account)).collect();
        let by_key: BTreeMap<&SourceKey, &SourceRoom> = sources.iter().map(|s| (&s.key, s)).collect();
        let mut review = MappingReview::default();
        for s in sources {
            match self.entries.get(&s.key) {
                Some(e) if e.confirmed => {
                    if e.source_name != s.name {
                        review.renamed.push(Renamed {
                            key: s.key.clone(),
                            was: e.source_name.clone(),
                            now: s.name.clone(),
                            host: e.host.id.clone(),
                        });
                    }
                }
                Some(_) => {
                    review.unmapped.push(s.clone());
                    review.unconfirmed.push(s.key.clone());
                }
                None => review.unmapped.push(s.clone()),
            }
        }
        review.removed = self
            .entries
            .keys()
            .filter(|k| accounts.contains(&(&k.connector, &k.account)) && !by_key.contains_key(k))
            .cloned()
            .collect();
        review
    }
}

/// The rooms and beds bookings are allocated to, as source rooms (for sources without a room
/// list, such as a feed mapped to one unit): a unit's name is the allocation's label.
pub fn allocated_rooms<'a>(bookings: impl IntoIterator<Item = &'a crate::model::Booking>) -> Vec<SourceRoom> {
    let mut seen: BTreeMap<SourceKey, SourceRoom> = BTreeMap::new();
    for b in bookings {
        for a in &b.allocations {
            let Some(unit) = a.bed.as_ref().or(a.room.as_ref()) else { continue };
            let key = SourceKey::new(b.key.connector.clone(), b.key.account.clone(), unit.clone());
            seen.entry(key.clone()).or_insert_with(|| SourceRoom {
                key,
                name: a.label.clone().unwrap_or_else(|| unit.to_string()),
                dorm: None,
                room_type: a.room_type.as_ref().map(ToString::to_string).unwrap_or_default(),
            });
        }
    }
    seen.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConnectorKind;

    fn src(id: &str, name: &str, dorm: Option<&str>) -> SourceRoom {
        SourceRoom {
            key: SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id),
            name: name.into(),
            dorm: dorm.map(str::to_owned),
            room_type: "t".into(),
        }
    }

    fn host(id: &str, name: &str) -> HostRoom {
        HostRoom { id: id.into(), name: name.into() }
    }

    #[test]
    fn suggestions_match_names_then_unambiguous_numbers() {
        let sources = vec![
            src("445567-1", "201", None),
            src("445567-2", "Room 202", None),
            src("445566-1", "D1-Bed A", Some("Dorm 1")),
            src("445566-9", "Annex", None),
        ];
        let hosts =
            vec![host("h-201", "201"), host("h-202", "Twin 202"), host("h-d1a", "d1 bed a"), host("h-303", "303")];
        let s = suggest(&sources, &hosts);
        let pairs: Vec<(&str, &str, Basis)> =
            s.iter().map(|x| (x.source.id.as_str(), x.host.as_str(), x.basis)).collect();
        assert_eq!(
            pairs,
            vec![
                ("445567-1", "h-201", Basis::Name),
                ("445567-2", "h-202", Basis::Number),
                ("445566-1", "h-d1a", Basis::Name)
            ]
        );
    }

    #[test]
    fn the_report_shows_a_seeded_mismatch() {
        let sources = vec![
            src("445567-1", "201", None),
            src("445567-2", "202", None),
            src("445566-1", "D1-Bed A", Some("Dorm 1")),
        ];
        let hosts = vec![host("h-201", "201"), host("h-202", "202"), host("h-301", "301")];
        let k = |id: &str| SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id);
        let mapping: BTreeMap<SourceKey, String> = [
            (k("445567-1"), "h-201".to_owned()),
            (k("445567-2"), "h-201".to_owned()), // duplicate
            (k("445567-9"), "h-202".to_owned()), // stale: the source has no such room
            (k("445566-1"), "h-999".to_owned()), // unknown host room
        ]
        .into_iter()
        .collect();
        let r = verify(&mapping, &sources, &hosts);
        assert!(!r.is_clean());
        assert!(r.unmapped_sources.is_empty());
        assert_eq!(r.duplicates, vec![("h-201".to_owned(), vec![k("445567-1"), k("445567-2")])]);
        assert_eq!(r.stale, vec![k("445567-9")]);
        assert_eq!(r.unknown_hosts, vec![(k("445566-1"), "h-999".to_owned())]);
        assert_eq!(r.unmapped_hosts.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), vec!["h-202", "h-301"]);
        insta::assert_json_snapshot!(r);
    }
}

#[cfg(test)]
mod stored_tests {
    use super::*;
    use crate::model::ConnectorKind;

    fn src(id: &str, name: &str) -> SourceRoom {
        SourceRoom {
            key: SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id),
            name: name.into(),
            dorm: None,
            room_type: "t".into(),
        }
    }

    fn host(id: &str, name: &str) -> HostRoom {
        HostRoom { id: id.into(), name: name.into() }
    }

    #[test]
    fn suggestions_leave_confirmed_pairs_and_their_host_rooms_alone() {
        let sources = vec![src("1", "201"), src("2", "202"), src("3", "203")];
        let hosts = vec![host("h1", "201"), host("h2", "202"), host("h3", "203")];
        let mut m = RoomMapping::new();
        // The host put 201 on h2 on purpose: h2 is not offered again, 202 gets no suggestion.
        m.entries.insert(sources[0].key.clone(), MappingEntry::confirmed(host("h2", "202"), "201"));
        let s = m.suggestions_for(&sources, &hosts);
        let pairs: Vec<(&str, &str, bool)> =
            s.iter().map(|(k, e)| (k.id.as_str(), e.host.id.as_str(), e.confirmed)).collect();
        assert_eq!(pairs, [("3", "h3", false)]);
    }

    #[test]
    fn the_review_flags_new_renamed_removed_and_unconfirmed_rooms() {
        let mut m = RoomMapping::new();
        let k = |id: &str| SourceKey::new(ConnectorKind::CLOUDBEDS, "173042", id);
        m.entries.insert(k("1"), MappingEntry::confirmed(host("h1", "201"), "201"));
        m.entries.insert(k("2"), MappingEntry::confirmed(host("h2", "202"), "202"));
        m.entries.insert(k("3"), MappingEntry::suggested(host("h3", "203"), "203", Basis::Name));
        m.entries.insert(k("9"), MappingEntry::confirmed(host("h9", "old"), "old"));
        // Another account's pair is not judged by this account's rooms.
        let other = SourceKey::new(ConnectorKind::BEDS24, "x", "9");
        m.entries.insert(other.clone(), MappingEntry::confirmed(host("hx", "x"), "x"));
        let now = vec![src("1", "201"), src("2", "202 (twin)"), src("3", "203"), src("4", "204")];
        let r = m.review(&now);
        assert_eq!(r.unmapped.iter().map(|s| s.key.id.as_str()).collect::<Vec<_>>(), ["3", "4"]);
        assert_eq!(r.unconfirmed, [k("3")]);
        assert_eq!(
            r.renamed,
            [Renamed { key: k("2"), was: "202".into(), now: "202 (twin)".into(), host: "h2".into() }]
        );
        assert_eq!(r.removed, [k("9")]);
        assert_eq!(m.host_for(&k("2")).map(|h| h.id.as_str()), Some("h2"), "a renamed pair still applies");
        let line = r.summary().unwrap();
        assert!(line.contains("2 unmapped") && line.contains("`202` is now `202 (twin)`"), "{line}");
        // A run of a source without a room list judges only what its bookings name.
        let run = crate::sync::review_for_run(&m, None, &[src("5", "bed 5")]).unwrap();
        assert!(run.removed.is_empty() && run.renamed.is_empty());
        assert_eq!(run.unmapped.len(), 1);
        assert_eq!(crate::sync::review_for_run(&RoomMapping::new(), None, &[src("5", "x")]), None);
        // A feed's stay on the PMS's mapped unit 1 is in a mapped room; on unit 7, not.
        let feed = |id: &str| SourceRoom { key: SourceKey::new(ConnectorKind::ICAL, "feeds", id), ..src(id, id) };
        let run = crate::sync::review_for_run(&m, None, &[feed("1"), feed("7")]).unwrap();
        assert_eq!(run.unmapped.iter().map(|s| s.key.id.as_str()).collect::<Vec<_>>(), ["7"]);
        assert_eq!(m.host_for_unit(&feed("1").key).map(|h| h.id.as_str()), Some("h1"));
        // An id two accounts' pairs share is ambiguous.
        let mut two = m.clone();
        two.entries
            .insert(SourceKey::new(ConnectorKind::BEDS24, "y", "1"), MappingEntry::confirmed(host("hy", "y"), "1"));
        assert_eq!(two.host_for_unit(&feed("1").key), None);
    }
}
