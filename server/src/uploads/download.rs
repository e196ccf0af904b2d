//! Handing a stored attachment to a case worker or the office's system: streamed from the
//! store (never held whole), with headers that keep a browser from running it (a download,
//! `nosniff`, a sandboxing CSP, no cache) and a file name that cannot name a path or break the
//! header. Who may download what is the caller's check (the Postkorb's tenant and the
//! submission's references, or a webhook link's signature).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_store::{AnyStore, AttachmentRef, AttachmentStore};

/// The policy of every download: nothing in it may run, load or frame anything.
pub const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

/// The answer with the file `r` names: 404 when the store has no such file (swept, or never
/// stored), else its bytes as a download.
pub async fn respond(store: AnyStore, r: AttachmentRef) -> Response {
    let hash = r.sha256;
    let s2 = store.clone();
    let size = crate::telemetry::spawn_blocking(move || s2.attachment_size(&hash)).await;
    let size = match size {
        Ok(Ok(Some(size))) => size,
        Ok(Ok(None)) => return (StatusCode::NOT_FOUND, "Nicht gefunden").into_response(),
        Ok(Err(e)) => {
            tracing::error!(event = "attachment_read_failed", cause = %e);
            return (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response();
        }
        Err(e) => {
            tracing::error!(event = "attachment_read_failed", cause = %e);
            return (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response();
        }
    };
    let (mut out, body) = crate::http::stream::channel();
    crate::telemetry::spawn_blocking(move || {
        let read = store
            .read_attachment(&hash, &mut out)
            .and_then(|_| out.finish().map_err(lotse_store::StoreError::Stream));
        if let Err(e) = read {
            // The client gone, or the store failed mid-way: the body ends with an error, so
            // the client sees a broken download rather than a short file.
            tracing::warn!(event = "attachment_stream_ended", cause = %e);
            out.fail("attachment read failed");
        }
    });
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type(&r.content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::CONTENT_DISPOSITION, content_disposition(&r.name));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The stored type if it is a plain `type/subtype`, else `application/octet-stream`.
fn content_type(stored: &str) -> HeaderValue {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
    };
    match stored.split_once('/') {
        Some((a, b)) if plain(a) && plain(b) => HeaderValue::from_str(&stored.to_ascii_lowercase())
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
        _ => HeaderValue::from_static("application/octet-stream"),
    }
}

/// The file name without what must not be in it: path separators (only the last part
/// counts), quotes, control characters and the like; "Nachweis" if nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '"' | '\'' | ';' | '%' | '<' | '>' | '*' | '?' | ':' | '|'
                )
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(150).collect();
    if short.is_empty() {
        "Nachweis".to_owned()
    } else {
        short
    }
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` (RFC 6266): umlauts
/// spelled out in the ASCII fallback, everything else non-ASCII as `_`.
pub fn content_disposition(name: &str) -> HeaderValue {
    let name = safe_file_name(name);
    let mut ascii = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'ä' => ascii.push_str("ae"),
            'ö' => ascii.push_str("oe"),
            'ü' => ascii.push_str("ue"),
            'Ä' => ascii.push_str("Ae"),
            'Ö' => ascii.push_str("Oe"),
            'Ü' => ascii.push_str("Ue"),
            'ß' => ascii.push_str("ss"),
            c if c.is_ascii() && c != '\\' => ascii.push(c),
            _ => ascii.push('_'),
        }
    }
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"Nachweis\""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn file_names_lose_paths_quotes_and_control_characters() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            safe_file_name("C:\\Users\\a\\Miet\"vertrag\r\n.pdf"),
            "Mietvertrag.pdf"
        );
        assert_eq!(safe_file_name("..."), "Nachweis");
        assert_eq!(safe_file_name(".htaccess"), "htaccess");
        let h = content_disposition("Grundriss Küche \"neu\".pdf");
        assert_eq!(
            h.to_str().unwrap(),
            "attachment; filename=\"Grundriss Kueche neu.pdf\"; \
             filename*=UTF-8''Grundriss%20K%C3%BCche%20neu.pdf"
        );
        let h = content_disposition("Лист.pdf");
        assert!(
            h.to_str()
                .unwrap()
                .starts_with("attachment; filename=\"____.pdf\"")
        );
    }

    #[test]
    fn only_plain_content_types_are_served_as_they_were_stored() {
        assert_eq!(content_type("application/pdf"), "application/pdf");
        assert_eq!(content_type("image/svg+xml"), "image/svg+xml");
        assert_eq!(
            content_type("text/html; charset=utf-8"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type("text/html\r\nX: y"),
            "application/octet-stream"
        );
        assert_eq!(content_type(""), "application/octet-stream");
    }
}
