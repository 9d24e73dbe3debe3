//! `ical_cli`: `hostelpulse ical parse --json` on a generated 20,000-event Airbnb-style feed, as a
//! process, against a process that reads the same file and parses it whole with the `icalendar`
//! crate (this binary, run again with `--icalendar-baseline FILE`). Rounds are interleaved; each
//! reports wall time and the child's peak resident memory, also as a multiple of the feed's size.
//!
//! When a Python with the `icalendar` package is at hand (`HOSTELPULSE_PYTHON`, or `python3`), it
//! also runs `python_ical.py` (parse with that package, classify in outline, the same JSON), checks
//! that both outputs list the same events, and reports the ratio of the medians over three rounds.
//!
//! Run: `cargo bench -p hostelpulse-cli --bench ical_cli [-- ROUNDS]` (default 15).

use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_hostelpulse");
const EVENTS: usize = 20_000;

/// The feed `ical_parse` (connector-ical) generates, twice as long.
fn feed() -> String {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nCALSCALE:GREGORIAN\r\nVERSION:2.0\r\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    for i in 0..EVENTS {
        let a = start + chrono::Duration::days((i * 2) as i64);
        let d = a + chrono::Duration::days(1 + (i % 3) as i64);
        let (a, d) = (a.format("%Y%m%d"), d.format("%Y%m%d"));
        if i % 5 == 4 {
            s.push_str(&format!(
                "BEGIN:VEVENT\r\nDTSTAMP:20260819T074442Z\r\nDTSTART;VALUE=DATE:{a}\r\nDTEND;VALUE=DATE:{d}\r\nSUMMARY:Airbnb (Not available)\r\nUID:7f662ec65913-{i:032x}@airbnb.com\r\nEND:VEVENT\r\n"
            ));
        } else {
            s.push_str(&format!(
                "BEGIN:VEVENT\r\nDTSTAMP:20260819T074442Z\r\nDTSTART;VALUE=DATE:{a}\r\nDTEND;VALUE=DATE:{d}\r\nSUMMARY:Reserved\r\nUID:1418fb94e984-{i:032x}@airbnb.com\r\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de\r\n tails/HM{i:08}\\nPhone Number (Last 4 Digits): {:04}\r\nEND:VEVENT\r\n",
                i % 10_000
            ));
        }
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn baseline(path: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("the feed");
    let unfolded = icalendar::parser::unfold(&text);
    icalendar::parser::read_calendar(&unfolded).map(|c| c.components.len()).unwrap_or(0)
}

/// Runs a child to its end: wall seconds and peak resident memory in bytes.
#[allow(clippy::zombie_processes, reason = "the child is reaped by wait4, which also reports its peak memory")]
fn measure(cmd: &mut Command) -> (f64, u64) {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::null()).spawn().expect("the child starts");
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct wait4 fills; the pid is our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let secs = started.elapsed().as_secs_f64();
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child failed");
    (secs, usage.ru_maxrss as u64 * 1024)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--icalendar-baseline") {
        let n = baseline(&args[i + 1]);
        assert_eq!(n, EVENTS, "the icalendar crate parsed every event");
        return;
    }
    let rounds = args.iter().find_map(|a| a.parse::<usize>().ok()).unwrap_or(15);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("feed.ics");
    std::fs::write(&file, feed()).expect("the feed is written");
    let size = std::fs::metadata(&file).expect("the feed").len();
    let path = file.to_str().expect("a UTF-8 path");
    let me = std::env::current_exe().expect("this binary");
    let bare = measure(Command::new(BIN).arg("--version")).1;
    let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut our_rss, mut their_rss) = (0, 0);
    for _ in 0..rounds {
        let (t, m) = measure(Command::new(&me).args(["--icalendar-baseline", path]));
        let (o, r) = measure(Command::new(BIN).args(["ical", "parse", "--json", path]));
        ratios.push(o / t);
        ours.push(o);
        theirs.push(t);
        our_rss = our_rss.max(r);
        their_rss = their_rss.max(m);
    }
    let python = python_side(path, rounds.min(3));
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "ical_cli: {EVENTS} events, {:.1} MiB feed, {rounds} interleaved rounds\n  icalendar parse (process): median {:.3} s, peak RSS {:.1} MiB\n  hostelpulse ical parse --json: median {:.3} s, peak RSS {:.1} MiB ({:.1}× the feed; {:.1}× without the bare process's {:.1} MiB)\n  ratio, median of per-round ratios: {:.2}× (range {:.2}–{:.2}×)",
        mib(size),
        median(theirs),
        mib(their_rss),
        median(ours.clone()),
        mib(our_rss),
        our_rss as f64 / size as f64,
        our_rss.saturating_sub(bare) as f64 / size as f64,
        mib(bare),
        median(ratios.clone()),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
    );
    match python {
        Some((py, rss)) => println!(
            "  Python icalendar parse + classify: median {py:.2} s, peak RSS {:.1} MiB; hostelpulse {:.1}× faster",
            mib(rss),
            py / median(ours)
        ),
        None => println!("  Python icalendar: skipped (set HOSTELPULSE_PYTHON to a Python with the icalendar package)"),
    }
}

/// The Python comparison: the median wall time and peak RSS over `rounds`, after checking that
/// it lists the same events as `hostelpulse ical parse --json`; `None` without Python's icalendar.
fn python_side(path: &str, rounds: usize) -> Option<(f64, u64)> {
    let python = std::env::var("HOSTELPULSE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_ical.py");
    let has = Command::new(&python).args(["-c", "import icalendar"]).stderr(Stdio::null()).status();
    if !has.is_ok_and(|s| s.success()) {
        return None;
    }
    let events = |out: std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")["events"].take()
    };
    let theirs = events(Command::new(&python).args([script, path]).output().expect("python runs"));
    let ours = events(Command::new(BIN).args(["ical", "parse", "--json", path]).output().expect("the CLI runs"));
    assert_eq!(theirs, ours, "both sides list the same events");
    let runs: Vec<(f64, u64)> = (0..rounds).map(|_| measure(Command::new(&python).args([script, path]))).collect();
    Some((median(runs.iter().map(|r| r.0).collect()), runs.iter().map(|r| r.1).max().unwrap_or(0)))
}
