//! Arbitrary text as a hostelpulse configuration file: a configuration or an error that names
//! where it is wrong, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hostelpulse::config::Config::from_toml(text);
    }
});
