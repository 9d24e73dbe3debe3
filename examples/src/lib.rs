//! Runnable examples of the hostelpulse SDK live in `examples/` (`cargo run -p
//! hostelpulse-examples --example NAME`); this library is empty.
