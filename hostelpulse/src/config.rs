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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields, default)]
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
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// A custom header the source sends (Beds24: set in the webhook's settings).
    pub header: Option<String>,
    /// The header's value.
    pub secret: Option<SecretRef>,
    /// A secret path segment: the webhook URL is `…/hooks/<account>/<url_secret>`.
    pub url_secret: Option<SecretRef>,
    /// The URL secret before a rotation, still accepted so deliveries already on their way
    /// arrive; drop it once the source sends to the new URL.
    pub previous_url_secret: Option<SecretRef>,
    /// The base URL the source reaches this server at (`https://hooks.example.com`). Set it, and
    /// `run` and `webhook serve` keep the source's subscriptions (where its API manages them:
    /// Cloudbeds) pointed at `<public_url>/hooks/<account>/<url_secret>` on start.
    pub public_url: Option<String>,
}

/// Beds24 credentials: exactly one of the three.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
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
#[serde(deny_unknown_fields)]
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
    /// An all-day event that ends on the day it starts means one night is taken (some scrapers
    /// mark an occupied day so). Off by default: such events are skipped with a note.
    #[serde(default)]
    pub same_day_is_one_night: bool,
    /// The longest stay read as a reservation, in nights (default 366); longer ones are skipped as
    /// broken dates. Closures may last ten times as long.
    #[serde(default)]
    pub max_stay_nights: Option<u32>,
}

/// An account made of iCal feeds (`ical`, and FrontDesk Master's per-room exports, `fdm`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FeedsAccount {
    /// Account id.
    pub id: String,
    /// The feeds.
    pub feeds: Vec<FeedEntry>,
    /// Allow loopback and private addresses (sandbox and tests only).
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// Internal networks feeds may be fetched from (a FrontDesk Master on the hostel's LAN:
    /// `["192.168.1.0/24"]`); everything else internal stays refused.
    #[serde(default)]
    pub allow_networks: Vec<ipnet::IpNet>,
    /// HTTP settings.
    #[serde(default)]
    pub http: HttpSettings,
}

/// One connector account. `id` names it in reports, the store and `--account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "connector", rename_all = "snake_case")]
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
    /// Cloudbeds PMS API v1.3, with an API key or an OAuth connection (exactly one).
    Cloudbeds {
        /// Account id.
        id: String,
        /// The Cloudbeds property id.
        property_id: String,
        /// The API key (`cbat_…`).
        api_key: Option<SecretRef>,
        /// The marketplace app's OAuth client: `hostelpulse connect cloudbeds` authorizes it
        /// and keeps the tokens in the state; syncs then use and rotate them.
        oauth: Option<CloudbedsOAuth>,
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
    /// Booking e-mails forwarded to a mailbox: a Maildir on this machine, or an IMAP mailbox.
    Email {
        /// Account id.
        id: String,
        /// The Maildir (exactly one of `maildir` and `imap`).
        maildir: Option<PathBuf>,
        /// An IMAP mailbox (exactly one of `maildir` and `imap`; needs the `imap` feature).
        imap: Option<ImapSettings>,
        /// Review threshold (0–1, default 0.7).
        review_threshold: Option<f32>,
    },
}

/// A Cloudbeds marketplace app's OAuth client:
/// `oauth = { client_id = "live1_…", client_secret = { env = "CLOUDBEDS_CLIENT_SECRET" } }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CloudbedsOAuth {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretRef,
    /// The redirect URI registered with the app (default `http://127.0.0.1:8765/callback`:
    /// `hostelpulse connect cloudbeds` listens there).
    pub redirect_uri: Option<String>,
    /// The authorization page (default Cloudbeds' own).
    pub authorize_url: Option<String>,
    /// The scopes to ask for (default the ones a hostel sync needs).
    pub scopes: Option<Vec<String>>,
}

/// The loopback address `hostelpulse connect cloudbeds` receives the authorization on, by default.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// An IMAP mailbox: `imap = { host = "imap.example.com", user = "bookings@…", password = { env = "…" } }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ImapSettings {
    /// The server.
    pub host: String,
    /// The port (993 with TLS, 143 without).
    pub port: Option<u16>,
    /// TLS (default `true`). Without TLS the password crosses the network in clear, so `false`
    /// is accepted for a loopback server only (tests, a local bridge).
    #[serde(default = "yes")]
    pub tls: bool,
    /// The login.
    pub user: String,
    /// The password (an app password where the provider has them).
    pub password: SecretRef,
    /// The folder (default `INBOX`).
    pub folder: Option<String>,
}

fn yes() -> bool {
    true
}

impl ImapSettings {
    /// Whether `host` is this machine (a plain connection is allowed only there).
    pub fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
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

    /// The store's key for this account, from the configuration alone (no secret resolved, no
    /// connector built): what read-only commands need. It is the key the built connector syncs
    /// under.
    pub fn scope(&self) -> crate::core::sync::Scope {
        use crate::core::{AccountId, ConnectorKind};
        let (kind, account) = match self {
            Self::Beds24 { property_id, .. } => (ConnectorKind::BEDS24, property_id.to_string()),
            Self::Cloudbeds { property_id, .. } => (ConnectorKind::CLOUDBEDS, property_id.clone()),
            Self::Ical(a) => (ConnectorKind::ICAL, a.id.clone()),
            Self::Fdm(a) => (ConnectorKind::FDM, a.id.clone()),
            Self::Sirvoy { property_id, .. } => (ConnectorKind::SIRVOY, property_id.clone()),
            Self::Email { id, .. } => (ConnectorKind::EMAIL, id.clone()),
        };
        crate::core::sync::Scope::new(kind, AccountId::new(account))
    }
}

/// A configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The property.
    pub property: PropertyConfig,
    /// The accounts.
    #[serde(rename = "account", default)]
    pub accounts: Vec<AccountConfig>,
    /// How long the state keeps audit records and departed guests' contact details.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// When `hostelpulse run` syncs each account (defaults from each connector's capabilities).
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Alert thresholds for `hostelpulse run`.
    #[serde(default)]
    pub alerts: AlertsConfig,
}

/// `[schedule]`: the runtime's timetable for the property's accounts. Unset keys keep each
/// connector's default (see `hostelpulse_runtime::Schedule::for_capabilities`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ScheduleConfig {
    /// Local time of the daily full sync (default 03:00).
    pub full_at: Option<NaiveTime>,
    /// Seconds between polls for every account (0: no polls).
    pub poll_every_secs: Option<u64>,
    /// Refresh housekeeping after every successful poll and full sync (default: where the
    /// source reads it and counts no credits).
    pub housekeeping: Option<bool>,
    /// Per account: `[schedule.account.<id>]`.
    #[serde(default)]
    pub account: std::collections::BTreeMap<String, AccountSchedule>,
}

/// `[schedule.account.<id>]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountSchedule {
    /// Local time of this account's daily full sync.
    pub full_at: Option<NaiveTime>,
    /// Seconds between this account's polls (0: no polls).
    pub poll_every_secs: Option<u64>,
    /// Refresh this account's housekeeping after its polls and full syncs.
    pub housekeeping: Option<bool>,
}

/// `[alerts]`: thresholds with defaults, and `[alerts.account.<id>]` overrides. A threshold of 0
/// turns its rule off.
///
/// The keys repeat [`AlertThresholds`] rather than flattening it: serde cannot deny unknown keys
/// through `flatten`, and a misspelt threshold must be an error, never a silent default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AlertsConfig {
    /// Failed runs in a row (default 3).
    pub consecutive_failures: Option<u32>,
    /// Seconds since the last successful sync (default: three poll intervals, at least 30 min).
    pub sync_lag_secs: Option<u64>,
    /// Seconds without a webhook, for accounts that receive them (default 86400).
    pub webhook_silence_secs: Option<u64>,
    /// Seconds a feed may go unread (default 21600).
    pub feed_stale_secs: Option<u64>,
    /// Records failing to convert in one run (default 1).
    pub records_failing: Option<u32>,
    /// Seconds between repeats of a firing alert (default 21600).
    pub repeat_every_secs: Option<u64>,
    /// Per account.
    #[serde(default)]
    pub account: std::collections::BTreeMap<String, AlertThresholds>,
}

impl AlertsConfig {
    /// The thresholds for `account`: its overrides over the property's.
    pub fn for_account(&self, account: &str) -> AlertThresholds {
        let base = AlertThresholds {
            consecutive_failures: self.consecutive_failures,
            sync_lag_secs: self.sync_lag_secs,
            webhook_silence_secs: self.webhook_silence_secs,
            feed_stale_secs: self.feed_stale_secs,
            records_failing: self.records_failing,
            repeat_every_secs: self.repeat_every_secs,
        };
        match self.account.get(account) {
            Some(over) => base.with(over),
            None => base,
        }
    }
}

/// Alert thresholds; unset keeps the default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AlertThresholds {
    /// Failed runs in a row (default 3).
    pub consecutive_failures: Option<u32>,
    /// Seconds since the last successful sync (default: three poll intervals, at least 30 min).
    pub sync_lag_secs: Option<u64>,
    /// Seconds without a webhook, for accounts that receive them (default 86400).
    pub webhook_silence_secs: Option<u64>,
    /// Seconds a feed may go unread (default 21600).
    pub feed_stale_secs: Option<u64>,
    /// Records failing to convert in one run (default 1).
    pub records_failing: Option<u32>,
    /// Seconds between repeats of a firing alert (default 21600).
    pub repeat_every_secs: Option<u64>,
}

impl AlertThresholds {
    /// `self`, with `over`'s keys where it sets them.
    pub fn with(self, over: &AlertThresholds) -> Self {
        Self {
            consecutive_failures: over.consecutive_failures.or(self.consecutive_failures),
            sync_lag_secs: over.sync_lag_secs.or(self.sync_lag_secs),
            webhook_silence_secs: over.webhook_silence_secs.or(self.webhook_silence_secs),
            feed_stale_secs: over.feed_stale_secs.or(self.feed_stale_secs),
            records_failing: over.records_failing.or(self.records_failing),
            repeat_every_secs: over.repeat_every_secs.or(self.repeat_every_secs),
        }
    }
}

/// `[retention]`: applied after every `hostelpulse sync`, and by `hostelpulse prune`. Unset keeps
/// for ever.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionConfig {
    /// Days audit records are kept (each account's newest run and newest success always stay).
    pub audit_days: Option<u32>,
    /// Days after a guest's departure their e-mail address and phone number are kept.
    pub contact_days: Option<u32>,
}

impl Config {
    /// Parses TOML. Unknown keys are errors (a typo never falls back to a default silently).
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        Self::toml_at(text, None)
    }

    /// Parses JSON. Unknown keys are errors.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Self::json_at(text, None)
    }

    fn toml_at(text: &str, file: Option<&Path>) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| {
            // The line number, never the line itself: it may hold a secret.
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            parse_error(file, line, e.message())
        })
    }

    fn json_at(text: &str, file: Option<&Path>) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json's message ends with its own " at line L column C": drop it, we say the line.
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m).to_owned();
            parse_error(file, Some(e.line()), &message)
        })
    }

    /// Reads a file: `.json` as JSON, anything else as TOML.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read configuration {}: {e}", path.display())))?;
        let cfg = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::json_at(&text, Some(path))?,
            _ => Self::toml_at(&text, Some(path))?,
        };
        cfg.validate().map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        Ok(cfg)
    }

    /// The account configured as `id`.
    pub fn account(&self, id: &str) -> Option<&AccountConfig> {
        self.accounts.iter().find(|a| a.id() == id)
    }

    /// The accounts whose bookings belong to the property (all unless `property.accounts` says).
    pub fn property_accounts(&self) -> impl Iterator<Item = &AccountConfig> {
        self.accounts
            .iter()
            .filter(|a| self.property.accounts.as_ref().is_none_or(|ids| ids.iter().any(|i| i == a.id())))
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
        for a in &self.accounts {
            if let AccountConfig::Email { id, maildir, imap, .. } = a {
                match (maildir, imap) {
                    (Some(_), Some(_)) | (None, None) => {
                        return Err(Error::config(format!("account `{id}`: set exactly one of `maildir` and `imap`")));
                    }
                    (None, Some(i)) if !i.tls && !i.is_loopback() => {
                        return Err(Error::config(format!(
                            "account `{id}`: `tls = false` would send the IMAP password in clear; it is allowed for a loopback server only"
                        )));
                    }
                    _ => {}
                }
            }
        }
        let overrides = self.schedule.account.keys().chain(self.alerts.account.keys());
        if let Some(a) = overrides.into_iter().find(|a| !ids.contains(&a.as_str())) {
            return Err(Error::config(format!("[schedule] or [alerts]: `account.{a}` names no account")));
        }
        Ok(())
    }
}

/// Several properties for one runtime: a file with several `[[property]]` tables (each with its
/// own `[[property.account]]`, `[property.schedule]`, …), a directory of single-property files
/// (`*.toml`, `*.json`, in name order), or one single-property file.
///
/// Account ids must be unique across the fleet: they name webhook URLs (`/hooks/<account>`),
/// metrics and alerts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fleet {
    /// The properties, in file order.
    pub properties: Vec<Config>,
}

/// One `[[property]]` table of a multi-property file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetProperty {
    name: String,
    timezone: chrono_tz::Tz,
    #[serde(default = "default_check_in")]
    check_in: NaiveTime,
    rooms_from: Option<String>,
    accounts: Option<Vec<String>>,
    #[serde(rename = "account", default)]
    account: Vec<AccountConfig>,
    #[serde(default)]
    retention: RetentionConfig,
    #[serde(default)]
    schedule: ScheduleConfig,
    #[serde(default)]
    alerts: AlertsConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    property: Vec<FleetProperty>,
}

impl Fleet {
    /// A fleet of these properties (checked with [`Fleet::validate`]).
    pub fn new(properties: Vec<Config>) -> Result<Self, Error> {
        let fleet = Self { properties };
        fleet.validate()?;
        Ok(fleet)
    }

    /// Reads a file or a directory (see the type's documentation).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let properties = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("toml" | "json")))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::config(format!("{}: no *.toml or *.json property file", path.display())));
            }
            files.iter().map(|f| Config::load(f)).collect::<Result<Vec<_>, _>>()?
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::config(format!("cannot read configuration {}: {e}", path.display())))?;
            let many = path.extension().and_then(|e| e.to_str()) != Some("json")
                && text
                    .parse::<toml::Table>()
                    .ok()
                    .is_some_and(|t| t.get("property").is_some_and(toml::Value::is_array));
            if many { Self::from_toml_at(&text, Some(path))?.properties } else { vec![Config::load(path)?] }
        };
        let fleet = Self { properties };
        fleet.validate().map_err(|e| Error::config(format!("{}: {e}", path.display())))?;
        Ok(fleet)
    }

    /// Parses a multi-property TOML text.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let fleet = Self::from_toml_at(text, None)?;
        fleet.validate()?;
        Ok(fleet)
    }

    fn from_toml_at(text: &str, file: Option<&Path>) -> Result<Self, Error> {
        let parsed: FleetFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            parse_error(file, line, e.message())
        })?;
        let properties = parsed
            .property
            .into_iter()
            .map(|p| {
                let cfg = Config {
                    property: PropertyConfig {
                        name: p.name,
                        timezone: p.timezone,
                        check_in: p.check_in,
                        rooms_from: p.rooms_from,
                        accounts: p.accounts,
                    },
                    accounts: p.account,
                    retention: p.retention,
                    schedule: p.schedule,
                    alerts: p.alerts,
                };
                cfg.validate().map_err(|e| Error::config(format!("property `{}`: {e}", cfg.property.name)))?;
                Ok(cfg)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self { properties })
    }

    /// Account ids and store keys are unique across the fleet.
    pub fn validate(&self) -> Result<(), Error> {
        let mut ids = std::collections::HashMap::new();
        let mut scopes = std::collections::HashMap::new();
        for p in &self.properties {
            for a in &p.accounts {
                if let Some(other) = ids.insert(a.id().to_owned(), p.property.name.clone()) {
                    return Err(Error::config(format!(
                        "account id `{}` is used by `{other}` and `{}`: ids name webhook URLs and must be unique",
                        a.id(),
                        p.property.name
                    )));
                }
                if let Some(other) = scopes.insert(a.scope(), a.id().to_owned()) {
                    return Err(Error::config(format!(
                        "accounts `{other}` and `{}` are the same {} account",
                        a.id(),
                        a.connector()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The property an account belongs to.
    pub fn property_of(&self, account: &str) -> Option<&Config> {
        self.properties.iter().find(|p| p.account(account).is_some())
    }
}

/// A parse error that says where (file and line) and, for a misspelt key or connector name, which
/// valid one is nearest.
fn parse_error(file: Option<&Path>, line: Option<usize>, message: &str) -> Error {
    let place = match (file, line) {
        (Some(f), Some(l)) => format!("{}, line {l}: ", f.display()),
        (Some(f), None) => format!("{}: ", f.display()),
        (None, Some(l)) => format!("line {l}: "),
        (None, None) => String::new(),
    };
    let message = message.trim();
    match nearest_valid(message) {
        Some((wrong, right)) => Error::config(format!("{place}{message}; `{wrong}`: did you mean `{right}`?")),
        None => Error::config(format!("{place}{message}")),
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant …"), the
/// unknown name and the valid one closest to it, when one is close enough to be a typo.
fn nearest_valid(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("unknown variant `"))?;
    let (wrong, expected) = rest.split_once('`')?;
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (strsim::damerau_levenshtein(wrong, cand), cand))
        .min_by_key(|(d, _)| *d)?;
    (best.0 <= (wrong.len() / 3).max(2)).then(|| (wrong.to_owned(), best.1.to_owned()))
}

#[cfg(test)]
mod strict_tests {
    use super::*;

    const BASE: &str = "[property]\nname = \"H\"\ntimezone = \"Europe/Lisbon\"\n";

    #[test]
    fn a_misspelt_key_is_an_error_with_its_line_and_the_nearest_key() {
        let err = Config::from_toml(&format!("{BASE}chek_in = \"14:00:00\"\n")).unwrap_err().to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("unknown field `chek_in`") && err.contains("did you mean `check_in`"), "{err}");
        let err = Config::from_toml(&format!("{BASE}[[account]]\nconnector = \"beds42\"\nid = \"x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `beds24`"), "{err}");
        let err = Config::from_toml(&format!(
            "{BASE}[[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"/m\"\nreview_treshold = 0.5\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("did you mean `review_threshold`"), "{err}");
    }

    #[test]
    fn an_unknown_key_far_from_any_valid_one_gets_no_guess() {
        let err = Config::from_toml(&format!("{BASE}colour = \"blue\"\n")).unwrap_err().to_string();
        assert!(err.contains("unknown field `colour`") && !err.contains("did you mean"), "{err}");
    }

    #[test]
    fn a_secret_in_a_wrong_place_is_never_echoed() {
        let err = Config::from_toml(&format!(
            "{BASE}[[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = 42\ntoken = \"hunter2-secret\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn json_is_as_strict() {
        let err =
            Config::from_json(r#"{"property": {"name": "H", "timezone": "Europe/Lisbon", "chek_in": "14:00:00"}}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("line 1") && err.contains("did you mean `check_in`"), "{err}");
    }
}
