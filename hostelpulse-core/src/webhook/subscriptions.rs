//! Keeping a source's webhook subscriptions pointed at us: on start (and on request) every event
//! a sync needs is subscribed to the current endpoint, and our subscriptions to any other endpoint
//! (an old URL secret, a moved host) are removed. Subscriptions of other integrations on the same
//! property are never touched: only endpoints under our own prefix are ours.

use async_trait::async_trait;
use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::error::Result;

/// One subscription as the source lists it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subscription {
    /// The source's id for it.
    pub id: String,
    /// The event, `object/action`.
    pub event: String,
    /// Where deliveries go. Holds the URL secret: never shown whole.
    pub endpoint: String,
}

impl Subscription {
    /// A subscription as listed.
    pub fn new(id: impl Into<String>, event: impl Into<String>, endpoint: impl Into<String>) -> Self {
        Self { id: id.into(), event: event.into(), endpoint: endpoint.into() }
    }
}

/// The endpoint's last path segment is the URL secret: Debug shows the rest.
impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("event", &self.event)
            .field("endpoint", &redact_endpoint(&self.endpoint))
            .finish()
    }
}

/// Serialized with the endpoint redacted, like Debug: reports are shown and logged.
impl Serialize for Subscription {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Subscription", 3)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("event", &self.event)?;
        s.serialize_field("endpoint", &redact_endpoint(&self.endpoint))?;
        s.end()
    }
}

/// The endpoint with its last path segment (the URL secret) replaced by `…`; `…` alone when
/// there is no path to keep.
pub fn redact_endpoint(endpoint: &str) -> String {
    match endpoint.trim_end_matches('/').rsplit_once('/') {
        Some((head, _)) if head.split_once("://").is_some_and(|(_, host)| !host.is_empty()) => format!("{head}/…"),
        _ => "…".into(),
    }
}

/// A source whose webhook subscriptions are managed through its API (Cloudbeds).
#[async_trait]
pub trait WebhookSubscriptions: Send + Sync {
    /// The events a sync needs, `object/action`.
    fn sync_events(&self) -> Vec<String>;
    /// The account's subscriptions.
    async fn list_subscriptions(&self) -> Result<Vec<Subscription>>;
    /// Subscribes `endpoint` to `event`; returns the new subscription's id.
    async fn subscribe_endpoint(&self, event: &str, endpoint: &str) -> Result<String>;
    /// Removes a subscription.
    async fn remove_subscription(&self, id: &str) -> Result<()>;
}

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionReport {
    /// Subscribed now (they were missing).
    pub created: Vec<Subscription>,
    /// Ours, but to another endpoint, for an event a sync no longer needs, or a duplicate.
    pub removed: Vec<Subscription>,
    /// Already right.
    pub kept: Vec<Subscription>,
    /// Another integration's: left alone.
    pub others: usize,
}

impl SubscriptionReport {
    /// Whether anything changed at the source.
    pub fn changed(&self) -> bool {
        !self.created.is_empty() || !self.removed.is_empty()
    }

    /// One line for a log or a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} subscription(s) kept, {} created, {} removed{}",
            self.kept.len(),
            self.created.len(),
            self.removed.len(),
            if self.others > 0 { format!(", {} of other integrations left alone", self.others) } else { String::new() }
        )
    }
}

/// Makes the source's subscriptions under `ours` (the URL prefix every endpoint of this account
/// starts with, e.g. `https://hooks.example.com/hooks/cb-1/`) exactly one per sync event to
/// `endpoint`. Missing ones are created first, so a rotation never leaves a gap in which
/// deliveries go nowhere; stale ones are removed after.
pub async fn reconcile(api: &dyn WebhookSubscriptions, endpoint: &str, ours: &str) -> Result<SubscriptionReport> {
    let wanted = api.sync_events();
    let mut report = SubscriptionReport::default();
    let mut stale = Vec::new();
    for s in api.list_subscriptions().await? {
        if !s.endpoint.starts_with(ours) {
            report.others += 1;
        } else if s.endpoint == endpoint && wanted.contains(&s.event) && !report.kept.iter().any(|k| k.event == s.event)
        {
            report.kept.push(s);
        } else {
            stale.push(s);
        }
    }
    for event in &wanted {
        if !report.kept.iter().any(|k| &k.event == event) {
            let id = api.subscribe_endpoint(event, endpoint).await?;
            report.created.push(Subscription::new(id, event.clone(), endpoint));
        }
    }
    for s in stale {
        api.remove_subscription(&s.id).await?;
        report.removed.push(s);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Fake {
        subs: Mutex<Vec<Subscription>>,
        calls: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl WebhookSubscriptions for Fake {
        fn sync_events(&self) -> Vec<String> {
            vec!["reservation/created".into(), "housekeeping/room_condition_changed".into()]
        }
        async fn list_subscriptions(&self) -> Result<Vec<Subscription>> {
            Ok(self.subs.lock().unwrap().clone())
        }
        async fn subscribe_endpoint(&self, event: &str, endpoint: &str) -> Result<String> {
            let mut subs = self.subs.lock().unwrap();
            let id = format!("s{}", subs.len() + 100);
            subs.push(Subscription::new(id.clone(), event, endpoint));
            self.calls.lock().unwrap().push(format!("+{event}"));
            Ok(id)
        }
        async fn remove_subscription(&self, id: &str) -> Result<()> {
            self.subs.lock().unwrap().retain(|s| s.id != id);
            self.calls.lock().unwrap().push(format!("-{id}"));
            Ok(())
        }
    }

    const OURS: &str = "https://h.example/hooks/cb/";

    #[tokio::test]
    async fn creates_missing_removes_stale_and_leaves_others_alone() {
        let old = format!("{OURS}old-secret");
        let new = format!("{OURS}new-secret");
        let fake = Fake::default();
        *fake.subs.lock().unwrap() = vec![
            Subscription::new("1", "reservation/created", &old),
            Subscription::new("2", "reservation/created", &new),
            Subscription::new("3", "reservation/created", &new),
            Subscription::new("4", "guest/assigned", &new),
            Subscription::new("5", "reservation/created", "https://channel-manager.example/cb"),
        ];
        let report = reconcile(&fake, &new, OURS).await.unwrap();
        assert_eq!(report.kept.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["2"]);
        assert_eq!(report.created.len(), 1);
        assert_eq!(report.removed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["1", "3", "4"]);
        assert_eq!(report.others, 1);
        // The missing one is subscribed before anything is removed.
        assert_eq!(fake.calls.lock().unwrap()[0], "+housekeeping/room_condition_changed");
        // Again: nothing to do.
        let again = reconcile(&fake, &new, OURS).await.unwrap();
        assert!(!again.changed(), "{again:?}");
        assert_eq!((again.kept.len(), again.others), (2, 1));
    }

    #[test]
    fn the_url_secret_never_shows() {
        let s = Subscription::new("1", "reservation/created", "https://h.example/hooks/cb/s3cr3t-value");
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("https://h.example/hooks/cb/…"), "{shown}");
        assert_eq!(redact_endpoint("s3cr3t"), "…");
        assert_eq!(redact_endpoint("https://s3cr3t"), "…");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("s3cr3t") && json.contains("/hooks/cb/…"), "{json}");
    }
}
