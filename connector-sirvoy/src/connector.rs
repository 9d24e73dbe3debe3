//! The Sirvoy connector: a webhook receiver whose accumulated deliveries are read as bookings.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hostelpulse_core::capability::{Capabilities, Operation};
use hostelpulse_core::connector::{
    BookingBatch, BookingQuery, Connector, Health, RecordFailure, decode_state, encode_state,
};
use hostelpulse_core::error::Result;
use hostelpulse_core::model::{
    AccountId, Booking, ConnectorKind, Property, Provenance, Room, RoomKind, RoomType, SourceId, SourceKey, Via,
};
use hostelpulse_core::webhook::{Delivery, WebhookError, WebhookVerifier};
use rand::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::SirvoyConfig;
use crate::{capabilities, convert, wire};

/// A fresh URL secret for the webhook's callback URL (32 random bytes, hex).
pub fn generate_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SirvoyWebhookError {
    /// Wrong URL secret or sender (answer 403/404).
    #[error("rejected: {0}")]
    Rejected(#[from] WebhookError),
    /// For another property (answer 200 so Sirvoy stops retrying; nothing stored).
    #[error("delivery for property {0}, not this one")]
    OtherProperty(String),
    /// Not a booking event (answer 400).
    #[error("unreadable delivery: {0}")]
    Unreadable(String),
}

/// What a verified request was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Received {
    /// A GET health check: answer 200 with no body.
    HealthCheck,
    /// An authentic booking event. Nothing is applied yet: the host queues the body durably and
    /// a sync run applies it ([`hostelpulse_core::sync::Plan::Push`]).
    Booking {
        /// Booking id.
        booking: String,
        /// Identifies this delivery, so a retried one is recognised.
        dedupe_key: String,
    },
}

/// What applying a delivery to the state did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    New,
    Updated,
    Stale,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    generated: Option<DateTime<Utc>>,
    event: wire::Event,
}

/// Receives Sirvoy booking events and reads the accumulated state as bookings.
#[derive(Debug)]
pub struct SirvoyConnector {
    cfg: Arc<SirvoyConfig>,
    account: AccountId,
    verifier: WebhookVerifier,
    state: Mutex<BTreeMap<String, Stored>>,
}

impl SirvoyConnector {
    /// A connector from its configuration.
    pub fn new(cfg: SirvoyConfig) -> Self {
        let verifier = WebhookVerifier::new()
            .url_secret(cfg.url_secrets.clone())
            .allow_ips(cfg.allowed_senders.clone())
            .max_body(1024 * 1024);
        Self {
            account: AccountId::new(cfg.property_id.clone()),
            cfg: Arc::new(cfg),
            verifier,
            state: Mutex::new(BTreeMap::new()),
        }
    }

    /// Verifies one request to the callback URL: `is_get` for Sirvoy's health checks, else a
    /// POSTed booking event. Authentication (URL secret, sender address) comes before anything is
    /// parsed. The event is only read, not applied: Sirvoy never re-sends, so the host stores the
    /// body durably before answering, and a sync run applies it.
    pub async fn receive(
        &self,
        is_get: bool,
        url_secret: Option<&str>,
        remote_ip: Option<IpAddr>,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Received, SirvoyWebhookError> {
        let d = Delivery { headers, body, url_secret, remote_ip };
        self.verifier.verify(&d, Utc::now())?;
        if is_get {
            return Ok(Received::HealthCheck);
        }
        let event: wire::Event =
            serde_json::from_slice(body).map_err(|e| SirvoyWebhookError::Unreadable(e.to_string()))?;
        if let Some(p) = event.property_id.as_deref().filter(|p| *p != self.cfg.property_id) {
            return Err(SirvoyWebhookError::OtherProperty(p.to_owned()));
        }
        let id = event.booking_id.clone().ok_or_else(|| SirvoyWebhookError::Unreadable("no bookingId".into()))?;
        let dedupe_key = format!("sirvoy:{}", hostelpulse_core::webhook::ReplayGuard::key(None, body));
        Ok(Received::Booking { booking: id, dedupe_key })
    }

    /// Applies one event: among deliveries of the same booking the newest `generatedAt` wins.
    async fn apply(&self, event: wire::Event) -> std::result::Result<(String, Applied), SirvoyWebhookError> {
        let id = event.booking_id.clone().ok_or_else(|| SirvoyWebhookError::Unreadable("no bookingId".into()))?;
        let generated = convert::generated(&event);
        let mut state = self.state.lock().await;
        // Content first: the same event again changes nothing. Then the sender's timestamp orders
        // deliveries that both carry one; a delivery without one is taken as the latest, since
        // deliveries are applied in the order they were received.
        let applied = match state.get(&id) {
            Some(old) if old.event == event => return Ok((id, Applied::Stale)),
            Some(old) if matches!((old.generated, generated), (Some(o), Some(n)) if o >= n) => {
                return Ok((id, Applied::Stale));
            }
            Some(_) => Applied::Updated,
            None => Applied::New,
        };
        state.insert(id.clone(), Stored { generated, event });
        Ok((id, applied))
    }

    async fn all(&self) -> BookingBatch {
        let provenance = Provenance::new(Via::Webhook, Utc::now());
        let mut batch = BookingBatch::complete(Vec::new(), Vec::new());
        for (id, s) in self.state.lock().await.iter() {
            match convert::booking(&s.event, &self.account, &provenance, self.cfg.currency.as_deref()) {
                Ok(b) => batch.bookings.push(b),
                Err(reason) => batch.failures.push(RecordFailure::new(Some(SourceId::new(id.clone())), reason)),
            }
        }
        batch
    }
}

#[async_trait]
impl Connector for SirvoyConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::SIRVOY
    }

    fn account(&self) -> &AccountId {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        capabilities::declared()
    }

    async fn check(&self) -> Result<Health> {
        let effective = crate::capabilities::effective(&self.capabilities(), self.cfg.plan.as_deref());
        let webhooks = effective.supports(Operation::ReadBookings);
        let mut h = Health::new(effective);
        h.notes.push(format!("{} booking(s) received so far", self.state.lock().await.len()));
        if !webhooks {
            h.notes.push(
                "booking-event webhooks need Sirvoy Pro: on this plan no booking will arrive; import bookings by CSV"
                    .into(),
            );
        }
        Ok(h)
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        let key = |id: &str| SourceKey::new(ConnectorKind::SIRVOY, self.account.clone(), id);
        let mut types: BTreeMap<String, Vec<String>> = self.cfg.rooms.iter().cloned().collect();
        for s in self.state.lock().await.values() {
            for r in &s.event.rooms {
                let t = r.room_type_name.clone().unwrap_or_else(|| "Room".into());
                let names = types.entry(t).or_default();
                if let Some(n) = r.room_name.clone().filter(|n| !names.contains(n)) {
                    names.push(n);
                }
            }
        }
        let mut p = Property::new(
            key(self.account.as_str()),
            Provenance::new(Via::Webhook, Utc::now()),
            format!("Sirvoy property {}", self.account),
        );
        p.room_types = types
            .into_iter()
            .map(|(t, names)| RoomType {
                key: key(&t),
                name: t.clone(),
                kind: if t.to_lowercase().contains("dorm") || t.to_lowercase().contains("bed in") {
                    RoomKind::Dorm
                } else {
                    RoomKind::Private
                },
                max_guests: None,
                rooms: names.into_iter().map(|n| Room { key: key(&n), name: n, beds: Vec::new() }).collect(),
            })
            .collect();
        Ok(vec![p])
    }

    fn keeps_state(&self) -> bool {
        true
    }

    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        *self.state.lock().await = decode_state(saved, "Sirvoy")?;
        Ok(())
    }

    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        encode_state(&*self.state.lock().await, "Sirvoy")
    }

    async fn ingest(&self, payload: &[u8]) -> Result<Vec<SourceId>> {
        let event: wire::Event = serde_json::from_slice(payload)
            .map_err(|e| hostelpulse_core::Error::invalid_input(format!("Sirvoy delivery: {e}")))?;
        if let Some(p) = event.property_id.as_deref().filter(|p| *p != self.cfg.property_id) {
            return Err(hostelpulse_core::Error::invalid_input(format!("Sirvoy delivery for property {p}")));
        }
        let (id, applied) =
            self.apply(event).await.map_err(|e| hostelpulse_core::Error::invalid_input(e.to_string()))?;
        tracing::debug!(booking = %id, ?applied, "Sirvoy delivery applied");
        // A stale delivery changed nothing: there is nothing to read back.
        Ok(if applied == Applied::Stale { Vec::new() } else { vec![SourceId::new(id)] })
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        if query.modified_since.is_some() {
            return Err(self.unsupported(Operation::ReadBookingsModified));
        }
        let mut batch = self.all().await;
        let keep = |b: &Booking| {
            query.stay.is_none_or(|w| w.overlaps_stay(b.arrival, b.departure)) && query.wants_id(&b.key.id)
        };
        batch.bookings.retain(keep);
        Ok(batch)
    }
}
