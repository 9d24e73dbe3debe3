#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod beds24;
pub mod cloudbeds;
#[cfg(feature = "contract")]
pub mod contract;
mod fault_proxy;
pub mod ical;
mod in_process;
pub mod mail;
#[cfg(feature = "postgres-server")]
pub mod postgres;
mod query;
mod server;
pub mod sirvoy;

pub use beds24::{Beds24Emulator, Beds24EmulatorBuilder, CreditHeaderNames};
pub use cloudbeds::{CloudbedsEmulator, CloudbedsEmulatorBuilder};
pub use fault_proxy::{Exchange, FaultProxy, ProxyConfig};
pub use ical::IcalFeedServer;
pub use in_process::InProcess;
pub use mail::{BookingMailer, MaildirWriter};
pub use server::{Outage, Running};
pub use sirvoy::SirvoySender;

/// The HTTP client the emulators send webhooks with, built once per process: a client reads
/// the system's root certificates when it is built, and a test or bench starting a thousand
/// emulators would otherwise read them a thousand times.
pub(crate) fn webhook_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}
