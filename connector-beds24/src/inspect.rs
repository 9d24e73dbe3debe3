//! Beds24 answers some failures with HTTP 200: a bad token on `/authentication/details`
//! (`validToken:false`) and, from the legacy API, numeric usage codes. Classified here from the
//! body's fields.

use hostelpulse_core::error::{Applied, Error, ErrorKind};
use hostelpulse_core::http::{HeaderMap, ResponseInspector};
use hostelpulse_core::model::ConnectorKind;
use serde::Deserialize;

#[derive(Debug, Default)]
pub(crate) struct Beds24Inspector;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    success: Option<bool>,
    valid_token: Option<bool>,
    code: Option<serde_json::Value>,
    error: Option<String>,
    message: Option<String>,
}

/// The class of a body's `code`: a legacy (V1) numeric code, still seen in V2 bodies, or the
/// HTTP-like code of the V2 error envelope.
fn kind_of_code(code: i64) -> Option<ErrorKind> {
    match code {
        1016 | 1020 | 429 => Some(ErrorKind::Throttled),
        1009 | 1010 | 1021 | 1022 | 403 => Some(ErrorKind::Configuration),
        401 => Some(ErrorKind::Reauthenticate),
        400..=499 => Some(ErrorKind::Permanent),
        500..=599 => Some(ErrorKind::Transient),
        _ => None,
    }
}

fn code_of(v: &serde_json::Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

impl ResponseInspector for Beds24Inspector {
    fn inspect(
        &self,
        connector: &ConnectorKind,
        _endpoint: &str,
        status: u16,
        _: &HeaderMap,
        body: &[u8],
    ) -> Option<Error> {
        // Data pages are large and start with `{"success":true`; only small bodies can be error
        // envelopes, and skipping the rest keeps decoding cost where it belongs.
        if body.len() > 4096 || !body.starts_with(b"{") {
            return None;
        }
        let env: Envelope = serde_json::from_slice(body).ok()?;
        if env.valid_token == Some(false) {
            return Some(Error::Auth {
                connector: connector.clone(),
                message: "Beds24 reports the token as invalid (validToken:false)".into(),
            });
        }
        let code = env.code.as_ref().and_then(code_of);
        let message = env.error.or(env.message).unwrap_or_else(|| "request failed".into());
        if status == 429 || code.and_then(kind_of_code) == Some(ErrorKind::Throttled) {
            return Some(Error::Vendor {
                connector: connector.clone(),
                kind: ErrorKind::Throttled,
                code: code.map(|c| c.to_string()),
                message: format!("credit limit reached: {message}"),
                applied: Applied::No,
            });
        }
        if status == 200 && env.success == Some(false) {
            // No code (or one we do not know) says nothing about the cause: treated like a 5xx,
            // retried a few times; a failure that persists reaches the owner with its message.
            let kind = code.and_then(kind_of_code).unwrap_or(ErrorKind::Transient);
            if kind == ErrorKind::Reauthenticate {
                return Some(Error::Auth { connector: connector.clone(), message });
            }
            return Some(Error::Vendor {
                connector: connector.clone(),
                kind,
                code: code.map(|c| c.to_string()),
                message,
                applied: Applied::No,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(status: u16, body: &str) -> Option<Error> {
        Beds24Inspector.inspect(&ConnectorKind::BEDS24, "x", status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn invalid_token_with_http_200_is_an_auth_failure() {
        let body = include_str!("../tests/data/auth-details-invalid-token.response.json");
        assert_eq!(inspect(200, body).unwrap().kind(), ErrorKind::Reauthenticate);
        let ok = include_str!("../tests/data/auth-details.response.json");
        assert!(inspect(200, ok).is_none());
    }

    #[test]
    fn usage_codes_and_429_are_throttling() {
        assert_eq!(
            inspect(429, r#"{"code":1016,"message":"usage limit exceeded"}"#).unwrap().kind(),
            ErrorKind::Throttled
        );
        assert_eq!(
            inspect(200, r#"{"success":false,"code":"1020","error":"limit"}"#).unwrap().kind(),
            ErrorKind::Throttled
        );
        assert_eq!(
            inspect(200, r#"{"success":false,"code":1022,"error":"not whitelisted"}"#).unwrap().kind(),
            ErrorKind::Configuration
        );
        // Without a code the cause is unknown: retried like a 5xx.
        assert_eq!(
            inspect(200, r#"{"success":false,"error":"Something went wrong, try again"}"#).unwrap().kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            inspect(200, r#"{"success":false,"code":503,"error":"busy"}"#).unwrap().kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            inspect(200, r#"{"success":false,"code":400,"error":"bad arrival"}"#).unwrap().kind(),
            ErrorKind::Permanent
        );
        assert_eq!(
            inspect(200, r#"{"success":false,"code":401,"error":"expired"}"#).unwrap().kind(),
            ErrorKind::Reauthenticate
        );
        // 400 envelopes stay with the client's status classification.
        assert!(inspect(400, include_str!("../tests/data/error-400.response.json")).is_none());
    }
}
