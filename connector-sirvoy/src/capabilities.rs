//! What Sirvoy offers, declared: a push-only webhook on the Pro plan, nothing to pull.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities.
pub fn declared() -> Capabilities {
    Capabilities::new(
        ConnectorKind::SIRVOY,
        "Sirvoy (booking-event webhook)",
        SyncSemantics::new(
            Incremental::PushOnly,
            Visibility::Status,
            Visibility::NotVisible,
            Granularity::Room,
            WebhookAuth::UrlSecretAndIpAllowList,
            RateLimit::None,
            "seconds (webhooks); history from before the webhook existed is not resent: import it by CSV",
        ),
    )
    .with(Operation::Check, Support::simulated("checks the configuration; Sirvoy has no API to ask"))
    .with(Operation::ReadRooms, Support::simulated("room types and names seen in deliveries"))
    .with(
        Operation::ReadBookings,
        Support::needs_plan("Sirvoy Pro (booking-event webhook); read from the accumulated deliveries"),
    )
    .with(Operation::ReadBookingsModified, Support::unsupported("push only: there is nothing to poll"))
    .with(
        Operation::ReadBookingsById,
        Support::needs_plan("Sirvoy Pro (booking-event webhook); read from the accumulated deliveries"),
    )
    .with(Operation::ReadGuestDetails, Support::needs_plan("Sirvoy Pro: deliveries carry the guest"))
    .with(Operation::ReadAvailability, Support::unsupported("Sirvoy documents no availability API"))
    .with(Operation::ReadHousekeeping, Support::unsupported("Sirvoy documents no housekeeping API"))
    .with(Operation::SetStayStatus, Support::unsupported("Sirvoy documents no write API"))
    .with(Operation::AddNote, Support::unsupported("Sirvoy documents no write API"))
    .with(Operation::SetHousekeeping, Support::unsupported("Sirvoy documents no write API"))
    .with(Operation::Webhooks, Support::needs_plan("Sirvoy Pro (up to ten webhooks on current plans; older plans one)"))
    .with_uncertain("whether a private or partner pull API exists: none is documented, none is coded against")
    .with_uncertain("event names for modify/cancel/restore (only `new` is documented): the `cancelled` flag decides")
    .with_uncertain("the v2 field list: both `generatedAt` and `generatedTime` are read, unknown fields ignored")
    .with_uncertain("webhooks per account (one or ten): any number of receivers can share the state")
}
