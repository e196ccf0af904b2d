// Nachweise in a real browser (Debian's chromium, driven by playwright-core), with axe-core on
// every new page state (0 WCAG 2.1 A/AA violations), without the page's script doing the
// upload (a normal multipart form): a citizen applies for a Bewohnerparkausweis, uploads the
// lease as a PDF and a photo of page two as a JPEG, sees both listed with name, kind and size,
// gets the EICAR test file refused by the virus scanner with a calm message, removes and keeps
// files, sends, and finds both files with their SHA-256 on the review page and the receipt
// (pdftotext). The case worker downloads both from the Postkorb: the bytes have the hashes the
// receipt states, sent as attachments with `nosniff`. Expects `lotse serve` at LOTSE_URL
// scanning through a clamd that knows EICAR (tests/browser/uploads.sh), a case worker
// (LOTSE_CASEWORKER_PASSWORD) and the EICAR file at LOTSE_EICAR.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { answer, axeChecker, checks, launchOptions, pdfText, send } from './lib.mjs';

const BASE = process.env.LOTSE_URL ?? 'http://127.0.0.1:18120';
const SHOTS = process.env.LOTSE_SHOTS ?? '../../target/screenshots';
const FIXTURES = '../../workflows/bewohnerparken/scenarios/fixtures';
const LEASE = join(FIXTURES, 'mietvertrag.pdf');
const PHOTO = join(FIXTURES, 'mietvertrag-seite2.jpg');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const LEASE_SHA = sha256(readFileSync(LEASE));
const PHOTO_SHA = sha256(readFileSync(PHOTO));

const c = checks();
const check = c.check;
const axe = axeChecker(c, SHOTS, 'nachweise');

const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });

async function upload(page, file) {
  await page.setInputFiles('input[type=file][name="nachweis_wohnung"]', file);
  await send(page, 'button[value=upload]');
  // With the engine in the browser (docs/browser-engine.md) the page is looked at once the
  // engine has run on it: what it shows then is what the citizen sees.
  await page.waitForFunction(() => {
    const form = document.querySelector('form[data-engine]');
    return !form || form.hasAttribute('data-engine-ready') || form.hasAttribute('data-engine-failed');
  }, null, { timeout: 60000 });
}

const browser = await chromium.launch(launchOptions());
let reference = '';
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${BASE}/heinsberg/leistung/bewohnerparkausweis`);
  await page.click('text=Antrag starten');
  await page.waitForLoadState('load');
  const form = page.locator('main form[method=post]').first();
  check(await form.getAttribute('enctype') === 'multipart/form-data', 'the step with a file field posts multipart/form-data');
  check(await form.getAttribute('data-in-place') === null, 'and is not sent in place by the page script');
  for (const [name, value] of [
    ['person.anrede', 'Frau'], ['person.vorname', 'Mia'], ['person.nachname', 'Schmitz'],
    ['person.geburtsdatum', '1990-02-11'],
    ['meldeadresse.strasse', 'Kirchstraße'], ['meldeadresse.hausnummer', '4'],
    ['meldeadresse.plz', '52525'], ['meldeadresse.ort', 'Heinsberg'],
    ['kontakt.email', 'mia@example.org'], ['zone', 'A'], ['wohnt_in_zone', true],
  ]) await answer(page, name, value);
  await axe(page, 'schritt-leer');
  await upload(page, LEASE);
  const list = () => page.textContent('.file-list').catch(() => '');
  check((await list()).includes('mietvertrag.pdf') && (await list()).includes('PDF'), 'the lease is listed with name and kind');
  check(await page.inputValue('[name="person.nachname"]') === 'Schmitz', 'what was typed stays after the upload');
  await axe(page, 'schritt-eine-datei');
  await upload(page, process.env.LOTSE_EICAR);
  const refused = await page.textContent('.error-message').catch(() => '');
  check(refused.includes('Virenscanner hat in dieser Datei Schadsoftware gefunden'), 'EICAR is refused by the virus scanner with a calm message');
  check((await page.textContent('.error-summary')).includes('Schadsoftware'), 'the error summary names it');
  check((await list()).includes('mietvertrag.pdf'), 'the lease stays after the refusal');
  await axe(page, 'schritt-virus');
  await upload(page, PHOTO);
  check((await list()).includes('mietvertrag-seite2.jpg') && (await list()).includes('JPEG-Bild'), 'the photo is listed as a JPEG');
  // Removed and uploaded again.
  await send(page, `button[value="removefile:nachweis_wohnung:${PHOTO_SHA}"]`);
  check(!(await list()).includes('mietvertrag-seite2.jpg'), '"entfernen" removes the photo');
  await page.setInputFiles('input[type=file][name="nachweis_wohnung"]', PHOTO);
  await send(page, '.actions button[value=weiter]');
  check(page.url().endsWith('/schritt/fahrzeug'), '"Speichern und weiter" uploads the chosen file and goes on');
  for (const [name, value] of [
    ['fahrzeug.kennzeichen', 'HS-MS 4'], ['fahrzeug.hersteller', 'Opel'],
    ['fahrzeug.modell', 'Corsa'], ['fahrzeug.fahrzeugart', 'Pkw'], ['fahrzeug.halter_art', 'privat'],
  ]) await answer(page, name, value);
  await answer(page, 'auf_sie_zugelassen', 'ja');
  await send(page, '.actions button[value=weiter]');
  await answer(page, 'jahre', '1');
  await answer(page, 'beginn', today);
  await send(page, '.actions button[value=weiter]');
  await answer(page, 'zahlungsart', 'ueberweisung');
  await send(page, '.actions button[value=weiter]');
  check(page.url().endsWith('/pruefen'), 'the review page after the last step');
  const review = await page.textContent('main');
  check(review.includes(LEASE_SHA) && review.includes(PHOTO_SHA), 'the review page lists both files with their SHA-256');
  await axe(page, 'pruefen');
  await page.check('input[name="_declare"][value="richtig"]');
  await page.check('input[name="_declare"][value="rueckgabe"]');
  await send(page, 'button[value=absenden]');
  check(/\/heinsberg\/eingang\//.test(page.url()), 'sent: the confirmation');
  reference = (await page.textContent('.panel strong')).trim();
  const pdf = await page.request.get(`${page.url()}/quittung.pdf`);
  const text = pdfText(await pdf.body()).replace(/ /g, '');
  check(text.includes(LEASE_SHA) && text.includes(PHOTO_SHA), 'the receipt states both SHA-256');
  check(text.includes('mietvertrag.pdf') && text.includes('mietvertrag-seite2.jpg'), 'the receipt names both files');
  await context.close();

  // The case worker downloads both files from the Postkorb.
  const officeContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE', acceptDownloads: true });
  const office = await officeContext.newPage();
  await office.goto(`${BASE}/verwaltung/heinsberg/anmelden`);
  await office.fill('#benutzername', process.env.LOTSE_CASEWORKER_LOGIN ?? 'sachbearbeitung');
  await office.fill('#passwort', process.env.LOTSE_CASEWORKER_PASSWORD ?? '');
  await office.click('button:has-text("Anmelden")');
  await office.goto(`${BASE}/verwaltung/heinsberg`);
  await office.click(`a:has-text("${reference}")`);
  const detail = await office.textContent('main');
  check(detail.includes('mietvertrag.pdf') && detail.includes(LEASE_SHA), 'the Postkorb lists the lease with its SHA-256');
  await axe(office, 'postkorb-nachweise');
  for (const [name, sha] of [['mietvertrag.pdf', LEASE_SHA], ['mietvertrag-seite2.jpg', PHOTO_SHA]]) {
    const link = office.locator(`a[href*="${sha}"]`).first();
    const href = await link.getAttribute('href');
    const res = await office.request.get(new URL(href, office.url()).toString());
    const headers = res.headers();
    check(res.status() === 200 && sha256(await res.body()) === sha, `the downloaded ${name} has the SHA-256 the receipt states`);
    check((headers['content-disposition'] ?? '').startsWith('attachment'), `${name} is sent as an attachment`);
    check(headers['x-content-type-options'] === 'nosniff', `${name} is sent with nosniff`);
  }
  await officeContext.close();
} catch (e) {
  check(false, `${e.stack ?? e}`);
} finally {
  await browser.close();
}
c.done('uploads browser test');
