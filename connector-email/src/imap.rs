//! An IMAP mailbox as a message source (feature `imap`): unseen messages are fetched with
//! `BODY.PEEK[]` (so reading does not mark them), marked `\Seen` once processed, and deleted
//! (flagged `\Deleted` and expunged) only when configured. TLS by default (rustls with the
//! platform's roots); plain TCP only when asked, for loopback tests.

use std::fmt;
use std::time::Duration;

use async_imap::{Client, Session};
use async_trait::async_trait;
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::SourceError;
use crate::source::{MessageSource, RawMessage};

/// How to reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993).
    Tls,
    /// Unencrypted. Credentials cross the wire in clear: loopback and tests only.
    Plain,
}

/// An IMAP mailbox's settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct ImapConfig {
    /// Server host name (also the TLS server name).
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS or plain.
    pub security: ImapSecurity,
    /// Login name.
    pub username: String,
    /// Password (an app password for most providers).
    pub password: SecretString,
    /// The folder to read (default `INBOX`).
    pub mailbox: String,
    /// Delete processed messages instead of flagging them seen.
    pub delete_processed: bool,
    /// Messages are fetched up to this many bytes plus one (the parser reports larger ones).
    pub read_limit: usize,
    /// Connect and command timeout.
    pub timeout: Duration,
    /// Certificates (DER) to trust instead of the platform's roots: a server with its own CA.
    pub trusted_roots: Vec<Vec<u8>>,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("mailbox", &self.mailbox)
            .field("delete_processed", &self.delete_processed)
            .finish()
    }
}

impl ImapConfig {
    /// TLS on port 993, `INBOX`, 10 MiB read limit, 30 s timeout, nothing deleted.
    pub fn new(host: impl Into<String>, username: impl Into<String>, password: SecretString) -> Self {
        Self {
            host: host.into(),
            port: 993,
            security: ImapSecurity::Tls,
            username: username.into(),
            password,
            mailbox: "INBOX".into(),
            delete_processed: false,
            read_limit: 10 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            trusted_roots: Vec::new(),
        }
    }

    /// Trusts this certificate (DER) as a root instead of the platform's roots (a mail server
    /// with a private CA or a self-signed certificate). May be given several times.
    pub fn trust_root_der(mut self, der: Vec<u8>) -> Self {
        self.trusted_roots.push(der);
        self
    }

    /// Plain TCP on `port` (loopback tests).
    pub fn plain(mut self, port: u16) -> Self {
        self.security = ImapSecurity::Plain;
        self.port = port;
        self
    }

    /// Another port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Another folder.
    pub fn mailbox(mut self, mailbox: impl Into<String>) -> Self {
        self.mailbox = mailbox.into();
        self
    }

    /// Deletes processed messages instead of flagging them seen.
    pub fn delete_processed(mut self, yes: bool) -> Self {
        self.delete_processed = yes;
        self
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Stream for T {}

type Conn = Box<dyn Stream>;

/// An IMAP mailbox.
#[derive(Debug, Clone)]
pub struct ImapSource {
    cfg: ImapConfig,
}

impl ImapSource {
    /// A source reading the mailbox `cfg` describes.
    pub fn new(cfg: ImapConfig) -> Self {
        Self { cfg }
    }

    fn err(&self, reason: impl fmt::Display) -> SourceError {
        SourceError::Io {
            path: format!("imap://{}:{}/{}", self.cfg.host, self.cfg.port, self.cfg.mailbox),
            source: std::io::Error::other(reason.to_string()),
        }
    }

    fn refused(&self, reason: impl fmt::Display) -> SourceError {
        SourceError::NotAMailbox {
            path: format!("imap://{}@{}:{}/{}", self.cfg.username, self.cfg.host, self.cfg.port, self.cfg.mailbox),
            reason: reason.to_string(),
        }
    }

    async fn connect(&self) -> Result<Conn, SourceError> {
        let tcp = TcpStream::connect((self.cfg.host.as_str(), self.cfg.port)).await.map_err(|e| self.err(e))?;
        match self.cfg.security {
            ImapSecurity::Plain => Ok(Box::new(tcp)),
            ImapSecurity::Tls => {
                use rustls_platform_verifier::ConfigVerifierExt;
                use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types::CertificateDer};
                let config = if self.cfg.trusted_roots.is_empty() {
                    ClientConfig::with_platform_verifier().map_err(|e| self.err(e))?
                } else {
                    let mut roots = RootCertStore::empty();
                    for der in &self.cfg.trusted_roots {
                        roots
                            .add(CertificateDer::from(der.clone()))
                            .map_err(|e| self.refused(format!("a trusted root is not a certificate: {e}")))?;
                    }
                    ClientConfig::builder().with_root_certificates(roots).with_no_client_auth()
                };
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(self.cfg.host.clone())
                    .map_err(|e| self.refused(format!("not a TLS server name: {e}")))?;
                let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
                    .connect(name, tcp)
                    .await
                    .map_err(|e| self.err(e))?;
                Ok(Box::new(tls))
            }
        }
    }

    /// Logs in and selects the mailbox.
    async fn session(&self) -> Result<Session<Conn>, SourceError> {
        let mut client = Client::new(self.connect().await?);
        client.read_response().await.map_err(|e| self.err(e))?.ok_or_else(|| self.err("no greeting"))?;
        let mut session = client
            .login(&self.cfg.username, self.cfg.password.expose_secret())
            .await
            // The server's message only: it never echoes the password.
            .map_err(|(e, _)| self.refused(format!("login refused: {e}")))?;
        session.select(&self.cfg.mailbox).await.map_err(|e| self.refused(format!("cannot select: {e}")))?;
        Ok(session)
    }

    async fn timed<T>(&self, f: impl Future<Output = Result<T, SourceError>>) -> Result<T, SourceError> {
        tokio::time::timeout(self.cfg.timeout, f).await.map_err(|_| self.err("timed out"))?
    }
}

/// How many messages one UID FETCH asks for.
const FETCH_PART: usize = 256;

#[async_trait]
impl MessageSource for ImapSource {
    async fn fetch(&self) -> Result<Vec<RawMessage>, SourceError> {
        let mut out = Vec::new();
        self.for_each(&mut |m| out.push(m)).await?;
        Ok(out)
    }

    async fn for_each(&self, each: &mut (dyn FnMut(RawMessage) + Send)) -> Result<(), SourceError> {
        // The timeout is per exchange, not for the whole mailbox: processing a large one takes
        // as long as it takes.
        let (mut s, uids) = self
            .timed(async {
                let mut s = self.session().await?;
                let mut uids: Vec<u32> = s.uid_search("UNSEEN").await.map_err(|e| self.err(e))?.into_iter().collect();
                uids.sort_unstable();
                Ok((s, uids))
            })
            .await?;
        let query = format!("(UID BODY.PEEK[]<0.{}>)", self.cfg.read_limit + 1);
        // A part at a time: a large mailbox is never held in memory whole.
        for part in uids.chunks(FETCH_PART) {
            let set = part.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let mut msgs: Vec<RawMessage> = self
                .timed(async {
                    let fetched: Vec<_> = s
                        .uid_fetch(&set, &query)
                        .await
                        .map_err(|e| self.err(e))?
                        .try_collect()
                        .await
                        .map_err(|e| self.err(e))?;
                    Ok(fetched
                        .iter()
                        .filter_map(|f| Some(RawMessage { id: f.uid?.to_string(), bytes: f.body()?.to_vec() }))
                        .collect())
                })
                .await?;
            msgs.sort_by_key(|m| m.id.parse::<u32>().unwrap_or(u32::MAX));
            msgs.into_iter().for_each(&mut *each);
        }
        self.timed(async {
            s.logout().await.ok();
            Ok(())
        })
        .await
    }

    async fn pending(&self) -> Result<usize, SourceError> {
        self.timed(async {
            let mut s = self.session().await?;
            let n = s.uid_search("UNSEEN").await.map_err(|e| self.err(e))?.len();
            s.logout().await.ok();
            Ok(n)
        })
        .await
    }

    async fn mark_processed(&self, ids: &[String]) -> Result<(), SourceError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.timed(async {
            let mut s = self.session().await?;
            let set = ids.join(",");
            let flag = if self.cfg.delete_processed { "+FLAGS (\\Seen \\Deleted)" } else { "+FLAGS (\\Seen)" };
            let _: Vec<_> =
                s.uid_store(&set, flag).await.map_err(|e| self.err(e))?.try_collect().await.map_err(|e| self.err(e))?;
            if self.cfg.delete_processed {
                let _: Vec<_> =
                    s.expunge().await.map_err(|e| self.err(e))?.try_collect().await.map_err(|e| self.err(e))?;
            }
            s.logout().await.ok();
            Ok(())
        })
        .await
    }
}
