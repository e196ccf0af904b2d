//! The page structs of the portal's start page, a tenant's catalogue (search, Lebenslagen,
//! resume) and the page of one service (its catalogue information, its office, who offers it,
//! the button that starts the assistant), with their fixed texts in German and English.

use lotse_core::Lang;
use serde::Serialize;

use crate::directory::OfficeView;
use crate::http::pages::{Layout, Page, Shown};

/// The county's start page: the search over every service, and every municipality with its
/// number of online services.
#[derive(Serialize)]
pub(super) struct HomePage {
    #[serde(flatten)]
    pub(super) layout: Layout,
    pub(super) tenants: Vec<TenantCount>,
    pub(super) ct: &'static CatalogueTexts,
}

impl Page for HomePage {
    const TEMPLATE: &'static str = "home";
}

#[derive(Serialize)]
pub(super) struct TenantCount {
    pub(super) slug: String,
    pub(super) name: String,
    pub(super) count: usize,
    /// "1 Online-Dienst", "3 Online-Dienste".
    pub(super) count_label: String,
}

/// A tenant's catalogue: search, its hits, the services by Lebenslage, resuming by code.
#[derive(Serialize)]
pub(super) struct CataloguePage {
    #[serde(flatten)]
    pub(super) layout: Layout,
    /// What was searched for (empty: no search).
    pub(super) query: String,
    pub(super) hits: Vec<ServiceLink>,
    pub(super) lebenslagen: Vec<LebenslageView>,
    /// The token of the resume form.
    pub(super) csrf: String,
    pub(super) ct: &'static CatalogueTexts,
}

impl Page for CataloguePage {
    const TEMPLATE: &'static str = "catalogue";
}

/// A resume code that finds nothing: the code box again, with what was typed and what to check.
#[derive(Serialize)]
pub(super) struct ResumePage {
    #[serde(flatten)]
    pub(super) layout: Layout,
    pub(super) csrf: String,
    /// What was typed (shortened).
    pub(super) code: String,
    pub(super) error: &'static str,
}

impl Page for ResumePage {
    const TEMPLATE: &'static str = "resume";
}

/// A service in a list; `description` is empty where the list shows none.
#[derive(Serialize)]
pub(super) struct ServiceLink {
    pub(super) id: String,
    pub(super) title: Shown,
    pub(super) description: Shown,
    /// Who offers it when not this tenant ("bei Ihrer Gemeinde – Erkelenz, Gangelt, …").
    pub(super) offered_by: Option<String>,
    /// Whether it can be applied for online here.
    pub(super) online: bool,
}

#[derive(Serialize)]
pub(super) struct LebenslageView {
    pub(super) key: &'static str,
    pub(super) name: String,
    pub(super) services: Vec<ServiceLink>,
}

/// One service: what the catalogue says of it, where to go, and the start button where the
/// tenant runs its assistant.
#[derive(Serialize)]
pub(super) struct ServicePage {
    #[serde(flatten)]
    pub(super) layout: Layout,
    pub(super) service: ServiceView,
    /// The catalogue's information, if the service has an entry.
    pub(super) info: Option<InfoView>,
    /// The responsible office; `None` when other tenants offer the service (`providers`).
    pub(super) office: Option<OfficeView>,
    /// Who offers the service when this tenant does not, with links to their pages.
    pub(super) providers: Vec<ProviderLink>,
    /// Whether this tenant runs the online assistant (the start button).
    pub(super) assistant: bool,
    /// Signing in for a workflow with `login:` (docs/login.md).
    pub(super) sign_in: Option<crate::login::SignInOffer>,
    pub(super) csrf: String,
    /// The designers' preview: a link to the receipt with sample data.
    pub(super) dev: bool,
    pub(super) ct: &'static CatalogueTexts,
}

impl Page for ServicePage {
    const TEMPLATE: &'static str = "service";
}

#[derive(Serialize)]
pub(super) struct ServiceView {
    pub(super) id: String,
    pub(super) title: Shown,
    pub(super) description: Shown,
}

/// A catalogue entry's information, in the citizen's language.
#[derive(Serialize)]
pub(super) struct InfoView {
    pub(super) description: Option<Shown>,
    pub(super) eligibility: Option<Shown>,
    pub(super) documents: Vec<Shown>,
    pub(super) fees: Option<Shown>,
    pub(super) processing_time: Option<Shown>,
    pub(super) deadline: Option<Shown>,
    pub(super) legal_basis: Vec<Shown>,
    /// "Ja, …" / "Nein, …"; `None` when the entry does not say.
    pub(super) visit: Option<&'static str>,
    pub(super) online: Option<String>,
    pub(super) form: Option<String>,
    pub(super) notes: Option<Shown>,
    pub(super) leika: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ProviderLink {
    pub(super) name: String,
    pub(super) href: String,
}

/// The fixed texts of the catalogue and service pages (`ct.<name>`).
#[derive(Serialize)]
pub(super) struct CatalogueTexts {
    pub(super) search_all: &'static str,
    pub(super) search_hint: &'static str,
    pub(super) online: &'static str,
    pub(super) no_results_heading: &'static str,
    pub(super) no_results_contact: &'static str,
    pub(super) no_results_115: &'static str,
    pub(super) summary: &'static str,
    pub(super) eligibility: &'static str,
    pub(super) documents: &'static str,
    pub(super) fees: &'static str,
    pub(super) processing_time: &'static str,
    pub(super) deadline: &'static str,
    pub(super) legal_basis: &'static str,
    pub(super) visit: &'static str,
    pub(super) how_to_apply: &'static str,
    pub(super) online_service: &'static str,
    pub(super) external: &'static str,
    pub(super) pdf_form: &'static str,
    pub(super) office: &'static str,
    pub(super) opening_hours: &'static str,
    pub(super) email: &'static str,
    pub(super) offered_by: &'static str,
    pub(super) notes: &'static str,
    pub(super) leika: &'static str,
}

impl CatalogueTexts {
    pub(super) fn of(lang: Lang) -> &'static CatalogueTexts {
        if lang == Lang::En { &CT_EN } else { &CT_DE }
    }
}

/// "Ja, …" or "Nein, …": whether the citizen must come in person.
pub(super) fn visit_text(visit: bool, lang: Lang) -> &'static str {
    match (visit, lang) {
        (true, Lang::En) => "Yes, you have to come in person.",
        (false, Lang::En) => "No, you do not have to come in person.",
        (true, _) => "Ja, Sie müssen persönlich vorbeikommen.",
        (false, _) => "Nein, Sie müssen nicht persönlich vorbeikommen.",
    }
}

static CT_DE: CatalogueTexts = CatalogueTexts {
    search_all: "Alle Dienstleistungen im Kreis durchsuchen",
    search_hint: "Zum Beispiel Personalausweis, Sperrmüll oder Hundesteuer",
    online: "online beantragen",
    no_results_heading: "Keine Dienstleistung gefunden",
    no_results_contact: "Versuchen Sie ein anderes Wort. Oder fragen Sie uns:",
    no_results_115: "Die Behördennummer 115 beantwortet Fragen zu allen Verwaltungen, montags bis freitags von 8 bis 18 Uhr.",
    summary: "Kurz gesagt",
    eligibility: "Wer kann das beantragen?",
    documents: "Welche Unterlagen brauche ich?",
    fees: "Was kostet das?",
    processing_time: "Wie lange dauert das?",
    deadline: "Frist",
    legal_basis: "Rechtsgrundlage",
    visit: "Muss ich persönlich vorbeikommen?",
    how_to_apply: "So beantragen Sie es",
    online_service: "Zum Online-Dienst",
    external: "(externe Seite)",
    pdf_form: "Formular zum Ausdrucken (PDF)",
    office: "Zuständige Stelle",
    opening_hours: "Öffnungszeiten",
    email: "E-Mail",
    offered_by: "Diese Leistung bietet an:",
    notes: "Gut zu wissen",
    leika: "Leistungsschlüssel (LeiKa)",
};

static CT_EN: CatalogueTexts = CatalogueTexts {
    search_all: "Search every service in the county",
    search_hint: "For example identity card, bulky waste or dog tax (German words work best)",
    online: "apply online",
    no_results_heading: "No service found",
    no_results_contact: "Try another word. Or ask us:",
    no_results_115: "The public service number 115 answers questions about every administration, Monday to Friday from 8 am to 6 pm.",
    summary: "In short",
    eligibility: "Who can apply?",
    documents: "Which documents do I need?",
    fees: "What does it cost?",
    processing_time: "How long does it take?",
    deadline: "Deadline",
    legal_basis: "Legal basis",
    visit: "Do I have to come in person?",
    how_to_apply: "How to apply",
    online_service: "To the online service",
    external: "(external site)",
    pdf_form: "Form to print (PDF)",
    office: "Responsible office",
    opening_hours: "Opening hours",
    email: "Email",
    offered_by: "This service is offered by:",
    notes: "Good to know",
    leika: "Service key (LeiKa)",
};
