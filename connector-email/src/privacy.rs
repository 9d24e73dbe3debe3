//! Privacy: only extracted fields are kept (never the raw message), and exports can be redacted.

pub use hostelpulse_core::privacy::{mask_email, mask_phone};

use crate::extract::Extracted;

/// A copy fit for export: the guest's name to initials, e-mail and phone masked. Dates, room,
/// party, price and the channel reference stay (they identify the stay, not the person).
///
/// ```
/// # use hostelpulse_connector_email::{Extracted, MailKind, redact};
/// let mut e = Extracted::new(MailKind::New);
/// e.guest_name = Some("Alex Morris".into());
/// e.guest_email = Some("alex.morris@example.com".into());
/// e.guest_phone = Some("+353 15133590".into());
/// let r = redact(&e);
/// assert_eq!(r.guest_name.as_deref(), Some("A. M."));
/// assert_eq!(r.guest_email.as_deref(), Some("a***@example.com"));
/// assert_eq!(r.guest_phone.as_deref(), Some("•••••••••90"));
/// ```
pub fn redact(e: &Extracted) -> Extracted {
    let mut r = e.clone();
    r.guest_name = e.guest_name.as_deref().map(initials);
    r.guest_email = e.guest_email.as_deref().map(mask_email);
    r.guest_phone = e.guest_phone.as_deref().map(mask_phone);
    // Free-text notes may name people or carry contact details.
    r.notes = e.notes.iter().map(|_| "[redacted]".to_owned()).collect();
    r
}

/// "Alex Morris" → "A. M."; "TRẦN/LINH" → "T. L.".
pub fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .filter_map(|w| w.chars().find(|c| c.is_alphabetic()))
        .flat_map(char::to_uppercase)
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}
