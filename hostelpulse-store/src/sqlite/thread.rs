//! A connection owned by a thread of its own, which runs the store's statements one after
//! another. A fleet's runs send their statements here from many tasks at once: handed to a pool
//! of blocking threads that then queue on one connection's lock, every statement cost a thread
//! wake-up and a lock hand-over; one thread that takes them from a queue runs them back to back.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use rusqlite::Connection;

use super::backend;
use hostelpulse_core::sync::StoreError;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The thread and the queue to it. Dropping it lets the thread finish the statements already
/// sent, then waits for it, so the connection is closed when the store is gone.
pub(super) struct ConnThread {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ConnThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnThread").finish_non_exhaustive()
    }
}

impl ConnThread {
    /// Moves `conn` to a new thread named `name`.
    pub(super) fn start(mut conn: Connection, name: &str) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&mut conn);
                }
            })
            .map_err(backend)?;
        Ok(Self { jobs: Some(jobs), thread: Some(thread) })
    }

    /// Runs `f` on the connection, after the statements sent before it.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::Backend("the store's connection thread has stopped".into());
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A statement that panics fails its own call; the thread goes on with the next.
            let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a store statement panicked".into())));
            let _ = reply.send(out);
        });
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for ConnThread {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}
