//! Extractors shared by the front ends: the citizen's language, the client's address, the
//! tenant a route names, and the portal's open draft.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use lotse_core::Lang;
use std::sync::Arc;

use crate::state::Shared;
use crate::tenants::Tenant;

/// The citizen's language: `?lang=en` or the `lotse_lang` cookie; German otherwise.
#[derive(Clone, Copy)]
pub struct UiLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(Lang::from_tag)
        });
        let from_cookie = cookie(&parts.headers, "lotse_lang").map(Lang::from_tag);
        Ok(UiLang(from_query.or(from_cookie).unwrap_or(Lang::De)))
    }
}

/// The value of the first cookie called `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Who is asking, for rate limits: the peer address when known.
#[derive(Clone)]
pub(crate) struct ClientKey(pub(crate) String);

/// The first value of a form field.
pub(crate) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The tenant named by the route's `{tenant}` segment, for the HTML portal: an unknown one is
/// answered with the portal's "not found" page before the handler runs.
pub struct PortalTenant(pub Arc<Tenant>);

impl<S> FromRequestParts<S> for PortalTenant
where
    S: Send + Sync,
    Shared: FromRef<S>,
{
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = Shared::from_ref(state);
        if let Some(t) = route_tenant(parts, state, &p).await {
            return Ok(PortalTenant(t));
        }
        let Ok(UiLang(lang)) = UiLang::from_request_parts(parts, state).await;
        Err(crate::http::pages::not_found(&p, None, lang))
    }
}

/// The tenant the route's `{tenant}` segment names, if it is one.
pub(crate) async fn route_tenant<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    p: &crate::state::AppState,
) -> Option<Arc<Tenant>> {
    p.tenant(&route_param(parts, state, "tenant").await?)
}

/// The route's segment `{name}`, if the route has one.
pub(crate) async fn route_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Option<String> {
    let params = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .ok()?;
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
