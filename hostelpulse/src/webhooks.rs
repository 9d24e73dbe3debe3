//! Webhook receivers for the configured accounts: one [`WebhookReceiver`] per account whose
//! source sends webhooks, verifying each delivery before anything in it is read. A host mounts
//! them on its own HTTP server (`hostelpulse webhook serve` mounts them on axum).

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::core::sync::{Inbox, InboxItem, Queued, Scope, StoreError, inbox::KEEP_DONE};
use crate::core::webhook::{Delivery, Hint};

/// What a verified delivery was.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received {
    /// A health check (answer 200).
    HealthCheck,
    /// Re-fetch these bookings or rooms (PMS webhooks are hints, never trusted as data).
    Hint(Hint),
    /// The delivery carries the booking itself (Sirvoy, which never re-sends): the body must be
    /// stored before the sender is answered.
    Push {
        /// The verified body.
        body: String,
        /// Identifies the delivery, so a retry is recognised.
        dedupe_key: String,
    },
    /// Authentic but not for this account or not an event we use (answer 200 so the sender stops).
    Ignored(String),
}

impl Received {
    /// What to put into the durable inbox, for deliveries that cause work.
    pub fn inbox_item(&self) -> Option<(&str, InboxItem)> {
        match self {
            Self::Hint(h) => Some((h.dedupe_key.as_str(), InboxItem::Hint(h.clone()))),
            Self::Push { body, dedupe_key } => Some((dedupe_key.as_str(), InboxItem::Push { body: body.clone() })),
            _ => None,
        }
    }

    /// Writes the delivery to the store's inbox (at-least-once intake): call before answering the
    /// sender, answer 2xx only when this succeeded, and let an
    /// [`InboxWorker`](crate::core::sync::InboxWorker) run it. `None` for deliveries that cause
    /// no work; `Duplicate` for a re-delivery of one already queued or done.
    pub async fn enqueue(
        &self,
        store: &dyn Inbox,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Option<Queued>, StoreError> {
        match self.inbox_item() {
            Some((key, item)) => store.inbox_put(scope, key, &item, now, KEEP_DONE).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Why a delivery was refused, with the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
#[non_exhaustive]
pub struct Refused {
    /// [`NOT_VERIFIED`] (404) for failed authentication, 400 for an authentic but unreadable body.
    pub status: u16,
    /// Why (never the secret).
    pub reason: String,
}

impl Refused {
    fn new(status: u16, reason: impl ToString) -> Self {
        Self { status, reason: reason.to_string() }
    }
}

/// One request to a webhook URL.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// Whether it is a GET (health checks).
    pub is_get: bool,
    /// The secret path segment, when the URL has one.
    pub url_secret: Option<&'a str>,
    /// The query string.
    pub query: Option<&'a str>,
    /// The sender's address.
    pub remote_ip: Option<IpAddr>,
    /// Headers.
    pub headers: &'a http::HeaderMap,
    /// Body.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A request.
    pub fn new(headers: &'a http::HeaderMap, body: &'a [u8]) -> Self {
        Self { is_get: false, url_secret: None, query: None, remote_ip: None, headers, body }
    }

    /// Marks it a GET.
    pub fn get(mut self, yes: bool) -> Self {
        self.is_get = yes;
        self
    }

    /// The secret path segment.
    pub fn url_secret(mut self, secret: Option<&'a str>) -> Self {
        self.url_secret = secret;
        self
    }

    /// The query string.
    pub fn query(mut self, query: Option<&'a str>) -> Self {
        self.query = query;
        self
    }

    /// The sender's address.
    pub fn remote_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.remote_ip = ip;
        self
    }
}

/// The receiver of one account.
#[derive(Debug, Clone)]
pub struct WebhookReceiver {
    kind: Kind,
}

#[derive(Debug, Clone)]
#[allow(dead_code)] // variants exist per compiled-in connector
enum Kind {
    #[cfg(feature = "beds24")]
    Beds24(crate::beds24::Beds24Webhooks),
    #[cfg(feature = "cloudbeds")]
    Cloudbeds(crate::cloudbeds::CloudbedsWebhooks),
    #[cfg(feature = "sirvoy")]
    Sirvoy(std::sync::Arc<crate::sirvoy::SirvoyConnector>),
    Never,
}

impl WebhookReceiver {
    #[cfg(feature = "beds24")]
    pub(crate) fn beds24(w: crate::beds24::Beds24Webhooks) -> Self {
        Self { kind: Kind::Beds24(w) }
    }

    #[cfg(feature = "cloudbeds")]
    pub(crate) fn cloudbeds(w: crate::cloudbeds::CloudbedsWebhooks) -> Self {
        Self { kind: Kind::Cloudbeds(w) }
    }

    #[cfg(feature = "sirvoy")]
    pub(crate) fn sirvoy(c: std::sync::Arc<crate::sirvoy::SirvoyConnector>) -> Self {
        Self { kind: Kind::Sirvoy(c) }
    }

    /// Verifies and handles one delivery.
    pub async fn receive(&self, r: Request<'_>) -> Result<Received, Refused> {
        #[allow(unused_variables)] // unused when no hint-sending connector is compiled in
        let delivery = Delivery { headers: r.headers, body: r.body, url_secret: r.url_secret, remote_ip: r.remote_ip };
        match &self.kind {
            #[cfg(feature = "beds24")]
            // Every request is verified first, health checks included, and every refusal looks
            // like a URL that does not exist: nobody learns which accounts are configured.
            Kind::Beds24(w) => {
                if r.is_get {
                    return w.verify(&delivery, chrono::Utc::now()).map(|()| Received::HealthCheck).map_err(refused);
                }
                hinted(w.parse(&delivery, r.query, chrono::Utc::now()))
            }
            #[cfg(feature = "cloudbeds")]
            Kind::Cloudbeds(w) => {
                if r.is_get {
                    return w.verify(&delivery, chrono::Utc::now()).map(|()| Received::HealthCheck).map_err(refused);
                }
                hinted(w.parse(&delivery, chrono::Utc::now()))
            }
            #[cfg(feature = "sirvoy")]
            Kind::Sirvoy(c) => {
                use crate::sirvoy::{Received as S, SirvoyWebhookError as E};
                match c.receive(r.is_get, r.url_secret, r.remote_ip, r.headers, r.body).await {
                    Ok(S::HealthCheck) => Ok(Received::HealthCheck),
                    Ok(S::Booking { dedupe_key, .. }) => match std::str::from_utf8(r.body) {
                        Ok(body) => Ok(Received::Push { body: body.to_owned(), dedupe_key }),
                        Err(_) => Err(Refused::new(400, "the delivery is not UTF-8 JSON")),
                    },
                    Ok(other) => Err(Refused::new(400, format!("unexpected delivery: {other:?}"))),
                    Err(E::OtherProperty(p)) => Ok(Received::Ignored(format!("delivery for property {p}"))),
                    Err(E::Rejected(e)) => Err(Refused::new(NOT_VERIFIED, e)),
                    Err(other) => Err(Refused::new(400, other)),
                }
            }
            Kind::Never => Err(Refused::new(404, "no receiver")),
        }
    }
}

/// The answer to every request that failed verification (the same as for an unknown account).
pub const NOT_VERIFIED: u16 = 404;

#[allow(dead_code)] // unused when no hint-sending connector is compiled in
fn refused(e: crate::core::webhook::HintError) -> Refused {
    Refused::new(NOT_VERIFIED, e)
}

/// A PMS parser's verdict as an outcome: a hint, another property's delivery (acknowledged), or
/// a refusal: [`NOT_VERIFIED`] for failed authentication, 400 for an authentic but unreadable body.
#[allow(dead_code)] // unused when no hint-sending connector is compiled in
fn hinted(parsed: Result<Hint, crate::core::webhook::HintError>) -> Result<Received, Refused> {
    use crate::core::webhook::HintError as E;
    match parsed {
        Ok(h) => Ok(Received::Hint(h)),
        Err(E::Rejected(e)) => Err(Refused::new(NOT_VERIFIED, e)),
        Err(E::OtherProperty(p)) => Ok(Received::Ignored(format!("delivery for property {p}"))),
        Err(E::NotUsed(why)) => Ok(Received::Ignored(why)),
        Err(other) => Err(Refused::new(400, other)),
    }
}
