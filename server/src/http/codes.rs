//! The problem codes of the JSON API (`LOT-H…`) and of the Postkorb API (`LOT-V…`) with their
//! status and explanation in German and English: the one source of the titles in the citizen
//! API's problem documents, of the pages at `/probleme/{code}` that a problem's `type` points
//! to, and of the meanings in docs/errors.md (tests compare them).

use lotse_core::Lang;

/// One problem code and what it means.
#[derive(Debug)]
pub struct ProblemCode {
    pub code: &'static str,
    pub status: u16,
    pub title_de: &'static str,
    pub title_en: &'static str,
    pub meaning_de: &'static str,
    pub meaning_en: &'static str,
}

impl ProblemCode {
    pub fn title(&self, lang: Lang) -> &'static str {
        if lang == Lang::En {
            self.title_en
        } else {
            self.title_de
        }
    }

    pub fn meaning(&self, lang: Lang) -> &'static str {
        if lang == Lang::En {
            self.meaning_en
        } else {
            self.meaning_de
        }
    }
}

/// The code's entry, if it is one of the citizen API's or the Postkorb API's.
pub fn problem_code(code: &str) -> Option<&'static ProblemCode> {
    CODES.iter().chain(STAFF_CODES).find(|c| c.code == code)
}

/// The address of the page that explains a code (a problem's `type`).
pub fn type_uri(code: &str) -> String {
    format!("/probleme/{code}")
}

macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $( $code:literal $status:literal [$tde:literal, $ten:literal] [$mde:literal, $men:literal] )* }) => {
        $(#[$doc])*
        pub const $name: &[ProblemCode] = &[$(ProblemCode {
            code: $code, status: $status, title_de: $tde, title_en: $ten,
            meaning_de: $mde, meaning_en: $men,
        }),*];
    };
}

codes! {
    /// Every code of the citizen JSON API, in the order of docs/errors.md.
    CODES {
    "LOT-H001" 404 ["Nicht gefunden", "Not found"]
        ["Die Behörde, die Leistung, der Antrag, der Schritt, die Lebenslage oder die Einreichung gibt es hier nicht (auch: die einer anderen Behörde, abgelaufen, oder eine ungültige Kennung).",
         "the tenant, service, application, step, Lebenslage or submission does not exist here (also: another tenant's, expired, or a malformed id)"]
    "LOT-H002" 400 ["Ungültiger Inhalt der Anfrage", "Malformed request body"]
        ["Der Inhalt ist kein gültiges JSON, ihm fehlt ein nötiger Schlüssel, er hat einen unbekannten Schlüssel oder einen Wert der falschen Art (`detail` sagt, welchen).",
         "the body is not valid JSON, misses a required key, has an unknown key, or a value of the wrong type (`detail` says which)"]
    "LOT-H003" 415 ["Nicht unterstütztes Format", "Unsupported media type"]
        ["Der Inhalt ist nicht `application/json`.",
         "the body is not `application/json`"]
    "LOT-H004" 409 ["Veralteter Stand", "Stale revision"]
        ["Der Antrag wurde geändert, seit er gelesen wurde; `revision` enthält den aktuellen Stand.",
         "stale revision: the application changed since the client read it; `revision` holds the current one"]
    "LOT-H005" 409 ["Jetzt nicht möglich", "Not possible now"]
        ["Ein Schritt, der nicht auf dem Weg des Antrags liegt oder noch nicht erreicht ist (`engine_code` enthält den LOT-A-Code).",
         "not possible now: a step that is not on the route or not reached yet (`engine_code` holds the LOT-A code)"]
    "LOT-H006" 409 ["Bereits eingereicht", "Already submitted"]
        ["Der Antrag wurde bereits eingereicht und kann nicht mehr geändert werden; `submission` verweist auf die Einreichung. Lesen (GET) eines eingereichten Antrags antwortet mit 200 und der Position `submitted`.",
         "the application was already submitted and can no longer be changed; `submission` links to it. Reading (GET) a submitted application answers 200 with position `submitted`"]
    "LOT-H007" 404 ["Unbekannter Fortsetzungscode", "Unknown resume code"]
        ["Kein Antrag dieser Behörde hat diesen Fortsetzungscode.",
         "no application of this tenant has this resume code"]
    "LOT-H008" 429 ["Zu viele Versuche", "Too many attempts"]
        ["Zu viele falsche Fortsetzungscodes von diesem Gerät (5 in 15 Minuten; ein richtiger Code dazwischen hebt keinen auf); bitte 15 Minuten warten.",
         "too many wrong resume codes from this client (5 within 15 minutes; a right code in between forgives none of them); wait 15 minutes"]
    "LOT-H010" 422 ["Antworten nicht angenommen", "Answers not accepted"]
        ["Die Antworten wurden nicht angenommen; `errors` nennt jede mit `pointer`, `field`, `kind` und einer verständlichen `message` in der Sprache des Antrags. `kind` `characters`: ein Steuerzeichen, ein Schreibrichtungszeichen oder, außerhalb eines mehrzeiligen Feldes, ein Zeilenumbruch; `minimum` / `maximum` bei einem Datum: außerhalb der Grenzen des Feldes (sonst 1900-01-01 bis 2100-12-31). Beim Einreichen: eine Erklärung der `declaration` wurde nicht angekreuzt (`pointer` `/declaration/<id>`, `kind` `required`).",
         "the answers were not accepted; `errors` lists each with `pointer`, `field`, `kind` and a friendly `message` in the application's language. `kind` `characters`: a control character, a text-direction character or, outside a textarea, a line break; `minimum` / `maximum` on a date: outside the field's bounds (by default 1900-01-01 to 2100-12-31). On a submit: a statement of the workflow's `declaration` was not ticked (`pointer` `/declaration/<id>`, `kind` `required`)"]
    "LOT-H011" 409 ["Antrag unvollständig", "Application incomplete"]
        ["Prüfen oder Einreichen, bevor jeder Schritt beantwortet ist; `missing` nennt den Schritt.",
         "review or submit before every step is answered; `missing` names the step"]
    "LOT-H012" 422 ["Unbekanntes Feld", "Unknown field"]
        ["Antworten für Felder, die der Schritt nicht hat; `fields` nennt sie, `hints` sagt, wo der Workflow mehr weiß: `asked_on`, der Schritt, der das Feld fragt, oder `did_you_mean`, ein Feld dieses Schritts mit ähnlicher Id. Nichts wurde gespeichert.",
         "answers for fields the step does not have; `fields` names them, `hints` tells what the workflow knows: `asked_on`, the step that asks the field, or `did_you_mean`, a field of this step with a similar id. Nothing was saved"]
    "LOT-H020" 409 ["Bereits bezahlt", "Paid already"]
        ["Eine Zahlung für einen bereits bezahlten Antrag; `payment` zeigt sie.",
         "a payment request for an application that is paid already; `payment` shows it"]
    "LOT-H021" 503 ["Zahlungsplattform nicht erreichbar", "Payment platform unreachable"]
        ["Die Zahlungsplattform ist nicht erreichbar; der Antrag bleibt gespeichert, später erneut versuchen.",
         "the payment platform cannot be reached; the application stays saved, try again later"]
    "LOT-H022" 409 ["Wartet auf die Zahlung", "Waiting for payment"]
        ["Ein Befehl für einen abgeschickten Antrag, der auf die Zahlung wartet; `payment` verweist darauf.",
         "a command on an application that was sent and waits for its payment; `payment` links it"]
    "LOT-H023" 409 ["Zahlung wird geklärt", "Payment being cleared up"]
        ["Eine Zahlung für einen Antrag, für den die Zahlungsplattform einen anderen Betrag gemeldet hat (nicht bezahlt); das Amt klärt sie, eine zweite Zahlung gibt es nicht; `payment` zeigt sie.",
         "a payment request for an application whose payment the platform reported with another amount (not paid); the office clears it up, there is no second payment; `payment` shows it"]
    "LOT-H024" 422 ["Datei abgelehnt", "File refused"]
        ["Eine hochgeladene Datei wurde abgelehnt (leer, zu groß, keine erlaubte Dateiart, beschädigt, mit Passwort geschützt oder mit Schadsoftware); `detail` sagt, was zu tun ist.",
         "an uploaded file was refused (empty, too large, not an accepted kind, damaged, password-protected or with malware); `detail` says what to do"]
    "LOT-H025" 404 ["Keine Prüfung im Browser", "No checks in the browser"]
        ["Das Portal bietet die Prüfung im Browser nicht an (kein WebAssembly-Modul); Antworten prüft der Server wie immer.",
         "the portal does not offer the checks in the browser (no WebAssembly module); the server checks answers as always"]
    "LOT-H400" 400 ["Ungültige Anfrage", "Bad request"]
        ["Ein ungültiger Pfad- oder Abfrageparameter (zum Beispiel `lang` anders als `de` oder `en`).",
         "a malformed path or query parameter (for example `lang` other than `de` or `en`)"]
    "LOT-H403" 403 ["Verboten", "Forbidden"]
        ["Eine Anfrage von einer anderen Website wurde abgewiesen.",
         "a cross-site request was refused"]
    "LOT-H405" 405 ["Methode nicht erlaubt", "Method not allowed"]
        ["Diese Methode gibt es für diese Adresse nicht (`Allow` nennt die möglichen).",
         "the method is not supported by this resource (`Allow` lists the ones that are)"]
    "LOT-H408" 408 ["Zeitüberschreitung", "Request timeout"]
        ["Die Anfrage dauerte länger als 30 Sekunden.",
         "the request took longer than 30 seconds"]
    "LOT-H413" 413 ["Anfrage zu groß", "Request body too large"]
        ["Der Inhalt ist größer als 256 KiB.",
         "the body is larger than 256 KiB"]
    "LOT-H500" 500 ["Interner Fehler", "Internal error"]
        ["Ein interner Fehler; mit `request_id` findet der Betrieb die Ursache im Protokoll. Nichts Bestätigtes geht verloren.",
         "an internal error; `request_id` finds the cause in the log. Nothing acknowledged is lost"]
}
}

codes! {
    /// Every code of the Postkorb API (`/api/v1/verwaltung/…`, [`crate::admin::AdminError`]), in
    /// the order of docs/errors.md; the meaning in English is the table's.
    STAFF_CODES {
    "LOT-V001" 401 ["Nicht angemeldet", "Not signed in"]
        ["Nicht angemeldet: keine, eine unbekannte, abgelaufene oder widerrufene Sitzung oder ein solches Token, oder ein gesperrtes Konto (Seiten leiten stattdessen zur Anmeldung weiter).",
         "not signed in: no, an unknown, an expired or a revoked session or token, or a disabled account (pages redirect to the sign-in form instead)"]
    "LOT-V002" 401 ["Anmeldung fehlgeschlagen", "Wrong credentials"]
        ["Benutzername, Passwort oder Bestätigungscode ist falsch (auch bei unbekannten und gesperrten Konten, einem fehlenden und einem schon benutzten Code: die Antwort sagt nicht, was davon).",
         "wrong login, password or second-factor code (also for unknown and disabled accounts, a missing code and a code used before: the answer does not tell which)"]
    "LOT-V003" 429 ["Zu viele Anmeldeversuche", "Too many sign-in attempts"]
        ["Die Anmeldeversuche sind vorerst aufgebraucht: je Konto eine Verzögerung nach 5 Versuchen (eine Wartezeit von 2 s, die sich bis höchstens 1 Minute verdoppelt), je Adresse 20 Versuche in 15 Minuten; `Retry-After` nennt die Sekunden.",
         "sign-in attempts used up for the moment: per account a slowdown after 5 attempts (a wait from 2 s doubling to at most 1 minute), per client address 20 attempts within 15 minutes; `Retry-After` says how many seconds"]
    "LOT-V004" 403 ["Rolle erlaubt das nicht", "Role does not allow this"]
        ["Die Rolle erlaubt diese Aktion nicht (die Formulargestaltung sieht nie Einreichungen).",
         "the role does not allow this (a form designer never sees submissions)"]
    "LOT-V005" 403 ["Konto einer anderen Behörde", "Account of another tenant"]
        ["Die Sitzung oder das Token gehört zu einer anderen Behörde.",
         "the session or token belongs to another tenant"]
    "LOT-V006" 404 ["Nicht gefunden", "Not found"]
        ["Diese Einreichung gibt es bei dieser Behörde nicht (auch: die Kennung einer anderen Behörde), oder es ist keine Quittung gespeichert.",
         "no such submission in this tenant (also another tenant's id), or no stored receipt"]
    "LOT-V007" 409 ["Statuswechsel nicht erlaubt", "Status change not allowed"]
        ["Das Statusmodell erlaubt diesen Wechsel nicht (aus einem abgeschlossenen Status führt nichts heraus, nichts führt zurück zu Eingegangen, ein Wechsel muss etwas ändern).",
         "the status model does not allow this change (nothing leaves a closed status, nothing goes back to Eingegangen, a change must change something)"]
    "LOT-V008" 422 ["Ungültige Eingabe", "Invalid input"]
        ["Ungültige Eingabe: ein unbekannter Status oder Filter, ein falsches Datum, eine leere oder zu lange (über 5.000 Zeichen) Nachricht, eine Rückfrage ohne ihre Frage, ein JSON-Inhalt mit unbekannten Feldern, ein Passwort unter 12 Zeichen.",
         "invalid input: an unknown status or filter, a bad date, an empty or too long (over 5,000 characters) message, a Rückfrage without its question, a JSON body with unknown fields, a password under 12 characters"]
    "LOT-V009" 403 ["Sicherheitsprüfung fehlgeschlagen", "Security check failed"]
        ["Das Sicherheitstoken des Formulars passt nicht zur Sitzung (ein veraltetes oder fremdes Formular).",
         "the form's security token does not match the session (a stale or foreign form)"]
    "LOT-V010" 500 ["Interner Fehler", "Internal error"]
        ["Ein interner Fehler; die Protokollzeile `admin_request_failed` mit derselben `request_id` nennt die Ursache.",
         "internal error; the log line `admin_request_failed` with the same `request_id` has the cause"]
    }
}
