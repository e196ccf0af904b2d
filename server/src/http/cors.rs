//! Cross-origin access to the citizen API (CORS): a front end served from another origin may
//! call `/api/v1` from a browser when the portal's configuration names that origin
//! (`api.cors_origins`, none by default). Never with credentials: the citizen API uses no
//! cookies, and the staff API (/api/v1/verwaltung) is not opened to other origins at all.

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call the citizen API from a browser.
#[derive(Clone, Debug, Default)]
pub struct CorsOrigins(Vec<HeaderValue>);

impl CorsOrigins {
    /// From the configuration's `api.cors_origins` (checked there to be origins).
    pub fn from_config(origins: &[String]) -> anyhow::Result<CorsOrigins> {
        origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(&o.to_ascii_lowercase())
                    .map_err(|_| anyhow::anyhow!("api.cors_origins: {o:?} is not an origin"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(CorsOrigins)
    }

    /// Whether a request with this `Origin` header comes from an allowed origin.
    pub fn allows(&self, origin: Option<&HeaderValue>) -> bool {
        origin.is_some_and(|o| self.0.iter().any(|a| a == o))
    }

    /// The layer answering preflights and marking answers for the allowed origins; `None`
    /// when no origin is allowed (then the API answers as before, OPTIONS with 405).
    pub fn layer(&self) -> Option<CorsLayer> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.0.clone()))
                .allow_methods([Method::GET, Method::POST, Method::PUT])
                .allow_headers([header::CONTENT_TYPE, header::ACCEPT_LANGUAGE])
                .expose_headers([header::LOCATION, header::CONTENT_LANGUAGE])
                .allow_credentials(false)
                .max_age(std::time::Duration::from_secs(600)),
        )
    }
}
