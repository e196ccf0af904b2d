//! The OpenAPI 3.1 document at /api/v1/openapi.json (and `lotse openapi`): the citizen API's
//! part (`api/openapi.rs`) and the Postkorb API's (`admin/api_doc.rs`) put together here, above
//! both, so that neither front end imports the other. The schemas come from the APIs' own
//! types, the operations from their tables; the tests compare the operations with the router
//! in both directions and check real answers against the schemas, and CI runs schemathesis and
//! a generated client against the served document.

use std::sync::OnceLock;

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        crate::http::openapi::document_value(
            vec![crate::api::openapi::part(), crate::admin::api_doc::part()],
            crate::api::openapi::description(),
        )
        .to_string()
    })
}
