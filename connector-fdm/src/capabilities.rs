//! What the FrontDesk Master composite declares it can do.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities.
pub fn declared() -> Capabilities {
    Capabilities::new(
        ConnectorKind::FDM,
        "FrontDesk Master (iCal + CSV exports)",
        SyncSemantics::new(
            Incremental::None,
            Visibility::SnapshotDiff,
            Visibility::SnapshotDiff,
            Granularity::Mapping,
            WebhookAuth::NotOffered,
            RateLimit::PollInterval { min_secs: 900 },
            "iCal: as often as polled (FrontDesk Master updates its exports about hourly); CSV: when the owner exports",
        ),
    )
    .with(Operation::Check, Support::simulated("fetches every per-room iCal export once"))
    .with(Operation::ReadRooms, Support::simulated("the rooms the iCal exports are mapped to"))
    .with(Operation::ReadBookings, Support::simulated("per-room iCal exports: dates taken, no details; CSV report imports add guests and history"))
    .with(Operation::ReadBookingsModified, Support::unsupported("no public API: every read is a full iCal snapshot"))
    .with(Operation::ReadBookingsById, Support::simulated("the iCal exports re-read and filtered"))
    .with(Operation::ReadGuestDetails, Support::simulated("only from CSV report imports: the iCal exports carry none"))
    .with(Operation::ReadAvailability, Support::unsupported("no public API"))
    .with(Operation::ReadHousekeeping, Support::unsupported("no public API"))
    .with(Operation::SetStayStatus, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::AddNote, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::SetHousekeeping, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::LookupStay, Support::simulated("answered from the bookings synced to the store"))
    .with(Operation::Webhooks, Support::unsupported("FrontDesk Master documents no webhooks"))
    .with_uncertain("whether a private partner API exists: none is documented, none is coded against")
    .with_uncertain("the report export's column names: the `fdm` CSV preset knows common spellings; others map with the generic preset")
    .with_uncertain("the iCal export's event texts: unknown texts are treated as unavailable dates")
}
