//! Configuration: the property, the webhook's URL secrets and sender allow-list, and the rooms.

use hostelpulse_core::{Error, Result};
use ipnet::IpNet;
use secrecy::SecretString;

/// Sirvoy's published webhook sender addresses (overridable: Sirvoy may change them).
pub const SIRVOY_SENDERS: [&str; 5] =
    ["34.243.166.60/32", "52.18.11.99/32", "63.34.80.48/32", "54.194.0.85/32", "2a05:d018:e34:5300::/56"];

/// Sirvoy connector configuration. Build it with [`SirvoyConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SirvoyConfig {
    /// The Sirvoy property id.
    pub property_id: String,
    /// Accepted URL secrets (several while rotating). Generate one with [`crate::generate_secret`].
    pub url_secrets: Vec<SecretString>,
    /// Sender networks allowed to deliver.
    pub allowed_senders: Vec<IpNet>,
    /// The account's plan, when the owner says (webhooks need Sirvoy Pro).
    pub plan: Option<String>,
    /// Currency when a delivery does not carry one.
    pub currency: Option<String>,
    /// Rooms the owner lists up front (room type → room names), so rooms exist before any
    /// delivery mentions them.
    pub rooms: Vec<(String, Vec<String>)>,
}

impl SirvoyConfig {
    /// A builder for `property_id` accepting `url_secret`.
    pub fn builder(property_id: impl Into<String>, url_secret: SecretString) -> SirvoyConfigBuilder {
        SirvoyConfigBuilder {
            config: Self {
                property_id: property_id.into(),
                url_secrets: vec![url_secret],
                allowed_senders: SIRVOY_SENDERS.iter().filter_map(|n| n.parse().ok()).collect(),
                plan: None,
                currency: None,
                rooms: Vec::new(),
            },
        }
    }
}

/// Builds a [`SirvoyConfig`].
#[derive(Debug)]
#[must_use]
pub struct SirvoyConfigBuilder {
    config: SirvoyConfig,
}

impl SirvoyConfigBuilder {
    /// Also accepts `secret` (rotation).
    pub fn also_accept(mut self, secret: SecretString) -> Self {
        self.config.url_secrets.push(secret);
        self
    }

    /// Replaces the sender allow-list.
    pub fn allowed_senders(mut self, nets: Vec<IpNet>) -> Self {
        self.config.allowed_senders = nets;
        self
    }

    /// The account's plan.
    pub fn plan(mut self, plan: impl Into<String>) -> Self {
        self.config.plan = Some(plan.into());
        self
    }

    /// Lists a room type and its rooms up front.
    pub fn room_type(mut self, name: impl Into<String>, rooms: &[&str]) -> Self {
        self.config.rooms.push((name.into(), rooms.iter().map(|r| r.to_string()).collect()));
        self
    }

    /// Fallback currency.
    pub fn currency(mut self, c: impl Into<String>) -> Self {
        self.config.currency = Some(c.into());
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<SirvoyConfig> {
        let c = self.config;
        if c.property_id.trim().is_empty() {
            return Err(Error::config("Sirvoy property id must not be empty"));
        }
        if c.allowed_senders.is_empty() {
            return Err(Error::config("the Sirvoy sender allow-list must not be empty"));
        }
        Ok(c)
    }
}
