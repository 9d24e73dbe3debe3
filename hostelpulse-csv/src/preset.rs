//! Column presets: the known spellings of each field per export.

use hostelpulse_core::model::ConnectorKind;

/// A field a row can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Column {
    /// The booking's id at the source (required).
    Id,
    /// First night (required).
    Arrival,
    /// Check-out day (required, unless `LastNight` is given).
    Departure,
    /// Last night (some exports): the check-out day is the day after.
    LastNight,
    /// Guest's full name.
    GuestName,
    /// Guest's first name.
    FirstName,
    /// Guest's last name.
    LastName,
    /// E-mail.
    Email,
    /// Phone.
    Phone,
    /// Status text.
    Status,
    /// Room or bed.
    Room,
    /// Room type.
    RoomType,
    /// Channel / source / referrer.
    Channel,
    /// The channel's reference.
    ChannelRef,
    /// Adults.
    Adults,
    /// Children.
    Children,
    /// Total price.
    Total,
    /// Currency.
    Currency,
}

/// How a file's headers map to fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Mapping {
    /// Known spellings of each field's header (matched case-insensitively, trimmed).
    pub columns: Vec<(Column, Vec<String>)>,
}

impl Mapping {
    /// A mapping from explicit header names.
    pub fn explicit(pairs: &[(Column, &str)]) -> Self {
        Self { columns: pairs.iter().map(|(c, h)| (*c, vec![h.to_string()])).collect() }
    }

    fn of(pairs: &[(Column, &[&str])]) -> Self {
        Self { columns: pairs.iter().map(|(c, hs)| (*c, hs.iter().map(|h| h.to_string()).collect())).collect() }
    }
}

/// A known export, or a generic file with an explicit mapping.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Preset {
    /// Beds24 bookings export.
    Beds24,
    /// Cloudbeds reservations export.
    Cloudbeds,
    /// Sirvoy bookings export.
    Sirvoy,
    /// FrontDesk Master export.
    Fdm,
    /// Any file, with its columns named.
    Generic(Mapping),
}

impl Preset {
    /// A preset by name (`beds24`, `cloudbeds`, `sirvoy`, `fdm`).
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "beds24" => Self::Beds24,
            "cloudbeds" => Self::Cloudbeds,
            "sirvoy" => Self::Sirvoy,
            "fdm" | "frontdeskmaster" | "frontdesk-master" => Self::Fdm,
            _ => return None,
        })
    }

    /// The connector kind imported bookings belong to: the source's own, so an imported history
    /// merges with what its connector syncs later.
    pub fn connector(&self) -> ConnectorKind {
        match self {
            Self::Beds24 => ConnectorKind::BEDS24,
            Self::Cloudbeds => ConnectorKind::CLOUDBEDS,
            Self::Sirvoy => ConnectorKind::SIRVOY,
            Self::Fdm => ConnectorKind::FDM,
            Self::Generic(_) => ConnectorKind::CSV,
        }
    }

    /// The header spellings (the vendors publish no export schema: these are the spellings their
    /// exports are known to use, and close variants; anything else needs the generic preset).
    pub fn mapping(&self) -> Mapping {
        use Column::*;
        match self {
            Self::Beds24 => Mapping::of(&[
                (Id, &["Booking ID", "Book ID", "BookId", "Id"]),
                (Arrival, &["Arrival", "Check In", "First Night"]),
                (Departure, &["Departure", "Check Out"]),
                (LastNight, &["Last Night"]),
                (FirstName, &["First Name", "Guest First Name"]),
                (LastName, &["Last Name", "Guest Last Name"]),
                (GuestName, &["Guest Name", "Name"]),
                (Email, &["Email", "Guest Email"]),
                (Phone, &["Phone", "Mobile"]),
                (Status, &["Status"]),
                (Room, &["Unit", "Room Unit"]),
                (RoomType, &["Room", "Room Name"]),
                (Channel, &["Referrer", "Channel", "Source"]),
                (ChannelRef, &["Api Reference", "Channel Reference", "Reference"]),
                (Adults, &["Adults", "Num Adult"]),
                (Children, &["Children", "Num Child"]),
                (Total, &["Price", "Total Price", "Total"]),
                (Currency, &["Currency"]),
            ]),
            Self::Cloudbeds => Mapping::of(&[
                (Id, &["Reservation Number", "Reservation ID", "Confirmation Number"]),
                (Arrival, &["Check in Date", "Check-in Date", "Check In", "Arrival Date"]),
                (Departure, &["Check out Date", "Check-out Date", "Check Out", "Departure Date"]),
                (GuestName, &["Name", "Guest Name", "Guest"]),
                (Email, &["Email", "Guest Email"]),
                (Phone, &["Phone", "Phone Number"]),
                (Status, &["Status", "Reservation Status"]),
                (Room, &["Room Number", "Room", "Bed"]),
                (RoomType, &["Room Type", "Accommodation Type"]),
                (Channel, &["Source", "Channel"]),
                (ChannelRef, &["Third Party Confirmation Number", "Source Reservation ID", "Third Party Identifier"]),
                (Adults, &["Adults"]),
                (Children, &["Children", "Kids"]),
                (Total, &["Grand Total", "Total", "Reservation Total"]),
                (Currency, &["Currency"]),
            ]),
            Self::Sirvoy => Mapping::of(&[
                (Id, &["Booking ID", "Booking number", "Booking no", "Bokningsnummer"]),
                (Arrival, &["Arrival", "Arrival date", "Ankomst"]),
                (Departure, &["Departure", "Departure date", "Avresa"]),
                (GuestName, &["Guest", "Guest name", "Name", "Gäst"]),
                (Email, &["Email", "E-mail", "E-post"]),
                (Phone, &["Phone", "Telefon"]),
                (Status, &["Status", "Cancelled"]),
                (Room, &["Room", "Rum"]),
                (RoomType, &["Room type", "Rumstyp"]),
                (Channel, &["Channel", "Source", "Kanal"]),
                (ChannelRef, &["Channel booking ID", "Channel booking id"]),
                (Adults, &["Adults", "Vuxna"]),
                (Total, &["Total price", "Total", "Totalt pris"]),
                (Currency, &["Currency", "Valuta"]),
            ]),
            Self::Fdm => Mapping::of(&[
                (Id, &["Reservation", "Reservation ID", "Booking ID", "Booking"]),
                (Arrival, &["Check-in", "Check in", "Arrival"]),
                (Departure, &["Check-out", "Check out", "Departure"]),
                (GuestName, &["Guest", "Guest name", "Name"]),
                (Email, &["Email"]),
                (Phone, &["Phone"]),
                (Status, &["Status"]),
                (Room, &["Bed", "Room"]),
                (RoomType, &["Room type", "Category"]),
                (Channel, &["Channel", "Source", "Origin"]),
                (ChannelRef, &["Channel reference", "OTA reference", "External ID"]),
                (Adults, &["Adults", "Guests"]),
                (Total, &["Total", "Price"]),
                (Currency, &["Currency"]),
            ]),
            Self::Generic(m) => m.clone(),
        }
    }
}
