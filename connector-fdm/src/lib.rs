//! # hostelpulse-connector-fdm
//!
//! FrontDesk Master documents no API at all — no endpoints, no tokens, no webhooks. What it does
//! offer is per-room iCal exports (dates taken, no details) and CSV/Excel report exports. This
//! connector is that composite, and its capability row says exactly so:
//!
//! - reads through [`hostelpulse_connector_ical`] over the per-room exports, keyed under the `fdm`
//!   connector kind (busy dates are *unavailable*: occupied, details unknown, unless the event's text
//!   says more);
//! - imports report exports through [`hostelpulse_csv`] with the FrontDesk Master preset, under the
//!   same kind and account, so guest details and history land on the same records;
//! - no writes; its notification e-mails are for the e-mail connector once a template is known.
//!
//! ```no_run
//! use hostelpulse_connector_fdm::FdmConnector;
//! use hostelpulse_connector_ical::{FeedConfig, IcalConfig};
//! use hostelpulse_core::model::{Allocation, ConnectorKind};
//! use secrecy::SecretString;
//!
//! # fn build() -> hostelpulse_core::Result<()> {
//! let room = Allocation { room_type: Some("dorm-a".into()), room: Some("dorm-a".into()), ..Allocation::default() };
//! let feeds = IcalConfig::builder("my-hostel", chrono_tz::Europe::Madrid)
//!     .feed(FeedConfig::new("dorm-a", SecretString::from("https://…/ical/dorm-a.ics"), room));
//! let fdm = FdmConnector::new(feeds)?;
//! # let _ = fdm; Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::Path;

use async_trait::async_trait;
use hostelpulse_connector_ical::{IcalConfigBuilder, IcalConnector};
use hostelpulse_core::capability::{
    Capabilities, Granularity, Incremental, Operation, RateLimit, Support, SyncSemantics, Visibility, WebhookAuth,
};
use hostelpulse_core::connector::{BookingBatch, BookingQuery, Connector, Health, TransportStats};
use hostelpulse_core::model::{AccountId, ConnectorKind, Property};
use hostelpulse_core::sync::{Sink, SyncEngine};
use hostelpulse_core::{Error, Result};
use hostelpulse_csv::{CsvImport, ImportReport, Preset};

/// The declared capabilities.
pub fn declared_capabilities() -> Capabilities {
    Capabilities::new(
        ConnectorKind::FDM,
        "FrontDesk Master (iCal + CSV exports)",
        SyncSemantics::new(
            Incremental::None,
            Visibility::SnapshotDiff,
            Visibility::SnapshotDiff,
            Granularity::Mapping,
            WebhookAuth::NotOffered,
            RateLimit::PollInterval { min_secs: 900 },
            "iCal: as often as polled (FrontDesk Master updates its exports about hourly); CSV: when the owner exports",
        ),
    )
    .with(Operation::Check, Support::simulated("fetches every per-room iCal export once"))
    .with(Operation::ReadRooms, Support::simulated("the rooms the iCal exports are mapped to"))
    .with(Operation::ReadBookings, Support::simulated("per-room iCal exports: dates taken, no details; CSV report imports add guests and history"))
    .with(Operation::ReadBookingsModified, Support::unsupported("no public API: every read is a full iCal snapshot"))
    .with(Operation::ReadBookingsById, Support::simulated("the iCal exports re-read and filtered"))
    .with(Operation::ReadGuestDetails, Support::simulated("only from CSV report imports: the iCal exports carry none"))
    .with(Operation::ReadAvailability, Support::unsupported("no public API"))
    .with(Operation::ReadHousekeeping, Support::unsupported("no public API"))
    .with(Operation::SetStayStatus, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::AddNote, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::SetHousekeeping, Support::unsupported("no public API: FrontDesk Master accepts no writes"))
    .with(Operation::Webhooks, Support::unsupported("FrontDesk Master documents no webhooks"))
    .with_uncertain("whether a private partner API exists: none is documented, none is coded against")
    .with_uncertain("the report export's column names: the `fdm` CSV preset knows common spellings; others map with the generic preset")
    .with_uncertain("the iCal export's event texts: unknown texts are treated as unavailable dates")
}

/// FrontDesk Master through its exports.
#[derive(Debug)]
pub struct FdmConnector {
    ical: IcalConnector,
    account: AccountId,
}

impl FdmConnector {
    /// A connector over the per-room iCal exports configured in `feeds`.
    pub fn new(feeds: IcalConfigBuilder) -> Result<Self> {
        let cfg = feeds.connector_kind(ConnectorKind::FDM).build()?;
        let account = cfg.account.clone();
        Ok(Self { ical: IcalConnector::new(cfg)?, account })
    }

    /// The iCal side (feed status, staleness).
    pub fn ical(&self) -> &IcalConnector {
        &self.ical
    }

    /// Imports a FrontDesk Master report export (CSV) through `engine`, under this account.
    pub async fn import_csv(
        &self,
        engine: &SyncEngine,
        path: &Path,
        sink: &dyn Sink,
        dry_run: bool,
    ) -> Result<ImportReport> {
        let opts = CsvImport::new(Preset::Fdm, self.account.clone());
        hostelpulse_csv::import(engine, path, &opts, sink, dry_run)
            .await
            .map_err(|e| Error::invalid_input(format!("FrontDesk Master export: {e}")))
    }
}

#[async_trait]
impl Connector for FdmConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::FDM
    }

    fn account(&self) -> &AccountId {
        &self.account
    }

    fn capabilities(&self) -> Capabilities {
        declared_capabilities()
    }

    async fn check(&self) -> Result<Health> {
        let mut h = self.ical.check().await?;
        h.effective = self.capabilities();
        Ok(h)
    }

    async fn rooms(&self) -> Result<Vec<Property>> {
        self.ical.rooms().await
    }

    async fn bookings(&self, query: &BookingQuery) -> Result<BookingBatch> {
        if query.modified_since.is_some() {
            return Err(self.unsupported(Operation::ReadBookingsModified));
        }
        self.ical.bookings(query).await
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        self.ical.transport_stats()
    }
}
