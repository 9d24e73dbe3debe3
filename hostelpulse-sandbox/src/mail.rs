//! A booking inbox: a Maildir the sandbox delivers confirmation mails into, the `.eml` samples
//! built from the e-mail corpus (see `mail/README.md`), and [`BookingMailer`], which plays a
//! channel sending Expedia-style partner notifications for the conformance kit and the demo.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use hostelpulse_core::error::Result;
use hostelpulse_core::model::SourceId;
use hostelpulse_core::testkit::{Modification, NewBooking, Upstream};

/// The `.eml` samples, by file name: real confirmations from the corpus wrapped in MIME (several
/// encodings, charsets and forward styles) and a few synthetic ones where no sample exists.
pub const SAMPLES: &[(&str, &[u8])] = &[
    ("agoda-voucher-confirmed.eml", include_bytes!("../mail/agoda-voucher-confirmed.eml")),
    ("airbnb-confirmed-en-a.eml", include_bytes!("../mail/airbnb-confirmed-en-a.eml")),
    ("airbnb-confirmed-en-b.eml", include_bytes!("../mail/airbnb-confirmed-en-b.eml")),
    ("airbnb-confirmed-en-c.eml", include_bytes!("../mail/airbnb-confirmed-en-c.eml")),
    ("airbnb-confirmed-en-d.eml", include_bytes!("../mail/airbnb-confirmed-en-d.eml")),
    (
        "airbnb-confirmed-fr-forwarded-html-only.eml",
        include_bytes!("../mail/airbnb-confirmed-fr-forwarded-html-only.eml"),
    ),
    ("airbnb-confirmed-fr-forwarded.eml", include_bytes!("../mail/airbnb-confirmed-fr-forwarded.eml")),
    ("airbnb-request-fr-forwarded-latin1.eml", include_bytes!("../mail/airbnb-request-fr-forwarded-latin1.eml")),
    ("aohostels-confirmation-attached.eml", include_bytes!("../mail/aohostels-confirmation-attached.eml")),
    (
        "booking-guest-confirmed-gb-outlook-de-cp1252.eml",
        include_bytes!("../mail/booking-guest-confirmed-gb-outlook-de-cp1252.eml"),
    ),
    ("booking-guest-confirmed-gb.eml", include_bytes!("../mail/booking-guest-confirmed-gb.eml")),
    (
        "booking-guest-confirmed-us-apple-forward.eml",
        include_bytes!("../mail/booking-guest-confirmed-us-apple-forward.eml"),
    ),
    ("booking-guest-message.eml", include_bytes!("../mail/booking-guest-message.eml")),
    ("booking-host-cancelled.eml", include_bytes!("../mail/booking-host-cancelled.eml")),
    ("booking-host-new.eml", include_bytes!("../mail/booking-host-new.eml")),
    ("expedia-new-booking-forwarded.eml", include_bytes!("../mail/expedia-new-booking-forwarded.eml")),
    (
        "expedia-new-booking-gmail-forward-cp1252.eml",
        include_bytes!("../mail/expedia-new-booking-gmail-forward-cp1252.eml"),
    ),
    ("hostelworld-confirmed.eml", include_bytes!("../mail/hostelworld-confirmed.eml")),
    ("malformed-truncated-multipart.eml", include_bytes!("../mail/malformed-truncated-multipart.eml")),
    ("newsletter-not-a-booking.eml", include_bytes!("../mail/newsletter-not-a-booking.eml")),
    ("tripcom-new-booking.eml", include_bytes!("../mail/tripcom-new-booking.eml")),
];

/// The sample named `name`.
pub fn sample(name: &str) -> Option<&'static [u8]> {
    SAMPLES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// A Maildir the sandbox delivers into.
#[derive(Debug)]
pub struct MaildirWriter {
    root: PathBuf,
    seq: AtomicU64,
}

impl MaildirWriter {
    /// Creates `root` with its `new/`, `cur/` and `tmp/` folders.
    pub fn create(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        Ok(Self { root, seq: AtomicU64::new(0) })
    }

    /// The Maildir's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Delivers a message the Maildir way (written to `tmp/`, renamed into `new/`), named so
    /// that name order is delivery order.
    pub fn deliver(&self, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}.{n:06}.hostelpulse-sandbox", Utc::now().timestamp());
        let tmp = self.root.join("tmp").join(&name);
        std::fs::write(&tmp, bytes)?;
        let to = self.root.join("new").join(&name);
        std::fs::rename(&tmp, &to)?;
        Ok(to)
    }
}

#[derive(Debug, Clone)]
struct Sent {
    id: u64,
    arrival: NaiveDate,
    departure: NaiveDate,
    guest: String,
    adults: u16,
}

/// Plays Expedia Partner Central: every booking change upstream becomes a notification mail
/// (`BookingReserve`, `BookingChange`, `BookingCancel`) delivered into a Maildir.
#[derive(Debug)]
pub struct BookingMailer {
    inbox: MaildirWriter,
    bookings: Mutex<Vec<Sent>>,
    next: AtomicU64,
}

impl BookingMailer {
    /// A mailer delivering into a new Maildir at `root`.
    pub fn create(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        Ok(Self {
            inbox: MaildirWriter::create(root)?,
            bookings: Mutex::new(Vec::new()),
            next: AtomicU64::new(2_600_000_001),
        })
    }

    /// The Maildir's root.
    pub fn root(&self) -> &Path {
        self.inbox.root()
    }

    /// The source id the e-mail connector gives the booking with reservation `id`.
    pub fn source_id(id: u64) -> SourceId {
        SourceId::new(format!("expedia:{id}"))
    }

    fn send(&self, s: &Sent, notification: &str) -> Result<()> {
        let subject = match notification {
            "BookingReserve" => format!("Expedia - New Booking - Arriving on {}", s.arrival.format("%-d %b %Y")),
            "BookingChange" => format!("Expedia - Modified Booking - Arriving on {}", s.arrival.format("%-d %b %Y")),
            _ => format!("Expedia - Cancelled Booking - Arriving on {}", s.arrival.format("%-d %b %Y")),
        };
        let nights = (s.departure - s.arrival).num_days();
        let mail = format!(
            "From: Expedia Group <booknotif@expedia.com>\r\nTo: owner@example.com\r\nSubject: {subject}\r\n\
             Date: {date}\r\nMessage-ID: <{id}-{n}@sandbox.hostelpulse.invalid>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n\
             Reservation ID: {id}\r\nGuest: {guest}  Booked on: {booked}\r\n\
             Room Type Name: Bed in 6-Bed Mixed Dormitory\r\n\
             Check-In\tCheck-Out\tAdults\tKids/Ages\tRoom Nights\tHotel Conf\r\n\
             {arrival}\t{departure}\t{adults}\t0\t{nights}\r\n\
             Total Cost: {total}.00 EUR\r\nNotificationType: {notification}\r\n",
            date = Utc::now().to_rfc2822(),
            id = s.id,
            n = self.next.fetch_add(1, Ordering::Relaxed),
            guest = s.guest,
            booked = Utc::now().format("%b %-d, %Y"),
            arrival = s.arrival.format("%b %-d, %Y"),
            departure = s.departure.format("%b %-d, %Y"),
            adults = s.adults,
            total = 25 * nights,
        );
        self.inbox
            .deliver(mail.as_bytes())
            .map(drop)
            .map_err(|e| hostelpulse_core::Error::invalid_input(format!("sandbox maildir: {e}")))
    }

    fn find(&self, id: &SourceId) -> Result<Sent> {
        self.bookings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|s| Self::source_id(s.id) == *id)
            .cloned()
            .ok_or_else(|| hostelpulse_core::Error::invalid_input(format!("no such booking: {id}")))
    }

    fn store(&self, s: Sent) {
        let mut all = self.bookings.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|x| x.id != s.id);
        all.push(s);
    }
}

#[async_trait]
impl Upstream for BookingMailer {
    async fn create(&self, b: NewBooking) -> Result<SourceId> {
        let s = Sent {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            arrival: b.arrival,
            departure: b.departure,
            guest: b.guest_name.unwrap_or_else(|| "Sandbox Guest".into()),
            adults: b.adults,
        };
        self.send(&s, "BookingReserve")?;
        let id = Self::source_id(s.id);
        self.store(s);
        Ok(id)
    }

    async fn modify(&self, id: &SourceId, change: Modification) -> Result<()> {
        let mut s = self.find(id)?;
        match change {
            Modification::ExtendStay => s.departure = s.departure.succ_opt().unwrap_or(s.departure),
            Modification::RenameGuest(n) => s.guest = n,
            _ => {}
        }
        self.send(&s, "BookingChange")?;
        self.store(s);
        Ok(())
    }

    async fn cancel(&self, id: &SourceId) -> Result<()> {
        let s = self.find(id)?;
        self.send(&s, "BookingCancel")
    }

    /// A mail cannot be unsent: a deletion upstream is invisible to an inbox.
    async fn delete(&self, id: &SourceId) -> Result<()> {
        self.find(id).map(drop)
    }
}
