//! The IMAP source against a real Dovecot on loopback (Debian's `dovecot-imapd`, installed by
//! `.ci/run`). Each test starts its own server in a temporary directory. Without Dovecot the
//! tests say so and pass, unless `HOSTELPULSE_REQUIRE_DOVECOT=1` (set by `.ci/run`) makes that a
//! failure.
#![cfg(feature = "imap")]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hostelpulse_connector_email::{EmailConfig, EmailConnector, ImapConfig, ImapSource, MessageSource};
use hostelpulse_core::testkit::{self, KitOptions};
use hostelpulse_core::{BookingQuery, Connector, ErrorKind};
use hostelpulse_sandbox::mail::{BookingMailer, MaildirWriter, sample};
use secrecy::SecretString;

const DOVECOT: &str = "/usr/sbin/dovecot";

struct Dovecot {
    child: Child,
    port: u16,
    /// The IMAPS port and the server certificate (DER), when started with TLS.
    tls: Option<(u16, Vec<u8>)>,
    dir: tempfile::TempDir,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Dovecot {
    /// The user's Maildir (INBOX).
    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail/test")
    }

    fn source(&self, password: &str) -> ImapConfig {
        ImapConfig::new("127.0.0.1", "test", SecretString::from(password)).plain(self.port)
    }
}

fn open_up(p: &Path) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
}

/// The uid Dovecot runs the mail process as: ours, unless we are root (Dovecot refuses uid 0).
fn mail_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid =
        status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().next()?.parse().ok());
    match uid {
        Some(0) | None => 65534,
        Some(u) => u,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start() -> Option<Dovecot> {
    start_with(false)
}

/// With `tls`, also an IMAPS listener with a fresh self-signed certificate for `localhost`.
fn start_with(tls: bool) -> Option<Dovecot> {
    if !Path::new(DOVECOT).exists() {
        // In CI a missing server is a failure, never a silent pass.
        assert!(
            std::env::var_os("HOSTELPULSE_REQUIRE_DOVECOT").is_none() && std::env::var_os("CI").is_none(),
            "CI or HOSTELPULSE_REQUIRE_DOVECOT is set but {DOVECOT} is missing: apt-get install dovecot-imapd"
        );
        eprintln!("skipped: {DOVECOT} not installed (apt-get install dovecot-imapd)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["run", "state", "home", "mail"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let mail = MaildirWriter::create(d.join("mail/test")).unwrap();
    for p in [d.join("home"), d.join("mail"), mail.root().to_path_buf()] {
        open_up(&p);
    }
    for sub in ["new", "cur", "tmp"] {
        open_up(&mail.root().join(sub));
    }
    let port = free_port();
    let tls = tls.then(|| {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(d.join("cert.pem"), cert.cert.pem()).unwrap();
        std::fs::write(d.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
        (free_port(), cert.cert.der().to_vec())
    });
    let (ssl, imaps_port) = match &tls {
        Some((imaps, _)) => (
            format!(
                "ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\nssl_min_protocol = TLSv1.2\n",
                d = d.display()
            ),
            *imaps,
        ),
        None => ("ssl = no\n".to_owned(), 0),
    };
    let uid = mail_uid();
    std::fs::write(d.join("passwd"), format!("test:{{PLAIN}}secret:{uid}:{uid}::{}::\n", d.join("home").display()))
        .unwrap();
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\n\
         {ssl}disable_plaintext_auth = no\nauth_mechanisms = plain\nmail_location = maildir:{d}/mail/%u\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = username_format=%u {d}/passwd\n}}\n\
         service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n  }}\n}}\n\
         service anvil {{\n  chroot =\n}}\n",
        d = d.display()
    );
    std::fs::write(d.join("dovecot.conf"), conf).unwrap();
    let child = Command::new(DOVECOT)
        .args(["-F", "-c"])
        .arg(d.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = d.join("dovecot.log");
    let server = Dovecot { child, port, tls, dir };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("dovecot did not listen: {}", std::fs::read_to_string(log).unwrap_or_default());
}

fn config() -> EmailConfig {
    EmailConfig::builder("inbox-imap").build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kit_passes_with_the_imap_source() {
    let Some(server) = start() else { return };
    let mailer = BookingMailer::create(server.maildir()).unwrap();
    let c = EmailConnector::new(config(), Arc::new(ImapSource::new(server.source("secret"))));
    testkit::run_all(&c, &mailer, &KitOptions::default()).await;
    // Each "process" logs in again; what was read but not committed is still unseen on the server.
    let make = || -> Arc<dyn hostelpulse_core::Connector> {
        Arc::new(EmailConnector::new(config(), Arc::new(ImapSource::new(server.source("secret")))))
    };
    let store = Arc::new(hostelpulse_core::sync::MemoryStore::new());
    testkit::run_durability(&make, &mailer, store, &KitOptions::default()).await;
}

#[tokio::test]
async fn processed_mail_is_flagged_seen_on_the_server_and_kept() {
    let Some(server) = start() else { return };
    let inbox = MaildirWriter::create(server.maildir()).unwrap();
    inbox.deliver(sample("expedia-new-booking-forwarded.eml").unwrap()).unwrap();
    inbox.deliver(sample("newsletter-not-a-booking.eml").unwrap()).unwrap();
    let source = Arc::new(ImapSource::new(server.source("secret")));
    let c = EmailConnector::new(config(), source.clone());
    let batch = c.bookings(&BookingQuery::default()).await.unwrap();
    assert_eq!(batch.bookings.len(), 1);
    assert_eq!(batch.bookings[0].channel_ref.as_deref(), Some("2511634261"));
    assert!(batch.failures.iter().any(|f| f.reason.starts_with("not a booking")));
    assert_eq!(source.fetch().await.unwrap().len(), 2, "nothing is marked before the run that read it committed");
    c.acknowledge().await.unwrap();
    assert!(source.fetch().await.unwrap().is_empty(), "both are \\Seen now");
    // Still on the server: Dovecot moved them to cur/ with the S flag.
    let cur: Vec<String> = std::fs::read_dir(server.maildir().join("cur"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cur.len(), 2, "{cur:?}");
    assert!(cur.iter().all(|n| n.contains(":2,") && n.rsplit(":2,").next().unwrap().contains('S')), "{cur:?}");
}

#[tokio::test]
async fn deleting_is_opt_in_and_expunges() {
    let Some(server) = start() else { return };
    let inbox = MaildirWriter::create(server.maildir()).unwrap();
    inbox.deliver(sample("hostelworld-confirmed.eml").unwrap()).unwrap();
    let c = EmailConnector::new(config(), Arc::new(ImapSource::new(server.source("secret").delete_processed(true))));
    assert_eq!(c.poll().await.unwrap().len(), 1);
    c.acknowledge().await.unwrap();
    let left = std::fs::read_dir(server.maildir().join("cur")).unwrap().count()
        + std::fs::read_dir(server.maildir().join("new")).unwrap().count();
    assert_eq!(left, 0, "expunged");
    assert_eq!(c.records().await.len(), 1, "what it said is kept");
}

#[tokio::test]
async fn a_wrong_password_is_a_configuration_error_without_the_password() {
    let Some(server) = start() else { return };
    let c = EmailConnector::new(config(), Arc::new(ImapSource::new(server.source("hunter2-wrong"))));
    let err = c.bookings(&BookingQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert!(!err.to_string().contains("hunter2") && !format!("{err:?}").contains("hunter2"));
    assert!(!format!("{:?}", server.source("hunter2-wrong")).contains("hunter2"), "Debug redacts the password");
}

#[tokio::test]
async fn tls_with_a_trusted_certificate_and_refused_without_it() {
    let Some(server) = start_with(true) else { return };
    let (imaps, der) = server.tls.clone().unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", imaps)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let inbox = MaildirWriter::create(server.maildir()).unwrap();
    inbox.deliver(sample("agoda-voucher-confirmed.eml").unwrap()).unwrap();
    let tls = || ImapConfig::new("localhost", "test", SecretString::from("secret")).port(imaps);
    // The server's certificate is self-signed: the platform's roots do not know it.
    let untrusted = EmailConnector::new(config(), Arc::new(ImapSource::new(tls())));
    assert!(untrusted.poll().await.is_err(), "a certificate nobody vouches for is refused");
    let trusted = EmailConnector::new(config(), Arc::new(ImapSource::new(tls().trust_root_der(der))));
    let done = trusted.poll().await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(trusted.records().await.keys().collect::<Vec<_>>(), ["agoda:987654321"]);
}
