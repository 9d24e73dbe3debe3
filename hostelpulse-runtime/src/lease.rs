//! Holding an account's lease outside the runtime: a one-shot `hostelpulse sync` beside a
//! running `hostelpulse run` (or another `sync`) waits for the account instead of sending
//! requests alongside it, so the source's per-account rate limit holds across processes.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hostelpulse_core::capability::RateLimit;
use hostelpulse_core::sync::{JobStore, LeaseGrant, Scope, StoreError};

/// Why a lease was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaseError {
    /// Another process kept the account longer than we were willing to wait.
    #[error("another process ({by}) is syncing this account; try again later")]
    Busy {
        /// The holder.
        by: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long after an account's last request a new holder must wait before it may send at full
/// rate: one rate window for a requests-per-second limit, with a margin. (A credit budget is
/// corrected from the source's own headers on the first response.)
pub fn quiet_after(limit: &RateLimit) -> Option<Duration> {
    match limit {
        RateLimit::RequestsPerSecond { .. } => Some(Duration::from_millis(1100)),
        _ => None,
    }
}

/// A held lease, renewed in the background until [`Held::release`] (or drop, which lets it
/// expire).
pub struct Held {
    store: Arc<dyn JobStore>,
    scope: Scope,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

/// Takes `scope`'s lease for `holder`, waiting up to `max_wait` for another holder to finish and
/// for the quiet time it asked for.
pub async fn acquire(
    store: Arc<dyn JobStore>,
    scope: &Scope,
    holder: &str,
    ttl: Duration,
    max_wait: Duration,
) -> Result<Held, LeaseError> {
    let ttl_c = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(1));
    let started = tokio::time::Instant::now();
    loop {
        let now = Utc::now();
        match store.lease(scope, holder, now, ttl_c).await? {
            LeaseGrant::Granted { quiet_until, .. } => {
                if let Some(wait) = quiet_until.and_then(|q| (q - now).to_std().ok()) {
                    tokio::time::sleep(wait).await;
                }
                let renew = {
                    let (store, scope, holder) = (store.clone(), scope.clone(), holder.to_owned());
                    tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(ttl / 3).await;
                            let _ = store.lease(&scope, &holder, Utc::now(), ttl_c).await;
                        }
                    })
                };
                return Ok(Held { store, scope: scope.clone(), holder: holder.to_owned(), renew });
            }
            LeaseGrant::Held { by, until } => {
                if started.elapsed() >= max_wait {
                    return Err(LeaseError::Busy { by });
                }
                let wait = (until - now)
                    .to_std()
                    .unwrap_or_default()
                    .clamp(Duration::from_millis(100), Duration::from_secs(1));
                tokio::time::sleep(wait).await;
            }
            #[allow(unreachable_patterns)]
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").field("scope", &self.scope).field("holder", &self.holder).finish_non_exhaustive()
    }
}

impl Held {
    /// Gives the lease back, asking the next holder to keep quiet for `quiet` (see
    /// [`quiet_after`]).
    pub async fn release(self, quiet: Option<Duration>) -> Result<(), StoreError> {
        self.renew.abort();
        let quiet_until = quiet.and_then(|q| chrono::Duration::from_std(q).ok()).map(|q| Utc::now() + q);
        self.store.release(&self.scope, &self.holder, quiet_until).await
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renew.abort();
    }
}
