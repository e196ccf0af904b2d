//! The portal's start page, the catalogue of each tenant with search and Lebenslagen, the page
//! of one service, resuming by code, and the language switch.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_store::{StoreError, resume_draft};
use serde::Deserialize;

use super::views::{
    CataloguePage, HomePage, LebenslageView, ResumePage, ServiceLink, ServicePage, ServiceView,
    TenantCount,
};
use crate::http::extractors::{ClientKey, PortalTenant, UiLang, field};
use crate::http::pages::{Layout, message_page, not_found, server_error, tr};
use crate::state::{Shared, offered};

/// Switches the language and goes back to the page the citizen came from (same site only).
pub(crate) async fn switch_language(Path(lang): Path<String>, Query(q): Query<BackTo>) -> Response {
    let lang = Lang::from_tag(&lang);
    let back = match q.zurueck.as_deref() {
        None => "/",
        // Control characters (line breaks, NUL, tabs) never belong in a path: a bad request.
        Some(b) if b.chars().any(char::is_control) => {
            return (StatusCode::BAD_REQUEST, "Ungültige Rücksprungadresse.").into_response();
        }
        Some(b) if same_site_path(b) => b,
        Some(_) => "/",
    };
    let mut r = Redirect::to(back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lotse_lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.tag()
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Whether `back` is a path on this site that every browser reads as one: it starts with one
/// `/`, holds no backslash (browsers read it as `/`, so `/\host` would leave the site) and only
/// visible ASCII (no whitespace a browser drops, nothing a header cannot carry).
fn same_site_path(back: &str) -> bool {
    back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && back.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(Deserialize)]
pub(crate) struct BackTo {
    zurueck: Option<String>,
}

/// The county's portal: every municipality with its number of online services.
pub(crate) async fn home(State(p): State<Shared>, UiLang(lang): UiLang) -> Response {
    let defs = p.defs();
    let county = defs.portal.root();
    let page = HomePage {
        layout: Layout::new(&defs.portal, county, defs.portal.name.get(lang), lang),
        tenants: defs
            .portal
            .tenants
            .iter()
            .map(|t| {
                let count = defs
                    .catalogues
                    .get(&t.slug)
                    .map(|c| c.entries().len())
                    .unwrap_or(0);
                TenantCount {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    count,
                    count_label: services_count(count, lang),
                }
            })
            .collect(),
    };
    p.render(&page)
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

pub(crate) async fn catalogue(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Query(q): Query<SearchQuery>,
) -> Response {
    let defs = p.defs();
    let Some(cat) = defs.catalogues.get(&t.slug) else {
        return not_found(&p, Some(&t), lang);
    };
    let query =
        q.q.unwrap_or_default()
            .chars()
            .take(100)
            .collect::<String>();
    let title_of = |id: &str| cat.entries().iter().find(|e| e.id == id).cloned();
    let hits = if query.trim().is_empty() {
        Vec::new()
    } else {
        cat.search(&query, 20)
            .into_iter()
            .filter_map(|h| title_of(&h.id))
            .map(|e| ServiceLink {
                id: e.id,
                title: e.title,
                description: e.description,
            })
            .collect()
    };
    let lebenslagen = cat
        .lebenslagen()
        .keys()
        .map(|l| LebenslageView {
            name: lebenslage_name(l),
            services: cat
                .by_lebenslage(l)
                .iter()
                .map(|e| ServiceLink {
                    id: e.id.clone(),
                    title: e.title.clone(),
                    description: String::new(),
                })
                .collect(),
        })
        .collect();
    let title = format!(
        "{} {}",
        tr(lang, "Online-Dienste:", "Online services of"),
        t.name
    );
    let page = CataloguePage {
        layout: Layout::new(&p.defs().portal, &t, title, lang),
        query,
        hits,
        lebenslagen,
        csrf: p.token(&format!("start:{}", t.slug)),
    };
    p.render(&page)
}

pub(crate) async fn resume(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    axum::Extension(client): axum::Extension<ClientKey>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if field(&pairs, "_csrf") != Some(p.token(&format!("start:{}", t.slug)).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    let code = field(&pairs, "code").unwrap_or("").to_string();
    let typed = code.clone();
    let p2 = p.clone();
    let now = p.now();
    let found = crate::telemetry::spawn_blocking(move || {
        resume_draft(&p2.store, &*p2.limiter, &client.0, &code, now)
    })
    .await;
    match found {
        Ok(Ok(d)) if d.tenant.slug() == t.slug && d.expires > now => {
            Redirect::to(&format!("/{}/antrag/{}", t.slug, d.id)).into_response()
        }
        Ok(Err(StoreError::RateLimited { .. })) => message_page(
            &p,
            &t,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "Bitte warten", "Please wait"),
            tr(lang, "Zu viele Versuche", "Too many attempts"),
            tr(
                lang,
                "Der Code wurde mehrmals falsch eingegeben. Bitte warten Sie 15 Minuten und versuchen Sie es dann noch einmal.",
                "The code was entered wrongly several times. Please wait 15 minutes and try again.",
            ),
        ),
        Ok(_) => {
            // The code box again, with what was typed and what to check.
            let page = ResumePage {
                layout: Layout::new(
                    &p.defs().portal,
                    &t,
                    tr(lang, "Fehler: Code nicht gefunden", "Error: code not found"),
                    lang,
                ),
                csrf: p.token(&format!("start:{}", t.slug)),
                code: typed.chars().take(64).collect(),
                error: tr(
                    lang,
                    "Zu diesem Code gibt es keinen Antrag. Bitte prüfen Sie die Schreibweise, zum Beispiel K7QX-2M9D-8TFA-WN3E. Ein Antrag wird nach der angegebenen Frist gelöscht.",
                    "There is no application with this code. Please check the spelling, for example K7QX-2M9D-8TFA-WN3E. An application is deleted after the stated period.",
                ),
            };
            let mut r = p.render(&page);
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
        Err(e) => server_error(&p, &t, &e, lang),
    }
}

/// "1 Online-Dienst", "2 Online-Dienste" ("1 online service" in English).
pub(crate) fn services_count(n: usize, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 online service".into(),
        (Lang::En, n) => format!("{n} online services"),
        (_, 1) => "1 Online-Dienst".into(),
        (_, n) => format!("{n} Online-Dienste"),
    }
}

/// The name a citizen reads for a Lebenslage key.
pub(crate) fn lebenslage_name(key: &str) -> String {
    let known = [
        ("umzug", "Umzug"),
        ("haustiere", "Haustiere"),
        ("bauen", "Bauen und Wohnen"),
        ("mobilitaet", "Mobilität und Verkehr"),
        ("geburt", "Geburt"),
        ("arbeit", "Arbeit und Gewerbe"),
        ("veranstaltungen", "Veranstaltungen"),
    ];
    match known.iter().find(|(k, _)| *k == key) {
        Some((_, name)) => (*name).to_string(),
        None => {
            let mut c = key.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

pub(crate) async fn service(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, workflow)): Path<(String, String)>,
) -> Response {
    let Some(wf) = offered(&p, &t, &workflow) else {
        return not_found(&p, Some(&t), lang);
    };
    let page = ServicePage {
        layout: Layout::new(&p.defs().portal, &t, wf.title.get(lang), lang),
        service: ServiceView {
            id: &wf.id,
            title: wf.title.get(lang),
            description: crate::tenants::localise(
                wf.description
                    .as_ref()
                    .map(|d| d.get(lang))
                    .unwrap_or_default(),
                &t,
                lang,
            ),
            office: wf.office.get(lang),
        },
        csrf: p.token(&format!("start:{}", t.slug)),
        dev: p.dev,
    };
    p.render(&page)
}
