use lotse_tests::*;
use serde_json::{Value, json};

const WF: &str = "bewohnerparkausweis";

fn antragsteller() -> Value {
    json!({
        "person": {"anrede": "Herr", "vorname": "Jan", "nachname": "Hermanns", "geburtsdatum": "1979-08-23"},
        "meldeadresse": {"strasse": "Hochstraße", "hausnummer": "112", "plz": "52525", "ort": "Heinsberg"},
        "kontakt": {"email": "jan.hermanns@example.org"},
        "zone": "A",
        "wohnt_in_zone": true
    })
}

fn fahrzeug(halter_art: &str) -> Value {
    json!({"kennzeichen": "HS-JH 112", "hersteller": "Volkswagen", "modell": "Golf", "fahrzeugart": "Pkw", "halter_art": halter_art})
}

fn own_private_car() -> Value {
    json!({"fahrzeug": fahrzeug("privat"), "auf_sie_zugelassen": "ja"})
}

/// Answers the last three steps: validity, payment by transfer, confirmation.
fn finish(c: &mut Citizen, jahre: i64, beginn: &str) {
    assert_eq!(
        c.answer_step(json!({"jahre": jahre, "beginn": beginn})),
        "zahlung"
    );
    assert_eq!(
        c.answer_step(json!({"zahlungsart": "ueberweisung"})),
        "review"
    );
}

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_own_private_car_skips_company_and_lease_steps_and_costs_30_70_euro_a_year() {
    let mut c = start_application(WF);
    assert_eq!(c.answer_step(antragsteller()), "fahrzeug");
    assert_eq!(c.answer_step(own_private_car()), "gueltigkeit");
    assert!(
        c.why().iter().any(|w| w.contains("fremdfahrzeug")),
        "the skipped lease step is explained: {:?}",
        c.why()
    );
    finish(&mut c, 1, "2026-12-01");
    let review = c.review();
    let fee = review
        .computed
        .iter()
        .find(|e| e.field == "gebuehr")
        .unwrap();
    assert_eq!(fee.value.flat(), "30,70 €");
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&["antragsteller", "fahrzeug", "gueltigkeit", "zahlung"])
    );
    assert_eq!(s.computed["gebuehr"], json!(30.7));
    assert_eq!(s.computed["gueltig_bis"], json!("2027-11-30"));
    assert!(!s.answers.contains_key("konto"));
}

#[test]
fn a_company_car_needs_the_employers_declaration() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    // The question who the keeper is only applies to private cars; an answer to it is dropped.
    assert_eq!(
        c.answer_step(json!({"fahrzeug": fahrzeug("firma"), "auf_sie_zugelassen": "nein"})),
        "firmenwagen"
    );
    assert!(!c.app.answers.contains_key("auf_sie_zugelassen"));
    assert!(
        c.why().iter().any(|w| w.contains("firmenwagen")),
        "{:?}",
        c.why()
    );

    let errors = c.answer_with_errors(
        json!({"arbeitgeber": "X", "erklaerung_datum": "2026-12-01", "ueberlassung": false}),
    );
    assert_eq!(
        message_at(&errors, "/arbeitgeber"),
        "Bitte geben Sie den vollständigen Namen Ihres Arbeitgebers an."
    );
    assert_eq!(
        message_at(&errors, "/erklaerung_datum"),
        "Das Datum bei „Datum der Überlassungserklärung“ muss in der Vergangenheit liegen."
    );
    assert_eq!(
        message_at(&errors, "/ueberlassung"),
        "Bitte bestätigen Sie: „Mein Arbeitgeber bestätigt schriftlich, dass mir das Fahrzeug zur ausschließlichen Nutzung überlassen ist, auch privat.“"
    );

    let errors = c.answer_with_errors(json!({"arbeitgeber": "Hermanns Haustechnik GmbH", "erklaerung_datum": "2026-05-27", "ueberlassung": true}));
    assert_eq!(
        message_at(&errors, "/erklaerung_datum"),
        "Die Überlassungserklärung darf nicht älter als sechs Monate sein. Bitte lassen Sie sie von Ihrem Arbeitgeber neu ausstellen."
    );

    // Exactly six months old is still fine; the lease step does not apply to a company car.
    assert_eq!(
        c.answer_step(json!({"arbeitgeber": "Hermanns Haustechnik GmbH", "erklaerung_datum": "2026-05-28", "ueberlassung": true})),
        "gueltigkeit"
    );
    assert!(
        c.why().iter().any(|w| w.contains("fremdfahrzeug")),
        "{:?}",
        c.why()
    );

    // Radio answers arrive from an HTML form as text: "2" is the number 2.
    assert_eq!(
        c.answer_step(json!({"jahre": "2", "beginn": "2027-01-01"})),
        "zahlung"
    );
    let errors = c.answer_with_errors(json!({"zahlungsart": "lastschrift"}));
    // An empty group names each field it needs.
    assert_eq!(
        message_at(&errors, "/konto/kontoinhaber"),
        "Bitte füllen Sie das Feld „Kontoinhaberin oder Kontoinhaber“ aus."
    );
    assert_eq!(
        message_at(&errors, "/konto/iban"),
        "Bitte füllen Sie das Feld „IBAN“ aus."
    );
    let errors = c.answer_with_errors(json!({"zahlungsart": "lastschrift", "konto": {"kontoinhaber": "Jan Hermanns", "iban": "DE89 3704 0044 0532 0130 01"}}));
    assert_eq!(
        message_at(&errors, "/konto/iban"),
        "Bitte prüfen Sie die IBAN: Sie ist unvollständig oder enthält einen Tippfehler."
    );
    assert_eq!(
        c.answer_step(json!({"zahlungsart": "lastschrift", "konto": {"kontoinhaber": "Jan Hermanns", "iban": "DE89 3704 0044 0532 0130 00"}})),
        "review"
    );
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "fahrzeug",
            "firmenwagen",
            "gueltigkeit",
            "zahlung"
        ])
    );
    assert_eq!(s.answers["arbeitgeber"], json!("Hermanns Haustechnik GmbH"));
    assert_eq!(s.answers["jahre"], json!(2));
    assert_eq!(s.computed["gebuehr"], json!(61.4));
    assert_eq!(s.computed["gueltig_bis"], json!("2028-12-31"));
}

#[test]
fn a_car_borrowed_from_a_relative_names_its_keeper() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    assert_eq!(
        c.answer_step(json!({"fahrzeug": fahrzeug("privat"), "auf_sie_zugelassen": "nein"})),
        "fremdfahrzeug"
    );
    let errors = c.answer_with_errors(json!({"verhaeltnis": "angehoerige"}));
    assert_eq!(
        message_at(&errors, "/halter_name"),
        "Bitte füllen Sie das Feld „Name der Halterin oder des Halters“ aus."
    );
    assert_eq!(
        errors.len(),
        1,
        "the lease end is hidden and not asked for: {errors:#?}"
    );
    assert_eq!(
        c.answer_step(json!({"verhaeltnis": "angehoerige", "halter_name": "Maria Hermanns", "leasing_bis": "2028-01-01"})),
        "gueltigkeit"
    );
    assert!(!c.app.answers.contains_key("leasing_bis"));
    finish(&mut c, 2, "2026-11-28");
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "fahrzeug",
            "fremdfahrzeug",
            "gueltigkeit",
            "zahlung"
        ])
    );
    assert_eq!(s.answers["halter_name"], json!("Maria Hermanns"));
    assert_eq!(s.computed["gebuehr"], json!(61.4));
}

#[test]
fn a_leased_car_gets_no_permit_beyond_the_end_of_the_lease() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    c.answer_step(json!({"fahrzeug": fahrzeug("privat"), "auf_sie_zugelassen": "nein"}));
    let errors =
        c.answer_with_errors(json!({"verhaeltnis": "leasing", "leasing_bis": "2026-10-31"}));
    assert_eq!(
        message_at(&errors, "/leasing_bis"),
        "Das Datum bei „Ende des Leasing- oder Mietvertrags“ muss in der Zukunft liegen."
    );
    let errors = c.answer_with_errors(json!({"verhaeltnis": "leasing"}));
    assert_eq!(
        message_at(&errors, "/leasing_bis"),
        "Bitte füllen Sie das Feld „Ende des Leasing- oder Mietvertrags“ aus."
    );
    assert_eq!(
        c.answer_step(json!({"verhaeltnis": "leasing", "leasing_bis": "2027-12-31"})),
        "gueltigkeit"
    );

    let errors = c.answer_with_errors(json!({"jahre": 2, "beginn": "2026-12-01"}));
    assert_eq!(
        message_at(&errors, "/beginn"),
        "Der Ausweis kann nicht länger gelten als Ihr Leasing- oder Mietvertrag. Bitte wählen Sie eine kürzere Gültigkeit."
    );
    // One year from 1 January 2027 ends on the last day of the lease.
    assert_eq!(
        c.answer_step(json!({"jahre": 1, "beginn": "2027-01-01"})),
        "zahlung"
    );
    c.answer_step(json!({"zahlungsart": "vorort"}));
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "fahrzeug",
            "fremdfahrzeug",
            "gueltigkeit",
            "zahlung"
        ])
    );
    assert_eq!(s.computed["gueltig_bis"], json!("2027-12-31"));
    assert_eq!(s.computed["gebuehr"], json!(30.7));
}

#[test]
fn the_permit_starts_today_at_the_earliest_and_three_months_ahead_at_the_latest() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    c.answer_step(own_private_car());
    let errors = c.answer_with_errors(json!({"jahre": 1, "beginn": "2026-11-27"}));
    assert_eq!(
        message_at(&errors, "/beginn"),
        "Der Ausweis kann nicht rückwirkend gelten. Bitte wählen Sie heute oder einen späteren Tag."
    );
    let errors = c.answer_with_errors(json!({"jahre": 1, "beginn": "2027-03-01"}));
    assert_eq!(
        message_at(&errors, "/beginn"),
        "Sie können den Ausweis höchstens drei Monate im Voraus beantragen."
    );
    let errors = c.answer_with_errors(json!({"jahre": 3, "beginn": "31.02.2027"}));
    assert_eq!(
        message_at(&errors, "/jahre"),
        "Bitte wählen Sie bei „Wie lange soll der Ausweis gelten?“ eine der angebotenen Möglichkeiten aus."
    );
    assert_eq!(
        message_at(&errors, "/beginn"),
        "Bitte geben Sie bei „Gültig ab“ ein gültiges Datum an, zum Beispiel 31.12.1980."
    );
    // German dates are understood; 28 February 2027 is exactly three months ahead.
    assert_eq!(
        c.answer_step(json!({"jahre": 1, "beginn": "28.02.2027"})),
        "zahlung"
    );
    assert_eq!(c.app.answers["beginn"], json!("2027-02-28"));
}

#[test]
fn only_residents_of_a_zone_in_heinsberg_can_apply() {
    let mut c = start_application(WF);
    let mut a = antragsteller();
    a["meldeadresse"]["plz"] = json!("41812");
    a["meldeadresse"]["ort"] = json!("Erkelenz");
    let errors = c.answer_with_errors(a);
    assert_eq!(
        message_at(&errors, "/meldeadresse"),
        "Bewohnerparkzonen gibt es nur in der Stadt Heinsberg (Postleitzahl 52525). Bitte prüfen Sie Ihre Meldeadresse."
    );

    let mut a = antragsteller();
    a["meldeadresse"]["plz"] = json!("5252");
    a["wohnt_in_zone"] = json!(false);
    a.as_object_mut().unwrap().remove("zone");
    let errors = c.answer_with_errors(a);
    assert_eq!(
        message_at(&errors, "/meldeadresse/plz"),
        "Bitte geben Sie die Postleitzahl mit 5 Ziffern an."
    );
    assert_eq!(
        message_at(&errors, "/zone"),
        "Bitte wählen Sie bei „Bewohnerparkzone“ eine Antwort aus."
    );
    assert_eq!(
        message_at(&errors, "/wohnt_in_zone"),
        "Einen Bewohnerparkausweis gibt es nur für Anschriften in der gewählten Zone. Bitte bestätigen Sie das."
    );
    assert_eq!(c.answer_step(antragsteller()), "fahrzeug");
}

#[test]
fn lorries_and_trailers_get_no_permit_and_the_number_plate_is_checked() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    let mut lkw = fahrzeug("privat");
    lkw["fahrzeugart"] = json!("Lkw");
    let errors = c.answer_with_errors(json!({"fahrzeug": lkw, "auf_sie_zugelassen": "ja"}));
    assert_eq!(
        message_at(&errors, "/fahrzeug"),
        "Bewohnerparkausweise gibt es nur für Pkw, Motorräder, Wohnmobile und sonstige Fahrzeuge bis 3,5 t, nicht für Lkw oder Anhänger."
    );

    let mut bad = fahrzeug("privat");
    bad["kennzeichen"] = json!("123-HS");
    let errors = c.answer_with_errors(json!({"fahrzeug": bad}));
    assert_eq!(
        message_at(&errors, "/fahrzeug/kennzeichen"),
        "Bitte geben Sie das Kennzeichen so an, wie es auf dem Fahrzeugschein steht, zum Beispiel HS-AB 123."
    );
    assert_eq!(
        message_at(&errors, "/auf_sie_zugelassen"),
        "Bitte wählen Sie bei „Ist das Fahrzeug auf Sie zugelassen (stehen Sie als Halterin oder Halter im Fahrzeugschein)?“ eine Antwort aus."
    );
}

#[test]
fn changing_a_company_car_to_an_own_car_drops_the_employers_declaration() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    c.answer_step(json!({"fahrzeug": fahrzeug("firma")}));
    c.answer_step(json!({"arbeitgeber": "Hermanns Haustechnik GmbH", "erklaerung_datum": "2026-11-02", "ueberlassung": true}));
    assert_eq!(c.at(), "gueltigkeit");
    assert_eq!(c.back(), "firmenwagen");
    assert_eq!(c.back(), "fahrzeug");
    assert_eq!(c.answer_step(own_private_car()), "gueltigkeit");
    assert!(!c.app.answers.contains_key("arbeitgeber"));
    assert!(!c.app.answers.contains_key("ueberlassung"));
    assert!(!c.app.route.contains(&"firmenwagen".to_string()));
    finish(&mut c, 1, "2026-11-28");
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&["antragsteller", "fahrzeug", "gueltigkeit", "zahlung"])
    );
}

#[test]
fn the_confirmation_must_be_given() {
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    c.answer_step(own_private_car());
    c.answer_step(json!({"jahre": 1, "beginn": "2026-12-01"}));
    assert_eq!(
        c.answer_step(json!({"zahlungsart": "ueberweisung"})),
        "review"
    );
    // On the review page: every statement of the declaration must be ticked.
    let refused = c.apply(lotse_core::Command::Submit {
        declared: vec!["rueckgabe".into()],
    });
    let lotse_core::Outcome::Rejected { errors, .. } = refused else {
        panic!("sent without the declaration: {refused:?}")
    };
    assert_eq!(
        message_at(&errors, "/declaration/richtig"),
        "Bitte bestätigen Sie: „Ich versichere, dass meine Angaben richtig und vollständig sind.“"
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn an_accepted_answer_returns_the_fee_it_computed_and_a_rejected_one_nothing() {
    use lotse_core::{Command, Outcome};
    let mut c = start_application(WF);
    c.answer_step(antragsteller());
    c.answer_step(own_private_car());
    let answer = |values: Value| Command::Answer {
        step: "gueltigkeit".into(),
        values: values.as_object().unwrap().clone(),
        then_review: false,
    };
    let t = c
        .app
        .apply(
            &c.wf,
            sandbox(),
            answer(json!({"jahre": 1, "beginn": "2026-12-01"})),
            c.now,
        )
        .unwrap();
    let computed = t
        .computed
        .expect("an accepted answer returns the computed values");
    assert_eq!(computed["gebuehr"], json!(30.7));
    assert_eq!(computed["gueltig_bis"], json!("2027-11-30"));
    let t = c
        .app
        .apply(&c.wf, sandbox(), answer(json!({"jahre": "x"})), c.now)
        .unwrap();
    assert!(
        matches!(t.outcome, Outcome::Rejected { .. }),
        "{:?}",
        t.outcome
    );
    assert!(t.computed.is_none());
}
