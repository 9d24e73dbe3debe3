//! Who a record belongs to and how it arrived.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use compact_str::{CompactString, ToCompactString};
use serde::{Deserialize, Serialize};

/// The kind of connector a record came from: `beds24`, `cloudbeds`, `ical`, …
///
/// An open set rather than an enum, so that connectors outside this workspace can name themselves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectorKind(Cow<'static, str>);

impl ConnectorKind {
    /// Beds24 API v2.
    pub const BEDS24: Self = Self::from_static("beds24");
    /// Cloudbeds PMS API v1.3.
    pub const CLOUDBEDS: Self = Self::from_static("cloudbeds");
    /// Sirvoy (booking-event webhooks).
    pub const SIRVOY: Self = Self::from_static("sirvoy");
    /// FrontDesk Master (iCal and CSV exports).
    pub const FDM: Self = Self::from_static("fdm");
    /// OTA / PMS iCal feeds.
    pub const ICAL: Self = Self::from_static("ical");
    /// Booking-confirmation e-mails.
    pub const EMAIL: Self = Self::from_static("email");
    /// CSV import.
    pub const CSV: Self = Self::from_static("csv");
    /// The in-memory reference connector of the conformance kit.
    pub const MEMORY: Self = Self::from_static("memory");

    /// A kind from a static name.
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// A kind from any name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(CompactString);

        impl $name {
            /// Wraps a source's id. Numbers are kept as their decimal text.
            pub fn new(id: impl Into<String>) -> Self {
                Self(CompactString::from(id.into()))
            }

            /// An id written from its parts, e.g. `format_args!("{room}-{unit}")`: one of up to 24
            /// bytes is kept without an allocation, and no intermediate `String` is made.
            pub fn from_display(id: impl fmt::Display) -> Self {
                Self(id.to_compact_string())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(CompactString::from(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(CompactString::from(s))
            }
        }

        impl From<u64> for $name {
            fn from(n: u64) -> Self {
                Self(n.to_compact_string())
            }
        }
    };
}

opaque_id!(
    /// The account at the source: a property id (Beds24, Cloudbeds), a feed set, an inbox.
    AccountId
);
opaque_id!(
    /// The source's own id of a record. Opaque: Cloudbeds ids are strings, Beds24 ids are numbers.
    SourceId
);

/// The stable identity of a record: which connector, which account there, and the source's own id.
///
/// Hosts upsert by this key, which makes every sync idempotent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceKey {
    /// The connector kind.
    pub connector: ConnectorKind,
    /// The account (property) at the source.
    pub account: AccountId,
    /// The source's id of the record.
    pub id: SourceId,
}

impl SourceKey {
    /// A key from its parts.
    pub fn new(connector: ConnectorKind, account: impl Into<AccountId>, id: impl Into<SourceId>) -> Self {
        Self { connector, account: account.into(), id: id.into() }
    }
}

/// A text that is not `connector:account:id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a source key (connector:account:id)")]
pub struct ParseKeyError(String);

impl std::str::FromStr for SourceKey {
    type Err = ParseKeyError;

    /// Reads the form [`SourceKey`]'s `Display` writes. The id is everything after the second
    /// colon, so ids with colons read back whole.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(c), Some(a), Some(id)) if !c.is_empty() && !a.is_empty() && !id.is_empty() => {
                Ok(Self::new(ConnectorKind::new(c), a, id))
            }
            _ => Err(ParseKeyError(s.chars().take(80).collect())),
        }
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.connector, self.account, self.id)
    }
}

/// The path by which a record arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Via {
    /// Pulled from the vendor's API.
    Api,
    /// Pushed by a webhook (and, for PMS sources, re-fetched before it was trusted).
    Webhook,
    /// Read from an iCal feed.
    Ical,
    /// Parsed from an e-mail.
    Email,
    /// Imported from a CSV file.
    Csv,
    /// Entered by hand or created by a test.
    Manual,
}

/// How and when a record arrived. Volatile: never part of a record's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The path it arrived by.
    pub via: Via,
    /// When it was fetched or received.
    pub fetched_at: DateTime<Utc>,
}

impl Provenance {
    /// Provenance for a record fetched now by `via`.
    pub fn new(via: Via, fetched_at: DateTime<Utc>) -> Self {
        Self { via, fetched_at }
    }
}
