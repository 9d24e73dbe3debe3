//! Accounts an owner added, changed or removed at run time (through the owner console), kept in
//! the store over the host's configuration file, so every worker and every restart sees them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::StoreError;

/// One account's configuration as the console stored it. `config` is the account's table as
/// JSON (the same keys as an `[[account]]` table, tagged by `connector`) with every secret a
/// reference, never a value; `None` removes an account the configuration file declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredAccount {
    /// The property the account belongs to (its name in the configuration).
    pub property: String,
    /// The account id.
    pub account: String,
    /// The account's configuration, or `None` for "removed".
    pub config: Option<serde_json::Value>,
    /// When it was stored.
    pub updated_at: DateTime<Utc>,
}

impl StoredAccount {
    /// An account's configuration.
    pub fn new(
        property: impl Into<String>,
        account: impl Into<String>,
        config: Option<serde_json::Value>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self { property: property.into(), account: account.into(), config, updated_at }
    }
}

/// Where stored account configurations are kept. Removing an account keeps a tombstone (a
/// `None` configuration): the file may still declare it, and its bookings stay in the store.
#[async_trait]
pub trait AccountConfigStore: Send + Sync {
    /// Every stored account, in account order.
    async fn stored_accounts(&self) -> Result<Vec<StoredAccount>, StoreError>;
    /// Inserts or replaces one account's entry (by account id).
    async fn put_stored_account(&self, account: &StoredAccount) -> Result<(), StoreError>;
}
