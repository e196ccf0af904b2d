//! The pages' templates: the [`Page`] trait that ties a page struct to its template, and the
//! strict handlebars registry every front end's templates go into (the state builds it; the
//! HTML front ends render through it).

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonTruthy, Output, RenderContext,
    RenderError, RenderErrorReason, Renderable,
};
use serde::Serialize;

/// A page: the data one template reads, every field always present (an absent value is
/// `null`, never a missing key), so that a template reading a field no page has fails in
/// strict mode instead of rendering nothing.
pub(crate) trait Page: Serialize {
    /// The template's name in its registry.
    const TEMPLATE: &'static str;
}

/// A handlebars registry in strict mode: reading a missing field is an error, in `{{x}}` and
/// `{{#each x}}` as handlebars has it, and in `{{#if x}}` and `{{#unless x}}` as well.
pub(crate) fn strict_registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_dev_mode(false);
    hb.register_helper("if", Box::new(StrictIf { positive: true }));
    hb.register_helper("unless", Box::new(StrictIf { positive: false }));
    hb
}

/// `if` and `unless` that refuse a missing field (handlebars' own take it for false).
struct StrictIf {
    positive: bool,
}

impl HelperDef for StrictIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.positive { "if" } else { "unless" };
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
        if param.is_value_missing() {
            return Err(RenderError::strict_error(param.relative_path()));
        }
        let include_zero = h
            .hash_get("includeZero")
            .and_then(|v| v.value().as_bool())
            .unwrap_or(false);
        let truthy = param.value().is_truthy(include_zero) == self.positive;
        match if truthy { h.template() } else { h.inverse() } {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

/// Text escaped for HTML or XML, in an element or a quoted attribute: `&`, `<`, `>`, `"` and
/// `'` as references (the pages, the mails' HTML, the SAML messages, the payment simulator).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
