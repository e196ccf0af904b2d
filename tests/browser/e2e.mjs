// End-to-end test of the portal in a real browser (Debian's chromium, driven by playwright-core):
// a whole application with a mistake, a resume on a "second device", and axe-core on every page
// type with zero WCAG 2.1 A/AA violations. Expects `lotse serve` at LOTSE_URL.
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.LOTSE_URL ?? 'http://127.0.0.1:18080';
const SHOTS = process.env.LOTSE_SHOTS ?? '../../target/screenshots';
mkdirSync(SHOTS, { recursive: true });

let failures = 0;
function check(ok, what) {
  if (ok) { console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}`); }
}

async function axeOnce(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  for (const v of result.violations) {
    console.log(`  axe ${name}: ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.log(`    ${n.target.join(' ')}`);
  }
  check(result.violations.length === 0, `axe-core: no WCAG 2.1 AA violations on ${name}`);
}

// Every page type is checked and photographed twice: in the window it was opened in, and in the
// other size (phone 390×844, desktop 1280×900), so that both layouts are seen and checked.
async function axe(page, name) {
  const size = page.viewportSize();
  const isPhone = size.width < 800;
  await axeOnce(page, `${name} (${isPhone ? 'Telefon' : 'Desktop'})`);
  await page.screenshot({ path: `${SHOTS}/${name}-${isPhone ? 'telefon' : 'desktop'}.png`, fullPage: true });
  const other = isPhone ? { width: 1280, height: 900 } : { width: 390, height: 844 };
  await page.setViewportSize(other);
  await axeOnce(page, `${name} (${isPhone ? 'Desktop' : 'Telefon'})`);
  await page.screenshot({ path: `${SHOTS}/${name}-${isPhone ? 'desktop' : 'telefon'}.png`, fullPage: true });
  await page.setViewportSize(size);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  // The portal ships no script at all (its CSP allows none), so every page works without
  // JavaScript; the browser's own JavaScript is needed only to run axe-core.
  const page = await phone.newPage();

  await page.goto(`${BASE}/`);
  check((await page.textContent('main')).includes('Übach-Palenberg'), 'the portal lists the municipalities');
  await axe(page, 'portal');
  await page.click('text=Stadt Heinsberg');
  await axe(page, 'katalog');
  await page.fill('#q', 'Hundsteuer');
  await page.click('button[type=submit]');
  check(await page.isVisible('text=Hund zur Hundesteuer anmelden'), 'search forgives a typo');
  await axe(page, 'suche');
  await page.click('text=Hund zur Hundesteuer anmelden >> nth=0');
  await axe(page, 'leistung');
  await page.click('text=Antrag starten');
  check((await page.textContent('.progress')).includes('Schritt 1 von 6'), 'progress shows step 1 of 6');
  await axe(page, 'schritt');

  // A mistake first: a four-digit postcode and no first name.
  await page.check('#f-halter-anrede-0');
  await page.fill('#f-halter-nachname', 'Schmitz');
  await page.fill('#f-halter-geburtsdatum', '1985-04-12');
  await page.fill('#f-anschrift-strasse', 'Valkenburger Straße');
  await page.fill('#f-anschrift-hausnummer', '45');
  await page.fill('#f-anschrift-plz', '5252');
  await page.fill('#f-anschrift-ort', 'Heinsberg');
  await page.fill('#f-kontakt-email', 'anna@example.org');
  await page.click('.actions button[value=weiter]');
  const summary = await page.textContent('.error-summary');
  check(summary.includes('Postleitzahl mit 5 Ziffern') && summary.includes('Vorname'), 'error summary names both mistakes');
  check(await page.getAttribute('#f-anschrift-plz', 'aria-invalid') === 'true', 'the field is marked invalid');
  await axe(page, 'fehler');
  await page.fill('#f-halter-vorname', 'Anna');
  await page.fill('#f-anschrift-plz', '52525');
  await page.click('.actions button[value=weiter]');

  check((await page.textContent('h1')).includes('Ihre Hunde'), 'step 2 after correcting');
  check(page.url().endsWith('/schritt/hunde'), `the step has its own URL (${page.url()})`);
  // Enter in a text box (a phone's Go key) saves and continues; it never removes a dog.
  await page.click('button.secondary[value^="add:"]');
  await page.fill('#f-hunde-0-name', 'Bello');
  await page.fill('#f-hunde-1-name', 'Rex');
  await page.press('#f-hunde-1-name', 'Enter');
  await page.waitForSelector('.error-summary');
  check(await page.inputValue('#f-hunde-0-name') === 'Bello' && await page.inputValue('#f-hunde-1-name') === 'Rex',
    'Enter keeps both dogs and shows what is missing');
  await page.reload();
  check(await page.inputValue('#f-hunde-1-name') === 'Rex', 'a reload shows the typed answers again without re-posting');
  // Removing a dog can be undone.
  await page.click('button[value="remove:hunde:1"]');
  check(await page.isVisible('.notice') && (await page.$('#f-hunde-1-name')) === null, 'a removed dog is gone, with an undo offer');
  await axe(page, 'entfernt');
  await page.click('.notice button[value=undo]');
  check(await page.inputValue('#f-hunde-1-name') === 'Rex', 'undo brings the dog back');
  await page.click('button[value="remove:hunde:1"]');
  await page.fill('#f-hunde-0-name', 'Bello');
  await page.fill('#f-hunde-0-rasse', 'Labrador');
  await page.fill('#f-hunde-0-geburtsdatum', '2022-03-01');
  await page.check('#f-hunde-0-kategorie-0');
  await page.click('.actions button[value=weiter]');
  check((await page.textContent('h1')).includes('Beginn der Hundehaltung'), 'an ordinary dog skips the dangerous-dog step');

  // Note the resume code, continue on a second device.
  const code = (await page.textContent('p:has(strong) strong')).trim();
  check(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/.test(code), `a resume code is shown (${code})`);
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
  const second = await desktop.newPage();
  await second.goto(`${BASE}/heinsberg`);
  // A mistyped code: the box again, with what was typed and what to check.
  await second.fill('#code', 'AAAA-BBBB');
  await second.click('button:has-text("Weitermachen")');
  check(await second.inputValue('#code') === 'AAAA-BBBB' && await second.isVisible('.error-summary'),
    'a wrong code shows the code box again');
  await axe(second, 'code-falsch');
  await second.fill('#code', code);
  await second.click('button:has-text("Weitermachen")');
  check((await second.textContent('h1')).includes('Beginn der Hundehaltung'), 'the second device continues where the first stopped');
  await axe(second, 'fortsetzen');

  await second.fill('#f-haltungsbeginn', '2026-11-01');
  await second.check('#f-zuzug-1');
  await second.click('.actions button[value=weiter]');
  check(second.url().endsWith('/schritt/ermaessigung'), `the next step has its own URL (${second.url()})`);
  // The browser's Back leads to the previous step with its answers; Forward returns. The
  // navigation history is read only once the step page has fully loaded.
  await second.waitForLoadState('load');
  await second.goBack({ waitUntil: 'load' });
  check((await second.textContent('h1')).includes('Beginn der Hundehaltung')
    && await second.inputValue('#f-haltungsbeginn') === '2026-11-01', `Back leads to the previous step with its answers (${second.url()})`);
  await second.goForward({ waitUntil: 'load' });
  check(second.url().endsWith('/schritt/ermaessigung'), 'Forward returns');
  // Switching the language keeps the citizen's place.
  await Promise.all([second.waitForNavigation(), second.click('.lang a')]);
  check(second.url().endsWith('/schritt/ermaessigung') && (await second.getAttribute('html', 'lang')) === 'en',
    `the language switch stays on the step (${second.url()})`);
  await Promise.all([second.waitForNavigation(), second.click('.lang a')]);
  await second.check('#f-ermaessigung-0');
  await second.click('.actions button[value=weiter]');
  await second.check('#f-lastschrift-1');
  await second.click('.actions button[value=weiter]');
  await second.check('#f-richtig');
  await second.click('.actions button[value=weiter]');
  check((await second.textContent('h1')).includes('Bitte prüfen Sie Ihre Angaben'), 'review page');
  // Stadt Heinsberg takes over the county's dog tax with its own rate (an override): 84 € a year.
  check((await second.textContent('main')).includes('84,00 €'), 'review shows the fee of Heinsberg');
  await axe(second, 'pruefen');
  await second.click('button[value=absenden]');
  const ref = await second.textContent('.panel strong');
  check(/^HEI-\d{4}-\d{6}$/.test(ref.trim()), `a reference number (${ref.trim()})`);
  await axe(second, 'eingang');
  const href = await second.getAttribute('a.button', 'href');
  const pdf = await second.request.get(`${BASE}${href}`);
  const bytes = await pdf.body();
  check(pdf.status() === 200 && bytes.subarray(0, 5).toString() === '%PDF-', 'the receipt downloads as PDF');
  const statusUrl = second.url();

  // The Postkorb: a case worker (created with `lotse admin` before the server started) finds
  // the new submission, asks a question, the citizen answers, the case worker closes it.
  const login = process.env.LOTSE_CASEWORKER_LOGIN ?? 'sachbearbeitung';
  const password = process.env.LOTSE_CASEWORKER_PASSWORD;
  check(Boolean(password), 'LOTSE_CASEWORKER_PASSWORD is set for the Postkorb flow');
  const officeContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
  const office = await officeContext.newPage();
  await office.goto(`${BASE}/verwaltung/heinsberg`);
  check(office.url().endsWith('/verwaltung/heinsberg/anmelden'), 'the Postkorb asks for a sign-in first');
  await axe(office, 'postkorb-anmelden');
  await office.fill('#benutzername', login);
  await office.fill('#passwort', 'falsches-passwort');
  await office.click('button:has-text("Anmelden")');
  check((await office.textContent('.error-summary')).includes('falsch'), 'a wrong password is named as such');
  await office.fill('#passwort', password ?? '');
  await office.click('button:has-text("Anmelden")');
  const cookies = await officeContext.cookies();
  const session = cookies.find((c) => c.name === 'lotse_verwaltung');
  check(session && session.httpOnly && session.secure && session.sameSite === 'Strict', 'the session cookie is Secure (accepted on http://127.0.0.1), HttpOnly and SameSite=Strict');
  check((await office.textContent('h1')).includes('Postkorb'), 'the case worker sees the Postkorb');
  check((await office.textContent('table.postkorb')).includes(ref.trim()), 'the new submission is in the list');
  await axe(office, 'postkorb-liste');
  await office.click(`a:has-text("${ref.trim()}")`);
  check((await office.textContent('main')).includes('Bello'), 'the detail shows the answers with their labels');
  check((await office.textContent('main')).includes('Signatur gültig'), 'the receipt signature is checked');
  await axe(office, 'postkorb-antrag');
  await office.selectOption('#neuer-status', 'rueckfrage');
  await office.fill('#kommentar', 'Bitte nennen Sie die Farbe von Bello.');
  await office.click('button:has-text("Status speichern")');
  check((await office.textContent('#status-aktuell')).includes('Rückfrage'), 'the status is Rückfrage');

  await second.goto(statusUrl);
  check((await second.textContent('main')).includes('Bitte nennen Sie die Farbe von Bello.'), 'the citizen reads the question');
  await axe(second, 'status-rueckfrage');
  await second.fill('#antwort', 'Bello ist schwarz.');
  await second.click('button:has-text("Antwort senden")');
  check((await second.textContent('.status-now')).includes('In Bearbeitung'), 'the answer sends the application back to the office');

  await office.reload();
  check((await office.textContent('#nachrichten + ol')).includes('Bello ist schwarz.'), 'the case worker reads the answer');

  // Daily work: the answers beside the actions, assignment, an internal note, a Wiedervorlage.
  const layout = await office.evaluate(() => {
    const main = document.querySelector('.case-main').getBoundingClientRect();
    const side = document.querySelector('.case-actions').getBoundingClientRect();
    return { beside: side.left >= main.right - 1, top: Math.abs(side.top - main.top) < 5 };
  });
  check(layout.beside && layout.top, 'on the desktop the actions stand beside the answers');
  check(!(await office.textContent('main')).includes('Berechnete Werte'), 'no "Berechnete Werte" heading');
  await office.click('button:has-text("Mir zuweisen")');
  check((await office.textContent('#zustaendig-aktuell')).includes('(Sie)'), 'the case is assigned to me');
  await office.fill('#notiz-text', 'Intern: Farbe mit Foto abgleichen.');
  await office.click('button:has-text("Notiz speichern")');
  check((await office.textContent('ol.notes')).includes('Farbe mit Foto abgleichen'), 'the internal note is shown');
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });
  await office.fill('#wiedervorlage-datum', today);
  await office.click('button:has-text("Wiedervorlage speichern")');
  check((await office.textContent('#wiedervorlage-aktuell')).includes('Fällig'), 'a Wiedervorlage for today is due');
  await axe(office, 'postkorb-bearbeitung');
  await office.goto(`${BASE}/verwaltung/heinsberg?zustaendig=mir&faellig=1`);
  check((await office.textContent('table.postkorb')).includes(ref.trim()), '"Meine Anträge" with a due Wiedervorlage lists it');
  check((await office.textContent('table.postkorb')).includes('fällig'), 'the list marks the Wiedervorlage as due');
  await axe(office, 'postkorb-meine-faellig');
  await office.goto(`${BASE}/verwaltung/heinsberg?suche=bello`);
  check((await office.textContent('table.postkorb')).includes(ref.trim()), 'the search by an answer finds it');
  await second.goto(statusUrl);
  check(!(await second.textContent('main')).includes('Farbe mit Foto'), 'the citizen never sees the internal note');
  await office.click(`a:has-text("${ref.trim()}")`);
  await office.selectOption('#neuer-status', 'abgeschlossen');
  await office.fill('#kommentar', 'Die Anmeldung ist erledigt.');
  await office.click('button:has-text("Status speichern")');
  check((await office.textContent('#status-aktuell')).includes('Abgeschlossen'), 'the case worker closes it');

  await second.goto(statusUrl);
  check((await second.textContent('.status-now')).toLowerCase().includes('abgeschlossen'), 'the citizen sees "abgeschlossen"');
  await axe(second, 'status-abgeschlossen');
} finally {
  await browser.close();
}
if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('browser tests passed');
