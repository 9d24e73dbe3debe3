//! `beds24_normalize`: 10,000 bookings in 100 pages of JSON. Baseline: a plain `serde_json` decode
//! of each page into the wire types (`{"data": [Booking…]}`). Measured: what the connector does —
//! `convert::page`: the page decoded and each row converted (a page with a bad row is read again
//! row by row, with path tracking for that row only; these pages have none). Target: at most
//! 1.3× the plain decode. A second group splits the time into the decode and the conversion.

#![recursion_limit = "256"]

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hostelpulse_connector_beds24::convert::{self, Ctx, RoomIndex};
use hostelpulse_connector_beds24::wire;
use hostelpulse_core::model::{AccountId, Provenance, Via};
use serde_json::json;

const PAGES: usize = 100;
const PER_PAGE: usize = 100;

fn pages() -> Vec<String> {
    (0..PAGES)
        .map(|p| {
            let data: Vec<_> = (0..PER_PAGE)
                .map(|i| {
                    let n = p * PER_PAGE + i;
                    json!({
                        "id": 71_000_000 + n, "masterId": null, "propertyId": 145678, "roomId": 316001, "unitId": 1 + n % 6, "roomQty": 1,
                        "offerId": 1, "status": if n.is_multiple_of(9) { "cancelled" } else { "confirmed" }, "subStatus": "none",
                        "arrival": "2026-12-01", "departure": "2026-12-04", "numAdult": 1, "numChild": 0, "title": "",
                        "firstName": "Mia", "lastName": format!("Schneider {n}"), "email": format!("guest{n}@example.com"), "phone": "",
                        "mobile": "+49 151 0000000", "fax": "", "company": "", "address": "", "city": "Berlin", "state": "", "postcode": "",
                        "country": "Germany", "country2": "DE", "arrivalTime": "15:00", "voucher": "", "comments": "Lower bunk if possible",
                        "notes": "Paid deposit via Stripe", "message": "", "groupNote": "", "custom1": "", "custom2": "", "flagColor": "",
                        "flagText": "", "statusCode": 0, "lang": "de", "price": 84.0, "deposit": 0, "tax": 0, "commission": 12.6,
                        "referer": "Hostelworld", "apiSourceId": 17, "apiSource": "Hostelworld", "apiReference": format!("HW-{}", 558_000_000 + n),
                        "channel": "hostelworld", "allowChannelUpdate": "all", "bookingTime": "2025-06-02T09:14:22Z",
                        "modifiedTime": "2025-06-02T09:14:22Z", "cancelTime": null,
                        "infoItems": [{ "id": 90011, "code": "NOTE", "text": "towel", "bookingId": 71_000_000 + n, "createTime": "2025-07-10T15:20:00Z" }]
                    })
                })
                .collect();
            json!({ "success": true, "type": "booking", "count": PER_PAGE, "pages": { "nextPageExists": p + 1 < PAGES, "nextPageLink": null }, "data": data })
                .to_string()
        })
        .collect()
}

/// The baseline: the whole page straight into the wire types (which borrow what conversion drops,
/// so the baseline gained from that as much as the connector did).
fn plain_decode(page: &str) -> usize {
    serde_json::from_str::<wire::BookingPage<'_>>(page).unwrap().data.len()
}

/// The connector's path: `convert::page`.
fn normalize(page: &str, ctx: &Ctx<'_>) -> usize {
    let page = convert::page(page.as_bytes(), ctx, 145678).unwrap();
    page.rows.iter().filter(|r| r.is_ok()).count()
}

fn bench(c: &mut Criterion) {
    let pages = pages();
    let bytes: usize = pages.iter().map(String::len).sum();
    let property: wire::Property = {
        let env: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/properties-get.response.json")).unwrap();
        serde_json::from_value(env["data"][0].clone()).unwrap()
    };
    let rooms = RoomIndex::of(&property);
    let account = AccountId::new("145678");
    let provenance = Provenance::new(Via::Api, Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
    let ctx = Ctx {
        account: &account,
        rooms: &rooms,
        currency: None,
        checkin_code: "CHECKIN",
        checkout_code: "CHECKOUT",
        provenance: &provenance,
    };

    let converted: usize = pages.iter().map(|p| normalize(p, &ctx)).sum();
    assert_eq!(converted, PAGES * PER_PAGE);
    eprintln!(
        "beds24_normalize: {} bookings in {PAGES} pages, {:.1} MiB of JSON",
        PAGES * PER_PAGE,
        bytes as f64 / 1048576.0
    );

    let mut g = c.benchmark_group("beds24_normalize");
    g.sample_size(20);
    g.throughput(Throughput::Elements((PAGES * PER_PAGE) as u64));
    g.bench_function("plain_decode", |b| b.iter(|| pages.iter().map(|p| plain_decode(p)).sum::<usize>()));
    g.bench_function("normalize", |b| b.iter(|| pages.iter().map(|p| normalize(p, &ctx)).sum::<usize>()));
    g.finish();

    // Where normalize's time goes: the conversion of rows already decoded (each round converts
    // its own copy, made outside the measurement, as the connector converts the rows it owns).
    let decoded: Vec<wire::Booking<'_>> =
        pages.iter().flat_map(|p| serde_json::from_str::<wire::BookingPage<'_>>(p).unwrap().data).collect();
    let mut g = c.benchmark_group("beds24_normalize_parts");
    g.sample_size(20);
    g.throughput(Throughput::Elements((PAGES * PER_PAGE) as u64));
    g.bench_function("convert_owned", |b| {
        b.iter_batched(
            || decoded.clone(),
            |rows| rows.into_iter().filter_map(|w| convert::into_booking(w, &ctx).ok()).count(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
