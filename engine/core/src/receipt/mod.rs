//! The receipt model and its templates: what a receipt says, the handlebars templates that turn a
//! model into the small layout language, and Berlin time for the texts. Rendering, signing and
//! verifying the PDF live in the `lotse-receipt` crate; nothing here touches a PDF.

pub mod berlin;
pub mod error;
pub mod layout;
pub mod model;
pub mod template;

pub use berlin::{berlin_to_utc, format_berlin, to_berlin};
pub use error::{ReceiptError, TemplateProblem};
pub use layout::{Block, escape as escape_layout_text};
pub use model::{Entry, Language, Logo, ReceiptModel, Section, TenantInfo};
pub use template::{
    DEFAULT_TEMPLATE, ENTRIES_PARTIAL, TemplateRegistry, Texts, check_template, check_template_dir,
    sample_model,
};

/// Renders the layout text a template produces for `model` (what designers debug with).
pub fn render_layout(
    model: &ReceiptModel,
    templates: &TemplateRegistry,
) -> Result<String, ReceiptError> {
    templates.render_layout(model).map(|(_, text)| text)
}
