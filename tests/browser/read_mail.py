"""Reads the test SMTP server's maildir (aiosmtpd's Mailbox handler) for the browser tests with
Python's own `email` package and `icalendar` (Debian's python3-icalendar), independent of the
library that wrote them: one JSON object per message with its decoded subject (RFC 2047),
recipient, plain text, and the calendar file's event (start and end in Europe/Berlin)."""

import email
import email.policy
import json
import mailbox
import sys

import icalendar


def event(part):
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    ev = next(c for c in cal.walk() if c.name == "VEVENT")
    start, end = ev.decoded("dtstart"), ev.decoded("dtend")
    return {
        "start": start.isoformat(),
        "start_local": start.strftime("%Y-%m-%d %H:%M"),
        "tzid": str(ev["dtstart"].params.get("TZID", "")),
        "end": end.isoformat(),
        "summary": str(ev.get("summary")),
        "url": str(ev.get("url")),
        "uid": str(ev.get("uid")),
        "sequence": int(ev.get("sequence", 0)),
    }


def main(folder):
    out = []
    box = mailbox.Maildir(folder, factory=None, create=False)
    for key in sorted(box.keys()):
        m = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        text = m.get_body(preferencelist=("plain",))
        cals = [event(p) for p in m.iter_attachments() if p.get_content_type() == "text/calendar"]
        out.append({
            "subject": str(m["subject"]),
            "to": str(m["to"]),
            "text": text.get_content() if text else "",
            "calendar": cals[0] if cals else None,
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
