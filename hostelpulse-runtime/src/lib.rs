#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod alerts;
pub mod backoff;
pub mod lease;
pub mod metrics;
pub mod ownership;
mod runner;
pub mod schedule;

pub use alerts::{AlertEvent, AlertRule, AlertRules, AlertSink, AlertStatus, CollectingAlerts, LogAlerts};
pub use backoff::RetryPolicy;
pub use runner::{
    AccountView, Job, ManagedAccount, RoomsSink, Runtime, RuntimeBuilder, RuntimeConfig, RuntimeEvent, RuntimeHandle,
    Stopped,
};
pub use schedule::{PollPlan, Schedule};
