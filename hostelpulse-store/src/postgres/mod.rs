//! [`PgStore`]: everything [`crate::SqliteStore`] keeps, on PostgreSQL, so that several worker
//! processes on several machines can share the properties of one deployment.
//!
//! The driver is `tokio-postgres` behind a `deadpool-postgres` pool: a maintained async driver
//! with no compile-time database and no macros, whose row and array types map straight onto
//! ours (`timestamptz`, `date`, `bytea`, arrays for batched writes).

mod bookings;
mod jobs;
mod rooms;
mod schema;
mod sync;
#[cfg(feature = "tokens")]
mod tokens;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use hostelpulse_core::sync::StoreError;
use tokio_postgres::NoTls;

/// A store in a PostgreSQL database.
///
/// Open it with [`PgStore::builder`]. The schema is created and migrated on open (under an
/// advisory lock, so workers starting together migrate once). The tables are created in the
/// connection's `search_path`: give the deployment its own database, or its own schema with
/// `options=-csearch_path%3Dname` in the URL.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's configuration holds the password: never shown.
        let status = self.pool.status();
        f.debug_struct("PgStore").field("size", &status.size).field("max_size", &status.max_size).finish()
    }
}

/// Options for [`PgStore`].
#[derive(Clone)]
#[must_use]
pub struct PgStoreBuilder {
    config: Result<tokio_postgres::Config, String>,
    pool_size: usize,
    connect_timeout: Duration,
}

impl std::fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl PgStoreBuilder {
    /// Connections kept open at most (default 8).
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// How long to wait for the server when connecting (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Connects, checks that the database is ours or empty, and migrates it.
    pub async fn open(self) -> Result<PgStore, StoreError> {
        let mut config = self.config.map_err(StoreError::Refused)?;
        config.connect_timeout(self.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("hostelpulse");
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(self.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(self.connect_timeout * 3))
            .create_timeout(Some(self.connect_timeout))
            .build()
            .map_err(backend)?;
        let store = PgStore { pool };
        let mut client = store.client().await?;
        schema::migrate(&mut client).await?;
        Ok(store)
    }
}

impl PgStore {
    /// A store at `url` (`postgres://user:password@host:port/database`, or key-value form:
    /// `host=… user=… dbname=…`). The URL holds the password: read it from a secret, never
    /// from a command line. TLS is not supported yet: use a local socket, loopback or a private
    /// network (`sslmode=require` is refused at connect).
    pub fn builder(url: &str) -> PgStoreBuilder {
        PgStoreBuilder {
            // The parse error never echoes the URL (it may hold the password).
            config: url.parse::<tokio_postgres::Config>().map_err(|e| format!("the PostgreSQL URL is not valid: {e}")),
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Opens the store at `url` with default options.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).open().await
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }
}

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
