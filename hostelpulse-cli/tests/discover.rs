//! `hostelpulse accounts discover`: a Cloudbeds group key that sees three properties, one of them
//! configured, prints the other two as configuration that loads.

use std::process::Command;

use hostelpulse::config::Fleet;
use hostelpulse_sandbox::{Beds24Emulator, CloudbedsEmulator};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hostelpulse");

#[tokio::test(flavor = "multi_thread")]
async fn a_group_key_expands_into_one_account_per_property() {
    let cb =
        CloudbedsEmulator::builder().properties(["300001", "300002", "300003"]).reservations(3).start().await.unwrap();
    let key = cb.issue_group_key(&["300001", "300002", "300003"]);
    let b24 = Beds24Emulator::builder().bookings(3).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostel.toml");
    std::fs::write(
        &config,
        format!(
            "[property]\nname = \"Group Hostel\"\ntimezone = \"Europe/Lisbon\"\n\n\
             [[account]]\nconnector = \"cloudbeds\"\nid = \"group\"\nproperty_id = \"300001\"\n\
             api_key = {{ env = \"GROUP_CLOUDBEDS_KEY\" }}\nhttp = {{ base_url = \"{}\" }}\n\n\
             [[account]]\nconnector = \"beds24\"\nid = \"pms\"\nproperty_id = {}\n\
             credentials = {{ refresh_token = {{ value = \"{}\", insecure_inline = true }} }}\nhttp = {{ base_url = \"{}\" }}\n",
            cb.base_url(),
            b24.property_id(),
            b24.issue_refresh_token(),
            b24.base_url()
        ),
    )
    .unwrap();
    let run = |json: bool| {
        let mut c = Command::new(BIN);
        c.args(["accounts", "discover", "--config", config.to_str().unwrap(), "--db"])
            .arg(dir.path().join("state.sqlite"))
            .env("GROUP_CLOUDBEDS_KEY", &key);
        if json {
            c.arg("--json");
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let found: Value = serde_json::from_str(&run(true)).unwrap();
    let rows: Vec<(String, String, bool)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["via"].as_str().unwrap().into(),
                f["property_id"].as_str().unwrap().into(),
                f["configured"].as_bool().unwrap(),
            )
        })
        .collect();
    let pid = b24.property_id().to_string();
    assert_eq!(
        rows,
        [
            ("group".to_owned(), "300001".to_owned(), true),
            ("group".to_owned(), "300002".to_owned(), false),
            ("group".to_owned(), "300003".to_owned(), false),
            ("pms".to_owned(), pid, true),
        ]
    );
    // The configuration to add loads, names the same secret (never its value) and the new ids.
    let text = run(false);
    assert!(!text.contains(&key), "the key itself was printed");
    let fleet = Fleet::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let added: Vec<(String, String)> = fleet
        .properties
        .iter()
        .flat_map(|p| p.accounts.iter().map(|a| (a.id().to_owned(), format!("{:?}", a.scope().account))))
        .collect();
    assert_eq!(added.len(), 2, "{text}");
    assert!(added[0].0 == "group-300002" && added[1].0 == "group-300003", "{added:?}");
    assert!(text.contains("GROUP_CLOUDBEDS_KEY"), "{text}");
}
