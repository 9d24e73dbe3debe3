//! The [`Connector`] trait every source implements, and the types its operations take and return.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::capability::{Capabilities, Operation};
use crate::error::{Error, Result};
use crate::model::{AccountId, Availability, Booking, Condition, ConnectorKind, Housekeeping, Property, SourceId};

/// A half-open range of calendar dates `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateRange {
    /// First date.
    pub start: NaiveDate,
    /// First date after the range.
    pub end: NaiveDate,
}

impl DateRange {
    /// `[start, end)`; fails when `end < start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if end < start {
            return Err(Error::invalid_input(format!("date range ends ({end}) before it starts ({start})")));
        }
        Ok(Self { start, end })
    }

    /// Whether `date` is in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Whether a stay `[arrival, departure)` overlaps the range.
    pub fn overlaps_stay(&self, arrival: NaiveDate, departure: NaiveDate) -> bool {
        arrival < self.end && departure > self.start
    }

    /// The dates in the range.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let (start, end) = (self.start, self.end);
        start.iter_days().take_while(move |d| *d < end)
    }
}

/// A non-empty list of booking ids. "No ids" is not a way to say "every booking": a query by id
/// that named nothing would otherwise fall through to an unfiltered read of the whole history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<SourceId>", into = "Vec<SourceId>")]
pub struct BookingIds(Vec<SourceId>);

impl BookingIds {
    /// The ids, or `None` when there are none. Repeated ids are kept once, in first-seen order.
    pub fn new(ids: impl IntoIterator<Item = SourceId>) -> Option<Self> {
        let mut out: Vec<SourceId> = Vec::new();
        for id in ids {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        (!out.is_empty()).then_some(Self(out))
    }

    /// One id.
    pub fn one(id: impl Into<SourceId>) -> Self {
        Self(vec![id.into()])
    }

    /// The ids (never empty).
    pub fn as_slice(&self) -> &[SourceId] {
        &self.0
    }

    /// Whether `id` is one of them.
    pub fn contains(&self, id: &SourceId) -> bool {
        self.0.contains(id)
    }
}

impl std::ops::Deref for BookingIds {
    type Target = [SourceId];
    fn deref(&self) -> &[SourceId] {
        &self.0
    }
}

impl TryFrom<Vec<SourceId>> for BookingIds {
    type Error = &'static str;
    fn try_from(v: Vec<SourceId>) -> std::result::Result<Self, Self::Error> {
        Self::new(v).ok_or("a list of booking ids must name at least one booking")
    }
}

impl From<BookingIds> for Vec<SourceId> {
    fn from(ids: BookingIds) -> Self {
        ids.0
    }
}

/// What a guest stay lookup asks for (triage: "who is in 201 tonight?", "show booking 4711").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StayQuery {
    /// One booking, by the source's id.
    Booking {
        /// The id.
        id: SourceId,
    },
    /// The stays in a room or bed on a night.
    RoomNight {
        /// The room or bed.
        room: SourceId,
        /// The night (the stay's arrival ≤ night < departure).
        night: NaiveDate,
    },
}

/// A stay lookup answered with the connector's own reads: the booking by id, or the night's
/// stays filtered to the room or bed. For connectors that read by id and by stay window.
pub async fn lookup_by_reads(connector: &dyn Connector, query: &StayQuery) -> Result<Vec<Booking>> {
    match query {
        StayQuery::Booking { id } => {
            Ok(connector.bookings(&BookingQuery::ids(BookingIds::one(id.clone()))).await?.bookings)
        }
        StayQuery::RoomNight { room, night } => {
            let next = night.succ_opt().ok_or_else(|| Error::invalid_input("no night after the last date"))?;
            let window = DateRange::new(*night, next)?;
            let batch = connector.bookings(&BookingQuery::stay_window(window)).await?;
            Ok(batch.bookings.into_iter().filter(|b| in_room_on(b, room, *night)).collect())
        }
    }
}

/// Whether `b` sleeps in `room` (a room, or a bed of it) on `night`.
pub fn in_room_on(b: &Booking, room: &SourceId, night: NaiveDate) -> bool {
    b.arrival <= night
        && night < b.departure
        && b.allocations.iter().any(|a| a.bed.as_ref() == Some(room) || a.room.as_ref() == Some(room))
}

/// What bookings to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BookingQuery {
    /// Stays overlapping this window.
    pub stay: Option<DateRange>,
    /// Modified at or after this time (inclusive lower bound).
    pub modified_since: Option<DateTime<Utc>>,
    /// Include cancelled bookings (the engine always asks for them).
    pub include_cancelled: bool,
    /// Only these ids (`None`: not filtered by id).
    pub ids: Option<BookingIds>,
}

impl BookingQuery {
    /// Stays overlapping `window`, cancelled included.
    pub fn stay_window(window: DateRange) -> Self {
        Self { stay: Some(window), include_cancelled: true, ..Self::default() }
    }

    /// Modified at or after `since`, cancelled included.
    pub fn modified_since(since: DateTime<Utc>) -> Self {
        Self { modified_since: Some(since), include_cancelled: true, ..Self::default() }
    }

    /// These bookings, whatever their status.
    pub fn ids(ids: BookingIds) -> Self {
        Self { ids: Some(ids), include_cancelled: true, ..Self::default() }
    }

    /// Whether `id` passes the id filter (always, when there is none).
    pub fn wants_id(&self, id: &SourceId) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(id))
    }
}

/// Connector state as the store keeps it (JSON), for [`Connector::save_state`].
pub fn encode_state<T: Serialize>(state: &T, what: &str) -> Result<Option<serde_json::Value>> {
    serde_json::to_value(state).map(Some).map_err(|e| Error::invalid_input(format!("{what} state: {e}")))
}

/// Connector state back from the store, for [`Connector::restore_state`]; nothing saved yet is the
/// default (empty) state.
pub fn decode_state<T: serde::de::DeserializeOwned + Default>(
    saved: Option<serde_json::Value>,
    what: &str,
) -> Result<T> {
    match saved {
        Some(v) => serde_json::from_value(v).map_err(|e| Error::invalid_input(format!("saved {what} state: {e}"))),
        None => Ok(T::default()),
    }
}

/// A record the connector fetched but could not convert. Never dropped silently: the sync report
/// lists it with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFailure {
    /// The source's id, when it could be read.
    pub source_id: Option<SourceId>,
    /// Why it failed.
    pub reason: String,
    /// Where in the payload (a JSON path, a line number), when known.
    pub location: Option<String>,
}

impl RecordFailure {
    /// A failure for the record `source_id`.
    pub fn new(source_id: Option<SourceId>, reason: impl Into<String>) -> Self {
        Self { source_id, reason: reason.into(), location: None }
    }

    /// Adds where in the payload.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

/// Where a read in parts goes ([`Connector::bookings_in_parts`]): the sync engine.
#[async_trait]
pub trait BookingParts: Send {
    /// One part: the bookings of a page or a few, and the records among them that did not
    /// convert. An error stops the read, and the connector returns it.
    async fn part(&mut self, bookings: Vec<Booking>, failures: Vec<RecordFailure>) -> Result<()>;

    /// The ids an earlier attempt of the same read handed over before it stopped, when this one
    /// resumes it: they were delivered then, and count as seen in this read's snapshot.
    fn seen_before(&mut self, ids: Vec<SourceId>);
}

/// The bookings a query returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BookingBatch {
    /// Bookings converted.
    pub bookings: Vec<Booking>,
    /// Records fetched but not converted.
    pub failures: Vec<RecordFailure>,
    /// Whether every page of the query was read. Only a complete fetch may decide that a record
    /// has disappeared.
    pub complete: bool,
}

impl BookingBatch {
    /// A complete batch.
    pub fn complete(bookings: Vec<Booking>, failures: Vec<RecordFailure>) -> Self {
        Self { bookings, failures, complete: true }
    }
}

/// A stay-status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StayStatus {
    /// The guest arrived.
    CheckedIn,
    /// The guest left.
    CheckedOut,
}

/// What a write did at the source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WriteReceipt {
    /// The id the source gave the written thing (a note id), when it gives one.
    pub id: Option<String>,
    /// Warnings the source returned.
    pub warnings: Vec<String>,
}

impl WriteReceipt {
    /// A receipt with an id.
    pub fn with_id(id: impl Into<String>) -> Self {
        Self { id: Some(id.into()), warnings: Vec::new() }
    }
}

/// The result of a health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// The capabilities effective for this account.
    pub effective: Capabilities,
    /// Scopes or permissions the credential carries, when the source says.
    pub scopes: Vec<String>,
    /// Things the owner should know ("token expires in 3 days").
    pub notes: Vec<String>,
}

impl Health {
    /// A healthy check with these effective capabilities.
    pub fn new(effective: Capabilities) -> Self {
        Self { effective, scopes: Vec::new(), notes: Vec::new() }
    }
}

/// Counters a connector's transport keeps; the sync engine reads the difference over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportStats {
    /// Requests sent (including retries).
    pub requests: u64,
    /// Retries.
    pub retries: u64,
    /// Milliseconds spent waiting for pacing, credit budgets or `Retry-After`.
    pub throttled_ms: u64,
    /// The source's clock minus ours, in seconds, from the `Date` header of the latest response
    /// (negative: the source is behind). `None` until a response carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_secs: Option<i64>,
}

impl TransportStats {
    /// `self - earlier`, saturating.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            throttled_ms: self.throttled_ms.saturating_sub(earlier.throttled_ms),
            // A measurement, not a counter: the latest one stands.
            clock_skew_secs: self.clock_skew_secs,
        }
    }
}

/// A property a credential can see, from [`Connector::discover`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiscoveredProperty {
    /// The source's property id (what the account's `property_id` takes).
    pub id: String,
    /// Its name at the source.
    pub name: String,
}

impl DiscoveredProperty {
    /// A property.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self { id: id.into(), name: name.into() }
    }
}

/// A source of bookings, rooms, availability and housekeeping for one account.
///
/// Reads return normalized records; a record that fails to convert is reported in the batch, not
/// dropped. Operations the source cannot do return [`Error::Unsupported`] naming the connector and
/// the operation — the default for every operation but `kind`, `account` and `capabilities`.
///
/// Cross-cutting behaviour (retry, pacing, timeouts, tracing, audit) is not the connector's job:
/// the HTTP client and the sync engine in this crate wrap it.
///
/// ```
/// use async_trait::async_trait;
/// use hostelpulse_core::{Capabilities, Connector, ConnectorKind, AccountId};
/// use hostelpulse_core::capability::{Granularity, Incremental, RateLimit, SyncSemantics, Visibility, WebhookAuth};
///
/// struct Nothing(AccountId);
///
/// #[async_trait]
/// impl Connector for Nothing {
///     fn kind(&self) -> ConnectorKind { ConnectorKind::new("nothing") }
///     fn account(&self) -> &AccountId { &self.0 }
///     fn capabilities(&self) -> Capabilities {
///         Capabilities::new(self.kind(), "Nothing", SyncSemantics::new(
///             Incremental::None, Visibility::NotVisible, Visibility::NotVisible,
///             Granularity::Property, WebhookAuth::NotOffered, RateLimit::None, "never"))
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let c = Nothing(AccountId::new("1"));
/// let err = c.rooms().await.unwrap_err();
/// assert_eq!(err.kind(), hostelpulse_core::ErrorKind::Unsupported);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait Connector: Send + Sync {
    /// The connector kind.
    fn kind(&self) -> ConnectorKind;

    /// The account (property) this instance reads.
    fn account(&self) -> &AccountId;

    /// The declared capabilities of this connector.
    fn capabilities(&self) -> Capabilities;

    /// Checks credentials and scopes, and returns the capabilities effective for this account.
    async fn check(&self) -> Result<Health> {
        Ok(Health::new(self.capabilities()))
    }

    /// Properties with room types, rooms and beds.
    async fn rooms(&self) -> Result<Vec<Property>> {
        Err(self.unsupported(Operation::ReadRooms))
    }

    /// Every property these credentials can see (a Beds24 account with several properties, a
    /// Cloudbeds group or association key), so a host can add one account per property. The
    /// configured property is among them.
    async fn discover(&self) -> Result<Vec<DiscoveredProperty>> {
        Err(self.unsupported(Operation::ReadRooms))
    }

    /// Bookings matching a query.
    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        let _ = query;
        Err(self.unsupported(Operation::ReadBookings))
    }

    /// [`Connector::bookings`], handed to `parts` a part at a time as the source's pages arrive,
    /// so that a large property's bookings are never all in memory: the engine compares and
    /// delivers each part, keeping only the ids it saw. Returns whether every page was read (a
    /// snapshot the disappearance rule may judge).
    ///
    /// The default reads everything with [`Connector::bookings`] and hands it over as one part. A
    /// connector that pages overrides it; one that resumes an unfinished read names the records
    /// the earlier attempt handed over ([`BookingParts::seen_before`]) instead of reading them
    /// again.
    async fn bookings_in_parts(&self, query: &BookingQuery, parts: &mut dyn BookingParts) -> Result<bool> {
        let batch = self.bookings(query).await?;
        parts.part(batch.bookings, batch.failures).await?;
        Ok(batch.complete)
    }

    /// Availability per room type and night in `range`.
    async fn availability(&self, range: DateRange) -> Result<Vec<Availability>> {
        let _ = range;
        Err(self.unsupported(Operation::ReadAvailability))
    }

    /// Current housekeeping state.
    async fn housekeeping(&self) -> Result<Vec<Housekeeping>> {
        Err(self.unsupported(Operation::ReadHousekeeping))
    }

    /// Marks a stay checked in or out.
    async fn set_stay_status(&self, booking: &SourceId, status: StayStatus) -> Result<WriteReceipt> {
        let _ = (booking, status);
        Err(self.unsupported(Operation::SetStayStatus))
    }

    /// Adds a note to a booking.
    async fn add_note(&self, booking: &SourceId, text: &str) -> Result<WriteReceipt> {
        let _ = (booking, text);
        Err(self.unsupported(Operation::AddNote))
    }

    /// Sets a room's housekeeping condition.
    async fn set_housekeeping(&self, room: &SourceId, condition: Condition) -> Result<WriteReceipt> {
        let _ = (room, condition);
        Err(self.unsupported(Operation::SetHousekeeping))
    }

    /// Looks a guest's stay up at the source, where it can answer directly
    /// ([`Operation::LookupStay`] native); others are answered from the synced bookings
    /// (`hostelpulse_store::lookup_stay`).
    async fn lookup_stay(&self, query: &StayQuery) -> Result<Vec<Booking>> {
        let _ = query;
        Err(self.unsupported(Operation::LookupStay))
    }

    /// The source's webhook subscriptions, where its API manages them (Cloudbeds): the runtime
    /// keeps them pointed at its endpoint ([`crate::webhook::subscriptions::reconcile`]). `None`
    /// where webhooks are set up by hand in the vendor's settings, or not offered.
    fn webhook_subscriptions(&self) -> Option<&dyn crate::webhook::WebhookSubscriptions> {
        None
    }

    /// Transport counters, for connectors that talk HTTP.
    fn transport_stats(&self) -> Option<TransportStats> {
        None
    }

    /// Whether this source accumulates state of its own between runs (an inbox's folded mails,
    /// a push source's deliveries). The engine then loads that state from the store before each
    /// run ([`Connector::restore_state`]), saves it in the run's commit
    /// ([`Connector::save_state`]) and acknowledges the source only after that commit
    /// ([`Connector::acknowledge`]). Hosts never call these themselves.
    fn keeps_state(&self) -> bool {
        false
    }

    /// Replaces the connector's accumulated state with the one the last committed run saved
    /// (`None`: nothing saved yet). Anything read but not committed since is forgotten, and will
    /// be read again.
    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        let _ = saved;
        Ok(())
    }

    /// The accumulated state to save with the run's commit.
    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        Ok(None)
    }

    /// Called once the run that read the source has committed: a mailbox marks the mails that run
    /// read as seen. A crash before this point re-reads them; folding them again is idempotent.
    async fn acknowledge(&self) -> Result<()> {
        Ok(())
    }

    /// Where an unfinished paged read stopped (see [`crate::paging::Checkpoints`]), as JSON text
    /// for the engine to keep in the store when a run fails or is deferred; `None` when no read
    /// is waiting. Hosts never call this themselves.
    async fn paging_checkpoint(&self) -> Option<String> {
        None
    }

    /// Continues from a checkpoint an earlier process saved: the next read with the same
    /// identity starts at the page where that one stopped. A connector with a read of its own
    /// waiting keeps it. The engine calls this before each run that finds one in the store.
    async fn resume_paging(&self, saved: &str) -> Result<()> {
        let _ = saved;
        Ok(())
    }

    /// Applies one verified push delivery (a Sirvoy booking event) to the accumulated state,
    /// inside a run, and returns the bookings it touched. Only push sources implement it.
    async fn ingest(&self, payload: &[u8]) -> Result<Vec<SourceId>> {
        let _ = payload;
        Err(self.unsupported(Operation::Webhooks))
    }

    /// The `Unsupported` error for `op`, with the reason from the declared capabilities.
    fn unsupported(&self, op: Operation) -> Error {
        let reason = match self.capabilities().support(op) {
            crate::capability::Support::Unsupported { why } => why,
            other => format!("not implemented by this connector (declared {})", other.label()),
        };
        Error::unsupported(self.kind(), op, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn date_ranges_are_half_open_and_validated() {
        let r = DateRange::new(d("2026-03-28"), d("2026-04-01")).unwrap();
        assert_eq!(r.days().count(), 4);
        assert!(r.contains(d("2026-03-31")));
        assert!(!r.contains(d("2026-04-01")));
        // A stay leaving on the first day does not overlap; one arriving on the end day does not either.
        assert!(!r.overlaps_stay(d("2026-03-25"), d("2026-03-28")));
        assert!(!r.overlaps_stay(d("2026-04-01"), d("2026-04-03")));
        assert!(r.overlaps_stay(d("2026-03-27"), d("2026-03-29")));
        assert!(DateRange::new(d("2026-04-02"), d("2026-04-01")).is_err());
    }
}
