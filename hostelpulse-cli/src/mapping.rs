//! `hostelpulse mapping`: the host's rooms and which source rooms or beds map to each, checked
//! against the rooms the sources reported at the last sync, and the mapping kept in the state
//! (suggested, confirmed, edited, removed) that sync reports, tasks and the board apply.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hostelpulse::mapping::{self, HostRoom, MappingEntry, MappingReport, Suggestion};
use hostelpulse::model::SourceKey;
use hostelpulse::sync::MappingStore;
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
    Ok(s.parse::<SourceKey>()?)
}

fn read_rooms(path: &PathBuf) -> Result<MappingFile, BoxError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// The source rooms of every account, as the last sync stored them.
async fn source_rooms(store: &hostelpulse::store::SqliteStore) -> Result<Vec<mapping::SourceRoom>, BoxError> {
    let properties: Vec<_> = store.properties().await?.into_iter().flat_map(|(_, p)| p).collect();
    if properties.is_empty() {
        return Err("no rooms in the state yet: run `hostelpulse sync` first".into());
    }
    Ok(mapping::source_rooms(&properties))
}

pub async fn check(mapping_file: PathBuf, db: PathBuf, save: bool, json: bool) -> Result<(), BoxError> {
    let file = read_rooms(&mapping_file)?;
    let store = ops::open_existing(&db).await?;
    let sources = source_rooms(&store).await?;
    let hosts: Vec<HostRoom> = file.rooms.iter().map(|r| HostRoom { id: r.id.clone(), name: r.name.clone() }).collect();
    let mut map = BTreeMap::new();
    for r in &file.rooms {
        for s in &r.sources {
            map.insert(parse_key(s)?, r.id.clone());
        }
    }
    let report = mapping::verify(&map, &sources, &hosts);
    if save {
        let names: BTreeMap<&SourceKey, &str> = sources.iter().map(|s| (&s.key, s.name.as_str())).collect();
        let pairs: Vec<(SourceKey, MappingEntry)> = map
            .iter()
            .filter_map(|(k, h)| {
                let host = hosts.iter().find(|x| &x.id == h)?.clone();
                Some((k.clone(), MappingEntry::confirmed(host, names.get(k).copied().unwrap_or_default())))
            })
            .collect();
        store.put_room_mapping(&pairs).await?;
        if !json {
            outln!("{} pair(s) stored, confirmed.", pairs.len());
        }
    }
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

pub async fn suggest(rooms: PathBuf, db: PathBuf, json: bool) -> Result<(), BoxError> {
    let file = read_rooms(&rooms)?;
    let hosts: Vec<HostRoom> = file.rooms.iter().map(|r| HostRoom { id: r.id.clone(), name: r.name.clone() }).collect();
    let store = ops::open_existing(&db).await?;
    let sources = source_rooms(&store).await?;
    let stored = store.room_mapping().await?;
    let pairs = stored.suggestions_for(&sources, &hosts);
    store.put_room_mapping(&pairs).await?;
    if json {
        let list: Vec<_> = pairs
            .iter()
            .map(|(k, e)| serde_json::json!({ "source": k.to_string(), "source_name": e.source_name, "host": e.host, "basis": e.basis }))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let mut rows =
        vec![vec!["source key".to_owned(), "source room".to_owned(), "host room".to_owned(), "why".to_owned()]];
    for (k, e) in &pairs {
        let why = e.basis.map(|b| format!("{b:?}").to_lowercase()).unwrap_or_default();
        rows.push(vec![k.to_string(), e.source_name.clone(), format!("{} ({})", e.host.name, e.host.id), why]);
    }
    outln!("{}", views::table(rows));
    outln!(
        "{} suggestion(s) stored, not applied yet: `hostelpulse mapping confirm --all` (or name the keys), \
         `hostelpulse mapping set KEY --host-id … --host-name …` to choose another.",
        pairs.len()
    );
    Ok(())
}

pub async fn confirm(keys: Vec<String>, all: bool, db: PathBuf) -> Result<(), BoxError> {
    let store = ops::open_existing(&db).await?;
    let mapping = store.room_mapping().await?;
    let wanted: Vec<SourceKey> = if all {
        mapping.entries.iter().filter(|(_, e)| !e.confirmed).map(|(k, _)| k.clone()).collect()
    } else if keys.is_empty() {
        return Err("name the suggestions to confirm (connector:account:id), or pass --all".into());
    } else {
        keys.iter().map(|k| parse_key(k)).collect::<Result<_, _>>()?
    };
    let mut pairs = Vec::new();
    for k in &wanted {
        let Some(e) = mapping.entries.get(k) else {
            return Err(
                format!("no stored pair for {k}: `hostelpulse mapping set` it, or `mapping suggest` first").into()
            );
        };
        let mut e = e.clone();
        e.confirmed = true;
        pairs.push((k.clone(), e));
    }
    store.put_room_mapping(&pairs).await?;
    outln!("{} pair(s) confirmed.", pairs.len());
    Ok(())
}

pub async fn set(key: String, host_id: String, host_name: String, db: PathBuf) -> Result<(), BoxError> {
    let key = parse_key(&key)?;
    let store = ops::open_existing(&db).await?;
    let sources = source_rooms(&store).await.unwrap_or_default();
    // The name the source gives it now, so a later rename upstream is flagged.
    let name = sources.iter().find(|s| s.key == key).map(|s| s.name.clone()).unwrap_or_else(|| key.id.to_string());
    store
        .put_room_mapping(&[(key.clone(), MappingEntry::confirmed(HostRoom { id: host_id, name: host_name }, name))])
        .await?;
    outln!("{key} mapped (confirmed).");
    Ok(())
}

pub async fn remove(keys: Vec<String>, db: PathBuf) -> Result<(), BoxError> {
    let keys: Vec<SourceKey> = keys.iter().map(|k| parse_key(k)).collect::<Result<_, _>>()?;
    let store = ops::open_existing(&db).await?;
    store.remove_room_mapping(&keys).await?;
    outln!("{} pair(s) removed.", keys.len());
    Ok(())
}

pub async fn show(db: PathBuf, json: bool) -> Result<(), BoxError> {
    let store = ops::open_existing(&db).await?;
    let mapping = store.room_mapping().await?;
    let sources = source_rooms(&store).await.unwrap_or_default();
    let review = mapping.review(&sources);
    if json {
        let pairs: Vec<_> =
            mapping.entries.iter().map(|(k, e)| serde_json::json!({ "source": k.to_string(), "entry": e })).collect();
        outln!("{}", serde_json::to_string_pretty(&serde_json::json!({ "pairs": pairs, "review": review }))?);
        return Ok(());
    }
    let mut rows =
        vec![vec!["source key".to_owned(), "source room".to_owned(), "host room".to_owned(), "state".to_owned()]];
    for (k, e) in &mapping.entries {
        let state = if e.confirmed { "confirmed" } else { "suggested" };
        rows.push(vec![k.to_string(), e.source_name.clone(), format!("{} ({})", e.host.name, e.host.id), state.into()]);
    }
    outln!("{}", views::table(rows));
    match review.summary() {
        Some(line) => outln!("{line}"),
        None => outln!("Every source room is mapped and confirmed."),
    }
    Ok(())
}
