//! Adding, changing and removing accounts through the API. The configuration is stored over the
//! host's file ([`hostelpulse::stored`]); secrets go to the store's token table and are never
//! shown again; a removed account stops syncing and keeps its bookings.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use hostelpulse::Registry;
use hostelpulse::config::{EnvSecrets, Fleet};
use hostelpulse::core::http::TokenStore;
use hostelpulse::stored::{self, StoredAccount, StoredSecrets};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::Console;
use crate::problem::Problem;

/// An account's configuration, sent to add or change it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountRequest {
    /// The property it belongs to.
    pub property: String,
    /// The account's table as JSON: the keys of an `[[account]]` table, tagged by `connector`
    /// (`{"connector": "ical", "feeds": [{"id": "dorm", "url": ""}]}`); `id` defaults to the
    /// path's. Secrets are left empty here and sent in `secrets`; a reference the API returned
    /// (`{"secret": "console:…"}`) keeps the secret stored before.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Secrets by their place in `config` (`api_key`, `credentials.refresh_token`,
    /// `feeds.0.url`): kept in the store's token table, never returned.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub secrets: BTreeMap<String, SecretString>,
}

impl std::fmt::Debug for AccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRequest")
            .field("property", &self.property)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// An account's stored configuration (secrets as references only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct AccountConfigView {
    /// The account id.
    pub account: String,
    /// Its property.
    pub property: String,
    /// `file` (the host's configuration declares it) or `console` (stored through this API).
    pub source: String,
    /// The configuration stored through this API (`null` for a file's account, or a removed one).
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// `true` when the change is being applied now (the runtime restarts its accounts); `false`
    /// when it applies at the next start.
    pub applying: bool,
}

/// Adds an account, or replaces its configuration.
#[utoipa::path(put, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "The account id")), request_body = AccountRequest,
    responses((status = 200, body = AccountConfigView), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn put_account(
    State(console): State<Console>,
    Path(id): Path<String>,
    Json(req): Json<AccountRequest>,
) -> Result<Json<AccountConfigView>, Problem> {
    let AccountRequest { property, mut config, secrets } = req;
    let Some(obj) = config.as_object_mut() else {
        return Err(unprocessable("`config` must be an object (an account's table)"));
    };
    match obj.get("id") {
        None => {
            obj.insert("id".into(), Value::String(id.clone()));
        }
        Some(Value::String(given)) if *given == id => {}
        Some(_) => return Err(unprocessable(format!("`config.id` is not `{id}`"))),
    }
    let (config, to_save) = stored::separate_secrets(&id, config, secrets).map_err(|e| unprocessable(e.0))?;
    let entry = StoredAccount::new(property.clone(), id.clone(), Some(config), Utc::now());
    let fleet = check(&console, &entry)?;
    for (key, secret) in to_save {
        console.tokens().save(&key, secret).await.map_err(Problem::store)?;
    }
    // Built once here, so that a configuration the runtime could not build (a secret missing,
    // a connector this program lacks) is refused now rather than skipped at the next start.
    let secrets = StoredSecrets::load(console.tokens(), std::slice::from_ref(&entry), EnvSecrets)
        .await
        .map_err(Problem::store)?;
    if let Some(cfg) = fleet.properties.iter().find(|p| p.property.name == property) {
        let tokens: Arc<dyn TokenStore> = console.inner.store.clone();
        Registry::build_with_tokens(cfg, &secrets, tokens).map_err(|e| unprocessable(e.to_string()))?;
    }
    save(&console, &entry).await
}

/// Removes an account: it stops syncing (its bookings, runs and tasks stay in the store; put it
/// back to resume).
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "The account id")),
    responses((status = 200, body = AccountConfigView), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn delete_account(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Json<AccountConfigView>, Problem> {
    let Some((p, _)) = console.account(&id) else { return Err(Problem::not_found(format!("no account `{id}`"))) };
    let entry = StoredAccount::new(p.property.name.clone(), id, None, Utc::now());
    check(&console, &entry)?;
    save(&console, &entry).await
}

/// An account's stored configuration.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/config", tag = "accounts",
    params(("id" = String, Path, description = "The account id")),
    responses((status = 200, body = AccountConfigView), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn get_account(
    State(console): State<Console>,
    Path(id): Path<String>,
) -> Result<Json<AccountConfigView>, Problem> {
    let stored = console.accounts_store().stored_accounts().await.map_err(Problem::store)?;
    let entry = stored.into_iter().find(|s| s.account == id);
    let declared = console.account(&id).map(|(p, _)| p.property.name.clone());
    match (entry, declared) {
        (Some(e), _) => Ok(Json(AccountConfigView {
            account: e.account,
            property: e.property,
            source: "console".into(),
            config: e.config,
            applying: false,
        })),
        (None, Some(property)) => {
            Ok(Json(AccountConfigView { account: id, property, source: "file".into(), config: None, applying: false }))
        }
        (None, None) => Err(Problem::not_found(format!("no account `{id}`"))),
    }
}

fn unprocessable(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-account", detail)
}

/// The console's properties with the entry applied, or why it does not apply.
fn check(console: &Console, entry: &StoredAccount) -> Result<Fleet, Problem> {
    let fleet = Fleet::new(console.inner.properties.clone()).map_err(|e| unprocessable(e.to_string()))?;
    if !fleet.properties.iter().any(|p| p.property.name == entry.property) {
        return Err(Problem::not_found(format!("no property `{}`", entry.property)));
    }
    stored::applied(&fleet, entry).map_err(|e| unprocessable(e.to_string()))
}

async fn save(console: &Console, entry: &StoredAccount) -> Result<Json<AccountConfigView>, Problem> {
    console.accounts_store().put_stored_account(entry).await.map_err(Problem::store)?;
    tracing::info!(account = %entry.account, property = %entry.property, removed = entry.config.is_none(),
        "account configuration stored");
    let applying = match &console.inner.on_accounts_changed {
        Some(hook) => {
            hook();
            true
        }
        None => false,
    };
    Ok(Json(AccountConfigView {
        account: entry.account.clone(),
        property: entry.property.clone(),
        source: "console".into(),
        config: entry.config.clone(),
        applying,
    }))
}
