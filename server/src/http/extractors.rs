//! Extractors shared by the front ends: the citizen's language, the client's address, and the
//! tenant a route names.

use axum::http::header;
use lotse_core::Lang;

use crate::state::Shared;
use crate::tenants::{self, Tenant};

/// The citizen's language: `?lang=en` or the `lotse_lang` cookie; German otherwise.
#[derive(Clone, Copy)]
pub struct UiLang(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(Lang::from_tag)
        });
        let from_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lotse_lang=").map(Lang::from_tag));
        Ok(UiLang(from_query.or(from_cookie).unwrap_or(Lang::De)))
    }
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
pub struct PortalTenant(pub &'static Tenant);

impl<S> axum::extract::FromRequestParts<S> for PortalTenant
where
    S: Send + Sync,
    Shared: axum::extract::FromRef<S>,
{
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        if let Some(t) = route_tenant(parts, state).await {
            return Ok(PortalTenant(t));
        }
        let p = <Shared as axum::extract::FromRef<S>>::from_ref(state);
        let Ok(UiLang(lang)) = UiLang::from_request_parts(parts, state).await;
        Err(crate::http::pages::not_found(&p, None, lang))
    }
}

/// The tenant the route's `{tenant}` segment names, if it is one.
pub(crate) async fn route_tenant<S: Send + Sync>(
    parts: &mut axum::http::request::Parts,
    state: &S,
) -> Option<&'static Tenant> {
    use axum::extract::FromRequestParts;
    let params = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .ok()?;
    let slug = params
        .iter()
        .find(|(k, _)| *k == "tenant")
        .map(|(_, v)| v)?;
    tenants::find(slug)
}
