//! `hostelpulse connect cloudbeds`: the OAuth 2.0 authorization-code flow with a loopback
//! redirect (RFC 8252). It prints the authorization page, receives the redirect on the
//! configured loopback address, exchanges the code and keeps the refresh token and the scopes
//! granted in the state, where `sync` and `run` find them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::RawQuery;
use hostelpulse::ConnectorKind;
use hostelpulse::cloudbeds::{OAuthClient, RECOMMENDED_SCOPES, save_connection};
use hostelpulse::config::{AccountConfig, EnvSecrets, Fleet};
use hostelpulse::core::http::HttpClient;
use url::Url;

use crate::ops;
use crate::views::BoxError;

pub struct Options {
    pub config: PathBuf,
    pub account: String,
    pub db: PathBuf,
    pub timeout: Duration,
    pub json: bool,
}

/// What the redirect brought back.
struct Redirect {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn loopback(redirect: &Url) -> Result<SocketAddr, BoxError> {
    let host = redirect.host_str().unwrap_or_default();
    let ip: std::net::IpAddr = match host {
        "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
        h => h.trim_matches(['[', ']']).parse().map_err(|_| format!("redirect_uri host `{h}` is not an address"))?,
    };
    if redirect.scheme() != "http" || !ip.is_loopback() {
        return Err(format!(
            "redirect_uri {redirect} is not a loopback address: `connect` receives the authorization on this \
             machine (http://127.0.0.1:PORT/…)"
        )
        .into());
    }
    Ok(SocketAddr::new(ip, redirect.port().unwrap_or(80)))
}

pub async fn cloudbeds(o: Options) -> Result<(), BoxError> {
    let fleet = Fleet::load(&o.config)?;
    let account = fleet
        .properties
        .iter()
        .flat_map(|p| p.accounts.iter())
        .find(|a| a.id() == o.account)
        .ok_or_else(|| format!("no account `{}` in {}", o.account, o.config.display()))?;
    let AccountConfig::Cloudbeds { property_id, oauth: Some(oauth), http, .. } = account else {
        return Err(format!("account `{}` is not a Cloudbeds account with an `oauth` table", o.account).into());
    };
    let mut client: OAuthClient = hostelpulse::registry::oauth_client(oauth, &EnvSecrets)?;
    let redirect = Url::parse(&client.redirect_uri).map_err(|e| format!("redirect_uri: {e}"))?;
    let listener = tokio::net::TcpListener::bind(loopback(&redirect)?)
        .await
        .map_err(|e| format!("cannot listen on {redirect}: {e}"))?;
    // Port 0: any free port, which loopback redirects may use (RFC 8252 §7.3).
    let mut redirect = redirect;
    let _ = redirect.set_port(Some(listener.local_addr()?.port()));
    client.redirect_uri = redirect.to_string();
    let scopes: Vec<String> =
        oauth.scopes.clone().unwrap_or_else(|| RECOMMENDED_SCOPES.iter().map(|s| (*s).to_owned()).collect());
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let page = client.authorize_url(&state, &scope_refs)?;

    let (tx, rx) = tokio::sync::oneshot::channel::<Redirect>();
    let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
    let path = redirect.path().to_owned();
    let app = axum::Router::new().route(
        &path,
        axum::routing::get(move |RawQuery(q): RawQuery| {
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect();
            let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let got = Redirect { code: get("code"), state: get("state"), error: get("error") };
            let done = got.code.is_some();
            if let Some(tx) = tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = tx.send(got);
            }
            async move {
                axum::response::Html(if done {
                    "<!doctype html><title>hostelpulse</title><p>Cloudbeds is connected. You can close this page."
                } else {
                    "<!doctype html><title>hostelpulse</title><p>The authorization did not complete: see the terminal."
                })
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if o.json {
        outln!(
            "{}",
            serde_json::json!({ "event": "authorize", "url": page.as_str(), "redirect_uri": redirect.as_str() })
        );
    } else {
        outln!("Open this page and allow the app (waiting on {redirect}):\n\n  {page}\n");
    }
    let got = tokio::time::timeout(o.timeout, rx)
        .await
        .map_err(|_| format!("no authorization within {} s: run `connect` again", o.timeout.as_secs()))?
        .map_err(|_| "the redirect listener stopped")?;
    server.abort();
    if let Some(e) = got.error {
        return Err(format!("the authorization was refused: {e}").into());
    }
    if got.state.as_deref() != Some(state.as_str()) {
        return Err("the redirect's `state` does not match this request: ignored (start `connect` again)".into());
    }
    let code = got.code.ok_or("the redirect carried no code")?;

    let base = http.base_url.clone().unwrap_or_else(|| hostelpulse::cloudbeds::DEFAULT_BASE_URL.to_owned());
    let http = HttpClient::builder(ConnectorKind::CLOUDBEDS, base).build()?;
    let tokens = client.exchange_code(&http, &code).await?;
    if !tokens.property_ids.is_empty() && !tokens.property_ids.contains(property_id) {
        return Err(format!(
            "the authorization covers {} but the account is property {property_id}: authorize that property",
            tokens.property_ids.join(", ")
        )
        .into());
    }
    let store = ops::open_state(std::env::var(ops::STORE_URL_ENV).ok().as_deref(), &o.db).await?;
    let granted = save_connection(
        store.as_ref() as &dyn hostelpulse::core::http::TokenStore,
        hostelpulse::core::AccountId::new(property_id.clone()),
        &tokens,
        &scope_refs,
    )
    .await?;
    let missing: Vec<&str> = scope_refs.iter().copied().filter(|s| !granted.iter().any(|g| g == s)).collect();
    if o.json {
        outln!(
            "{}",
            serde_json::json!({ "event": "connected", "account": o.account, "property_id": property_id,
                                "granted_scopes": granted, "declined_scopes": missing })
        );
    } else {
        outln!("Connected {} (Cloudbeds property {property_id}); the tokens are kept in the state.", o.account);
        if !missing.is_empty() {
            outln!("Not granted: {} — what needs them shows as unsupported in `capabilities`.", missing.join(", "));
        }
    }
    Ok(())
}
