//! What a booking inbox can tell, declared.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities.
pub fn declared() -> Capabilities {
    Capabilities::new(
        ConnectorKind::EMAIL,
        "Booking e-mails (forwarded confirmations)",
        SyncSemantics::new(
            Incremental::None,
            Visibility::Status,
            Visibility::NotVisible,
            Granularity::RoomType,
            WebhookAuth::NotOffered,
            RateLimit::None,
            "as fast as mail is forwarded and the inbox polled; only bookings someone forwarded exist",
        ),
    )
    .with(Operation::Check, Support::simulated("opens the mailbox and reports what is waiting and under review"))
    .with(Operation::ReadRooms, Support::unsupported("mails name a room or bed as text only: map it to your rooms"))
    .with(
        Operation::ReadBookings,
        Support::simulated("every booking extracted so far, merged per channel reference; low-confidence ones held for review"),
    )
    .with(Operation::ReadBookingsModified, Support::unsupported("each read returns every booking the inbox has taught us"))
    .with(Operation::ReadBookingsById, Support::simulated("the extracted bookings, filtered"))
    .with(
        Operation::ReadGuestDetails,
        Support::simulated("name always when the mail has it; e-mail/phone only where the channel prints them (Expedia relay, Trip.com, Hostelworld)"),
    )
    .with(Operation::ReadAvailability, Support::unsupported("mails carry no availability"))
    .with(Operation::ReadHousekeeping, Support::unsupported("mails carry no housekeeping state"))
    .with(Operation::SetStayStatus, Support::unsupported("an inbox is read-only"))
    .with(Operation::AddNote, Support::unsupported("an inbox is read-only"))
    .with(Operation::SetHousekeeping, Support::unsupported("an inbox is read-only"))
    .with(Operation::LookupStay, Support::simulated("answered from the bookings synced to the store"))
    .with(Operation::Webhooks, Support::simulated("hosts with inbound-mail webhooks push raw messages into a queue"))
    .with_uncertain("Hostelworld mails (no real sample seen): template built from documented labels and the `NNNN-NNNNNNNNN` reference")
    .with_uncertain("Booking.com host notifications carry no departure: held for review until the iCal feed or extranet supplies it")
    .with_uncertain("Expedia modification/cancellation subjects are undocumented: `NotificationType` decides, the subject is a fallback")
    .with_uncertain("Agoda and Trip.com samples are reduced structural copies: fields beyond their labels are not read")
    .with_uncertain("a cancellation is seen only if its mail is forwarded: nothing disappears for lack of mail")
}
