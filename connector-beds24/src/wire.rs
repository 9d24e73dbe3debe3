//! Beds24 API v2 wire types, as the API sends them (camelCase). Every field the API may leave out
//! (personal fields without the `bookings-personal` scope, for instance) is optional.

// Field names mirror the vendor's spec one to one; the spec documents them.
#![allow(missing_docs)]

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `pages` of a list response.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pages {
    /// Whether another page follows.
    #[serde(default)]
    pub next_page_exists: bool,
    /// The next page's URL (its host may differ from the configured one).
    pub next_page_link: Option<String>,
}

/// A GET list envelope. Its rows stay raw by default, so one bad row does not sink the page;
/// [`BookingPage`] has them typed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvelope<T = Box<RawValue>> {
    /// `true` on success.
    #[serde(default)]
    pub success: Option<bool>,
    /// Paging.
    #[serde(default)]
    pub pages: Pages,
    /// Rows.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Error text, on failure.
    pub error: Option<String>,
}

/// A `GET /bookings` page with its rows typed: the happy path, one decode for the whole page.
/// When it fails (one row of an unexpected shape), the page is read again as a raw
/// [`ListEnvelope`] and its rows one by one.
pub type BookingPage<'a> = ListEnvelope<Booking<'a>>;

/// An info item (tagged note / flag).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoItem<'a> {
    /// Id.
    pub id: Option<u64>,
    /// Code, e.g. `CHECKIN`.
    #[serde(default)]
    pub code: String,
    /// Text.
    #[serde(default)]
    pub text: String,
    /// When it was created.
    #[serde(borrow)]
    pub create_time: Option<Cow<'a, str>>,
}

/// A booking.
///
/// The fields conversion reads and drops (dates, times, status and channel codes) borrow from
/// the page when they hold no escapes; the ones a [`hostelpulse_core::model::Booking`] keeps are
/// owned, and move into it. A page of bookings then costs fewer allocations than its strings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking<'a> {
    pub id: u64,
    pub master_id: Option<u64>,
    pub property_id: Option<u64>,
    pub room_id: Option<u64>,
    pub unit_id: Option<u64>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub sub_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub arrival: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub departure: Option<Cow<'a, str>>,
    pub num_adult: Option<u16>,
    pub num_child: Option<u16>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    #[serde(borrow)]
    pub country: Option<Cow<'a, str>>,
    pub country2: Option<String>,
    pub lang: Option<String>,
    pub comments: Option<String>,
    pub notes: Option<String>,
    pub price: Option<f64>,
    #[serde(borrow)]
    pub api_source: Option<Cow<'a, str>>,
    pub api_reference: Option<String>,
    #[serde(borrow)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub referer: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub booking_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub modified_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cancel_time: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub info_items: Vec<InfoItem<'a>>,
}

/// A unit of a room (a bed in a dorm, a room of a private room type).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unit {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub status_text: Option<String>,
    pub status_color: Option<String>,
    pub note: Option<String>,
}

/// A room (Beds24's room type).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomType {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub room_type: Option<String>,
    pub qty: Option<u32>,
    pub max_people: Option<u16>,
    pub unit_allocation: Option<String>,
    #[serde(default)]
    pub units: Vec<Unit>,
}

impl RoomType {
    /// Whether this room is a dorm whose units are beds.
    pub fn is_dorm(&self) -> bool {
        self.unit_allocation.as_deref() == Some("perGuest")
            || matches!(self.room_type.as_deref(), Some("dormitoryRoom" | "bedInDormitory"))
    }
}

/// A property.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub currency: Option<String>,
    pub check_in_start: Option<String>,
    pub check_out_end: Option<String>,
    #[serde(default)]
    pub room_types: Vec<RoomType>,
}

/// One compressed calendar range (`to` inclusive).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarRange {
    pub from: String,
    pub to: String,
    pub num_avail: Option<i32>,
    #[serde(rename = "override")]
    pub override_: Option<String>,
}

/// Calendar rows of one room.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomCalendar {
    pub room_id: u64,
    #[serde(default)]
    pub calendar: Vec<CalendarRange>,
}

/// `GET /authentication/setup` and `/authentication/token`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub token: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
}

/// `GET /authentication/details`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthDetails {
    #[serde(default)]
    pub valid_token: bool,
    pub token: Option<TokenDetails>,
}

/// The token part of `/authentication/details`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenDetails {
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub only_property_id: Option<u64>,
}

/// One result item of a POST (HTTP 201, an array in input order).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostResult {
    #[serde(default)]
    pub success: bool,
    pub new: Option<serde_json::Value>,
    pub modified: Option<serde_json::Value>,
    #[serde(default)]
    pub errors: Vec<PostMessage>,
    #[serde(default)]
    pub warnings: Vec<PostMessage>,
}

/// An error, warning or info entry of a POST result.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PostMessage {
    pub action: Option<String>,
    pub field: Option<String>,
    pub message: Option<String>,
}

impl std::fmt::Display for PostMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field.as_deref().or(self.action.as_deref()).unwrap_or("item");
        write!(f, "{field}: {}", self.message.as_deref().unwrap_or("error"))
    }
}

/// The booking webhook, version 2.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookV2<'a> {
    pub time_stamp: Option<String>,
    #[serde(borrow)]
    pub booking: Option<Booking<'a>>,
}

/// The inventory webhook: every value is a string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryWebhook {
    pub room_id: Option<String>,
    pub prop_id: Option<String>,
    pub action: Option<String>,
}

/// Yes/no availability of one room per night (`/inventory/rooms/availability`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomAvailability {
    pub room_id: u64,
    #[serde(default)]
    pub availability: std::collections::BTreeMap<String, bool>,
}
