//! `email_parse`: 10,000 messages cycled from the `.eml` samples (every template, forwards,
//! HTML-only mail, legacy charsets, non-bookings). Measures mail-parser alone (MIME parse and the
//! body decoded to text, which any extraction needs) and this crate's parse + extract.
//! Target: extraction adds at most 100% on top of MIME parsing.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hostelpulse_connector_email::{ParseOptions, parse_message};
use hostelpulse_sandbox::mail::SAMPLES;
use mail_parser::MessageParser;

const N: usize = 10_000;

fn messages() -> Vec<&'static [u8]> {
    SAMPLES.iter().map(|(_, b)| *b).cycle().take(N).collect()
}

/// mail-parser's share: the message parsed, its text body decoded (HTML converted by mail-parser
/// itself when there is no plain part).
fn mime_only(m: &[u8]) -> usize {
    MessageParser::default().parse(m).map_or(0, |msg| msg.body_text(0).map_or(0, |t| t.len()))
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    let bytes: usize = msgs.iter().map(|m| m.len()).sum();
    let opts = ParseOptions::default();
    let parsed = msgs.iter().filter(|m| parse_message(m, &opts).is_ok()).count();
    eprintln!("email_parse: {N} messages, {:.1} MiB, {parsed} parsed", bytes as f64 / 1048576.0);

    let mut g = c.benchmark_group("email_parse");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("mail_parser_alone", |b| b.iter(|| msgs.iter().map(|m| mime_only(m)).sum::<usize>()));
    g.bench_function("parse_and_extract", |b| {
        b.iter(|| {
            msgs.iter().filter(|m| parse_message(m, &opts).is_ok_and(|p| p.outcome.extraction().is_some())).count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
