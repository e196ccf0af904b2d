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

use crate::service::{ApplicationService, Offices};
use crate::telemetry::Metrics;
use crate::templates::Page;
use crate::tenants::{self, Tenant};
use lotse_core::portal::Portal;

/// The definitions the portal serves: reloaded as a whole when files change (`--dev`).
pub struct Defs {
    pub(crate) library: Library,
    /// The portal and its tenants (docs/tenants.md).
    pub(crate) portal: Arc<Portal>,
    /// Every tenant's services: catalogue entries and assistants, with a search index each.
    pub(crate) directory: crate::directory::Directory,
    pub(crate) receipts: TemplateRegistry,
    /// Errors of the last load; in `--dev` mode they are shown instead of the assistant.
    pub(crate) problems: Vec<lotse_core::Problem>,
    /// Stored rules of tenant administrators that no longer fit the workflows (left out).
    pub(crate) settings_problems: Vec<lotse_core::Problem>,
    /// The API's serialized step fields, built on first use (dropped with these definitions).
    pub(crate) api_fields: StepCache,
    /// Each tenant's appointment schedule (`portal/termine/<tenant>.yaml`), if it has one.
    pub(crate) schedules: HashMap<String, Arc<lotse_core::appointments::Schedule>>,
}

/// Everything the handlers share.
pub struct AppState {
    pub(crate) defs: std::sync::RwLock<Arc<Defs>>,
    pub(crate) dev: bool,
    pub(crate) project: PathBuf,
    pub(crate) sandbox: Sandbox,
    pub(crate) store: AnyStore,
    pub(crate) pages: Handlebars<'static>,
    /// The receipt signing identity of each tenant (made for tenants added by a reload too).
    pub(crate) identities: std::sync::RwLock<HashMap<String, Arc<SigningIdentity>>>,
    /// What new identities are made from (after a reload that adds a tenant).
    pub(crate) config: crate::config::Config,
    /// What tenant administrators changed (laid over the files at every load).
    pub(crate) settings: std::sync::RwLock<crate::settings::Stored>,
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
    /// The mailer for citizens' mails (crate::mail); `None` without `[mail]`.
    pub(crate) mail: Option<Arc<crate::mail::Mailer>>,
    /// The tenants' payment platforms (docs/payment.md); tests and `--dev` add the simulator.
    pub(crate) platforms: std::sync::RwLock<Arc<crate::payment::Platforms>>,
    /// The portal's address as browsers and platforms reach it (return and notify URLs).
    pub(crate) public_url: std::sync::RwLock<String>,
    /// Held while the definitions are reloaded (see [`AppState::reload`]).
    pub(crate) reloading: std::sync::Mutex<()>,
    /// Limits against bulk booking of appointments (per client and per e-mail address).
    pub(crate) visit_limits: crate::nodes::VisitLimits,
    /// Citizen sign-ins started per client (crate::identity::STARTS_PER_CLIENT).
    pub(crate) sign_in_starts: Box<dyn lotse_store::AttemptLimiter + Send + Sync>,
    /// Citizen sign-in (crate::login); `None` without `[login]`.
    pub(crate) login: Option<crate::identity::Login>,
    /// Where uploads are streamed before they are judged, and the virus scanner (docs/uploads.md).
    pub(crate) spool: crate::uploads::intake::Spool,
    pub(crate) clamd: Option<crate::uploads::scan::Clamd>,
    /// The engine for the browser (docs/browser-engine.md); `None`: the pages run without it.
    pub(crate) engine: Option<crate::browser_engine::BrowserEngine>,
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
    let mut hb = crate::templates::strict_registry();
    for (name, src) in [
        ("layout", include_str!("../templates/layout.hbs")),
        ("catalogue", include_str!("../templates/catalogue.hbs")),
        ("service", include_str!("../templates/service.hbs")),
        ("step", include_str!("../templates/step.hbs")),
        ("review", include_str!("../templates/review.hbs")),
        ("done", include_str!("../templates/done.hbs")),
        ("payment", include_str!("../templates/payment.hbs")),
        ("message", include_str!("../templates/message.hbs")),
        ("problems", include_str!("../templates/problems.hbs")),
        ("home", include_str!("../templates/home.hbs")),
        ("resume", include_str!("../templates/resume.hbs")),
        ("explain", include_str!("../templates/explain.hbs")),
        ("visits", include_str!("../templates/visits.hbs")),
        ("visit", include_str!("../templates/visit.hbs")),
        ("konto", include_str!("../templates/konto.hbs")),
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
        AppState::build_env(config, store, dev, clock, &|k| std::env::var(k).ok())
    }

    /// [`AppState::build`] with the secrets (webhooks, mail, payment platforms) read through
    /// `env` instead of the process environment (tests).
    pub fn build_env(
        config: &crate::config::Config,
        store: AnyStore,
        dev: bool,
        clock: Arc<dyn Clock>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<AppState> {
        let project = config.project_dir.as_path();
        let data = config.data_dir.as_path();
        let sandbox = Sandbox::default();
        let (file_portal, _) = tenants::load(project);
        let stored = crate::settings::read_all(&store, &file_portal)?;
        let defs = load_defs(project, &sandbox, dev, &stored);
        if !dev && let Some(p) = defs.problems.first() {
            anyhow::bail!("the workflows have errors (run `lotse check`); first: {p}");
        }
        let now = clock.now();
        let mut identities = HashMap::new();
        for t in &defs.portal.tenants {
            let identity = crate::nodes::signing_identity(config, &store, &t.slug, &t.name, now)?;
            identities.insert(t.slug.clone(), Arc::new(identity));
        }
        let secret = crate::nodes::csrf_secret(&store, data)?;
        let limiter = crate::nodes::resume_limiter(&store);
        let mail = crate::mail::Mailer::from_config(config, env)?;
        let platforms = crate::payment::Platforms::from_config(&config.tenants, env)?;
        let public_url = config
            .payment
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen))
            .trim_end_matches('/')
            .to_string();
        let links = crate::uploads::links::AttachmentLinks::new(
            &secret,
            &public_url,
            time::Duration::days(i64::from(config.delivery.attachment_link_days)),
        );
        let webhooks =
            crate::delivery::Webhooks::from_config(config, env)?.with_links(Arc::new(links));
        Ok(AppState {
            platforms: std::sync::RwLock::new(Arc::new(platforms)),
            public_url: std::sync::RwLock::new(public_url),
            defs: std::sync::RwLock::new(Arc::new(defs)),
            dev,
            project: project.to_path_buf(),
            sandbox,
            store: store.clone(),
            pages: page_registry()?,
            identities: std::sync::RwLock::new(identities),
            config: config.clone(),
            settings: std::sync::RwLock::new(stored),
            data: data.to_path_buf(),
            secret,
            limiter,
            metrics: Arc::new(Metrics::default()),
            clock,
            metrics_allow: config.metrics.allow.clone(),
            webhooks: Arc::new(webhooks),
            mail: mail.map(Arc::new),
            reloading: std::sync::Mutex::new(()),
            visit_limits: crate::nodes::VisitLimits::new(&store),
            sign_in_starts: crate::nodes::attempt_limiter(
                &store,
                "citizen-sign-in",
                crate::identity::STARTS_PER_CLIENT,
            ),
            login: crate::identity::Login::from_config(config)?,
            spool: crate::uploads::intake::Spool::open(data)
                .with_context(|| format!("the upload spool in {}", data.display()))?,
            clamd: config.uploads.scanner()?,
            engine: crate::browser_engine::BrowserEngine::load(
                config.browser_engine.module.as_deref(),
                project,
            )?,
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
        // One reload at a time: one that began with older settings must not finish after a
        // newer one and put the older definitions back.
        let _one = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stored = self.settings.read().map(|s| s.clone()).unwrap_or_default();
        let defs = Arc::new(load_defs(&self.project, &self.sandbox, self.dev, &stored));
        self.add_identities(&defs.portal);
        let errors = defs.problems.len();
        match self.defs.write() {
            Ok(mut d) => *d = defs,
            Err(poisoned) => *poisoned.into_inner() = defs,
        }
        errors
    }

    /// Looks for settings that a tenant administrator stored since the last look (on this node
    /// or another) and reloads the definitions when there are any. Returns whether it did.
    pub fn poll_settings(&self) -> Result<bool, lotse_store::StoreError> {
        let defs = self.defs();
        let mut changed = Vec::new();
        {
            let known = self.settings.read().map(|s| s.clone()).unwrap_or_default();
            for t in &defs.portal.tenants {
                let at = known.by_tenant.get(&t.slug).map_or(0, |(n, _)| *n);
                if let Some(newer) = crate::settings::read_latest(&self.store, &t.slug, at)? {
                    changed.push((t.slug.clone(), newer));
                }
            }
        }
        if changed.is_empty() {
            return Ok(false);
        }
        if let Ok(mut s) = self.settings.write() {
            for (slug, newer) in changed {
                // Another look (the two-second poll beside a change made here) may have stored
                // a later record meanwhile: never go back to an older one.
                let known = s.by_tenant.get(&slug).map_or(0, |(n, _)| *n);
                if newer.0 > known {
                    s.by_tenant.insert(slug, newer);
                }
            }
        }
        self.reload();
        Ok(true)
    }

    /// Makes the signing identity of every tenant that has none yet (one added by a reload).
    fn add_identities(&self, portal: &Portal) {
        let now = self.now();
        for t in &portal.tenants {
            let known = self
                .identities
                .read()
                .map(|m| m.contains_key(&t.slug))
                .unwrap_or(true);
            if known {
                continue;
            }
            match crate::nodes::signing_identity(&self.config, &self.store, &t.slug, &t.name, now) {
                Ok(identity) => {
                    if let Ok(mut m) = self.identities.write() {
                        m.insert(t.slug.clone(), Arc::new(identity));
                    }
                }
                Err(e) => {
                    tracing::error!(event = "signing_identity_failed", tenant = %t.slug, cause = %e);
                }
            }
        }
    }

    /// The signing identity of `tenant`.
    pub(crate) fn identity(&self, tenant: &str) -> Option<Arc<SigningIdentity>> {
        self.identities.read().ok()?.get(tenant).cloned()
    }

    /// The newest version of workflow `id` as tenant `slug` runs it now (with its file and
    /// stored rules applied).
    pub fn workflow_for(&self, slug: &str, id: &str) -> Option<Arc<Workflow>> {
        self.defs().library.latest_for_tenant(slug, id).cloned()
    }

    /// The tenant with this slug.
    pub(crate) fn tenant(&self, slug: &str) -> Option<Arc<Tenant>> {
        self.defs().portal.find(slug).cloned()
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
    fn signing_identity(&self, tenant: &str) -> Option<Arc<SigningIdentity>> {
        self.identity(tenant)
    }
    fn notifications(
        &self,
        tenant: &str,
        workflow: &str,
        submission: &SubmissionId,
    ) -> Vec<NewOutboxMessage> {
        crate::delivery::notifications(&self.webhooks, tenant, workflow, submission)
    }
    fn confirmation(
        &self,
        t: &Tenant,
        wf: &Workflow,
        submission: &lotse_core::Submission,
        id: &SubmissionId,
    ) -> Option<NewOutboxMessage> {
        crate::mail::message(
            self.config.mail.as_ref(),
            t,
            wf,
            &submission.answers,
            submission.lang,
            id,
            crate::mail::Event::Received,
            None,
        )
    }
    fn payment_platform(&self, tenant: &str) -> Option<Arc<dyn crate::payment::PaymentProvider>> {
        self.platforms.read().ok()?.get(tenant)
    }
    fn public_url(&self) -> String {
        self.public_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_default()
    }
}

impl AppState {
    /// Connects `tenant` to a payment platform (tests and `lotse serve --dev`: the simulator).
    pub fn set_payment_platform(
        &self,
        tenant: &str,
        provider: Arc<dyn crate::payment::PaymentProvider>,
    ) {
        if let Ok(mut p) = self.platforms.write() {
            let mut next = (**p).clone();
            next.insert(tenant, provider);
            *p = Arc::new(next);
        }
    }

    /// The tenants with a payment platform.
    pub fn payment_tenants(&self) -> Vec<String> {
        self.platforms
            .read()
            .map(|p| p.tenants().cloned().collect())
            .unwrap_or_default()
    }

    /// The signed download links of attachments that webhook deliveries carry.
    pub fn attachment_links(&self) -> Option<&Arc<crate::uploads::links::AttachmentLinks>> {
        self.webhooks.links()
    }

    /// Sets the portal's public address (tests on port 0 learn it after binding).
    pub fn set_public_url(&self, url: &str) {
        if let Ok(mut u) = self.public_url.write() {
            *u = url.trim_end_matches('/').to_string();
        }
        if let Some(links) = self.webhooks.links() {
            links.set_base(url);
        }
    }
}

/// The appointment schedules of the portal's tenants: the one a tenant administrator stored,
/// else the file. One with problems is left out and its problems reported like the workflows'
/// (`lotse check` shows the files' ones).
fn load_schedules(
    project: &std::path::Path,
    portal: &Portal,
    stored: &crate::settings::Stored,
    problems: &mut Vec<lotse_core::Problem>,
) -> HashMap<String, Arc<lotse_core::appointments::Schedule>> {
    let mut out = HashMap::new();
    for t in &portal.tenants {
        let own = stored
            .by_tenant
            .get(&t.slug)
            .and_then(|(_, s)| s.schedule.clone());
        let (file, text) = match own {
            Some(text) => (crate::settings::schedule_path(&t.slug), text),
            None => {
                let file = schedule_file(project, &t.slug);
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                (file, text)
            }
        };
        match lotse_core::appointments::Schedule::parse(&file, &text) {
            Ok(s) => {
                out.insert(t.slug.clone(), Arc::new(s));
            }
            Err(found) => problems.extend(found),
        }
    }
    out
}

/// The file of a tenant's appointment schedule.
pub(crate) fn schedule_file(project: &std::path::Path, slug: &str) -> std::path::PathBuf {
    project
        .join("portal")
        .join("termine")
        .join(format!("{slug}.yaml"))
}

/// Workflows, forms and templates of `project`, with a catalogue per tenant.
pub(crate) fn load_defs(
    project: &std::path::Path,
    sandbox: &Sandbox,
    dev: bool,
    stored: &crate::settings::Stored,
) -> Defs {
    let (mut library, mut problems) = lotse_core::load_library(project, sandbox);
    let failed = problems.iter().any(lotse_core::Problem::is_error);
    let (portal, portal_problems) = tenants::load(project);
    let portal = Arc::new(crate::settings::apply_to_portal(&portal, stored));
    problems.extend(portal_problems);
    problems.extend(library.check_tenants(&portal.slugs()));
    let workflow_ids: std::collections::BTreeSet<String> =
        library.workflows.keys().cloned().collect();
    problems.extend(lotse_core::portal::check_mandates(&portal, &library));
    problems.extend(lotse_core::portal::check_services(
        &portal,
        &workflow_ids,
        failed,
    ));
    // What tenant administrators changed comes last, over the files' overrides.
    let settings_problems = crate::settings::apply_rules(&mut library, stored, sandbox);
    for p in &settings_problems {
        tracing::error!(event = "tenant_rule_left_out", problem = %p);
    }
    // Warnings (a workflow that no tenant offers) go to the log; `lotse check` lists them too.
    for w in problems.iter().filter(|p| !p.is_error()) {
        tracing::warn!(event = "definitions_warning", problem = %w);
    }
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
    let (entries, entry_problems) = crate::directory::load_entries(project, &library, &portal);
    problems.extend(entry_problems.into_iter().filter(|p| p.is_error()));
    let directory = crate::directory::Directory::build(&library, &portal, entries, dev);
    let schedules = load_schedules(project, &portal, stored, &mut problems);
    Defs {
        schedules,
        library,
        portal,
        settings_problems,
        directory,
        receipts,
        problems,
        api_fields: StepCache::default(),
    }
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
    if p.dev || t.services.offers(workflow) {
        crate::tenants::tenant_workflow(&p.defs().library, t, workflow, None)
    } else {
        None
    }
}
