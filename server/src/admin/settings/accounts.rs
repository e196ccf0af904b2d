//! The case workers' accounts of a tenant: created, locked, unlocked, their passwords reset;
//! every change audited.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use lotse_store::{Actor, AuditAction, AuditStore, Role};

use super::{Extra, NewPassword, Pairs, check_csrf, field, show};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::error_page;
use crate::admin::{self, AdminError, Shared, Staff, run};

/// The role's key in forms (as `lotse admin add --role` takes it).
pub(super) fn role_key(r: Role) -> &'static str {
    match r {
        Role::CaseWorker => "case_worker",
        Role::TenantAdmin => "tenant_admin",
        Role::FormDesigner => "form_designer",
    }
}

/// A password for a new or reset account: 20 characters from an unambiguous alphabet.
fn new_password() -> Result<String, AdminError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    lotse_store::Entropy::fill_bytes(&mut lotse_store::OsEntropy, &mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

pub(in crate::admin) async fn accounts(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    let action = field(&pairs, "aktion").to_string();
    let login = field(&pairs, "benutzername").trim().to_lowercase();
    let name = field(&pairs, "name").trim().to_string();
    let role = field(&pairs, "rolle").to_string();
    let (p2, t2, s2) = (p.clone(), t.clone(), staff.clone());
    let done = run(move || -> Result<Extra, AdminError> {
        let tenant = admin::tenant_id(&t2)?;
        let code = match action.as_str() {
            "anlegen" => {
                let role: Role = role
                    .parse()
                    .ok()
                    .filter(|r| *r != Role::FormDesigner)
                    .ok_or_else(|| AdminError::Invalid("Bitte wählen Sie eine Rolle.".into()))?;
                let password = new_password()?;
                let created = admin::accounts::create_account(
                    &p2.store,
                    &tenant,
                    admin::accounts::NewAccount {
                        login: &login,
                        display_name: &name,
                        role,
                        password: &password,
                    },
                    admin::accounts::default_params(),
                    p2.now(),
                )?;
                audit_account(&p2, &s2, &tenant, "admin.account_created")?;
                return Ok(Extra {
                    notice: Some(format!("Das Konto {} ist angelegt.", created.login)),
                    password: Some(NewPassword {
                        login: created.login,
                        password,
                    }),
                    ..Extra::default()
                });
            }
            "sperren" | "entsperren" | "zuruecksetzen" => {
                let mut a = admin::accounts::find(&p2.store, &tenant, &login)?;
                if a.id == s2.account.id && action == "sperren" {
                    return Err(AdminError::Invalid("Ihr eigenes Konto können Sie nicht sperren.".into()));
                }
                match action.as_str() {
                    "sperren" => a.disabled = true,
                    "entsperren" => a.disabled = false,
                    _ => {
                        let password = new_password()?;
                        a.password_hash =
                            admin::accounts::hash_password(&password, admin::accounts::default_params())?;
                        admin::accounts::update(&p2.store, &a)?;
                        audit_account(&p2, &s2, &tenant, "admin.account_reset")?;
                        return Ok(Extra {
                            notice: Some(format!("Das Passwort von {} ist zurückgesetzt; alle Sitzungen des Kontos sind beendet.", a.login)),
                            password: Some(NewPassword {
                                login: a.login,
                                password,
                            }),
                            ..Extra::default()
                        });
                    }
                }
                admin::accounts::update(&p2.store, &a)?;
                if a.disabled {
                    "admin.account_disabled"
                } else {
                    "admin.account_enabled"
                }
            }
            _ => return Err(AdminError::Invalid("Unbekannte Aktion.".into())),
        };
        audit_account(&p2, &s2, &tenant, code)?;
        Ok(Extra {
            notice: Some(if code == "admin.account_disabled" {
                format!("Das Konto {login} ist gesperrt; seine Sitzungen sind beendet.")
            } else {
                format!("Das Konto {login} ist wieder freigegeben.")
            }),
            ..Extra::default()
        })
    })
    .await;
    match done {
        Ok(extra) => show(&p, &t, &staff, extra, StatusCode::OK).await,
        Err(AdminError::Invalid(m)) => {
            let extra = Extra {
                errors: vec![m],
                ..Extra::default()
            };
            show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

fn audit_account(
    p: &Shared,
    staff: &Staff,
    tenant: &lotse_store::TenantId,
    code: &str,
) -> Result<(), AdminError> {
    p.store.append_audit(
        p.now(),
        Actor::Office {
            account: staff.account.id.to_string(),
        },
        Some(tenant),
        AuditAction::Other { code: code.into() },
    )?;
    Ok(())
}
