//! The reusable form blocks in `forms/` are valid JSON Schema 2020-12 and their `$ref`s resolve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use jsonschema::{Registry, Validator};
use lotse_core::form::formats::FORMATS;
use serde_json::{Value, json};

/// Base under which the tests register the forms; the files themselves only carry relative ids.
const BASE: &str = "https://lotse.invalid/forms/";

fn forms_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../forms")
}

/// Every `forms/*.json` as (file name, parsed JSON).
fn load_forms() -> Vec<(String, Value)> {
    let mut forms: Vec<(String, Value)> = std::fs::read_dir(forms_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
            (name, value)
        })
        .collect();
    forms.sort_by(|a, b| a.0.cmp(&b.0));
    forms
}

fn validator_for(forms: &[(String, Value)], file: &str) -> Validator {
    let registry = Registry::new()
        .extend(
            forms
                .iter()
                .map(|(name, value)| (format!("{BASE}{name}"), value)),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let mut options = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false);
    for (name, check) in FORMATS {
        options = options.with_format(*name, *check);
    }
    options
        .build(&json!({ "$ref": format!("{BASE}{file}") }))
        .unwrap_or_else(|e| panic!("{file}: cannot build validator: {e}"))
}

#[test]
fn all_expected_blocks_exist() {
    let names: Vec<String> = load_forms().into_iter().map(|(name, _)| name).collect();
    for expected in [
        "address.json",
        "bank-account.json",
        "contact.json",
        "formats.json",
        "person.json",
        "vehicle.json",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
}

#[test]
fn every_form_is_a_valid_2020_12_schema_with_relative_id() {
    for (name, schema) in load_forms() {
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}: $schema"
        );
        assert_eq!(
            schema["$id"],
            name.as_str(),
            "{name}: $id must be the file name"
        );
        if let Err(error) = jsonschema::meta::validate(&schema) {
            panic!("{name} is not a valid schema: {error}");
        }
    }
}

#[test]
fn meta_validation_is_not_vacuous() {
    let broken = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "broken.json",
        "type": "object",
        "properties": {"x": {"type": "text", "minLength": -1}}
    });
    assert!(jsonschema::meta::validate(&broken).is_err());
}

/// Every German text a citizen reads in the form blocks has its English beside it
/// (`x-title-en`, `x-description-en`, `x-enum-titles-en` for a list of choices), so that the
/// English pages are English.
#[test]
fn every_text_of_the_form_blocks_has_its_english_beside_it() {
    fn walk(name: &str, at: &str, value: &Value, missing: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for key in ["title", "description"] {
                    if map.contains_key(key) && !map.contains_key(&format!("x-{key}-en")) {
                        missing.push(format!("{name}{at}: {key}"));
                    }
                }
                if map.contains_key("enum") && !map.contains_key("x-enum-titles-en") {
                    missing.push(format!("{name}{at}: enum"));
                }
                for (k, v) in map {
                    walk(name, &format!("{at}/{k}"), v, missing);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(name, &format!("{at}/{i}"), v, missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (name, schema) in load_forms() {
        walk(&name, "", &schema, &mut missing);
    }
    assert!(missing.is_empty(), "without English: {missing:#?}");
}

#[test]
fn every_property_has_a_title_or_a_ref() {
    for (name, schema) in load_forms() {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (key, property) in properties {
            assert!(
                property.get("title").is_some() || property.get("$ref").is_some(),
                "{name}: property {key} has neither title nor $ref"
            );
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required {
                let key = key.as_str().unwrap();
                assert!(
                    properties.contains_key(key),
                    "{name}: required {key} unknown"
                );
            }
        }
    }
}

#[test]
fn every_format_used_is_known() {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(format)) = map.get("format") {
                    found.push(format.clone());
                }
                map.values().for_each(|v| walk(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    for (name, schema) in load_forms() {
        let mut found = Vec::new();
        walk(&schema, &mut found);
        for format in found {
            assert!(
                FORMATS.iter().any(|(known, _)| *known == format),
                "{name}: unknown format {format}"
            );
        }
    }
}

#[test]
fn refs_between_files_resolve_for_every_form() {
    let forms = load_forms();
    for (name, _) in &forms {
        validator_for(&forms, name);
    }
}

#[test]
fn person_block_validates_through_refs() {
    let forms = load_forms();
    let person = validator_for(&forms, "person.json");
    let ok = json!({
        "anrede": "Frau",
        "vorname": "Erika",
        "nachname": "Mustermann",
        "geburtsname": "Gabler",
        "geburtsdatum": "1964-08-12"
    });
    assert!(person.is_valid(&ok));
    let mut bad_date = ok.clone();
    bad_date["geburtsdatum"] = json!("1964-02-30");
    assert!(!person.is_valid(&bad_date));
    let mut empty_name = ok.clone();
    empty_name["vorname"] = json!("");
    assert!(!person.is_valid(&empty_name));
    let mut missing = ok;
    missing.as_object_mut().unwrap().remove("nachname");
    assert!(!person.is_valid(&missing));
}

#[test]
fn address_contact_bank_vehicle_check_their_formats() {
    let forms = load_forms();

    let address = validator_for(&forms, "address.json");
    let ok =
        json!({"strasse": "Marktplatz", "hausnummer": "1", "plz": "06108", "ort": "Halle (Saale)"});
    assert!(address.is_valid(&ok));
    let mut bad = ok;
    bad["plz"] = json!("00123");
    assert!(!address.is_valid(&bad));

    let contact = validator_for(&forms, "contact.json");
    assert!(contact.is_valid(&json!({"email": "erika@example.de"})));
    assert!(contact.is_valid(&json!({"email": "erika@example.de", "telefon": "0345 1234567"})));
    assert!(!contact.is_valid(&json!({"email": "erika(at)example.de"})));
    assert!(!contact.is_valid(&json!({"email": "erika@example.de", "telefon": "12"})));

    let bank = validator_for(&forms, "bank-account.json");
    let ok = json!({"kontoinhaber": "Erika Mustermann", "iban": "DE89 3704 0044 0532 0130 00"});
    assert!(bank.is_valid(&ok));
    let mut with_bic = ok.clone();
    with_bic["bic"] = json!("COBADEFFXXX");
    assert!(bank.is_valid(&with_bic));
    with_bic["bic"] = json!("COBA");
    assert!(!bank.is_valid(&with_bic));
    let mut bad = ok;
    bad["iban"] = json!("DE89 3704 0044 0532 0130 01");
    assert!(!bank.is_valid(&bad));

    let vehicle = validator_for(&forms, "vehicle.json");
    let ok = json!({
        "kennzeichen": "HAL-AB 12E",
        "hersteller": "Volkswagen",
        "fahrzeugart": "Pkw",
        "halter_art": "privat"
    });
    assert!(vehicle.is_valid(&ok));
    let mut bad = ok.clone();
    bad["kennzeichen"] = json!("HAL-ABC 12345");
    assert!(!vehicle.is_valid(&bad));
    let mut bad = ok;
    bad["halter_art"] = json!("verein");
    assert!(!vehicle.is_valid(&bad));
}

#[test]
fn formats_defs_check_their_format() {
    let forms = load_forms();
    let registry = Registry::new()
        .extend(
            forms
                .iter()
                .map(|(name, value)| (format!("{BASE}{name}"), value)),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let mut options = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true);
    for (name, check) in FORMATS {
        options = options.with_format(*name, *check);
    }
    for (def, good, bad) in [
        ("plz", "06108", "6108"),
        ("iban", "DE89370400440532013000", "DE89370400440532013001"),
        ("steuer_id", "86 095 742 719", "86095742718"),
        ("kfz_kennzeichen", "MÖN-X 1H", "MÖN-X 01"),
        ("telefon", "+49 345 1234567", "0345-abc"),
        ("email", "a@b.de", "a@b"),
        ("datum", "2024-02-29", "2023-02-29"),
        ("datum_vergangen", "1990-01-01", "1990-1-1"),
        ("datum_zukunft", "2099-12-31", "31.12.2099"),
    ] {
        let validator = options
            .build(&json!({ "$ref": format!("{BASE}formats.json#/$defs/{def}") }))
            .unwrap();
        assert!(validator.is_valid(&json!(good)), "{def}: {good}");
        assert!(!validator.is_valid(&json!(bad)), "{def}: {bad}");
    }
}

#[test]
fn a_dangling_ref_is_reported() {
    let mut forms = load_forms();
    forms.push((
        "dangling.json".to_owned(),
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "dangling.json",
            "properties": {"x": {"$ref": "formats.json#/$defs/gibt_es_nicht"}}
        }),
    ));
    let registry = Registry::new()
        .extend(
            forms
                .iter()
                .map(|(name, value)| (format!("{BASE}{name}"), value)),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let built = jsonschema::options()
        .with_registry(&registry)
        .build(&json!({ "$ref": format!("{BASE}dangling.json") }));
    assert!(built.is_err());
}
