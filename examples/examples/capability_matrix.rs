//! Which connector can do what: the declared matrix of everything compiled in, and the
//! effective row of one connection after `check()` (its plan and token scopes).
//!
//! `cargo run -p hostelpulse-examples --example capability_matrix`

use hostelpulse::beds24::{Beds24Config, Beds24Connector, Credentials};
use hostelpulse::{CapabilityMatrix, Connector, Operation};
use hostelpulse_sandbox::Beds24Emulator;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Declared: what each connector can do at best.
    let declared = hostelpulse::capability_matrix();
    for row in &declared.rows {
        let writes = [Operation::SetStayStatus, Operation::AddNote, Operation::SetHousekeeping]
            .iter()
            .filter(|op| row.supports(**op))
            .count();
        println!("{:45} reads bookings: {:5}  writes: {writes}/3", row.name, row.supports(Operation::ReadBookings));
    }

    // Effective: what this owner's connection can do. The sandbox stands in for Beds24 here; a
    // host passes the real base URL (the default) and the owner's invite code.
    let emu = Beds24Emulator::builder().bookings(5).start().await?;
    emu.set_scopes(&["read:bookings", "read:properties"]);
    let creds = Credentials::InviteCode(SecretString::from(emu.issue_invite_code()));
    let beds24 = Beds24Connector::new(
        Beds24Config::builder(hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID, creds)
            .base_url(emu.base_url())
            .build()?,
    )?;
    let health = beds24.check().await?;
    println!("\nThis Beds24 token (scopes {}):\n", health.scopes.join(", "));
    println!("{}", CapabilityMatrix::new([health.effective]).operations_markdown());
    Ok(())
}
