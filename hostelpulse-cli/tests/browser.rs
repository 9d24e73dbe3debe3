//! The owner console in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/test` in CI) driven over WebDriver against
//! `hostelpulse demo --serve`. It opens the dashboard and queues a sync with the keyboard,
//! maps a room on the mapping page, and sees the board change; each page is saved as a
//! screenshot at a phone's and a desktop's width in `target/tmp/screenshots/`.
//!
//! Without Chromium the test is skipped with a message, unless `CI` or
//! `HOSTELPULSE_REQUIRE_CHROMIUM` is set: then it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use support::Proc;

mod support;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// (name, width, height)
const SIZES: [(&str, u32, u32); 2] = [("phone", 390, 844), ("desktop", 1280, 900)];

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn available() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let required = std::env::var_os("CI").is_some() || std::env::var_os("HOSTELPULSE_REQUIRE_CHROMIUM").is_some();
    assert!(!required, "Chromium and ChromeDriver are required here: apt-get install chromium chromium-driver");
    eprintln!(
        "SKIPPED: the browser tests need Debian's chromium and chromium-driver \
         (`scripts/test --install-deps` as root installs them)"
    );
    false
}

fn start_driver(profile: &Path) -> (Driver, String) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", profile.join("chromedriver.log").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Driver(child), format!("http://127.0.0.1:{port}"))
}

async fn browser(driver: &str, profile: &Path) -> Client {
    // Headless, and quiet: without the background-networking flags Chromium keeps calling home,
    // which a closed network refuses.
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        &format!("--user-data-dir={}", profile.join("chromium").display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
    ClientBuilder::rustls().expect("TLS roots").capabilities(caps).connect(driver).await.expect("a browser session")
}

async fn screenshot(client: &Client, dir: &Path, page: &str) {
    for (size, w, h) in SIZES {
        client.set_window_size(w, h).await.unwrap();
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG of {page} at {size} width");
        std::fs::write(dir.join(format!("{page}-{size}.png")), png).unwrap();
    }
    client.set_window_size(1280, 900).await.unwrap();
}

/// The notice of a queued sync, and of a checked connection.
const NOTICE_QUEUED: &str = "//p[contains(@class, 'notice')][contains(., 'cloudbeds')]";
const NOTICE_CHECKED: &str = "//p[contains(@class, 'notice')][contains(., 'Checked just now')]";

#[tokio::test(flavor = "multi_thread")]
async fn the_console_in_chromium_dashboard_sync_mapping_and_board() {
    if !available() {
        return;
    }
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let demo = Proc::start(&["demo", "--json", "--serve", "127.0.0.1:0"]);
    let mut seen = Vec::new();
    let ready = demo.wait_for(Duration::from_secs(180), &mut seen, |v| v.get("console").is_some());
    let url = ready["console"].as_str().unwrap().to_owned();

    let (_driver, endpoint) = start_driver(profile.path());
    let client = browser(&endpoint, profile.path()).await;

    // The dashboard: every account, and "Sync now" pressed with the keyboard.
    client.goto(&url).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Sync status — hostelpulse");
    let html = client.source().await.unwrap();
    for account in ["beds24", "cloudbeds", "feeds", "inbox"] {
        assert!(html.contains(&format!(">{account}<")), "{account} on the dashboard");
    }
    screenshot(&client, &shots, "dashboard").await;
    let button = client.find(Locator::Css("button[aria-label='Sync cloudbeds now']")).await.unwrap();
    button.send_keys("\u{E007}").await.unwrap();
    // Each wait names what only the next page shows: the page being left may still be there.
    let notice = client.wait().for_element(Locator::XPath(NOTICE_QUEUED)).await.unwrap();
    assert!(notice.text().await.unwrap().contains("cloudbeds"), "the queued sync is confirmed");

    // What a source can do: followed from the dashboard, then checked against the emulator.
    client.goto(&url).await.unwrap();
    client.find(Locator::Css("a[href='capabilities?account=cloudbeds']")).await.unwrap().click().await.unwrap();
    client.wait().for_url(url::Url::parse(&format!("{url}capabilities?account=cloudbeds")).unwrap()).await.unwrap();
    client.wait().for_element(Locator::Css("button[type='submit']")).await.unwrap().click().await.unwrap();
    let checked = client.wait().for_element(Locator::XPath(NOTICE_CHECKED)).await.unwrap();
    assert!(checked.text().await.unwrap().contains("Checked just now"), "the connection was checked");
    assert!(client.source().await.unwrap().contains("This connection"));
    screenshot(&client, &shots, "capabilities").await;

    // The mapping page: a Beds24 room mapped to the host's room.
    client.goto(&format!("{url}mapping")).await.unwrap();
    screenshot(&client, &shots, "mapping").await;
    let form = client.find(Locator::Css("tr.unmapped form:has(input[name='key'][value^='beds24:'])")).await.unwrap();
    let key = form.find(Locator::Css("input[name='key']")).await.unwrap().attr("value").await.unwrap().unwrap();
    form.find(Locator::Css("input[name='host_id']")).await.unwrap().send_keys("host-room-1").await.unwrap();
    form.find(Locator::Css("input[name='host_name']")).await.unwrap().send_keys("Browser Room 1").await.unwrap();
    form.find(Locator::Css("button[type='submit']")).await.unwrap().click().await.unwrap();
    // The page after the post (the URL is the same before and after): the row, now confirmed.
    let row = client
        .wait()
        .for_element(Locator::XPath(&format!(
            "//tr[.//input[@name='key' and @value='{key}']][not(contains(@class, 'unmapped'))]"
        )))
        .await
        .unwrap();
    let text = row.text().await.unwrap();
    assert!(text.contains("confirmed"), "the pair is confirmed: {text}");
    screenshot(&client, &shots, "mapping-after").await;

    // The board now names the room as the host does.
    client.goto(&format!("{url}board")).await.unwrap();
    let board = client.source().await.unwrap();
    assert!(board.contains("Today at Harbour Hostel"), "the board: {board}");
    assert!(board.contains("Browser Room 1"), "the mapped room under the host's name");
    screenshot(&client, &shots, "board").await;

    client.close().await.unwrap();
    for page in ["dashboard", "capabilities", "mapping", "mapping-after", "board"] {
        for (size, _, _) in SIZES {
            assert!(shots.join(format!("{page}-{size}.png")).exists());
        }
    }
    eprintln!("screenshots in {}", shots.display());
}
