//! Credentials helpers shared by connectors: a single-flight token cache, refresh-once-on-401, and
//! a store through which rotated or newly issued secrets reach the host.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::error::{ErrorKind, Result};
use crate::model::{AccountId, ConnectorKind};

/// A token just minted, with its lifetime when the source gives one.
#[derive(Debug)]
pub struct MintedToken {
    /// The token.
    pub token: SecretString,
    /// Lifetime from now.
    pub expires_in: Option<Duration>,
}

/// Caches one access token until shortly before it expires. Concurrent callers that find it
/// missing or stale wait for a single refresh rather than each minting one.
#[derive(Debug)]
pub struct TokenCache {
    state: tokio::sync::Mutex<Option<(SecretString, Option<Instant>)>>,
    margin: Duration,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

impl TokenCache {
    /// A cache that refreshes `margin` before expiry.
    pub fn new(margin: Duration) -> Self {
        Self { state: tokio::sync::Mutex::new(None), margin }
    }

    /// Seeds the cache with a token (e.g. a long-life token that never expires).
    pub async fn seed(&self, token: SecretString, expires_in: Option<Duration>) {
        *self.state.lock().await = Some((token, expires_in.map(|d| Instant::now() + d)));
    }

    /// The cached token, minting a new one with `mint` when missing or about to expire.
    pub async fn get<F, Fut>(&self, mint: F) -> Result<SecretString>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<MintedToken>>,
    {
        // Holding the lock across the mint is the single flight: others wait here, then reuse.
        let mut guard = self.state.lock().await;
        if let Some((token, expires)) = guard.as_ref()
            && expires.is_none_or(|at| Instant::now() + self.margin < at)
        {
            return Ok(token.clone());
        }
        let minted = mint().await?;
        let expires = minted.expires_in.map(|d| Instant::now() + d);
        *guard = Some((minted.token.clone(), expires));
        Ok(minted.token)
    }

    /// Forgets `stale` if it is still the cached token (another caller may have refreshed already).
    pub async fn invalidate(&self, stale: &SecretString) {
        let mut guard = self.state.lock().await;
        if guard.as_ref().is_some_and(|(t, _)| t.expose_secret() == stale.expose_secret()) {
            *guard = None;
        }
    }

    /// Runs `call` with a token; if the source rejects the token, refreshes it once and retries.
    pub async fn call<T, M, MFut, C, CFut>(&self, mint: M, call: C) -> Result<T>
    where
        M: Fn() -> MFut,
        MFut: Future<Output = Result<MintedToken>>,
        C: Fn(SecretString) -> CFut,
        CFut: Future<Output = Result<T>>,
    {
        let token = self.get(&mint).await?;
        match call(token.clone()).await {
            Err(e) if e.kind() == ErrorKind::Reauthenticate => {
                tracing::debug!("token rejected; refreshing once");
                self.invalidate(&token).await;
                let fresh = self.get(&mint).await?;
                call(fresh).await
            }
            other => other,
        }
    }
}

/// Which secret of which account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Connector.
    pub connector: ConnectorKind,
    /// Account.
    pub account: AccountId,
    /// Which secret ("refresh_token", "api_key"; a field path for secrets the owner console
    /// stored with an account's configuration).
    pub name: std::borrow::Cow<'static, str>,
}

/// Where rotated or newly issued secrets go, so the host can persist them (encrypted, in its own
/// database). A refresh token minted from an invite code must survive a restart.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// Loads a secret.
    async fn load(&self, key: &TokenKey) -> Result<Option<SecretString>>;
    /// Saves a secret, replacing any earlier one.
    async fn save(&self, key: &TokenKey, secret: SecretString) -> Result<()>;
}

/// A token store in memory (tests, one-shot tools).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    map: Mutex<HashMap<TokenKey, SecretString>>,
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<SecretString>> {
        Ok(self.map.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned())
    }

    async fn save(&self, key: &TokenKey, secret: SecretString) -> Result<()> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), secret);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::Error;

    fn minter(
        count: Arc<AtomicU32>,
        life: Duration,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<MintedToken>> + Send>> + Clone + Send + Sync + 'static
    {
        move || {
            let count = count.clone();
            Box::pin(async move {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(MintedToken { token: SecretString::from(format!("tok-{n}")), expires_in: Some(life) })
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_refresh() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(60)));
        let count = Arc::new(AtomicU32::new(0));
        let mint = minter(count.clone(), Duration::from_secs(3600));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, mint) = (cache.clone(), mint.clone());
            tasks.push(tokio::spawn(async move { cache.get(mint).await.unwrap().expose_secret().to_owned() }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), "tok-1");
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // Shortly before expiry (inside the margin) it refreshes.
        tokio::time::advance(Duration::from_secs(3600 - 30)).await;
        assert_eq!(cache.get(&mint).await.unwrap().expose_secret(), "tok-2");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rejected_token_is_refreshed_once() {
        let cache = TokenCache::default();
        let count = Arc::new(AtomicU32::new(0));
        let mint = minter(count.clone(), Duration::from_secs(86_400));
        let calls = AtomicU32::new(0);
        let out = cache
            .call(&mint, |tok| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if tok.expose_secret() == "tok-1" {
                        Err(Error::Auth { connector: ConnectorKind::BEDS24, message: "expired".into() })
                    } else {
                        Ok(tok.expose_secret().to_owned())
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(out, "tok-2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A token that keeps being rejected is not refreshed in a loop.
        let err = cache
            .call(&mint, |_tok| async {
                Err::<(), _>(Error::Auth { connector: ConnectorKind::BEDS24, message: "revoked".into() })
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Reauthenticate);
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn memory_token_store_round_trips() {
        let store = MemoryTokenStore::default();
        let key =
            TokenKey { connector: ConnectorKind::BEDS24, account: AccountId::new("1"), name: "refresh_token".into() };
        assert!(store.load(&key).await.unwrap().is_none());
        store.save(&key, SecretString::from("r1")).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap().unwrap().expose_secret(), "r1");
        assert!(!format!("{store:?}").contains("r1"));
    }
}
