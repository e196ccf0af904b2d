//! Extractors shared by the front ends: the citizen's language, the client's address.

use axum::http::header;
use lotse_core::Lang;

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
