//! Two processes on one account: their requests together stay within the source's limit,
//! because each takes the account's lease in the store and the second waits for the first's
//! rate window to pass. Before leases, two `hostelpulse sync` runs started together got the
//! emulator's Cloudbeds credentials suspended every time.

use std::process::{Command, Stdio};
use std::time::Duration;

use hostelpulse_sandbox::CloudbedsEmulator;

const BIN: &str = env!("CARGO_BIN_EXE_hostelpulse");

#[tokio::test(flavor = "multi_thread")]
async fn two_syncs_started_together_never_exceed_the_per_property_rate_limit() {
    // No slack: a sixth request in any one-second window suspends the credentials.
    let emu = CloudbedsEmulator::builder().reservations(40).rate_limit(5).start().await.unwrap();
    let property = emu.property_id().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostel.toml");
    let db = dir.path().join("state.sqlite");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"H\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"cloudbeds\"\nid = \"cb\"\n\
             property_id = \"{property}\"\napi_key = {{ value = \"{key}\", insecure_inline = true }}\n\
             http = {{ base_url = \"{url}\", retry = false }}\n",
            key = emu.issue_api_key(&property),
            url = emu.base_url()
        ),
    )
    .unwrap();
    // The state exists before both start, as it does beside a running `hostelpulse run`.
    hostelpulse::store::SqliteStore::open(&db).await.unwrap();
    let spawn = || {
        Command::new(BIN)
            .args(["sync", "--config", config.to_str().unwrap(), "--db", db.to_str().unwrap(), "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = tokio::task::spawn_blocking(move || (a.wait_with_output().unwrap(), b.wait_with_output().unwrap()))
        .await
        .unwrap();
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(!emu.suspended(&property), "the two processes together exceeded 5 requests/s");
    let log = emu.request_log(&property);
    assert!(log.len() >= 4, "both syncs sent requests: {}", log.len());
    let worst = log
        .iter()
        .map(|t| log.iter().filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0);
    assert!(worst <= 5, "{worst} requests in one second");
}
