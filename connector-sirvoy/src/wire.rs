//! The Sirvoy booking-event webhook payload, versions 1.0 and 2: camelCase at the top, PascalCase
//! keys in `rooms[]`, numbers that may arrive as strings, and fields that may be null.

// Field names mirror Sirvoy's documented examples one to one.
#![allow(missing_docs)]

use serde::{Deserialize, Deserializer, Serialize};

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(lenient_f64(d)?.filter(|n| *n >= 0.0 && *n <= f64::from(u16::MAX)).map(|n| n as u16))
}

fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The guest.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Guest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub business_name: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub message: Option<String>,
}

/// A room line (PascalCase keys).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Room {
    #[serde(rename = "RoomTypeName")]
    pub room_type_name: Option<String>,
    #[serde(rename = "RoomName")]
    pub room_name: Option<String>,
    #[serde(rename = "arrivalDate")]
    pub arrival_date: Option<String>,
    #[serde(rename = "departureDate")]
    pub departure_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_u16")]
    pub adults: Option<u16>,
    #[serde(rename = "guestName")]
    pub guest_name: Option<String>,
    #[serde(rename = "roomTotal", default, deserialize_with = "lenient_f64")]
    pub room_total: Option<f64>,
}

/// A booking event.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub version: Option<String>,
    /// v2: the timestamp to order deliveries by.
    pub generated_at: Option<String>,
    /// v1 (removed after September 2024).
    pub generated_time: Option<String>,
    pub event: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub property_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub booking_id: Option<String>,
    pub channel_booking_id: Option<String>,
    pub booking_date: Option<String>,
    pub arrival_date: Option<String>,
    pub departure_date: Option<String>,
    #[serde(default)]
    pub cancelled: bool,
    pub eta: Option<String>,
    #[serde(default, deserialize_with = "lenient_u16")]
    pub total_adults: Option<u16>,
    #[serde(default)]
    pub guest: Option<Guest>,
    pub internal_comment: Option<String>,
    #[serde(default)]
    pub rooms: Vec<Room>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub total_price: Option<f64>,
}
