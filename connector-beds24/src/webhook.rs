//! Beds24 webhooks → sync hints. Beds24 signs nothing: deliveries are authenticated by the custom
//! header the owner configured and/or a secret in the URL, checked before the body is parsed. The
//! `status` word of a delivery is never trusted — the engine re-fetches the booking.

use chrono::{DateTime, Utc};
use hostelpulse_core::connector::BookingIds;
use hostelpulse_core::model::{AccountId, ConnectorKind, SourceId};
use hostelpulse_core::webhook::{Changed, Delivery, Hint, HintError, ReplayGuard, WebhookVerifier};
use secrecy::SecretString;

use crate::wire;

/// Why a Beds24 delivery did not become a hint (neither a v1 query, a v2 body nor an inventory body is `Unrecognised`).
pub type Beds24WebhookError = HintError;

/// Verifies and parses the webhooks of one property.
#[derive(Debug, Clone)]
pub struct Beds24Webhooks {
    property_id: u64,
    verifier: WebhookVerifier,
}

impl Beds24Webhooks {
    /// Webhooks of `property_id`, with whichever checks the owner configured: the custom header
    /// (`name`, accepted values — several while rotating) and/or URL secrets.
    pub fn new(property_id: u64, header: Option<(String, Vec<SecretString>)>, url_secrets: Vec<SecretString>) -> Self {
        let mut verifier = WebhookVerifier::new().max_body(1024 * 1024);
        if let Some((name, values)) = header {
            verifier = verifier.static_header(name, values);
        }
        if !url_secrets.is_empty() {
            verifier = verifier.url_secret(url_secrets);
        }
        Self { property_id, verifier }
    }

    /// Verifies a request without reading it (a health check).
    pub fn verify(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> Result<(), Beds24WebhookError> {
        Ok(self.verifier.verify(delivery, now)?)
    }

    /// Verifies a delivery and turns it into a hint. `query` is the request's query string (v1
    /// deliveries carry `bookid` and `status` there).
    pub fn parse(
        &self,
        delivery: &Delivery<'_>,
        query: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Hint, Beds24WebhookError> {
        self.verifier.verify(delivery, now)?;
        let account = AccountId::from(self.property_id);
        let body_key = ReplayGuard::key(None, delivery.body);
        let q: Vec<(String, String)> =
            query.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        if let Some((_, id)) = q.iter().find(|(k, _)| k == "bookid") {
            let status = q.iter().find(|(k, _)| k == "status").map(|(_, v)| v.clone());
            let mut hint = Hint::bookings(
                ConnectorKind::BEDS24,
                account,
                "booking:v1",
                BookingIds::one(SourceId::new(id.trim())),
                // A v1 delivery says only which booking and its status: a second real change with
                // the same status looks identical. Repeats are recognised within the minute (the
                // sender's retries); a later change of the same booking is never taken for one.
                format!("beds24:v1:{id}:{}:{}", status.as_deref().unwrap_or(""), now.timestamp() / 60),
            );
            if let Some(s) = status {
                hint = hint.with_claimed_status(s);
            }
            return Ok(hint);
        }
        let value: serde_json::Value = serde_json::from_slice(delivery.body)
            .map_err(|e| Beds24WebhookError::Unrecognised(format!("body is not JSON: {e}")))?;
        if value.get("booking").is_some() {
            let v2: wire::WebhookV2<'_> = serde_json::from_slice(delivery.body)
                .map_err(|e| Beds24WebhookError::Unrecognised(format!("booking webhook: {e}")))?;
            let b = v2
                .booking
                .ok_or_else(|| Beds24WebhookError::Unrecognised("booking webhook without a booking".into()))?;
            if let Some(p) = b.property_id.filter(|p| *p != self.property_id) {
                return Err(Beds24WebhookError::OtherProperty(p.to_string()));
            }
            let mut hint = Hint::bookings(
                ConnectorKind::BEDS24,
                account,
                "booking:v2",
                BookingIds::one(SourceId::from(b.id)),
                format!("beds24:v2:{body_key}"),
            );
            if let Some(s) = b.status {
                hint = hint.with_claimed_status(s.into_owned());
            }
            return Ok(hint);
        }
        if value.get("action").is_some() {
            let inv: wire::InventoryWebhook = serde_json::from_value(value)
                .map_err(|e| Beds24WebhookError::Unrecognised(format!("inventory webhook: {e}")))?;
            if let Some(p) = inv.prop_id.as_deref().filter(|p| p.trim() != self.property_id.to_string()) {
                return Err(Beds24WebhookError::OtherProperty(p.to_owned()));
            }
            let rooms = inv.room_id.into_iter().map(SourceId::new).collect();
            // Inventory moved (SYNC_ROOM and friends): rooms are re-read, bookings never.
            return Ok(Hint::new(
                ConnectorKind::BEDS24,
                account,
                inv.action.unwrap_or_default(),
                Changed::Availability(rooms),
                format!("beds24:inv:{body_key}"),
            ));
        }
        Err(Beds24WebhookError::Unrecognised("neither a booking nor an inventory webhook".into()))
    }
}
