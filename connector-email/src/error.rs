//! Errors of this connector, each with the class that decides what the caller does.

use hostelpulse_core::error::ErrorKind;
use hostelpulse_core::model::ConnectorKind;

/// Why a message could not be read at all. (A message that reads but is not a booking is an
/// [`Outcome::NotABooking`](crate::Outcome::NotABooking), not an error.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Larger than the configured limit; nothing was parsed.
    #[error("message of {size} bytes is over the {limit}-byte limit: raise `max_message_bytes` or remove attachments")]
    TooLarge {
        /// The message's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a readable RFC 822 message.
    #[error("malformed message: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
}

impl MessageError {
    /// Neither case improves on retry: the message itself must change.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::UpstreamData
    }
}

/// Why a message source (a Maildir, an IMAP mailbox) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The mailbox is not there or not a mailbox.
    #[error("mailbox {path}: {reason}")]
    NotAMailbox {
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or moving a message failed.
    #[error("mailbox I/O on {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// A missing mailbox is configuration; I/O may pass.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotAMailbox { .. } => ErrorKind::Configuration,
            Self::Io { .. } => ErrorKind::Transient,
        }
    }
}

impl From<SourceError> for hostelpulse_core::Error {
    fn from(e: SourceError) -> Self {
        match e.kind() {
            ErrorKind::Configuration => hostelpulse_core::Error::config(e.to_string()),
            _ => hostelpulse_core::Error::Transport {
                connector: ConnectorKind::EMAIL,
                endpoint: "mailbox".into(),
                applied: hostelpulse_core::error::Applied::No,
                source: Box::new(e),
            },
        }
    }
}
