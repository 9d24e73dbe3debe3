//! Every `.eml` fixture (built from the corpus, see `hostelpulse-sandbox/mail/README.md`) parses
//! without a panic; insta pins each result, and the cases the issue names are asserted outright.

use chrono::NaiveDate;
use hostelpulse_connector_email::{
    BodySource, Extraction, MailKind, MessageError, Outcome, ParseOptions, ParsedMail, parse_message,
};
use hostelpulse_core::model::Channel;
use hostelpulse_sandbox::mail::{SAMPLES, sample};
fn parse(name: &str) -> ParsedMail {
    parse_message(sample(name).unwrap_or_else(|| panic!("no sample {name}")), &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn booking(name: &str) -> Extraction {
    match parse(name).outcome {
        Outcome::Booking(e) => e,
        other => panic!("{name}: expected a booking, got {other:#?}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn every_fixture_parses_and_is_pinned() {
    for (name, bytes) in SAMPLES {
        let parsed = parse_message(bytes, &ParseOptions::default()).map_err(|e| e.to_string());
        insta::assert_json_snapshot!(name.trim_end_matches(".eml"), parsed);
    }
}

#[test]
fn airbnb_french_forward_reads_the_inner_original() {
    let p = parse("airbnb-confirmed-fr-forwarded.eml");
    assert_eq!(p.envelope.from.as_deref(), Some("automated@airbnb.com"));
    assert_eq!(p.envelope.forwarded_by.as_deref(), Some("forwarder@example.com"));
    let Outcome::Booking(b) = p.outcome else { panic!() };
    let f = &b.fields;
    assert_eq!((b.template.as_ref(), f.kind), ("airbnb", MailKind::New));
    assert_eq!(f.channel_ref.as_deref(), Some("HM45MDTHZ4"));
    assert_eq!(f.guest_name.as_deref(), Some("Jean Tremblay"), "full name from the inner subject");
    // "jeu. 30 juil." has no year: it comes from the inner date (2026-07-15).
    assert_eq!((f.arrival, f.departure), (date(2026, 7, 30), date(2026, 7, 31)));
    assert_eq!((f.adults, f.children), (Some(2), Some(0)));
    assert_eq!(f.total.as_ref().map(|m| (m.amount.to_string(), m.currency.as_str())), Some(("137.69".into(), "CAD")));
    assert_eq!((f.guest_email.as_deref(), f.guest_phone.as_deref()), (None, None), "Airbnb never sends contact data");
}

#[test]
fn html_only_mail_gives_the_same_booking_as_its_text_part() {
    let html = parse("airbnb-confirmed-fr-forwarded-html-only.eml");
    assert_eq!(html.envelope.body, BodySource::Html);
    let (Outcome::Booking(a), Outcome::Booking(b)) = (html.outcome, parse("airbnb-confirmed-fr-forwarded.eml").outcome)
    else {
        panic!("both must be bookings")
    };
    assert_eq!(a.fields, b.fields);
}

#[test]
fn english_airbnb_years_come_from_the_send_date() {
    // Sent Nov 2023 about June 2024: the year is written. Sent Feb 2024 about Feb 23: it is not.
    let a = booking("airbnb-confirmed-en-a.eml").fields;
    assert_eq!((a.arrival, a.departure), (date(2024, 6, 27), date(2024, 7, 1)));
    assert_eq!((a.adults, a.children), (Some(1), Some(2)));
    let c = booking("airbnb-confirmed-en-c.eml").fields;
    assert_eq!((c.arrival, c.departure), (date(2024, 2, 23), date(2024, 2, 26)));
    assert_eq!(c.channel_ref.as_deref(), Some("HMWMZWW9CQ"));
}

#[test]
fn booking_com_guest_confirmations_in_three_layouts_agree() {
    let names = ["booking-guest-confirmed-gb.eml", "booking-guest-confirmed-gb-outlook-de-cp1252.eml"];
    let results: Vec<_> = names.iter().map(|n| booking(n).fields).collect();
    assert_eq!(results[0], results[1], "same booking, base64 text part vs a German Outlook forward in windows-1252");
    let f = &results[0];
    assert_eq!(f.channel, Some(Channel::BookingCom));
    assert_eq!(f.channel_ref.as_deref(), Some("5833740861"));
    assert_eq!((f.arrival, f.departure), (date(2026, 7, 15), date(2026, 7, 17)));
    assert_eq!(
        (f.room.as_deref(), f.adults, f.guest_name.as_deref()),
        (Some("Queen Room"), Some(2), Some("Alex Morris"))
    );
    assert_eq!(f.total.as_ref().map(|m| m.currency.as_str()), Some("EUR"), "the property's currency, not the booker's");
    let us = booking("booking-guest-confirmed-us-apple-forward.eml").fields;
    assert_eq!((us.arrival, us.departure), (date(2026, 6, 3), date(2026, 6, 4)), "US order, Apple Mail forward");
}

#[test]
fn expedia_text_and_gmail_renderings_agree() {
    let a = booking("expedia-new-booking-forwarded.eml").fields;
    let b = booking("expedia-new-booking-gmail-forward-cp1252.eml").fields;
    assert_eq!(a, b);
    assert_eq!(a.channel_ref.as_deref(), Some("2511634261"));
    assert_eq!(a.guest_email.as_deref(), Some("xxxxxxxxxx@m.expediapartnercentral.com"));
    assert_eq!((a.arrival, a.departure, a.adults, a.children), (date(2026, 9, 5), date(2026, 9, 6), Some(2), Some(0)));
}

#[test]
fn the_other_senders() {
    let agoda = booking("agoda-voucher-confirmed.eml");
    assert_eq!(agoda.fields.room.as_deref(), Some("Bunk Bed in Mixed Dormitory Room"));
    assert_eq!(agoda.fields.guest_name.as_deref(), Some("Minh Trần"));
    let trip = booking("tripcom-new-booking.eml");
    assert_eq!(trip.fields.guest_name.as_deref(), Some("LINH TRẦN"), "SURNAME/GIVEN turned round");
    assert_eq!((trip.fields.arrival, trip.fields.departure), (date(2026, 10, 5), date(2026, 10, 7)));
    let hw = booking("hostelworld-confirmed.eml");
    assert_eq!(hw.fields.room.as_deref(), Some("Bed in 6 Bed Mixed Dorm"));
    assert_eq!(hw.fields.channel_ref.as_deref(), Some("1234-567890123"));
    // A&O has no template: the generic one reads it, forwarded as an attached message/rfc822.
    let ao = parse("aohostels-confirmation-attached.eml");
    assert_eq!(ao.envelope.from.as_deref(), Some("webservice@aohostels.com"));
    let Outcome::Booking(ao) = ao.outcome else { panic!("{:?}", ao.outcome) };
    assert_eq!(ao.template, "generic");
    assert!(ao.confidence < agoda.confidence, "the fallback is less sure than a template");
    assert_eq!((ao.fields.arrival, ao.fields.departure), (date(2018, 8, 10), date(2018, 8, 18)));
}

#[test]
fn booking_com_host_notifications_hold_what_they_have() {
    let new = parse("booking-host-new.eml");
    let Outcome::NeedsReview { extraction, reasons } = new.outcome else { panic!("{:?}", new.outcome) };
    assert_eq!(extraction.fields.channel_ref.as_deref(), Some("4012345678"));
    assert_eq!(extraction.fields.arrival, date(2026, 12, 21));
    assert!(reasons.iter().any(|r| r.contains("departure")), "{reasons:?}");
    let cancelled = booking("booking-host-cancelled.eml");
    assert_eq!(cancelled.fields.kind, MailKind::Cancelled);
}

#[test]
fn non_booking_mail_is_a_typed_outcome_with_a_reason() {
    for (name, template) in [
        ("airbnb-request-fr-forwarded-latin1.eml", Some("airbnb")),
        ("booking-guest-message.eml", Some("booking_com_host")),
        ("newsletter-not-a-booking.eml", None),
    ] {
        match parse(name).outcome {
            Outcome::NotABooking { reason, template: t } => {
                assert!(!reason.is_empty());
                assert_eq!(t.as_deref(), template, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn malformed_input_is_an_error_or_an_outcome_never_a_panic() {
    assert!(matches!(parse_message(b"", &ParseOptions::default()), Err(MessageError::Malformed { .. })));
    assert!(matches!(parse_message(b" \r\n\r\n", &ParseOptions::default()), Err(MessageError::Malformed { .. })));
    let truncated = parse("malformed-truncated-multipart.eml");
    assert!(matches!(truncated.outcome, Outcome::NotABooking { .. } | Outcome::NeedsReview { .. }));
    // Found by fuzzing: mail-parser 0.11 panics on this nesting; it must come back as an error.
    let crash = include_bytes!("regressions/mail-parser-invalid-part-id.eml");
    assert!(matches!(parse_message(crash, &ParseOptions::default()), Err(MessageError::Malformed { .. })));
    for junk in [
        &b"\xff\xfe\x00garbage"[..],
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
        b"From:\r\n\r\n",
    ] {
        let _ = parse_message(junk, &ParseOptions::default());
    }
}

/// Label drift and languages the corpus does not cover: a German and an Italian direct-booking
/// mail from a booking engine without a template, and a Spanish one with the value below its label.
#[test]
fn the_generic_template_reads_labels_in_other_languages() {
    type Ymd = (i32, u32, u32);
    let cases: [(&str, &str, Ymd, Ymd); 3] = [
        (
            "Subject: Ihre Buchungsbestätigung\r\nFrom: buchung@hostel-beispiel.de\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n\r\n\
             Buchungsnummer: HB-20931\r\nName des Gastes: Jonas Weber\r\nAnreise: 14. Dezember 2026\r\nAbreise: 17. Dezember 2026\r\n\
             Zimmer: Bett im 8-Bett-Schlafsaal\r\n2 Erwachsene\r\nGesamtpreis: 96,00 EUR\r\n",
            "HB-20931",
            (2026, 12, 14),
            (2026, 12, 17),
        ),
        (
            "Subject: Conferma prenotazione\r\nFrom: prenotazioni@ostello.example\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\n\r\n\
             Numero di prenotazione: 77120\r\nOspite: Giulia Bianchi\r\nData di arrivo: 5 gennaio\r\nData di partenza: 8 gennaio\r\n\
             2 adulti\r\nTotale: € 120,00\r\n",
            "77120",
            (2027, 1, 5),
            (2027, 1, 8),
        ),
        (
            "Subject: Reserva confirmada\r\nFrom: reservas@albergue.example\r\nDate: Wed, 4 Nov 2026 10:00:00 +0100\r\n\r\n\
             Localizador\r\nAB-5521\r\n\r\nFecha de llegada\r\nviernes, 20 de noviembre de 2026\r\n\r\nFecha de salida\r\n\
             domingo, 22 de noviembre de 2026\r\n\r\nNombre del huésped\r\nLucía Fernández\r\n\r\n1 adulto\r\n\r\nImporte total\r\n45,50 €\r\n",
            "AB-5521",
            (2026, 11, 20),
            (2026, 11, 22),
        ),
    ];
    for (mail, reference, a, d) in cases {
        let parsed = parse_message(mail.as_bytes(), &ParseOptions::default()).unwrap();
        let Outcome::Booking(b) = parsed.outcome else { panic!("{reference}: {:#?}", parsed.outcome) };
        assert_eq!(b.template, "generic");
        assert_eq!(b.fields.channel_ref.as_deref(), Some(reference));
        assert_eq!((b.fields.arrival, b.fields.departure), (date(a.0, a.1, a.2), date(d.0, d.1, d.2)), "{reference}");
        assert!(
            b.fields.guest_name.is_some() && b.fields.total.is_some() && b.fields.adults.is_some(),
            "{:#?}",
            b.fields
        );
    }
}

/// A refused message says what is true of it: a mail with headers is never told it has none, and
/// the body's actual fault is named.
#[test]
fn refusals_say_what_is_actually_wrong() {
    let reason = |bytes: &[u8]| match parse_message(bytes, &ParseOptions::default()) {
        Err(MessageError::Malformed { reason }) => reason,
        other => panic!("{other:?}"),
    };
    let same_boundary = b"To: owner@hostel.example\r\nMessage-ID: <x1@relay.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"SAME\"\r\n\r\n--SAME\r\nContent-Type: multipart/alternative; boundary=\"SAME\"\r\n\r\n\
--SAME\r\n--SAME--\r\n--SAME--\r\n";
    let r = reason(same_boundary);
    assert!(r.contains("4 header line(s)") && r.contains("nested parts reuse the same boundary (`SAME`)"), "{r}");
    assert!(!r.contains("no headers"), "{r}");
    let missing =
        b"To: owner@hostel.example\r\nContent-Type: multipart/mixed; boundary=\"B1\"\r\n\r\nno parts here\r\n";
    let r = reason(missing);
    assert!(r.contains("the multipart boundary (`B1`) never appears in the body"), "{r}");
    let r = reason(b"just a line of text without a colon\r\n\r\n");
    assert!(r.contains("no header lines before the first blank line") && r.contains("an empty body"), "{r}");
}

/// A sender without a template: the channel comes from what the mail says, never from the relay
/// or PMS domain it was sent from.
#[test]
fn an_unknown_senders_channel_comes_from_the_content_or_stays_empty() {
    let mail = |body: &str| {
        format!(
            "From: Reservations <noreply@notify.pms-relay.example>\r\nTo: owner@hostel.example\r\n\
             Subject: New reservation 88231\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nReservation number: 88231\r\n\
             Check-in: 12 December 2026\r\nCheck-out: 15 December 2026\r\nGuest name: Ana Lima\r\n{body}\r\n"
        )
    };
    let channel = |body: &str| {
        let parsed = parse_message(mail(body).as_bytes(), &ParseOptions::default()).unwrap();
        parsed.outcome.extraction().and_then(|e| e.fields.channel.clone())
    };
    assert_eq!(channel("Booked via: Expedia"), Some(Channel::Expedia));
    assert_eq!(channel("This reservation came from Hostelworld."), Some(Channel::Hostelworld));
    assert_eq!(channel("Thank you for your reservation."), None, "never the relay's domain");
    assert_eq!(channel("Listed on Airbnb and Booking.com."), None, "two channels named, none claimed");
}

/// A guest's reply in a reservation's thread names the stay's dates but is not a booking: without
/// a reference it is `not_a_booking`, never a second stay on the board. With the reference it is
/// about that booking (and folds into it by the reference).
#[test]
fn a_reply_in_a_message_thread_is_not_a_new_booking() {
    let mail = |subject: &str, body: &str| {
        format!(
            "From: Ana Lima <ana.lima@example.com>\r\nTo: owner@hostel.example\r\nSubject: {subject}\r\n\
             Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    let body = "Hi! Quick question about our stay.\r\nCheck-in: 12 December 2026\r\nCheck-out: 15 December 2026\r\n\
                Can we leave our bags before check-in?";
    for subject in ["Re: Your stay in December", "AW: Ihre Buchung", "Fwd: RE: Question"] {
        let parsed = parse_message(mail(subject, body).as_bytes(), &ParseOptions::default()).unwrap();
        match parsed.outcome {
            Outcome::NotABooking { reason, .. } => assert!(reason.contains("reply in a message thread"), "{reason}"),
            other => panic!("{subject}: {other:?}"),
        }
    }
    let with_ref = format!("Booking number: 88231\r\n{body}");
    let parsed = parse_message(mail("Re: Booking 88231", &with_ref).as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(parsed.outcome.extraction().and_then(|e| e.fields.channel_ref.as_deref()), Some("88231"));
}

/// Layouts no template knows, from senders without one: full-width colons, labels and values in
/// separate cells or rows, two spaces after a label, `2026/10/05` dates, reference labels beyond
/// the big OTAs, and a total that is the amount next to its label — never a year or a date part.
#[test]
fn the_generic_extraction_reads_unseen_layouts() {
    let mail = |body: &str| {
        format!(
            "From: Extranet <no-reply@extranet.regional-ota.example>\r\nTo: owner@hostel.example\r\n\
             Subject: New booking\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    let fields = |body: &str| {
        let parsed = parse_message(mail(body).as_bytes(), &ParseOptions::default()).unwrap();
        parsed.outcome.extraction().map(|e| e.fields.clone()).unwrap_or_else(|| panic!("{:?}", parsed.outcome))
    };
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    // Full-width colons (as Japanese and Chinese extranets write them).
    let f = fields("Reservation：JP-55821\r\nCheck-in：2026/10/05\r\nCheck-out：2026/10/08\r\nGuest name：Sato Yuki");
    assert_eq!((f.channel_ref.as_deref(), f.arrival, f.departure), (Some("JP-55821"), d(2026, 10, 5), d(2026, 10, 8)));
    // Labels and values in separate rows.
    let f = fields(
        "Itinerary ID\r\n7731-2209\r\nArrival date\r\n05/10/2026\r\nDeparture date\r\n08/10/2026\r\nTotal\r\nEUR 84.00",
    );
    assert_eq!((f.channel_ref.as_deref(), f.arrival, f.departure), (Some("7731-2209"), d(2026, 10, 5), d(2026, 10, 8)));
    assert_eq!(f.total.map(|m| (m.amount.to_string(), m.currency)), Some(("84.00".into(), "EUR".into())));
    // Two spaces after a label, tab-separated cells, and a reference in `BOOKING (#…)`.
    let f =
        fields("BOOKING (#A1B2C3)\r\nCheck-in  \t12 Oct 2026\r\nCheck-out  \t14 Oct 2026\r\nGuest name  \tTom Berg");
    assert_eq!((f.channel_ref.as_deref(), f.arrival, f.departure), (Some("A1B2C3"), d(2026, 10, 12), d(2026, 10, 14)));
    assert_eq!(f.guest_name.as_deref(), Some("Tom Berg"));
    // A total is the amount next to its label: never the year of a date before it.
    let f = fields(
        "Confirmation number: 99120\r\nCheck-in: 2026-10-05\r\nCheck-out: 2026-10-06\r\nTotal payout (2026): USD 61.50",
    );
    assert_eq!(f.total.map(|m| (m.amount.to_string(), m.currency)), Some(("61.50".into(), "USD".into())));
}

/// A room is a value, never a word of a table header, and a room name of several parts stays
/// whole.
#[test]
fn room_names_are_values_not_header_words() {
    let body = "Booking ID: 55190\r\nCheck-in: 2026-10-05\r\nCheck-out: 2026-10-07\r\n\r\nRoom Information\r\n\
                Room: Deluxe Double Room - Sea View, Breakfast included\r\n";
    let mail = format!(
        "From: Extranet <no-reply@extranet.regional-ota.example>\r\nSubject: New booking\r\n\
         Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    let parsed = parse_message(mail.as_bytes(), &ParseOptions::default()).unwrap();
    let room = parsed.outcome.extraction().and_then(|e| e.fields.room.clone());
    assert_eq!(room.as_deref(), Some("Deluxe Double Room - Sea View, Breakfast included"));
}
