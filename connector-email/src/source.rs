//! Where messages come from: raw bytes handed over by the host (an inbound-mail webhook), or a
//! Maildir. A source hands out the messages not yet processed and marks them processed after
//! the connector has kept what it extracted.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use crate::error::SourceError;

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

    async fn list(&self, sub: &str) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let dir = self.root.join(sub);
        let mut rd = tokio::fs::read_dir(&dir).await.map_err(|e| SourceError::NotAMailbox {
            path: self.root.display().to_string(),
            reason: format!("cannot read {sub}/: {e}"),
        })?;
        let mut out = Vec::new();
        while let Some(entry) = rd.next_entry().await.map_err(Self::io(&dir))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type().await.map_err(Self::io(&dir))?.is_file() {
                continue;
            }
            out.push((name, entry.path()));
        }
        // Maildir names start with the delivery time: name order is arrival order.
        out.sort();
        Ok(out)
    }
}

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
        let mut msgs = Vec::new();
        let mut files = self.list("new").await?;
        files.extend(self.list("cur").await?.into_iter().filter(|(n, _)| !flags(n).contains('S')));
        for (name, path) in files {
            let file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                // Another reader moved it meanwhile: it is no longer ours to process.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Self::io(&path)(e)),
            };
            let mut bytes = Vec::new();
            file.take(self.read_limit as u64 + 1).read_to_end(&mut bytes).await.map_err(Self::io(&path))?;
            let sub =
                path.parent().and_then(Path::file_name).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            msgs.push(RawMessage { id: format!("{sub}/{name}"), bytes });
        }
        Ok(msgs)
    }

    async fn pending(&self) -> Result<usize, SourceError> {
        let cur = self.list("cur").await?.into_iter().filter(|(n, _)| !flags(n).contains('S')).count();
        Ok(self.list("new").await?.len() + cur)
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
