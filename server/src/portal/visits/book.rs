//! Booking: the services, the free times of a day, and holding one.

use super::*;

/// `GET /{tenant}/termine`: what one can book a visit for.
pub(crate) async fn services(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
) -> Response {
    let Some(s) = schedule(&p, &t) else {
        return not_found(&p, Some(&t), lang);
    };
    let services = s
        .services
        .iter()
        .map(|v| ServiceLink {
            href: format!("/{}/termine/{}", t.slug, v.id),
            title: v.title.get(lang).to_string(),
            office: s
                .office(&v.office)
                .map(|o| o.name.get(lang).to_string())
                .unwrap_or_default(),
            minutes: v.minutes,
        })
        .collect();
    let heading = tr(lang, "Termin vereinbaren", "Book an appointment").to_string();
    let page = VisitsPage {
        layout: Layout::new(&p.defs().portal, &t, heading.clone(), lang)
            .at(&format!("/{}/termine", t.slug)),
        heading,
        intro: tr(
            lang,
            "Für diese Anliegen vereinbaren Sie hier einen Termin vor Ort. Wählen Sie Ihr Anliegen.",
            "Book an appointment in person for these matters. Choose yours.",
        )
        .to_string(),
        services,
        service: None,
        error: None,
        has_error: false,
        csrf: String::new(),
        labels: labels(lang),
        back: format!("/{}", t.slug),
    };
    p.render(&page)
}

/// `GET /{tenant}/termine/{service}?tag=YYYY-MM-DD`: the days and the chosen day's free times.
pub(crate) async fn service(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DayQuery>,
) -> Response {
    let reference = q.vorgang.as_deref().and_then(plausible_reference);
    service_page(&p, &t, &id, q.day(), reference, None, lang).await
}

/// An application's reference as Lotse writes it (letters, digits, hyphens), else `None`: the
/// page never echoes anything else.
fn plausible_reference(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then_some(s)
}

async fn service_page(
    p: &Shared,
    t: &Tenant,
    id: &str,
    day: Option<Date>,
    reference: Option<&str>,
    error: Option<String>,
    lang: Lang,
) -> Response {
    let Some(s) = schedule(p, t) else {
        return not_found(p, Some(t), lang);
    };
    let Some(v) = s.service(id) else {
        return not_found(p, Some(t), lang);
    };
    let path = format!("/{}/termine/{}", t.slug, v.id);
    let target = Target {
        path: &path,
        reference,
    };
    let view = match service_view(p, t, &s, v, day, &target, lang).await {
        Ok(view) => view,
        Err(e) => return server_error(p, t, &e, lang),
    };
    let heading = v.title.get(lang).to_string();
    let title = match &error {
        Some(_) => format!("{}: {heading}", tr(lang, "Fehler", "Error")),
        None => heading.clone(),
    };
    let page = VisitsPage {
        layout: Layout::new(&p.defs().portal, t, title, lang)
            .at(&format!("/{}/termine/{}", t.slug, v.id)),
        heading,
        intro: reference
            .map(|r| {
                format!(
                    "{} {r}.",
                    tr(
                        lang,
                        "Sie vereinbaren den Termin zu Ihrem Antrag",
                        "You are booking the appointment for your application",
                    )
                )
            })
            .unwrap_or_default(),
        services: Vec::new(),
        service: Some(view),
        has_error: error.is_some(),
        error,
        csrf: p.token(&format!("visit:{}", t.slug)),
        labels: labels(lang),
        back: format!("/{}/termine", t.slug),
    };
    let mut r = p.render(&page);
    if page.has_error {
        *r.status_mut() = StatusCode::CONFLICT;
    }
    r
}

/// `POST /{tenant}/termine/{service}`: holds the chosen time for ten minutes.
pub(crate) async fn hold(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    axum::Extension(client): axum::Extension<ClientKey>,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if field(&pairs, "_csrf") != Some(p.token(&format!("visit:{}", t.slug)).as_str()) {
        return forbidden();
    }
    let Some(s) = schedule(&p, &t) else {
        return not_found(&p, Some(&t), lang);
    };
    let Some(v) = s.service(&id).cloned() else {
        return not_found(&p, Some(&t), lang);
    };
    let Some(office) = s.office(&v.office).cloned() else {
        return not_found(&p, Some(&t), lang);
    };
    let reference = field(&pairs, "vorgang")
        .and_then(plausible_reference)
        .map(str::to_owned);
    let now = p.now();
    let at = match chosen_time(&s, &v, &pairs, now, lang) {
        Ok(at) => at,
        Err((day, e)) => {
            return service_page(&p, &t, &id, day, reference.as_deref(), Some(e.into()), lang)
                .await;
        }
    };
    let Ok(tenant) = lotse_store::TenantId::new(&t.slug, &t.prefix) else {
        return not_found(&p, Some(&t), lang);
    };
    let p2 = p.clone();
    let r2 = reference.clone();
    let held = crate::telemetry::spawn_blocking(move || {
        p2.visit_limits.per_client.reserve(&client.0, now)?;
        let new = NewVisit {
            id: BookingId::generate(&mut OsEntropy)?,
            tenant,
            office: office.id.clone(),
            service: v.id.clone(),
            day: at.day,
            start: at.start,
            end: at.end,
            held_until: now + HOLD,
            reference: r2,
            lang: Some(lang.tag().into()),
        };
        p2.store.hold_visit(new, office.counters, now)
    })
    .await;
    let refused = |e: &'static str, status: StatusCode| {
        let (p, t, id, reference) = (&p, &t, &id, reference.as_deref());
        async move {
            let mut r = service_page(p, t, id, Some(at.day), reference, Some(e.into()), lang).await;
            *r.status_mut() = status;
            r
        }
    };
    match held {
        Ok(Ok(visit)) => Redirect::to(&format!("/{}/termin/{}", t.slug, visit.id)).into_response(),
        Ok(Err(StoreError::SlotTaken)) => {
            refused(taken_text(lang), StatusCode::CONFLICT).await
        }
        Ok(Err(StoreError::RateLimited { .. })) => {
            refused(
                tr(
                    lang,
                    "Von Ihrem Anschluss wurden in der letzten Stunde sehr viele Uhrzeiten reserviert. Bitte versuchen Sie es später noch einmal oder rufen Sie uns an.",
                    "Very many times were reserved from your connection in the last hour. Please try again later or call us.",
                ),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Ok(Err(e)) => server_error(&p, &t, &e, lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}
