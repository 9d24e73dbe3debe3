//! Mapping source rooms and beds to the host's own room identifiers: suggestions by name or number,
//! and a verification report a mapping screen can show (unmapped source rooms, host rooms with no
//! source, duplicates, mappings to rooms the source no longer has).

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
