//! Who is asking in the Postkorb: the staff member signed in for the route's `{tenant}`, as an
//! extractor per front end, each refusing the way its front end answers. The pages take the
//! session cookie and refuse with the sign-in form or a Postkorb page; the JSON API takes a
//! Bearer token or the session cookie and refuses with problem+json.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;
use lotse_store::Role;
use std::sync::Arc;

use super::views::{error_page, unknown_tenant};
use super::{Admin, AdminError, Staff, authenticate};
use crate::http::extractors::route_tenant;
use crate::tenants::Tenant;

/// A case worker of the route's tenant, for the Postkorb's pages: signed in by session, with a
/// role that may work on submissions. Without a sign-in the answer is the redirect to the
/// sign-in form; another tenant's session or a role that may not gets a Postkorb page; an
/// unknown tenant a plain 404.
pub(crate) struct CaseWorker {
    pub(crate) tenant: Arc<Tenant>,
    pub(crate) staff: Staff,
}

impl<S> FromRequestParts<S> for CaseWorker
where
    S: Send + Sync,
    Admin: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let (tenant, staff) = page_staff(parts, state, Role::may_work_submissions).await?;
        Ok(CaseWorker { tenant, staff })
    }
}

/// A case worker of the route's tenant, for the JSON API: a Bearer token or the session, with
/// a role that may work on submissions. Every refusal is problem+json (401 without sign-in);
/// the tenants are public (the portal lists them), so an unknown one is simply not found.
pub(crate) struct ApiCaseWorker {
    pub(crate) tenant: Arc<Tenant>,
    pub(crate) staff: Staff,
}

impl<S> FromRequestParts<S> for ApiCaseWorker
where
    S: Send + Sync,
    Admin: FromRef<S>,
{
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        let ApiStaff { tenant, staff } = ApiStaff::from_request_parts(parts, state).await?;
        staff.require(Role::may_work_submissions)?;
        Ok(ApiCaseWorker { tenant, staff })
    }
}

/// Any staff member signed in for the route's tenant, whatever the role, for the JSON API
/// (who am I); refusals as for [`ApiCaseWorker`].
pub(crate) struct ApiStaff {
    pub(crate) tenant: Arc<Tenant>,
    pub(crate) staff: Staff,
}

impl<S> FromRequestParts<S> for ApiStaff
where
    S: Send + Sync,
    Admin: FromRef<S>,
{
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        let p = Admin::from_ref(state);
        let t = route_tenant(parts, state, &p)
            .await
            .ok_or(AdminError::NotFound)?;
        let staff = authenticate(&p, &parts.headers, &t, true).await?;
        Ok(ApiStaff { tenant: t, staff })
    }
}

/// A tenant administrator of the route's tenant, for the Verwaltung's settings pages: as
/// [`CaseWorker`], with a role that may manage the tenant (accounts, services, rules).
pub(crate) struct TenantAdmin {
    pub(crate) tenant: Arc<Tenant>,
    pub(crate) staff: Staff,
}

impl<S> FromRequestParts<S> for TenantAdmin
where
    S: Send + Sync,
    Admin: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let (tenant, staff) = page_staff(parts, state, Role::may_manage_accounts).await?;
        Ok(TenantAdmin { tenant, staff })
    }
}

/// The route's tenant and the staff member signed in to it by session whose role passes
/// `allowed`; every refusal is the page a browser expects (sign-in redirect, Postkorb page,
/// plain 404 for an unknown tenant).
async fn page_staff<S>(
    parts: &mut Parts,
    state: &S,
    allowed: fn(Role) -> bool,
) -> Result<(Arc<Tenant>, Staff), Response>
where
    S: Send + Sync,
    Admin: FromRef<S>,
{
    let p = Admin::from_ref(state);
    let Some(t) = route_tenant(parts, state, &p).await else {
        return Err(unknown_tenant());
    };
    let staff = authenticate(&p, &parts.headers, &t, false)
        .await
        .map_err(|e| error_page(&p, &t, None, e))?;
    staff
        .require(allowed)
        .map_err(|e| error_page(&p, &t, Some(&staff), e))?;
    Ok((t, staff))
}
