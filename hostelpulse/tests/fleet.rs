//! Fleet configurations: several properties in one file or a directory, with their schedules and
//! alert thresholds.

use hostelpulse::config::{Config, Fleet};

/// The fleet example of the workspace README, parsed as a host would write it.
#[test]
fn the_readme_fleet_parses_with_its_schedule_and_alert_overrides() {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```toml")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("[[property]]"))
        .expect("a fleet example in the README");
    let fleet = Fleet::from_toml(block).unwrap();
    assert_eq!(fleet.properties.len(), 2);
    let harbour = &fleet.properties[0];
    assert_eq!(harbour.schedule.full_at, chrono::NaiveTime::from_hms_opt(3, 30, 0));
    let t = harbour.alerts.for_account("harbour-pms");
    assert_eq!((t.consecutive_failures, t.sync_lag_secs), (Some(3), Some(1800)));
    assert_eq!(fleet.property_of("old-town-pms").map(|p| p.property.name.as_str()), Some("Old Town Hostel"));
}

const ONE: &str = "[property]\nname = \"A\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"email\"\nid = \"inbox\"\nmaildir = \"/m\"\n";

#[test]
fn a_directory_of_property_files_is_a_fleet_and_ids_must_be_unique_across_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), ONE).unwrap();
    std::fs::write(dir.path().join("b.toml"), ONE.replace("\"A\"", "\"B\"").replace("inbox", "inbox-b")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a property").unwrap();
    let fleet = Fleet::load(dir.path()).unwrap();
    assert_eq!(fleet.properties.iter().map(|p| p.property.name.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    std::fs::write(dir.path().join("c.toml"), ONE.replace("\"A\"", "\"C\"")).unwrap();
    let err = Fleet::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("`inbox`") && err.contains("unique"), "{err}");
}

#[test]
fn a_single_property_file_is_a_fleet_of_one_and_overrides_must_name_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostel.toml");
    std::fs::write(&path, ONE).unwrap();
    assert_eq!(Fleet::load(&path).unwrap().properties.len(), 1);
    let err = Config::from_toml(&format!("{ONE}\n[alerts.account.imbox]\nsync_lag_secs = 60\n"))
        .and_then(|c| c.validate().map(|_| c))
        .unwrap_err()
        .to_string();
    assert!(err.contains("account.imbox") && err.contains("names no account"), "{err}");
    let err = Config::from_toml(&format!("{ONE}\n[schedule]\npoll_every = 60\n")).unwrap_err().to_string();
    assert!(err.contains("unknown field `poll_every`") && err.contains("`poll_every_secs`"), "{err}");
}

#[test]
#[cfg(feature = "imap")]
fn an_email_account_reads_an_imap_mailbox_over_tls_or_a_loopback_one_in_clear() {
    let base = "[property]\nname = \"A\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"email\"\nid = \"inbox\"\n";
    let imap = |extra: &str| {
        format!(
            "{base}imap = {{ host = \"{extra}\", user = \"bookings@example.com\", password = {{ value = \"app-password-1234\", insecure_inline = true }}, folder = \"Bookings\" }}\n"
        )
    };
    let cfg = Config::from_toml(&imap("imap.example.com")).unwrap();
    cfg.validate().unwrap();
    let registry = hostelpulse::Registry::build(&cfg, &hostelpulse::config::EnvSecrets).unwrap();
    assert_eq!(registry.get("inbox").unwrap().connector.kind(), hostelpulse::ConnectorKind::EMAIL);
    // The password's fingerprint, never the password, identifies the credentials.
    let fp = registry.get("inbox").unwrap().credentials.clone().unwrap();
    assert_eq!(fp.len(), 16);
    assert!(!format!("{cfg:?}").contains("app-password"));

    let clear = imap("imap.example.com").replace("folder =", "tls = false, folder =");
    let err = Config::from_toml(&clear).and_then(|c| c.validate()).unwrap_err().to_string();
    assert!(err.contains("in clear") && err.contains("loopback"), "{err}");
    let local = imap("127.0.0.1").replace("folder =", "tls = false, port = 10143, folder =");
    Config::from_toml(&local).unwrap().validate().unwrap();

    let both = imap("imap.example.com").replace("imap = ", "maildir = \"/m\"\nimap = ");
    let err = Config::from_toml(&both).and_then(|c| c.validate()).unwrap_err().to_string();
    assert!(err.contains("exactly one of `maildir` and `imap`"), "{err}");
}

/// Housekeeping follows polls where the source reads it without credits; the schedule turns it
/// off (or on) per property or per account.
#[test]
#[cfg(all(feature = "runtime", feature = "cloudbeds"))]
fn the_housekeeping_refresh_follows_the_schedule_settings() {
    let base = "[property]\nname = \"A\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"cloudbeds\"\nid = \"cb\"\nproperty_id = \"1\"\napi_key = { value = \"cbat_0123456789abcdef\", insecure_inline = true }\n";
    let schedule = |extra: &str| {
        let cfg = Config::from_toml(&format!("{base}{extra}")).unwrap();
        cfg.validate().unwrap();
        let registry = hostelpulse::Registry::build(&cfg, &hostelpulse::config::EnvSecrets).unwrap();
        hostelpulse::fleet::managed(&cfg, registry.get("cb").unwrap()).schedule
    };
    assert!(schedule("").housekeeping, "Cloudbeds reads it within its requests/s limit");
    assert!(!schedule("\n[schedule]\nhousekeeping = false\n").housekeeping);
    let per_account = "\n[schedule]\nhousekeeping = false\n\n[schedule.account.cb]\nhousekeeping = true\n";
    assert!(schedule(per_account).housekeeping, "the account's setting wins");
}

/// A `public_url` makes the account's webhook URL, carrying the URL secret, which its Debug
/// never shows; a URL that cannot be a base is refused.
#[test]
#[cfg(feature = "cloudbeds")]
fn a_public_url_makes_the_webhook_endpoint() {
    use hostelpulse::secrecy::ExposeSecret;
    let account = |public: &str| {
        format!(
            "[property]\nname = \"A\"\ntimezone = \"Europe/Lisbon\"\n\n[[account]]\nconnector = \"cloudbeds\"\nid = \"cb\"\nproperty_id = \"1\"\napi_key = {{ value = \"cbat_0123456789abcdef\", insecure_inline = true }}\nwebhook = {{ url_secret = {{ value = \"0123456789abcdef0123456789abcdef\", insecure_inline = true }}, previous_url_secret = {{ value = \"fedcba9876543210fedcba9876543210\", insecure_inline = true }}, public_url = \"{public}\" }}\n"
        )
    };
    let cfg = Config::from_toml(&account("https://hooks.example.com/")).unwrap();
    let registry = hostelpulse::Registry::build(&cfg, &hostelpulse::config::EnvSecrets).unwrap();
    let endpoint = registry.get("cb").unwrap().webhook_endpoint.clone().unwrap();
    assert_eq!(endpoint.prefix, "https://hooks.example.com/hooks/cb/");
    assert_eq!(endpoint.url.expose_secret(), "https://hooks.example.com/hooks/cb/0123456789abcdef0123456789abcdef");
    assert!(!format!("{endpoint:?}").contains("0123456789abcdef0123"));
    for bad in ["hooks.example.com", "https://", "https://h.example/?a=1"] {
        let cfg = Config::from_toml(&account(bad)).unwrap();
        let Err(err) = hostelpulse::Registry::build(&cfg, &hostelpulse::config::EnvSecrets) else {
            panic!("{bad} accepted")
        };
        let err = err.to_string();
        assert!(err.contains("public_url"), "{bad}: {err}");
    }
}
