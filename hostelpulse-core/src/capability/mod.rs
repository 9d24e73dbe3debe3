//! Capabilities as data: what each connector can do, how well, and on which plan or scope.
//!
//! A connector *declares* its capabilities statically ([`crate::Connector::capabilities`]); after
//! [`crate::Connector::check`] it reports the *effective* ones for the account it is connected to
//! (a token without a scope, an account without a plan). Host apps render either as a matrix
//! ([`CapabilityMatrix`]), as JSON or Markdown.

mod matrix;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::ConnectorKind;

pub use matrix::CapabilityMatrix;

/// An operation a connector may support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// Health check: credentials valid, scopes present.
    Check,
    /// Read properties, room types, rooms and beds.
    ReadRooms,
    /// Read bookings by stay-date window.
    ReadBookings,
    /// Read bookings modified since a time (incremental sync).
    ReadBookingsModified,
    /// Read specific bookings by id (webhook hints).
    ReadBookingsById,
    /// Read guest personal data (names, contact) with bookings.
    ReadGuestDetails,
    /// Read availability for a date range.
    ReadAvailability,
    /// Read housekeeping state.
    ReadHousekeeping,
    /// Set a stay's status (check-in / check-out).
    SetStayStatus,
    /// Add a note to a booking.
    AddNote,
    /// Set a room's housekeeping condition.
    SetHousekeeping,
    /// Receive webhooks (push hints).
    Webhooks,
    /// Look up a guest's stay for triage: by booking id, or by room and night.
    LookupStay,
}

impl Operation {
    /// Every operation, in matrix column order.
    pub const ALL: [Operation; 13] = [
        Self::Check,
        Self::ReadRooms,
        Self::ReadBookings,
        Self::ReadBookingsModified,
        Self::ReadBookingsById,
        Self::ReadGuestDetails,
        Self::ReadAvailability,
        Self::ReadHousekeeping,
        Self::SetStayStatus,
        Self::AddNote,
        Self::SetHousekeeping,
        Self::Webhooks,
        Self::LookupStay,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::ReadRooms => "read_rooms",
            Self::ReadBookings => "read_bookings",
            Self::ReadBookingsModified => "read_bookings_modified",
            Self::ReadBookingsById => "read_bookings_by_id",
            Self::ReadGuestDetails => "read_guest_details",
            Self::ReadAvailability => "read_availability",
            Self::ReadHousekeeping => "read_housekeeping",
            Self::SetStayStatus => "set_stay_status",
            Self::AddNote => "add_note",
            Self::SetHousekeeping => "set_housekeeping",
            Self::Webhooks => "webhooks",
            Self::LookupStay => "lookup_stay",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How well a connector supports an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Support {
    /// The source does it directly.
    Native,
    /// Done by other means; `how` says which (e.g. "cancellations detected by diffing full snapshots").
    Simulated {
        /// How it is simulated.
        how: String,
    },
    /// Works only on a plan of the source.
    NeedsPlan {
        /// The plan that unlocks it.
        plan: String,
    },
    /// Works only when the credential carries a scope.
    NeedsScope {
        /// The scope.
        scope: String,
    },
    /// Not possible.
    Unsupported {
        /// Why.
        why: String,
    },
}

impl Support {
    /// Simulated, with how.
    pub fn simulated(how: impl Into<String>) -> Self {
        Self::Simulated { how: how.into() }
    }

    /// Needs a plan.
    pub fn needs_plan(plan: impl Into<String>) -> Self {
        Self::NeedsPlan { plan: plan.into() }
    }

    /// Needs a scope.
    pub fn needs_scope(scope: impl Into<String>) -> Self {
        Self::NeedsScope { scope: scope.into() }
    }

    /// Unsupported, with why.
    pub fn unsupported(why: impl Into<String>) -> Self {
        Self::Unsupported { why: why.into() }
    }

    /// Whether calling the operation can work (possibly given the plan or scope).
    pub fn is_available(&self) -> bool {
        !matches!(self, Self::Unsupported { .. })
    }

    /// A short label for tables.
    pub fn label(&self) -> String {
        match self {
            Self::Native => "native".into(),
            Self::Simulated { how } => format!("simulated: {how}"),
            Self::NeedsPlan { plan } => format!("plan: {plan}"),
            Self::NeedsScope { scope } => format!("scope: {scope}"),
            Self::Unsupported { why } => format!("no: {why}"),
        }
    }
}

/// How an incremental sync finds changed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "key", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Incremental {
    /// By modification time; `reliable: false` when the source warns some edits do not move it
    /// (a periodic full reconcile is then needed).
    ModifiedSince {
        /// Whether every change moves the modification time.
        reliable: bool,
    },
    /// Pushed by webhooks only; there is nothing to poll.
    PushOnly,
    /// No incremental key: every sync is a full snapshot.
    None,
}

/// How cancellations or deletions become visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Visibility {
    /// The record stays with a cancelled status.
    Status,
    /// Only a webhook tells.
    Webhook,
    /// The record vanishes; detected by diffing two complete snapshots.
    SnapshotDiff,
    /// A flag on a listing that includes deleted records.
    DeletedFlag,
    /// Cannot be seen.
    NotVisible,
}

/// The finest level a connector allocates bookings at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Granularity {
    /// Down to the dorm bed.
    Bed,
    /// The room or unit.
    Room,
    /// Only the room type.
    RoomType,
    /// Whatever the owner mapped the feed to.
    Mapping,
    /// The property as a whole.
    Property,
}

/// How a connector's webhooks are authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "auth", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookAuth {
    /// The source sends no webhooks.
    NotOffered,
    /// HMAC signature over the body.
    Hmac,
    /// A static secret header the owner configures.
    StaticHeader,
    /// A secret in the URL path.
    UrlSecret,
    /// A secret in the URL plus the sender's published IP addresses.
    UrlSecretAndIpAllowList,
}

/// The source's rate-limit model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RateLimit {
    /// No documented limit.
    None,
    /// A request rate.
    RequestsPerSecond {
        /// Requests per second.
        per_second: u32,
        /// What it is counted per ("property", "client id").
        per: String,
    },
    /// A weighted credit budget over a window.
    Credits {
        /// Credits per window.
        credits: u32,
        /// Window length in seconds.
        window_secs: u32,
        /// What it is counted per.
        per: String,
    },
    /// A polling interval the source sets (feeds).
    PollInterval {
        /// Suggested minimum seconds between fetches.
        min_secs: u32,
    },
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none documented"),
            Self::RequestsPerSecond { per_second, per } => write!(f, "{per_second} requests/s per {per}"),
            Self::Credits { credits, window_secs, per } => {
                write!(f, "{credits} credits per {} min per {per}", window_secs / 60)
            }
            Self::PollInterval { min_secs } => write!(f, "poll at most every {} min", min_secs / 60),
        }
    }
}

/// Sync semantics of a connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncSemantics {
    /// How incremental sync works.
    pub incremental: Incremental,
    /// How cancellations become visible.
    pub cancellations: Visibility,
    /// How deletions become visible.
    pub deletions: Visibility,
    /// Allocation granularity.
    pub granularity: Granularity,
    /// Webhooks and their authentication.
    pub webhooks: WebhookAuth,
    /// Rate limits.
    pub rate_limit: RateLimit,
    /// How fresh the data is, in words ("minutes", "up to a day, set by the OTA").
    pub freshness: String,
}

impl SyncSemantics {
    /// Semantics with everything required given.
    pub fn new(
        incremental: Incremental,
        cancellations: Visibility,
        deletions: Visibility,
        granularity: Granularity,
        webhooks: WebhookAuth,
        rate_limit: RateLimit,
        freshness: impl Into<String>,
    ) -> Self {
        Self { incremental, cancellations, deletions, granularity, webhooks, rate_limit, freshness: freshness.into() }
    }
}

/// The capabilities of one connector (declared) or one connected account (effective).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// The connector.
    pub connector: ConnectorKind,
    /// A human name ("Beds24 API v2").
    pub name: String,
    /// Support per operation. An operation not listed is unsupported.
    pub operations: BTreeMap<Operation, Support>,
    /// Sync semantics.
    pub sync: SyncSemantics,
    /// Facts marked uncertain at the source, and how the connector makes them configurable.
    pub uncertain: Vec<String>,
}

impl Capabilities {
    /// Capabilities with every operation unsupported; add support with [`Capabilities::with`].
    pub fn new(connector: ConnectorKind, name: impl Into<String>, sync: SyncSemantics) -> Self {
        Self { connector, name: name.into(), operations: BTreeMap::new(), sync, uncertain: Vec::new() }
    }

    /// Sets the support of an operation.
    pub fn with(mut self, op: Operation, support: Support) -> Self {
        self.operations.insert(op, support);
        self
    }

    /// Records an uncertain fact.
    pub fn with_uncertain(mut self, note: impl Into<String>) -> Self {
        self.uncertain.push(note.into());
        self
    }

    /// The support of an operation (unsupported when not listed).
    pub fn support(&self, op: Operation) -> Support {
        self.operations.get(&op).cloned().unwrap_or_else(|| Support::unsupported("not offered by this source"))
    }

    /// Whether an operation can be called.
    pub fn supports(&self, op: Operation) -> bool {
        self.support(op).is_available()
    }

    /// Refines a declared capability for one account (e.g. after `check()` found a scope missing).
    pub fn refine(&mut self, op: Operation, support: Support) {
        self.operations.insert(op, support);
    }

    /// The effective capabilities given the scopes an account's credential carries: every
    /// `NeedsScope` whose scope is missing becomes unsupported, and the present ones native.
    pub fn effective_for_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> Self {
        let mut eff = self.clone();
        for support in eff.operations.values_mut() {
            if let Support::NeedsScope { scope } = support {
                *support = if scopes.iter().any(|s| s.as_ref() == scope) {
                    Support::Native
                } else {
                    Support::unsupported(format!("the credential lacks the `{scope}` scope"))
                };
            }
        }
        eff
    }

    /// The effective capabilities on the account's plan `plan` (as the owner named it):
    /// every `NeedsPlan` the plan unlocks (`unlocks(needed)`) becomes native, the others
    /// unsupported with the plan named. Without a known plan, keep the declared ones.
    pub fn effective_for_plan(&self, plan: &str, unlocks: impl Fn(&str) -> bool) -> Self {
        let mut eff = self.clone();
        for support in eff.operations.values_mut() {
            if let Support::NeedsPlan { plan: needed } = support {
                *support = if unlocks(needed) {
                    Support::Native
                } else {
                    Support::unsupported(format!("not on the account's plan ({plan}): needs {needed}"))
                };
            }
        }
        eff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Capabilities {
        Capabilities::new(
            ConnectorKind::BEDS24,
            "Beds24 API v2",
            SyncSemantics::new(
                Incremental::ModifiedSince { reliable: true },
                Visibility::Status,
                Visibility::SnapshotDiff,
                Granularity::Bed,
                WebhookAuth::StaticHeader,
                RateLimit::Credits { credits: 100, window_secs: 300, per: "account".into() },
                "minutes",
            ),
        )
        .with(Operation::ReadBookings, Support::Native)
        .with(Operation::ReadGuestDetails, Support::needs_scope("read:bookings-personal"))
        .with(Operation::SetStayStatus, Support::simulated("info item with a configurable code"))
        .with_uncertain("the info code the Beds24 UI writes on check-in")
    }

    #[test]
    fn unlisted_operations_are_unsupported() {
        let caps = sample();
        assert!(caps.supports(Operation::ReadBookings));
        assert!(!caps.supports(Operation::SetHousekeeping));
        assert!(matches!(caps.support(Operation::SetHousekeeping), Support::Unsupported { .. }));
    }

    #[test]
    fn scopes_refine_declared_capabilities() {
        let caps = sample();
        let without = caps.effective_for_scopes(&["read:bookings"]);
        assert!(!without.supports(Operation::ReadGuestDetails));
        let with = caps.effective_for_scopes(&["read:bookings", "read:bookings-personal"]);
        assert_eq!(with.support(Operation::ReadGuestDetails), Support::Native);
    }

    #[test]
    fn capabilities_json_shape_is_stable() {
        insta::assert_json_snapshot!(sample());
    }
}
