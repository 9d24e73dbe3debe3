//! `hostelpulse ical parse <file-or-url>`: what a feed says, as a table or JSON.

use clap::{Subcommand, ValueEnum};
use hostelpulse::ical::{
    EventKind, Feed, FeedConfig, FeedEvents, FeedItem, FeedOptions, FeedReading, FeedSource, IcalConfig, IcalConnector,
    read_feed,
};
use hostelpulse::model::Allocation;
use secrecy::SecretString;
use serde::{Serialize, Serializer};
use std::cell::RefCell;
use tabled::builder::Builder;
use tabled::settings::Style;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    Auto,
    Airbnb,
    Booking,
    Vrbo,
    Other,
}

impl From<Source> for FeedSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Auto => FeedSource::Auto,
            Source::Airbnb => FeedSource::Airbnb,
            Source::Booking => FeedSource::BookingCom,
            Source::Vrbo => FeedSource::Vrbo,
            Source::Other => FeedSource::Other,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum IcalCommand {
    /// Parse and classify a feed from a file or an http(s) URL.
    Parse {
        /// A file path or an http(s) URL.
        input: String,
        /// Who produced the feed.
        #[arg(long, value_enum, default_value = "auto")]
        source: Source,
        /// The property's time zone (IANA name).
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn kind(k: EventKind) -> &'static str {
    match k {
        EventKind::Reservation => "reservation",
        EventKind::Block => "block",
        _ => "unavailable",
    }
}

pub async fn run(cmd: IcalCommand) -> Result<(), BoxError> {
    let IcalCommand::Parse { input, source, timezone, json } = cmd;
    let tz: chrono_tz::Tz = timezone
        .parse()
        .map_err(|_| format!("unknown time zone `{timezone}`: use an IANA name such as Europe/Lisbon"))?;
    let reading = FeedReading::default().source(source.into());
    let opts = FeedOptions::new(tz).reading(reading);
    let feed: Feed = if input.starts_with("http://") || input.starts_with("https://") {
        let cfg = IcalConfig::builder("cli", tz)
            .feed(
                FeedConfig::new(
                    "feed",
                    SecretString::from(input.clone()),
                    Allocation { room_type: Some("feed".into()), ..Allocation::default() },
                )
                .reading(reading),
            )
            .build()?;
        IcalConnector::new(cfg)?.feed("feed").await?
    } else {
        let bytes = std::fs::read(&input).map_err(|e| format!("cannot read `{input}`: {e}"))?;
        if json {
            // Event by event, from the file's bytes to standard output: no feed is kept.
            write_json(FeedEvents::new(&bytes, &opts)).unwrap_or_else(|e| crate::output_failed(e));
            return Ok(());
        }
        read_feed(&bytes, &opts)
    };
    if json {
        let items = feed.events.into_iter().map(FeedItem::Event).chain(feed.skipped.into_iter().map(FeedItem::Skipped));
        write_json(items).unwrap_or_else(|e| crate::output_failed(e));
        return Ok(());
    }
    let mut b = Builder::default();
    b.push_record(["kind", "arrival", "departure", "channel", "reference", "guest", "summary"]);
    for e in &feed.events {
        b.push_record([
            kind(e.kind).to_owned(),
            e.arrival.to_string(),
            e.departure.to_string(),
            e.channel.clone().unwrap_or_default(),
            e.channel_ref.clone().unwrap_or_default(),
            e.guest_name.clone().unwrap_or_default(),
            e.summary.clone().unwrap_or_default(),
        ]);
    }
    outln!("{}", b.build().with(Style::rounded()));
    outln!("{} event(s), {} skipped", feed.events.len(), feed.skipped.len());
    for s in &feed.skipped {
        outln!("  skipped{}: {}", s.uid.as_deref().map(|u| format!(" {u}")).unwrap_or_default(), s.reason);
    }
    Ok(())
}

/// One event as `--json` prints it (fields in the order the output has always had them).
#[derive(Serialize)]
struct EventJson {
    arrival: chrono::NaiveDate,
    channel: Option<String>,
    channel_ref: Option<String>,
    departure: chrono::NaiveDate,
    guest_name: Option<String>,
    kind: &'static str,
    phone_last4: Option<String>,
    summary: Option<String>,
    uid: Option<String>,
}

/// The events, serialized one by one as they are read; what was skipped is kept for after them.
struct Events<I> {
    items: RefCell<I>,
    skipped: RefCell<Vec<hostelpulse::ical::Skipped>>,
}

impl<I: Iterator<Item = FeedItem>> Serialize for Events<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut items = self.items.borrow_mut();
        let events = std::iter::from_fn(|| {
            loop {
                match items.next()? {
                    FeedItem::Event(e) => return Some(e),
                    FeedItem::Skipped(x) => self.skipped.borrow_mut().push(x),
                    _ => {}
                }
            }
        });
        s.collect_seq(events.map(|e| EventJson {
            arrival: e.arrival,
            channel: e.channel,
            channel_ref: e.channel_ref,
            departure: e.departure,
            guest_name: e.guest_name,
            kind: kind(e.kind),
            phone_last4: e.phone_last4,
            summary: e.summary,
            uid: e.uid,
        }))
    }
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    reason: &'a str,
    uid: &'a Option<String>,
}

/// Serialized after the events (whose serialization fills it).
struct Skipped<'a>(&'a RefCell<Vec<hostelpulse::ical::Skipped>>);

impl Serialize for Skipped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.borrow().iter().map(|x| SkippedJson { reason: &x.reason, uid: &x.uid }))
    }
}

#[derive(Serialize)]
#[serde(bound = "")]
struct FeedJson<'a, I: Iterator<Item = FeedItem>> {
    events: &'a Events<I>,
    skipped: Skipped<'a>,
}

/// Streams the feed as JSON to standard output: no document is built in memory first, so a
/// large feed's output costs what a buffer does.
fn write_json(items: impl Iterator<Item = FeedItem>) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let events = Events { items: RefCell::new(items), skipped: RefCell::default() };
    serde_json::to_writer_pretty(&mut out, &FeedJson { events: &events, skipped: Skipped(&events.skipped) })?;
    writeln!(out)?;
    out.flush()
}
