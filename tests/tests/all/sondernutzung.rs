use lotse_tests::*;
use serde_json::{Value, json};

const WF: &str = "sondernutzung-strasse";

fn privatperson() -> Value {
    json!({
        "antragsteller_art": "privat",
        "person": {"anrede": "Frau", "vorname": "Petra", "nachname": "Jansen", "geburtsdatum": "1968-02-14"},
        "anschrift": {"strasse": "Apfelstraße", "hausnummer": "7", "plz": "52525", "ort": "Heinsberg"},
        "kontakt": {"email": "petra.jansen@example.org", "telefon": "02452 987654"}
    })
}

fn firma() -> Value {
    let mut a = privatperson();
    a["antragsteller_art"] = json!("firma");
    a["firma"] = json!("Möbeltransporte Kreis Heinsberg GmbH");
    a
}

fn standort(lage: &str) -> Value {
    json!({"strasse": "Apfelstraße", "hausnummer": "7", "plz": "52525", "ort": "Heinsberg", "lage": lage})
}

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

fn finish(c: &mut Citizen) {
    assert_eq!(c.answer_step(json!({"zahlungsart": "rechnung"})), "review");
}

#[test]
fn a_skip_on_a_parking_lane_pays_per_square_metre_and_day_plus_the_no_stopping_order() {
    let mut c = start_application(WF);
    assert_eq!(c.answer_step(privatperson()), "nutzung");
    assert_eq!(
        c.answer_step(json!({"art": "container", "anlass": "Entrümpelung"})),
        "standort"
    );
    assert_eq!(c.answer_step(standort("parkstreifen")), "flaeche");
    assert!(
        c.why().iter().any(|w| w.contains("flaeche")),
        "{:?}",
        c.why()
    );
    // Length × width; the direct area is hidden and its answer dropped.
    assert_eq!(
        c.answer_step(
            json!({"flaeche_angabe": "masse", "laenge": "3", "breite": "2,5", "flaeche_qm": 99})
        ),
        "zeitraum"
    );
    assert!(!c.app.answers.contains_key("flaeche_qm"));
    assert_eq!(
        c.answer_step(json!({"von": "2026-12-07", "bis": "2026-12-11"})),
        "haltverbot"
    );
    assert!(
        c.why().iter().any(|w| w.contains("geruest")),
        "the scaffolding step is skipped: {:?}",
        c.why()
    );
    assert_eq!(
        c.answer_step(json!({"haltverbot_noetig": "ja", "haltverbot_meter": "12"})),
        "zahlung"
    );
    finish(&mut c);
    let review = c.review();
    let total = review
        .computed
        .iter()
        .find(|e| e.field == "gesamt")
        .unwrap();
    assert_eq!(total.value.flat(), "136,25 €");
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "flaeche",
            "zeitraum",
            "haltverbot",
            "zahlung"
        ])
    );
    // 3 m × 2,5 m = 7,5 m² × 5 days × 1,50 € = 56,25 €; 45 € + 35 € for the no-stopping zone.
    assert_eq!(s.computed["tage"], json!(5));
    assert_eq!(s.computed["flaeche_m2"], json!(7.5));
    assert_eq!(s.computed["sondernutzungsgebuehr"], json!(56.25));
    assert_eq!(s.computed["verwaltungsgebuehr"], json!(80));
    assert_eq!(s.computed["gesamt"], json!(136.25));
    assert!(!s.answers.contains_key("firma"));
}

#[test]
fn scaffolding_on_the_pavement_asks_for_the_scaffolder_and_needs_no_no_stopping_zone() {
    let mut c = start_application(WF);
    c.answer_step(privatperson());
    c.answer_step(json!({"art": "geruest", "anlass": "Fassadenanstrich"}));
    assert_eq!(c.answer_step(standort("gehweg")), "flaeche");
    assert_eq!(
        c.answer_step(json!({"flaeche_angabe": "direkt", "flaeche_qm": 20})),
        "zeitraum"
    );
    assert_eq!(
        c.answer_step(json!({"von": "2027-01-04", "bis": "2027-03-31"})),
        "geruest"
    );

    let errors = c.answer_with_errors(json!({
        "geruestbauer": "Gerüstbau Thelen", "geruestbauer_telefon": "Thelen anrufen",
        "schutztunnel": "nein", "absperrung": false
    }));
    assert_eq!(
        message_at(&errors, "/geruestbauer_telefon"),
        "Bitte geben Sie eine Telefonnummer an, zum Beispiel 02452 13-0."
    );
    assert_eq!(
        message_at(&errors, "/restbreite"),
        "Bitte füllen Sie das Feld „Verbleibende Gehwegbreite neben dem Gerüst in Metern“ aus."
    );
    assert_eq!(
        message_at(&errors, "/absperrung"),
        "Bitte bestätigen Sie: „Das Gerüst wird nach RSA 21 abgesperrt, nachts beleuchtet und der Fußgängerverkehr sicher vorbeigeführt.“"
    );

    let errors = c.answer_with_errors(json!({
        "geruestbauer": "Gerüstbau Thelen", "geruestbauer_telefon": "02452 55 66 77",
        "schutztunnel": "nein", "restbreite": "1,0", "absperrung": true
    }));
    assert_eq!(
        message_at(&errors, "/restbreite"),
        "Neben dem Gerüst müssen mindestens 1,30 m Gehweg frei bleiben. Sonst ist ein Schutztunnel für Fußgänger nötig."
    );
    assert_eq!(
        c.answer_step(json!({
            "geruestbauer": "Gerüstbau Thelen", "geruestbauer_telefon": "02452 55 66 77",
            "schutztunnel": "nein", "restbreite": "1,5", "absperrung": true
        })),
        "zahlung"
    );
    assert!(
        c.why().iter().any(|w| w.contains("haltverbot")),
        "{:?}",
        c.why()
    );
    assert_eq!(
        c.answer_step(json!({"zahlungsart": "lastschrift", "konto": {"kontoinhaber": "Petra Jansen", "iban": "DE89370400440532013000"}})),
        "review"
    );
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "flaeche",
            "zeitraum",
            "geruest",
            "zahlung"
        ])
    );
    // 20 m² × 87 days × 0,50 € = 870 €, plus 45 €.
    assert_eq!(s.computed["tage"], json!(87));
    assert_eq!(s.computed["sondernutzungsgebuehr"], json!(870));
    assert_eq!(s.computed["gesamt"], json!(915));
    assert_eq!(s.answers["restbreite"], json!(1.5));
}

#[test]
fn scaffolding_with_a_pedestrian_tunnel_does_not_ask_for_the_remaining_width() {
    let mut c = start_application(WF);
    c.answer_step(privatperson());
    c.answer_step(json!({"art": "geruest"}));
    c.answer_step(standort("fahrbahn"));
    c.answer_step(json!({"flaeche_angabe": "masse", "laenge": 12, "breite": 1.5}));
    c.answer_step(json!({"von": "2026-12-14", "bis": "2027-06-14"}));
    assert_eq!(
        c.answer_step(json!({"geruestbauer": "Gerüstbau Thelen", "geruestbauer_telefon": "+49 2452 556677", "schutztunnel": "ja", "restbreite": 0.5, "absperrung": true})),
        "haltverbot"
    );
    assert!(!c.app.answers.contains_key("restbreite"));
    assert_eq!(
        c.answer_step(json!({"haltverbot_noetig": "nein", "haltverbot_meter": 10})),
        "zahlung"
    );
    assert!(!c.app.answers.contains_key("haltverbot_meter"));
    finish(&mut c);
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "flaeche",
            "zeitraum",
            "geruest",
            "haltverbot",
            "zahlung"
        ])
    );
    // 12 m × 1,5 m = 18 m² × 183 days × 0,50 € = 1.647 €, plus 45 €.
    assert_eq!(s.computed["tage"], json!(183));
    assert_eq!(s.computed["sondernutzungsgebuehr"], json!(1647));
    assert_eq!(s.computed["gesamt"], json!(1692));
}

#[test]
fn a_company_moving_lift_skips_the_area_and_pays_a_flat_fee() {
    let mut c = start_application(WF);
    let mut a = firma();
    a.as_object_mut().unwrap().remove("firma");
    let errors = c.answer_with_errors(a);
    assert_eq!(
        message_at(&errors, "/firma"),
        "Bitte füllen Sie das Feld „Name der Firma“ aus."
    );
    assert_eq!(c.answer_step(firma()), "nutzung");
    assert_eq!(c.answer_step(json!({"art": "umzug"})), "standort");
    assert_eq!(c.answer_step(standort("fahrbahn")), "zeitraum");
    assert!(
        c.why()
            .iter()
            .any(|w| w.contains("standort") && w.contains("zeitraum")),
        "the branch past the area is explained: {:?}",
        c.why()
    );
    let errors = c.answer_with_errors(json!({"von": "2026-12-05", "bis": "2026-12-07"}));
    assert_eq!(
        message_at(&errors, "/bis"),
        "Ein Umzugslift darf höchstens zwei Tage stehen."
    );
    assert_eq!(
        c.answer_step(json!({"von": "2026-12-05", "bis": "2026-12-06"})),
        "haltverbot"
    );

    let errors = c.answer_with_errors(json!({"haltverbot_noetig": "ja", "haltverbot_meter": 3}));
    assert_eq!(
        message_at(&errors, "/haltverbot_meter"),
        "Eine Haltverbotszone ist mindestens 5 Meter lang."
    );
    let errors = c.answer_with_errors(json!({"haltverbot_noetig": "ja", "haltverbot_meter": 60}));
    assert_eq!(
        message_at(&errors, "/haltverbot_meter"),
        "Für mehr als 50 Meter rufen Sie uns bitte an: 02452 14-0."
    );
    let errors =
        c.answer_with_errors(json!({"haltverbot_noetig": "ja", "haltverbot_meter": "12,5"}));
    assert_eq!(
        message_at(&errors, "/haltverbot_meter"),
        "Bitte geben Sie bei „Länge der Haltverbotszone in Metern“ eine ganze Zahl an."
    );
    assert_eq!(
        c.answer_step(json!({"haltverbot_noetig": "ja", "haltverbot_meter": 15})),
        "zahlung"
    );
    finish(&mut c);
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "zeitraum",
            "haltverbot",
            "zahlung"
        ])
    );
    assert_eq!(
        s.answers["firma"],
        json!("Möbeltransporte Kreis Heinsberg GmbH")
    );
    assert_eq!(s.computed["tage"], json!(2));
    assert_eq!(s.computed["flaeche_m2"], json!(0));
    assert_eq!(s.computed["sondernutzungsgebuehr"], json!(25));
    assert_eq!(s.computed["gesamt"], json!(105));
}

#[test]
fn the_period_must_start_a_week_ahead_end_after_it_begins_and_last_at_most_six_months() {
    let mut c = start_application(WF);
    c.answer_step(privatperson());
    c.answer_step(json!({"art": "container"}));
    c.answer_step(standort("gehweg"));
    c.answer_step(json!({"flaeche_angabe": "direkt", "flaeche_qm": 6}));

    let errors = c.answer_with_errors(json!({"von": "2026-11-20", "bis": "2026-11-28"}));
    assert_eq!(
        message_at(&errors, "/von"),
        "Das Datum bei „Erster Tag“ muss in der Zukunft liegen."
    );
    assert_eq!(
        message_at(&errors, "/bis"),
        "Das Datum bei „Letzter Tag“ muss in der Zukunft liegen."
    );
    let errors = c.answer_with_errors(json!({"von": "2026-12-04", "bis": "2026-12-10"}));
    assert_eq!(
        message_at(&errors, "/von"),
        "Bitte stellen Sie den Antrag mindestens eine Woche vor dem ersten Tag."
    );
    let errors = c.answer_with_errors(json!({"von": "2026-12-10", "bis": "2026-12-09"}));
    assert_eq!(
        message_at(&errors, "/bis"),
        "Das Enddatum darf nicht vor dem Beginn liegen."
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let errors = c.answer_with_errors(json!({"von": "2026-12-10", "bis": "2027-06-11"}));
    assert_eq!(
        message_at(&errors, "/bis"),
        "Eine Sondernutzung kann höchstens für sechs Monate erlaubt werden. Für einen längeren Zeitraum stellen Sie bitte danach einen neuen Antrag."
    );
    // An impossible date is a field error, not a failure of the fee calculation.
    let errors = c.answer_with_errors(json!({"von": "31.02.2027", "bis": "2027-03-05"}));
    assert_eq!(
        message_at(&errors, "/von"),
        "Bitte geben Sie bei „Erster Tag“ ein gültiges Datum an, zum Beispiel 31.12.1980."
    );
    // The first day a week ahead and a single day are fine: 6 m² × 1 day × 1,50 € = 9 €.
    assert_eq!(
        c.answer_step(json!({"von": "05.12.2026", "bis": "05.12.2026"})),
        "zahlung"
    );
    finish(&mut c);
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "flaeche",
            "zeitraum",
            "zahlung"
        ])
    );
    assert_eq!(s.computed["tage"], json!(1));
    assert_eq!(s.computed["sondernutzungsgebuehr"], json!(9));
    assert_eq!(s.computed["gesamt"], json!(54));
}

#[test]
fn errors_on_the_first_steps_are_german_and_all_at_once() {
    let mut c = start_application(WF);
    let mut a = privatperson();
    a["person"]["geburtsdatum"] = json!("2010-06-01");
    a["kontakt"]["email"] = json!("petra.jansen");
    let errors = c.answer_with_errors(a);
    assert_eq!(
        message_at(&errors, "/kontakt/email"),
        "Bitte geben Sie eine E-Mail-Adresse an, zum Beispiel name@beispiel.de."
    );
    assert_eq!(
        message_at(&errors, "/person"),
        "Die Antragstellerin oder der Antragsteller muss mindestens 18 Jahre alt sein."
    );
    c.answer_step(privatperson());

    let errors = c.answer_with_errors(json!({"anlass": "Umzug"}));
    assert_eq!(
        message_at(&errors, "/art"),
        "Bitte wählen Sie bei „Art der Nutzung“ eine Antwort aus."
    );
    c.answer_step(json!({"art": "container"}));

    let errors = c.answer_with_errors(json!({"strasse": "Markt", "hausnummer": "12345678901", "plz": "41812", "ort": "Aachen", "lage": "gehweg"}));
    assert_eq!(
        message_at(&errors, "/hausnummer"),
        "„Hausnummer“ darf höchstens 10 Zeichen lang sein."
    );
    assert_eq!(
        message_at(&errors, "/ort"),
        "Bitte wählen Sie bei „Ort oder Ortsteil“ eine der angebotenen Möglichkeiten aus."
    );
    assert_eq!(
        message_at(&errors, "/plz"),
        "Wir können nur Flächen in der Stadt Heinsberg (Postleitzahl 52525) erlauben. Für andere Orte ist die jeweilige Gemeinde zuständig."
    );
    c.answer_step(json!({"strasse": "Markt", "hausnummer": "12", "plz": "52525", "ort": "Dremmen", "lage": "gehweg"}));

    let errors =
        c.answer_with_errors(json!({"flaeche_angabe": "masse", "laenge": "drei", "breite": 2}));
    assert_eq!(
        message_at(&errors, "/laenge"),
        "Bitte geben Sie bei „Länge in Metern“ eine Zahl an."
    );
    let errors = c.answer_with_errors(json!({"flaeche_angabe": "direkt", "flaeche_qm": "0,5"}));
    assert_eq!(
        message_at(&errors, "/flaeche_qm"),
        "Bitte geben Sie bei „Fläche in Quadratmetern“ eine Zahl ab 1 an."
    );
    c.answer_step(json!({"flaeche_angabe": "direkt", "flaeche_qm": 8}));
    c.answer_step(json!({"von": "2026-12-07", "bis": "2026-12-08"}));

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
    c.answer_step(json!({"zahlungsart": "rechnung"}));
    let refused = c.apply(lotse_core::Command::Submit {
        declared: vec!["richtig".into()],
    });
    let lotse_core::Outcome::Rejected { errors, .. } = refused else {
        panic!("sent without the declaration: {refused:?}")
    };
    assert_eq!(
        message_at(&errors, "/declaration/verkehrssicherung"),
        "Bitte bestätigen Sie: „Ich bin für die Verkehrssicherung verantwortlich und hafte für Schäden an der Straße und gegenüber Dritten.“"
    );
}

#[test]
fn changing_scaffolding_to_a_moving_lift_drops_the_area_and_scaffolding_steps() {
    let mut c = start_application(WF);
    c.answer_step(privatperson());
    c.answer_step(json!({"art": "geruest"}));
    c.answer_step(standort("gehweg"));
    c.answer_step(json!({"flaeche_angabe": "direkt", "flaeche_qm": 10}));
    c.answer_step(json!({"von": "2026-12-10", "bis": "2026-12-11"}));
    c.answer_step(json!({"geruestbauer": "Gerüstbau Thelen", "geruestbauer_telefon": "02452 55 66 77", "schutztunnel": "ja", "absperrung": true}));
    assert_eq!(c.at(), "zahlung");
    for expected in ["geruest", "zeitraum", "flaeche", "standort", "nutzung"] {
        assert_eq!(c.back(), expected);
    }
    assert_eq!(c.answer_step(json!({"art": "umzug"})), "standort");
    assert!(!c.app.answers.contains_key("geruestbauer"));
    assert!(!c.app.answers.contains_key("flaeche_qm"));
    assert!(!c.app.route.contains(&"flaeche".to_string()));
    assert!(!c.app.route.contains(&"geruest".to_string()));
    assert_eq!(c.answer_step(standort("parkstreifen")), "zeitraum");
    assert_eq!(
        c.answer_step(json!({"von": "2026-12-10", "bis": "2026-12-11"})),
        "haltverbot"
    );
    c.answer_step(json!({"haltverbot_noetig": "nein"}));
    finish(&mut c);
    let s = c.submit();
    assert_eq!(
        s.path,
        path(&[
            "antragsteller",
            "nutzung",
            "standort",
            "zeitraum",
            "haltverbot",
            "zahlung"
        ])
    );
    assert_eq!(s.computed["gesamt"], json!(70));
}

#[test]
fn answering_a_step_again_replaces_its_answers_and_drops_the_ones_left_out() {
    let mut c = start_application(WF);
    c.answer_step(privatperson());
    c.answer_step(json!({"art": "container", "anlass": "Entrümpelung"}));
    assert_eq!(c.back(), "nutzung");
    // The optional occasion is left out this time, the kind of use changes.
    assert_eq!(c.answer_step(json!({"art": "umzug"})), "standort");
    assert_eq!(c.app.answers.get("art"), Some(&json!("umzug")));
    assert_eq!(c.app.answers.get("anlass"), None);
    assert_eq!(
        c.app.answers.get("person").and_then(|p| p.get("vorname")),
        Some(&json!("Petra")),
        "the answers of other steps stay"
    );
}

/// Issue 15, item 9: control characters, text-direction overrides and line breaks in one-line
/// fields are refused with a message at the field (German and English); a textarea keeps its
/// line breaks but refuses the rest; text is kept in Unicode NFC.
#[test]
fn control_characters_are_refused_and_text_is_kept_in_nfc() {
    let mut c = start_application(WF);
    for (vorname, nachname) in [
        ("Pe\u{0}tra", "Jansen"),
        ("Petra", "Jan\u{202E}nes"),
        ("Petra\nJansen", "Jansen"),
        ("Petra", "Jansen\u{1b}[31m"),
    ] {
        let mut a = privatperson();
        a["person"]["vorname"] = json!(vorname);
        a["person"]["nachname"] = json!(nachname);
        let errors = c.answer_with_errors(a);
        let at = if vorname == "Petra" {
            "/person/nachname"
        } else {
            "/person/vorname"
        };
        let m = message_at(&errors, at);
        assert!(
            m.contains("nicht erlaubt") && m.contains("in einer Zeile"),
            "{vorname:?} {nachname:?}: {m}"
        );
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].kind, "characters");
    }
    // NFC: a decomposed ä is stored composed.
    let mut a = privatperson();
    a["person"]["nachname"] = json!("Ja\u{308}nsen");
    assert_eq!(c.answer_step(a), "nutzung");
    assert_eq!(c.app.answers["person"]["nachname"], json!("Jänsen"));

    // A textarea keeps line breaks (a browser's CR LF as one LF, as a limit on its length
    // counts it), but not a NUL or a right-to-left override.
    let errors =
        c.answer_with_errors(json!({"art": "container", "anlass": "Dach\u{202E}sanierung"}));
    let m = message_at(&errors, "/anlass");
    assert!(m.contains("Steuer- oder Richtungszeichen"), "{m}");
    assert!(!m.contains("in einer Zeile"), "{m}");
    assert_eq!(
        c.answer_step(json!({"art": "container", "anlass": "Dachsanierung\r\nzweite Zeile"})),
        "standort"
    );
    assert_eq!(
        c.app.answers["anlass"],
        json!("Dachsanierung\nzweite Zeile")
    );
}

/// Issue 15, item 10: a date field accepts 1900-01-01 to 2100-12-31 unless its schema says
/// otherwise (`formatMinimum` / `formatMaximum`); year 0 never reaches a receipt.
#[test]
fn dates_outside_sensible_bounds_are_refused_with_a_clear_message() {
    let mut c = start_application(WF);
    for (typed, expected) in [
        (
            "0000-01-01",
            "Bitte geben Sie bei „Geburtsdatum“ ein Datum ab dem 01.01.1900 an.",
        ),
        (
            "1899-12-31",
            "Bitte geben Sie bei „Geburtsdatum“ ein Datum ab dem 01.01.1900 an.",
        ),
        (
            "01.01.0001",
            "Bitte geben Sie bei „Geburtsdatum“ ein gültiges Datum an, zum Beispiel 31.12.1980.",
        ),
    ] {
        let mut a = privatperson();
        a["person"]["geburtsdatum"] = json!(typed);
        let errors = c.answer_with_errors(a);
        assert_eq!(
            message_at(&errors, "/person/geburtsdatum"),
            expected,
            "{typed}"
        );
    }
    let mut a = privatperson();
    a["person"]["geburtsdatum"] = json!("1900-01-01");
    assert_eq!(c.answer_step(a), "nutzung");
}
