//! Test stores that change one behaviour of a store (a commit that fails once, records read
//! slowly, loads counted) hand everything else to the store they wrap.

/// Implements [`AuditLog`](crate::sync::AuditLog) and [`Inbox`](crate::sync::Inbox) for a
/// store wrapper by handing every call to its field `$inner`, so the wrapper writes only the
/// [`SyncStore`](crate::sync::SyncStore) methods it changes.
///
/// ```
/// use hostelpulse_core::sync::MemoryStore;
///
/// struct Wrapped {
///     inner: MemoryStore,
/// }
/// hostelpulse_core::forward_audit_and_inbox!(Wrapped, inner);
/// ```
#[macro_export]
macro_rules! forward_audit_and_inbox {
    ($wrapper:ty, $inner:ident) => {
        #[$crate::testkit::__async_trait]
        impl $crate::sync::AuditLog for $wrapper {
            async fn append(
                &self,
                record: &$crate::sync::AuditRecord,
            ) -> ::std::result::Result<(), $crate::sync::StoreError> {
                self.$inner.append(record).await
            }
            async fn recent(
                &self,
                scope: &$crate::sync::Scope,
                limit: usize,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::sync::AuditRecord>, $crate::sync::StoreError> {
                self.$inner.recent(scope, limit).await
            }
            async fn scopes(
                &self,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::sync::Scope>, $crate::sync::StoreError> {
                self.$inner.scopes().await
            }
        }

        #[$crate::testkit::__async_trait]
        impl $crate::sync::Inbox for $wrapper {
            async fn inbox_put(
                &self,
                scope: &$crate::sync::Scope,
                dedupe_key: &str,
                item: &$crate::sync::InboxItem,
                now: $crate::testkit::__chrono::DateTime<$crate::testkit::__chrono::Utc>,
                keep_done: $crate::testkit::__chrono::Duration,
            ) -> ::std::result::Result<$crate::sync::Queued, $crate::sync::StoreError> {
                self.$inner.inbox_put(scope, dedupe_key, item, now, keep_done).await
            }
            async fn inbox_due(
                &self,
                now: $crate::testkit::__chrono::DateTime<$crate::testkit::__chrono::Utc>,
                limit: usize,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::sync::InboxEntry>, $crate::sync::StoreError> {
                self.$inner.inbox_due(now, limit).await
            }
            async fn inbox_settle(
                &self,
                id: i64,
                settled: &$crate::sync::Settled,
            ) -> ::std::result::Result<(), $crate::sync::StoreError> {
                self.$inner.inbox_settle(id, settled).await
            }
            async fn inbox_next_due(
                &self,
            ) -> ::std::result::Result<
                ::std::option::Option<$crate::testkit::__chrono::DateTime<$crate::testkit::__chrono::Utc>>,
                $crate::sync::StoreError,
            > {
                self.$inner.inbox_next_due().await
            }
            async fn inbox_entries(
                &self,
                scope: &$crate::sync::Scope,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::sync::InboxEntry>, $crate::sync::StoreError> {
                self.$inner.inbox_entries(scope).await
            }
        }
    };
}
