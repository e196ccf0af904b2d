//! The explanations BITV 2.0 asks of a public site's start page: the portal in Leichte Sprache
//! and in Deutsche Gebärdensprache, both from the portal's file (docs/tenants.md).

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use crate::http::extractors::UiLang;
use crate::http::pages::{Layout, Page, tr};
use crate::state::Shared;

/// A page of plain paragraphs, with a video link where there is one.
#[derive(Serialize)]
pub(crate) struct ExplainPage {
    #[serde(flatten)]
    layout: Layout,
    heading: String,
    paragraphs: Vec<String>,
    video: Option<String>,
    video_label: String,
    back: &'static str,
}

impl Page for ExplainPage {
    const TEMPLATE: &'static str = "explain";
}

/// `/leichte-sprache`: always in German (Leichte Sprache is a form of German).
pub(crate) async fn leichte_sprache(State(p): State<Shared>) -> Response {
    let defs = p.defs();
    let portal = &defs.portal;
    let lang = lotse_core::Lang::De;
    let page = ExplainPage {
        layout: Layout::new(portal, portal.root(), "Leichte Sprache", lang).at("/leichte-sprache"),
        heading: "Das Service-Portal in Leichter Sprache".into(),
        paragraphs: portal.leichte_sprache.clone(),
        video: None,
        video_label: String::new(),
        back: "Zur Start-Seite",
    };
    p.render(&page)
}

/// `/gebaerdensprache`: what the video shows, and the video.
pub(crate) async fn gebaerdensprache(State(p): State<Shared>, UiLang(lang): UiLang) -> Response {
    let defs = p.defs();
    let portal = &defs.portal;
    let page = ExplainPage {
        layout: Layout::new(
            portal,
            portal.root(),
            tr(lang, "Gebärdensprache", "Sign language"),
            lang,
        )
        .at("/gebaerdensprache"),
        heading: tr(
            lang,
            "Das Serviceportal in Deutscher Gebärdensprache",
            "The service portal in German Sign Language",
        )
        .into(),
        paragraphs: vec![portal.sign_language_description.get(lang).to_string()],
        video: Some(portal.sign_language_video.clone()),
        video_label: tr(
            lang,
            "Video in Gebärdensprache ansehen",
            "Watch the sign language video",
        )
        .into(),
        back: tr(lang, "Zur Startseite", "To the start page"),
    };
    p.render(&page)
}

/// `/probleme/{code}`: what a problem code of the JSON API or the Postkorb API means (the `type`
/// of their problem documents), from the same tables as docs/errors.md; German, English with
/// `?lang=en`.
pub(crate) async fn problem_code(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Response {
    let Some(c) = crate::http::codes::problem_code(&code) else {
        return crate::http::pages::not_found(&p, None, lang);
    };
    let defs = p.defs();
    let portal = &defs.portal;
    let title = format!("{} – {}", c.code, c.title(lang));
    let page = ExplainPage {
        layout: Layout::new(portal, portal.root(), title.clone(), lang).at(&format!("/probleme/{}", c.code)),
        heading: title.clone(),
        paragraphs: vec![
            format!("HTTP {}", c.status),
            capitalised(c.meaning(lang)),
            if c.code.starts_with("LOT-V") {
                tr(
                    lang,
                    "Dieser Code steht im Feld „code“ einer Fehlerantwort der Programmierschnittstelle des Postkorbs (/api/v1/verwaltung) und auf den Seiten des Postkorbs.",
                    "This code is in the field \"code\" of an error answer of the Postkorb's programming interface (/api/v1/verwaltung) and on the Postkorb's pages.",
                )
            } else {
                tr(
                    lang,
                    "Dieser Code steht im Feld „code“ einer Fehlerantwort der Programmierschnittstelle (/api/v1).",
                    "This code is in the field \"code\" of an error answer of the programming interface (/api/v1).",
                )
            }
            .to_string(),
        ],
        video: None,
        video_label: String::new(),
        back: tr(lang, "Zur Startseite", "To the start page"),
    };
    p.render(&page)
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
