//! Configuration: credentials, endpoints, pacing, and the behaviours the vendor leaves uncertain.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::{Pacer, RetryPolicy, TokenStore, Transport};
use hostelpulse_core::{Error, Result};
use secrecy::SecretString;

/// The default API root.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudbeds.com/api/v1.3";
/// The OAuth authorize page (the docs show the v1.1 path; v1.3 presumably behaves the same).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://hotels.cloudbeds.com/api/v1.1/oauth";

/// The scopes a hostel sync needs.
pub const RECOMMENDED_SCOPES: [&str; 10] = [
    "read:hotel",
    "read:room",
    "read:reservation",
    "write:reservation",
    "read:guest",
    "read:housekeeping",
    "write:housekeeping",
    "write:room",
    "read:rate",
    "read:roomblock",
];

/// An OAuth 2.0 client registered with Cloudbeds.
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuthClient {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// The redirect URI registered for the client.
    pub redirect_uri: String,
    /// The authorize page.
    pub authorize_url: String,
}

impl OAuthClient {
    /// A client.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
        }
    }
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// How the connector authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// An API key (`cbat_…`), sent as `x-api-key`. Long-lived; expires after 30 days unused.
    ApiKey(SecretString),
    /// OAuth: a refresh token minting access tokens (`Authorization: Bearer`). A rotated refresh
    /// token is handed to the token store.
    OAuth {
        /// The client.
        client: OAuthClient,
        /// The current refresh token.
        refresh_token: SecretString,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey([REDACTED])"),
            Self::OAuth { client, .. } => {
                write!(f, "OAuth {{ client_id: {}, refresh_token: [REDACTED] }}", client.client_id)
            }
        }
    }
}

/// How `modifiedFrom` is expressed: the API does not say which zone it reads it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterZone {
    /// Property-local time (the API's datetimes are local).
    PropertyLocal,
    /// UTC.
    Utc,
}

/// Cloudbeds connector configuration. Build it with [`CloudbedsConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CloudbedsConfig {
    /// API root.
    pub base_url: String,
    /// The property (string id).
    pub property_id: String,
    /// Credentials.
    pub credentials: Credentials,
    /// Scopes the owner granted (Cloudbeds reports none back); `check()` refines capabilities from them.
    pub granted_scopes: Vec<String>,
    /// Requests per second per property: 5 for properties, 10 for technology partners.
    pub requests_per_second: u32,
    /// The zone `modifiedFrom` is sent in.
    pub modified_filter_zone: FilterZone,
    /// The property's time zone when `getHotels` does not say.
    pub timezone: Option<chrono_tz::Tz>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Stop paging after this many pages.
    pub max_pages: u32,
    /// Where rotated refresh tokens go.
    pub token_store: Option<Arc<dyn TokenStore>>,
    /// The property's shared pacer. Exceeding the rate can suspend credentials, so every client
    /// of the property must share one.
    pub pacer: Option<Arc<Pacer>>,
    /// A custom transport (a proxy, fault injection, recording in tests).
    pub transport: Option<Arc<dyn Transport>>,
}

impl CloudbedsConfig {
    /// A builder for `property_id`.
    pub fn builder(property_id: impl Into<String>, credentials: Credentials) -> CloudbedsConfigBuilder {
        CloudbedsConfigBuilder {
            config: Self {
                base_url: DEFAULT_BASE_URL.to_owned(),
                property_id: property_id.into(),
                credentials,
                granted_scopes: RECOMMENDED_SCOPES.iter().map(|s| s.to_string()).collect(),
                requests_per_second: 5,
                modified_filter_zone: FilterZone::PropertyLocal,
                timezone: None,
                retry: RetryPolicy::default(),
                request_timeout: Duration::from_secs(30),
                max_pages: 1000,
                token_store: None,
                pacer: None,
                transport: None,
            },
        }
    }
}

/// Builds a [`CloudbedsConfig`].
#[derive(Debug)]
#[must_use]
pub struct CloudbedsConfigBuilder {
    config: CloudbedsConfig,
}

impl CloudbedsConfigBuilder {
    /// API root.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// The scopes the owner granted.
    pub fn granted_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.config.granted_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Requests per second (5 for properties, 10 for partners).
    pub fn requests_per_second(mut self, n: u32) -> Self {
        self.config.requests_per_second = n;
        self
    }

    /// The zone of `modifiedFrom`.
    pub fn modified_filter_zone(mut self, zone: FilterZone) -> Self {
        self.config.modified_filter_zone = zone;
        self
    }

    /// Fallback property time zone.
    pub fn timezone(mut self, tz: chrono_tz::Tz) -> Self {
        self.config.timezone = Some(tz);
        self
    }

    /// Retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Per-request timeout.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.config.request_timeout = d;
        self
    }

    /// Token store.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.config.token_store = Some(store);
        self
    }

    /// The property's shared pacer.
    pub fn pacer(mut self, pacer: Arc<Pacer>) -> Self {
        self.config.pacer = Some(pacer);
        self
    }

    /// A custom transport.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.config.transport = Some(transport);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<CloudbedsConfig> {
        let c = self.config;
        if c.property_id.trim().is_empty() {
            return Err(Error::config("Cloudbeds property id must not be empty"));
        }
        if !(1..=10).contains(&c.requests_per_second) {
            return Err(Error::config("Cloudbeds allows 5 (property) or 10 (partner) requests per second"));
        }
        Ok(c)
    }
}
