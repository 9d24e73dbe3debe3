//! Builds the `.eml` fixtures in `mail/` from the e-mail corpus (`tests/data/email/`, which
//! holds decoded parts only) and checks the committed files are what this builder writes.
//! Regenerate with `UPDATE_FIXTURES=1 cargo test -p hostelpulse-sandbox --test mail_fixtures`.
//!
//! The MIME writer is deliberately plain and deterministic (fixed boundaries and ids) so every
//! encoding the parser must handle appears exactly once or twice: quoted-printable, base64, 8bit,
//! windows-1252 and ISO-8859-1 bodies, RFC 2047 subjects, multipart/alternative and mixed, HTML-only
//! mail, an attached message/rfc822, and forwards in Gmail, Android, Apple Mail and Outlook styles.

use std::path::{Path, PathBuf};

use base64::Engine;

fn corpus(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/email").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[derive(Clone, Copy)]
enum Enc {
    Qp,
    B64,
    Bit8,
}

struct Part {
    ctype: &'static str,
    charset: &'static str,
    enc: Enc,
    body: String,
}

fn part(ctype: &'static str, charset: &'static str, enc: Enc, body: impl Into<String>) -> Part {
    Part { ctype, charset, enc, body: body.into() }
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn encode_part(p: &Part) -> Vec<u8> {
    let raw: Vec<u8> = match p.charset {
        "utf-8" => crlf(&p.body).into_bytes(),
        cs => {
            let enc = encoding_rs::Encoding::for_label(cs.as_bytes()).expect("known charset");
            let text = crlf(&p.body);
            let (bytes, _, unmappable) = enc.encode(&text);
            assert!(!unmappable, "fixture text does not fit {cs}");
            bytes.into_owned()
        }
    };
    let (cte, body) = match p.enc {
        Enc::Qp => ("quoted-printable", quoted_printable::encode(&raw)),
        Enc::B64 => {
            let b = base64::engine::general_purpose::STANDARD.encode(&raw);
            let lines: Vec<&[u8]> = b.as_bytes().chunks(76).collect();
            ("base64", lines.join(&b"\r\n"[..]))
        }
        Enc::Bit8 => ("8bit", raw),
    };
    let mut out =
        format!("Content-Type: {}; charset=\"{}\"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n", p.ctype, p.charset)
            .into_bytes();
    out.extend_from_slice(&body);
    out.extend_from_slice(b"\r\n");
    out
}

struct Headers<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    date: &'a str,
    id: &'a str,
}

fn header_block(h: &Headers<'_>) -> Vec<u8> {
    let subject = if h.subject.is_ascii() {
        h.subject.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(h.subject))
    };
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{}@fixtures.hostelpulse.invalid>\r\nMIME-Version: 1.0\r\n",
        h.from, h.to, h.date, h.id
    )
    .into_bytes()
}

fn single(h: &Headers<'_>, p: &Part) -> Vec<u8> {
    let mut out = header_block(h);
    out.extend(encode_part(p));
    out
}

fn multipart(h: &Headers<'_>, subtype: &str, parts: &[Vec<u8>], boundary: &str) -> Vec<u8> {
    let mut out = header_block(h);
    out.extend(format!("Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n").into_bytes());
    for p in parts {
        out.extend(format!("--{boundary}\r\n").into_bytes());
        out.extend(p);
    }
    out.extend(format!("--{boundary}--\r\n").into_bytes());
    out
}

fn attached(message: &[u8]) -> Vec<u8> {
    let mut out =
        b"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n".to_vec();
    out.extend_from_slice(message);
    out
}

const OWNER: &str = "Hostel Owner <owner@example.com>";
const INBOX: &str = "bookings@inbox.hostelpulse.invalid";

fn pre(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!("<html><body><pre>{escaped}</pre></body></html>")
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = Vec::new();
    let airbnb = |id, subject, date| Headers { from: "Airbnb <automated@airbnb.com>", to: OWNER, subject, date, id };
    v.push((
        "airbnb-confirmed-en-a.eml",
        single(
            &airbnb("airbnb-a", "Reservation confirmed - Sheila C. arrives Jun 27", "Tue, 21 Nov 2023 21:13:08 +0000"),
            &part("text/plain", "utf-8", Enc::Qp, corpus("airbnb-host-reservation-confirmed-en-sample-a.txt")),
        ),
    ));
    v.push((
        "airbnb-confirmed-en-b.eml",
        single(
            &airbnb("airbnb-b", "Reservation confirmed - Ladisha J. arrives Nov 19", "Sat, 18 Nov 2023 00:11:43 +0000"),
            &part("text/plain", "utf-8", Enc::B64, corpus("airbnb-host-reservation-confirmed-en-sample-b.txt")),
        ),
    ));
    let c = corpus("airbnb-host-reservation-confirmed-en-sample-c.txt");
    v.push((
        "airbnb-confirmed-en-c.eml",
        multipart(
            &airbnb("airbnb-c", "Reservation confirmed - Rosie B. arrives Feb 23", "Fri, 16 Feb 2024 13:30:36 +0000"),
            "alternative",
            &[
                encode_part(&part("text/plain", "utf-8", Enc::B64, c.clone())),
                encode_part(&part("text/html", "utf-8", Enc::Qp, pre(&c))),
            ],
            "=_airbnb_c_alt",
        ),
    ));
    v.push((
        "airbnb-confirmed-en-d.eml",
        single(
            &airbnb("airbnb-d", "Reservation confirmed - Fabian R. arrives Jun 14", "Mon, 12 Feb 2024 03:59:36 +0000"),
            &part("text/plain", "utf-8", Enc::Bit8, corpus("airbnb-host-reservation-confirmed-en-sample-d.txt")),
        ),
    ));
    let fwd = |id, subject, date| Headers { from: "Forwarder <forwarder@example.com>", to: INBOX, subject, date, id };
    let fr_subject = "TR: Réservation confirmée : Jean Tremblay arrive le 30 juil.";
    v.push((
        "airbnb-confirmed-fr-forwarded.eml",
        multipart(
            &fwd("airbnb-fr", fr_subject, "Wed, 15 Jul 2026 09:45:00 -0500"),
            "alternative",
            &[
                encode_part(&part(
                    "text/plain",
                    "utf-8",
                    Enc::Qp,
                    corpus("airbnb-host-reservation-confirmed-fr-forwarded.txt"),
                )),
                encode_part(&part(
                    "text/html",
                    "utf-8",
                    Enc::B64,
                    corpus("airbnb-host-reservation-confirmed-fr-forwarded.html"),
                )),
            ],
            "=_airbnb_fr_alt",
        ),
    ));
    v.push((
        "airbnb-confirmed-fr-forwarded-html-only.eml",
        single(
            &fwd("airbnb-fr-html", fr_subject, "Wed, 15 Jul 2026 09:46:00 -0500"),
            &part("text/html", "utf-8", Enc::Qp, corpus("airbnb-host-reservation-confirmed-fr-forwarded.html")),
        ),
    ));
    // A phone re-encoding to Latin-1 turns the narrow no-break spaces into spaces.
    v.push((
        "airbnb-request-fr-forwarded-latin1.eml",
        single(
            &fwd("airbnb-fr-request", "TR: En attente : demande de réservation concernant l'annonce Auberge du vieux pont pour 30–31 juil. 2026", "Wed, 15 Jul 2026 08:00:00 -0500"),
            &part("text/plain", "iso-8859-1", Enc::Qp, corpus("airbnb-host-booking-request-fr-forwarded.txt").replace('\u{202f}', " ")),
        ),
    ));
    v.push((
        "expedia-new-booking-forwarded.eml",
        multipart(
            &fwd("expedia-fr", "TR: Expedia - New Booking - Arriving on 5 Sep 2026", "Fri, 17 Jul 2026 07:30:00 -0500"),
            "alternative",
            &[
                encode_part(&part("text/plain", "utf-8", Enc::Qp, corpus("expedia-partner-new-booking-forwarded.txt"))),
                encode_part(&part(
                    "text/html",
                    "utf-8",
                    Enc::B64,
                    corpus("expedia-partner-new-booking-forwarded.html"),
                )),
            ],
            "=_expedia_alt",
        ),
    ));
    let gmail = format!(
        "FYI\n\n---------- Forwarded message ---------\nFrom: Expedia Group <booknotif@expedia.com>\nDate: Fri, Jul 17, 2026 at 12:09 AM\n\
         Subject: Expedia - New Booking - Arriving on 5 Sep 2026\nTo: <owner@example.com>\n\n\n{}",
        corpus("expedia-partner-new-booking-gmail-view.txt")
    );
    v.push((
        "expedia-new-booking-gmail-forward-cp1252.eml",
        single(
            &Headers {
                from: OWNER,
                to: INBOX,
                subject: "Fwd: Expedia - New Booking - Arriving on 5 Sep 2026",
                date: "Fri, 17 Jul 2026 08:00:00 -0400",
                id: "expedia-gmail",
            },
            &part("text/plain", "windows-1252", Enc::Qp, gmail),
        ),
    ));
    let booking = |id, subject, date| Headers {
        from: "Booking.com <noreply@booking.com>",
        to: "guest@example.invalid",
        subject,
        date,
        id,
    };
    let plain = corpus("booking-com-guest-confirmation-en-gb-plain-part.txt");
    v.push((
        "booking-guest-confirmed-gb.eml",
        multipart(
            &booking(
                "booking-gb",
                "🛄 Thanks! Your booking is confirmed at Moxy Dublin City",
                "Mon, 29 Jun 2026 13:29:16 +0100",
            ),
            "alternative",
            &[
                encode_part(&part("text/plain", "utf-8", Enc::B64, plain.clone())),
                encode_part(&part("text/html", "utf-8", Enc::B64, pre(&plain))),
            ],
            "=_booking_gb_alt",
        ),
    ));
    v.push((
        "booking-guest-confirmed-us-apple-forward.eml",
        single(
            &Headers {
                from: OWNER,
                to: INBOX,
                subject: "Fwd: 🛄 Thanks! Your booking is confirmed at citizenM Paris Gare de Lyon",
                date: "Wed, 27 May 2026 11:00:00 +0100",
                id: "booking-us",
            },
            &part(
                "text/plain",
                "utf-8",
                Enc::Qp,
                format!(
                    "Begin forwarded message:\n\n{}",
                    corpus("booking-com-guest-confirmation-en-us-forwarded-header.txt")
                ),
            ),
        ),
    ));
    let export = corpus("booking-com-guest-confirmation-en-gb-mail-export.txt");
    let export_body = export.split_once("\n\n").map_or(export.as_str(), |(_, b)| b);
    v.push((
        "booking-guest-confirmed-gb-outlook-de-cp1252.eml",
        single(
            &Headers { from: OWNER, to: INBOX, subject: "WG: Thanks! Your booking is confirmed at Moxy Dublin City", date: "Mon, 29 Jun 2026 15:00:00 +0200", id: "booking-de" },
            &part(
                "text/plain",
                "windows-1252",
                Enc::Qp,
                format!(
                    "Zur Info.\n\nVon: Booking.com <noreply@booking.com>\nGesendet: Montag, 29. Juni 2026 14:29\nAn: Owner <owner@example.com>\n\
                     Betreff: Thanks! Your booking is confirmed at Moxy Dublin City\n\n{export_body}"
                ),
            ),
        ),
    ));
    let ao = single(
        &Headers {
            from: "A&O Service Center <webservice@aohostels.com>",
            to: "null@kde.org",
            subject: "Booking confirmation AOI-XX-1234567",
            date: "Sun, 01 Jul 2018 10:00:00 +0200",
            id: "aohostels",
        },
        &part("text/plain", "utf-8", Enc::Bit8, corpus("aohostels-guest-booking-confirmation-en.txt")),
    );
    v.push((
        "aohostels-confirmation-attached.eml",
        multipart(
            &Headers {
                from: OWNER,
                to: INBOX,
                subject: "Fwd: Booking confirmation AOI-XX-1234567",
                date: "Mon, 02 Jul 2018 09:00:00 +0200",
                id: "aohostels-fwd",
            },
            "mixed",
            &[
                encode_part(&part("text/plain", "utf-8", Enc::Bit8, "Forwarding the confirmation as an attachment.\n")),
                attached(&ao),
            ],
            "=_ao_mixed",
        ),
    ));
    v.push((
        "agoda-voucher-confirmed.eml",
        single(
            &Headers {
                from: "Agoda Booking <booking@mail.agoda.net>",
                to: OWNER,
                subject: "Agoda Booking ID 987654321 - CONFIRMED",
                date: "Tue, 01 Sep 2026 10:00:00 +0700",
                id: "agoda",
            },
            &part("text/html", "utf-8", Enc::B64, corpus("agoda-booking-voucher-en-vi-dorm-bed.html")),
        ),
    ));
    v.push((
        "tripcom-new-booking.eml",
        single(
            &Headers {
                from: "Trip.com <noreply@trip.com>",
                to: OWNER,
                subject: "New Booking Received",
                date: "Sun, 20 Sep 2026 10:00:00 +0800",
                id: "tripcom",
            },
            &part("text/html", "utf-8", Enc::Qp, corpus("tripcom-partner-new-booking-structural.html")),
        ),
    ));
    // Synthetic, from the documented subjects and bodies (no raw sample exists): see mail/README.md.
    let booking_host = |id, subject: &'static str, n: &str| {
        single(
            &Headers {
                from: "Booking.com <noreply@booking.com>",
                to: OWNER,
                subject,
                date: "Sun, 22 Nov 2026 08:00:00 +0000",
                id,
            },
            &part(
                "text/plain",
                "utf-8",
                Enc::Qp,
                format!(
                    "Hostel Example - Bed in 6-Bed Mixed Dormitory Room\n\nBooking confirmation\n\nBooking number: {n}\n\n\
                     https://admin.booking.com/hotel/hoteladmin/extranet_ng/manage/booking.html?res_id={n}&hotel_id=1234567\n"
                ),
            ),
        )
    };
    v.push((
        "booking-host-new.eml",
        booking_host(
            "booking-host-new",
            "Booking.com - New booking! (4012345678, Monday, 21 December 2026)",
            "4012345678",
        ),
    ));
    v.push((
        "booking-host-cancelled.eml",
        booking_host(
            "booking-host-cancel",
            "Booking.com - Cancelled booking (4012345678, Monday, 21 December 2026)",
            "4012345678",
        ),
    ));
    v.push((
        "booking-guest-message.eml",
        single(
            &Headers { from: "Booking.com <noreply@booking.com>", to: OWNER, subject: "We received this message from Alex Morris", date: "Sun, 22 Nov 2026 09:00:00 +0000", id: "booking-msg" },
            &part("text/plain", "utf-8", Enc::Qp, "##- Please type your reply above this line -##\n\nConfirmation number: 4012345678\n\nHi, can I check in at 11pm?\n"),
        ),
    ));
    v.push((
        "hostelworld-confirmed.eml",
        single(
            &Headers { from: "Hostelworld <bookings@hostelworld.com>", to: OWNER, subject: "Hostelworld Confirmed Booking - Hostel Example", date: "Sun, 22 Nov 2026 10:00:00 +0000", id: "hostelworld" },
            &part(
                "text/plain",
                "utf-8",
                Enc::Qp,
                "Confirmed Booking\n\nReference Number: 1234-567890123\nGuest Name: Ana Souza\nEmail: ana.souza@example.invalid\n\
                 Phone: +55 11 91234 5678\nCheck In: 3 December 2026\nCheck Out: 6 December 2026\nNights: 3\n\
                 Room: 1 x Bed in 6 Bed Mixed Dorm\nGuests: 1 adult\nTotal Price: EUR 54.00\nDeposit Paid: EUR 8.10\nBalance Due: EUR 45.90\n",
            ),
        ),
    ));
    v.push((
        "newsletter-not-a-booking.eml",
        multipart(
            &Headers {
                from: "Hostel Supplies <news@supplies.example>",
                to: OWNER,
                subject: "Winter sale: 20% off bunk beds",
                date: "Sun, 22 Nov 2026 11:00:00 +0000",
                id: "newsletter",
            },
            "alternative",
            &[
                encode_part(&part(
                    "text/plain",
                    "utf-8",
                    Enc::Qp,
                    "Our winter sale starts today: 20% off bunk beds and lockers.\n",
                )),
                encode_part(&part(
                    "text/html",
                    "utf-8",
                    Enc::Qp,
                    "<p>Our winter sale starts today: <b>20% off</b> bunk beds and lockers.</p>",
                )),
            ],
            "=_news_alt",
        ),
    ));
    // Truncated: no closing boundary, and the base64 stops mid-quantum.
    let mut broken = header_block(&Headers {
        from: OWNER,
        to: INBOX,
        subject: "Fwd: booking",
        date: "Sun, 22 Nov 2026 12:00:00 +0000",
        id: "broken",
    });
    broken.extend_from_slice(b"Content-Type: multipart/alternative; boundary=\"=_cut\"\r\n\r\n--=_cut\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nQm9va2luZyBubzogQUJDMTIzNDUK\r\nQ2hlY2staW46IDMgRGVjZW1iZXIgMjAy");
    v.push(("malformed-truncated-multipart.eml", broken));
    v
}

#[test]
fn committed_fixtures_match_the_builder() {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("mail");
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let mut stale = Vec::new();
    for (name, bytes) in fixtures() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "fixtures out of date (run with UPDATE_FIXTURES=1): {stale:?}");
}
