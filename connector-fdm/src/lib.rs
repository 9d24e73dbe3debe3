#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod capabilities;
mod connector;

pub use capabilities::declared as declared_capabilities;
pub use connector::FdmConnector;
