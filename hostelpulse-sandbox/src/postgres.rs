//! A throw-away PostgreSQL server for tests, started from Debian's `postgresql` package:
//! `initdb` into a temporary directory, `postgres` on a free loopback port, trust
//! authentication, no `fsync` (the data dies with the test). Each test gets a database of its
//! own with [`TestServer::database`].
//!
//! Without the package the tests that need it are skipped with a message — unless `CI` or
//! `HOSTELPULSE_REQUIRE_POSTGRES` is set, where a missing server is a failure (the test script
//! installs the package there).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    child: Child,
    port: u16,
    bin: PathBuf,
    next_db: AtomicUsize,
    // Last: removed after the server has stopped.
    _dir: tempfile::TempDir,
}

/// Why the server could not start (the package is there, but something went wrong).
#[derive(Debug, thiserror::Error)]
#[error("cannot start PostgreSQL: {0}")]
pub struct StartError(String);

const SUPERUSER: &str = "hostelpulse";

impl Drop for TestServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The directory of the newest installed server binaries (`/usr/lib/postgresql/<v>/bin`).
pub fn binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// Whether a missing server must fail the test rather than skip it.
fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("HOSTELPULSE_REQUIRE_POSTGRES").is_some()
}

/// The uid and gid the server runs as: ours, unless we are root (PostgreSQL refuses to run as
/// root), then the `postgres` system user, or `nobody`.
fn server_user() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()?;
    if uid != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let user = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    Some(user("postgres").unwrap_or((65534, 65534)))
}

fn command(bin: &Path, program: &str, user: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(bin.join(program));
    #[cfg(unix)]
    if let Some((uid, gid)) = user {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid);
    }
    cmd.env("LC_ALL", "C").env_remove("PGDATA").env_remove("PGHOST").env_remove("PGPORT");
    cmd
}

impl TestServer {
    /// Starts a server, or `None` (with a message on stderr) when the package is missing and
    /// neither `CI` nor `HOSTELPULSE_REQUIRE_POSTGRES` is set.
    ///
    /// # Panics
    /// When the package is missing and a server is required, or when it is installed but does
    /// not start: either way the test cannot say anything.
    pub fn start() -> Option<Self> {
        let Some(bin) = binaries() else {
            assert!(
                !required(),
                "CI or HOSTELPULSE_REQUIRE_POSTGRES is set but PostgreSQL is not installed: apt-get install postgresql"
            );
            eprintln!("skipped: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        Some(Self::start_from(&bin).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts a server from the binaries in `bin`.
    pub fn start_from(bin: &Path) -> Result<Self, StartError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| StartError(format!("{what}: {e}"));
        let dir = tempfile::Builder::new().prefix("hostelpulse-pg").tempdir().map_err(|e| fail("temp dir", &e))?;
        let user = server_user();
        #[cfg(unix)]
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| fail("chown", &e))?;
        }
        let data = dir.path().join("data");
        let out = command(bin, "initdb", user)
            .args(["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C", "--username", SUPERUSER, "-D"])
            .arg(&data)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| fail("initdb", &e))?;
        if !out.status.success() {
            return Err(StartError(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr))));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| fail("free port", &e))?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).map_err(|e| fail("log", &e))?;
        #[cfg(unix)]
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path().join("server.log"), Some(uid), Some(gid)).ok();
        }
        let child = command(bin, "postgres", user)
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(dir.path())
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=300", "-c", "shared_buffers=64MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| fail("postgres", &e))?;
        let mut server = Self { child, port, bin: bin.to_path_buf(), next_db: AtomicUsize::new(0), _dir: dir };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), StartError> {
        // Start-up, not a test's timing: the server is polled until it answers.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default();
                return Err(StartError(format!("the server exited ({status}): {log}")));
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", SUPERUSER, "-d", "postgres", "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StartError("the server did not answer within 60 s".into()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new empty database and returns its URL.
    ///
    /// # Panics
    /// When `createdb` fails.
    pub fn database(&self) -> String {
        let name = format!("t{}_{}", std::process::id(), self.next_db.fetch_add(1, Ordering::SeqCst));
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", SUPERUSER, &name])
            .output()
            .expect("createdb runs");
        assert!(out.status.success(), "createdb {name}: {}", String::from_utf8_lossy(&out.stderr));
        self.url(&name)
    }
}
