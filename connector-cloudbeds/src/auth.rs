//! Cloudbeds authentication: API keys, and OAuth 2.0 (authorization code, refresh, and the partner
//! API-key grant). `POST /access_token` bodies are form-encoded.

use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::{HttpClient, MintedToken, Request, TokenCache, TokenKey, TokenStore};
use hostelpulse_core::model::{AccountId, ConnectorKind};
use hostelpulse_core::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use crate::config::{Credentials, OAuthClient};
use crate::wire;

fn auth_error(message: impl Into<String>) -> Error {
    Error::Auth { connector: ConnectorKind::CLOUDBEDS, message: message.into() }
}

/// A token request's failure: Cloudbeds refusing the grant becomes `message` (what the owner must
/// do); a passing failure stays retryable, and an answer that does not decode stays an upstream
/// data error — neither means the credentials were rejected.
fn rejected(e: Error, message: &str) -> Error {
    match e.kind() {
        ErrorKind::Reauthenticate | ErrorKind::Permanent | ErrorKind::Configuration => auth_error(message),
        _ => e,
    }
}

/// Tokens from an authorization-code exchange.
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenSet {
    /// Access token.
    pub access_token: SecretString,
    /// Refresh token, to persist.
    pub refresh_token: Option<SecretString>,
    /// Lifetime of the access token.
    pub expires_in: Option<Duration>,
    /// Properties or associations granted.
    pub property_ids: Vec<String>,
    /// The scopes granted, when the server says (it must when they differ from those asked
    /// for, RFC 6749 §5.1); `None`: those asked for.
    pub scopes: Option<Vec<String>>,
}

/// The token store names a connection is kept under.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// The scopes granted at the last authorization, space-separated.
pub const GRANTED_SCOPES: &str = "granted_scopes";

fn scope_list(s: &str) -> Vec<String> {
    s.split([' ', ',']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

/// Keeps a connection made by the authorization-code flow: the refresh token and the scopes
/// granted (`requested` when the server did not say). Returns the granted scopes.
pub async fn save_connection(
    store: &dyn TokenStore,
    account: AccountId,
    tokens: &TokenSet,
    requested: &[&str],
) -> Result<Vec<String>> {
    let refresh = tokens
        .refresh_token
        .clone()
        .ok_or_else(|| auth_error("the authorization returned no refresh token: the connection cannot be kept"))?;
    let key = |name: &'static str| TokenKey {
        connector: ConnectorKind::CLOUDBEDS,
        account: account.clone(),
        name: name.into(),
    };
    store.save(&key(REFRESH_TOKEN), refresh).await?;
    let granted: Vec<String> =
        tokens.scopes.clone().unwrap_or_else(|| requested.iter().map(|s| (*s).to_owned()).collect());
    store.save(&key(GRANTED_SCOPES), SecretString::from(granted.join(" "))).await?;
    Ok(granted)
}

/// The scopes a kept connection was granted, if one was made with [`save_connection`].
pub async fn granted_scopes(store: &dyn TokenStore, account: AccountId) -> Result<Option<Vec<String>>> {
    let key = TokenKey { connector: ConnectorKind::CLOUDBEDS, account, name: GRANTED_SCOPES.into() };
    Ok(store.load(&key).await?.map(|s| scope_list(s.expose_secret())))
}

impl OAuthClient {
    /// The page to send the owner to. `state` protects the redirect; keep it to compare.
    pub fn authorize_url(&self, state: &str, scopes: &[&str]) -> Result<Url> {
        let mut url = Url::parse(&self.authorize_url).map_err(|e| Error::config(format!("authorize URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", state);
        if !scopes.is_empty() {
            url.query_pairs_mut().append_pair("scope", &scopes.join(" "));
        }
        Ok(url)
    }

    async fn token_request(&self, http: &HttpClient, grant: &str, extra: (&str, &str)) -> Result<wire::AccessToken> {
        let form = [
            ("grant_type", grant),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("redirect_uri", self.redirect_uri.as_str()),
            extra,
        ];
        http.send(Request::post("access_token").form(form)).await?.json()
    }

    /// Exchanges an authorization code (valid 10 minutes, single use) for tokens.
    pub async fn exchange_code(&self, http: &HttpClient, code: &str) -> Result<TokenSet> {
        let t = self.token_request(http, "authorization_code", ("code", code)).await.map_err(|e| {
            rejected(
                e,
                "the authorization code is invalid or expired (codes last 10 minutes and work once): authorize again",
            )
        })?;
        Ok(TokenSet {
            access_token: SecretString::from(t.access_token),
            refresh_token: t.refresh_token.map(SecretString::from),
            expires_in: t.expires_in.map(Duration::from_secs),
            property_ids: t.resources.into_iter().filter_map(|r| r.id).collect(),
            scopes: t.scope.as_deref().map(scope_list),
        })
    }

    /// The partner API-key grant: exchanges the marketplace code for an API key (returned in
    /// `access_token`).
    pub async fn exchange_for_api_key(&self, http: &HttpClient, code: &str) -> Result<SecretString> {
        let t = self
            .token_request(http, "urn:ietf:params:oauth:grant-type:api-key", ("code", code))
            .await
            .map_err(|e| rejected(e, "the marketplace code was rejected: ask the property to connect the app again"))?;
        Ok(SecretString::from(t.access_token))
    }
}

pub(crate) enum Auth {
    ApiKey(SecretString),
    OAuth(Box<OAuthState>),
}

pub(crate) struct OAuthState {
    client: OAuthClient,
    refresh: Mutex<SecretString>,
    cache: TokenCache,
    store: Option<Arc<dyn TokenStore>>,
    key: TokenKey,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ApiKey(_) => "Auth::ApiKey",
            Self::OAuth(_) => "Auth::OAuth",
        })
    }
}

impl Auth {
    /// The store an OAuth connection is kept in, and its account.
    pub(crate) fn kept(&self) -> Option<(&Arc<dyn TokenStore>, &AccountId)> {
        match self {
            Self::OAuth(state) => state.store.as_ref().map(|s| (s, &state.key.account)),
            Self::ApiKey(_) => None,
        }
    }

    pub(crate) fn new(credentials: &Credentials, account: AccountId, store: Option<Arc<dyn TokenStore>>) -> Self {
        match credentials.clone() {
            Credentials::ApiKey(k) => Self::ApiKey(k),
            Credentials::OAuth { client, refresh_token } => Self::OAuth(Box::new(OAuthState {
                client,
                refresh: Mutex::new(refresh_token),
                cache: TokenCache::new(Duration::from_secs(120)),
                store,
                key: TokenKey { connector: ConnectorKind::CLOUDBEDS, account, name: REFRESH_TOKEN.into() },
            })),
        }
    }

    /// Runs `call` with the auth header to send; OAuth tokens are refreshed once when rejected.
    pub(crate) async fn call<T, C, F>(&self, http: &HttpClient, call: C) -> Result<T>
    where
        C: Fn(&'static str, SecretString) -> F,
        F: std::future::Future<Output = Result<T>>,
    {
        match self {
            Self::ApiKey(key) => call("x-api-key", key.clone()).await,
            Self::OAuth(state) => {
                state
                    .cache
                    .call(
                        || state.refresh(http),
                        |token| call("authorization", SecretString::from(format!("Bearer {}", token.expose_secret()))),
                    )
                    .await
            }
        }
    }
}

impl OAuthState {
    async fn refresh(&self, http: &HttpClient) -> Result<MintedToken> {
        let Self { client, refresh, store, key, .. } = self;
        let mut current = refresh.lock().await;
        if let Some(store) = store
            && let Some(saved) = store.load(key).await?
        {
            *current = saved;
        }
        if current.expose_secret().is_empty() {
            return Err(auth_error(
                "this account is not connected yet: run `hostelpulse connect cloudbeds` to authorize the app",
            ));
        }
        let t = client
            .token_request(http, "refresh_token", ("refresh_token", current.expose_secret()))
            .await
            .map_err(|e| rejected(e, "the refresh token was rejected: the property must authorize the app again"))?;
        // Rotation is undocumented: whenever a new refresh token comes back, keep it.
        if let Some(new) = t.refresh_token.map(SecretString::from) {
            if let Some(store) = store {
                store.save(key, new.clone()).await?;
            }
            *current = new;
        }
        Ok(MintedToken { token: SecretString::from(t.access_token), expires_in: t.expires_in.map(Duration::from_secs) })
    }
}
