//! Cloudbeds answers many failures with HTTP 200 and `{"success":false,"message":…}`. The body
//! carries no code, only English text, so the vendor's documented owner-must-act answers are
//! recognised from stable fragments of their text (one table, below): a deactivated authorizing
//! user (reconnect), an inactive property, a property outside the grant or a missing property id
//! (configuration). Any other `success:false` says nothing about its cause and is treated like a
//! 5xx: retried, and shown to the owner if it persists.

use hostelpulse_core::error::{Applied, Error, ErrorKind};
use hostelpulse_core::http::{HeaderMap, ResponseInspector};
use hostelpulse_core::model::ConnectorKind;
use serde::Deserialize;

#[derive(Debug, Default)]
pub(crate) struct CloudbedsInspector;

#[derive(Deserialize)]
struct Envelope {
    success: Option<bool>,
    message: Option<String>,
}

/// Documented `success:false` answers that need the owner (fragments, lower case).
const OWNER_MUST_ACT: &[(&str, ErrorKind)] = &[
    ("not active anymore", ErrorKind::Reauthenticate),
    ("invalid status", ErrorKind::Configuration),
    ("match the access_token", ErrorKind::Configuration),
    ("specify \"propertyid\"", ErrorKind::Configuration),
];

fn kind_of(message: &str) -> ErrorKind {
    let m = message.to_lowercase();
    OWNER_MUST_ACT.iter().find(|(fragment, _)| m.contains(fragment)).map_or(ErrorKind::Transient, |(_, k)| *k)
}

impl ResponseInspector for CloudbedsInspector {
    fn inspect(&self, connector: &ConnectorKind, _: &str, status: u16, _: &HeaderMap, body: &[u8]) -> Option<Error> {
        // A failure envelope is tiny; data pages are large and never one.
        if status != 200 || body.len() > 4096 {
            return None;
        }
        let env: Envelope = serde_json::from_slice(body).ok()?;
        if env.success != Some(false) {
            return None;
        }
        let message = env.message.unwrap_or_else(|| "Cloudbeds reported a failure".into());
        Some(match kind_of(&message) {
            ErrorKind::Reauthenticate => {
                Error::Auth { connector: connector.clone(), message: format!("{message}: authorize the app again") }
            }
            // An unknown failure may have been applied: a write is not repeated blindly.
            kind => Error::Vendor { connector: connector.clone(), kind, code: None, message, applied: Applied::Maybe },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(body: &str) -> Option<ErrorKind> {
        CloudbedsInspector
            .inspect(&ConnectorKind::CLOUDBEDS, "x", 200, &HeaderMap::new(), body.as_bytes())
            .map(|e| e.kind())
    }

    #[test]
    fn documented_answers_need_the_owner_and_the_rest_are_retried() {
        let cases = [
            ("User who approved this connection is not active anymore", ErrorKind::Reauthenticate),
            (
                "Your request could not be fully completed. The property(ies) you are accessing have an invalid status.",
                ErrorKind::Configuration,
            ),
            ("None of the included property id's match the access_token user's property id", ErrorKind::Configuration),
            ("Please specify \\\"propertyID\\\" parameter for this call", ErrorKind::Configuration),
            ("Something went wrong", ErrorKind::Transient),
        ];
        for (message, expected) in cases {
            let body = format!(r#"{{"success":false,"message":"{message}"}}"#);
            assert_eq!(kind(&body), Some(expected), "{message}");
        }
        assert_eq!(kind(r#"{"success":false}"#), Some(ErrorKind::Transient));
        assert_eq!(kind(r#"{"success":true,"data":[]}"#), None);
    }
}
