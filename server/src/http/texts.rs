//! Fixed texts of the portal pages, German first.

use serde_json::{Value, json};

pub fn texts(en: bool) -> Value {
    if en {
        json!({
            "skip": "Skip to content", "phone": "Phone", "services_of": "Online services of",
            "search_label": "Search for a service", "search": "Search", "results": "Results for",
            "no_results": "No service found. Try another word.", "lebenslagen": "By life situation",
            "office": "Responsible office", "start": "Start application",
            "draft_kept": "You can save your application and continue later; it is kept for 30 days after your last change.",
            "optional": "optional", "remove": "remove", "please_choose": "Please choose",
            "step": "Step", "of": "of", "there_is_a_problem": "There is a problem",
            "continue": "Save and continue", "back": "Back", "later": "Continue later",
            "resume_intro": "Your resume code is", "resume_link": "Or bookmark", "this_link": "this link",
            "kept_until": "We keep your answers until", "check_answers": "Check your answers before sending",
            "change": "Change", "computed": "Fees", "submit_note": "By sending the application you confirm that your answers are correct.",
            "submit": "Send application", "received": "Application received", "your_reference": "Your reference number",
            "received_note": "We have received your application. This confirms receipt, not a decision.",
            "download_receipt": "Download receipt (PDF, signed)", "status": "Status",
            "status_link": "You can check the status at", "to_catalogue": "To the services",
            "portal_title": "Service portal of Kreis Heinsberg", "portal_intro": "Choose your town or municipality. Each offers its own online services; the county offers its own too.", "services_count": "online services",
            "resume_heading": "Continue an application", "resume_label": "Resume code", "resume_hint": "The code you noted, for example K7QX-2M9D-8TFA-WN3E.", "resume_button": "Continue",
            "entry": "The entry", "removed_note": "was removed.", "undo": "Undo"
        })
    } else {
        json!({
            "skip": "Zum Inhalt springen", "phone": "Telefon", "services_of": "Online-Dienste:",
            "search_label": "Dienstleistung suchen", "search": "Suchen", "results": "Ergebnisse für",
            "no_results": "Keine Dienstleistung gefunden. Versuchen Sie ein anderes Wort.", "lebenslagen": "Nach Lebenslage",
            "office": "Zuständige Stelle", "start": "Antrag starten",
            "draft_kept": "Sie können Ihren Antrag speichern und später weitermachen; er wird 30 Tage nach Ihrer letzten Änderung aufbewahrt.",
            "optional": "freiwillig", "remove": "entfernen", "please_choose": "Bitte auswählen",
            "step": "Schritt", "of": "von", "there_is_a_problem": "Bitte prüfen Sie Ihre Angaben",
            "continue": "Speichern und weiter", "back": "Zurück", "later": "Später weitermachen",
            "resume_intro": "Ihr Code zum Weitermachen lautet", "resume_link": "Oder speichern Sie", "this_link": "diesen Link",
            "kept_until": "Wir bewahren Ihre Angaben auf bis zum", "check_answers": "Bitte prüfen Sie Ihre Angaben",
            "change": "Ändern", "computed": "Gebühren", "submit_note": "Mit dem Absenden bestätigen Sie, dass Ihre Angaben richtig sind.",
            "submit": "Antrag absenden", "received": "Antrag eingegangen", "your_reference": "Ihr Aktenzeichen",
            "received_note": "Wir haben Ihren Antrag erhalten. Diese Bestätigung dokumentiert den Eingang, sie ist keine Entscheidung.",
            "download_receipt": "Eingangsbestätigung herunterladen (PDF, signiert)", "status": "Bearbeitungsstand",
            "status_link": "Den Bearbeitungsstand sehen Sie jederzeit über", "to_catalogue": "Zu den Dienstleistungen",
            "portal_title": "Serviceportal des Kreises Heinsberg", "portal_intro": "Wählen Sie Ihre Stadt oder Gemeinde. Jede bietet ihre eigenen Online-Dienste an; der Kreis hat eigene Dienste.", "services_count": "Online-Dienste",
            "resume_heading": "Antrag fortsetzen", "resume_label": "Code zum Weitermachen", "resume_hint": "Den Code haben Sie sich beim Speichern notiert, zum Beispiel K7QX-2M9D-8TFA-WN3E.", "resume_button": "Weitermachen",
            "entry": "Der Eintrag", "removed_note": "wurde entfernt.", "undo": "Rückgängig machen"
        })
    }
}
