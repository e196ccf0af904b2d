//! `GET …/applications/{id}/engine`: what a front end of this API needs to run the engine in
//! the browser (docs/browser-engine.md) on the application: the module's address, the
//! workflow's sources and the state, as a step page of the portal carries them.

use super::*;

/// The engine in the browser for one application.
#[derive(Serialize, ToSchema)]
pub(super) struct EngineOut {
    /// The WebAssembly module (its address changes with its content: cache it).
    module: String,
    /// The workflow version's sources, for the module's `lotse_load` (cache by content hash).
    workflow: String,
    content_hash: String,
    /// The portal's time now (RFC 3339); send it, advanced by the time passed, as `now`.
    now: String,
    /// The application's state, for the module's `lotse_preview` as `state`. Read it again
    /// after every answer.
    #[schema(value_type = Object)]
    state: Value,
}

pub(super) async fn engine(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    let open = open(&p, t.clone(), &id).await?;
    let (Some(module), Some(now)) = (p.engine.as_ref(), crate::browser_engine::now_text(p.now()))
    else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "LOT-H025",
            "Dieses Portal bietet die Prüfung im Browser nicht an.".into(),
            "This portal does not offer the checks in the browser.".into(),
        ));
    };
    let state =
        serde_json::to_value(&open.app).map_err(|e| Problem::internal(&ServiceError::Encode(e)))?;
    Ok(ok_typed(
        StatusCode::OK,
        &EngineOut {
            module: module.url(),
            workflow: crate::browser_engine::workflow_url(&t.slug, &open.wf),
            content_hash: open.wf.content_hash.clone(),
            now,
            state,
        },
    ))
}
