//! Accounts the owner console added, changed or removed, kept in the store over the host's
//! configuration file ([`StoredAccount`]), and the secrets that came with them.
//!
//! A stored account's configuration is the JSON form of an `[[account]]` table. Its secrets are
//! never in it: each is saved in the store's token table under the account and the field's path
//! (`api_key`, `credentials.refresh_token`, `feeds.0.url`), and the configuration holds a
//! reference to it, `{ "secret": "console:<account>/<path>" }`, which [`StoredSecrets`] resolves.
//!
//! ```
//! use hostelpulse::config::Fleet;
//! use hostelpulse::core::sync::StoredAccount;
//!
//! let mut fleet = Fleet::from_toml(r#"
//! [[property]]
//! name = "Harbour"
//! timezone = "Europe/Lisbon"
//! [[property.account]]
//! connector = "email"
//! id = "inbox"
//! maildir = "/var/mail/harbour"
//! "#).unwrap();
//! let feed = serde_json::json!({
//!     "connector": "ical", "id": "airbnb",
//!     "feeds": [{ "id": "dorm", "url": { "secret": "console:airbnb/feeds.0.url" } }],
//! });
//! let skipped = hostelpulse::stored::apply(&mut fleet, &[
//!     StoredAccount::new("Harbour", "airbnb", Some(feed), chrono::Utc::now()),
//!     StoredAccount::new("Harbour", "inbox", None, chrono::Utc::now()),
//! ]);
//! assert!(skipped.is_empty());
//! let ids: Vec<&str> = fleet.properties[0].accounts.iter().map(|a| a.id()).collect();
//! assert_eq!(ids, ["airbnb"]);
//! ```

use std::borrow::Cow;
use std::collections::HashMap;

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::config::{AccountConfig, Fleet, SecretProvider};
use crate::core::http::{TokenKey, TokenStore};
pub use crate::core::sync::StoredAccount;
use crate::core::{AccountId, ConnectorKind, Error};

/// The prefix of a secret reference to the store's token table.
pub const SECRET_PREFIX: &str = "console:";

/// Where a stored account's secret is kept in the token table.
pub fn secret_key(account: &str, path: &str) -> TokenKey {
    TokenKey {
        connector: ConnectorKind::new("account-secret"),
        account: AccountId::new(account),
        name: Cow::Owned(path.to_owned()),
    }
}

/// An account the stored entries could not apply, and why (the rest still apply).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The account.
    pub account: String,
    /// Why.
    pub reason: String,
}

/// Applies stored entries over the fleet, in order: each replaces (or, with no configuration,
/// removes) the account of its id wherever the file declared it, and adds it to its property. An
/// entry that would leave the fleet invalid (an unknown property, a configuration this version
/// no longer reads, an id or source used twice) is skipped and reported, never half applied.
pub fn apply(fleet: &mut Fleet, stored: &[StoredAccount]) -> Vec<Skipped> {
    let mut skipped = Vec::new();
    for entry in stored {
        match applied(fleet, entry) {
            Ok(next) => *fleet = next,
            Err(e) => skipped.push(Skipped { account: entry.account.clone(), reason: e.to_string() }),
        }
    }
    skipped
}

/// [`apply`], also skipping an entry whose account cannot be built (a secret gone from the
/// environment or the token table, a connector this program lacks): what a runtime starting on
/// the store's entries wants, so that one broken entry never stops the other accounts.
pub fn apply_buildable(
    fleet: &mut Fleet,
    stored: &[StoredAccount],
    secrets: &dyn SecretProvider,
    tokens: std::sync::Arc<dyn TokenStore>,
) -> Vec<Skipped> {
    let mut skipped = Vec::new();
    for entry in stored {
        let next = applied(fleet, entry).and_then(|next| {
            if entry.config.is_some()
                && let Some(p) = next.properties.iter().find(|p| p.property.name == entry.property)
            {
                crate::Registry::build_with_tokens(p, secrets, tokens.clone())?;
            }
            Ok(next)
        });
        match next {
            Ok(next) => *fleet = next,
            Err(e) => skipped.push(Skipped { account: entry.account.clone(), reason: e.to_string() }),
        }
    }
    skipped
}

/// The fleet with one entry applied.
pub fn applied(fleet: &Fleet, entry: &StoredAccount) -> Result<Fleet, Error> {
    let mut next = fleet.clone();
    let id = entry.account.as_str();
    let added = match &entry.config {
        Some(json) => {
            let account: AccountConfig =
                serde_json::from_value(json.clone()).map_err(|e| Error::config(format!("account `{id}`: {e}")))?;
            if account.id() != id {
                return Err(Error::config(format!("the configuration's id `{}` is not `{id}`", account.id())));
            }
            Some(account)
        }
        None => None,
    };
    let Some(target) = next.properties.iter().position(|p| p.property.name == entry.property) else {
        return Err(Error::config(format!("no property `{}` in the configuration", entry.property)));
    };
    for (i, p) in next.properties.iter_mut().enumerate() {
        let before = p.accounts.len();
        p.accounts.retain(|a| a.id() != id);
        if p.accounts.len() != before && (added.is_none() || i != target) {
            // Removed from this property: its overrides and its place in the property's
            // account list go with it (an update in place keeps them).
            p.schedule.account.remove(id);
            p.alerts.account.remove(id);
            if let Some(list) = &mut p.property.accounts {
                list.retain(|a| a != id);
            }
        }
    }
    if let Some(account) = added {
        let p = &mut next.properties[target];
        if let Some(list) = &mut p.property.accounts
            && !list.iter().any(|a| a == id)
        {
            list.push(id.to_owned());
        }
        p.accounts.push(account);
    }
    for p in &next.properties {
        p.validate().map_err(|e| Error::config(format!("property `{}`: {e}", p.property.name)))?;
    }
    next.validate()?;
    Ok(next)
}

/// Why a configuration sent to the console cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
#[non_exhaustive]
pub struct Refused(pub String);

/// Takes a configuration and the secrets sent beside it, by path: each secret replaces the
/// value at its path with a reference, and is returned with the key to save it under. A secret
/// written inline in the configuration, or a reference to another account's stored secret, is
/// refused: secrets travel beside the configuration, so that none is ever stored in it.
pub fn separate_secrets(
    account: &str,
    mut config: Value,
    secrets: impl IntoIterator<Item = (String, SecretString)>,
) -> Result<(Value, Vec<(TokenKey, SecretString)>), Refused> {
    check_no_inline(&config, "", account)?;
    let mut saved = Vec::new();
    for (path, secret) in secrets {
        let slot = slot_at(&mut config, &path)
            .ok_or_else(|| Refused(format!("secret `{path}`: no such place in the configuration")))?;
        *slot = reference(account, &path);
        saved.push((secret_key(account, &path), secret));
    }
    Ok((config, saved))
}

/// `{ "secret": "console:<account>/<path>" }`.
fn reference(account: &str, path: &str) -> Value {
    let mut m = Map::new();
    m.insert("secret".into(), Value::String(format!("{SECRET_PREFIX}{account}/{path}")));
    Value::Object(m)
}

fn check_no_inline(v: &Value, at: &str, account: &str) -> Result<(), Refused> {
    match v {
        Value::Object(m) => {
            if m.contains_key("insecure_inline") || (m.contains_key("value") && m.len() <= 2) {
                return Err(Refused(format!(
                    "`{at}` holds a secret's value: send it in `secrets` under \"{at}\", it is then kept in the \
                     store's token table and never shown again"
                )));
            }
            if m.len() == 1
                && let Some(Value::String(key)) = m.get("secret")
                && let Some(rest) = key.strip_prefix(SECRET_PREFIX)
                && !rest.starts_with(&format!("{account}/"))
            {
                return Err(Refused(format!("`{at}` refers to another account's stored secret")));
            }
            for (k, v) in m {
                check_no_inline(v, &join(at, k), account)?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_no_inline(v, &join(at, &i.to_string()), account)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn join(at: &str, k: &str) -> String {
    if at.is_empty() { k.to_owned() } else { format!("{at}.{k}") }
}

/// The value at a dotted path (`credentials.refresh_token`, `feeds.0.url`); missing objects
/// on the way are created, array items must exist.
fn slot_at<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut here = v;
    for part in path.split('.') {
        if part.is_empty() {
            return None;
        }
        here = match here {
            Value::Object(m) => m.entry(part.to_owned()).or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => items.get_mut(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(here)
}

/// The secret references to the token table in a stored configuration: (key, path).
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && let Some(Value::String(key)) = m.get("secret")
                && let Some(rest) = key.strip_prefix(SECRET_PREFIX)
            {
                out.push(rest.to_owned());
                return;
            }
            m.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Resolves the stored accounts' secret references from values loaded from the token table,
/// and every other key through the host's provider.
pub struct StoredSecrets<P> {
    loaded: HashMap<String, SecretString>,
    fallback: P,
}

impl<P> std::fmt::Debug for StoredSecrets<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecrets").field("loaded", &self.loaded.len()).finish_non_exhaustive()
    }
}

impl<P: SecretProvider> StoredSecrets<P> {
    /// Loads every secret the stored entries refer to; a missing one is left for the account to
    /// fail on (with a configuration error naming it) when it is built.
    pub async fn load(tokens: &dyn TokenStore, stored: &[StoredAccount], fallback: P) -> Result<Self, Error> {
        let mut loaded = HashMap::new();
        for entry in stored {
            let mut refs = Vec::new();
            if let Some(config) = &entry.config {
                references(config, &mut refs);
            }
            for r in refs {
                let Some((account, path)) = r.split_once('/') else { continue };
                if let Some(secret) = tokens.load(&secret_key(account, path)).await? {
                    loaded.insert(format!("{SECRET_PREFIX}{r}"), secret);
                }
            }
        }
        Ok(Self { loaded, fallback })
    }
}

impl<P: SecretProvider> SecretProvider for StoredSecrets<P> {
    fn secret(&self, key: &str) -> Option<SecretString> {
        if key.starts_with(SECRET_PREFIX) {
            return self.loaded.get(key).cloned();
        }
        self.fallback.secret(key)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;
    use crate::core::http::MemoryTokenStore;

    fn fleet() -> Fleet {
        Fleet::from_toml(
            r#"
[[property]]
name = "Harbour"
timezone = "Europe/Lisbon"
rooms_from = "pms"
accounts = ["pms", "inbox"]
[[property.account]]
connector = "email"
id = "inbox"
maildir = "/var/mail/harbour"
[[property.account]]
connector = "cloudbeds"
id = "pms"
property_id = "1"
api_key = { env = "CB_KEY" }
[property.schedule.account.inbox]
poll_every_secs = 60

[[property]]
name = "Dunes"
timezone = "Europe/Lisbon"
"#,
        )
        .unwrap()
    }

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }

    #[test]
    fn adds_moves_and_removes_accounts_with_their_overrides() {
        let mut f = fleet();
        let feed = json!({ "connector": "ical", "id": "airbnb", "feeds": [{ "id": "d", "url": { "env": "U" } }] });
        let skipped = apply(
            &mut f,
            &[
                StoredAccount::new("Harbour", "airbnb", Some(feed.clone()), at()),
                StoredAccount::new("Harbour", "inbox", None, at()),
            ],
        );
        assert_eq!(skipped, []);
        let harbour = &f.properties[0];
        assert_eq!(harbour.accounts.iter().map(AccountConfig::id).collect::<Vec<_>>(), ["pms", "airbnb"]);
        assert_eq!(harbour.property.accounts.as_deref(), Some(&["pms".to_owned(), "airbnb".to_owned()][..]));
        assert!(harbour.schedule.account.is_empty());
        // Moved to another property: gone from the first.
        apply(&mut f, &[StoredAccount::new("Dunes", "airbnb", Some(feed), at())]);
        assert_eq!(f.properties[0].accounts.len(), 1);
        assert_eq!(f.properties[1].accounts[0].id(), "airbnb");
    }

    #[test]
    fn an_entry_that_would_break_the_fleet_is_skipped_whole() {
        let mut f = fleet();
        let same_source =
            json!({ "connector": "cloudbeds", "id": "pms2", "property_id": "1", "api_key": { "env": "K" } });
        let skipped = apply(
            &mut f,
            &[
                // The rooms source cannot go while `rooms_from` names it.
                StoredAccount::new("Harbour", "pms", None, at()),
                StoredAccount::new(
                    "Nowhere",
                    "x",
                    Some(json!({ "connector": "email", "id": "x", "maildir": "/m" })),
                    at(),
                ),
                StoredAccount::new("Dunes", "pms2", Some(same_source), at()),
                StoredAccount::new(
                    "Dunes",
                    "y",
                    Some(json!({ "connector": "email", "id": "z", "maildir": "/m" })),
                    at(),
                ),
                StoredAccount::new("Dunes", "w", Some(json!({ "connector": "telepathy", "id": "w" })), at()),
            ],
        );
        let who: Vec<&str> = skipped.iter().map(|s| s.account.as_str()).collect();
        assert_eq!(who, ["pms", "x", "pms2", "y", "w"], "{skipped:?}");
        assert!(skipped[0].reason.contains("rooms_from"), "{}", skipped[0].reason);
        assert!(skipped[2].reason.contains("same cloudbeds account"), "{}", skipped[2].reason);
        assert_eq!(f.properties[0].accounts.len(), 2);
        assert!(f.properties[1].accounts.is_empty());
    }

    #[cfg(feature = "ical")]
    #[test]
    fn an_entry_that_cannot_be_built_is_skipped_and_the_others_apply() {
        let mut f = fleet();
        let feed = |id: &str, url: Value| json!({ "connector": "ical", "id": id, "feeds": [{ "id": "d", "room_type": "d", "url": url }] });
        let tokens: std::sync::Arc<dyn TokenStore> = std::sync::Arc::new(MemoryTokenStore::default());
        let skipped = apply_buildable(
            &mut f,
            &[
                StoredAccount::new(
                    "Dunes",
                    "gone",
                    Some(feed("gone", json!({ "env": "HOSTELPULSE_TEST_NEVER_SET" }))),
                    at(),
                ),
                StoredAccount::new("Dunes", "kept", Some(feed("kept", json!({ "env": "PATH" }))), at()),
                StoredAccount::new("Harbour", "inbox", None, at()),
            ],
            &crate::config::EnvSecrets,
            tokens,
        );
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0].account, "gone");
        assert!(skipped[0].reason.contains("HOSTELPULSE_TEST_NEVER_SET"), "{}", skipped[0].reason);
        assert_eq!(f.properties[1].accounts.iter().map(AccountConfig::id).collect::<Vec<_>>(), ["kept"]);
        assert_eq!(f.properties[0].accounts.iter().map(AccountConfig::id).collect::<Vec<_>>(), ["pms"]);
    }

    #[tokio::test]
    async fn secrets_are_kept_apart_and_resolved_from_the_token_table() {
        let config = json!({ "connector": "ical", "id": "airbnb", "feeds": [{ "id": "d", "url": "" }],
                             "webhook": {} });
        let (stored, secrets) =
            separate_secrets("airbnb", config, [("feeds.0.url".to_owned(), SecretString::from("https://x/ical?t=1"))])
                .unwrap();
        assert_eq!(stored["feeds"][0]["url"], json!({ "secret": "console:airbnb/feeds.0.url" }));
        assert!(!stored.to_string().contains("t=1"));
        let tokens = MemoryTokenStore::default();
        for (k, v) in secrets {
            tokens.save(&k, v).await.unwrap();
        }
        let entry = StoredAccount::new("Harbour", "airbnb", Some(stored), at());
        let provider = StoredSecrets::load(&tokens, &[entry], crate::config::EnvSecrets).await.unwrap();
        let got = provider.secret("console:airbnb/feeds.0.url").unwrap();
        assert_eq!(got.expose_secret(), "https://x/ical?t=1");
        assert!(!format!("{provider:?}").contains("t=1"));
    }

    #[test]
    fn inline_values_and_other_accounts_secrets_are_refused() {
        let inline = json!({ "connector": "cloudbeds", "id": "a", "property_id": "1",
                             "api_key": { "value": "cbat_x", "insecure_inline": true } });
        let e = separate_secrets("a", inline, []).unwrap_err();
        assert!(e.0.contains("`api_key`") && !e.0.contains("cbat_x"), "{e}");
        let borrowed = json!({ "connector": "cloudbeds", "id": "a", "property_id": "1",
                               "api_key": { "secret": "console:b/api_key" } });
        assert!(separate_secrets("a", borrowed, []).is_err());
        let own = json!({ "connector": "cloudbeds", "id": "a", "property_id": "1",
                          "api_key": { "secret": "console:a/api_key" } });
        assert!(separate_secrets("a", own, []).is_ok());
        let nowhere = json!({ "connector": "ical", "id": "a", "feeds": [] });
        assert!(separate_secrets("a", nowhere, [("feeds.3.url".to_owned(), SecretString::from("u"))]).is_err());
    }
}
