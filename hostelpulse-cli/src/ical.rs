//! `hostelpulse ical parse <file-or-url>`: what a feed says, as a table or JSON.

use clap::{Subcommand, ValueEnum};
use hostelpulse::ical::{
    EventKind, Feed, FeedConfig, FeedOptions, FeedReading, FeedSource, IcalConfig, IcalConnector, read_feed,
};
use hostelpulse::model::Allocation;
use secrecy::SecretString;
use serde_json::json;
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
        read_feed(&bytes, &opts)
    };
    if json {
        let events: Vec<_> = feed
            .events
            .iter()
            .map(|e| {
                json!({ "uid": e.uid, "kind": kind(e.kind), "arrival": e.arrival.to_string(), "departure": e.departure.to_string(),
                    "channel": e.channel, "channel_ref": e.channel_ref, "guest_name": e.guest_name, "phone_last4": e.phone_last4, "summary": e.summary })
            })
            .collect();
        let skipped: Vec<_> = feed.skipped.iter().map(|s| json!({ "reason": s.reason, "uid": s.uid })).collect();
        outln!("{}", serde_json::to_string_pretty(&json!({ "events": events, "skipped": skipped }))?);
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
