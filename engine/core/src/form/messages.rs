//! Friendly messages for field errors, German first. The validator's own text never reaches a
//! citizen. Designers can override any kind per field (`messages:` in the workflow).

use crate::text::Lang;

/// How a field asks: it decides how "please answer" is phrased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    Text,
    Choice,
    Checkbox,
    /// Several of the options (checkboxes): "at least one".
    Choices,
    /// An upload: "please upload".
    File,
}

/// What is wrong with a value, independent of language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Required,
    Format(String),
    MinLength(u64),
    MaxLength(u64),
    Minimum(String),
    Maximum(String),
    Type(&'static str),
    Enum,
    /// The value is not the one value the schema allows (`const`, e.g. a box that must be
    /// ticked).
    Const,
    Pattern,
    MinItems(u64),
    MaxItems(u64),
    Unexpected,
    DateNotPast,
    DateNotFuture,
    /// Before the earliest date the field accepts (German form, `01.01.1900`).
    DateTooEarly(String),
    /// After the latest date the field accepts.
    DateTooLate(String),
    /// A control or text-direction character, or a line break in a one-line field.
    Characters {
        multiline: bool,
    },
    Invalid,
}

impl ErrorKind {
    /// The key a designer uses under `messages:` to override this message.
    pub fn key(&self) -> &'static str {
        match self {
            ErrorKind::Required => "required",
            ErrorKind::Format(_) | ErrorKind::DateNotPast | ErrorKind::DateNotFuture => "format",
            ErrorKind::MinLength(_) => "minLength",
            ErrorKind::MaxLength(_) => "maxLength",
            ErrorKind::Minimum(_) | ErrorKind::DateTooEarly(_) => "minimum",
            ErrorKind::Maximum(_) | ErrorKind::DateTooLate(_) => "maximum",
            ErrorKind::Type(_) => "type",
            ErrorKind::Enum => "enum",
            ErrorKind::Const => "const",
            ErrorKind::Pattern => "pattern",
            ErrorKind::MinItems(_) => "minItems",
            ErrorKind::MaxItems(_) => "maxItems",
            ErrorKind::Characters { .. } => "characters",
            ErrorKind::Unexpected | ErrorKind::Invalid => "invalid",
        }
    }

    /// Every key a designer may override.
    pub const KEYS: &'static [&'static str] = &[
        "required",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "type",
        "enum",
        "const",
        "pattern",
        "minItems",
        "maxItems",
        "characters",
        "invalid",
    ];
}

/// The default message for an error at a field with `label`, shown as `widget`.
pub fn default_message(kind: &ErrorKind, label: &str, asked: Asked, lang: Lang) -> String {
    match lang {
        Lang::De => german(kind, label, asked),
        Lang::En => english(kind, label, asked),
    }
}

fn german(kind: &ErrorKind, label: &str, asked: Asked) -> String {
    match kind {
        ErrorKind::Required if asked == Asked::Checkbox => format!("Bitte bestätigen Sie: „{label}“"),
        ErrorKind::Required if asked == Asked::Choice => format!("Bitte wählen Sie bei „{label}“ eine Antwort aus."),
        ErrorKind::Required | ErrorKind::MinItems(1) if asked == Asked::Choices => format!("Bitte wählen Sie bei „{label}“ mindestens eine Angabe aus."),
        ErrorKind::MinItems(n) if asked == Asked::Choices => format!("Bitte wählen Sie bei „{label}“ mindestens {n} Angaben aus."),
        ErrorKind::MaxItems(1) if asked == Asked::Choices => format!("Bitte wählen Sie bei „{label}“ nur eine Angabe aus."),
        ErrorKind::MaxItems(n) if asked == Asked::Choices => format!("Bitte wählen Sie bei „{label}“ höchstens {n} Angaben aus."),
        ErrorKind::Required if asked == Asked::File => format!("Bitte laden Sie bei „{label}“ eine Datei hoch."),
        ErrorKind::MaxItems(n) if asked == Asked::File => format!("Bei „{label}“ können Sie höchstens {n} Dateien hochladen. Bitte entfernen Sie eine."),
        ErrorKind::Required => format!("Bitte füllen Sie das Feld „{label}“ aus."),
        ErrorKind::Format(f) => match f.as_str() {
            "plz" => "Bitte geben Sie die Postleitzahl mit 5 Ziffern an.".into(),
            "iban" => "Bitte prüfen Sie die IBAN: Sie ist unvollständig oder enthält einen Tippfehler.".into(),
            "steuer-id" => "Bitte prüfen Sie die Steuer-Identifikationsnummer: Sie hat 11 Ziffern und steht zum Beispiel auf Ihrem Einkommensteuerbescheid.".into(),
            "kfz-kennzeichen" => "Bitte geben Sie das Kennzeichen so an, wie es auf dem Fahrzeugschein steht, zum Beispiel HS-AB 123.".into(),
            "telefon" => "Bitte geben Sie eine Telefonnummer an, zum Beispiel 02452 13-0.".into(),
            "email" => "Bitte geben Sie eine E-Mail-Adresse an, zum Beispiel name@beispiel.de.".into(),
            "date" | "date-past" | "date-future" => format!("Bitte geben Sie bei „{label}“ ein gültiges Datum an, zum Beispiel 31.12.1980."),
            _ => format!("Bitte prüfen Sie die Schreibweise bei „{label}“."),
        },
        ErrorKind::DateNotPast => format!("Das Datum bei „{label}“ muss in der Vergangenheit liegen."),
        ErrorKind::DateNotFuture => format!("Das Datum bei „{label}“ muss in der Zukunft liegen."),
        ErrorKind::DateTooEarly(d) => format!("Bitte geben Sie bei „{label}“ ein Datum ab dem {d} an."),
        ErrorKind::DateTooLate(d) => format!("Bitte geben Sie bei „{label}“ ein Datum bis zum {d} an."),
        ErrorKind::Characters { multiline: false } => format!("„{label}“ enthält Zeichen, die hier nicht erlaubt sind (Zeilenumbrüche, Steuer- oder Richtungszeichen). Bitte geben Sie den Text in einer Zeile und ohne diese Zeichen ein."),
        ErrorKind::Characters { multiline: true } => format!("„{label}“ enthält unsichtbare Steuer- oder Richtungszeichen, die hier nicht erlaubt sind. Bitte entfernen Sie sie, zum Beispiel indem Sie den Text neu eintippen."),
        ErrorKind::MinLength(1) => format!("Bitte füllen Sie das Feld „{label}“ aus."),
        ErrorKind::MinLength(n) => format!("„{label}“ muss mindestens {n} Zeichen lang sein."),
        ErrorKind::MaxLength(n) => format!("„{label}“ darf höchstens {n} Zeichen lang sein."),
        ErrorKind::Minimum(n) => format!("Bitte geben Sie bei „{label}“ eine Zahl ab {n} an."),
        ErrorKind::Maximum(n) => format!("Bitte geben Sie bei „{label}“ eine Zahl bis höchstens {n} an."),
        ErrorKind::Type("integer") => format!("Bitte geben Sie bei „{label}“ eine ganze Zahl an."),
        ErrorKind::Type("number") => format!("Bitte geben Sie bei „{label}“ eine Zahl an."),
        ErrorKind::Type(_) => format!("Bitte prüfen Sie Ihre Angabe bei „{label}“."),
        ErrorKind::Enum => format!("Bitte wählen Sie bei „{label}“ eine der angebotenen Möglichkeiten aus."),
        ErrorKind::Const if asked == Asked::Checkbox => format!("Bitte bestätigen Sie: „{label}“"),
        ErrorKind::Const => format!("Diese Angabe ist bei „{label}“ nicht möglich."),
        ErrorKind::Pattern => format!("Bitte prüfen Sie die Schreibweise bei „{label}“."),
        ErrorKind::MinItems(1) => format!("Bitte geben Sie bei „{label}“ mindestens einen Eintrag an."),
        ErrorKind::MinItems(n) => format!("Bitte geben Sie bei „{label}“ mindestens {n} Einträge an."),
        ErrorKind::MaxItems(n) => format!("Bei „{label}“ sind höchstens {n} Einträge möglich."),
        ErrorKind::Unexpected => format!("„{label}“ enthält Angaben, die hier nicht vorgesehen sind."),
        ErrorKind::Invalid => format!("Bitte prüfen Sie Ihre Angabe bei „{label}“."),
    }
}

fn english(kind: &ErrorKind, label: &str, asked: Asked) -> String {
    match kind {
        ErrorKind::Required if asked == Asked::Checkbox => format!("Please confirm: “{label}”"),
        ErrorKind::Required if asked == Asked::Choice => format!("Please choose an answer for “{label}”."),
        ErrorKind::Required | ErrorKind::MinItems(1) if asked == Asked::Choices => format!("Please choose at least one answer for “{label}”."),
        ErrorKind::MinItems(n) if asked == Asked::Choices => format!("Please choose at least {n} answers for “{label}”."),
        ErrorKind::MaxItems(1) if asked == Asked::Choices => format!("Please choose only one answer for “{label}”."),
        ErrorKind::MaxItems(n) if asked == Asked::Choices => format!("Please choose at most {n} answers for “{label}”."),
        ErrorKind::Required if asked == Asked::File => format!("Please upload a file for “{label}”."),
        ErrorKind::MaxItems(n) if asked == Asked::File => format!("You can upload at most {n} files for “{label}”. Please remove one."),
        ErrorKind::Required => format!("Please fill in “{label}”."),
        ErrorKind::Format(f) => match f.as_str() {
            "plz" => "Please enter the postcode with 5 digits.".into(),
            "iban" => "Please check the IBAN: it is incomplete or contains a typo.".into(),
            "steuer-id" => "Please check the tax identification number: it has 11 digits.".into(),
            "kfz-kennzeichen" => "Please enter the registration number as in the vehicle registration, for example HS-AB 123.".into(),
            "telefon" => "Please enter a phone number, for example 02452 13-0.".into(),
            "email" => "Please enter an email address, for example name@example.org.".into(),
            "date" | "date-past" | "date-future" => format!("Please enter a valid date for “{label}”, for example 31.12.1980."),
            _ => format!("Please check the spelling of “{label}”."),
        },
        ErrorKind::DateNotPast => format!("The date for “{label}” must be in the past."),
        ErrorKind::DateNotFuture => format!("The date for “{label}” must be in the future."),
        ErrorKind::DateTooEarly(d) => format!("Please enter a date from {d} for “{label}”."),
        ErrorKind::DateTooLate(d) => format!("Please enter a date up to {d} for “{label}”."),
        ErrorKind::Characters { multiline: false } => format!("“{label}” contains characters that are not allowed here (line breaks, control or text-direction characters). Please enter the text on one line without them."),
        ErrorKind::Characters { multiline: true } => format!("“{label}” contains invisible control or text-direction characters that are not allowed here. Please remove them, for example by typing the text again."),
        ErrorKind::MinLength(1) => format!("Please fill in “{label}”."),
        ErrorKind::MinLength(n) => format!("“{label}” must be at least {n} characters long."),
        ErrorKind::MaxLength(n) => format!("“{label}” can be at most {n} characters long."),
        ErrorKind::Minimum(n) => format!("Please enter a number of at least {n} for “{label}”."),
        ErrorKind::Maximum(n) => format!("Please enter a number of at most {n} for “{label}”."),
        ErrorKind::Type("integer") => format!("Please enter a whole number for “{label}”."),
        ErrorKind::Type("number") => format!("Please enter a number for “{label}”."),
        ErrorKind::Type(_) => format!("Please check your answer for “{label}”."),
        ErrorKind::Enum => format!("Please choose one of the options for “{label}”."),
        ErrorKind::Const if asked == Asked::Checkbox => format!("Please confirm: “{label}”"),
        ErrorKind::Const => format!("This answer is not possible for “{label}”."),
        ErrorKind::Pattern => format!("Please check the spelling of “{label}”."),
        ErrorKind::MinItems(n) => format!("Please add at least {n} entries for “{label}”."),
        ErrorKind::MaxItems(n) => format!("“{label}” allows at most {n} entries."),
        ErrorKind::Unexpected => format!("“{label}” contains information that is not expected here."),
        ErrorKind::Invalid => format!("Please check your answer for “{label}”."),
    }
}
