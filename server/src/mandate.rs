//! The SEPA direct debit mandate a citizen gives where a workflow asks for one
//! (`sepa_mandate:`): its full text with the tenant as creditor, shown on the review page before
//! sending, on the confirmation with the mandate reference (the application's reference), and
//! printed on the receipt.

use lotse_core::payment::GivenMandate;
use lotse_core::{Lang, Workflow};
use serde::Serialize;
use serde_json::Value;

use crate::tenants::Tenant;

/// The mandate as the pages and the receipt show it.
#[derive(Clone, Debug, Serialize)]
pub struct MandateView {
    pub title: &'static str,
    pub creditor: String,
    pub creditor_label: &'static str,
    /// The tenant's creditor identifier (Gläubiger-Identifikationsnummer).
    pub creditor_id: Option<String>,
    pub creditor_id_label: &'static str,
    /// The mandate reference: the application's reference once it is sent.
    pub reference: String,
    pub reference_label: &'static str,
    pub holder: String,
    pub holder_label: &'static str,
    /// The IBAN with all but its country, check digits and last four digits hidden.
    pub iban: String,
    pub paragraphs: Vec<String>,
}

/// The mandate given by `answers` (the workflow's account field was answered), if any.
pub fn of(
    wf: &Workflow,
    answer: &dyn Fn(&str) -> Option<Value>,
    t: &Tenant,
    reference: Option<&str>,
    lang: Lang,
) -> Option<MandateView> {
    let m = wf.sepa_mandate.as_ref()?;
    let account = answer(&m.account)?;
    let iban: String = account
        .get("iban")?
        .as_str()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if iban.len() < 8 {
        return None;
    }
    let holder = account
        .get("kontoinhaber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let creditor = t.name.clone();
    let en = lang == Lang::En;
    let paragraphs = if en {
        vec![
            format!(
                "I authorise {creditor} to collect payments from my account by direct debit. At the same time, I instruct my bank to honour the direct debits drawn on my account by {creditor}."
            ),
            "Note: I can demand a refund of the amount debited within eight weeks, starting with the date of the debit. The conditions agreed with my bank apply.".to_string(),
        ]
    } else {
        vec![
            format!(
                "Ich ermächtige {creditor}, Zahlungen von meinem Konto mittels Lastschrift einzuziehen. Zugleich weise ich mein Kreditinstitut an, die von {creditor} auf mein Konto gezogenen Lastschriften einzulösen."
            ),
            "Hinweis: Ich kann innerhalb von acht Wochen, beginnend mit dem Belastungsdatum, die Erstattung des belasteten Betrages verlangen. Es gelten dabei die mit meinem Kreditinstitut vereinbarten Bedingungen.".to_string(),
        ]
    };
    Some(MandateView {
        title: if en {
            "SEPA direct debit mandate"
        } else {
            "SEPA-Lastschriftmandat"
        },
        creditor,
        creditor_label: if en { "Creditor" } else { "Zahlungsempfänger" },
        creditor_id: t.creditor_id.clone(),
        creditor_id_label: if en {
            "Creditor identifier"
        } else {
            "Gläubiger-Identifikationsnummer"
        },
        reference: match (reference, en) {
            (Some(r), _) => r.to_string(),
            (None, true) => "your application's reference, given when you send it".to_string(),
            (None, false) => "Ihr Aktenzeichen; Sie erhalten es nach dem Absenden".to_string(),
        },
        reference_label: if en {
            "Mandate reference"
        } else {
            "Mandatsreferenz"
        },
        holder,
        holder_label: if en {
            "Account holder"
        } else {
            "Kontoinhaberin oder Kontoinhaber"
        },
        iban: masked(&iban),
        paragraphs,
    })
}

/// The mandate the review shows for `answers`: only when its account field is among the
/// answers reviewed (it is hidden when the citizen pays otherwise).
pub fn at_review(
    wf: &Workflow,
    review: &lotse_core::application::ReviewView,
    answers: &std::collections::BTreeMap<String, Value>,
    t: &Tenant,
    lang: Lang,
) -> Option<MandateView> {
    let shown = |id: &str| {
        review.steps.iter().flat_map(|s| &s.entries).any(|e| {
            e.field == id
                || e.field.starts_with(&format!("{id}."))
                || e.field.starts_with(&format!("{id}/"))
        })
    };
    let answer = |id: &str| {
        if shown(id) {
            answers.get(id).cloned()
        } else {
            None
        }
    };
    of(wf, &answer, t, None, lang)
}

/// The mandate as recorded in the submission when it is given (sent).
pub fn given(m: &MandateView, lang: Lang, now: time::OffsetDateTime) -> GivenMandate {
    GivenMandate {
        title: m.title.to_string(),
        creditor: m.creditor.clone(),
        creditor_id: m.creditor_id.clone(),
        holder: m.holder.clone(),
        iban: m.iban.clone(),
        text: m.paragraphs.clone(),
        lang,
        given_at: now,
    }
}

/// A recorded mandate as the receipt and the pages show it, with its reference (the
/// submission's).
pub fn of_given(g: &GivenMandate, reference: &str) -> MandateView {
    let en = g.lang == Lang::En;
    MandateView {
        title: if en {
            "SEPA direct debit mandate"
        } else {
            "SEPA-Lastschriftmandat"
        },
        creditor: g.creditor.clone(),
        creditor_label: if en { "Creditor" } else { "Zahlungsempfänger" },
        creditor_id: g.creditor_id.clone(),
        creditor_id_label: if en {
            "Creditor identifier"
        } else {
            "Gläubiger-Identifikationsnummer"
        },
        reference: reference.to_string(),
        reference_label: if en {
            "Mandate reference"
        } else {
            "Mandatsreferenz"
        },
        holder: g.holder.clone(),
        holder_label: if en {
            "Account holder"
        } else {
            "Kontoinhaberin oder Kontoinhaber"
        },
        iban: g.iban.clone(),
        paragraphs: g.text.clone(),
    }
}

/// `DE89370400440532013000` → `DE89 …3000`.
fn masked(iban: &str) -> String {
    let head: String = iban.chars().take(4).collect();
    let tail: String = iban
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{head} …{tail}")
}

/// The mandate as a section of the receipt: its text, creditor, reference and account.
pub fn receipt_section(m: &MandateView, lang: Lang) -> lotse_core::receipt::Section {
    use lotse_core::receipt::Entry;
    let mut entries = vec![Entry::value(
        if lang == Lang::En {
            "Mandate"
        } else {
            "Mandat"
        },
        m.paragraphs.join(" "),
    )];
    entries.push(Entry::value(m.creditor_label, m.creditor.clone()));
    if let Some(id) = &m.creditor_id {
        entries.push(Entry::value(m.creditor_id_label, id.clone()));
    }
    entries.push(Entry::value(m.reference_label, m.reference.clone()));
    entries.push(Entry::value(m.holder_label, m.holder.clone()));
    entries.push(Entry::value("IBAN", m.iban.clone()));
    lotse_core::receipt::Section {
        title: m.title.to_string(),
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_masked_to_country_check_digits_and_the_last_four() {
        assert_eq!(masked("DE89370400440532013000"), "DE89 …3000");
    }
}
