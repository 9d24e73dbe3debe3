//! Cloudbeds answers many failures with HTTP 200 and `{"success":false,"message":…}`. The body
//! carries no code, so every such answer is one class: the owner must act (a deactivated user, an
//! inactive property, a property outside the grant, a missing property id) — configuration.

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

impl ResponseInspector for CloudbedsInspector {
    fn inspect(&self, connector: &ConnectorKind, _: &str, status: u16, _: &HeaderMap, body: &[u8]) -> Option<Error> {
        // A failure envelope is tiny; data pages are large and never one.
        if status != 200 || body.len() > 4096 {
            return None;
        }
        let env: Envelope = serde_json::from_slice(body).ok()?;
        (env.success == Some(false)).then(|| Error::Vendor {
            connector: connector.clone(),
            kind: ErrorKind::Configuration,
            code: None,
            message: env.message.unwrap_or_else(|| "Cloudbeds reported a failure".into()),
            applied: Applied::No,
        })
    }
}
