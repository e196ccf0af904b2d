//! The tenant's settings as the project's files (docs/tenants.md, docs/overrides.md): what a
//! county keeps in git; and the tenant's audit log as a table for its administrators.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;

use super::{rule_text, settings_of};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::error_page;
use crate::admin::{self, AdminError, Shared, run};
use crate::tenants::Tenant;
use lotse_store::{AuditAction, AuditStore};

/// The tenant's file as it is now (files and stored settings together), in the format of
/// docs/tenants.md: what a county keeps in git.
pub(in crate::admin) async fn export_tenant(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
) -> Response {
    let text = tenant_yaml(&t);
    admin::audit(&p, &staff.account, "admin.settings_export").await;
    yaml_response(&format!("{}.yaml", t.slug), text)
}

/// The query of the audit log's download: from a day on, one submission (all fields optional).
#[derive(serde::Deserialize)]
pub(in crate::admin) struct ProtocolQuery {
    #[serde(default)]
    seit: String,
    #[serde(default)]
    aktenzeichen: String,
}

/// `GET /verwaltung/{tenant}/einstellungen/export/protokoll.csv`: the tenant's audit log as the
/// German table of `lotse admin audit --format csv`, for its administrators (the Datenschutz
/// officer's question "who read or changed this application?"). The download is itself in the
/// log (`admin.audit_export`), written before the table is read, so the table shows it.
pub(in crate::admin) async fn export_protocol(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    query: Result<Query<ProtocolQuery>, QueryRejection>,
) -> Response {
    use crate::admin::protocol::{self, Filter, Format, Named};
    let Ok(Query(q)) = query else {
        return error_page(
            &p,
            &t,
            Some(&staff),
            AdminError::Invalid("die Angaben zum Protokoll sind unvollständig".into()),
        );
    };
    let (p2, tc, me) = (p.clone(), t.clone(), staff.account.clone());
    let prepared = run(move || {
        let tenant = admin::tenant_id(&tc)?;
        let since = match q.seit.trim() {
            "" => None,
            day => Some(admin::day_start(day, "Protokoll ab")?),
        };
        let submission = match q.aktenzeichen.trim() {
            "" => None,
            name => match protocol::submission_named(&p2.store, &tenant, name)? {
                Named::Found(id) => Some(id),
                Named::NotAName => {
                    return Err(AdminError::Invalid(format!(
                        "Aktenzeichen: „{name}“ ist kein Aktenzeichen wie {}-2026-000123",
                        tc.prefix
                    )));
                }
                Named::Unknown(r) => {
                    return Err(AdminError::Invalid(format!(
                        "Aktenzeichen: einen Antrag {r} gibt es bei {} nicht",
                        tc.name
                    )));
                }
            },
        };
        p2.store.append_audit(
            p2.now(),
            admin::service::office(&me),
            Some(&tenant),
            AuditAction::Other {
                code: "admin.audit_export".into(),
            },
        )?;
        Ok((tenant, Filter { submission, since }))
    })
    .await;
    let (tenant, filter) = match prepared {
        Ok(prepared) => prepared,
        // A reference or day that does not fit: the settings page, the reason at the form.
        Err(AdminError::Invalid(why)) => {
            let extra = super::Extra {
                protocol_error: Some(why),
                ..super::Extra::default()
            };
            return super::show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    // The table goes out as it is read (a log of years is large): a failure mid-way breaks the
    // download instead of ending it short.
    let (mut out, body) = crate::http::stream::channel();
    let store = p.store.clone();
    crate::telemetry::spawn_blocking(move || {
        let printed = protocol::print(&store, &tenant, &filter, Format::Csv, &mut out)
            .and_then(|()| out.finish().map_err(anyhow::Error::from));
        if let Err(e) = printed {
            tracing::warn!(event = "audit_export_stream_ended", cause = %e);
            out.fail("audit log read failed");
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"protokoll-{}.csv\"", t.slug),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// A stored or file rule in the format of docs/overrides.md.
pub(in crate::admin) async fn export_rule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, file)): Path<(String, String)>,
) -> Response {
    let workflow = file.strip_suffix(".yaml").unwrap_or(&file).to_string();
    if !p.defs().library.workflows.contains_key(&workflow) {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    }
    let (_, stored) = settings_of(&p, &t.slug);
    let (_, text) = rule_text(&p, &t, &workflow, &stored);
    yaml_response(&format!("{}.yaml", t.slug), text)
}

pub(super) fn yaml_response(name: &str, text: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/yaml; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `portal/tenants/<slug>.yaml` for this tenant (JSON strings are valid YAML scalars).
fn tenant_yaml(t: &Tenant) -> String {
    let mut out = format!(
        "# {} – exportiert aus der Verwaltung (Format: docs/tenants.md)\nslug: {}\nname: {}\nkind: {}\n",
        t.name,
        t.slug,
        quoted(&t.name),
        t.kind.key()
    );
    if let Some(parent) = &t.parent {
        out.push_str(&format!("parent: {parent}\n"));
    }
    out.push_str(&format!(
        "prefix: {}\ncolour: {}\n",
        t.prefix,
        quoted(&t.colour)
    ));
    if t.logo.is_some()
        && let Some(name) = t.file.parent().map(|_| format!("../logos/{}.svg", t.slug))
    {
        out.push_str(&format!("logo: {name}\n"));
    }
    out.push_str(&format!("initials: {}\naddress:\n", quoted(&t.initials)));
    for line in &t.address {
        out.push_str(&format!("  - {}\n", quoted(line)));
    }
    let english = t.office.get(Lang::En);
    let office = if english == t.office.german() {
        quoted(t.office.german())
    } else {
        format!(
            "{{de: {}, en: {}}}",
            quoted(t.office.german()),
            quoted(english)
        )
    };
    out.push_str(&format!(
        "office: {office}\nphone: {}\nemail: {}\n",
        quoted(&t.phone),
        quoted(&t.email)
    ));
    if !t.opening_hours.is_empty() {
        out.push_str("opening_hours:\n");
        for h in &t.opening_hours {
            out.push_str(&format!("  - {}\n", quoted(h.german())));
        }
    }
    match &t.services {
        lotse_core::portal::Services::All => out.push_str("services: all\n"),
        lotse_core::portal::Services::List(l) if l.is_empty() => out.push_str("services: []\n"),
        lotse_core::portal::Services::List(l) => {
            out.push_str("services:\n");
            for s in l {
                out.push_str(&format!("  - {s}\n"));
            }
        }
    }
    if let Some(c) = &t.creditor_id {
        out.push_str(&format!("creditor_id: {c}\n"));
    }
    let parts: Vec<_> = t.catalogue.iter().filter(|(_, p)| !p.is_empty()).collect();
    if !parts.is_empty() {
        out.push_str("catalogue:\n");
    }
    for (id, part) in parts {
        out.push_str(&format!("  {id}:\n"));
        for (key, value) in [
            ("office", &part.office),
            ("phone", &part.phone),
            ("email", &part.email),
            ("fees", &part.fees),
            ("processing_time", &part.processing_time),
            ("notes", &part.notes),
            ("online", &part.online),
            ("form", &part.form),
        ] {
            if let Some(v) = value {
                out.push_str(&format!("    {key}: {}\n", quoted(v)));
            }
        }
        if !part.documents.is_empty() {
            out.push_str("    documents:\n");
            for d in &part.documents {
                out.push_str(&format!("      - {}\n", quoted(d)));
            }
        }
    }
    out
}
