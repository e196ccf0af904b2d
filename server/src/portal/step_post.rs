//! Reading the post of an application's page: `application/x-www-form-urlencoded` as every
//! page sends it, or `multipart/form-data` from a step with a file field. The file parts are
//! streamed into the upload spool (crate::uploads::intake) and never held in memory; they
//! are taken only after the form's CSRF token (which the page puts first) was found right,
//! and only for the file fields of the step, each cut off at its own limit.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::{IntoResponse, Response};

use crate::uploads::intake::{Spool, Spooled};

/// The most bytes of all text parts of one post together.
const TEXT_LIMIT: usize = 256 * 1024;

/// A page's post: its fields, and the files it carried (already in the spool).
#[derive(Default)]
pub(crate) struct StepPost {
    pub(crate) pairs: Vec<(String, String)>,
    pub(crate) files: Vec<Spooled>,
}

/// Why a post was not read.
pub(crate) enum Unread {
    /// A file before a right CSRF token: a forged form.
    Forbidden,
    /// What the body extractors answer (415, 413, 400).
    Rejected(Response),
}

/// Reads the post. `csrf` is the token the form must carry; `limits` the file fields of the
/// step with the most bytes each may have.
pub(crate) async fn read(
    req: Request,
    csrf: &str,
    limits: &HashMap<String, u64>,
    spool: &Spool,
) -> Result<StepPost, Unread> {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // A form without files is no larger than any other page's post.
        let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, TEXT_LIMIT)));
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|r| Unread::Rejected(r.into_response()))?;
        return Ok(StepPost {
            pairs,
            files: Vec::new(),
        });
    }
    let mut parts = Multipart::from_request(req, &())
        .await
        .map_err(|r| Unread::Rejected(r.into_response()))?;
    let bad = |e: axum::extract::multipart::MultipartError| Unread::Rejected(e.into_response());
    let mut post = StepPost::default();
    let mut text_bytes = 0usize;
    let mut csrf_ok = false;
    while let Some(mut part) = parts.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_string();
        if let Some(file_name) = part.file_name().map(str::to_string) {
            if !csrf_ok {
                return Err(Unread::Forbidden);
            }
            let Some(&limit) = limits.get(&name) else {
                // Not a file field of this step: read past it.
                while part.chunk().await.map_err(bad)?.is_some() {}
                continue;
            };
            let mut spooling = spool
                .begin(&name, &file_name, limit)
                .map_err(|e| Unread::Rejected(spool_failed(&e)))?;
            while let Some(chunk) = part.chunk().await.map_err(bad)? {
                spooling
                    .push(&chunk)
                    .map_err(|e| Unread::Rejected(spool_failed(&e)))?;
            }
            post.files.extend(spooling.finish());
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = part.chunk().await.map_err(bad)? {
            text_bytes += chunk.len();
            if text_bytes > TEXT_LIMIT {
                return Err(Unread::Rejected(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
                ));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8_lossy(&value).into_owned();
        if name == "_csrf" {
            csrf_ok = value == csrf;
        }
        post.pairs.push((name, value));
    }
    Ok(post)
}

fn spool_failed(e: &std::io::Error) -> Response {
    tracing::error!("LOT-U104: an upload could not be written to the spool: {e}");
    axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
}
