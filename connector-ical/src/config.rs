//! Configuration: the owner's feeds, their unit mapping, and fetch limits.

use std::time::Duration;

use hostelpulse_core::http::RetryPolicy;
use hostelpulse_core::model::{AccountId, Allocation, ConnectorKind};
use hostelpulse_core::{Error, Result};
use secrecy::SecretString;

use crate::classify::FeedReading;

/// One feed: where it is, who produces it, and which unit it describes.
#[derive(Clone)]
#[non_exhaustive]
pub struct FeedConfig {
    /// The feed's id within the account (stable; part of every booking's source id).
    pub id: String,
    /// The feed URL. Secret: OTA feed URLs carry access tokens.
    pub url: SecretString,
    /// The unit it describes: a room type, a room or a bed.
    pub unit: Allocation,
    /// Who produces it and how its dates are meant (auto-detected producer by default).
    pub reading: FeedReading,
}

impl FeedConfig {
    /// A feed for `unit`.
    pub fn new(id: impl Into<String>, url: SecretString, unit: Allocation) -> Self {
        Self { id: id.into(), url, unit, reading: FeedReading::default() }
    }

    /// Sets who produces the feed and how its dates are meant.
    pub fn reading(mut self, reading: FeedReading) -> Self {
        self.reading = reading;
        self
    }
}

impl std::fmt::Debug for FeedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConfig")
            .field("id", &self.id)
            .field("url", &"[REDACTED]")
            .field("reading", &self.reading)
            .field("unit", &self.unit)
            .finish()
    }
}

/// iCal connector configuration. Build it with [`IcalConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IcalConfig {
    /// The connector kind records are keyed under (`ical`; a composite such as FrontDesk Master
    /// uses its own).
    pub kind: ConnectorKind,
    /// The account (the property the feeds belong to).
    pub account: AccountId,
    /// The property's time zone.
    pub timezone: chrono_tz::Tz,
    /// The feeds.
    pub feeds: Vec<FeedConfig>,
    /// Fetch from loopback, private and link-local addresses (tests and the sandbox only: owner-pasted
    /// URLs are fetched server-side, so this is off by default).
    pub allow_private_addresses: bool,
    /// Networks fetched from although they are not public (a FrontDesk Master on the hostel's LAN:
    /// `192.168.1.0/24`). Only these: loopback, link-local (cloud metadata) and every other
    /// internal range stay refused unless listed, and redirects out of them are refused too.
    pub allow_networks: Vec<ipnet::IpNet>,
    /// Largest feed accepted.
    pub max_bytes: usize,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// How often the host polls.
    pub poll_interval: Duration,
    /// A feed is stale after this many missed polls.
    pub stale_after_missed: u32,
}

impl IcalConfig {
    /// A builder for `account` in `timezone`.
    pub fn builder(account: impl Into<AccountId>, timezone: chrono_tz::Tz) -> IcalConfigBuilder {
        IcalConfigBuilder {
            config: Self {
                kind: ConnectorKind::ICAL,
                account: account.into(),
                timezone,
                feeds: Vec::new(),
                allow_private_addresses: false,
                allow_networks: Vec::new(),
                max_bytes: 5 * 1024 * 1024,
                max_redirects: 3,
                request_timeout: Duration::from_secs(20),
                retry: RetryPolicy::default().max_attempts(3),
                poll_interval: Duration::from_secs(15 * 60),
                stale_after_missed: 4,
            },
        }
    }
}

/// Builds an [`IcalConfig`].
#[derive(Debug)]
#[must_use]
pub struct IcalConfigBuilder {
    config: IcalConfig,
}

impl IcalConfigBuilder {
    /// Keys records under another connector kind (for composites built on iCal).
    pub fn connector_kind(mut self, kind: ConnectorKind) -> Self {
        self.config.kind = kind;
        self
    }

    /// Adds a feed.
    pub fn feed(mut self, feed: FeedConfig) -> Self {
        self.config.feeds.push(feed);
        self
    }

    /// Allows loopback/private addresses (tests, sandbox).
    /// Allows these networks besides the public internet (see [`IcalConfig::allow_networks`]).
    pub fn allow_networks(mut self, nets: impl IntoIterator<Item = ipnet::IpNet>) -> Self {
        self.config.allow_networks = nets.into_iter().collect();
        self
    }

    /// Allows every internal address (tests and the sandbox; prefer [`Self::allow_networks`]).
    pub fn allow_private_addresses(mut self, yes: bool) -> Self {
        self.config.allow_private_addresses = yes;
        self
    }

    /// Largest feed accepted.
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.config.max_bytes = bytes;
        self
    }

    /// Redirects followed at most.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.config.max_redirects = n;
        self
    }

    /// Per-request timeout.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.config.request_timeout = d;
        self
    }

    /// Retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Poll interval and how many missed polls make a feed stale.
    pub fn staleness(mut self, poll_interval: Duration, missed: u32) -> Self {
        self.config.poll_interval = poll_interval;
        self.config.stale_after_missed = missed.max(1);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<IcalConfig> {
        let c = self.config;
        let mut ids = std::collections::HashSet::new();
        for f in &c.feeds {
            if f.id.trim().is_empty() || f.id.contains('/') {
                return Err(Error::config(format!("feed id `{}` must be non-empty and contain no '/'", f.id)));
            }
            if !ids.insert(f.id.clone()) {
                return Err(Error::config(format!("feed id `{}` is used twice", f.id)));
            }
            if !f.unit.is_assigned() && f.unit.room_type.is_none() {
                return Err(Error::config(format!("feed `{}` is not mapped to a room type, room or bed", f.id)));
            }
        }
        Ok(c)
    }
}
