//! Content fingerprints: a stable hash of a record's normalized fields, used to tell changed from
//! unchanged. Volatile fields (provenance: how and when it was fetched) never take part.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::booking::Booking;

/// A SHA-256 content hash, serialized as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }

    /// Hashes the canonical JSON of `value`. Field order is the declaration order, so the hash is
    /// stable across runs and platforms.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Self {
        // The JSON is serialized in many small pieces; buffering them feeds the hash in large
        // blocks (the digest is the same either way).
        let mut hasher = std::io::BufWriter::with_capacity(4096, HashWriter(Sha256::new()));
        // Writing to a hasher cannot fail, and our model types always serialize.
        let serialized = serde_json::to_writer(&mut hasher, value).is_ok();
        let mut hasher = match hasher.into_inner() {
            Ok(h) => h,
            Err(e) => e.into_inner().into_parts().0,
        };
        if !serialized {
            hasher.0.update(b"\0unserializable");
        }
        Self(hasher.0.finalize().into())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Records that have a content fingerprint.
pub trait Fingerprinted {
    /// The hash of the normalized, non-volatile fields.
    fn fingerprint(&self) -> Fingerprint;
}

/// The fingerprinted view of a booking: every field but `provenance`.
#[derive(Serialize)]
struct BookingContent<'a> {
    key: &'a super::SourceKey,
    status: super::BookingStatus,
    status_raw: &'a Option<String>,
    arrival: chrono::NaiveDate,
    departure: chrono::NaiveDate,
    guest: &'a super::Guest,
    party: &'a super::Party,
    allocations: &'a [super::Allocation],
    channel: &'a Option<super::Channel>,
    channel_ref: &'a Option<String>,
    group: &'a Option<super::SourceId>,
    total: &'a Option<super::Money>,
    notes: &'a [super::Note],
    created_at: &'a Option<chrono::DateTime<chrono::Utc>>,
    modified_at: &'a Option<chrono::DateTime<chrono::Utc>>,
    cancelled_at: &'a Option<chrono::DateTime<chrono::Utc>>,
}

impl Fingerprinted for Booking {
    fn fingerprint(&self) -> Fingerprint {
        // Destructuring makes adding a field to Booking a compile error here until it is decided
        // whether the new field is content or volatile.
        let Booking {
            key,
            provenance: _,
            status,
            status_raw,
            arrival,
            departure,
            guest,
            party,
            allocations,
            channel,
            channel_ref,
            group,
            total,
            notes,
            created_at,
            modified_at,
            cancelled_at,
        } = self;
        Fingerprint::of(&BookingContent {
            key,
            status: *status,
            status_raw,
            arrival: *arrival,
            departure: *departure,
            guest,
            party,
            allocations,
            channel,
            channel_ref,
            group,
            total,
            notes,
            created_at,
            modified_at,
            cancelled_at,
        })
    }
}

impl Fingerprinted for super::Property {
    fn fingerprint(&self) -> Fingerprint {
        let super::Property { key, provenance: _, name, timezone, currency, check_in_time, check_out_time, room_types } =
            self;
        Fingerprint::of(&(key, name, timezone, currency, check_in_time, check_out_time, room_types))
    }
}

impl Fingerprinted for super::Housekeeping {
    fn fingerprint(&self) -> Fingerprint {
        // `as_of` is when the state was read, not part of the state.
        let super::Housekeeping { room, condition, condition_raw, occupancy, do_not_disturb, comment, as_of: _ } = self;
        Fingerprint::of(&(room, condition, condition_raw, occupancy, do_not_disturb, comment))
    }
}
