//! `hostelpulse accounts discover`: the properties each account's credentials can see that the
//! configuration does not have yet, printed as configuration to add.

use std::path::PathBuf;

use hostelpulse::config::{AccountConfig, Beds24Credentials, EnvSecrets, Fleet, HttpSettings, SecretRef};
use hostelpulse::fleet::FleetRegistry;
use hostelpulse::sync::Scope;

use crate::ops;
use crate::views::BoxError;

/// One property found.
#[derive(serde::Serialize)]
struct Found {
    via: String,
    connector: &'static str,
    property_id: String,
    name: String,
    configured: bool,
}

pub async fn discover(config: PathBuf, db: PathBuf, json: bool) -> Result<(), BoxError> {
    let store = ops::open(&db).await?;
    let fleet = Fleet::load(&config)?;
    let built = FleetRegistry::build(&fleet, &EnvSecrets, store.clone())?;
    let configured: Vec<Scope> =
        fleet.properties.iter().flat_map(|p| p.accounts.iter().map(AccountConfig::scope)).collect();
    let mut found = Vec::new();
    let mut to_add = String::new();
    for (cfg, registry) in &built.properties {
        for a in registry.accounts() {
            let Some(account_cfg) = cfg.account(&a.id) else { continue };
            if !matches!(account_cfg, AccountConfig::Beds24 { .. } | AccountConfig::Cloudbeds { .. }) {
                continue;
            }
            let list = a.connector.discover().await.map_err(|e| format!("account `{}`: {e}", a.id))?;
            for p in list {
                let scope = Scope::new(a.connector.kind(), hostelpulse::core::AccountId::new(p.id.clone()));
                let is_new = !configured.contains(&scope);
                if is_new {
                    to_add.push_str(&property_toml(cfg.property.timezone, account_cfg, &a.id, &p.id, &p.name));
                }
                found.push(Found {
                    via: a.id.clone(),
                    connector: a.connector_name,
                    property_id: p.id,
                    name: p.name,
                    configured: !is_new,
                });
            }
        }
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&found)?);
    } else if to_add.is_empty() {
        outln!("# Every property the credentials can see is configured ({} checked).", found.len());
    } else {
        outln!(
            "# Properties the configured credentials can see that {} does not have yet.\n\
             # Add the ones that are yours to run (check each time zone; add webhooks as for the first).",
            config.display()
        );
        out!("{to_add}");
    }
    Ok(())
}

/// A secret reference as it stands in a configuration; an inline secret is never printed.
fn secret_toml(r: &SecretRef) -> String {
    match r {
        SecretRef::Env { env } => format!("{{ env = {env:?} }}"),
        SecretRef::Provider { secret } => format!("{{ secret = {secret:?} }}"),
        _ => "{ env = \"SET_ME\" } # the original is written inline: name where the secret is".into(),
    }
}

fn http_toml(h: &HttpSettings) -> String {
    h.base_url.as_ref().map(|u| format!("http = {{ base_url = {u:?} }}\n")).unwrap_or_default()
}

fn property_toml(tz: chrono_tz::Tz, a: &AccountConfig, via: &str, id: &str, name: &str) -> String {
    let head = format!("\n[[property]]\nname = {name:?}\ntimezone = {:?}\n\n[[property.account]]\n", tz.name());
    match a {
        AccountConfig::Beds24 { credentials, http, .. } => {
            let creds = match credentials {
                // An invite code works once, and it was spent on the first property.
                Beds24Credentials::InviteCode(_) => {
                    "{ invite_code = { env = \"SET_ME\" } } # create an invite code for this property".to_owned()
                }
                Beds24Credentials::RefreshToken(r) => format!("{{ refresh_token = {} }}", secret_toml(r)),
                Beds24Credentials::LongLifeToken(r) => format!("{{ long_life_token = {} }}", secret_toml(r)),
                #[allow(unreachable_patterns)]
                _ => return String::new(),
            };
            format!(
                "{head}connector = \"beds24\"\nid = \"{via}-{id}\"\nproperty_id = {id}\ncredentials = {creds}\n{}",
                http_toml(http)
            )
        }
        AccountConfig::Cloudbeds { api_key: Some(api_key), http, .. } => format!(
            "{head}connector = \"cloudbeds\"\nid = \"{via}-{id}\"\nproperty_id = {id:?}\napi_key = {}\n{}",
            secret_toml(api_key),
            http_toml(http)
        ),
        // An OAuth connection is authorized per account: the owner connects each one.
        AccountConfig::Cloudbeds { oauth: Some(_), .. } => format!(
            "# {name} (Cloudbeds {id}): add it with the same `oauth` table as `{via}`, then run\n\
             # `hostelpulse connect cloudbeds --account {via}-{id}`\n"
        ),
        _ => String::new(),
    }
}
