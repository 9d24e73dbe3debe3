//! `hostelpulse mapping check`: the host's rooms and which source rooms or beds map to each,
//! checked against the rooms the sources reported at the last sync.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hostelpulse::mapping::{self, HostRoom, MappingReport, Suggestion};
use hostelpulse::model::SourceKey;
use serde::Deserialize;

use crate::ops;
use crate::views::{self, BoxError};

/// The mapping file: one `[[room]]` per host room, with the source keys
/// (`connector:account:id`, as `hostelpulse mapping check` prints them) that map to it.
#[derive(Debug, Deserialize)]
struct MappingFile {
    #[serde(default, rename = "room")]
    rooms: Vec<MappedRoom>,
}

#[derive(Debug, Deserialize)]
struct MappedRoom {
    id: String,
    name: String,
    #[serde(default)]
    sources: Vec<String>,
}

fn parse_key(s: &str) -> Result<SourceKey, BoxError> {
    let mut parts = s.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(a), Some(id)) if !c.is_empty() && !a.is_empty() && !id.is_empty() => {
            Ok(SourceKey::new(hostelpulse::ConnectorKind::new(c), hostelpulse::core::AccountId::new(a), id))
        }
        _ => Err(format!("`{s}` is not a source key (connector:account:id)").into()),
    }
}

pub async fn check(mapping_file: PathBuf, db: PathBuf, json: bool) -> Result<(), BoxError> {
    let text = std::fs::read_to_string(&mapping_file)
        .map_err(|e| format!("cannot read the mapping {}: {e}", mapping_file.display()))?;
    let file: MappingFile = toml::from_str(&text).map_err(|e| format!("mapping {}: {e}", mapping_file.display()))?;
    let store = ops::open_existing(&db).await?;
    let properties: Vec<_> = store.properties().await?.into_iter().flat_map(|(_, p)| p).collect();
    if properties.is_empty() {
        return Err("no rooms in the state yet: run `hostelpulse sync` first".into());
    }
    let sources = mapping::source_rooms(&properties);
    let hosts: Vec<HostRoom> = file.rooms.iter().map(|r| HostRoom { id: r.id.clone(), name: r.name.clone() }).collect();
    let mut map = BTreeMap::new();
    for r in &file.rooms {
        for s in &r.sources {
            map.insert(parse_key(s)?, r.id.clone());
        }
    }
    let report = mapping::verify(&map, &sources, &hosts);
    let unmapped: Vec<_> = report.unmapped_sources.clone();
    let suggestions: Vec<Suggestion> =
        mapping::suggest(&unmapped, &hosts).into_iter().filter(|s| !map.contains_key(&s.source)).collect();
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "clean": report.is_clean(), "report": report, "suggestions": suggestions })
            )?
        );
    } else {
        out!("{}", render(&report, &suggestions));
    }
    Ok(())
}

fn render(r: &MappingReport, suggestions: &[Suggestion]) -> String {
    if r.is_clean() {
        return "The mapping is complete and one to one.\n".into();
    }
    let mut rows = vec![vec!["problem".to_owned(), "source key".to_owned(), "detail".to_owned()]];
    for s in &r.unmapped_sources {
        let hint = suggestions
            .iter()
            .find(|g| g.source == s.key)
            .map(|g| format!(" — suggest {}", g.host))
            .unwrap_or_default();
        rows.push(vec!["unmapped".into(), s.key.to_string(), format!("{} ({}){hint}", s.name, s.room_type)]);
    }
    for (host, keys) in &r.duplicates {
        rows.push(vec![
            "duplicate".into(),
            keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            format!("all map to {host}"),
        ]);
    }
    for k in &r.stale {
        rows.push(vec!["stale".into(), k.to_string(), "the source no longer has it".into()]);
    }
    for (k, h) in &r.unknown_hosts {
        rows.push(vec!["unknown host room".into(), k.to_string(), format!("`{h}` is not in the mapping's rooms")]);
    }
    for h in &r.unmapped_hosts {
        rows.push(vec!["host room without source".into(), String::new(), format!("{} ({})", h.name, h.id)]);
    }
    format!("{}\n", views::table(rows))
}
