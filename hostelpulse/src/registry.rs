//! The connectors a host enabled, built from a [`Config`]: explicit, no global registration.
//! Query the declared capability matrix of what is compiled in, and per account the effective
//! one after `check()` (what this owner's plan, token scopes and settings allow).

use std::sync::Arc;
use std::time::Duration;

use crate::config::{AccountConfig, Config, HttpSettings, SecretProvider};
use crate::core::capability::{Capabilities, CapabilityMatrix};
use crate::core::http::{RetryPolicy, TokenStore};
use crate::core::{Connector, Error};
use crate::webhooks::WebhookReceiver;

/// One configured account and its connector.
#[derive(Clone)]
#[non_exhaustive]
pub struct Account {
    /// The id from the configuration.
    pub id: String,
    /// The connector's name (`beds24`, `ical`, …).
    pub connector_name: &'static str,
    /// The connector.
    pub connector: Arc<dyn Connector>,
    /// Its webhook receiver, when the source sends webhooks and they are configured.
    pub webhook: Option<WebhookReceiver>,
    /// A fingerprint of the credentials it was built with (a salted SHA-256 prefix, never the
    /// credentials): the runtime retries an account whose credentials were rejected once this
    /// changes.
    pub credentials: Option<String>,
    /// Where the source should send its webhooks, when the configuration names a `public_url`.
    pub webhook_endpoint: Option<WebhookEndpoint>,
}

/// An account's webhook URL as the source must call it: `<public_url>/hooks/<account>/<secret>`.
#[derive(Clone)]
#[non_exhaustive]
pub struct WebhookEndpoint {
    /// The whole URL (it carries the URL secret).
    pub url: secrecy::SecretString,
    /// Every URL of this account starts with it, whatever its secret: subscriptions under it
    /// are ours.
    pub prefix: String,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookEndpoint({}…)", self.prefix)
    }
}

impl WebhookEndpoint {
    /// Points the source's subscriptions at this endpoint, where its API manages them
    /// (`None` where it does not: webhooks set up by hand in the vendor's settings).
    pub async fn reconcile(
        &self,
        connector: &dyn Connector,
    ) -> Option<Result<crate::core::webhook::SubscriptionReport, Error>> {
        use secrecy::ExposeSecret;
        let api = connector.webhook_subscriptions()?;
        Some(crate::core::webhook::subscriptions::reconcile(api, self.url.expose_secret(), &self.prefix).await)
    }
}

impl Account {
    /// An account for a connector the host built itself (e.g. a webhook receiver it also routes to).
    pub fn new(id: impl Into<String>, connector_name: &'static str, connector: Arc<dyn Connector>) -> Self {
        Self { id: id.into(), connector_name, connector, webhook: None, credentials: None, webhook_endpoint: None }
    }

    /// With a webhook receiver.
    pub fn with_webhook(mut self, receiver: WebhookReceiver) -> Self {
        self.webhook = Some(receiver);
        self
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("id", &self.id).field("connector", &self.connector_name).finish()
    }
}

/// The built accounts of one configuration.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    accounts: Vec<Account>,
}

#[allow(dead_code)] // unused when no HTTP connector is compiled in
fn retry(http: &HttpSettings) -> RetryPolicy {
    if http.retry { RetryPolicy::default() } else { RetryPolicy::none() }
}

#[allow(dead_code)]
fn timeout(http: &HttpSettings) -> Duration {
    Duration::from_secs(http.timeout_secs.max(1))
}

/// The HTTP knobs every API connector's builder has, applied the same way: the property's time
/// zone, retries, timeout, an optional base URL and token store.
#[allow(unused_macros)] // unused when no HTTP connector is compiled in
macro_rules! http_knobs {
    ($builder:expr, $tz:expr, $http:expr, $tokens:expr) => {{
        let mut b = $builder.timezone($tz).retry(retry($http)).request_timeout(timeout($http));
        if let Some(u) = &$http.base_url {
            b = b.base_url(u.clone());
        }
        if let Some(t) = $tokens {
            b = b.token_store(t);
        }
        b
    }};
}

fn not_compiled(name: &str) -> Error {
    Error::config(format!(
        "connector `{name}` is not compiled in: enable the `{name}` feature of the hostelpulse crate"
    ))
}

impl Registry {
    /// Builds every account of `cfg`, resolving secrets through `secrets`. Refresh tokens minted
    /// on the way live in memory only: use [`Registry::build_with_tokens`] in anything that runs
    /// more than once.
    pub fn build(cfg: &Config, secrets: &dyn SecretProvider) -> Result<Self, Error> {
        Self::build_inner(cfg, secrets, None)
    }

    /// As [`Registry::build`], saving minted and rotated refresh tokens in `tokens` (a Beds24
    /// invite code works once: the next run logs in with the token saved here).
    pub fn build_with_tokens(
        cfg: &Config,
        secrets: &dyn SecretProvider,
        tokens: Arc<dyn TokenStore>,
    ) -> Result<Self, Error> {
        Self::build_inner(cfg, secrets, Some(tokens))
    }

    fn build_inner(
        cfg: &Config,
        secrets: &dyn SecretProvider,
        tokens: Option<Arc<dyn TokenStore>>,
    ) -> Result<Self, Error> {
        cfg.validate()?;
        let accounts = cfg
            .accounts
            .iter()
            .map(|a| {
                let (connector, webhook) = build_one(cfg, a, secrets, tokens.clone())
                    .map_err(|e| Error::config(format!("account `{}` ({}): {e}", a.id(), a.connector())))?;
                let credentials = credentials_fingerprint(a, secrets);
                let webhook_endpoint = webhook_endpoint(a, secrets)
                    .map_err(|e| Error::config(format!("account `{}` ({}): {e}", a.id(), a.connector())))?;
                Ok(Account {
                    id: a.id().to_owned(),
                    connector_name: a.connector(),
                    connector,
                    webhook,
                    credentials,
                    webhook_endpoint,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self { accounts })
    }

    /// A registry of connectors the host built itself.
    pub fn from_accounts(accounts: Vec<Account>) -> Self {
        Self { accounts }
    }

    /// Every account, in configuration order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The account `id`.
    pub fn get(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account whose connector syncs `scope` (the store's key: connector kind and the
    /// source's account id), e.g. for an inbox entry.
    pub fn for_scope(&self, scope: &crate::core::sync::Scope) -> Option<&Account> {
        self.accounts.iter().find(|a| a.connector.kind() == scope.connector && a.connector.account() == &scope.account)
    }

    /// The store's key of an account.
    pub fn scope_of(account: &Account) -> crate::core::sync::Scope {
        crate::core::sync::Scope::new(account.connector.kind(), account.connector.account().clone())
    }

    /// The declared capabilities of every connector compiled in.
    pub fn declared() -> CapabilityMatrix {
        crate::capability_matrix()
    }

    /// Per account, the effective capabilities after `check()`, or why the check failed.
    pub async fn effective(&self) -> Vec<(String, Result<Capabilities, Error>)> {
        let mut out = Vec::with_capacity(self.accounts.len());
        for a in &self.accounts {
            out.push((a.id.clone(), a.connector.check().await.map(|h| h.effective)));
        }
        out
    }
}

#[allow(unused_variables)]
fn build_one(
    cfg: &Config,
    a: &AccountConfig,
    secrets: &dyn SecretProvider,
    tokens: Option<Arc<dyn TokenStore>>,
) -> Result<(Arc<dyn Connector>, Option<WebhookReceiver>), Error> {
    let tz = cfg.property.timezone;
    match a {
        #[cfg(feature = "beds24")]
        AccountConfig::Beds24 { property_id, credentials, http, webhook, .. } => {
            use crate::beds24::{Beds24Config, Beds24Connector, Credentials};
            use crate::config::Beds24Credentials as C;
            let creds = match credentials {
                C::InviteCode(s) => Credentials::InviteCode(s.resolve(secrets)?),
                C::RefreshToken(s) => Credentials::RefreshToken(s.resolve(secrets)?),
                C::LongLifeToken(s) => Credentials::LongLifeToken(s.resolve(secrets)?),
            };
            let b = http_knobs!(Beds24Config::builder(*property_id, creds), tz, http, tokens);
            let receiver = match webhook {
                Some(w) => {
                    let header = match (&w.header, &w.secret) {
                        (Some(h), Some(s)) => Some((h.clone(), vec![hook_secret(s, secrets, "webhook.secret")?])),
                        (None, None) => None,
                        _ => return Err(Error::config("webhook: `header` and `secret` go together")),
                    };
                    let url = w
                        .url_secret
                        .iter()
                        .chain(w.previous_url_secret.iter())
                        .map(|s| hook_secret(s, secrets, "webhook.url_secret"))
                        .collect::<Result<Vec<_>, _>>()?;
                    if header.is_none() && url.is_empty() {
                        return Err(Error::config("webhook: set `header` + `secret` or `url_secret`"));
                    }
                    Some(WebhookReceiver::beds24(crate::beds24::Beds24Webhooks::new(*property_id, header, url)))
                }
                None => None,
            };
            Ok((Arc::new(Beds24Connector::new(b.build()?)?), receiver))
        }
        #[cfg(feature = "cloudbeds")]
        AccountConfig::Cloudbeds { property_id, api_key, oauth, http, webhook, .. } => {
            use crate::cloudbeds::{CloudbedsConfig, CloudbedsConnector, Credentials};
            let credentials = match (api_key, oauth) {
                (Some(k), None) => Credentials::ApiKey(k.resolve(secrets)?),
                (None, Some(o)) => {
                    if tokens.is_none() {
                        return Err(Error::config("Cloudbeds OAuth keeps its tokens in the state: open a store"));
                    }
                    // The refresh token comes from the state (`hostelpulse connect cloudbeds`).
                    Credentials::OAuth {
                        client: oauth_client(o, secrets)?,
                        refresh_token: secrecy::SecretString::from(""),
                    }
                }
                _ => return Err(Error::config("a Cloudbeds account takes exactly one of `api_key` and `oauth`")),
            };
            let builder = CloudbedsConfig::builder(property_id.clone(), credentials);
            let b = http_knobs!(builder, tz, http, tokens);
            let receiver = match webhook.as_ref().map(|w| w.url_secret.as_ref()) {
                Some(Some(s)) => {
                    let mut accepted = vec![hook_secret(s, secrets, "webhook.url_secret")?];
                    if let Some(p) = webhook.as_ref().and_then(|w| w.previous_url_secret.as_ref()) {
                        accepted.push(hook_secret(p, secrets, "webhook.previous_url_secret")?);
                    }
                    Some(WebhookReceiver::cloudbeds(crate::cloudbeds::CloudbedsWebhooks::new(
                        property_id.clone(),
                        accepted,
                    )))
                }
                Some(None) => return Err(Error::config("webhook: Cloudbeds signs nothing: set `url_secret`")),
                None => None,
            };
            Ok((Arc::new(CloudbedsConnector::new(b.build()?)?), receiver))
        }
        #[cfg(feature = "ical")]
        AccountConfig::Ical(a) => {
            let b = ical_builder(a, tz, secrets)?;
            Ok((Arc::new(crate::ical::IcalConnector::new(b.build()?)?), None))
        }
        #[cfg(feature = "fdm")]
        AccountConfig::Fdm(a) => {
            let b = ical_builder(a, tz, secrets)?;
            Ok((Arc::new(crate::fdm::FdmConnector::new(b)?), None))
        }
        #[cfg(feature = "sirvoy")]
        AccountConfig::Sirvoy { property_id, url_secret, plan, allowed_senders, .. } => {
            use crate::sirvoy::{SirvoyConfig, SirvoyConnector};
            let mut b = SirvoyConfig::builder(property_id.clone(), hook_secret(url_secret, secrets, "url_secret")?);
            if let Some(p) = plan {
                b = b.plan(p.clone());
            }
            if let Some(nets) = allowed_senders {
                b = b.allowed_senders(nets.clone());
            }
            let c = Arc::new(SirvoyConnector::new(b.build()?));
            Ok((c.clone(), Some(WebhookReceiver::sirvoy(c))))
        }
        #[cfg(feature = "email")]
        AccountConfig::Email { id, maildir, imap, review_threshold } => {
            use crate::email::{EmailConfig, EmailConnector};
            let mut b = EmailConfig::builder(id.clone());
            if let Some(t) = review_threshold {
                b = b.review_threshold(*t);
            }
            let cfg = b.build()?;
            match (maildir, imap) {
                (Some(dir), None) => Ok((Arc::new(EmailConnector::maildir(cfg, dir.clone())), None)),
                #[cfg(feature = "imap")]
                (None, Some(i)) => {
                    use crate::email::{ImapConfig, ImapSource};
                    let mut c = ImapConfig::new(i.host.clone(), i.user.clone(), i.password.resolve(secrets)?);
                    c = match (i.tls, i.port) {
                        (true, Some(p)) => c.port(p),
                        (true, None) => c,
                        (false, p) => c.plain(p.unwrap_or(143)),
                    };
                    if let Some(f) = &i.folder {
                        c = c.mailbox(f.clone());
                    }
                    Ok((Arc::new(EmailConnector::new(cfg, Arc::new(ImapSource::new(c)))), None))
                }
                #[cfg(not(feature = "imap"))]
                (None, Some(_)) => {
                    Err(Error::config("IMAP is not compiled in: enable the `imap` feature of the hostelpulse crate"))
                }
                _ => Err(Error::config("set exactly one of `maildir` and `imap`")),
            }
        }
        #[allow(unreachable_patterns)] // reachable when a connector's feature is off
        other => Err(not_compiled(other.connector())),
    }
}

/// The feeds of an iCal (or FrontDesk Master) account, each mapped to its unit.
#[cfg(feature = "ical")]
fn ical_builder(
    account: &crate::config::FeedsAccount,
    tz: chrono_tz::Tz,
    secrets: &dyn SecretProvider,
) -> Result<crate::ical::IcalConfigBuilder, Error> {
    use crate::core::model::Allocation;
    use crate::ical::{FeedConfig, FeedReading, FeedSource, IcalConfig};
    let mut b = IcalConfig::builder(account.id.clone(), tz)
        .allow_private_addresses(account.allow_private_addresses)
        .allow_networks(account.allow_networks.iter().copied())
        .retry(retry(&account.http))
        .request_timeout(timeout(&account.http));
    for f in &account.feeds {
        let unit = Allocation {
            room_type: f.room_type.clone().map(Into::into),
            room: f.room.clone().map(Into::into),
            bed: f.bed.clone().map(Into::into),
            label: None,
        };
        let source = match f.source.as_deref().unwrap_or("auto") {
            "auto" => FeedSource::Auto,
            "airbnb" => FeedSource::Airbnb,
            "booking" | "booking_com" => FeedSource::BookingCom,
            "vrbo" => FeedSource::Vrbo,
            "other" => FeedSource::Other,
            s => return Err(Error::config(format!("feed `{}`: unknown source `{s}`", f.id))),
        };
        b = b.feed(FeedConfig::new(f.id.clone(), f.url.resolve(secrets)?, unit).reading({
            let reading = FeedReading::default().source(source).same_day_is_one_night(f.same_day_is_one_night);
            match f.max_stay_nights {
                Some(n) => reading.max_stay_nights(n),
                None => reading,
            }
        }));
    }
    Ok(b)
}

/// A webhook secret from the configuration, refused when empty or short.
#[allow(dead_code)] // unused when no webhook-receiving connector is compiled in
/// The account's webhook URL, when its settings name a `public_url` (and a `url_secret`, which the
/// URL carries).
fn webhook_endpoint(a: &AccountConfig, secrets: &dyn SecretProvider) -> Result<Option<WebhookEndpoint>, Error> {
    let settings = match a {
        AccountConfig::Beds24 { webhook, .. } | AccountConfig::Cloudbeds { webhook, .. } => webhook.as_ref(),
        _ => None,
    };
    let Some(w) = settings else { return Ok(None) };
    let Some(public) = &w.public_url else { return Ok(None) };
    let host = public.strip_prefix("https://").or_else(|| public.strip_prefix("http://")).unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || public.contains(['?', '#', ' ']) {
        return Err(Error::config(format!("webhook.public_url `{public}`: an http(s) base URL without a query")));
    }
    let Some(secret) = &w.url_secret else {
        return Err(Error::config("webhook.public_url: the URL carries the `url_secret`: set one"));
    };
    use secrecy::ExposeSecret;
    let secret = hook_secret(secret, secrets, "webhook.url_secret")?;
    let prefix = format!("{}/hooks/{}/", public.trim_end_matches('/'), a.id());
    let url = secrecy::SecretString::from(format!("{prefix}{}", secret.expose_secret()));
    Ok(Some(WebhookEndpoint { url, prefix }))
}

fn hook_secret(
    secret: &crate::config::SecretRef,
    secrets: &dyn SecretProvider,
    what: &str,
) -> Result<secrecy::SecretString, Error> {
    let s = secret.resolve(secrets)?;
    crate::core::webhook::check_secret(&s, what)?;
    Ok(s)
}

/// A fingerprint of an account's credentials: the first 16 hex digits of a SHA-256 over a fixed
/// prefix and the secrets. It tells "the owner changed the credentials" without keeping them.
fn credentials_fingerprint(a: &AccountConfig, secrets: &dyn SecretProvider) -> Option<String> {
    use secrecy::ExposeSecret;
    use sha2::{Digest, Sha256};
    let refs: Vec<&crate::config::SecretRef> = match a {
        AccountConfig::Beds24 { credentials, .. } => {
            use crate::config::Beds24Credentials as C;
            match credentials {
                C::InviteCode(s) | C::RefreshToken(s) | C::LongLifeToken(s) => vec![s],
            }
        }
        AccountConfig::Cloudbeds { api_key: Some(k), .. } => vec![k],
        AccountConfig::Cloudbeds { oauth: Some(o), .. } => vec![&o.client_secret],
        AccountConfig::Cloudbeds { .. } => return None,
        AccountConfig::Ical(f) | AccountConfig::Fdm(f) => f.feeds.iter().map(|f| &f.url).collect(),
        AccountConfig::Sirvoy { url_secret, .. } => vec![url_secret],
        AccountConfig::Email { imap: Some(i), .. } => vec![&i.password],
        AccountConfig::Email { .. } => return None,
    };
    let mut h = Sha256::new();
    h.update(b"hostelpulse-credentials-v1\0");
    for r in refs {
        h.update(r.resolve(secrets).ok()?.expose_secret().as_bytes());
        h.update(b"\0");
    }
    Some(hex::encode(&h.finalize()[..8]))
}

/// The OAuth client of a Cloudbeds account's configuration.
#[cfg(feature = "cloudbeds")]
pub fn oauth_client(
    o: &crate::config::CloudbedsOAuth,
    secrets: &dyn SecretProvider,
) -> Result<crate::cloudbeds::OAuthClient, Error> {
    let redirect = o.redirect_uri.clone().unwrap_or_else(|| crate::config::DEFAULT_REDIRECT_URI.to_owned());
    let mut client =
        crate::cloudbeds::OAuthClient::new(o.client_id.clone(), o.client_secret.resolve(secrets)?, redirect);
    if let Some(u) = &o.authorize_url {
        client.authorize_url = u.clone();
    }
    Ok(client)
}
