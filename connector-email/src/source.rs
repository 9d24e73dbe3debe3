//! Where messages come from: raw bytes handed over by the host (an inbound-mail webhook), or a
//! Maildir. A source hands out the messages not yet processed and marks them processed after
//! the connector has kept what it extracted.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::io::Read;

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::connector::Processed;
use crate::error::SourceError;

/// What a connector does to each message as it is read (its parse), for
/// [`MessageSource::for_each_mapped`].
pub type Mapper = Arc<dyn Fn(RawMessage) -> Processed + Send + Sync>;

/// One message as received.
#[derive(Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The source's id for it (a Maildir file name, a queue position).
    pub id: String,
    /// The RFC 822 bytes, cut at the source's read limit plus one byte (so an oversized message
    /// is still reported as such by the parser, without being read whole).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for RawMessage {
    // The bytes are a guest's mail: never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawMessage").field("id", &self.id).field("len", &self.bytes.len()).finish()
    }
}

/// A mailbox the connector polls.
#[async_trait]
pub trait MessageSource: Send + Sync + fmt::Debug {
    /// Messages not yet processed, oldest first.
    async fn fetch(&self) -> Result<Vec<RawMessage>, SourceError>;
    /// Hands the messages not yet processed to `each`, oldest first. A source that can read its
    /// mailbox a part at a time overrides this, so that a large mailbox is never held in memory
    /// whole; the default reads everything with [`MessageSource::fetch`].
    async fn for_each(&self, each: &mut (dyn FnMut(RawMessage) + Send)) -> Result<(), SourceError> {
        for m in self.fetch().await? {
            each(m);
        }
        Ok(())
    }
    /// [`MessageSource::for_each`] with `map` (the connector's parse) applied to each message
    /// first. A source that reads on blocking threads overrides this to run `map` there too, on
    /// several parts at once, so parsing uses more than one core; the default maps in line.
    async fn for_each_mapped(&self, map: Mapper, each: &mut (dyn FnMut(Processed) + Send)) -> Result<(), SourceError> {
        self.for_each(&mut |m| each(map(m))).await
    }
    /// Marks messages processed so they are not handed out again.
    async fn mark_processed(&self, ids: &[String]) -> Result<(), SourceError>;
    /// How many messages wait, without reading them (health checks).
    async fn pending(&self) -> Result<usize, SourceError> {
        Ok(self.fetch().await?.len())
    }
}

/// Messages pushed by the host, e.g. from an inbound-mail webhook.
#[derive(Debug, Default)]
pub struct RawQueue {
    queue: Mutex<VecDeque<RawMessage>>,
    next: std::sync::atomic::AtomicU64,
}

impl RawQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a message; returns its id.
    pub async fn push(&self, bytes: Vec<u8>) -> String {
        let id = format!("raw-{}", self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        self.queue.lock().await.push_back(RawMessage { id: id.clone(), bytes });
        id
    }
}

#[async_trait]
impl MessageSource for RawQueue {
    async fn fetch(&self) -> Result<Vec<RawMessage>, SourceError> {
        Ok(self.queue.lock().await.iter().cloned().collect())
    }

    async fn mark_processed(&self, ids: &[String]) -> Result<(), SourceError> {
        self.queue.lock().await.retain(|m| !ids.contains(&m.id));
        Ok(())
    }
}

/// A Maildir (`new/`, `cur/`, `tmp/`). Unprocessed messages are those in `new/` and those in
/// `cur/` without the seen flag; processing moves a message to `cur/` with the `S` flag added,
/// the way a mail client marks it read. Messages are deleted only when configured.
///
/// No crate is used for this: the Maildir crates on crates.io bring their own MIME parser, and
/// the operations needed are a directory listing and a rename.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    delete_processed: bool,
    read_limit: usize,
}

impl Maildir {
    /// A Maildir at `root`. Messages over `read_limit` bytes are read only up to the limit plus
    /// one byte (the parser then reports them as too large).
    pub fn new(root: impl Into<PathBuf>, read_limit: usize) -> Self {
        Self { root: root.into(), delete_processed: false, read_limit }
    }

    /// Deletes processed messages instead of flagging them seen.
    pub fn delete_processed(mut self, yes: bool) -> Self {
        self.delete_processed = yes;
        self
    }

    /// The Maildir's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
        move |source| SourceError::Io { path: path.display().to_string(), source }
    }

    /// The unprocessed messages' names and paths, oldest first. Blocking: call from a blocking
    /// thread.
    fn unprocessed(&self) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let mut files = self.list("new")?;
        files.extend(self.list("cur")?.into_iter().filter(|(n, _)| !flags(n).contains('S')));
        Ok(files)
    }

    fn list(&self, sub: &str) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let dir = self.root.join(sub);
        let rd = std::fs::read_dir(&dir).map_err(|e| SourceError::NotAMailbox {
            path: self.root.display().to_string(),
            reason: format!("cannot read {sub}/: {e}"),
        })?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(Self::io(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type().map_err(Self::io(&dir))?.is_file() {
                continue;
            }
            out.push((format!("{sub}/{name}"), entry.path()));
        }
        // Maildir names start with the delivery time: name order is arrival order.
        out.sort_unstable_by(|a, b| a.0[sub.len()..].cmp(&b.0[sub.len()..]));
        Ok(out)
    }

    /// Reads `files`, each cut at the read limit plus one byte. Blocking.
    fn read(files: &[(String, PathBuf)], limit: usize) -> Result<Vec<RawMessage>, SourceError> {
        let mut out = Vec::with_capacity(files.len());
        for (id, path) in files {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                // Another reader moved it meanwhile: it is no longer ours to process.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Self::io(path)(e)),
            };
            let size = file.metadata().map_or(0, |m| m.len() as usize);
            let mut bytes = Vec::with_capacity(size.min(limit) + 1);
            file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(Self::io(path))?;
            out.push(RawMessage { id: id.clone(), bytes });
        }
        Ok(out)
    }

    /// Runs blocking file work off the async threads.
    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
    ) -> Result<T, SourceError> {
        joined(tokio::task::spawn_blocking(f).await)
    }
}

impl Maildir {
    /// Reads the unprocessed messages a part at a time on blocking threads, applies `map` there,
    /// and hands the results to `each` in order. Two parts are in flight while a third is handed
    /// over: the work uses two cores, and memory holds three parts whatever the mailbox's size.
    async fn pipeline<T: Send + 'static>(
        &self,
        map: impl Fn(RawMessage) -> T + Clone + Send + 'static,
        each: &mut (dyn FnMut(T) + Send),
    ) -> Result<(), SourceError> {
        let this = self.clone();
        let files = Self::blocking(move || this.unprocessed()).await?;
        let limit = self.read_limit;
        let mut parts = files.chunks(PART).map(<[_]>::to_vec);
        let start = |part: Vec<(String, PathBuf)>| {
            let map = map.clone();
            tokio::task::spawn_blocking(move || Ok(Self::read(&part, limit)?.into_iter().map(map).collect::<Vec<T>>()))
        };
        let mut in_flight: VecDeque<_> = parts.by_ref().take(2).map(start).collect();
        while let Some(part) = in_flight.pop_front() {
            if let Some(next) = parts.next() {
                in_flight.push_back(start(next));
            }
            for x in joined(part.await)? {
                each(x);
            }
        }
        Ok(())
    }
}

/// A blocking read's result; a reader that panicked is an I/O error, not a crash of the host.
fn joined<T>(r: Result<Result<T, SourceError>, tokio::task::JoinError>) -> Result<T, SourceError> {
    r.unwrap_or_else(|e| {
        Err(SourceError::Io { path: "(maildir reader)".into(), source: std::io::Error::other(e.to_string()) })
    })
}

/// How many messages a Maildir reads in one go.
const PART: usize = 128;

/// The flags of a `cur/` name (`<unique>:2,<flags>`).
fn flags(name: &str) -> &str {
    name.rsplit_once(":2,").map_or("", |(_, f)| f)
}

fn base(name: &str) -> &str {
    name.rsplit_once(":2,").map_or(name, |(b, _)| b)
}

#[async_trait]
impl MessageSource for Maildir {
    async fn fetch(&self) -> Result<Vec<RawMessage>, SourceError> {
        let this = self.clone();
        Self::blocking(move || Self::read(&this.unprocessed()?, this.read_limit)).await
    }

    async fn for_each(&self, each: &mut (dyn FnMut(RawMessage) + Send)) -> Result<(), SourceError> {
        self.pipeline(|m| m, each).await
    }

    async fn for_each_mapped(&self, map: Mapper, each: &mut (dyn FnMut(Processed) + Send)) -> Result<(), SourceError> {
        self.pipeline(move |m| map(m), each).await
    }

    async fn pending(&self) -> Result<usize, SourceError> {
        let this = self.clone();
        Self::blocking(move || Ok(this.unprocessed()?.len())).await
    }

    async fn mark_processed(&self, ids: &[String]) -> Result<(), SourceError> {
        for id in ids {
            let from = self.root.join(id);
            let result = if self.delete_processed {
                tokio::fs::remove_file(&from).await
            } else {
                let name = id.rsplit('/').next().unwrap_or(id);
                let mut fl: Vec<char> = flags(name).chars().chain(['S']).collect();
                fl.sort_unstable();
                fl.dedup();
                let to = self.root.join("cur").join(format!("{}:2,{}", base(name), fl.into_iter().collect::<String>()));
                tokio::fs::rename(&from, &to).await
            };
            match result {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Self::io(&from)(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_flags() {
        assert_eq!(flags("1700000000.1.host:2,FS"), "FS");
        assert_eq!(flags("1700000000.1.host"), "");
        assert_eq!(base("1700000000.1.host:2,F"), "1700000000.1.host");
    }
}
