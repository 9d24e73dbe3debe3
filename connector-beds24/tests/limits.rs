//! The contract's length limits, in the connector and in the emulator: Beds24 keeps at most 2,000
//! characters of `notes`.

mod common;

use common::*;
use hostelpulse_connector_beds24::Credentials;
use hostelpulse_core::http::Request;
use hostelpulse_core::{Connector, ErrorKind, SourceId};
use secrecy::SecretString;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appending_notes_past_the_limit_is_refused_and_writes_nothing() {
    let emu = emulator(5).await;
    let c = connector_at(emu.base_url(), refresh(&emu));
    let id = emu.booking_ids()[0];
    let booking = SourceId::from(id);
    let line = "x".repeat(499);
    for _ in 0..4 {
        c.add_note(&booking, &line).await.unwrap();
    }
    let before = emu.booking(id).unwrap()["notes"].as_str().unwrap().to_owned();
    assert_eq!(before.chars().count(), 4 * 499 + 3, "four notes, one per line");
    let err = c.add_note(&booking, "one more").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("over Beds24's 2000") && err.to_string().contains("info items"), "{err}");
    assert_eq!(emu.booking(id).unwrap()["notes"].as_str().unwrap(), before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_refuses_text_over_the_specs_limits() {
    let emu = emulator(5).await;
    let refresh = SecretString::from(emu.issue_refresh_token());
    let c = connector_at(emu.base_url(), Credentials::RefreshToken(refresh.clone()));
    // An access token, minted as Beds24 mints them (long-life tokens are read-only).
    let minted: serde_json::Value = c
        .http()
        .send(Request::get("authentication/token").secret_header("refreshToken", &refresh).unwrap())
        .await
        .unwrap()
        .json()
        .unwrap();
    let token = SecretString::from(minted["token"].as_str().unwrap().to_owned());
    let id = emu.booking_ids()[0];
    for (field, len) in [("notes", 2001), ("comments", 1001), ("firstName", 101)] {
        let req = Request::post("bookings")
            .secret_header("token", &token)
            .unwrap()
            .json(&json!([{ "id": id, field: "y".repeat(len) }]))
            .unwrap();
        let answer: serde_json::Value = c.http().send(req).await.unwrap().json().unwrap();
        assert_eq!(answer[0]["success"], false, "{field}: {answer}");
        assert_eq!(answer[0]["errors"][0]["field"], field);
    }
    assert_ne!(emu.booking(id).unwrap()["notes"].as_str().map(str::len), Some(2001));
}
