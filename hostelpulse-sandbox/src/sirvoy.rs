//! A Sirvoy booking-event webhook sender: delivers creates, modifications, cancellations and
//! restores as full-booking JSON (version 2, `generatedAt`), retries failed deliveries, sends GET
//! health checks, and can deliver out of order or twice, as Sirvoy may.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDate, SecondsFormat, Utc};
use hostelpulse_core::model::SourceId;
use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};
use hostelpulse_core::{Error, Result};
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Bookings {
    by_id: BTreeMap<u64, Value>,
    next_id: u64,
    tick: i64,
}

/// Sends Sirvoy booking events to a callback URL.
#[derive(Debug)]
pub struct SirvoySender {
    target: String,
    property_id: String,
    client: reqwest::Client,
    bookings: Mutex<Bookings>,
    retries: u32,
}

impl SirvoySender {
    /// A sender for `property_id` delivering to `target` (the callback URL with its secret).
    pub fn new(target: impl Into<String>, property_id: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            property_id: property_id.into(),
            client: crate::webhook_client(),
            bookings: Mutex::new(Bookings { next_id: 900_000, ..Bookings::default() }),
            retries: 3,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bookings> {
        self.bookings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A GET health check, as Sirvoy sends; returns the status.
    pub async fn health_check(&self) -> u16 {
        self.client.get(&self.target).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// Delivers a payload, retrying non-2xx answers with backoff; returns the last status.
    pub async fn deliver(&self, payload: &Value) -> u16 {
        let mut status = 0;
        for attempt in 0..=self.retries {
            status = self
                .client
                .post(&self.target)
                .header("content-type", "application/json")
                .body(payload.to_string())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            // 2xx and 4xx are final for the test: a 4xx is the receiver refusing on purpose.
            if (200..500).contains(&status) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt))).await;
        }
        status
    }

    /// The current payload of a booking, stamped with a fresh, strictly increasing `generatedAt`.
    pub fn snapshot(&self, id: u64, event: &str) -> Option<Value> {
        let mut s = self.lock();
        s.tick += 1;
        let at = Utc::now() + chrono::Duration::milliseconds(s.tick);
        let b = s.by_id.get_mut(&id)?;
        b["event"] = json!(event);
        b["generatedAt"] = json!(at.to_rfc3339_opts(SecondsFormat::Millis, true));
        Some(b.clone())
    }

    fn change(&self, id: &SourceId, f: impl FnOnce(&mut Value)) -> Result<u64> {
        let n: u64 = id.as_str().parse().map_err(|_| Error::invalid_input(format!("no booking {id}")))?;
        let mut s = self.lock();
        let b = s.by_id.get_mut(&n).ok_or_else(|| Error::invalid_input(format!("no booking {id}")))?;
        f(b);
        Ok(n)
    }

    async fn send(&self, id: u64, event: &str) -> Result<()> {
        let payload = self.snapshot(id, event).ok_or_else(|| Error::invalid_input("no booking"))?;
        match self.deliver(&payload).await {
            200..=299 => Ok(()),
            s => Err(Error::invalid_input(format!("the receiver answered {s}"))),
        }
    }

    /// Restores a cancelled booking (Sirvoy sends the full booking with `cancelled:false`).
    pub async fn restore(&self, id: &SourceId) -> Result<()> {
        let n = self.change(id, |b| b["cancelled"] = json!(false))?;
        self.send(n, "restored").await
    }

    /// Delivers two versions of a booking newest first, as an out-of-order network would.
    pub async fn deliver_out_of_order(&self, id: &SourceId, older_name: &str, newer_name: &str) -> Result<(u16, u16)> {
        let n = self.change(id, |b| b["guest"]["firstName"] = json!(older_name))?;
        let older = self.snapshot(n, "modified").ok_or_else(|| Error::invalid_input("no booking"))?;
        self.change(id, |b| b["guest"]["firstName"] = json!(newer_name))?;
        let newer = self.snapshot(n, "modified").ok_or_else(|| Error::invalid_input("no booking"))?;
        let first = self.deliver(&newer).await;
        let second = self.deliver(&older).await;
        Ok((first, second))
    }
}

fn booking_json(
    id: u64,
    property: &str,
    arrival: NaiveDate,
    departure: NaiveDate,
    first: &str,
    last: &str,
    adults: u16,
) -> Value {
    json!({
        "version": "2.0", "event": "new", "propertyId": property.parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(property)),
        "bookingId": id, "channelBookingId": null, "bookingDate": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "arrivalDate": arrival.to_string(), "departureDate": departure.to_string(), "cancelled": false, "eta": null,
        "totalAdults": adults, "guest": { "firstName": first, "lastName": last, "country": "SE", "email": format!("{}@example.com", first.to_lowercase()),
            "phone": "+46 70 000 00 00", "language": "sv", "message": null },
        "internalComment": null,
        "rooms": [{ "RoomTypeName": "Bed in 8-bed dorm", "RoomTypeDescription": "", "RoomName": "Dorm A", "arrivalDate": arrival.to_string(),
            "departureDate": departure.to_string(), "adults": adults.to_string(), "quantity": "1", "price": "250", "roomTotal": 250.0 * (departure - arrival).num_days() as f64,
            "guestName": format!("{first} {last}"), "comment": null }],
        "additionalItems": [], "currency": "SEK", "totalPrice": 250.0 * (departure - arrival).num_days() as f64,
    })
}

/// Bookings made "at Sirvoy": each change is delivered to the receiver.
#[async_trait]
impl Upstream for SirvoySender {
    async fn create(&self, b: NewBooking) -> Result<SourceId> {
        let name = b.guest_name.unwrap_or_else(|| "Guest".into());
        let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
        let id = {
            let mut s = self.lock();
            s.next_id += 1;
            let id = s.next_id;
            s.by_id.insert(id, booking_json(id, &self.property_id, b.arrival, b.departure, first, last, b.adults));
            id
        };
        self.send(id, "new").await?;
        Ok(SourceId::from(id))
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        let n = self.change(id, |b| match change {
            Modification::ExtendStay => {
                if let Some(d) = b["departureDate"].as_str().and_then(|d| d.parse::<NaiveDate>().ok()) {
                    let next = (d + chrono::Duration::days(1)).to_string();
                    b["departureDate"] = json!(next);
                    b["rooms"][0]["departureDate"] = json!(next);
                }
            }
            Modification::RenameGuest(name) => {
                let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
                b["guest"]["firstName"] = json!(first);
                b["guest"]["lastName"] = json!(last);
            }
            _ => {}
        })?;
        self.send(n, "modified").await
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        let n = self.change(id, |b| b["cancelled"] = json!(true))?;
        self.send(n, "cancelled").await
    }

    /// Sirvoy has no deletion event: a deletion is delivered as a cancellation.
    async fn delete(&self, id: &SourceId) -> Result<()> {
        self.cancel(id).await
    }
}
