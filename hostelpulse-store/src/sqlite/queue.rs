//! A connection and the queue of statements waiting for it. A fleet's runs send their
//! statements from many tasks at once: when each was a task of tokio's blocking pool, the pool's
//! threads queued on the connection's lock, a thread wake-up and a lock hand-over per statement.
//! Now a statement joins the queue, and one blocking task at a time takes the queue's statements
//! and runs them back to back; it ends when the queue is empty, and the next statement starts
//! another. (A blocking task rather than a thread of our own: while one runs, tokio's paused
//! clock in tests waits for it instead of jumping ahead.)

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use hostelpulse_core::sync::StoreError;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// One connection, and who may use it next.
pub(super) struct ConnQueue {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    /// A blocking task is taking the jobs.
    draining: bool,
}

impl std::fmt::Debug for ConnQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnQueue").finish_non_exhaustive()
    }
}

impl ConnQueue {
    pub(super) fn new(conn: Connection) -> Self {
        Self { inner: Arc::new(Inner { conn: Mutex::new(conn), waiting: Mutex::default() }) }
    }

    /// Runs `f` on the connection, after the statements queued before it.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A statement that panics fails its own call; the queue goes on with the next.
            let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a store statement panicked".into())));
            let _ = reply.send(out);
        });
        let start = {
            let mut waiting = self.inner.waiting.lock().unwrap_or_else(|e| e.into_inner());
            waiting.jobs.push_back(job);
            !std::mem::replace(&mut waiting.draining, true)
        };
        if start {
            let inner = self.inner.clone();
            tokio::task::spawn_blocking(move || inner.drain());
        }
        answer.await.map_err(|_| StoreError::Backend("the store's statement was dropped unanswered".into()))?
    }
}

impl Inner {
    /// Runs the queued statements until none is left.
    fn drain(&self) {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let job = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
                match waiting.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        waiting.draining = false;
                        return;
                    }
                }
            };
            job(&mut conn);
        }
    }
}
