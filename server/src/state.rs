//! The state every handler shares: the definitions (reloadable), the store, the sandbox, the
//! page templates, the signing keys and the CSRF secret, and the application service over them.
//! Built by `startup`; read by the portal, the API and the Postkorb. Knows none of them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use handlebars::Handlebars;
use lotse_core::script::Sandbox;
use lotse_core::{Clock, Library, Workflow};
use lotse_receipt::{SigningIdentity, TemplateRegistry};
use lotse_store::{AnyStore, AttemptLimiter, NewOutboxMessage, SubmissionId};
use sha2::{Digest, Sha256};

use crate::http::pages::Page;
use crate::service::{ApplicationService, Offices};
use crate::telemetry::Metrics;
use crate::tenants::{self, Tenant};

/// The definitions the portal serves: reloaded as a whole when files change (`--dev`).
pub struct Defs {
    pub(crate) library: Library,
    /// Every tenant's services: catalogue entries and assistants, with a search index each.
    pub(crate) directory: crate::directory::Directory,
    pub(crate) receipts: TemplateRegistry,
    /// Errors of the last load; in `--dev` mode they are shown instead of the assistant.
    pub(crate) problems: Vec<lotse_core::Problem>,
    /// The API's serialized step fields, built on first use (dropped with these definitions).
    pub(crate) api_fields: StepCache,
}

/// Everything the handlers share.
pub struct AppState {
    pub(crate) defs: std::sync::RwLock<Arc<Defs>>,
    pub(crate) dev: bool,
    pub(crate) project: PathBuf,
    pub(crate) sandbox: Sandbox,
    pub(crate) store: AnyStore,
    pub(crate) pages: Handlebars<'static>,
    pub(crate) identities: HashMap<&'static str, SigningIdentity>,
    pub(crate) data: PathBuf,
    pub(crate) secret: [u8; 32],
    pub(crate) limiter: Box<dyn AttemptLimiter + Send + Sync>,
    pub(crate) metrics: Arc<Metrics>,
    /// The time: the system clock, or a clock a test moves.
    pub(crate) clock: Arc<dyn Clock>,
    /// Who may read /metrics.
    pub(crate) metrics_allow: Vec<std::net::IpAddr>,
    /// The webhooks of the offices (crate::delivery).
    pub(crate) webhooks: Arc<crate::delivery::Webhooks>,
}

pub type Shared = Arc<AppState>;

/// Serialised data per step that never changes for one content hash (which covers a tenant's
/// override too), such as the API's field lists: built on first use, dropped with the
/// definitions.
#[derive(Default)]
pub struct StepCache(std::sync::RwLock<HashMap<String, Arc<serde_json::value::RawValue>>>);

impl StepCache {
    /// The entry under `key`, built by `build` the first time.
    pub fn get_or_build(
        &self,
        key: String,
        build: impl FnOnce() -> Arc<serde_json::value::RawValue>,
    ) -> Arc<serde_json::value::RawValue> {
        if let Some(hit) = self.0.read().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let built = build();
        if let Ok(mut m) = self.0.write() {
            m.insert(key, built.clone());
        }
        built
    }
}

pub(crate) fn page_registry() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = crate::http::pages::strict_registry();
    for (name, src) in [
        ("layout", include_str!("../templates/layout.hbs")),
        ("catalogue", include_str!("../templates/catalogue.hbs")),
        ("service", include_str!("../templates/service.hbs")),
        ("step", include_str!("../templates/step.hbs")),
        ("review", include_str!("../templates/review.hbs")),
        ("done", include_str!("../templates/done.hbs")),
        ("message", include_str!("../templates/message.hbs")),
        ("problems", include_str!("../templates/problems.hbs")),
        ("home", include_str!("../templates/home.hbs")),
        ("resume", include_str!("../templates/resume.hbs")),
    ] {
        if name == "layout" {
            hb.register_partial(name, src)
                .with_context(|| format!("template {name}"))?;
        } else {
            hb.register_template_string(name, src)
                .with_context(|| format!("template {name}"))?;
        }
    }
    Ok(hb)
}

impl AppState {
    /// Loads the definitions and prepares keys and the secret over an open store.
    pub fn build(
        config: &crate::config::Config,
        store: AnyStore,
        dev: bool,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<AppState> {
        let project = config.project_dir.as_path();
        let data = config.data_dir.as_path();
        let sandbox = Sandbox::default();
        let defs = load_defs(project, &sandbox, dev);
        if !dev && let Some(p) = defs.problems.first() {
            anyhow::bail!("the workflows have errors (run `lotse check`); first: {p}");
        }
        let now = clock.now();
        let mut identities = HashMap::new();
        for t in tenants::DEMO {
            let identity = crate::nodes::signing_identity(config, &store, t.slug, t.name, now)?;
            identities.insert(t.slug, identity);
        }
        let secret = crate::nodes::csrf_secret(&store, data)?;
        let limiter = crate::nodes::resume_limiter(&store);
        let webhooks = crate::delivery::Webhooks::from_config(config, &|k| std::env::var(k).ok())?;
        Ok(AppState {
            defs: std::sync::RwLock::new(Arc::new(defs)),
            dev,
            project: project.to_path_buf(),
            sandbox,
            store,
            pages: page_registry()?,
            identities,
            data: data.to_path_buf(),
            secret,
            limiter,
            metrics: Arc::new(Metrics::default()),
            clock,
            metrics_allow: config.metrics.allow.clone(),
            webhooks: Arc::new(webhooks),
        })
    }

    /// The current definitions.
    /// Now, by the portal's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn defs(&self) -> Arc<Defs> {
        match self.defs.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads the definitions again (after a change on disk).
    pub fn reload(&self) -> usize {
        let defs = Arc::new(load_defs(&self.project, &self.sandbox, self.dev));
        let errors = defs.problems.len();
        match self.defs.write() {
            Ok(mut d) => *d = defs,
            Err(poisoned) => *poisoned.into_inner() = defs,
        }
        errors
    }

    /// The portal's store (for operators' tools and tests; handlers go through the service).
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// The application service over this portal's store, keys and the given definitions.
    pub(crate) fn service<'a>(&'a self, defs: &'a Defs) -> ApplicationService<'a> {
        ApplicationService {
            store: &self.store,
            sandbox: &self.sandbox,
            library: &defs.library,
            receipts: &defs.receipts,
            offices: self,
            data: &self.data,
        }
    }

    pub(crate) fn token(&self, scope: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(scope.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A citizen page as HTML; a page that does not render is logged and answered with 500.
    pub(crate) fn render<P: Page>(&self, page: &P) -> Response {
        match self.pages.render(P::TEMPLATE, page) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(event = "page_render_failed", page = P::TEMPLATE, cause = %e);
                (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response()
            }
        }
    }
}

impl Offices for AppState {
    fn signing_identity(&self, tenant: &str) -> Option<&SigningIdentity> {
        self.identities.get(tenant)
    }
    fn notifications(
        &self,
        tenant: &str,
        workflow: &str,
        submission: &SubmissionId,
    ) -> Vec<NewOutboxMessage> {
        crate::delivery::notifications(&self.webhooks, tenant, workflow, submission)
    }
}

/// Workflows, forms and templates of `project`, with a catalogue per tenant.
pub(crate) fn load_defs(project: &std::path::Path, sandbox: &Sandbox, dev: bool) -> Defs {
    let (mut library, mut problems) = lotse_core::load_library(project, sandbox);
    problems.extend(library.check_tenants(&tenants::slugs()));
    let mut problems: Vec<lotse_core::Problem> =
        problems.into_iter().filter(|p| p.is_error()).collect();
    // Without a pdf-templates/ folder the built-in receipt template is used, as `lotse check`
    // and `lotse test` do.
    let template_dir = project.join("pdf-templates");
    let loaded = if template_dir.is_dir() {
        TemplateRegistry::load_dir(&template_dir)
    } else {
        TemplateRegistry::builtin()
    };
    let receipts = match loaded {
        Ok(r) => r,
        Err(e) => {
            problems.push(lotse_core::Problem::error(
                "LOT-E040",
                &project.join("pdf-templates"),
                lotse_core::problem::Pos::UNKNOWN,
                e.to_string(),
            ));
            TemplateRegistry::builtin().unwrap_or_else(|_| unreachable_registry())
        }
    };
    let (entries, entry_problems) = crate::directory::load_entries(project, &library);
    problems.extend(entry_problems.into_iter().filter(|p| p.is_error()));
    let directory = crate::directory::Directory::build(&library, entries, dev);
    Defs {
        library,
        directory,
        receipts,
        problems,
        api_fields: StepCache::default(),
    }
}

/// The workflow tenant `t` runs: the county's workflow with the tenant's override (fee, office,
/// receipt texts) applied, or as written when the tenant overrides nothing. `None` is the newest
/// version. Every place that picks a workflow for a tenant goes through here; the derived
/// workflows are built when the definitions load.
pub(crate) fn tenant_workflow(
    library: &Library,
    t: &Tenant,
    id: &str,
    version: Option<u32>,
) -> Option<Arc<Workflow>> {
    match version {
        Some(v) => library.for_tenant(t.slug, id, v),
        None => library.latest_for_tenant(t.slug, id),
    }
    .cloned()
}

pub(crate) fn unreachable_registry() -> TemplateRegistry {
    // The built-in template is compiled into the binary and checked by its tests.
    match TemplateRegistry::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("the built-in receipt template failed: {e}");
            std::process::exit(70)
        }
    }
}

pub(crate) fn offered(p: &AppState, t: &Tenant, workflow: &str) -> Option<Arc<Workflow>> {
    // In the designer's preview every workflow of the project is on offer everywhere.
    if p.dev || t.services.contains(&workflow) {
        tenant_workflow(&p.defs().library, t, workflow, None)
    } else {
        None
    }
}
