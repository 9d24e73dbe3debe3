//! Configuration: credentials, endpoints, and the behaviours the vendor leaves uncertain.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::{Pacer, RetryPolicy, TokenStore};
use hostelpulse_core::model::Condition;
use hostelpulse_core::{Error, Result};
use secrecy::SecretString;

/// The default API root.
pub const DEFAULT_BASE_URL: &str = "https://beds24.com/api/v2";

/// What the owner gave us. All three are real Beds24 forms.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// An invite code from SETTINGS › MARKETPLACE › API: exchanged once for a refresh token, which
    /// is handed to the [`TokenStore`] so it survives restarts.
    InviteCode(SecretString),
    /// A refresh token, minting 24-hour access tokens.
    RefreshToken(SecretString),
    /// A long-life token: read-only, no refresh.
    LongLifeToken(SecretString),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::InviteCode(_) => "InviteCode",
            Self::RefreshToken(_) => "RefreshToken",
            Self::LongLifeToken(_) => "LongLifeToken",
        };
        write!(f, "{kind}([REDACTED])")
    }
}

/// How notes are written. Beds24 replaces the `notes` field on write, so appending is
/// read–append–write; an info item is a separate tagged entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteMode {
    /// Read the booking's `notes`, append a line, write the whole field back.
    AppendToNotes,
    /// Add an info item with this code.
    InfoItem(String),
}

/// Beds24 connector configuration. Build it with [`Beds24Config::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Beds24Config {
    /// API root (default [`DEFAULT_BASE_URL`]; `https://api.beds24.com/v2` also serves the API).
    pub base_url: String,
    /// The property this connector syncs (the account).
    pub property_id: u64,
    /// Credentials.
    pub credentials: Credentials,
    /// `organization` header, for integration partners only.
    pub organization: Option<String>,
    /// `deviceName` sent when exchanging an invite code.
    pub device_name: String,
    /// The property's time zone (Beds24 does not report one); UTC when unset.
    pub timezone: Option<chrono_tz::Tz>,
    /// Currency for prices when the property does not report one.
    pub currency: Option<String>,
    /// Info-item code written on check-in (what the control panel writes is unconfirmed).
    pub checkin_code: String,
    /// Info-item code written on check-out.
    pub checkout_code: String,
    /// How notes are written.
    pub note_mode: NoteMode,
    /// Unit status texts (lower-cased) → housekeeping condition. The texts are account-defined.
    pub unit_status_map: HashMap<String, Condition>,
    /// Write unit status through `POST /properties` (unverified against a live account; off by default).
    pub unit_status_write: bool,
    /// Credits per 5-minute window (100 by default; more can be bought).
    pub credits_per_window: f64,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Stop paging after this many pages (a safety net against a server that never ends).
    pub max_pages: u32,
    /// Where minted refresh tokens go.
    pub token_store: Option<Arc<dyn TokenStore>>,
    /// The account's shared pacer (one request at a time, credit budget). Created when unset; share
    /// it between every client of the same Beds24 account.
    pub pacer: Option<Arc<Pacer>>,
}

impl Beds24Config {
    /// A builder for `property_id` with `credentials`.
    pub fn builder(property_id: u64, credentials: Credentials) -> Beds24ConfigBuilder {
        let map = [
            ("clean", Condition::Clean),
            ("dirty", Condition::Dirty),
            ("inspected", Condition::Inspected),
            ("out of order", Condition::OutOfOrder),
            ("out of service", Condition::OutOfOrder),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Beds24ConfigBuilder {
            config: Self {
                base_url: DEFAULT_BASE_URL.to_owned(),
                property_id,
                credentials,
                organization: None,
                device_name: "hostelpulse".to_owned(),
                timezone: None,
                currency: None,
                checkin_code: "CHECKIN".to_owned(),
                checkout_code: "CHECKOUT".to_owned(),
                note_mode: NoteMode::AppendToNotes,
                unit_status_map: map,
                unit_status_write: false,
                credits_per_window: 100.0,
                retry: RetryPolicy::default(),
                request_timeout: Duration::from_secs(30),
                max_pages: 1000,
                token_store: None,
                pacer: None,
            },
        }
    }
}

/// Builds a [`Beds24Config`].
#[derive(Debug)]
#[must_use]
pub struct Beds24ConfigBuilder {
    config: Beds24Config,
}

impl Beds24ConfigBuilder {
    /// API root.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// Partner organization header.
    pub fn organization(mut self, org: impl Into<String>) -> Self {
        self.config.organization = Some(org.into());
        self
    }

    /// Device name for the invite-code exchange.
    pub fn device_name(mut self, name: impl Into<String>) -> Self {
        self.config.device_name = name.into();
        self
    }

    /// The most pages one list read follows (at least 1); reaching it ends the run partial.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.config.max_pages = pages.max(1);
        self
    }

    /// Property time zone.
    pub fn timezone(mut self, tz: chrono_tz::Tz) -> Self {
        self.config.timezone = Some(tz);
        self
    }

    /// Fallback currency.
    pub fn currency(mut self, code: impl Into<String>) -> Self {
        self.config.currency = Some(code.into());
        self
    }

    /// Info-item codes for check-in and check-out.
    pub fn stay_codes(mut self, checkin: impl Into<String>, checkout: impl Into<String>) -> Self {
        self.config.checkin_code = checkin.into();
        self.config.checkout_code = checkout.into();
        self
    }

    /// How notes are written.
    pub fn note_mode(mut self, mode: NoteMode) -> Self {
        self.config.note_mode = mode;
        self
    }

    /// Maps a unit status text (case-insensitive) to a condition.
    pub fn unit_status(mut self, text: &str, condition: Condition) -> Self {
        self.config.unit_status_map.insert(text.trim().to_lowercase(), condition);
        self
    }

    /// Enables the unverified unit-status write.
    pub fn unit_status_write(mut self, yes: bool) -> Self {
        self.config.unit_status_write = yes;
        self
    }

    /// Credits per 5-minute window.
    pub fn credits_per_window(mut self, credits: f64) -> Self {
        self.config.credits_per_window = credits;
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

    /// The account's shared pacer.
    pub fn pacer(mut self, pacer: Arc<Pacer>) -> Self {
        self.config.pacer = Some(pacer);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Beds24Config> {
        let c = self.config;
        if c.property_id == 0 {
            return Err(Error::config("Beds24 property id must not be 0"));
        }
        if c.checkin_code.trim().is_empty() || c.checkout_code.trim().is_empty() {
            return Err(Error::config("Beds24 check-in/check-out info codes must not be empty"));
        }
        if !c.credits_per_window.is_finite() || c.credits_per_window <= 0.0 {
            return Err(Error::config("Beds24 credits per window must be positive"));
        }
        Ok(c)
    }
}
