#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod config;
mod connector;
pub mod convert;
mod error;
mod extract;
mod find;
mod forward;
pub mod html;
#[cfg(feature = "imap")]
mod imap;
mod lang;
mod mime;
mod parse;
mod privacy;
mod source;
mod templates;

pub use capabilities::declared as declared_capabilities;
pub use config::{EmailConfig, EmailConfigBuilder};
pub use connector::{EmailConnector, Processed, Record};
pub use error::{MessageError, SourceError};
pub use extract::{Extracted, Extraction, MailKind, Outcome, ParsedMail};
#[cfg(feature = "imap")]
pub use imap::{ImapConfig, ImapSecurity, ImapSource};
pub use mime::{BodySource, Envelope};
pub use parse::{ParseOptions, parse_message};
pub use privacy::{initials, mask_email, mask_phone, redact};
pub use source::{Maildir, Mapper, MessageSource, RawMessage, RawQueue};
pub use templates::names as template_names;

/// Texts for tests that compare a hand reading with the pattern it replaced.
#[cfg(test)]
mod test_texts {
    /// The body text of every sample mail, as the templates see it, then `extra`.
    pub(crate) fn samples_and(extra: &[&str]) -> Vec<String> {
        let mut texts: Vec<String> = hostelpulse_sandbox::mail::SAMPLES
            .iter()
            .filter_map(|(_, b)| crate::mime::read(b, 1 << 24).ok())
            .map(|m| m.text)
            .collect();
        texts.extend(extra.iter().map(|t| (*t).to_owned()));
        texts
    }
}
