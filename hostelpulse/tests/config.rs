//! The serde configuration and the registry it builds.
#![cfg(feature = "full")]

use hostelpulse::config::{Config, EnvSecrets, SecretProvider};
use hostelpulse::core::ErrorKind;
use hostelpulse::{Registry, core::Operation};
use secrecy::SecretString;

struct Vault;

impl SecretProvider for Vault {
    fn secret(&self, key: &str) -> Option<SecretString> {
        (key == "harbour/sirvoy").then(|| SecretString::from("0123456789abcdef0123456789abcdef"))
    }
}

const FULL: &str = r#"
[property]
name = "Harbour Hostel"
timezone = "Europe/Lisbon"
check_in = "14:00:00"
rooms_from = "pms"

[[account]]
connector = "beds24"
id = "pms"
property_id = 4711
credentials = { refresh_token = { env = "HP_TEST_BEDS24_REFRESH" } }
http = { timeout_secs = 10 }

[[account]]
connector = "ical"
id = "feeds"
feeds = [
  { id = "airbnb-d1a", url = { env = "HP_TEST_FEED_URL" }, room = "d1", bed = "d1-a", source = "airbnb" },
]

[[account]]
connector = "fdm"
id = "fdm"
feeds = [{ id = "room-7", url = { env = "HP_TEST_FEED_URL" }, room = "7" }]

[[account]]
connector = "sirvoy"
id = "sirvoy"
property_id = "99"
url_secret = { secret = "harbour/sirvoy" }
plan = "Pro"

[[account]]
connector = "email"
id = "inbox"
maildir = "/tmp/hostelpulse-config-test-maildir"
review_threshold = 0.8
"#;

#[test]
fn a_full_configuration_builds_every_account() {
    // These variables are unique to this test: no other test reads or writes them.
    unsafe {
        std::env::set_var("HP_TEST_BEDS24_REFRESH", "refresh-token-value");
        std::env::set_var("HP_TEST_FEED_URL", "https://www.airbnb.com/calendar/ical/1.ics?s=secret");
    }
    let cfg = Config::from_toml(FULL).unwrap();
    assert_eq!(cfg.property.check_in.to_string(), "14:00:00");
    let reg = Registry::build(&cfg, &Vault).unwrap();
    let ids: Vec<(&str, &str)> = reg.accounts().iter().map(|a| (a.id.as_str(), a.connector_name)).collect();
    assert_eq!(ids, [("pms", "beds24"), ("feeds", "ical"), ("fdm", "fdm"), ("sirvoy", "sirvoy"), ("inbox", "email")]);
    assert_eq!(reg.get("fdm").unwrap().connector.kind().as_str(), "fdm");
    assert!(reg.get("sirvoy").unwrap().webhook.is_some(), "Sirvoy is a webhook receiver");
    assert!(reg.get("pms").unwrap().webhook.is_none(), "no Beds24 webhook without its secret");
    assert!(reg.get("inbox").unwrap().connector.capabilities().supports(Operation::ReadBookings));
    // Secrets never show in Debug output.
    let dump = format!("{cfg:?} {reg:?}");
    assert!(!dump.contains("refresh-token-value") && !dump.contains("s=secret"), "{dump}");
    // The same file as JSON.
    let json = serde_json::json!({
        "property": { "name": "H", "timezone": "UTC" },
        "account": [{ "connector": "email", "id": "inbox", "maildir": "/tmp/x" }]
    });
    let cfg = Config::from_json(&json.to_string()).unwrap();
    assert_eq!(Registry::build(&cfg, &EnvSecrets).unwrap().accounts().len(), 1);
}

#[test]
fn mistakes_are_configuration_errors_that_say_what_to_fix() {
    let base = "[property]\nname = \"H\"\ntimezone = \"UTC\"\n";
    let cases = [
        (
            "[[account]]\nconnector = \"sirvoy\"\nid = \"s\"\nproperty_id = \"1\"\nurl_secret = { value = \"abc\" }\n",
            "insecure_inline",
        ),
        (
            "[[account]]\nconnector = \"sirvoy\"\nid = \"s\"\nproperty_id = \"1\"\nurl_secret = { env = \"HP_TEST_UNSET_VARIABLE\" }\n",
            "HP_TEST_UNSET_VARIABLE is not set",
        ),
        (
            "[[account]]\nconnector = \"email\"\nid = \"a\"\nmaildir = \"/x\"\n[[account]]\nconnector = \"email\"\nid = \"a\"\nmaildir = \"/y\"\n",
            "used twice",
        ),
    ];
    for (accounts, want) in cases {
        let err =
            Config::from_toml(&format!("{base}{accounts}")).and_then(|c| Registry::build(&c, &EnvSecrets)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration);
        assert!(err.to_string().contains(want), "{err}");
    }
    let err = Config::from_toml(&format!("{base}[[account]]\nconnector = \"opera\"\nid = \"x\"\n")).unwrap_err();
    assert!(err.to_string().contains("unknown variant `opera`"), "{err}");
    let inline_ok = format!(
        "{base}[[account]]\nconnector = \"sirvoy\"\nid = \"s\"\nproperty_id = \"1\"\nurl_secret = {{ value = \"abcdefghijklmnop\", insecure_inline = true }}\n"
    );
    assert!(Registry::build(&Config::from_toml(&inline_ok).unwrap(), &EnvSecrets).is_ok());
    // Empty or short webhook secrets are configuration errors, never an open door.
    for short in ["", "abc"] {
        let cfg = format!(
            "{base}[[account]]\nconnector = \"sirvoy\"\nid = \"s\"\nproperty_id = \"1\"\nurl_secret = {{ value = \"{short}\", insecure_inline = true }}\n"
        );
        let err = Registry::build(&Config::from_toml(&cfg).unwrap(), &EnvSecrets).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration);
        assert!(err.to_string().contains("at least 16"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effective_capabilities_come_from_check_against_the_account() {
    let emu = hostelpulse_sandbox::Beds24Emulator::builder().bookings(3).start().await.unwrap();
    let cfg = Config::from_toml(&format!(
        "[property]\nname = \"H\"\ntimezone = \"Europe/Lisbon\"\n[[account]]\nconnector = \"beds24\"\nid = \"pms\"\n\
         property_id = {}\ncredentials = {{ invite_code = {{ value = \"{}\", insecure_inline = true }} }}\nhttp = {{ base_url = \"{}\" }}\n",
        hostelpulse_sandbox::beds24::BEDS24_PROPERTY_ID,
        emu.issue_invite_code(),
        emu.base_url()
    ))
    .unwrap();
    let reg = Registry::build(&cfg, &EnvSecrets).unwrap();
    let effective = reg.effective().await;
    assert_eq!(effective.len(), 1);
    let caps = effective[0].1.as_ref().expect("check against the emulator");
    assert!(caps.supports(Operation::ReadBookings));
    assert!(Registry::declared().rows.iter().any(|r| r.connector.as_str() == "email"));
}
