//! The case workers' side: sign-in, the Postkorb pages under `/verwaltung/{tenant}/…` and the
//! same as JSON under `/api/v1/verwaltung/{tenant}/…`. Every request is checked against the
//! tenant in its path: an account, session or token of another tenant gets nothing.
//!
//! Handlers turn requests into store calls (service.rs) and results into pages (pages.rs) or
//! JSON (api.rs). Roles: lotse_store::Role. Documentation: docs/administration.md.

pub mod accounts;
mod answers;
mod api;
pub(crate) mod api_doc;
mod attachments;
mod cases;
mod exports;
mod extractors;
mod pages;
mod payments;
pub(crate) mod protocol;
mod service;
mod settings;
mod views;
mod visits;

/// The first moment of a day written YYYY-MM-DD, in Berlin (the Postkorb's date filters and
/// `lotse admin audit --since`).
pub(crate) use service::day_start;

/// A CSV cell, quoted and safe from spreadsheet formulas (the exports and `lotse admin audit
/// --format csv`).
pub(crate) use exports::csv_cell;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use handlebars::Handlebars;
use lotse_store::{
    Account, AccountStore, AnyStore, AttemptLimiter, LimitPolicy, Role, SecretHash, StoreError,
    TenantId,
};
use serde_json::json;

use crate::state::AppState;
use crate::tenants::Tenant;

/// What the Postkorb's handlers work with: the state every front end shares, and the
/// Postkorb's own (sign-in limits, session settings, its page templates).
#[derive(Clone)]
pub struct Admin {
    app: crate::state::Shared,
    admin: Arc<AdminState>,
}

impl Admin {
    pub fn new(app: crate::state::Shared, admin: Arc<AdminState>) -> Admin {
        Admin { app, admin }
    }
}

impl std::ops::Deref for Admin {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.app
    }
}

type Shared = Admin;

/// The session cookie. Its path is `/verwaltung`; a twin with path `/api/v1/verwaltung` lets
/// the browser use the JSON API with the same sign-in.
pub const COOKIE: &str = "lotse_verwaltung";

/// Sign-in attempts per account: five at once, then a wait of 2 s that doubles with every
/// further attempt up to one minute, forgotten after a quiet quarter of an hour. Guessing stays
/// slow (about one password a minute), and the right password of the staff member gets through
/// after at most a minute's wait, however many wrong ones someone else sends.
pub const PER_ACCOUNT: LimitPolicy = LimitPolicy::Slowdown {
    free: 5,
    base: time::Duration::seconds(2),
    cap: time::Duration::minutes(1),
    idle: time::Duration::minutes(15),
};

/// Sign-in attempts per client address: 20 per quarter of an hour, then none until it ends.
pub const PER_CLIENT: LimitPolicy = LimitPolicy::Window {
    max: 20,
    window: time::Duration::minutes(15),
};

/// A second-factor code is valid for at most three 30-second steps; each signs in once.
pub(crate) const TOTP_ONCE: LimitPolicy = LimitPolicy::Window {
    max: 1,
    window: time::Duration::minutes(2),
};

/// Sign-in settings, limits and the Postkorb's templates.
pub struct AdminState {
    cookie_secure: bool,
    session_ttl: time::Duration,
    /// Sign-in attempts per account (tenant and login): a slowdown, never a long lock-out;
    /// shared by the nodes on PostgreSQL.
    per_account: Box<dyn AttemptLimiter + Send + Sync>,
    /// Sign-in attempts per client address (behind a trusted proxy, the address it names);
    /// shared by the nodes on PostgreSQL.
    per_client: Box<dyn AttemptLimiter + Send + Sync>,
    /// Second-factor codes used, per account and time step: each code signs in once.
    totp_used: Box<dyn AttemptLimiter + Send + Sync>,
    pages: Handlebars<'static>,
    /// Verified when the login is unknown, so its answer takes as long as a wrong password.
    dummy_hash: String,
}

impl AdminState {
    pub fn new(
        config: &crate::config::AdminConfig,
        store: &AnyStore,
    ) -> anyhow::Result<AdminState> {
        Ok(AdminState {
            cookie_secure: config.cookie_secure,
            session_ttl: time::Duration::hours(i64::from(config.session_hours)),
            per_account: crate::nodes::attempt_limiter(store, "signin-account", PER_ACCOUNT),
            per_client: crate::nodes::attempt_limiter(store, "signin-client", PER_CLIENT),
            totp_used: crate::nodes::attempt_limiter(store, "totp-used", TOTP_ONCE),
            pages: templates()?,
            dummy_hash: accounts::hash_password(
                "kein-echtes-passwort-nur-fuer-gleiche-zeit",
                accounts::default_params(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        })
    }
}

fn templates() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = crate::http::pages::strict_registry();
    for (name, src) in [
        ("layout", include_str!("../../templates/admin/layout.hbs")),
        ("login", include_str!("../../templates/admin/login.hbs")),
        ("list", include_str!("../../templates/admin/list.hbs")),
        ("detail", include_str!("../../templates/admin/detail.hbs")),
        ("message", include_str!("../../templates/admin/message.hbs")),
        (
            "settings",
            include_str!("../../templates/admin/settings.hbs"),
        ),
        (
            "leistungen",
            include_str!("../../templates/admin/leistungen.hbs"),
        ),
        (
            "leistung",
            include_str!("../../templates/admin/leistung.hbs"),
        ),
        ("termine", include_str!("../../templates/admin/termine.hbs")),
    ] {
        if name == "layout" {
            hb.register_partial(name, src)
        } else {
            hb.register_template_string(name, src)
        }
        .with_context(|| format!("admin template {name}"))?;
    }
    Ok(hb)
}

/// Every route of the Postkorb, pages and API.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Admin: FromRef<S>,
{
    Router::new()
        .route(
            "/verwaltung/{tenant}/anmelden",
            get(pages::login_form).post(pages::login),
        )
        .route("/verwaltung/{tenant}/abmelden", post(pages::logout))
        .route("/verwaltung/{tenant}", get(pages::list))
        .route(
            "/verwaltung/{tenant}/export.jsonl",
            get(pages::export_jsonl),
        )
        .route("/verwaltung/{tenant}/export.csv", get(pages::export_csv))
        .route("/verwaltung/{tenant}/termine", get(visits::day))
        .route(
            "/verwaltung/{tenant}/termine/export.csv",
            get(visits::export),
        )
        .route("/verwaltung/{tenant}/termine/{id}", post(visits::mark))
        .route("/verwaltung/{tenant}/einstellungen", get(settings::page))
        .route(
            "/verwaltung/{tenant}/einstellungen/dienste",
            post(settings::services),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/kontakt",
            post(settings::contact),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/termine",
            post(settings::schedule),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/export/termine.yaml",
            get(settings::export_schedule),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/regeln/{workflow}",
            post(settings::rule),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/regeln/{workflow}/quittung.pdf",
            post(settings::receipt_preview),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/leistungen",
            get(settings::catalogue_list),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/leistungen/{id}",
            get(settings::catalogue_entry).post(settings::catalogue_save),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/konten",
            post(settings::accounts),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/export/mandant.yaml",
            get(settings::export_tenant),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/export/protokoll.csv",
            get(settings::export_protocol),
        )
        .route(
            "/verwaltung/{tenant}/einstellungen/export/regeln/{file}",
            get(settings::export_rule),
        )
        .route("/verwaltung/{tenant}/antrag/{id}", get(pages::detail))
        .route(
            "/verwaltung/{tenant}/antrag/{id}/status",
            post(pages::change_status),
        )
        .route(
            "/verwaltung/{tenant}/antrag/{id}/nachricht",
            post(pages::message),
        )
        .route(
            "/verwaltung/{tenant}/antrag/{id}/zuweisung",
            post(pages::assign),
        )
        .route("/verwaltung/{tenant}/antrag/{id}/notiz", post(pages::note))
        .route(
            "/verwaltung/{tenant}/antrag/{id}/wiedervorlage",
            post(pages::follow_up),
        )
        .route(
            "/verwaltung/{tenant}/antrag/{id}/quittung.pdf",
            get(pages::receipt),
        )
        .route(
            "/verwaltung/{tenant}/antrag/{id}/nachweis/{sha256}",
            get(attachments::download),
        )
        .route(
            "/nachweise/{tenant}/{id}/{sha256}",
            get(attachments::signed_download),
        )
        .route("/api/v1/verwaltung/{tenant}/antraege", get(api::list))
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}",
            get(api::detail),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/status",
            post(api::change_status),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/nachrichten",
            post(api::message),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/zuweisung",
            post(api::assign),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/notizen",
            post(api::note),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/wiedervorlage",
            post(api::follow_up),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/antraege/{id}/quittung.pdf",
            get(api::receipt),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/export.jsonl",
            get(api::export_jsonl),
        )
        .route(
            "/api/v1/verwaltung/{tenant}/export.csv",
            get(api::export_csv),
        )
        .route("/api/v1/verwaltung/{tenant}/ich", get(api::me))
        // Postkorb pages and answers hold personal data: never cached.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Everything that can go wrong on the admin side, each with a stable code (docs/errors.md).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("LOT-V001: not signed in")]
    NotSignedIn,
    #[error("LOT-V002: wrong login or password")]
    WrongCredentials,
    #[error("LOT-V003: too many failed sign-ins, retry in {0} s")]
    Throttled(i64),
    #[error("LOT-V004: the role does not allow this")]
    Forbidden,
    #[error("LOT-V005: the account belongs to another tenant")]
    OtherTenant,
    #[error("LOT-V006: not found")]
    NotFound,
    #[error("LOT-V007: status change from {from} to {to} is not allowed")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
    #[error("LOT-V008: invalid input: {0}")]
    Invalid(String),
    #[error("LOT-V009: security check failed (form token or origin)")]
    Csrf,
    #[error("LOT-V010: internal error: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSignedIn => "LOT-V001",
            Self::WrongCredentials => "LOT-V002",
            Self::Throttled(_) => "LOT-V003",
            Self::Forbidden => "LOT-V004",
            Self::OtherTenant => "LOT-V005",
            Self::NotFound => "LOT-V006",
            Self::Transition { .. } => "LOT-V007",
            Self::Invalid(_) => "LOT-V008",
            Self::Csrf => "LOT-V009",
            Self::Internal(_) => "LOT-V010",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotSignedIn | Self::WrongCredentials => StatusCode::UNAUTHORIZED,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden | Self::OtherTenant | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Transition { .. } => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a case worker reads (German); internals stay in the log.
    pub fn message_de(&self) -> String {
        match self {
            Self::NotSignedIn => "Bitte melden Sie sich an.".into(),
            Self::WrongCredentials => {
                "Benutzername, Passwort oder Bestätigungscode ist falsch.".into()
            }
            Self::Throttled(s) if *s < 120 => format!(
                "Zu viele fehlgeschlagene Anmeldungen. Bitte versuchen Sie es in {} Sekunden wieder.",
                s.max(&1)
            ),
            Self::Throttled(s) => format!(
                "Zu viele fehlgeschlagene Anmeldungen. Bitte versuchen Sie es in {} Minuten wieder.",
                (s + 59) / 60
            ),
            Self::Forbidden => "Ihre Rolle erlaubt diese Aktion nicht.".into(),
            Self::OtherTenant => {
                "Ihr Konto gehört zu einer anderen Kommune. Bitte melden Sie sich mit einem Konto dieser Kommune an.".into()
            }
            Self::NotFound => "Diesen Antrag gibt es hier nicht.".into(),
            Self::Transition { .. } => {
                "Dieser Statuswechsel ist nicht möglich. Bitte laden Sie die Seite neu.".into()
            }
            Self::Invalid(m) => m.clone(),
            Self::Csrf => {
                "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.".into()
            }
            Self::Internal(_) => {
                "Ein technischer Fehler ist aufgetreten. Bitte versuchen Sie es später noch einmal.".into()
            }
        }
    }

    /// Logs server errors with their cause and returns a short id to quote.
    fn log(&self) -> Option<String> {
        if let Self::Internal(cause) = self {
            let id = crate::telemetry::request_id();
            tracing::error!(event = "admin_request_failed", cause = %cause);
            Some(id)
        } else {
            None
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::NotFound,
            StoreError::InvalidTransition { from, to } => Self::Transition { from, to },
            StoreError::InvalidId { kind, reason } => Self::Invalid(format!("{kind}: {reason}")),
            StoreError::AlreadyExists { what, key } => {
                Self::Invalid(format!("{what} {key} existiert bereits"))
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// problem+json (RFC 9457) for the API.
impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let request_id = self.log();
        let status = self.status();
        let mut body = json!({
            "type": crate::http::codes::type_uri(self.code()),
            "title": self.message_de(),
            "status": status.as_u16(),
            "code": self.code(),
        });
        if let Some(id) = request_id {
            body["request_id"] = json!(id);
        }
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if let Self::Throttled(s) = self
            && let Ok(v) = HeaderValue::from_str(&s.max(1).to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lotse\""),
            );
        }
        r
    }
}

/// A signed-in staff member acting in the tenant of the request.
#[derive(Clone)]
pub(crate) struct Staff {
    pub account: Account,
    /// Set when signed in by cookie (forms carry a token bound to it).
    pub session: Option<SecretHash>,
}

impl Staff {
    pub fn require(&self, allowed: fn(Role) -> bool) -> Result<(), AdminError> {
        if allowed(self.account.role) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// The form token of this session and tenant: forms of another session do not pass.
    pub fn csrf(&self, p: &AppState) -> String {
        let session: String = self
            .session
            .map(|h| h.as_bytes().iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_default();
        p.token(&format!("admin:{}:{session}", self.account.tenant))
    }
}

pub(crate) fn tenant_id(t: &Tenant) -> Result<TenantId, AdminError> {
    Ok(TenantId::new(&t.slug, &t.prefix)?)
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    crate::http::extractors::cookie(headers, COOKIE).map(str::to_string)
}

/// Who is asking: a Bearer token (if `bearer`), else the session cookie. A token or session of
/// another tenant is `OtherTenant`; a disabled account, a revoked token or an expired session
/// is `NotSignedIn`.
pub(crate) async fn authenticate(
    p: &Shared,
    headers: &HeaderMap,
    t: &Tenant,
    bearer: bool,
) -> Result<Staff, AdminError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cookie = cookie_value(headers);
    let p2 = p.clone();
    let slug = t.slug.clone();
    let found =
        crate::http::run::blocking(move || -> Result<Result<Staff, AdminError>, StoreError> {
            let now = p2.now();
            let (account, session) = if let (true, Some(auth)) = (bearer, auth) {
                let Some(secret) = auth.strip_prefix("Bearer ") else {
                    return Ok(Err(AdminError::NotSignedIn));
                };
                let Some(token) = p2.store.api_token(&SecretHash::of(secret.trim()))? else {
                    return Ok(Err(AdminError::NotSignedIn));
                };
                if token.revoked {
                    return Ok(Err(AdminError::NotSignedIn));
                }
                let account = p2
                    .store
                    .account(&token.account)?
                    .filter(|a| a.tenant == token.tenant);
                (account, None)
            } else if let Some(secret) = cookie {
                let hash = SecretHash::of(&secret);
                let Some(session) = p2.store.session(&hash)?.filter(|s| s.expires > now) else {
                    return Ok(Err(AdminError::NotSignedIn));
                };
                let account = p2
                    .store
                    .account(&session.account)?
                    .filter(|a| a.tenant == session.tenant);
                (account, Some(hash))
            } else {
                return Ok(Err(AdminError::NotSignedIn));
            };
            let Some(account) = account.filter(|a| !a.disabled) else {
                return Ok(Err(AdminError::NotSignedIn));
            };
            if account.tenant.slug() != slug {
                return Ok(Err(AdminError::OtherTenant));
            }
            Ok(Ok(Staff { account, session }))
        })
        .await;
    match found {
        Ok(r) => r,
        Err(e) => Err(AdminError::Internal(e)),
    }
}

/// What a sign-in form sends.
pub(crate) struct Credentials<'a> {
    pub login: &'a str,
    pub password: &'a str,
    /// The code of the authenticator app; empty for accounts without a second factor.
    pub code: &'a str,
}

/// Checks a sign-in. The attempt is reserved per client address, then per account, before the
/// password is checked, so that parallel attempts cannot pass the limits; a successful sign-in
/// gives its attempt back (the failures before it stay counted).
pub(crate) async fn sign_in(
    p: &Shared,
    t: &Tenant,
    client: &str,
    credentials: Credentials<'_>,
) -> Result<(Account, String), AdminError> {
    let now = p.now();
    let account_key = format!("{}/{}", t.slug, credentials.login.trim().to_lowercase());
    let tenant = tenant_id(t)?;
    let p2 = p.clone();
    let (login2, password2, code2, client2) = (
        credentials.login.to_string(),
        credentials.password.to_string(),
        credentials.code.to_string(),
        client.to_string(),
    );
    // Limits, password check and session in one trip to the blocking pool: with PostgreSQL the
    // limiters count in the database, so every node sees the same attempts.
    let checked = crate::http::run::blocking(move || -> Result<SignIn, StoreError> {
        let limits = &p2.admin;
        // Per address first: a flood from one address ends here, before any account is touched.
        match limits.per_client.reserve(&client2, now) {
            Err(StoreError::RateLimited { retry_after }) => {
                return Ok(SignIn::Throttled(retry_after.whole_seconds()));
            }
            other => other?,
        }
        match limits.per_account.reserve(&account_key, now) {
            Err(StoreError::RateLimited { retry_after }) => {
                // Not checked, so not counted against the address.
                limits.per_client.refund(&client2, now)?;
                return Ok(SignIn::Throttled(retry_after.whole_seconds()));
            }
            other => other?,
        }
        let account = p2.store.account_by_login(&tenant, &login2)?;
        let password_ok = match &account {
            Some(a) => accounts::verify_password(&password2, &a.password_hash) && !a.disabled,
            None => {
                let _ = accounts::verify_password(&password2, &limits.dummy_hash);
                false
            }
        };
        match account {
            Some(a) if password_ok && second_factor(limits, &a, &code2, now)? => {
                let secret = accounts::start_session(&p2.store, &a, now, limits.session_ttl)?;
                limits.per_account.refund(&account_key, now)?;
                limits.per_client.refund(&client2, now)?;
                Ok(SignIn::Signed(a, secret))
            }
            _ => Ok(SignIn::Wrong),
        }
    })
    .await
    .map_err(AdminError::Internal)?;
    match checked {
        SignIn::Signed(a, secret) => Ok((a, secret)),
        SignIn::Throttled(seconds) => Err(AdminError::Throttled(seconds.max(1))),
        SignIn::Wrong => Err(AdminError::WrongCredentials),
    }
}

/// Whether the second factor holds: no TOTP set up, or `code` is the current code and was not
/// used before (RFC 6238, 5.2: a code is accepted once).
fn second_factor(
    limits: &AdminState,
    account: &Account,
    code: &str,
    now: time::OffsetDateTime,
) -> Result<bool, StoreError> {
    let Some(secret) = &account.totp_secret else {
        return Ok(true);
    };
    let Some(step) = accounts::totp_step(secret, code, now) else {
        return Ok(false);
    };
    match limits
        .totp_used
        .reserve(&format!("{}:{step}", account.id), now)
    {
        Ok(()) => Ok(true),
        Err(StoreError::RateLimited { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a sign-in attempt came to.
enum SignIn {
    Signed(Account, String),
    Throttled(i64),
    Wrong,
}

/// `Set-Cookie` values for a session (both paths), or for ending it (`None`).
pub(crate) fn session_cookies(p: &Admin, secret: Option<&str>) -> Vec<HeaderValue> {
    let secure = if p.admin.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let (value, age) = match secret {
        Some(s) => (s, p.admin.session_ttl.whole_seconds()),
        None => ("", 0),
    };
    ["/verwaltung", "/api/v1/verwaltung"]
        .iter()
        .filter_map(|path| {
            HeaderValue::from_str(&format!(
                "{COOKIE}={value}; Path={path}; Max-Age={age}; HttpOnly; SameSite=Strict{secure}"
            ))
            .ok()
        })
        .collect()
}

/// Records an event of a staff member in the audit log (ids and codes only).
pub(crate) async fn audit(p: &Shared, account: &Account, code: &'static str) {
    let p2 = p.clone();
    let account = account.clone();
    let written = crate::http::run::blocking(move || {
        lotse_store::AuditStore::append_audit(
            &p2.store,
            p2.now(),
            service::office(&account),
            Some(&account.tenant),
            lotse_store::AuditAction::Other { code: code.into() },
        )
    })
    .await;
    if let Err(e) = written {
        tracing::error!(event = "audit_failed", code, cause = %e);
    }
}

/// Ends the session behind this request (if any).
pub(crate) async fn end_session(p: &Shared, headers: &HeaderMap) {
    if let Some(secret) = cookie_value(headers) {
        let p2 = p.clone();
        let _ =
            crate::http::run::blocking(move || p2.store.delete_session(&SecretHash::of(&secret)))
                .await;
    }
}

/// Blocks the account store work of `f` off the async workers.
pub(crate) async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    match crate::telemetry::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(AdminError::Internal(e.to_string())),
    }
}

pub(crate) fn pdf_response(reference: &str, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"Eingangsbestaetigung-{reference}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// The export of the selection (pages and API), recorded in the audit log.
pub(crate) async fn export_body(
    p: &Shared,
    t: Arc<Tenant>,
    staff: &Staff,
    filters: &service::Filters,
    csv: bool,
) -> Result<Response, AdminError> {
    let mut filters = filters.clone();
    filters.me = Some(staff.account.id);
    filters.today = Some(cases::today(p));
    let query = filters.export_query()?;
    let p2 = p.clone();
    let tc = t.clone();
    let me = staff.account.clone();
    let body = run(move || {
        if csv {
            exports::export_csv(&p2, &tc, &me, &query)
        } else {
            exports::export_jsonl(&p2, &tc, &me, &query)
        }
    })
    .await?;
    audit(p, &staff.account, "admin.export").await;
    let (mime, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"postkorb-{}.{ext}\"", t.slug),
            ),
        ],
        body,
    )
        .into_response())
}
