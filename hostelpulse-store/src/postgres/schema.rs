//! Versioned migrations: `hostelpulse_schema` records how many have run. They run in one
//! transaction under an advisory lock, so workers starting together migrate once and a failed
//! migration leaves nothing half done.

use deadpool_postgres::Object;
use hostelpulse_core::sync::StoreError;

use super::backend;

/// The advisory lock key migrations run under ("hostelpulse" in ASCII, truncated to 8 bytes).
const MIGRATION_LOCK: i64 = 0x686f_7374_656c_7075;

/// Ordered migrations. Never edit one that has shipped: add the next.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sync_record (
    connector      TEXT        NOT NULL,
    account        TEXT        NOT NULL,
    source_id      TEXT        NOT NULL,
    fingerprint    BYTEA       NOT NULL,
    modified_at    TIMESTAMPTZ,
    arrival        DATE        NOT NULL,
    departure      DATE        NOT NULL,
    cancelled      BOOLEAN     NOT NULL,
    missing_passes SMALLINT    NOT NULL,
    gone           BOOLEAN     NOT NULL,
    origin         TEXT        NOT NULL DEFAULT 'fetch',
    PRIMARY KEY (connector, account, source_id)
);
CREATE TABLE sync_cursor (
    connector TEXT        NOT NULL,
    account   TEXT        NOT NULL,
    cursor    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE connector_state (
    connector TEXT   NOT NULL,
    account   TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    state     JSONB  NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE paging_checkpoint (
    connector  TEXT NOT NULL,
    account    TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE audit_run (
    seq         BIGSERIAL   UNIQUE,
    run_id      TEXT        PRIMARY KEY,
    connector   TEXT        NOT NULL,
    account     TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    outcome     TEXT        NOT NULL,
    worker      TEXT,
    record      JSONB       NOT NULL
);
CREATE INDEX audit_run_scope ON audit_run (connector, account, started_at DESC, seq DESC);
CREATE TABLE webhook_event (
    key     TEXT        PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_event_seen ON webhook_event (seen_at);
CREATE TABLE webhook_inbox (
    id          BIGSERIAL   PRIMARY KEY,
    connector   TEXT        NOT NULL,
    account     TEXT        NOT NULL,
    dedupe_key  TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    item        JSONB       NOT NULL,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    next_at     TIMESTAMPTZ NOT NULL,
    last_error  TEXT,
    done_at     TIMESTAMPTZ,
    run_id      TEXT,
    UNIQUE (connector, account, dedupe_key)
);
CREATE INDEX webhook_inbox_due ON webhook_inbox (next_at) WHERE done_at IS NULL;
CREATE TABLE booking (
    connector TEXT        NOT NULL,
    account   TEXT        NOT NULL,
    source_id TEXT        NOT NULL,
    arrival   DATE        NOT NULL,
    departure DATE        NOT NULL,
    record    JSONB       NOT NULL,
    gone_at   TIMESTAMPTZ,
    PRIMARY KEY (connector, account, source_id)
);
CREATE INDEX booking_stay ON booking (departure, arrival);
CREATE TABLE property (
    connector TEXT  NOT NULL,
    account   TEXT  NOT NULL,
    record    JSONB NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE housekeeping (
    connector TEXT  NOT NULL,
    account   TEXT  NOT NULL,
    record    JSONB NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE credential (
    connector TEXT NOT NULL,
    account   TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (connector, account, name)
);
CREATE TABLE runtime_job (
    connector TEXT  NOT NULL,
    account   TEXT  NOT NULL,
    record    JSONB NOT NULL,
    PRIMARY KEY (connector, account)
);
CREATE TABLE account_lease (
    connector   TEXT        NOT NULL,
    account     TEXT        NOT NULL,
    holder      TEXT,
    until       TIMESTAMPTZ NOT NULL,
    quiet_until TIMESTAMPTZ,
    PRIMARY KEY (connector, account)
);
CREATE TABLE runtime_worker (
    holder TEXT        PRIMARY KEY,
    until  TIMESTAMPTZ NOT NULL
);
"#,
    r#"
CREATE TABLE room_mapping (
    connector   TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    source_id   TEXT    NOT NULL,
    host_id     TEXT    NOT NULL,
    host_name   TEXT    NOT NULL,
    source_name TEXT    NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    basis       TEXT,
    PRIMARY KEY (connector, account, source_id)
);
CREATE TABLE turnover_task (
    property TEXT  NOT NULL,
    id       TEXT  NOT NULL,
    record   JSONB NOT NULL,
    PRIMARY KEY (property, id)
);
CREATE TABLE task_outbox (
    id           BIGSERIAL   PRIMARY KEY,
    property     TEXT        NOT NULL,
    event        JSONB       NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX task_outbox_pending ON task_outbox (id) WHERE delivered_at IS NULL;
"#,
    r#"
CREATE TABLE stored_account (
    account    TEXT        PRIMARY KEY,
    property   TEXT        NOT NULL,
    config     JSONB,
    updated_at TIMESTAMPTZ NOT NULL
);
"#,
];

/// The tables a database must hold (besides the version table) to be taken for ours.
const OUR_TABLE: &str = "sync_record";

/// Creates or migrates the schema; refuses a database whose tables are someone else's.
pub(super) async fn migrate(client: &mut Object) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(backend)?;
    let has = |name: &'static str| {
        let tx = &tx;
        async move {
            tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
                .await
                .map_err(backend)
                .map(|r| r.get::<_, bool>(0))
        }
    };
    let versioned = has("hostelpulse_schema").await?;
    if !versioned && has(OUR_TABLE).await? {
        return Err(StoreError::Refused(
            "the database has a `sync_record` table that hostelpulse did not create: refusing to touch it \
             (give hostelpulse its own database or schema)"
                .into(),
        ));
    }
    if !versioned {
        tx.batch_execute(
            "CREATE TABLE hostelpulse_schema (version INTEGER NOT NULL); INSERT INTO hostelpulse_schema VALUES (0);",
        )
        .await
        .map_err(backend)?;
    }
    let version: i32 = tx.query_one("SELECT version FROM hostelpulse_schema", &[]).await.map_err(backend)?.get(0);
    let version = usize::try_from(version).map_err(|_| StoreError::Corrupt(format!("schema version {version}")))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database was written by a newer hostelpulse (schema {version}, this build knows {})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.batch_execute(sql).await.map_err(backend)?;
        let v = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute("UPDATE hostelpulse_schema SET version = $1", &[&v]).await.map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}
