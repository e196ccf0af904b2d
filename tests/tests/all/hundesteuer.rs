use lotse_core::{Command, Outcome};
use lotse_tests::*;
use serde_json::json;

const WF: &str = "hundesteuer-anmeldung";

fn halter() -> serde_json::Value {
    json!({
        "halter": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz", "geburtsdatum": "1985-04-12"},
        "anschrift": {"strasse": "Valkenburger Straße", "hausnummer": "45", "plz": "52525", "ort": "Heinsberg"},
        "kontakt": {"email": "anna.schmitz@example.org"}
    })
}

fn one_dog(kategorie: &str) -> serde_json::Value {
    json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": kategorie}]})
}

#[test]
fn an_ordinary_dog_skips_the_dangerous_dog_step_and_costs_96_euro() {
    let mut c = start_application(WF);
    assert_eq!(c.answer_step(halter()), "hunde");
    assert_eq!(c.answer_step(one_dog("normal")), "beginn");
    assert!(
        c.why().iter().any(|w| w.contains("beginn")),
        "{:?}",
        c.why()
    );
    assert_eq!(
        c.answer_step(json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"})),
        "ermaessigung"
    );
    assert_eq!(c.answer_step(json!({"ermaessigung": "nein"})), "zahlung");
    // The declaration is ticked on the review page, not on a step of its own.
    assert_eq!(c.answer_step(json!({"lastschrift": "nein"})), "review");
    let review = c.review();
    let fee = review
        .computed
        .iter()
        .find(|e| e.field == "jahressteuer")
        .unwrap();
    assert_eq!(fee.value.flat(), "96,00 €");
    let s = c.submit();
    assert_eq!(
        s.path,
        ["halter", "hunde", "beginn", "ermaessigung", "zahlung"]
    );
    assert_eq!(s.declared, ["richtig"]);
    assert_eq!(s.computed["jahressteuer"], json!(96));
    assert!(!s.answers.contains_key("vorgemeinde"));
}

#[test]
fn a_dangerous_dog_asks_for_the_permit_and_costs_600_euro() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    assert_eq!(c.answer_step(one_dog("gefaehrlich")), "gefaehrlich");
    let errors = c.answer_with_errors(json!({"erlaubnis": "ja", "versicherung": "x"}));
    assert_eq!(
        message_at(&errors, "/erlaubnis_aktenzeichen"),
        "Bitte füllen Sie das Feld „Aktenzeichen der Erlaubnis“ aus."
    );
    assert_eq!(
        message_at(&errors, "/versicherung"),
        "Bitte geben Sie den Namen der Versicherung und die Versicherungsnummer an."
    );
    assert_eq!(
        c.answer_step(json!({"erlaubnis": "ja", "erlaubnis_aktenzeichen": "32-HS-2026-17", "versicherung": "Rheinland Versicherung 123456"})),
        "beginn"
    );
    c.answer_step(json!({"haltungsbeginn": "2026-10-15", "zuzug": "ja", "vorgemeinde": "Aachen"}));
    c.answer_step(json!({"ermaessigung": "nein"}));
    c.answer_step(json!({"lastschrift": "ja", "konto": {"kontoinhaber": "Anna Schmitz", "iban": "DE89 3704 0044 0532 0130 00"}}));
    let s = c.submit();
    assert_eq!(s.computed["jahressteuer"], json!(600));
    assert_eq!(s.answers["vorgemeinde"], json!("Aachen"));
    assert!(s.path.contains(&"gefaehrlich".to_string()));
}

#[test]
fn several_dogs_pay_the_graduated_rate_and_reductions_halve_it() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(json!({"hunde": [
        {"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"},
        {"name": "Luna", "rasse": "Mischling", "geburtsdatum": "2023-07-10", "kategorie": "normal"},
        {"name": "Rex", "rasse": "Pudel", "geburtsdatum": "2024-01-05", "kategorie": "normal"}
    ]}));
    c.answer_step(json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}));
    let errors = c.answer_with_errors(json!({"ermaessigung": "ja"}));
    assert_eq!(errors[0].pointer, "/ermaessigung_grund");
    c.answer_step(json!({"ermaessigung": "ja", "ermaessigung_grund": "tierheim"}));
    c.answer_step(json!({"lastschrift": "nein"}));
    let s = c.submit();
    // 96 + 2 × 120 = 336, halved.
    assert_eq!(s.computed["jahressteuer"], json!(168));
    assert_eq!(s.computed["anzahl_hunde"], json!(3));
}

#[test]
fn an_assistance_dog_is_free() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(one_dog("normal"));
    c.answer_step(json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}));
    c.answer_step(json!({"ermaessigung": "ja", "ermaessigung_grund": "assistenzhund"}));
    c.answer_step(json!({"lastschrift": "nein"}));
    assert_eq!(c.submit().computed["jahressteuer"], json!(0));
}

#[test]
fn errors_are_german_friendly_and_all_at_once() {
    let mut c = start_application(WF);
    let errors = c.answer_with_errors(json!({
        "halter": {"anrede": "Frau", "vorname": "", "nachname": "Schmitz", "geburtsdatum": "2030-01-01"},
        "anschrift": {"strasse": "Markt", "hausnummer": "1", "plz": "5252", "ort": "Heinsberg"},
        "kontakt": {"email": "keine-mail"}
    }));
    assert_eq!(
        message_at(&errors, "/halter/vorname"),
        "Bitte füllen Sie das Feld „Vorname“ aus."
    );
    assert_eq!(
        message_at(&errors, "/anschrift/plz"),
        "Bitte geben Sie die Postleitzahl mit 5 Ziffern an."
    );
    assert!(message_at(&errors, "/kontakt/email").contains("E-Mail-Adresse"));
    assert!(message_at(&errors, "/halter/geburtsdatum").contains("Vergangenheit"));
}

#[test]
fn a_minor_cannot_register_a_dog() {
    let mut c = start_application(WF);
    let mut h = halter();
    h["halter"]["geburtsdatum"] = json!("2010-05-01");
    let errors = c.answer_with_errors(h);
    assert_eq!(
        message_at(&errors, "/halter"),
        "Die Halterin oder der Halter muss mindestens 18 Jahre alt sein."
    );
}

#[test]
fn changing_an_earlier_answer_drops_answers_of_steps_that_no_longer_apply() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(one_dog("gefaehrlich"));
    c.answer_step(json!({"erlaubnis": "nein", "versicherung": "Rheinland Versicherung 123456"}));
    assert_eq!(c.at(), "beginn");
    assert_eq!(c.back(), "gefaehrlich");
    assert_eq!(c.back(), "hunde");
    assert_eq!(c.answer_step(one_dog("normal")), "beginn");
    assert!(!c.app.answers.contains_key("versicherung"));
    assert!(!c.app.route.contains(&"gefaehrlich".to_string()));
    assert!(
        c.why()
            .iter()
            .any(|w| w.contains("übersprungen") || w.contains("beginn")),
        "{:?}",
        c.why()
    );
}

#[test]
fn hidden_fields_are_dropped_and_explained() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(one_dog("normal"));
    c.answer_step(
        json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein", "vorgemeinde": "Aachen"}),
    );
    assert!(!c.app.answers.contains_key("vorgemeinde"));
    assert!(
        c.why()
            .iter()
            .any(|w| w.contains("vorgemeinde") && w.contains("zuzug")),
        "{:?}",
        c.why()
    );
}

#[test]
fn progress_counts_the_steps_that_will_follow() {
    let mut c = start_application(WF);
    assert_eq!(c.app.progress(), (1, 5));
    c.answer_step(halter());
    c.answer_step(one_dog("gefaehrlich"));
    // The dangerous-dog step joins the route: step 3 of 6.
    assert_eq!(c.app.progress(), (3, 6));
}

#[test]
fn a_rejected_step_keeps_what_was_typed_until_it_is_accepted() {
    let mut c = start_application(WF);
    let mut typed = halter();
    typed["halter"]["geburtsdatum"] = json!("2020-01-01");
    let errors = c.answer_with_errors(typed.clone());
    assert!(!errors.is_empty());
    // The state keeps the typed answers of the step, and shows them again with the same errors.
    assert_eq!(
        c.app
            .pending
            .get("halter")
            .map(|m| serde_json::Value::Object(m.clone())),
        Some(typed.clone())
    );
    let pending = c
        .app
        .pending_attempt(&c.wf, sandbox(), c.now)
        .unwrap()
        .expect("the step has pending answers");
    assert_eq!(serde_json::Value::Object(pending.values), typed);
    assert_eq!(pending.errors, errors);
    // Going back and forth keeps them; accepting the step clears them.
    assert_eq!(c.answer_step(halter()), "hunde");
    assert!(c.app.pending.is_empty());
    assert_eq!(
        c.app.pending_attempt(&c.wf, sandbox(), c.now).unwrap(),
        None
    );
}

#[test]
fn what_was_typed_never_reaches_the_submission() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(one_dog("normal"));
    c.answer_step(json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}));
    c.answer_step(json!({"ermaessigung": "nein"}));
    // A wrong attempt on the last step, then the right one.
    assert!(!c.answer_with_errors(json!({})).is_empty());
    assert!(c.app.pending.contains_key("zahlung"));
    c.answer_step(json!({"lastschrift": "nein"}));
    let s = c.submit();
    let data = serde_json::to_value(&s).unwrap();
    assert!(data.get("pending").is_none(), "{data}");
}

#[test]
fn the_declaration_must_be_ticked_on_the_review_page_to_send() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    c.answer_step(one_dog("normal"));
    c.answer_step(json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}));
    c.answer_step(json!({"ermaessigung": "nein"}));
    assert_eq!(c.answer_step(json!({"lastschrift": "nein"})), "review");
    // Not ticked (or only a statement the workflow does not have): refused at the statement,
    // still on the review page, and the draft remembers it for the page.
    let refused = c.apply(Command::Submit {
        declared: vec!["gibt_es_nicht".into()],
    });
    let Outcome::Rejected { step, errors } = refused else {
        panic!("submitted without the declaration: {refused:?}")
    };
    assert_eq!(step, "review");
    assert_eq!(
        message_at(&errors, "/declaration/richtig"),
        "Bitte bestätigen Sie: „Ich versichere, dass meine Angaben richtig und vollständig sind.“"
    );
    assert_eq!(c.at(), "review");
    let again = c.app.declaration_attempt(&c.wf).unwrap();
    assert_eq!(again.errors, errors);
    // Ticked: sent, with the statement recorded.
    let Outcome::Submitted { submission } = c.apply(Command::Submit {
        declared: vec!["richtig".into()],
    }) else {
        panic!("not submitted")
    };
    assert_eq!(submission.declared, ["richtig"]);
}

#[test]
fn entries_added_or_removed_are_kept_unchecked_until_the_step_is_sent() {
    let mut c = start_application(WF);
    c.answer_step(halter());
    // A second, empty dog: kept as typed, nothing checked, nothing answered.
    let typed = json!({"hunde": [{"name": "Bello"}, {}]});
    let outcome = c.apply(Command::Keep {
        step: "hunde".into(),
        values: typed.as_object().unwrap().clone(),
        removed: Some(json!({"field": "hunde", "index": 2, "item": {"name": "Rex"}})),
    });
    assert!(matches!(outcome, Outcome::Moved { .. }), "{outcome:?}");
    assert_eq!(c.at(), "hunde");
    assert!(!c.app.answers.contains_key("hunde"));
    assert!(c.app.pending.is_empty());
    let kept = c.app.typed_on("hunde").unwrap();
    assert_eq!(kept.values["hunde"], typed["hunde"]);
    assert_eq!(kept.removed.as_ref().unwrap()["item"]["name"], "Rex");
    assert!(c.app.typed_on("halter").is_none());
    // A step the citizen has not reached cannot be kept.
    let t = c.app.apply(
        &c.wf,
        sandbox(),
        Command::Keep {
            step: "zahlung".into(),
            values: Default::default(),
            removed: None,
        },
        c.now,
    );
    assert!(t.is_err());
    // Going back and forth keeps it; sending the step ends it.
    c.apply(Command::Back);
    c.answer_step(halter());
    assert!(c.app.typed_on("hunde").is_some());
    c.answer_step(one_dog("normal"));
    assert!(c.app.typed.is_none());
}
