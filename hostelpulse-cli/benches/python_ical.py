"""The Python side of the `ical_cli` bench: parse a feed with the `icalendar` package and classify
its events as `hostelpulse ical parse --json` does in outline (dates, kind, Airbnb code, phone's
last four digits), writing the same JSON shape. Usage: python3 python_ical.py FEED > out.json"""

import json
import re
import sys

import icalendar

CODE = re.compile(r"\bHM[A-Z0-9]{8}\b")
PHONE = re.compile(r"Phone Number \(Last 4 Digits\):\s*(\d{4})")


def main(path):
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    events = []
    for e in cal.walk("VEVENT"):
        summary = str(e.get("SUMMARY", ""))
        description = str(e.get("DESCRIPTION", ""))
        start = e.decoded("DTSTART")
        end = e.decoded("DTEND")
        reserved = "not available" not in summary.lower()
        code = CODE.search(description) if reserved else None
        phone = PHONE.search(description) if reserved else None
        events.append(
            {
                "arrival": start.isoformat()[:10],
                "channel": "airbnb",
                "channel_ref": code.group(0) if code else None,
                "departure": end.isoformat()[:10],
                "guest_name": None,
                "kind": "reservation" if reserved else "block",
                "phone_last4": phone.group(1) if phone else None,
                "summary": summary or None,
                "uid": str(e.get("UID")),
            }
        )
    json.dump({"events": events, "skipped": []}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
