//! The inbox connector: polls a message source, folds what each mail teaches into one record per
//! booking (keyed by channel and reference), and reads those records as bookings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use hostelpulse_core::capability::Capabilities;
use hostelpulse_core::connector::{
    BookingBatch, BookingQuery, Connector, Health, RecordFailure, decode_state, encode_state,
};
use hostelpulse_core::error::Result;
use hostelpulse_core::model::{AccountId, ConnectorKind, Provenance, SourceId, Via};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::EmailConfig;
use crate::error::MessageError;
use crate::extract::{Extracted, MailKind, Outcome, ParsedMail};
use crate::source::{Maildir, Mapper, MessageSource, RawMessage};
use crate::{capabilities, convert, parse_message};

/// What the connector knows about one booking, from every mail about it. Only extracted fields
/// are kept, never the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The merged fields.
    pub fields: Extracted,
    /// The template of the latest mail.
    pub template: String,
    /// The confidence of the latest mail.
    pub confidence: f32,
    /// Why it is held for review; empty when it syncs.
    pub review: Vec<String>,
    /// The send date of the latest mail folded in.
    pub last_sent: Option<NaiveDate>,
    /// How many mails were folded in.
    pub mails: u32,
    /// The identities of the mails folded in (Message-ID, else the source's id), so a mail read
    /// again after a crash is not folded twice.
    #[serde(default)]
    pub folded: Vec<String>,
}

/// What the connector keeps between runs, saved by the sync engine with each run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    records: BTreeMap<String, Record>,
}

/// What happened to one message in a poll.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Processed {
    /// The source's id for the message.
    pub id: String,
    /// The parse, or why the message could not be read.
    pub result: std::result::Result<ParsedMail, MessageError>,
}

/// Reads bookings out of forwarded confirmation mail.
#[derive(Debug)]
pub struct EmailConnector {
    account: AccountId,
    cfg: EmailConfig,
    source: Arc<dyn MessageSource>,
    state: Mutex<State>,
    /// Mails read since the state was last restored: marked processed only after the run that
    /// read them committed.
    unacknowledged: Mutex<Vec<String>>,
}

impl EmailConnector {
    /// A connector reading `source`.
    pub fn new(cfg: EmailConfig, source: Arc<dyn MessageSource>) -> Self {
        Self {
            account: AccountId::new(cfg.account.clone()),
            cfg,
            source,
            state: Mutex::new(State::default()),
            unacknowledged: Mutex::new(Vec::new()),
        }
    }

    /// A connector reading the Maildir at `root` (the embedded default).
    pub fn maildir(cfg: EmailConfig, root: impl Into<PathBuf>) -> Self {
        let limit = cfg.parse.max_message_bytes;
        Self::new(cfg, Arc::new(Maildir::new(root, limit)))
    }

    /// Reads the messages waiting in the source and folds them into the records. They stay
    /// unread at the source until [`Connector::acknowledge`] (which the sync engine calls once
    /// the run's commit holds what they taught). Returns what happened to each message.
    pub async fn poll(&self) -> Result<Vec<Processed>> {
        let mut done = Vec::new();
        self.poll_with(&mut |p| done.push(p)).await?;
        Ok(done)
    }

    /// [`EmailConnector::poll`], handing each message's outcome to `on` instead of collecting
    /// them: the source is read a part at a time, so memory holds the records, not the mailbox.
    pub async fn poll_with(&self, on: &mut (dyn FnMut(Processed) + Send)) -> Result<()> {
        let mut ids = Vec::new();
        let opts = self.cfg.parse.clone();
        let parse: Mapper = Arc::new(move |m: RawMessage| {
            let result = parse_message(&m.bytes, &opts);
            Processed { id: m.id, result }
        });
        let read = {
            let mut state = self.state.lock().await;
            let records = &mut state.records;
            self.source
                .for_each_mapped(parse, &mut |p: Processed| {
                    if let Ok(parsed) = &p.result {
                        fold(records, parsed, &p.id);
                    }
                    tracing::debug!(message = %p.id, ok = p.result.is_ok(), "mail processed");
                    ids.push(p.id.clone());
                    on(p);
                })
                .await
        };
        // What was folded before a failure is in the state: its mails go with it.
        self.unacknowledged.lock().await.extend(ids);
        Ok(read?)
    }

    /// Records held for review, by key.
    pub async fn review_queue(&self) -> Vec<(String, Record)> {
        self.state
            .lock()
            .await
            .records
            .iter()
            .filter(|(_, r)| !r.review.is_empty())
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect()
    }

    /// Every record, by key.
    pub async fn records(&self) -> BTreeMap<String, Record> {
        self.state.lock().await.records.clone()
    }
}

/// Folds one parsed mail into the records. A newer mail's fields win where it has them; an
/// older one (forwarded late) only fills gaps; a cancellation keeps the stay's dates.
fn fold(state: &mut BTreeMap<String, Record>, parsed: &ParsedMail, message_id: &str) {
    let (extraction, review) = match &parsed.outcome {
        Outcome::Booking(e) => (e, Vec::new()),
        Outcome::NeedsReview { extraction, reasons } => (extraction, reasons.clone()),
        Outcome::NotABooking { .. } => return,
    };
    let id = parsed.envelope.message_id.as_deref().unwrap_or(message_id);
    let key = convert::record_key(&extraction.fields, id);
    let sent = parsed.envelope.sent;
    if state.get(&key).is_some_and(|r| r.folded.iter().any(|f| f == id)) {
        return;
    }
    let Some(r) = state.get_mut(&key) else {
        state.insert(
            key,
            Record {
                fields: extraction.fields.clone(),
                template: extraction.template.to_string(),
                confidence: extraction.confidence,
                review,
                last_sent: sent,
                mails: 1,
                folded: vec![id.to_owned()],
            },
        );
        return;
    };
    r.folded.push(id.to_owned());
    let newer = sent >= r.last_sent;
    let was_cancelled = r.fields.kind == MailKind::Cancelled;
    merge(&mut r.fields, &extraction.fields, newer);
    r.fields.kind = match (extraction.fields.kind, was_cancelled, newer) {
        (MailKind::Cancelled, _, _) => MailKind::Cancelled,
        (_, true, false) => MailKind::Cancelled,
        (k, _, _) => k,
    };
    if newer {
        r.template = extraction.template.to_string();
        r.confidence = extraction.confidence;
        r.last_sent = sent;
    }
    r.mails += 1;
    // A gap another mail filled is no longer a reason to hold the booking.
    let f = &r.fields;
    let mut reasons: Vec<String> = if newer { review } else { std::mem::take(&mut r.review) };
    reasons.retain(|why| {
        !(why.starts_with("no arrival") && f.arrival.is_some()
            || why.starts_with("no departure") && f.departure.is_some())
    });
    r.review = reasons;
}

fn merge(into: &mut Extracted, from: &Extracted, newer: bool) {
    macro_rules! take {
        ($($f:ident),*) => {$(
            if from.$f.is_some() && (newer || into.$f.is_none()) {
                into.$f = from.$f.clone();
            }
        )*};
    }
    take!(
        channel,
        channel_ref,
        guest_name,
        guest_email,
        guest_phone,
        arrival,
        departure,
        adults,
        children,
        room,
        total
    );
    for n in &from.notes {
        if !into.notes.contains(n) {
            into.notes.push(n.clone());
        }
    }
}

fn failure_for(p: &Processed) -> Option<RecordFailure> {
    let at = |f: RecordFailure| f.at(format!("message {}", p.id));
    match &p.result {
        Err(e) => Some(at(RecordFailure::new(None, format!("unreadable mail: {e}")))),
        Ok(parsed) => match &parsed.outcome {
            Outcome::NotABooking { reason, .. } => {
                let subject = parsed.envelope.subject.as_deref().unwrap_or("(no subject)");
                Some(at(RecordFailure::new(None, format!("not a booking ({reason}): {subject}"))))
            }
            _ => None,
        },
    }
}

#[async_trait]
impl Connector for EmailConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::EMAIL
    }

    fn account(&self) -> &AccountId {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        capabilities::declared()
    }

    async fn check(&self) -> Result<Health> {
        let waiting = self.source.pending().await?;
        let mut h = Health::new(self.capabilities());
        h.notes.push(format!("{waiting} message(s) waiting"));
        let review = self.review_queue().await.len();
        if review > 0 {
            h.notes.push(format!("{review} booking(s) held for review"));
        }
        Ok(h)
    }

    fn keeps_state(&self) -> bool {
        true
    }

    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        *self.state.lock().await = decode_state(saved, "e-mail connector")?;
        self.unacknowledged.lock().await.clear();
        Ok(())
    }

    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        encode_state(&*self.state.lock().await, "e-mail connector")
    }

    async fn acknowledge(&self) -> Result<()> {
        let ids = std::mem::take(&mut *self.unacknowledged.lock().await);
        if !ids.is_empty() {
            self.source.mark_processed(&ids).await?;
        }
        Ok(())
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        if query.modified_since.is_some() {
            return Err(self.unsupported(hostelpulse_core::Operation::ReadBookingsModified));
        }
        let mut failures = Vec::new();
        self.poll_with(&mut |p| failures.extend(failure_for(&p))).await?;
        let provenance = Provenance::new(Via::Email, Utc::now());
        let mut batch = BookingBatch::complete(Vec::new(), failures);
        for (key, r) in self.state.lock().await.records.iter() {
            let id = Some(SourceId::new(key.clone()));
            if !r.review.is_empty() {
                batch.failures.push(RecordFailure::new(id, format!("held for review: {}", r.review.join("; "))));
                continue;
            }
            match convert::booking(key, &r.fields, &self.account, &provenance) {
                Some(b) => batch.bookings.push(b),
                None => batch
                    .failures
                    .push(RecordFailure::new(id, "no stay dates: a cancellation of a booking no mail announced")),
            }
        }
        batch.bookings.retain(|b| {
            query.stay.is_none_or(|w| w.overlaps_stay(b.arrival, b.departure)) && query.wants_id(&b.key.id)
        });
        Ok(batch)
    }
}
