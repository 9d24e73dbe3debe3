//! The bookings, rooms and housekeeping the store's own sink keeps (see
//! [`crate::BookingStore`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hostelpulse_core::error::BoxError;
use hostelpulse_core::model::{Booking, BookingStatus, Housekeeping, Property};
use hostelpulse_core::sync::{Change, ChangeClass, RoomRefresh, Scope, Sink, StoreError};
use tokio_postgres::types::Json;

use super::sync::scope_of;
use super::{PgStore, backend, corrupt};
use crate::{BookingStore, Pruned, Retention};

fn booking_row(r: &tokio_postgres::Row) -> Result<Booking, StoreError> {
    let mut b = r.try_get::<_, Json<Booking>>(0).map_err(|e| corrupt("booking record", e))?.0;
    let gone_at: Option<DateTime<Utc>> = r.try_get(1).map_err(|e| corrupt("booking record", e))?;
    if let Some(at) = gone_at {
        b.status = BookingStatus::Cancelled;
        b.status_raw = Some("gone: no longer in the source".into());
        b.cancelled_at = Some(at);
    }
    Ok(b)
}

impl PgStore {
    async fn put_account_record<T: serde::Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        scope: &Scope,
        record: &T,
    ) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                &format!(
                    "INSERT INTO {table} (connector, account, record) VALUES ($1, $2, $3)
                     ON CONFLICT (connector, account) DO UPDATE SET record = excluded.record"
                ),
                &[&scope.connector.as_str(), &scope.account.as_str(), &Json(record)],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl BookingStore for PgStore {
    async fn bookings_between(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<Booking>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT record, gone_at FROM booking WHERE arrival < $2 AND departure > $1
                 ORDER BY arrival, connector, source_id",
                &[&from, &until],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(booking_row).collect()
    }

    async fn bookings_of_between(
        &self,
        scopes: &[Scope],
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let connectors: Vec<&str> = scopes.iter().map(|s| s.connector.as_str()).collect();
        let accounts: Vec<&str> = scopes.iter().map(|s| s.account.as_str()).collect();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT b.record, b.gone_at FROM booking b
                 JOIN unnest($1::text[], $2::text[]) AS s(connector, account)
                   ON b.connector = s.connector AND b.account = s.account
                 WHERE b.arrival < $4 AND b.departure > $3
                 ORDER BY b.arrival, b.connector, b.source_id",
                &[&connectors, &accounts, &from, &until],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(booking_row).collect()
    }

    async fn bookings_of(&self, scope: &Scope) -> Result<Vec<Booking>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT record, gone_at FROM booking WHERE connector = $1 AND account = $2
                 ORDER BY arrival, source_id",
                &[&scope.connector.as_str(), &scope.account.as_str()],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(booking_row).collect()
    }

    async fn housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT record FROM housekeeping WHERE connector = $1 AND account = $2",
                &[&scope.connector.as_str(), &scope.account.as_str()],
            )
            .await
            .map_err(backend)?;
        row.map(|r| r.try_get::<_, Json<Vec<Housekeeping>>>(0).map(|j| j.0).map_err(|e| corrupt("housekeeping", e)))
            .transpose()
    }

    async fn save_properties(&self, scope: &Scope, properties: &[Property]) -> Result<(), StoreError> {
        self.put_account_record("property", scope, &properties).await
    }

    async fn properties(&self) -> Result<Vec<(Scope, Vec<Property>)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT connector, account, record FROM property ORDER BY connector, account", &[])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let props = r.try_get::<_, Json<Vec<Property>>>(2).map_err(|e| corrupt("property record", e))?.0;
                Ok((scope_of(r.get(0), r.get(1)), props))
            })
            .collect()
    }

    async fn prune(&self, today: NaiveDate, retention: &Retention) -> Result<Pruned, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        let mut pruned = Pruned::default();
        if let Some(days) = retention.audit_days {
            let cutoff = (today - chrono::Duration::days(i64::from(days))).and_time(chrono::NaiveTime::MIN).and_utc();
            // Each account's newest run and newest successful run stay: the status view needs them.
            pruned.audit_runs = tx
                .execute(
                    "DELETE FROM audit_run a WHERE a.started_at < $1
                       AND a.run_id <> (SELECT b.run_id FROM audit_run b
                                         WHERE b.connector = a.connector AND b.account = a.account
                                         ORDER BY b.started_at DESC, b.seq DESC LIMIT 1)
                       AND a.run_id <> COALESCE((SELECT b.run_id FROM audit_run b
                                         WHERE b.connector = a.connector AND b.account = a.account
                                           AND b.outcome IN ('ok', 'partial')
                                         ORDER BY b.started_at DESC, b.seq DESC LIMIT 1), '')",
                    &[&cutoff],
                )
                .await
                .map_err(backend)?;
        }
        if let Some(days) = retention.contact_days {
            let cutoff = today - chrono::Duration::days(i64::from(days));
            // Done in SQL: the JSON keys are cleared in place, no row goes through this process.
            pruned.contacts_cleared = tx
                .execute(
                    "UPDATE booking SET record = jsonb_set(jsonb_set(record, '{guest,email}', 'null'),
                                                           '{guest,phone}', 'null')
                     WHERE departure < $1
                       AND (COALESCE(record #> '{guest,email}', 'null') <> 'null'
                            OR COALESCE(record #> '{guest,phone}', 'null') <> 'null')",
                    &[&cutoff],
                )
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(pruned)
    }
}

#[async_trait]
impl Sink for PgStore {
    /// Upserts new, changed, cancelled and restored bookings; marks disappeared ones gone (the
    /// row stays). Idempotent by key.
    async fn apply(&self, changes: &[Change]) -> Result<(), BoxError> {
        let now = Utc::now();
        let mut up: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<NaiveDate>, Vec<NaiveDate>, Vec<serde_json::Value>) =
            Default::default();
        let mut gone: (Vec<&str>, Vec<&str>, Vec<&str>) = Default::default();
        for c in changes {
            let (cn, ac, id) = (c.key.connector.as_str(), c.key.account.as_str(), c.key.id.as_str());
            match (&c.booking, c.class) {
                (Some(b), _) => {
                    up.0.push(cn);
                    up.1.push(ac);
                    up.2.push(id);
                    up.3.push(b.arrival);
                    up.4.push(b.departure);
                    up.5.push(serde_json::to_value(b)?);
                }
                (None, ChangeClass::Disappeared) => {
                    gone.0.push(cn);
                    gone.1.push(ac);
                    gone.2.push(id);
                }
                (None, _) => {}
            }
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        if !up.0.is_empty() {
            // A batch can name a key twice (an update after an insert): the last one wins, as
            // with one statement per change.
            tx.execute(
                "INSERT INTO booking (connector, account, source_id, arrival, departure, record, gone_at)
                 SELECT DISTINCT ON (c, a, s) c, a, s, ar, de, r, NULL::timestamptz
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], $6::jsonb[])
                      WITH ORDINALITY AS t(c, a, s, ar, de, r, n)
                 ORDER BY c, a, s, n DESC
                 ON CONFLICT (connector, account, source_id) DO UPDATE SET
                   arrival = excluded.arrival, departure = excluded.departure, record = excluded.record,
                   gone_at = NULL",
                &[&up.0, &up.1, &up.2, &up.3, &up.4, &up.5],
            )
            .await?;
        }
        if !gone.0.is_empty() {
            // Gone is a status: the row and what it said stay.
            tx.execute(
                "UPDATE booking b SET gone_at = COALESCE(b.gone_at, $4)
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS g(c, a, s)
                 WHERE b.connector = g.c AND b.account = g.a AND b.source_id = g.s",
                &[&gone.0, &gone.1, &gone.2, &now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the refreshed rooms and housekeeping (the parts the source could read).
    async fn apply_rooms(&self, scope: &Scope, rooms: &RoomRefresh) -> Result<(), BoxError> {
        if let Some(p) = &rooms.properties {
            self.put_account_record("property", scope, p).await?;
        }
        if let Some(h) = &rooms.housekeeping {
            self.put_account_record("housekeeping", scope, h).await?;
        }
        Ok(())
    }

    async fn kept_housekeeping(&self, scope: &Scope) -> Result<Option<Vec<Housekeeping>>, BoxError> {
        Ok(BookingStore::housekeeping(self, scope).await?)
    }
}

#[async_trait]
impl hostelpulse_core::sync::PreviousBookings for PgStore {
    async fn bookings_by_key(&self, keys: &[hostelpulse_core::model::SourceKey]) -> Result<Vec<Booking>, StoreError> {
        let (c, a, i): (Vec<&str>, Vec<&str>, Vec<&str>) =
            keys.iter().fold((Vec::new(), Vec::new(), Vec::new()), |(mut c, mut a, mut i), k| {
                c.push(k.connector.as_str());
                a.push(k.account.as_str());
                i.push(k.id.as_str());
                (c, a, i)
            });
        let rows = self
            .client()
            .await?
            .query(
                "SELECT b.record, b.gone_at FROM booking b
                 JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(connector, account, source_id)
                   ON b.connector = k.connector AND b.account = k.account AND b.source_id = k.source_id",
                &[&c, &a, &i],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(booking_row).collect()
    }
}
