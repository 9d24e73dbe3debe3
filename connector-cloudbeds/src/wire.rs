//! Cloudbeds PMS API v1.3 wire types, as the API sends them. Ids are strings (and treated as
//! opaque); counts such as `adults` arrive as numeric text; some numbers may come as strings.

// Field names mirror the vendor's spec one to one; the spec documents them.
#![allow(missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// A number or numeric text → `Option<u16>` (empty text is unknown).
pub fn lenient_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_u64().and_then(|n| u16::try_from(n).ok())),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
        Some(other) => Err(serde::de::Error::custom(format!("expected a count, got {other}"))),
    }
}

/// A number or numeric text → `Option<f64>`.
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_f64()),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
        Some(other) => Err(serde::de::Error::custom(format!("expected a number, got {other}"))),
    }
}

/// An id sent as a string or a number → its text.
pub fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
    }
}

/// `null` where the contract allows it reads as the field's default (an empty list, `false`, an
/// empty name): `#[serde(default)]` alone covers a missing field, not a `null` one.
pub fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list envelope: `{success, data, count, total}`; rows stay raw so one bad row does not sink a page.
#[derive(Debug, Deserialize)]
pub struct ListEnvelope {
    #[serde(default, deserialize_with = "nullable")]
    pub success: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub data: Vec<Box<RawValue>>,
    pub count: Option<u64>,
    pub total: Option<u64>,
    pub message: Option<String>,
}

/// An object envelope: `{success, data}`.
#[derive(Debug, Deserialize)]
pub struct ObjectEnvelope<T> {
    #[serde(default, deserialize_with = "nullable")]
    pub success: bool,
    pub data: Option<T>,
    pub message: Option<String>,
}

/// `getHotels` row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotel {
    #[serde(rename = "propertyID", deserialize_with = "lenient_id", default)]
    pub property_id: Option<String>,
    pub property_name: Option<String>,
    pub property_timezone: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub property_currency: Vec<Currency>,
}

/// A currency entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Currency {
    pub currency_code: Option<String>,
}

/// `getRoomTypes` row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomType {
    #[serde(rename = "roomTypeID", deserialize_with = "lenient_id", default)]
    pub room_type_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub room_type_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub is_private: bool,
    #[serde(deserialize_with = "lenient_u16", default)]
    pub max_guests: Option<u16>,
}

/// `getRooms` data item: rooms of one property.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyRooms {
    #[serde(rename = "propertyID", deserialize_with = "lenient_id", default)]
    pub property_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub rooms: Vec<Room>,
}

/// A room — or, for a shared room type, a bed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    #[serde(rename = "roomID", deserialize_with = "lenient_id", default)]
    pub room_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub room_name: String,
    pub dorm_room_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub is_private: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub is_virtual: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub room_blocked: bool,
    #[serde(rename = "roomTypeID", deserialize_with = "lenient_id", default)]
    pub room_type_id: Option<String>,
    pub room_type_name: Option<String>,
}

/// A room line of a reservation (`rooms[]` of `getReservationsWithRateDetails`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationRoom {
    #[serde(rename = "roomTypeID", deserialize_with = "lenient_id", default)]
    pub room_type_id: Option<String>,
    pub room_type_name: Option<String>,
    #[serde(rename = "subReservationID", deserialize_with = "lenient_id", default)]
    pub sub_reservation_id: Option<String>,
    #[serde(rename = "roomID", deserialize_with = "lenient_id", default)]
    pub room_id: Option<String>,
    pub room_name: Option<String>,
    pub guest_name: Option<String>,
    #[serde(deserialize_with = "lenient_u16", default)]
    pub adults: Option<u16>,
    #[serde(deserialize_with = "lenient_u16", default)]
    pub children: Option<u16>,
    pub room_check_in: Option<String>,
    pub room_check_out: Option<String>,
    /// `cancelled` (two l's here), `in_house`, `checked_out`, `not_checked_in`.
    pub room_status: Option<String>,
}

/// A guest of `guestList`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Guest {
    pub guest_first_name: Option<String>,
    pub guest_last_name: Option<String>,
    pub guest_email: Option<String>,
    pub guest_phone: Option<String>,
    pub guest_cell_phone: Option<String>,
    pub guest_country: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub is_main_guest: bool,
}

/// `source`: an object in `getReservationsWithRateDetails`, a plain name in `getReservation`.
pub fn lenient_source<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Source>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Name(String),
        Object(Source),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::Name(name)) => Some(Source { name: Some(name), category: None }),
        Some(Either::Object(s)) => Some(s),
    })
}

/// The `source` object.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub name: Option<String>,
    pub category: Option<String>,
}

/// A `getReservationsWithRateDetails` row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    #[serde(rename = "reservationID", deserialize_with = "lenient_id")]
    pub reservation_id: Option<String>,
    #[serde(rename = "propertyID", deserialize_with = "lenient_id", default)]
    pub property_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub is_deleted: bool,
    pub status: Option<String>,
    #[serde(rename = "dateCreatedUTC")]
    pub date_created_utc: Option<String>,
    #[serde(rename = "dateModifiedUTC")]
    pub date_modified_utc: Option<String>,
    #[serde(rename = "dateCancelledUTC")]
    pub date_cancelled_utc: Option<String>,
    pub date_created: Option<String>,
    pub date_modified: Option<String>,
    pub reservation_check_in: Option<String>,
    pub reservation_check_out: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub guest_name: Option<String>,
    pub guest_country: Option<String>,
    pub source_name: Option<String>,
    #[serde(deserialize_with = "lenient_source", default)]
    pub source: Option<Source>,
    pub third_party_identifier: Option<String>,
    pub property_currency: Option<String>,
    #[serde(deserialize_with = "lenient_f64", default)]
    pub total: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    pub rooms: Vec<ReservationRoom>,
    #[serde(default, deserialize_with = "nullable")]
    pub guest_list: BTreeMap<String, Guest>,
    pub estimated_arrival_time: Option<String>,
}

/// `getHousekeepingStatus` row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HousekeepingRow {
    pub date: Option<String>,
    #[serde(rename = "roomID", deserialize_with = "lenient_id", default)]
    pub room_id: Option<String>,
    pub room_condition: Option<String>,
    pub room_occupied: Option<bool>,
    pub room_blocked: Option<bool>,
    pub do_not_disturb: Option<bool>,
    pub room_comments: Option<String>,
    pub frontdesk_status: Option<String>,
}

/// `getRatePlans` row (with `detailedRates=true`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RatePlan {
    #[serde(rename = "roomTypeID", deserialize_with = "lenient_id", default)]
    pub room_type_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub room_rate_detailed: Vec<RateDay>,
}

/// One day of a rate plan.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateDay {
    #[serde(default, deserialize_with = "nullable")]
    pub date: String,
    pub rooms_available: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub blocked: bool,
}

/// `POST /access_token` answer.
#[derive(Debug, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
    /// The scopes granted, when they differ from those asked for (RFC 6749 §5.1; Cloudbeds'
    /// spec does not list the field).
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<Resource>,
}

/// A resource an access token grants.
#[derive(Debug, Deserialize, Serialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient_id", default)]
    pub id: Option<String>,
}

/// `GET /userinfo`.
#[derive(Debug, Deserialize, Serialize)]
pub struct UserInfo {
    #[serde(deserialize_with = "lenient_id", default)]
    pub user_id: Option<String>,
    pub email: Option<String>,
}

/// `postWebhook` answer data.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(rename = "subscriptionID", deserialize_with = "lenient_id", default)]
    pub subscription_id: Option<String>,
}
