//! Keeping the sources' webhook subscriptions pointed at this server: on the start of `run` and
//! `webhook serve`, and on request (`webhook subscriptions`).

use std::path::PathBuf;

use hostelpulse::Registry;
use hostelpulse::core::webhook::SubscriptionReport;

/// Reconciles every account (or `only`) whose configuration names a `webhook.public_url` and
/// whose source manages subscriptions through its API. One account's failure is its own line.
pub async fn reconcile_all(
    registry: &Registry,
    only: Option<&str>,
) -> Vec<(String, Result<SubscriptionReport, String>)> {
    let mut out = Vec::new();
    for a in registry.accounts().iter().filter(|a| only.is_none_or(|o| a.id == o)) {
        let Some(endpoint) = &a.webhook_endpoint else { continue };
        if let Some(result) = endpoint.reconcile(a.connector.as_ref()).await {
            out.push((a.id.clone(), result.map_err(|e| e.to_string())));
        }
    }
    out
}

/// One line per account, or one JSON object per line.
pub fn print(results: &[(String, Result<SubscriptionReport, String>)], json: bool) {
    for (account, r) in results {
        match (r, json) {
            (Ok(report), true) => {
                outln!("{}", serde_json::json!({ "event": "subscriptions", "account": account, "report": report }))
            }
            (Err(e), true) => {
                outln!("{}", serde_json::json!({ "event": "subscriptions", "account": account, "error": e }))
            }
            (Ok(report), false) => outln!("{account}: webhook subscriptions: {}", report.summary()),
            (Err(e), false) => outln!("{account}: webhook subscriptions not reconciled: {e}"),
        }
    }
}

/// `hostelpulse webhook subscriptions`.
pub async fn command(
    config: PathBuf,
    db: PathBuf,
    account: Option<String>,
    json: bool,
) -> Result<(), crate::views::BoxError> {
    let store = crate::ops::open(&db).await?;
    let (_, registry) = crate::ops::registry(&config, &store).await?;
    let results = reconcile_all(&registry, account.as_deref()).await;
    if results.is_empty() {
        return Err(
            "no account names a `webhook.public_url` on a source whose API manages subscriptions (Cloudbeds)".into()
        );
    }
    print(&results, json);
    if results.iter().any(|(_, r)| r.is_err()) {
        return Err("some accounts' subscriptions were not reconciled".into());
    }
    Ok(())
}
