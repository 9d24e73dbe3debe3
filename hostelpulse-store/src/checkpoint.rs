//! Folding the write-ahead log into the database file on a thread of its own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the writer
//! copies the log into the database file and waits for two `fsync`s before it can write again.
//! During a large import (a CSV export of a million rows) that is half of the writer's time. Here
//! the writer only signals; a second connection checkpoints (`PASSIVE`: it never blocks the
//! writer) while the writer goes on. The log is folded as often as before (every
//! [`SIGNAL_FRAMES`] frames), so a power cut can cost no more than it could with SQLite's default.
//!
//! A passive checkpoint cannot restart the log while the writer keeps appending to it, so under a
//! continuous write the file would grow without bound. Past [`BACKSTOP_FRAMES`] the writer
//! checkpoints itself, between transactions, which lets its next write start the log over: the
//! log stays under about `BACKSTOP_FRAMES` pages (64 MiB with 16 KiB pages).

use std::ffi::c_int;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

/// Log frames after which the checkpointer is asked to run (SQLite's own default threshold).
pub(crate) const SIGNAL_FRAMES: c_int = 1000;
/// Log frames after which the writer checkpoints itself so that the log can start over.
pub(crate) const BACKSTOP_FRAMES: c_int = 4 * SIGNAL_FRAMES;

/// Starts the checkpointer for the database at `path` and hands `writer`'s checkpoints to it.
/// When the thread cannot be started, `writer` keeps SQLite's automatic checkpoint. The thread
/// ends when `writer` is closed.
pub(crate) fn start(writer: &mut Connection, path: &Path) -> rusqlite::Result<()> {
    // Detached: the thread ends by itself once the writer is closed.
    start_with(writer, path, SIGNAL_FRAMES, BACKSTOP_FRAMES).map(drop)
}

/// [`start`] with its thresholds; the thread returns how many checkpoints it ran.
fn start_with(
    writer: &mut Connection,
    path: &Path,
    signal_at: c_int,
    backstop: c_int,
) -> rusqlite::Result<Option<std::thread::JoinHandle<u64>>> {
    let checkpointer = Connection::open(path)?;
    checkpointer.busy_timeout(Duration::from_secs(10))?;
    // A connection opens the file lazily; until it has read it, it does not know the log exists
    // and every checkpoint would be a silent no-op.
    let mode: String = checkpointer.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Ok(None);
    }
    let (signal, signals) = std::sync::mpsc::sync_channel::<()>(1);
    let spawned = std::thread::Builder::new().name("hostelpulse-sqlite-checkpoint".into()).spawn(move || {
        let mut ran = 0;
        // Ends when the writer's hook, and with it the sender, is dropped.
        while signals.recv().is_ok() {
            match checkpointer.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                Ok(_) => ran += 1,
                Err(e) => tracing::debug!(error = %e, "background checkpoint did not run; the next one folds the log"),
            }
        }
        ran
    });
    let thread = match spawned {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "no checkpoint thread; SQLite checkpoints inside commits");
            return Ok(None);
        }
    };
    // Registering a hook turns SQLite's automatic checkpoint off for this connection.
    writer.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, frames: c_int| {
        // Never an error from here: the hook runs after the commit, and an error would make a
        // committed write look failed. (The checkpoint thread may hold the checkpoint lock: the
        // writer's own attempt is then BUSY, and the next commit tries again.)
        if frames >= backstop {
            if let Err(e) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
                tracing::debug!(error = %e, "the writer's checkpoint did not run; the next commit tries again");
            }
        } else if frames >= signal_at {
            // Full: a checkpoint is already asked for, and it folds these frames too.
            let _ = signal.try_send(());
        }
        Ok(())
    }))?;
    Ok(Some(thread))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh database in WAL mode with 4 KiB pages and one table; the directory lives as long
    /// as the returned guard.
    fn wal_database() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "page_size", 4096).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").unwrap();
        (dir, path, writer)
    }

    fn wal_frames(path: &Path, page_size: u64) -> u64 {
        let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        // A 32-byte log header, then frames of a 24-byte header and a page each.
        wal.saturating_sub(32) / (24 + page_size)
    }

    #[test]
    fn the_log_is_folded_off_the_writer_and_stays_bounded_under_a_continuous_write() {
        let (_dir, path, mut writer) = wal_database();
        start_with(&mut writer, &path, 20, 80).unwrap().expect("a checkpoint thread");
        let body = "x".repeat(3000);
        let mut most = 0;
        for i in 0..3000 {
            writer.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", rusqlite::params![i, body]).unwrap();
            most = most.max(wal_frames(&path, 4096));
        }
        // 3,000 rows of 3 KB fill about 2,250 pages: without the backstop the log would hold
        // them all. Past the backstop it grows only while the checkpoint thread holds the
        // checkpoint (the writer's own attempt is then busy), a few frames.
        assert!(most <= 2 * 80, "the log grew to {most} frames");
        // Another connection sees every row: nothing was lost to the folding.
        let reader = Connection::open(&path).unwrap();
        let n: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 3000);
        drop(writer);
        let again = Connection::open(&path).unwrap();
        let n: i64 = again.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 3000);
    }

    #[test]
    fn the_checkpoint_thread_does_the_folding_and_ends_with_the_writer() {
        let (_dir, path, mut writer) = wal_database();
        // A backstop never reached: only the thread checkpoints.
        let thread = start_with(&mut writer, &path, 20, c_int::MAX).unwrap().expect("a checkpoint thread");
        let body = "x".repeat(3000);
        for i in 0..200 {
            writer.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", rusqlite::params![i, body]).unwrap();
        }
        drop(writer);
        let ran = thread.join().expect("the thread ends once the writer is closed");
        assert!(ran > 0, "the thread never checkpointed");
        let n: i64 = Connection::open(&path).unwrap().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 200);
    }

    #[test]
    fn a_database_not_in_wal_mode_gets_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = Connection::open(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
        assert!(start_with(&mut writer, &path, 20, 80).unwrap().is_none());
    }
}
