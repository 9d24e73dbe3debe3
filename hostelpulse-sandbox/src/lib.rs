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
