//! Cloudbeds webhooks → sync hints. Cloudbeds signs nothing: a random secret in the endpoint URL
//! (generated here at subscription) authenticates deliveries, checked before the body is parsed,
//! and the property id must be ours. Key casing varies between events (`propertyID`/`propertyId`,
//! `_str` copies of numeric ids), so keys are matched case-insensitively, string copies first.

use chrono::{DateTime, Utc};
use hostelpulse_core::connector::BookingIds;
use hostelpulse_core::model::{AccountId, ConnectorKind, SourceId};
use hostelpulse_core::webhook::{Delivery, Hint, HintError, WebhookVerifier};
use rand::RngCore;
use secrecy::SecretString;
use serde_json::{Map, Value};

/// The events a hostel sync subscribes to.
pub const SYNC_EVENTS: [(&str, &str); 9] = [
    ("reservation", "created"),
    ("reservation", "status_changed"),
    ("reservation", "dates_changed"),
    ("reservation", "accommodation_changed"),
    ("reservation", "accommodation_status_changed"),
    ("reservation", "deleted"),
    ("guest", "assigned"),
    ("housekeeping", "room_condition_changed"),
    ("roomblock", "created"),
];

/// Why a Cloudbeds delivery did not become a hint.
pub type CloudbedsWebhookError = HintError;

/// Verifies and parses one property's webhooks.
#[derive(Debug, Clone)]
pub struct CloudbedsWebhooks {
    property_id: String,
    verifier: WebhookVerifier,
}

/// A fresh URL secret (32 random bytes, hex).
pub fn generate_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

fn field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    let want_str = format!("{name}_str");
    let pick = |wanted: &str| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(wanted)).map(|(_, v)| v);
    let v = pick(&want_str).or_else(|| pick(name))?;
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl CloudbedsWebhooks {
    /// Webhooks of `property_id`, accepting any of `url_secrets` (several while rotating).
    pub fn new(property_id: impl Into<String>, url_secrets: Vec<SecretString>) -> Self {
        Self {
            property_id: property_id.into(),
            verifier: WebhookVerifier::new().url_secret(url_secrets).max_body(256 * 1024),
        }
    }

    /// Verifies a request without reading it (a health check).
    pub fn verify(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> Result<(), CloudbedsWebhookError> {
        Ok(self.verifier.verify(delivery, now)?)
    }

    /// Verifies a delivery and turns it into a hint.
    pub fn parse(&self, delivery: &Delivery<'_>, now: DateTime<Utc>) -> Result<Hint, CloudbedsWebhookError> {
        self.verifier.verify(delivery, now)?;
        let v: Value = serde_json::from_slice(delivery.body)
            .map_err(|e| CloudbedsWebhookError::Unrecognised(format!("body is not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| CloudbedsWebhookError::Unrecognised("body is not an object".into()))?;
        let event = field(obj, "event").ok_or_else(|| CloudbedsWebhookError::Unrecognised("no event".into()))?;
        if let Some(p) = field(obj, "propertyID").filter(|p| *p != self.property_id) {
            return Err(CloudbedsWebhookError::OtherProperty(p));
        }
        let account = AccountId::new(self.property_id.clone());
        let stamp = obj.get("timestamp").map(|t| t.to_string()).unwrap_or_default();
        let (object, _) = event.split_once('/').unwrap_or((event.as_str(), ""));
        let hint = match object {
            "reservation" | "guest" => {
                let id = field(obj, "reservationID")
                    .ok_or_else(|| CloudbedsWebhookError::Unrecognised(format!("{event} without a reservationID")))?;
                let key = format!("cloudbeds:{event}:{id}:{stamp}");
                let ids = BookingIds::one(SourceId::new(id));
                let mut h = Hint::bookings(ConnectorKind::CLOUDBEDS, account, event.clone(), ids, key);
                if let Some(s) = field(obj, "status") {
                    h = h.with_claimed_status(s);
                }
                h
            }
            "housekeeping" | "roomblock" => {
                let mut rooms: Vec<SourceId> = field(obj, "roomID").map(SourceId::new).into_iter().collect();
                for r in obj.get("rooms").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(id) = r.as_object().and_then(|o| field(o, "roomID")) {
                        rooms.push(SourceId::new(id));
                    }
                }
                let key = format!(
                    "cloudbeds:{event}:{}:{stamp}",
                    rooms.iter().map(SourceId::as_str).collect::<Vec<_>>().join(",")
                );
                Hint::rooms(ConnectorKind::CLOUDBEDS, account, event.clone(), rooms, key)
            }
            // Not a reservation or a room: nothing to re-read, and never a read of everything.
            _ => return Err(CloudbedsWebhookError::NotUsed(format!("{event} events carry nothing hostelpulse keeps"))),
        };
        Ok(hint)
    }
}
