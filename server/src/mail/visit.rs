//! What the mails about a visit (Online-Terminvereinbarung) say: the booking, a move and the
//! reminder, each with the visit's calendar file (RFC 5545). The portal's pages and the
//! reminder job both compose them here, so the page, the mail and the calendar file name the
//! same day, time and place.

use lotse_core::Lang;
use lotse_core::appointments::Schedule;
use lotse_receipt::to_berlin;
use lotse_store::{NewOutboxMessage, Visit};
use serde_json::json;
use time::{Date, OffsetDateTime};

use super::{Event, MailConfig, Payload};
use crate::tenants::Tenant;

fn tr(lang: Lang, de: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { de }
}

const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "Montag, 07.12.2026" / "Monday, 7 December 2026".
pub fn day_text(d: Date, lang: Lang) -> String {
    let i = usize::from(d.weekday().number_days_from_monday());
    if lang == Lang::En {
        format!("{}, {} {} {}", WEEKDAYS_EN[i], d.day(), d.month(), d.year())
    } else {
        format!(
            "{}, {:02}.{:02}.{}",
            WEEKDAYS_DE[i],
            d.day(),
            u8::from(d.month()),
            d.year()
        )
    }
}

/// "08:15 Uhr" / "08:15".
pub fn time_text(t: OffsetDateTime, lang: Lang) -> String {
    let b = to_berlin(t);
    if lang == Lang::En {
        format!("{:02}:{:02}", b.hour(), b.minute())
    } else {
        format!("{:02}:{:02} Uhr", b.hour(), b.minute())
    }
}

/// The visit's calendar file; links start with `base` (the portal's public address, or
/// nothing for a link relative to the portal).
pub fn calendar(
    schedule: Option<&Schedule>,
    t: &Tenant,
    v: &Visit,
    lang: Lang,
    base: &str,
    now: OffsetDateTime,
) -> String {
    let service = schedule.and_then(|s| s.service(&v.service));
    let office = schedule.and_then(|s| s.office(&v.office));
    let url = format!("{base}/{}/termin/{}", t.slug, v.id);
    let mut description = String::new();
    if let Some(x) = service
        && !x.bring.is_empty()
    {
        description.push_str(tr(lang, "Bitte mitbringen:", "Please bring:"));
        for b in &x.bring {
            description.push_str("\n- ");
            description.push_str(b.get(lang));
        }
        description.push_str("\n\n");
    }
    description.push_str(tr(lang, "Verschieben oder absagen: ", "Move or cancel: "));
    description.push_str(&url);
    let local = |x: OffsetDateTime| {
        let b = to_berlin(x);
        time::PrimitiveDateTime::new(b.date(), b.time())
    };
    lotse_core::appointments::ics::calendar(&lotse_core::appointments::ics::CalendarVisit {
        uid: format!("{}@{}", v.id, t.slug),
        summary: &format!(
            "{} – {}",
            service.map(|x| x.title.get(lang)).unwrap_or_default(),
            t.name
        ),
        location: &office
            .map(|o| format!("{}, {}", o.name.get(lang), o.address.join(", ")))
            .unwrap_or_default(),
        description: &description,
        url: &url,
        start: local(v.start),
        end: local(v.end),
        stamp: now,
        sequence: v.moves,
    })
}

/// A mail about a visit: which, to whom, in which language.
pub struct VisitMail<'a> {
    pub event: Event,
    pub schedule: Option<&'a Schedule>,
    pub tenant: &'a Tenant,
    /// The visit as the mail describes it (after a move: at its new time).
    pub visit: &'a Visit,
    pub name: &'a str,
    pub email: &'a str,
    pub lang: Lang,
    pub now: OffsetDateTime,
}

/// The mail as an outbox message, with the calendar file, if mail is configured.
pub fn message(config: Option<&MailConfig>, m: &VisitMail<'_>) -> Option<NewOutboxMessage> {
    let config = config?;
    let (t, v, lang) = (m.tenant, m.visit, m.lang);
    let base = config.public_url.trim_end_matches('/');
    let service = m.schedule.and_then(|s| s.service(&v.service));
    let office = m.schedule.and_then(|s| s.office(&v.office));
    let bring = service
        .map(|x| {
            x.bring
                .iter()
                .map(|b| format!("- {}", b.get(lang)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let payload = Payload {
        submission: String::new(),
        event: m.event.name().into(),
        to: m.email.to_string(),
        lang: lang.tag().into(),
        tenant: t.slug.clone(),
        reply_to: Some(t.email.clone()).filter(|e| !e.trim().is_empty()),
        attach_receipt: false,
        vars: json!({
            "tenant": t.name,
            "at_tenant": t.at_phrase(lang),
            "office": t.office.get(lang),
            "contact": t.email,
            "service": service.map(|x| x.title.get(lang)).unwrap_or_default(),
            "when": format!("{}, {}", day_text(v.day, lang), time_text(v.start, lang)),
            "place": office
                .map(|o| format!("{}, {}", o.name.get(lang), o.address.join(", ")))
                .unwrap_or_default(),
            "bring": bring,
            "status_url": format!("{base}/{}/termin/{}", t.slug, v.id),
            "status": "",
            "applicant": m.name,
            "receipt_attached": false,
            "colour": t.colour,
            "lang": lang.tag(),
            "reference": v.reference.as_deref().unwrap_or_default(),
            "visit": v.id.to_string(),
            "ics": calendar(m.schedule, t, v, lang, base, m.now),
        }),
    };
    Some(NewOutboxMessage {
        topic: m.event.topic().into(),
        target: m.event.target().into(),
        payload: serde_json::to_value(payload).ok()?,
    })
}
