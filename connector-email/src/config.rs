//! Configuration of an inbox connector.

use crate::parse::ParseOptions;

/// An inbox connector's configuration.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmailConfig {
    /// The account (one inbox per property is the usual set-up).
    pub account: String,
    /// How messages are parsed (size limit, review threshold).
    pub parse: ParseOptions,
}

impl EmailConfig {
    /// A builder for `account`.
    pub fn builder(account: impl Into<String>) -> EmailConfigBuilder {
        EmailConfigBuilder { cfg: EmailConfig { account: account.into(), parse: ParseOptions::default() } }
    }
}

/// Builds an [`EmailConfig`].
#[derive(Debug, Clone)]
pub struct EmailConfigBuilder {
    cfg: EmailConfig,
}

impl EmailConfigBuilder {
    /// Messages over this many bytes are refused (default 10 MiB).
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.cfg.parse = self.cfg.parse.max_message_bytes(bytes);
        self
    }

    /// Results below this confidence are held for review (default 0.7).
    pub fn review_threshold(mut self, threshold: f32) -> Self {
        self.cfg.parse = self.cfg.parse.review_threshold(threshold);
        self
    }

    /// The configuration; fails on an empty account.
    pub fn build(self) -> hostelpulse_core::Result<EmailConfig> {
        if self.cfg.account.trim().is_empty() {
            return Err(hostelpulse_core::Error::config("e-mail connector: the account must not be empty"));
        }
        Ok(self.cfg)
    }
}
