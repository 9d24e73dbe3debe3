//! Webhook verification: reject forged, stale or replayed deliveries *before* parsing them.
//!
//! Vendors differ: some sign the body with HMAC-SHA256 (optionally over a timestamp), Beds24 lets
//! the owner configure a static header, Cloudbeds and Sirvoy sign nothing (a secret in the URL,
//! plus Sirvoy's published sender addresses). [`WebhookVerifier`] checks whichever a connector
//! configures, supports several active secrets at once for rotation, and [`ReplayGuard`] drops
//! repeats by event id or body hash within a TTL.

mod hint;
mod replay;
pub mod subscriptions;
mod verify;

pub use hint::{Changed, Hint, HintError};

pub use replay::ReplayGuard;
pub use subscriptions::{Subscription, SubscriptionReport, WebhookSubscriptions};
pub use verify::{Delivery, HmacScheme, MIN_SECRET_LEN, WebhookError, WebhookVerifier, check_secret, sign_hmac};
