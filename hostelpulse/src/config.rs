//! A host's connector configuration, from TOML or JSON: one file per property, one `[[account]]`
//! per source, tagged by `connector`. Secrets are never values in the file: they name an
//! environment variable (`{ env = "BEDS24_REFRESH_TOKEN" }`) or a key the host's
//! [`SecretProvider`] resolves (`{ secret = "harbour/beds24" }`); an inline value is accepted only
//! with `insecure_inline = true`.
//!
//! ```
//! let cfg = hostelpulse::config::Config::from_toml(r#"
//! [property]
//! name = "Harbour Hostel"
//! timezone = "Europe/Lisbon"
//! rooms_from = "pms"
//!
//! [[account]]
//! connector = "email"
//! id = "inbox"
//! maildir = "/var/mail/harbour"
//! "#).unwrap();
//! assert_eq!(cfg.accounts[0].id(), "inbox");
//! ```

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use secrecy::SecretString;
use serde::Deserialize;

use crate::core::Error;

/// Where a secret comes from.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum SecretRef {
    /// An environment variable: `{ env = "NAME" }`.
    Env {
        /// The variable.
        env: String,
    },
    /// A key for the host's [`SecretProvider`]: `{ secret = "key" }`.
    Provider {
        /// The key.
        secret: String,
    },
    /// The value itself, only with `insecure_inline = true` (tests, the sandbox).
    Inline {
        /// The value.
        value: SecretString,
        /// Must be `true`: the host insists on a secret in the file.
        #[serde(default)]
        insecure_inline: bool,
    },
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env { env } => write!(f, "env:{env}"),
            Self::Provider { secret } => write!(f, "secret:{secret}"),
            Self::Inline { .. } => f.write_str("inline:[REDACTED]"),
        }
    }
}

/// Resolves secret keys (a vault, a cloud secret manager, the host's database).
pub trait SecretProvider: Send + Sync {
    /// The secret stored under `key`, if any.
    fn secret(&self, key: &str) -> Option<SecretString>;
}

/// Resolves keys as environment variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSecrets;

impl SecretProvider for EnvSecrets {
    fn secret(&self, key: &str) -> Option<SecretString> {
        std::env::var(key).ok().map(SecretString::from)
    }
}

impl SecretRef {
    /// The secret, or a configuration error naming where it was looked for (never its value).
    pub fn resolve(&self, provider: &dyn SecretProvider) -> Result<SecretString, Error> {
        match self {
            Self::Env { env } => std::env::var(env)
                .map(SecretString::from)
                .map_err(|_| Error::config(format!("environment variable {env} is not set"))),
            Self::Provider { secret } => {
                provider.secret(secret).ok_or_else(|| Error::config(format!("the secret provider has no `{secret}`")))
            }
            Self::Inline { value, insecure_inline: true } => Ok(value.clone()),
            Self::Inline { .. } => Err(Error::config(
                "a secret written in the configuration file needs `insecure_inline = true`; prefer `{ env = \"…\" }`",
            )),
        }
    }
}

/// The property the file describes.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PropertyConfig {
    /// Its name.
    pub name: String,
    /// Its time zone: the Today board's dates are local to it.
    pub timezone: chrono_tz::Tz,
    /// Standard check-in time (turnover deadlines); default 15:00.
    #[serde(default = "default_check_in")]
    pub check_in: NaiveTime,
    /// The account whose rooms and beds are the inventory (usually the PMS).
    pub rooms_from: Option<String>,
    /// The accounts whose bookings are this property's (all by default): an owner's other
    /// hostels can share the file and the state without showing on this board.
    pub accounts: Option<Vec<String>>,
}

fn default_check_in() -> NaiveTime {
    NaiveTime::from_hms_opt(15, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// HTTP settings shared by the connectors that call an API. Safe by default: retries with
/// backoff, a timeout, and the vendor's documented pacing are all on.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct HttpSettings {
    /// Retry transient failures (default `true`).
    pub retry: bool,
    /// Per-request timeout in seconds (default 30).
    pub timeout_secs: u64,
    /// Override the vendor's base URL (sandbox, proxy).
    pub base_url: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { retry: true, timeout_secs: 30, base_url: None }
    }
}

/// How the source's webhooks to this account are authenticated.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// A custom header the source sends (Beds24: set in the webhook's settings).
    pub header: Option<String>,
    /// The header's value.
    pub secret: Option<SecretRef>,
    /// A secret path segment: the webhook URL is `…/hooks/<account>/<url_secret>`.
    pub url_secret: Option<SecretRef>,
}

/// Beds24 credentials: exactly one of the three.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Beds24Credentials {
    /// An invite code (exchanged once for a refresh token).
    InviteCode(SecretRef),
    /// A refresh token.
    RefreshToken(SecretRef),
    /// A read-only long-life token.
    LongLifeToken(SecretRef),
}

/// One iCal feed.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct FeedEntry {
    /// The feed's id within the account.
    pub id: String,
    /// Its URL (a secret: whoever has it reads the calendar).
    pub url: SecretRef,
    /// The unit it describes: a room type, room and/or bed id of the inventory.
    pub room_type: Option<String>,
    /// Room id.
    pub room: Option<String>,
    /// Bed id.
    pub bed: Option<String>,
    /// Who produces it: `auto` (default), `airbnb`, `booking`, `vrbo`, `other`.
    #[serde(default)]
    pub source: Option<String>,
}

/// An account made of iCal feeds (`ical`, and FrontDesk Master's per-room exports, `fdm`).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct FeedsAccount {
    /// Account id.
    pub id: String,
    /// The feeds.
    pub feeds: Vec<FeedEntry>,
    /// Allow loopback and private addresses (sandbox and tests only).
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// HTTP settings.
    #[serde(default)]
    pub http: HttpSettings,
}

/// One connector account. `id` names it in reports, the store and `--account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "connector", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AccountConfig {
    /// Beds24 API v2.
    Beds24 {
        /// Account id.
        id: String,
        /// The Beds24 property id.
        property_id: u64,
        /// Credentials.
        credentials: Beds24Credentials,
        /// HTTP settings.
        #[serde(default)]
        http: HttpSettings,
        /// Webhook authentication (no webhooks are accepted without it).
        webhook: Option<WebhookSettings>,
    },
    /// Cloudbeds PMS API v1.3 with an API key.
    Cloudbeds {
        /// Account id.
        id: String,
        /// The Cloudbeds property id.
        property_id: String,
        /// The API key (`cbat_…`).
        api_key: SecretRef,
        /// HTTP settings.
        #[serde(default)]
        http: HttpSettings,
        /// Webhook authentication: Cloudbeds signs nothing, so a `url_secret` is required.
        webhook: Option<WebhookSettings>,
    },
    /// iCal feeds.
    Ical(FeedsAccount),
    /// FrontDesk Master through its per-room iCal exports (report exports go through `csv import`).
    Fdm(FeedsAccount),
    /// Sirvoy's booking-event webhook.
    Sirvoy {
        /// Account id.
        id: String,
        /// The Sirvoy property id.
        property_id: String,
        /// The secret in the callback URL.
        url_secret: SecretRef,
        /// The Sirvoy plan (`Pro` receives webhooks).
        plan: Option<String>,
        /// Sender addresses to accept instead of Sirvoy's published ones (a proxy, the sandbox).
        allowed_senders: Option<Vec<ipnet::IpNet>>,
    },
    /// Booking e-mails in a Maildir.
    Email {
        /// Account id.
        id: String,
        /// The Maildir.
        maildir: PathBuf,
        /// Review threshold (0–1, default 0.7).
        review_threshold: Option<f32>,
    },
}

impl AccountConfig {
    /// The account id.
    pub fn id(&self) -> &str {
        match self {
            Self::Beds24 { id, .. } | Self::Cloudbeds { id, .. } | Self::Sirvoy { id, .. } | Self::Email { id, .. } => {
                id
            }
            Self::Ical(a) | Self::Fdm(a) => &a.id,
        }
    }

    /// The connector's name, as in the `connector` tag.
    pub fn connector(&self) -> &'static str {
        match self {
            Self::Beds24 { .. } => "beds24",
            Self::Cloudbeds { .. } => "cloudbeds",
            Self::Ical(_) => "ical",
            Self::Fdm(_) => "fdm",
            Self::Sirvoy { .. } => "sirvoy",
            Self::Email { .. } => "email",
        }
    }
}

/// A configuration file.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// The property.
    pub property: PropertyConfig,
    /// The accounts.
    #[serde(rename = "account", default)]
    pub accounts: Vec<AccountConfig>,
}

impl Config {
    /// Parses TOML.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| Error::config(format!("TOML {e}")))
    }

    /// Parses JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::config(format!("JSON {e}")))
    }

    /// Reads a file: `.json` as JSON, anything else as TOML.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read configuration {}: {e}", path.display())))?;
        let cfg = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::from_json(&text)?,
            _ => Self::from_toml(&text)?,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Account ids are unique, and `rooms_from` names one of them.
    pub fn validate(&self) -> Result<(), Error> {
        let mut ids: Vec<&str> = self.accounts.iter().map(AccountConfig::id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::config(format!("account id `{}` is used twice", w[0])));
        }
        if let Some(r) = &self.property.rooms_from
            && !ids.contains(&r.as_str())
        {
            return Err(Error::config(format!("rooms_from = `{r}` names no account")));
        }
        if let Some(a) = self.property.accounts.iter().flatten().find(|a| !ids.contains(&a.as_str())) {
            return Err(Error::config(format!("property accounts: `{a}` names no account")));
        }
        Ok(())
    }
}
