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

pub use auth::{GRANTED_SCOPES, REFRESH_TOKEN, TokenSet, granted_scopes, save_connection};
pub use capabilities::{declared as declared_capabilities, effective as effective_capabilities};
pub use config::{
    CloudbedsConfig, CloudbedsConfigBuilder, Credentials, DEFAULT_AUTHORIZE_URL, DEFAULT_BASE_URL, FilterZone,
    OAuthClient, RECOMMENDED_SCOPES,
};
pub use connector::{Assignment, CloudbedsConnector, GuestStay, pacing};
pub use webhook::{CloudbedsWebhookError, CloudbedsWebhooks, SYNC_EVENTS, generate_secret};
