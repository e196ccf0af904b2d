//! The visit behind its secret link: booking the held time, the calendar file, cancelling.

use super::*;

/// `GET /{tenant}/termin/{id}`: the visit behind its secret link.
pub(crate) async fn show(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match load(&p, &t, &id).await {
        Ok(Some(v)) => visit_page(&p, &t, &v, lang, "", "", Vec::new()),
        Ok(None) => not_found(&p, Some(&t), lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}

/// Whether `s` looks like an e-mail address a mail server accepts.
fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// `POST /{tenant}/termin/{id}`: book the held time (`_action=buchen`) or cancel
/// (`_action=absagen`).
pub(crate) async fn act(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let v = match load(&p, &t, &id).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(&p, Some(&t), lang),
        Err(e) => return server_error(&p, &t, &e, lang),
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("termin:{}", v.id)).as_str()) {
        return forbidden();
    }
    let now = p.now();
    let back = Redirect::to(&format!("/{}/termin/{}", t.slug, v.id)).into_response();
    let vid = v.id;
    match field(&pairs, "_action") {
        Some("absagen") => {
            let p2 = p.clone();
            let done =
                crate::telemetry::spawn_blocking(move || p2.store.cancel_visit(&vid, now)).await;
            match done {
                Ok(Ok(_)) | Ok(Err(StoreError::VisitGone(_))) => back,
                Ok(Err(e)) => server_error(&p, &t, &e, lang),
                Err(e) => server_error(&p, &t, &e, lang),
            }
        }
        Some("buchen") => {
            let name = field(&pairs, "name").unwrap_or("").trim().to_string();
            let email = field(&pairs, "email").unwrap_or("").trim().to_string();
            let mut errors = Vec::new();
            if name.is_empty() || name.chars().count() > 100 {
                errors.push((
                    "name".to_string(),
                    tr(
                        lang,
                        "Bitte geben Sie Ihren Namen an.",
                        "Please enter your name.",
                    )
                    .to_string(),
                ));
            }
            if !plausible_email(&email) {
                errors.push((
                    "email".to_string(),
                    tr(
                        lang,
                        "Bitte geben Sie eine E-Mail-Adresse wie name@beispiel.de an.",
                        "Please enter an e-mail address like name@example.org.",
                    )
                    .to_string(),
                ));
            }
            if !errors.is_empty() {
                return visit_page(&p, &t, &v, lang, &name, &email, errors);
            }
            let s = schedule(&p, &t);
            let mail = visit::message(
                p.config.mail.as_ref(),
                &VisitMail {
                    event: Event::Visit,
                    schedule: s.as_deref(),
                    tenant: &t,
                    visit: &v,
                    name: &name,
                    email: &email,
                    lang,
                    now,
                },
            );
            let p2 = p.clone();
            let key = crate::nodes::VisitLimits::email_key(&t.slug, &email);
            let (name2, email2) = (name.clone(), email.clone());
            let done = crate::telemetry::spawn_blocking(move || {
                p2.visit_limits.per_email.reserve(&key, now)?;
                let r =
                    p2.store
                        .confirm_visit(&vid, name2, email2, mail.into_iter().collect(), now);
                if r.is_err() {
                    // Not booked: it does not count.
                    p2.visit_limits.per_email.refund(&key, now)?;
                }
                r
            })
            .await;
            match done {
                Ok(Ok(_)) | Ok(Err(StoreError::VisitGone(_))) => back,
                Ok(Err(StoreError::RateLimited { .. })) => {
                    let e = tr(
                        lang,
                        "Mit dieser E-Mail-Adresse wurden heute schon sehr viele Termine gebucht. Bitte rufen Sie uns an, wenn Sie weitere brauchen.",
                        "Very many appointments were booked with this e-mail address today. Please call us if you need more.",
                    );
                    let mut r = visit_page(
                        &p,
                        &t,
                        &v,
                        lang,
                        &name,
                        &email,
                        vec![("email".into(), e.into())],
                    );
                    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    r
                }
                Ok(Err(e)) => server_error(&p, &t, &e, lang),
                Err(e) => server_error(&p, &t, &e, lang),
            }
        }
        _ => back,
    }
}

/// `GET /{tenant}/termin/{id}/termin.ics`: the booked visit for the citizen's calendar.
pub(crate) async fn calendar(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let v = match load(&p, &t, &id).await {
        Ok(Some(v)) if v.is_booked() => v,
        Ok(_) => return not_found(&p, Some(&t), lang),
        Err(e) => return server_error(&p, &t, &e, lang),
    };
    let base = public_base(&p);
    let body = visit::calendar(schedule(&p, &t).as_deref(), &t, &v, lang, &base, p.now());
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"termin.ics\""),
    );
    r
}

/// `GET /{tenant}/termin/{id}/verschieben?tag=`: the free times of the visit's service, to move
/// it there. The booked time stays until the new one is booked.
pub(crate) async fn move_page(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<DayQuery>,
) -> Response {
    match load(&p, &t, &id).await {
        Ok(Some(v)) if v.state == VisitState::Confirmed => {
            move_view(&p, &t, &v, q.day(), None, lang).await
        }
        Ok(Some(v)) => Redirect::to(&format!("/{}/termin/{}", t.slug, v.id)).into_response(),
        Ok(None) => not_found(&p, Some(&t), lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}

async fn move_view(
    p: &Shared,
    t: &Tenant,
    visit: &Visit,
    day: Option<Date>,
    error: Option<(&'static str, StatusCode)>,
    lang: Lang,
) -> Response {
    let Some(s) = schedule(p, t) else {
        return not_found(p, Some(t), lang);
    };
    let Some(v) = s.service(&visit.service) else {
        return not_found(p, Some(t), lang);
    };
    let path = format!("/{}/termin/{}/verschieben", t.slug, visit.id);
    let target = Target {
        path: &path,
        reference: None,
    };
    let mut view = match service_view(p, t, &s, v, day.or(Some(visit.day)), &target, lang).await {
        Ok(view) => view,
        Err(e) => return server_error(p, t, &e, lang),
    };
    // Its own time is no time to move to.
    view.times
        .retain(|o| o.value != visit.start.unix_timestamp());
    let heading = tr(lang, "Termin verschieben", "Move the appointment").to_string();
    let mut labels = labels(lang);
    labels.submit = tr(lang, "Auf diese Uhrzeit verschieben", "Move to this time");
    labels.back = tr(lang, "Zurück zu Ihrem Termin", "Back to your appointment");
    let page = VisitsPage {
        layout: Layout::new(
            &p.defs().portal,
            t,
            match error {
                Some(_) => format!("{}: {heading}", tr(lang, "Fehler", "Error")),
                None => heading.clone(),
            },
            lang,
        )
        .at(&path),
        heading,
        intro: format!(
            "{} {}, {}. {}",
            tr(lang, "Ihr gebuchter Termin:", "Your booked appointment:"),
            day_text(visit.day, lang),
            time_text(visit.start, lang),
            tr(
                lang,
                "Wählen Sie eine neue Uhrzeit. Der gebuchte Termin bleibt bestehen, bis der neue gebucht ist.",
                "Choose a new time. The booked appointment stays until the new one is booked.",
            )
        ),
        services: Vec::new(),
        service: Some(view),
        has_error: error.is_some(),
        error: error.map(|(e, _)| e.to_string()),
        csrf: p.token(&format!("termin:{}", visit.id)),
        labels,
        back: format!("/{}/termin/{}", t.slug, visit.id),
    };
    let mut r = p.render(&page);
    if let Some((_, status)) = error {
        *r.status_mut() = status;
    }
    r
}

/// `POST /{tenant}/termin/{id}/verschieben`: moves the booked visit to the chosen time, with a
/// mail and the changed calendar file.
pub(crate) async fn move_to(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let v = match load(&p, &t, &id).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(&p, Some(&t), lang),
        Err(e) => return server_error(&p, &t, &e, lang),
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("termin:{}", v.id)).as_str()) {
        return forbidden();
    }
    let back = Redirect::to(&format!("/{}/termin/{}", t.slug, v.id)).into_response();
    if v.state != VisitState::Confirmed {
        return back;
    }
    let Some(s) = schedule(&p, &t) else {
        return not_found(&p, Some(&t), lang);
    };
    let (Some(service), Some(office)) = (s.service(&v.service), s.office(&v.office)) else {
        return not_found(&p, Some(&t), lang);
    };
    let now = p.now();
    let to = match chosen_time(&s, service, &pairs, now, lang) {
        Ok(to) => to,
        Err((day, e)) => {
            return move_view(&p, &t, &v, day, Some((e, StatusCode::CONFLICT)), lang).await;
        }
    };
    // The mail describes the visit as it will be.
    let mut moved = v.clone();
    (moved.day, moved.start, moved.end) = (to.day, to.start, to.end);
    moved.moves = moved.moves.saturating_add(1);
    let mail = visit::message(
        p.config.mail.as_ref(),
        &VisitMail {
            event: Event::VisitMoved,
            schedule: Some(&s),
            tenant: &t,
            visit: &moved,
            name: v.name.as_deref().unwrap_or_default(),
            email: v.email.as_deref().unwrap_or_default(),
            lang,
            now,
        },
    );
    let (p2, vid, counters) = (p.clone(), v.id, office.counters);
    let done = crate::telemetry::spawn_blocking(move || {
        p2.store
            .move_visit(&vid, to, counters, mail.into_iter().collect(), now)
    })
    .await;
    match done {
        Ok(Ok(_)) | Ok(Err(StoreError::VisitGone(_))) => back,
        Ok(Err(StoreError::SlotTaken)) => {
            move_view(
                &p,
                &t,
                &v,
                Some(to.day),
                Some((taken_text(lang), StatusCode::CONFLICT)),
                lang,
            )
            .await
        }
        Ok(Err(e)) => server_error(&p, &t, &e, lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}
