//! What an iCal feed can tell, declared.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities.
pub fn declared() -> Capabilities {
    Capabilities::new(
        ConnectorKind::ICAL,
        "iCal feeds (OTA/PMS exports)",
        SyncSemantics::new(
            Incremental::None,
            Visibility::SnapshotDiff,
            Visibility::SnapshotDiff,
            Granularity::Mapping,
            WebhookAuth::NotOffered,
            RateLimit::PollInterval { min_secs: 900 },
            "set by the OTA: minutes to a day; stale feeds are flagged",
        ),
    )
    .with(Operation::Check, Support::simulated("fetches every feed once and reports its state"))
    .with(Operation::ReadRooms, Support::simulated("the units the feeds are mapped to"))
    .with(Operation::ReadBookings, Support::simulated("each feed read in full; stays placed on the feed's mapped unit"))
    .with(Operation::ReadBookingsModified, Support::unsupported("feeds carry no modification times: every read is a full snapshot"))
    .with(Operation::ReadBookingsById, Support::simulated("the feeds re-read and filtered"))
    .with(Operation::ReadGuestDetails, Support::unsupported("OTA feeds carry no guest contact data (at most a first name or the phone's last 4 digits)"))
    .with(Operation::ReadAvailability, Support::unsupported("a feed says only which dates are taken"))
    .with(Operation::ReadHousekeeping, Support::unsupported("feeds carry no housekeeping state"))
    .with(Operation::SetStayStatus, Support::unsupported("feeds are read-only"))
    .with(Operation::AddNote, Support::unsupported("feeds are read-only"))
    .with(Operation::SetHousekeeping, Support::unsupported("feeds are read-only"))
    .with(Operation::LookupStay, Support::simulated("answered from the bookings synced to the store"))
    .with(Operation::Webhooks, Support::unsupported("feeds are polled"))
    .with_uncertain("Booking.com cannot tell a booking from a closed room: such dates are `unavailable` (occupied, details unknown)")
    .with_uncertain("Vrbo export format (no real export seen): `Reserved - <name>` / `Blocked` assumed")
    .with_uncertain("feeds whose end date is the last night: `end_is_last_night` per feed")
    .with_uncertain("cancellations are an event vanishing: decided only after two complete fetches")
}
