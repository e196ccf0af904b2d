//! The simulator's pay page: plain HTML, German, usable without JavaScript, every value escaped.

use lotse_core::Lang;
use lotse_core::payment::format_cents;

use super::sim::{Notify, SimPayment};
use crate::templates::escape as esc;

const STYLE: &str = "body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}\
fieldset{margin:1rem 0;border:1px solid #555;padding:.5rem 1rem}legend{font-weight:bold}\
button{font-size:1rem;padding:.5rem 1.5rem;background:#1d4f91;color:#fff;border:0;border-radius:4px}\
button:focus,input:focus{outline:3px solid #f6a800;outline-offset:2px}dt{font-weight:bold}dd{margin:0 0 .5rem 0}";

fn shell(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main><h1>{}</h1>{main}</main></body></html>",
        esc(title),
        esc(title)
    )
}

pub(super) fn not_found() -> String {
    shell(
        "Zahlung nicht gefunden",
        "<p>Diese Zahlung kennt die Zahlungsplattform nicht.</p>",
    )
}

pub(super) fn page(p: &SimPayment, default: Notify) -> String {
    let r = &p.request;
    let mut main = String::new();
    main.push_str("<p>Dies ist der Zahlungsplattform-Simulator von Lotse. Hier wird kein echtes Geld bewegt.</p>");
    main.push_str(&format!(
        "<dl><dt>Empfänger</dt><dd>{}</dd><dt>Verwendungszweck</dt><dd id=\"zweck\">{}</dd><dt>Betrag</dt><dd id=\"betrag\">{}</dd></dl>",
        esc(&r.merchant_id),
        esc(&r.purpose),
        esc(&format_cents(r.amount_cents, Lang::De))
    ));
    if p.state.is_final() {
        main.push_str(&format!(
            "<p>Diese Zahlung ist bereits abgeschlossen: {}.</p><p><a href=\"{}\">Zurück zum Antrag</a></p>",
            esc(p.state.label(Lang::De)),
            esc(&r.return_url)
        ));
        return shell("Zahlung", &main);
    }
    main.push_str(&format!(
        "<form method=\"post\" action=\"/bezahlen/{}\">",
        esc(&p.id)
    ));
    main.push_str("<fieldset><legend>Zahlart</legend>");
    for (i, m) in r.methods.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        main.push_str(&format!(
            "<div><input type=\"radio\" id=\"methode-{id}\" name=\"methode\" value=\"{id}\"{checked}> <label for=\"methode-{id}\">{}</label></div>",
            esc(m.label(Lang::De)),
            id = m.id()
        ));
    }
    main.push_str("</fieldset><fieldset><legend>Ergebnis der Zahlung</legend>");
    for (i, (value, label)) in [
        ("paid", "Bezahlen"),
        ("cancelled", "Abbrechen"),
        ("failed", "Zahlung schlägt fehl"),
        ("pending", "Zahlung bleibt ausstehend"),
    ]
    .iter()
    .enumerate()
    {
        let checked = if i == 0 { " checked" } else { "" };
        main.push_str(&format!(
            "<div><input type=\"radio\" id=\"ergebnis-{value}\" name=\"ergebnis\" value=\"{value}\"{checked}> <label for=\"ergebnis-{value}\">{label}</label></div>"
        ));
    }
    main.push_str("</fieldset><fieldset><legend>Benachrichtigung an das Portal</legend>");
    for (n, value, label) in Notify::ALL {
        let checked = if n == default { " checked" } else { "" };
        main.push_str(&format!(
            "<div><input type=\"radio\" id=\"benachrichtigung-{value}\" name=\"benachrichtigung\" value=\"{value}\"{checked}> <label for=\"benachrichtigung-{value}\">{label}</label></div>"
        ));
    }
    main.push_str("</fieldset><fieldset><legend>Gemeldeter Betrag (zum Testen)</legend>");
    main.push_str(&format!(
        "<div><label for=\"betrag-cents\">Einen anderen Betrag in Cent melden (leer: {} Cent, wie angefragt)</label><br><input type=\"text\" inputmode=\"numeric\" id=\"betrag-cents\" name=\"betrag_cents\"></div>",
        r.amount_cents
    ));
    main.push_str("</fieldset><button type=\"submit\">Weiter</button></form>");
    shell("Bezahlen", &main)
}
