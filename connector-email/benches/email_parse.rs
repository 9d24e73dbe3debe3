//! `email_parse`: mail-parser's parse against this crate's parse + extract, per message and for a
//! mix.
//!
//! - **Per message** (the goal's measure): each `.eml` sample is parsed both ways in interleaved
//!   rounds, so the machine's drift hits both sides alike, and the median of the per-round ratios
//!   is printed for every sample, then the median over the typical 2–15 KB confirmations.
//!   Target: at most 2× per typical message.
//! - **Mix**: 10,000 messages cycled from the samples (every template, forwards, HTML-only mail,
//!   legacy charsets, non-bookings), under criterion.
//!
//! mail-parser's side is the message parsed and its text body decoded (HTML converted by
//! mail-parser when there is no plain part), which any extraction needs.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hostelpulse_connector_email::{ParseOptions, parse_message};
use hostelpulse_sandbox::mail::SAMPLES;
use mail_parser::MessageParser;

const N: usize = 10_000;
/// Interleaved rounds per sample, and parses per side in a round.
const ROUNDS: usize = 31;
const REPS: usize = 40;

fn messages() -> Vec<&'static [u8]> {
    SAMPLES.iter().map(|(_, b)| *b).cycle().take(N).collect()
}

fn mime_only(m: &[u8]) -> usize {
    MessageParser::default().parse(m).map_or(0, |msg| msg.body_text(0).map_or(0, |t| t.len()))
}

fn extract(m: &[u8], opts: &ParseOptions) -> bool {
    parse_message(m, opts).is_ok_and(|p| p.outcome.extraction().is_some())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..REPS {
        f();
    }
    t.elapsed().as_secs_f64() / REPS as f64
}

/// The per-message table; returns the median ratio over the typical confirmations.
fn per_message(opts: &ParseOptions) -> f64 {
    println!("{:<52} {:>8} {:>11} {:>11} {:>7} {:>11}", "message", "bytes", "mime µs", "ours µs", "ratio", "spread");
    let mut typical = Vec::new();
    for (name, m) in SAMPLES {
        let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let ta = timed(|| {
                black_box(mime_only(black_box(m)));
            });
            let tb = timed(|| {
                black_box(extract(black_box(m), opts));
            });
            a.push(ta);
            b.push(tb);
            r.push(tb / ta);
        }
        let (ma, mb) = (median(&mut a), median(&mut b));
        let mr = median(&mut r);
        let spread = (r[ROUNDS / 4], r[ROUNDS * 3 / 4]);
        let is_typical = (2048..=15 * 1024).contains(&m.len()) && extract(m, opts);
        if is_typical {
            typical.push(mr);
        }
        println!(
            "{:<52} {:>8} {:>11.1} {:>11.1} {:>6.2}× {:>5.2}–{:.2}{}",
            name,
            m.len(),
            ma * 1e6,
            mb * 1e6,
            mr,
            spread.0,
            spread.1,
            if is_typical { "  typical" } else { "" }
        );
    }
    let m = median(&mut typical);
    println!(
        "median over the {} typical confirmations (2–15 KB, extracted): {m:.2}× (target ≤ 2×); worst {:.2}×",
        typical.len(),
        typical.last().copied().unwrap_or(f64::NAN)
    );
    m
}

fn bench(c: &mut Criterion) {
    let opts = ParseOptions::default();
    per_message(&opts);

    let msgs = messages();
    let bytes: usize = msgs.iter().map(|m| m.len()).sum();
    let parsed = msgs.iter().filter(|m| parse_message(m, &opts).is_ok()).count();
    eprintln!("email_parse mix: {N} messages, {:.1} MiB, {parsed} parsed", bytes as f64 / 1048576.0);
    let mut g = c.benchmark_group("email_parse");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("mail_parser_alone", |b| b.iter(|| msgs.iter().map(|m| mime_only(m)).sum::<usize>()));
    g.bench_function("parse_and_extract", |b| b.iter(|| msgs.iter().filter(|m| extract(m, &opts)).count()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
