//! Rotated and newly minted refresh tokens, in the same database, so that every worker sees the
//! token the last refresh wrote (a single-use refresh token used twice locks the account out).

use async_trait::async_trait;
use hostelpulse_core::http::{TokenKey, TokenStore};
use secrecy::{ExposeSecret, SecretString};

use super::PgStore;

fn failed(e: impl std::fmt::Display) -> hostelpulse_core::Error {
    hostelpulse_core::Error::config(format!("token store: {e}"))
}

#[async_trait]
impl TokenStore for PgStore {
    async fn load(&self, key: &TokenKey) -> hostelpulse_core::Result<Option<SecretString>> {
        let c = self.client().await.map_err(failed)?;
        let row = c
            .query_opt(
                "SELECT value FROM credential WHERE connector = $1 AND account = $2 AND name = $3",
                &[&key.connector.as_str(), &key.account.as_str(), &key.name.as_ref()],
            )
            .await
            .map_err(failed)?;
        Ok(row.map(|r| SecretString::from(r.get::<_, String>(0))))
    }

    async fn save(&self, key: &TokenKey, secret: SecretString) -> hostelpulse_core::Result<()> {
        let c = self.client().await.map_err(failed)?;
        c.execute(
            "INSERT INTO credential (connector, account, name, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (connector, account, name) DO UPDATE SET value = excluded.value",
            &[&key.connector.as_str(), &key.account.as_str(), &key.name.as_ref(), &secret.expose_secret()],
        )
        .await
        .map_err(failed)?;
        Ok(())
    }
}
