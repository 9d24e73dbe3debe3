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
    .with(Operation::LookupStay, Support::simulated("answered from the bookings synced to the store"))
    .with(Operation::Webhooks, Support::needs_plan("Sirvoy Pro (up to ten webhooks on current plans; older plans one)"))
    .with_uncertain("whether a private or partner pull API exists: none is documented, none is coded against")
    .with_uncertain("event names for modify/cancel/restore (only `new` is documented): the `cancelled` flag decides")
    .with_uncertain("the v2 field list: both `generatedAt` and `generatedTime` are read, unknown fields ignored")
    .with_uncertain("webhooks per account (one or ten): any number of receivers can share the state")
}

/// The capabilities on the owner's plan, when the configuration names it: Sirvoy Pro unlocks
/// the booking-event webhook and everything read from it; any other plan leaves nothing to
/// read. Without a plan, the declared "needs a plan" stays: nobody knows yet.
pub fn effective(declared: &Capabilities, plan: Option<&str>) -> Capabilities {
    match plan.map(str::trim).filter(|p| !p.is_empty()) {
        Some(plan) => {
            let pro = plan.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| w == "pro");
            declared.effective_for_plan(plan, |_| pro)
        }
        None => declared.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_decides_what_the_account_can_read() {
        let d = declared();
        let pro = effective(&d, Some("Sirvoy Pro"));
        assert_eq!(pro.support(Operation::ReadBookings), Support::Native);
        assert_eq!(pro.support(Operation::Webhooks), Support::Native);
        let basic = effective(&d, Some("Basic"));
        assert!(!basic.supports(Operation::ReadBookings));
        assert!(basic.support(Operation::Webhooks).label().contains("Basic"));
        assert!(
            !effective(&d, Some("Professional services")).supports(Operation::ReadBookings),
            "a word, not a prefix"
        );
        assert_eq!(effective(&d, None), d);
        assert_eq!(effective(&d, Some("  ")), d);
        // What no plan changes stays as declared.
        assert_eq!(basic.support(Operation::ReadRooms), d.support(Operation::ReadRooms));
    }
}
