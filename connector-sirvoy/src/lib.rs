#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod config;
mod connector;
pub mod convert;
pub mod wire;

pub use capabilities::declared as declared_capabilities;
pub use config::{SIRVOY_SENDERS, SirvoyConfig, SirvoyConfigBuilder};
pub use connector::{Received, SirvoyConnector, SirvoyWebhookError, generate_secret};
