//! The texts of the mails: one template per event and language, its first line the subject,
//! then an empty line, then the body (docs/email.md). Built in, and replaceable per tenant by a
//! file `portal/mail/<tenant>/<event>.<lang>.txt`. The HTML part is made from the same text
//! (escaped, paragraphs, links), so the two parts can never say different things.

use std::path::Path;

use crate::templates::escape;
use anyhow::{Context, bail};
use handlebars::Handlebars;
use serde_json::{Value, json};

/// What a mail is about: its template's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A submission arrived (the confirmation).
    Received,
    /// The office changed the status.
    StatusChanged,
    /// The office asks the citizen something (the question itself stays in the portal).
    Rueckfrage,
    /// A visit (appointment) is booked; the calendar file is attached.
    Visit,
    /// A visit moved to another time; the changed calendar file is attached.
    VisitMoved,
    /// A visit is near (the day before); the calendar file is attached.
    VisitReminder,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::Received,
        Event::StatusChanged,
        Event::Rueckfrage,
        Event::Visit,
        Event::VisitMoved,
        Event::VisitReminder,
    ];

    /// Whether the mail is about a visit (its time, not a reference).
    pub fn is_visit(self) -> bool {
        matches!(
            self,
            Event::Visit | Event::VisitMoved | Event::VisitReminder
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Event::Received => "received",
            Event::StatusChanged => "status",
            Event::Rueckfrage => "rueckfrage",
            Event::Visit => "visit",
            Event::VisitMoved => "visit_moved",
            Event::VisitReminder => "visit_reminder",
        }
    }

    pub fn from_name(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == s)
    }

    /// The outbox topic of the event's mails.
    pub fn topic(self) -> &'static str {
        match self {
            Event::Received => "mail.submission_received",
            Event::StatusChanged => "mail.status_changed",
            Event::Rueckfrage => "mail.rueckfrage",
            Event::Visit => "mail.visit_confirmed",
            Event::VisitMoved => "mail.visit_moved",
            Event::VisitReminder => "mail.visit_reminder",
        }
    }

    /// How the Postkorb names the message in its list of deliveries.
    pub fn target(self) -> &'static str {
        match self {
            Event::Received => "E-Mail: Eingangsbestätigung",
            Event::StatusChanged => "E-Mail: neuer Stand",
            Event::Rueckfrage => "E-Mail: Rückfrage",
            Event::Visit => "E-Mail: Terminbestätigung",
            Event::VisitMoved => "E-Mail: Termin verschoben",
            Event::VisitReminder => "E-Mail: Terminerinnerung",
        }
    }
}

const LANGS: [&str; 2] = ["de", "en"];

const BUILT_IN: [(&str, &str); 12] = [
    (
        "received.de",
        include_str!("../../templates/mail/received.de.txt"),
    ),
    (
        "received.en",
        include_str!("../../templates/mail/received.en.txt"),
    ),
    (
        "status.de",
        include_str!("../../templates/mail/status.de.txt"),
    ),
    (
        "status.en",
        include_str!("../../templates/mail/status.en.txt"),
    ),
    (
        "rueckfrage.de",
        include_str!("../../templates/mail/rueckfrage.de.txt"),
    ),
    (
        "rueckfrage.en",
        include_str!("../../templates/mail/rueckfrage.en.txt"),
    ),
    (
        "visit.de",
        include_str!("../../templates/mail/visit.de.txt"),
    ),
    (
        "visit.en",
        include_str!("../../templates/mail/visit.en.txt"),
    ),
    (
        "visit_moved.de",
        include_str!("../../templates/mail/visit_moved.de.txt"),
    ),
    (
        "visit_moved.en",
        include_str!("../../templates/mail/visit_moved.en.txt"),
    ),
    (
        "visit_reminder.de",
        include_str!("../../templates/mail/visit_reminder.de.txt"),
    ),
    (
        "visit_reminder.en",
        include_str!("../../templates/mail/visit_reminder.en.txt"),
    ),
];

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates: built in, and the tenants' own.
pub struct Templates {
    hb: Handlebars<'static>,
}

/// Values every template may use, for checking a tenant's template when it is loaded.
fn sample() -> Value {
    json!({
        "reference": "HEI-2026-000001",
        "tenant": "Stadt Heinsberg",
        "at_tenant": "bei der Stadt Heinsberg",
        "office": "Bürgerbüro",
        "contact": "buergerbuero@heinsberg.example",
        "service": "Hundesteuer",
        "status_url": "https://portal.example/heinsberg/eingang/x",
        "status": "In Bearbeitung",
        "applicant": "Erika Mustermann",
        "receipt_attached": true,
        "colour": "#1f4e79",
        "lang": "de",
        "when": "Montag, 07.12.2026, 08:15 Uhr",
        "place": "Bürgerbüro, Apfelstraße 23, 52525 Heinsberg",
        "bring": "- Ein biometrisches Passfoto",
    })
}

impl Templates {
    /// The built-in templates and those under `<project>/portal/mail/<tenant>/`. A tenant's
    /// file with a wrong name or a template error is refused with its path.
    pub fn load(project: &Path) -> anyhow::Result<Templates> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        for (name, src) in BUILT_IN {
            hb.register_template_string(name, src)
                .with_context(|| format!("built-in mail template {name}"))?;
        }
        let dir = project.join("portal").join("mail");
        if dir.is_dir() {
            for tenant in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
                let tenant = tenant?;
                if !tenant.file_type()?.is_dir() {
                    continue;
                }
                let slug = tenant.file_name().to_string_lossy().into_owned();
                for file in std::fs::read_dir(tenant.path())? {
                    let path = file?.path();
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let Some((event, lang)) = name
                        .strip_suffix(".txt")
                        .and_then(|stem| stem.split_once('.'))
                        .filter(|(e, l)| Event::from_name(e).is_some() && LANGS.contains(l))
                    else {
                        bail!(
                            "{}: not a mail template name; expected <event>.<lang>.txt with event received, status, rueckfrage, visit, visit_moved or visit_reminder and lang de or en",
                            path.display()
                        );
                    };
                    let src = std::fs::read_to_string(&path)
                        .with_context(|| format!("{}", path.display()))?;
                    let key = format!("{slug}/{event}.{lang}");
                    hb.register_template_string(&key, src)
                        .with_context(|| format!("{}", path.display()))?;
                    let t = Templates { hb };
                    t.render(
                        &slug,
                        Event::from_name(event).unwrap_or(Event::Received),
                        lang,
                        &sample(),
                    )
                    .with_context(|| format!("{}", path.display()))?;
                    hb = t.hb;
                }
            }
        }
        Ok(Templates { hb })
    }

    /// Renders the mail of `event` for `tenant` in `lang` (`de` or `en`) from `vars`.
    pub fn render(
        &self,
        tenant: &str,
        event: Event,
        lang: &str,
        vars: &Value,
    ) -> anyhow::Result<Rendered> {
        let lang = if lang == "en" { "en" } else { "de" };
        let own = format!("{tenant}/{}.{lang}", event.name());
        let name = if self.hb.has_template(&own) {
            own
        } else {
            format!("{}.{lang}", event.name())
        };
        let all = self.hb.render(&name, vars)?;
        let (subject, body) = all
            .split_once('\n')
            .context("a mail template starts with its subject line, then an empty line")?;
        let subject = subject.trim();
        if subject.is_empty() {
            bail!("the subject (the template's first line) is empty");
        }
        let text = body.trim_start_matches(['\r', '\n']).trim_end().to_string() + "\n";
        let colour = vars
            .get("colour")
            .and_then(Value::as_str)
            .unwrap_or("#1f4e79");
        let title = vars.get("tenant").and_then(Value::as_str).unwrap_or("");
        Ok(Rendered {
            subject: subject.to_string(),
            html: html(&text, title, colour, lang),
            text,
        })
    }
}

/// A colour only if it is `#rrggbb` (it goes into a style attribute).
fn safe_colour(c: &str) -> &str {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit());
    if ok { c } else { "#1f4e79" }
}

/// The HTML part: the text's paragraphs, a line that is a web address as a link, the tenant's
/// name in its colour above. Everything from the text is escaped.
fn html(text: &str, title: &str, colour: &str, lang: &str) -> String {
    let mut body = String::new();
    for para in text.split("\n\n") {
        let lines: Vec<String> = para
            .lines()
            .map(|line| {
                let l = line.trim();
                if (l.starts_with("https://") || l.starts_with("http://")) && !l.contains(' ') {
                    let e = escape(l);
                    format!("<a href=\"{e}\">{e}</a>")
                } else {
                    escape(line)
                }
            })
            .collect();
        if !lines.is_empty() {
            body.push_str("<p>");
            body.push_str(&lines.join("<br>\n"));
            body.push_str("</p>\n");
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body style=\"font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a; max-width: 40em;\">\n<div style=\"border-top: 6px solid {c}; padding-top: 8px; font-weight: bold;\">{t}</div>\n{body}</body>\n</html>\n",
        t = escape(title),
        c = safe_colour(colour),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_built_in_template_renders_in_both_languages() {
        let t = Templates::load(Path::new("/nonexistent")).unwrap();
        for e in Event::ALL {
            for lang in LANGS {
                let r = t.render("heinsberg", e, lang, &sample()).unwrap();
                // A visit's mail is about its time; the others about the reference.
                let about = if e.is_visit() {
                    "Montag"
                } else {
                    "HEI-2026-000001"
                };
                assert!(r.subject.contains(about), "{}: {}", e.name(), r.subject);
                assert!(
                    r.text
                        .contains("https://portal.example/heinsberg/eingang/x")
                );
                assert!(
                    r.html
                        .contains("<a href=\"https://portal.example/heinsberg/eingang/x\">")
                );
                assert!(!r.text.starts_with('\n'));
            }
        }
    }

    #[test]
    fn the_html_part_escapes_what_the_citizen_typed() {
        let t = Templates::load(Path::new("/nonexistent")).unwrap();
        let mut v = sample();
        v["applicant"] = json!("<script>alert(1)</script> & Co");
        v["colour"] = json!("red; background: url(x)");
        let r = t.render("heinsberg", Event::Received, "de", &v).unwrap();
        assert!(
            r.text.contains("<script>alert(1)</script> & Co"),
            "text is plain"
        );
        assert!(!r.html.contains("<script>"));
        assert!(
            r.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co")
        );
        assert!(r.html.contains("#1f4e79") && !r.html.contains("url(x)"));
    }

    #[test]
    fn a_tenant_template_replaces_the_built_in_one_and_a_wrong_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("portal/mail/gangelt");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(
            own.join("received.de.txt"),
            "Eingang {{reference}}\n\nMoin {{applicant}}.\n",
        )
        .unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let r = t
            .render("gangelt", Event::Received, "de", &sample())
            .unwrap();
        assert_eq!(r.subject, "Eingang HEI-2026-000001");
        assert_eq!(r.text, "Moin Erika Mustermann.\n");
        let other = t
            .render("heinsberg", Event::Received, "de", &sample())
            .unwrap();
        assert!(other.subject.starts_with("Ihr Antrag"));
        std::fs::write(own.join("status.de.txt"), "Stand {{unbekannt}}\n\nx\n").unwrap();
        let err = format!("{:#}", Templates::load(dir.path()).err().unwrap());
        assert!(err.contains("status.de.txt"), "{err}");
        std::fs::remove_file(own.join("status.de.txt")).unwrap();
        std::fs::write(own.join("status.fr.txt"), "x\n\ny\n").unwrap();
        let err = format!("{:#}", Templates::load(dir.path()).err().unwrap());
        assert!(err.contains("not a mail template name"), "{err}");
    }
}
