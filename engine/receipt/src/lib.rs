//! Signed PDF receipts (Eingangsbestätigungen): the receipt model, handlebars templates that
//! produce a small layout language, layout and rendering with printpdf, an embedded copy of
//! the submission, a CAdES signature over the whole file, and independent verification.
//! No HTTP, no async, no HTML: callers hand in a model and get bytes back.
//!
//! ```no_run
//! # fn demo(model: lotse_receipt::ReceiptModel) -> Result<(), lotse_receipt::ReceiptError> {
//! use lotse_receipt::{render_receipt, verify_receipt, SigningIdentity, TemplateRegistry};
//! let templates = TemplateRegistry::load_dir(std::path::Path::new("pdf-templates"))?;
//! let identity = SigningIdentity::generate_development("Stadt Heidestadt", model.received_at)?;
//! let pdf = render_receipt(&model, &templates, &identity)?;
//! assert!(verify_receipt(&pdf)?.valid);
//! # Ok(()) }
//! ```

mod deflate;
mod fonts;
mod pdf;
mod pkcs12;
mod render;
mod sfnt;
mod sign;
mod tagged;
mod verify;
mod writer;

// The model, templates and layout language come from the core; this crate only renders, signs
// and verifies. Everything a caller needs is re-exported, so one `use lotse_receipt::…` does.
pub use lotse_core::receipt::*;
pub use pdf::ATTACHMENT_NAME;
pub use sign::{DEVELOPMENT_MARK, IdentityPem, SigningIdentity};
pub use verify::{Verification, embedded_json, verify_receipt};

/// Prepares the receipt fonts (parses DejaVu Sans, makes the Latin cut without hinting:
/// some tens of milliseconds). A server calls it before it listens, so the first receipts
/// do not wait for it, and a broken font shows at start instead of at the first submit.
pub fn prepare() -> Result<(), ReceiptError> {
    fonts::fonts().map(|_| ())
}

/// Renders, lays out and signs the receipt for `model` with the workflow's template (or the
/// default), and returns the finished PDF.
pub fn render_receipt(
    model: &ReceiptModel,
    templates: &TemplateRegistry,
    identity: &SigningIdentity,
) -> Result<Vec<u8>, ReceiptError> {
    let (template, text) = templates.render_layout(model)?;
    let blocks = layout::parse(&text).map_err(|p| ReceiptError::Layout {
        template,
        line: p.line,
        message: p.message,
    })?;
    let composed = render::compose(model, &blocks)?;
    let options = printpdf::PdfSaveOptions {
        optimize: true,
        subset_fonts: !composed.fixed_fonts,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lopdf_doc = composed.document.to_lopdf_document(&options, &mut warnings);
    fonts::cut_programs(&mut lopdf_doc)?;
    pdf::compress_streams(&mut lopdf_doc)?;
    let tree = composed.structure.write(&mut lopdf_doc)?;
    pdf::finish(lopdf_doc, &tree, model, identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Send + Sync>() {}

    #[test]
    fn templates_and_identities_can_be_shared_across_threads() {
        shareable::<TemplateRegistry>();
        shareable::<SigningIdentity>();
        shareable::<ReceiptModel>();
    }
}
