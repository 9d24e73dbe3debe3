#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod accounts;
mod api;
mod auth;
mod pages;
mod problem;

use std::sync::Arc;

use axum::Router;
use hostelpulse::Registry;
use hostelpulse::config::Config;
use hostelpulse::core::http::TokenStore;
use hostelpulse::runtime::RuntimeHandle;
use hostelpulse::sync::{AccountConfigStore, JobStore, PreviousBookings};
use hostelpulse::tasks::TaskStore;

pub use accounts::{AccountConfigView, AccountRequest};
pub use api::{
    AccountLine, ConfirmRequest, MappingRow, MappingView, PropertyLine, RunLine, SetRequest, SyncQueued, SyncRequest,
};
pub use auth::token_hash;
pub use problem::Problem;

/// What the console reads and writes: the bookings, rooms and audit log of every property, the
/// room mapping, the kept turnover tasks, and the accounts (with their secrets) added through
/// it. The SQLite and PostgreSQL stores are all of it.
pub trait ConsoleStore:
    hostelpulse::property::PropertyStore
    + TaskStore
    + JobStore
    + PreviousBookings
    + AccountConfigStore
    + TokenStore
    + Send
    + Sync
    + 'static
{
}
impl<T> ConsoleStore for T where
    T: hostelpulse::property::PropertyStore
        + TaskStore
        + JobStore
        + PreviousBookings
        + AccountConfigStore
        + TokenStore
        + Send
        + Sync
        + 'static
        + ?Sized
{
}

/// Called after an account was added, changed or removed through the API (the change is in the
/// store): `hostelpulse run` restarts its runtime on the new configuration.
pub type OnAccountsChanged = Arc<dyn Fn() + Send + Sync>;

/// The owner console over one store and the properties of a configuration.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ConsoleStore>,
    properties: Vec<Config>,
    runtime: Option<RuntimeHandle>,
    registry: Option<Arc<Registry>>,
    tokens: Vec<[u8; 32]>,
    on_accounts_changed: Option<OnAccountsChanged>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("properties", &self.inner.properties.len())
            .field("runtime", &self.inner.runtime.is_some())
            .field("bearer_tokens", &self.inner.tokens.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Console`].
#[must_use]
pub struct ConsoleBuilder {
    store: Arc<dyn ConsoleStore>,
    properties: Vec<Config>,
    runtime: Option<RuntimeHandle>,
    registry: Option<Arc<Registry>>,
    tokens: Vec<[u8; 32]>,
    on_accounts_changed: Option<OnAccountsChanged>,
}

impl Console {
    /// A console over `store`.
    pub fn builder(store: Arc<dyn ConsoleStore>) -> ConsoleBuilder {
        ConsoleBuilder {
            store,
            properties: Vec::new(),
            runtime: None,
            registry: None,
            tokens: Vec::new(),
            on_accounts_changed: None,
        }
    }

    /// The API under `/api/v1/`, the OpenAPI document at `/api/v1/openapi.json`, the dashboard at
    /// `/`, the Today board at `/board` and the mapping page at `/mapping`. Mount it under any
    /// prefix (`Router::nest`), behind the host's own authentication, or give it bearer tokens.
    pub fn router(&self) -> Router {
        let routes = api::routes().merge(pages::routes()).merge(auth::routes()).with_state(self.clone());
        if self.inner.tokens.is_empty() {
            routes
        } else {
            routes.layer(axum::middleware::from_fn_with_state(self.clone(), auth::require_bearer))
        }
    }

    fn store(&self) -> &dyn ConsoleStore {
        self.inner.store.as_ref()
    }

    fn tokens(&self) -> &dyn TokenStore {
        self.inner.store.as_ref()
    }

    fn accounts_store(&self) -> &dyn AccountConfigStore {
        self.inner.store.as_ref()
    }

    fn property(&self, name: &str) -> Option<&Config> {
        self.inner.properties.iter().find(|p| p.property.name == name)
    }

    /// The property holding an account, and the account's configuration.
    fn account(&self, id: &str) -> Option<(&Config, &hostelpulse::config::AccountConfig)> {
        self.inner.properties.iter().find_map(|p| p.accounts.iter().find(|a| a.id() == id).map(|a| (p, a)))
    }
}

impl ConsoleBuilder {
    /// The properties shown (each with its accounts), in order: one configuration per property.
    pub fn properties(mut self, properties: impl IntoIterator<Item = Config>) -> Self {
        self.properties.extend(properties);
        self
    }

    /// The runtime that "sync now" queues runs in. Without one the console only reads.
    pub fn runtime(mut self, handle: RuntimeHandle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// The built accounts: the capability matrix of each (declared, and effective after a check)
    /// and guest stay lookups at the source need them.
    pub fn registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Requires `Authorization: Bearer <token>` with one of these SHA-256 token hashes
    /// ([`token_hash`]); the tokens themselves are never kept. Without any, the host's own
    /// middleware guards the router.
    pub fn bearer_token_hashes(mut self, hashes: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.tokens.extend(hashes);
        self
    }

    /// Called once an account added, changed or removed through the API is stored; without
    /// it the change applies when the host next builds its accounts.
    pub fn on_accounts_changed(mut self, hook: OnAccountsChanged) -> Self {
        self.on_accounts_changed = Some(hook);
        self
    }

    /// The console.
    pub fn build(self) -> Console {
        Console {
            inner: Arc::new(Inner {
                store: self.store,
                properties: self.properties,
                runtime: self.runtime,
                registry: self.registry,
                tokens: self.tokens,
                on_accounts_changed: self.on_accounts_changed,
            }),
        }
    }
}

/// The API's OpenAPI document, generated from the handlers (checked in as `openapi.json` at the
/// repository's root and pinned by a test).
pub fn openapi() -> utoipa::openapi::OpenApi {
    <api::ApiDoc as utoipa::OpenApi>::openapi()
}
