//! Schedules, the retry queue, account leases and the worker registry.
//!
//! A lease is a row in `account_lease`, taken and renewed under that row's lock (`SELECT … FOR
//! UPDATE`): two workers asking at once are served one after the other, and the second sees the
//! first's lease. Times are the workers' clocks; keep them synchronized (NTP) — the lease time
//! is minutes, skew must stay well under it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use hostelpulse_core::sync::{JobRecord, JobStore, LeaseGrant, Scope, StoreError};
use tokio_postgres::types::Json;

use super::sync::scope_of;
use super::{PgStore, backend, corrupt};

async fn save_job_in(c: &impl GenericClient, scope: &Scope, job: &JobRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO runtime_job (connector, account, record) VALUES ($1, $2, $3)
         ON CONFLICT (connector, account) DO UPDATE SET record = excluded.record",
        &[&scope.connector.as_str(), &scope.account.as_str(), &Json(job)],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// Gives a lease back by expiring it now; the holder's name stays, so the quiet time it asks
/// for binds only the others.
async fn release_in(
    c: &impl GenericClient,
    scope: &Scope,
    holder: &str,
    quiet_until: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE account_lease SET until = $5, quiet_until = $4 WHERE connector = $1 AND account = $2 AND holder = $3",
        &[&scope.connector.as_str(), &scope.account.as_str(), &holder, &quiet_until, &DateTime::<Utc>::UNIX_EPOCH],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl JobStore for PgStore {
    async fn jobs(&self) -> Result<Vec<(Scope, JobRecord)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT connector, account, record FROM runtime_job ORDER BY connector, account", &[])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let job = r.try_get::<_, Json<JobRecord>>(2).map_err(|e| corrupt("job record", e))?.0;
                Ok((scope_of(r.get(0), r.get(1)), job))
            })
            .collect()
    }

    async fn job(&self, scope: &Scope) -> Result<Option<JobRecord>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT record FROM runtime_job WHERE connector = $1 AND account = $2",
                &[&scope.connector.as_str(), &scope.account.as_str()],
            )
            .await
            .map_err(backend)?;
        row.map(|r| r.try_get::<_, Json<JobRecord>>(0).map(|j| j.0).map_err(|e| corrupt("job record", e))).transpose()
    }

    async fn save_job(&self, scope: &Scope, job: &JobRecord) -> Result<(), StoreError> {
        save_job_in(&self.client().await?, scope, job).await
    }

    async fn lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<LeaseGrant, StoreError> {
        let (cn, ac) = (scope.connector.as_str(), scope.account.as_str());
        let until = now + ttl;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        // The row exists before it is locked, so that a first lease is serialized too.
        tx.execute(
            "INSERT INTO account_lease (connector, account, holder, until) VALUES ($1, $2, NULL, $3)
             ON CONFLICT (connector, account) DO NOTHING",
            &[&cn, &ac, &DateTime::<Utc>::UNIX_EPOCH],
        )
        .await
        .map_err(backend)?;
        let row = tx
            .query_one(
                "SELECT holder, until, quiet_until FROM account_lease WHERE connector = $1 AND account = $2 FOR UPDATE",
                &[&cn, &ac],
            )
            .await
            .map_err(backend)?;
        let previous_holder: Option<String> = row.try_get(0).map_err(|e| corrupt("lease", e))?;
        let other_until: DateTime<Utc> = row.try_get(1).map_err(|e| corrupt("lease", e))?;
        let quiet: Option<DateTime<Utc>> = row.try_get(2).map_err(|e| corrupt("lease", e))?;
        let quiet_until = match &previous_holder {
            Some(other) if other != holder && other_until > now => {
                let held = LeaseGrant::Held { by: other.clone(), until: other_until };
                tx.commit().await.map_err(backend)?;
                return Ok(held);
            }
            // The quiet time protects the source from two workers' bursts; a holder taking back
            // its own lease knows its own pace.
            Some(last) if last == holder => None,
            _ => quiet,
        };
        tx.execute(
            "UPDATE account_lease SET holder = $3, until = $4 WHERE connector = $1 AND account = $2",
            &[&cn, &ac, &holder, &until],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(LeaseGrant::Granted { until, quiet_until, previous_holder })
    }

    async fn release(&self, scope: &Scope, holder: &str, quiet_until: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        release_in(&self.client().await?, scope, holder, quiet_until).await
    }

    async fn save_job_and_release(
        &self,
        scope: &Scope,
        job: &JobRecord,
        holder: &str,
        quiet_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        save_job_in(&tx, scope, job).await?;
        release_in(&tx, scope, holder, quiet_until).await?;
        tx.commit().await.map_err(backend)
    }

    async fn heartbeat(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute(
            "INSERT INTO runtime_worker (holder, until) VALUES ($1, $2)
             ON CONFLICT (holder) DO UPDATE SET until = excluded.until",
            &[&holder, &(now + ttl)],
        )
        .await
        .map_err(backend)?;
        tx.execute("DELETE FROM runtime_worker WHERE until <= $1", &[&now]).await.map_err(backend)?;
        let rows = tx.query("SELECT holder FROM runtime_worker ORDER BY holder", &[]).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn leave(&self, holder: &str) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute("DELETE FROM runtime_worker WHERE holder = $1", &[&holder])
            .await
            .map_err(backend)?;
        Ok(())
    }
}
