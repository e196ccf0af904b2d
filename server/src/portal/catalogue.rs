//! The portal's start page, the catalogue of each tenant with search and Lebenslagen, the page
//! of one service, resuming by code, and the language switch.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Lang;
use lotse_store::{StoreError, resume_draft};
use serde::Deserialize;

use lotse_core::catalogue::lebenslagen;

use super::catalogue_views::{
    CataloguePage, CatalogueTexts, HomePage, InfoView, LebenslageView, ProviderLink, ResumePage,
    ServiceLink, ServicePage, ServiceView, TenantCount, visit_text,
};
use crate::directory::{self, Provider, Service, responsible_office};
use crate::http::extractors::{ClientKey, PortalTenant, UiLang, field};
use crate::http::pages::{Layout, Shown, message_page, not_found, server_error, tr};
use crate::state::{Shared, offered};
use crate::tenants::Tenant;
use lotse_core::portal::Portal;

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

/// The county's portal: the search over every service in the county, and every municipality
/// with its number of online services.
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
                let count = defs.directory.tenant(&t.slug).map_or(0, |c| c.assistants);
                TenantCount {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    count,
                    count_label: services_count(count, lang),
                }
            })
            .collect(),
        ct: CatalogueTexts::of(lang),
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
    let Some(services) = defs.directory.tenant(&t.slug) else {
        return not_found(&p, Some(&t), lang);
    };
    let query =
        q.q.unwrap_or_default()
            .chars()
            .take(100)
            .collect::<String>();
    let hits = if query.trim().is_empty() {
        Vec::new()
    } else {
        services
            .index
            .search(&query, 20)
            .into_iter()
            .filter_map(|h| services.service(&h.id))
            .map(|s| link(&defs.portal, s, &t, lang, true))
            .collect()
    };
    let mut keys: Vec<String> = services.index.lebenslagen().into_keys().collect();
    keys.sort_by_key(|k| lebenslagen::rank(k));
    let lebenslagen = keys
        .into_iter()
        .filter_map(|k| lebenslagen::lebenslage(&k))
        .map(|l| LebenslageView {
            key: l.key,
            name: l.label(lang).to_string(),
            services: services
                .index
                .by_lebenslage(l.key)
                .iter()
                .filter_map(|e| services.service(&e.id))
                .map(|s| link(&defs.portal, s, &t, lang, false))
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
        ct: CatalogueTexts::of(lang),
    };
    p.render(&page)
}

/// A service in a list; with its summary in search hits.
fn link(portal: &Portal, s: &Service, t: &Tenant, lang: Lang, with_summary: bool) -> ServiceLink {
    ServiceLink {
        id: s.id.clone(),
        title: Shown::of(&s.title, lang),
        description: match (&s.summary, with_summary) {
            (Some(d), true) => Shown::of(d, lang),
            _ => Shown::in_lang(String::new(), lang, lang),
        },
        offered_by: offered_by(portal, &s.provider, t, lang, with_summary),
        online: s.assistant,
    }
}

/// Who offers a service when the tenant does not: "beim Kreis Heinsberg", "bei Ihrer Gemeinde
/// – Erkelenz, Gangelt, …" (every municipality; the names only in search hits, `long`), "nur in
/// Erkelenz, Heinsberg" (some).
fn offered_by(
    portal: &Portal,
    provider: &Provider,
    t: &Tenant,
    lang: Lang,
    long: bool,
) -> Option<String> {
    let Provider::Others(others) = provider else {
        return None;
    };
    if !directory::is_county(t) {
        return Some(format!(
            "{} {}",
            tr(lang, "beim", "at"),
            directory::county_name(portal)
        ));
    }
    let places: Vec<&str> = others.iter().map(|(_, name, _)| place(name)).collect();
    let municipalities = directory::municipalities(portal);
    Some(if places.len() == municipalities && !long {
        tr(lang, "bei Ihrer Gemeinde", "at your municipality").to_string()
    } else if places.len() == municipalities {
        format!(
            "{} – {}",
            tr(lang, "bei Ihrer Gemeinde", "at your municipality"),
            places.join(", ")
        )
    } else {
        format!("{} {}", tr(lang, "nur in", "only in"), places.join(", "))
    })
}

/// A municipality's place name without its kind: "Stadt Erkelenz" → "Erkelenz".
fn place(name: &str) -> &str {
    name.strip_prefix("Stadt ")
        .or_else(|| name.strip_prefix("Gemeinde "))
        .unwrap_or(name)
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

/// The page of one service: the assistant's start page where the tenant runs one, with the
/// catalogue's information where the service has an entry; else the information alone, with
/// the responsible office or the tenants that offer it.
pub(crate) async fn service(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let defs = p.defs();
    let found = defs.directory.tenant(&t.slug).and_then(|s| s.service(&id));
    let wf = offered(&p, &t, &id);
    let (title, description) = match (&wf, found) {
        (Some(wf), _) => (
            Shown::of(&wf.title, lang),
            Shown::in_lang(
                crate::tenants::localise(
                    wf.description
                        .as_ref()
                        .map(|d| d.get(lang))
                        .unwrap_or_default(),
                    &t,
                    lang,
                ),
                wf.description.as_ref().map_or(lang, |d| d.lang_of(lang)),
                lang,
            ),
        ),
        (None, Some(s)) => (
            Shown::of(&s.title, lang),
            s.summary.as_ref().map_or_else(
                || Shown::in_lang(String::new(), lang, lang),
                |d| Shown::of(d, lang),
            ),
        ),
        (None, None) => return not_found(&p, Some(&t), lang),
    };
    let leistung = found.and_then(|s| s.leistung.as_deref());
    let providers: Vec<ProviderLink> = match found.map(|s| &s.provider) {
        Some(Provider::Others(list)) if wf.is_none() => list
            .iter()
            .map(|(slug, name, id)| ProviderLink {
                name: name.clone(),
                href: format!("/{slug}/leistung/{id}"),
            })
            .collect(),
        _ => Vec::new(),
    };
    let own_office = leistung
        .and_then(|l| l.office.as_ref())
        .filter(|o| !o.address.is_empty());
    let office = if providers.is_empty() || own_office.is_some() {
        let mut o = responsible_office(leistung, &t, lang);
        // The assistant names its office (a tenant's override may rename it), unless the entry
        // names an office elsewhere with its own address.
        let elsewhere = leistung
            .and_then(|l| l.office.as_ref())
            .is_some_and(|o| !o.address.is_empty());
        // An office the tenant named for this entry itself (its own part) stays.
        let local = leistung
            .and_then(|l| t.catalogue.get(&l.id))
            .is_some_and(|part| part.office.is_some());
        if let Some(wf) = wf.as_ref().filter(|_| !elsewhere && !local) {
            o.name = wf.office.get(lang).to_string();
        }
        Some(o)
    } else {
        None
    };
    let here = format!("/{}/leistung/{id}", t.slug);
    let sign_in = match &wf {
        Some(wf) => crate::login::offer(&p, &headers, wf, lang, &here).await,
        None => None,
    };
    let page = ServicePage {
        layout: Layout::new(&p.defs().portal, &t, title.text.clone(), lang).at(&here),
        service: ServiceView {
            id: id.clone(),
            title,
            description,
        },
        info: leistung.map(|l| info(l, lang)),
        office,
        providers,
        assistant: wf.is_some(),
        sign_in,
        csrf: p.token(&format!("start:{}", t.slug)),
        dev: p.dev,
        ct: CatalogueTexts::of(lang),
    };
    p.render(&page)
}

/// What a catalogue entry says, in `lang`.
fn info(l: &lotse_core::catalogue::Leistung, lang: Lang) -> InfoView {
    let text = |t: &Option<lotse_core::Text>| t.as_ref().map(|t| Shown::of(t, lang));
    let texts = |list: &[lotse_core::Text]| list.iter().map(|t| Shown::of(t, lang)).collect();
    InfoView {
        description: text(&l.description),
        eligibility: text(&l.eligibility),
        documents: texts(&l.documents),
        fees: text(&l.fees),
        processing_time: text(&l.processing_time),
        deadline: text(&l.deadline),
        legal_basis: texts(&l.legal_basis),
        visit: l.visit.map(|v| visit_text(v, lang)),
        online: l.online.clone(),
        form: l.form.clone(),
        notes: text(&l.notes),
        leika: l.leika.clone(),
    }
}
