#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod auth;
mod capabilities;
mod config;
mod connector;
pub mod convert;
mod inspect;
mod webhook;
pub mod wire;

pub use capabilities::{declared as declared_capabilities, effective as effective_capabilities};
pub use config::{Beds24Config, Beds24ConfigBuilder, Credentials, DEFAULT_BASE_URL, NoteMode};
pub use connector::{Beds24Connector, pacing};
pub use webhook::{Beds24WebhookError, Beds24Webhooks};
