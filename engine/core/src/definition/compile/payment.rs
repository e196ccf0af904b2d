//! `payment:`: the amount names a computed value in whole cents, the purpose carries the
//! Kassenzeichen in every language, the due date and the methods are known ones, and direct
//! debit comes with a mandate.

use super::names::Declared;
use super::{Ctx, pos};
use crate::definition::raw::{RawWorkflow, ValueFormat};
use crate::payment::{Due, Method, PaymentSpec, REFERENCE_PLACEHOLDER};
use crate::text::Text;

pub(super) fn payment(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    declared: &Declared,
) -> Option<PaymentSpec> {
    let p = &raw.payment.as_ref()?.value;
    let before = cx.problems.len();

    let amount = &p.amount.value;
    match raw.computed.iter().find(|c| &c.id.value == amount) {
        None => {
            let kind = if declared.fields.iter().any(|f| f == amount) {
                "a field, not a computed value"
            } else {
                "not a computed value of this workflow"
            };
            cx.error_help(
                "LOT-E120",
                pos(&p.amount),
                format!("payment.amount: \"{amount}\" is {kind}"),
                "name a computed value with `format: cents`, e.g. `value: cents(gebuehr)`",
            );
        }
        Some(c) if c.format != Some(ValueFormat::Cents) => cx.error_help(
            "LOT-E120",
            pos(&p.amount),
            format!(
                "payment.amount: the computed value \"{amount}\" must have `format: cents` (a whole number of cents, never a euro amount with decimals)"
            ),
            "add a computed value `value: cents(gebuehr)` with `format: cents` and name it here",
        ),
        Some(_) => {}
    }

    let texts: Vec<(&str, &str)> = match &p.purpose.value {
        Text::Plain(s) => vec![("de", s.as_str())],
        Text::Localized(l) => {
            let mut v = vec![("de", l.de.as_str())];
            if let Some(en) = &l.en {
                v.push(("en", en.as_str()));
            }
            v
        }
    };
    for (lang, text) in texts {
        if !text.contains(REFERENCE_PLACEHOLDER) {
            cx.error_help(
                "LOT-E121",
                pos(&p.purpose),
                format!(
                    "payment.purpose ({lang}) does not contain {REFERENCE_PLACEHOLDER}: the office could not match the money to the application"
                ),
                format!("write it into the text, e.g. \"Bewohnerparkausweis {REFERENCE_PLACEHOLDER}\""),
            );
        } else if text.chars().count() + 20 > 140 {
            cx.error(
                "LOT-E121",
                pos(&p.purpose),
                format!(
                    "payment.purpose ({lang}) is too long: with the Kassenzeichen it must fit the 140 characters of a SEPA Verwendungszweck"
                ),
            );
        }
    }

    let due = Due::ALL
        .iter()
        .find(|(name, _)| *name == p.due.value)
        .map(|(_, d)| *d);
    if due.is_none() {
        cx.error_help(
            "LOT-E122",
            pos(&p.due),
            format!("payment.due: \"{}\" is not known", p.due.value),
            "write `due: before_submission` (the submission reaches the office once it is paid)",
        );
    }

    let mut methods = Vec::new();
    if p.methods.value.is_empty() {
        cx.error(
            "LOT-E123",
            pos(&p.methods),
            "payment.methods is empty: name at least one method the platform offers",
        );
    }
    for m in &p.methods.value {
        match Method::parse(&m.value) {
            None => cx.error_help(
                "LOT-E123",
                pos(m),
                format!("payment.methods: \"{}\" is not a known method", m.value),
                "known methods: giropay, kreditkarte, paypal, lastschrift",
            ),
            Some(method) if methods.contains(&method) => cx.error(
                "LOT-E123",
                pos(m),
                format!("payment.methods: \"{}\" is named twice", m.value),
            ),
            Some(Method::Lastschrift) if raw.sepa_mandate.is_none() => {
                cx.error_help(
                    "LOT-E124",
                    pos(m),
                    "payment.methods: `lastschrift` needs the workflow's `sepa_mandate:` (the citizen gives the mandate with the tenant's creditor id in the application)",
                    "add `sepa_mandate: { account: <bank account field> }`, or remove lastschrift",
                );
                methods.push(Method::Lastschrift);
            }
            Some(method) => methods.push(method),
        }
    }

    if cx.errors_since(before) {
        return None;
    }
    Some(PaymentSpec {
        amount: amount.clone(),
        purpose: p.purpose.value.clone(),
        due: due?,
        methods,
    })
}
