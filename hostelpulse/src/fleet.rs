//! From a [`Fleet`] of property configurations to the runtime's accounts: every connector built
//! once, each account's schedule and alert thresholds from its property's `[schedule]` and
//! `[alerts]`.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, Fleet, SecretProvider};
use crate::core::Error;
use crate::core::http::TokenStore;
use crate::registry::{Account, Registry};
use hostelpulse_runtime::{AlertRules, ManagedAccount};

/// Every property's registry, built once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FleetRegistry {
    /// Per property, its configuration and built accounts, in file order.
    pub properties: Vec<(Config, Registry)>,
}

impl FleetRegistry {
    /// Builds every account of every property, keeping minted tokens in `tokens`.
    pub fn build(fleet: &Fleet, secrets: &dyn SecretProvider, tokens: Arc<dyn TokenStore>) -> Result<Self, Error> {
        let properties = fleet
            .properties
            .iter()
            .map(|cfg| Ok((cfg.clone(), Registry::build_with_tokens(cfg, secrets, tokens.clone())?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self { properties })
    }

    /// One registry holding every account (ids are unique across a fleet): the webhook routes
    /// and the inbox look accounts up in it.
    pub fn all(&self) -> Registry {
        Registry::from_accounts(self.properties.iter().flat_map(|(_, r)| r.accounts().iter().cloned()).collect())
    }

    /// The runtime's accounts.
    pub fn managed(&self) -> Vec<ManagedAccount> {
        self.properties.iter().flat_map(|(cfg, reg)| reg.accounts().iter().map(move |a| managed(cfg, a))).collect()
    }
}

/// One account for the runtime, with the property's schedule and alert settings applied.
pub fn managed(cfg: &Config, a: &Account) -> ManagedAccount {
    let mut m = ManagedAccount::new(a.id.clone(), a.connector.clone(), cfg.property.timezone)
        .receives_webhooks(a.webhook.is_some())
        .credentials(a.credentials.clone());
    let over = cfg.schedule.account.get(&a.id);
    let mut schedule = m.schedule.clone();
    if let Some(t) = over.and_then(|o| o.full_at).or(cfg.schedule.full_at) {
        schedule = schedule.full_at(t);
    }
    if let Some(secs) = over.and_then(|o| o.poll_every_secs).or(cfg.schedule.poll_every_secs) {
        schedule = schedule.poll_every((secs > 0).then(|| Duration::from_secs(secs)));
    }
    if let Some(on) = over.and_then(|o| o.housekeeping).or(cfg.schedule.housekeeping) {
        schedule = schedule.housekeeping(on);
    }
    m = m.schedule(schedule);
    let t = cfg.alerts.for_account(&a.id);
    let mut rules: AlertRules = m.alerts.clone();
    let secs = |s: u64| (s > 0).then(|| Duration::from_secs(s));
    if let Some(n) = t.consecutive_failures {
        rules.consecutive_failures = (n > 0).then_some(n);
    }
    if let Some(s) = t.sync_lag_secs {
        rules.sync_lag = secs(s);
    }
    if let Some(s) = t.webhook_silence_secs {
        rules.webhook_silence = secs(s);
    }
    if let Some(s) = t.feed_stale_secs {
        rules.feed_stale = secs(s).filter(|_| rules.feed_stale.is_some());
    }
    if let Some(n) = t.records_failing {
        rules.records_failing = (n > 0).then_some(n as usize);
    }
    if let Some(s) = t.repeat_every_secs {
        rules.repeat_every = Duration::from_secs(s.max(60));
    }
    m.alerts(rules)
}
