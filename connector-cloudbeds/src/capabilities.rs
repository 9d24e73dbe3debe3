//! What Cloudbeds can do, declared; and refined per account from the granted scopes.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities at `requests_per_second`.
pub fn declared(requests_per_second: u32) -> Capabilities {
    Capabilities::new(
        ConnectorKind::CLOUDBEDS,
        "Cloudbeds PMS API v1.3",
        SyncSemantics::new(
            Incremental::ModifiedSince { reliable: false },
            Visibility::Status,
            Visibility::DeletedFlag,
            Granularity::Bed,
            WebhookAuth::UrlSecret,
            RateLimit::RequestsPerSecond { per_second: requests_per_second, per: "property".into() },
            "seconds with webhooks; a periodic full reconcile catches edits that do not move the modification time",
        ),
    )
    .with(Operation::Check, Support::Native)
    .with(Operation::ReadRooms, Support::needs_scope("read:room"))
    .with(Operation::ReadBookings, Support::needs_scope("read:reservation"))
    .with(Operation::ReadBookingsModified, Support::needs_scope("read:reservation"))
    .with(Operation::ReadBookingsById, Support::needs_scope("read:reservation"))
    .with(Operation::ReadGuestDetails, Support::needs_scope("read:guest"))
    .with(Operation::ReadAvailability, Support::needs_scope("read:rate"))
    .with(Operation::ReadHousekeeping, Support::needs_scope("read:housekeeping"))
    .with(Operation::SetStayStatus, Support::needs_scope("write:room"))
    .with(Operation::AddNote, Support::needs_scope("write:reservation"))
    .with(Operation::SetHousekeeping, Support::needs_scope("write:housekeeping"))
    .with(Operation::LookupStay, Support::needs_scope("read:reservation"))
    .with(Operation::Webhooks, Support::needs_scope("read:reservation"))
    .with_uncertain("the zone of the modifiedFrom filter: `modified_filter_zone` (property-local by default)")
    .with_uncertain("the OAuth authorize URL for v1.3 (the docs show /api/v1.1/oauth): `OAuthClient::authorize_url`")
    .with_uncertain(
        "access-token lifetime and refresh-token rotation: expires_in is used, any new refresh token is stored",
    )
    .with_uncertain("429 behaviour: none documented; the client paces strictly and backs off on 429/5xx")
    .with_uncertain("webhook retries and timeout (about 5 tries, 2 s): answer fast, dedupe by event key")
}

/// The capabilities effective for an account that granted `scopes`.
pub fn effective(requests_per_second: u32, scopes: &[String]) -> Capabilities {
    declared(requests_per_second).effective_for_scopes(scopes)
}
