//! `hostelpulse email parse <file.eml>`: what a booking mail says, as a table or one flat JSON object.

use clap::Subcommand;
use hostelpulse::email::{
    Extracted, MailKind, Outcome, ParseOptions, ParsedMail, convert, mask_email, mask_phone, parse_message,
};
use serde_json::{Value, json};
use tabled::builder::Builder;
use tabled::settings::Style;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Subcommand)]
pub enum EmailCommand {
    /// Parse one RFC 822 message (.eml).
    Parse {
        /// The message file.
        file: std::path::PathBuf,
        /// One flat JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Below this confidence a booking is reported as needing review.
        #[arg(long, default_value_t = 0.7)]
        review_threshold: f32,
        /// Show the guest's e-mail address and phone number as the mail has them (masked by
        /// default: output gets pasted into tickets and chats).
        #[arg(long)]
        include_contacts: bool,
    },
}

/// The flat object the issue specifies: every key always present, unknown values null. Contact
/// details are masked unless `include_contacts`.
fn flat(p: &ParsedMail, include_contacts: bool) -> Value {
    let empty = Extracted::new(MailKind::New);
    let (outcome, extraction, reason) = match &p.outcome {
        Outcome::Booking(e) => ("booking", Some(e), None),
        Outcome::NeedsReview { extraction, reasons } => ("needs_review", Some(extraction), Some(reasons.join("; "))),
        Outcome::NotABooking { reason, .. } => ("not_a_booking", None, Some(reason.clone())),
        _ => ("unknown", None, None),
    };
    let f = extraction.map_or(&empty, |e| &e.fields);
    let template = match &p.outcome {
        Outcome::NotABooking { template, .. } => template.as_deref().map(str::to_owned),
        _ => extraction.map(|e| e.template.to_string()),
    };
    json!({
        "outcome": outcome,
        "kind": extraction.map(|_| match f.kind { MailKind::New => "new", MailKind::Modified => "modified", _ => "cancelled" }),
        "channel": f.channel.as_ref().map(convert::channel_slug),
        "channel_ref": f.channel_ref,
        "guest_name": f.guest_name,
        "guest_email": f.guest_email.as_deref().map(|e| if include_contacts { e.to_owned() } else { mask_email(e) }),
        "guest_phone": f.guest_phone.as_deref().map(|p| if include_contacts { p.to_owned() } else { mask_phone(p) }),
        "arrival": f.arrival.map(|d| d.to_string()),
        "departure": f.departure.map(|d| d.to_string()),
        "adults": f.adults,
        "children": f.children,
        "room": f.room,
        "total_amount": f.total.as_ref().map(|m| m.amount.to_string()),
        "currency": f.total.as_ref().map(|m| m.currency.clone()),
        "confidence": extraction.map(|e| (f64::from(e.confidence) * 100.0).round() / 100.0),
        "template": template,
        "reason": reason,
    })
}

pub async fn run(cmd: EmailCommand) -> Result<(), BoxError> {
    let EmailCommand::Parse { file, json, review_threshold, include_contacts } = cmd;
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let parsed = parse_message(&bytes, &ParseOptions::default().review_threshold(review_threshold))?;
    let v = flat(&parsed, include_contacts);
    if json {
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut b = Builder::default();
    b.push_record(["field", "value"]);
    if let Some(from) = &parsed.envelope.from {
        b.push_record(["from".to_owned(), from.clone()]);
    }
    if let Some(subject) = &parsed.envelope.subject {
        b.push_record(["subject".to_owned(), subject.clone()]);
    }
    for (k, val) in v.as_object().into_iter().flatten() {
        if !val.is_null() {
            b.push_record([k.clone(), val.as_str().map_or_else(|| val.to_string(), str::to_owned)]);
        }
    }
    outln!("{}", b.build().with(Style::rounded()));
    Ok(())
}
