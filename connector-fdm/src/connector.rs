//! The composite connector: iCal exports for reads, CSV report imports for details.

use std::path::Path;

use async_trait::async_trait;
use hostelpulse_connector_ical::{IcalConfigBuilder, IcalConnector};
use hostelpulse_core::capability::{Capabilities, Operation};
use hostelpulse_core::connector::{BookingBatch, BookingQuery, Connector, Health, TransportStats};
use hostelpulse_core::model::{AccountId, ConnectorKind, Property};
use hostelpulse_core::sync::{Sink, SyncEngine};
use hostelpulse_core::{Error, Result};
use hostelpulse_csv::{CsvImport, ImportReport, Preset};

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
        crate::capabilities::declared()
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

    // The feeds' validators and last results are the iCal connector's state.
    fn keeps_state(&self) -> bool {
        self.ical.keeps_state()
    }

    async fn restore_state(&self, saved: Option<serde_json::Value>) -> Result<()> {
        self.ical.restore_state(saved).await
    }

    async fn save_state(&self) -> Result<Option<serde_json::Value>> {
        self.ical.save_state().await
    }
}
