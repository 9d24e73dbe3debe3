//! Beds24 authentication: invite code → refresh token → 24-hour access tokens, or a long-life
//! token. Access tokens are cached until shortly before `expiresIn` and minted single-flight
//! (minting costs credits); a rejected token is refreshed once.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::{HttpClient, MintedToken, Request, TokenCache, TokenKey, TokenStore};
use hostelpulse_core::model::{AccountId, ConnectorKind};
use hostelpulse_core::{Error, ErrorKind, Result};
use secrecy::SecretString;
use tokio::sync::Mutex;

use crate::config::Credentials;
use crate::wire;

pub(crate) struct Auth {
    cache: TokenCache,
    invite: Mutex<Option<SecretString>>,
    refresh: Mutex<Option<SecretString>>,
    long_life: Option<SecretString>,
    store: Option<Arc<dyn TokenStore>>,
    key: TokenKey,
    device_name: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("long_life", &self.long_life.is_some()).finish_non_exhaustive()
    }
}

fn auth_error(message: impl Into<String>) -> Error {
    Error::Auth { connector: ConnectorKind::BEDS24, message: message.into() }
}

impl Auth {
    pub(crate) fn new(
        credentials: &Credentials,
        account: AccountId,
        store: Option<Arc<dyn TokenStore>>,
        device_name: String,
    ) -> Self {
        let (invite, refresh, long_life) = match credentials.clone() {
            Credentials::InviteCode(c) => (Some(c), None, None),
            Credentials::RefreshToken(r) => (None, Some(r), None),
            Credentials::LongLifeToken(t) => (None, None, Some(t)),
        };
        Self {
            // Tokens live 24 h; refresh 10 minutes early so a long sync never runs on an expiring one.
            cache: TokenCache::new(Duration::from_secs(600)),
            invite: Mutex::new(invite),
            refresh: Mutex::new(refresh),
            long_life,
            store,
            key: TokenKey { connector: ConnectorKind::BEDS24, account, name: "refresh_token".into() },
            device_name,
        }
    }

    /// Whether the credential is a read-only long-life token.
    pub(crate) fn is_read_only(&self) -> bool {
        self.long_life.is_some()
    }

    /// Runs `call` with a valid token, refreshing once if Beds24 rejects it.
    pub(crate) async fn call<T, C, F>(&self, http: &HttpClient, call: C) -> Result<T>
    where
        C: Fn(SecretString) -> F,
        F: std::future::Future<Output = Result<T>>,
    {
        self.cache.call(|| self.mint(http), call).await
    }

    async fn mint(&self, http: &HttpClient) -> Result<MintedToken> {
        if let Some(t) = &self.long_life {
            return Ok(MintedToken { token: t.clone(), expires_in: None });
        }
        // A refresh token saved by an earlier run wins over an invite code, which is single-use.
        let mut refresh = self.refresh.lock().await;
        if refresh.is_none()
            && let Some(store) = &self.store
        {
            *refresh = store.load(&self.key).await?;
        }
        if let Some(r) = refresh.as_ref() {
            let req = Request::get("authentication/token").secret_header("refreshToken", r)?;
            let resp = http.send(req).await.map_err(|e| match e.kind() {
                ErrorKind::Reauthenticate | ErrorKind::Permanent | ErrorKind::Configuration => auth_error(
                    "the refresh token was rejected (unused for 30 days, or revoked): create a new invite code in SETTINGS › MARKETPLACE › API",
                ),
                _ => e,
            })?;
            let t: wire::TokenResponse = resp.json()?;
            return Ok(MintedToken {
                token: SecretString::from(t.token),
                expires_in: t.expires_in.map(Duration::from_secs),
            });
        }
        let Some(code) = self.invite.lock().await.take() else {
            return Err(auth_error("no Beds24 credentials left: create a new invite code"));
        };
        let req = Request::get("authentication/setup")
            .secret_header("code", &code)?
            .header("deviceName", &self.device_name)?;
        let resp = match http.send(req).await {
            Ok(r) => r,
            // The PMS was down or busy: the code was not exchanged, so it stays for the next try
            // (if it was spent after all, that try says so).
            Err(e) if matches!(e.kind(), ErrorKind::Transient | ErrorKind::Throttled) => {
                *self.invite.lock().await = Some(code);
                return Err(e);
            }
            Err(_) => {
                return Err(auth_error(
                    "the invite code was rejected (codes are single-use and short-lived): create a new one",
                ));
            }
        };
        let t: wire::TokenResponse = resp.json()?;
        let new_refresh = t
            .refresh_token
            .map(SecretString::from)
            .ok_or_else(|| auth_error("Beds24 returned no refresh token for the invite code"))?;
        if let Some(store) = &self.store {
            store.save(&self.key, new_refresh.clone()).await?;
        }
        *refresh = Some(new_refresh);
        Ok(MintedToken { token: SecretString::from(t.token), expires_in: t.expires_in.map(Duration::from_secs) })
    }
}
