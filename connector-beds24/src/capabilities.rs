//! What Beds24 can do, declared; and refined per account after `check()`.

use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::model::ConnectorKind;

/// The declared capabilities. `unit_status_write` reflects the opt-in configuration switch.
pub fn declared(unit_status_write: bool) -> Capabilities {
    Capabilities::new(
        ConnectorKind::BEDS24,
        "Beds24 API v2",
        SyncSemantics::new(
            Incremental::ModifiedSince { reliable: true },
            Visibility::Status,
            Visibility::SnapshotDiff,
            Granularity::Bed,
            WebhookAuth::StaticHeader,
            RateLimit::Credits { credits: 100, window_secs: 300, per: "account".into() },
            "minutes (webhooks queue for about a minute)",
        ),
    )
    .with(Operation::Check, Support::Native)
    .with(Operation::ReadRooms, Support::needs_scope("read:properties"))
    .with(Operation::ReadBookings, Support::needs_scope("read:bookings"))
    .with(Operation::ReadBookingsModified, Support::needs_scope("read:bookings"))
    .with(Operation::ReadBookingsById, Support::needs_scope("read:bookings"))
    .with(Operation::ReadGuestDetails, Support::needs_scope("read:bookings-personal"))
    .with(Operation::ReadAvailability, Support::needs_scope("read:inventory"))
    .with(Operation::ReadHousekeeping, Support::simulated("unit status texts mapped to conditions by a configurable table"))
    .with(Operation::SetStayStatus, Support::simulated("an info item with a configurable code (needs write:bookings)"))
    .with(Operation::AddNote, Support::simulated("appends to the booking's notes, or adds an info item (needs write:bookings)"))
    .with(
        Operation::SetHousekeeping,
        if unit_status_write {
            Support::simulated("writes the unit status text through POST /properties (unverified; needs write:properties)")
        } else {
            Support::unsupported("Beds24 documents no housekeeping write; the unverified unit-status write is off")
        },
    )
    .with(Operation::LookupStay, Support::needs_scope("read:bookings"))
    .with(Operation::Webhooks, Support::simulated("booking webhook v1/v2 and inventory webhook, configured per property in the control panel; changes made through the API fire none"))
    .with_uncertain("the info code the control panel writes on check-in/out: `stay_codes` (default CHECKIN/CHECKOUT)")
    .with_uncertain("credit header names: both the spec's X-FiveMinCreditLimit-* and the observed x-five-min-limit-* are read")
    .with_uncertain("the HTTP status on credit exhaustion: 429 and legacy codes 1016/1020 are both treated as throttling")
    .with_uncertain("api.beds24.com vs beds24.com as API host: `base_url`")
    .with_uncertain("writing unit status via POST /properties: `unit_status_write` (off)")
}

fn has(scopes: &[String], method: &str, what: &str) -> bool {
    scopes.iter().any(|s| s == &format!("{method}:{what}") || s == &format!("all:{what}"))
}

/// The capabilities effective for a token with `scopes` (`read_only` for long-life tokens).
pub fn effective(unit_status_write: bool, scopes: &[String], read_only: bool) -> Capabilities {
    let mut caps = declared(unit_status_write);
    let reads = [
        (Operation::ReadRooms, "properties"),
        (Operation::ReadBookings, "bookings"),
        (Operation::ReadBookingsModified, "bookings"),
        (Operation::ReadBookingsById, "bookings"),
        (Operation::ReadGuestDetails, "bookings-personal"),
        (Operation::ReadAvailability, "inventory"),
        (Operation::ReadHousekeeping, "properties"),
        (Operation::LookupStay, "bookings"),
    ];
    for (op, scope) in reads {
        if !has(scopes, "read", scope) {
            caps.refine(op, Support::unsupported(format!("the token lacks the read:{scope} scope")));
        } else if matches!(caps.support(op), Support::NeedsScope { .. }) {
            caps.refine(op, Support::Native);
        }
    }
    let writes = [
        (Operation::SetStayStatus, "bookings"),
        (Operation::AddNote, "bookings"),
        (Operation::SetHousekeeping, "properties"),
    ];
    for (op, scope) in writes {
        if read_only {
            caps.refine(op, Support::unsupported("long-life tokens are read-only"));
        } else if !has(scopes, "write", scope) && caps.supports(op) {
            caps.refine(op, Support::unsupported(format!("the token lacks the write:{scope} scope")));
        }
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_refine_the_declared_row() {
        let scopes: Vec<String> = ["read:bookings", "read:properties", "read:inventory"].map(String::from).to_vec();
        let caps = effective(false, &scopes, false);
        assert_eq!(caps.support(Operation::ReadBookings), Support::Native);
        assert!(!caps.supports(Operation::ReadGuestDetails), "no bookings-personal, no guest names");
        assert!(!caps.supports(Operation::SetStayStatus), "no write:bookings, no check-in");
        let all: Vec<String> = ["all:bookings", "all:bookings-personal", "read:properties"].map(String::from).to_vec();
        let caps = effective(false, &all, false);
        assert!(caps.supports(Operation::ReadGuestDetails) && caps.supports(Operation::AddNote));
        let caps = effective(true, &all, true);
        assert!(!caps.supports(Operation::AddNote) && !caps.supports(Operation::SetHousekeeping));
    }
}
