//! Retention: how long the store keeps what it does not need for ever.

/// What [`crate::SqliteStore::prune`] removes. Both limits are off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// Audit records of runs that started more than this many days ago are deleted — except each
    /// account's newest run and newest successful run, which the status view needs.
    pub audit_days: Option<u32>,
    /// A guest's e-mail address and phone number are cleared from stays that departed more than
    /// this many days ago; the stay itself stays.
    pub contact_days: Option<u32>,
}

impl Retention {
    /// Keeps audit records for `days`.
    pub fn audit_days(mut self, days: u32) -> Self {
        self.audit_days = Some(days);
        self
    }

    /// Keeps guests' contact details for `days` after their departure.
    pub fn contact_days(mut self, days: u32) -> Self {
        self.contact_days = Some(days);
        self
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pruned {
    /// Audit records deleted.
    pub audit_runs: u64,
    /// Stays whose guest contact details were cleared.
    pub contacts_cleared: u64,
}
