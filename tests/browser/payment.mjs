// Online payment in a real browser (Debian's chromium, driven by playwright-core), with axe-core
// on every new page state (0 WCAG 2.1 A/AA violations): a citizen applies for a
// Bewohnerparkausweis, sees the amount on the review page, pays at the payment platform simulator,
// comes back to "bezahlt", finds amount, method and transaction id on the receipt (pdftotext) and
// the case worker finds the payment in the Postkorb. A second citizen closes the browser right
// after paying (the platform never notifies): the submission still arrives, through the
// reconciliation job. A fourth pays by SEPA direct debit: the review page shows the mandate's
// full text with Heinsberg's creditor id, the receipt and the Postkorb show the mandate. A fifth
// is charged another amount than requested at the platform: the page says calmly that the
// payment is being cleared up (not "bezahlt"), and the Postkorb shows "nicht bezahlt". Expects `lotse serve` at LOTSE_URL with Heinsberg connected to
// `lotse paysim` (docs/payment.md), and a case worker (LOTSE_CASEWORKER_PASSWORD).
import { chromium } from 'playwright-core';
import { answer, axeChecker, checks, launchOptions, pdfText, send } from './lib.mjs';

const BASE = process.env.LOTSE_URL ?? 'http://127.0.0.1:18090';
const SHOTS = process.env.LOTSE_SHOTS ?? '../../target/screenshots';

const c = checks();
const check = c.check;
const axe = axeChecker(c, SHOTS, 'zahlung');

const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });

// A Bewohnerparkausweis for two years, paid online (or as `zahlung` answers), up to the review
// page.
async function applyUntilReview(page, nachname, zahlung = [['zahlungsart', 'online']]) {
  await page.goto(`${BASE}/heinsberg/leistung/bewohnerparkausweis`);
  await page.click('text=Antrag starten');
  await page.waitForLoadState('load');
  const weiter = () => send(page, '.actions button[value=weiter]');
  for (const [name, value] of [
    ['person.anrede', 'Herr'], ['person.vorname', 'Jan'], ['person.nachname', nachname],
    ['person.geburtsdatum', '1979-08-23'],
    ['meldeadresse.strasse', 'Hochstraße'], ['meldeadresse.hausnummer', '112'],
    ['meldeadresse.plz', '52525'], ['meldeadresse.ort', 'Heinsberg'],
    ['kontakt.email', 'jan@example.org'], ['zone', 'A'], ['wohnt_in_zone', true],
  ]) await answer(page, name, value);
  await weiter();
  for (const [name, value] of [
    ['fahrzeug.kennzeichen', 'HS-JH 112'], ['fahrzeug.hersteller', 'Volkswagen'],
    ['fahrzeug.modell', 'Golf'], ['fahrzeug.fahrzeugart', 'Pkw'], ['fahrzeug.halter_art', 'privat'],
  ]) await answer(page, name, value);
  await answer(page, 'auf_sie_zugelassen', 'ja');
  await weiter();
  await answer(page, 'jahre', '2');
  await answer(page, 'beginn', today);
  await weiter();
  for (const [name, value] of zahlung) await answer(page, name, value);
  await weiter();
}

const CREDITOR_ID = 'DE98ZZZ09999999999';
const MANDATE = 'Ich ermächtige Stadt Heinsberg, Zahlungen von meinem Konto mittels Lastschrift einzuziehen.';

async function sendAndPay(page) {
  await page.check('input[name="_declare"][value="richtig"]');
  await page.check('input[name="_declare"][value="rueckgabe"]');
  await send(page, 'button[value=absenden]');
}

const launch = () => chromium.launch(launchOptions());
const browser = await launch();
let reference = '';
let transaction = '';
let mandateReference = '';
let mismatchReference = '';
try {
  // 1. Pay, come back, "bezahlt", the receipt.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
  const page = await context.newPage();
  await applyUntilReview(page, 'Hermanns');
  check(page.url().endsWith('/pruefen'), 'the review page after the last step');
  const review = await page.textContent('main');
  check(review.includes('61,40 €'), 'the review page shows the amount, 61,40 €');
  check(review.includes('Bewohnerparkausweis (Kassenzeichen nach dem Absenden)'), 'the review page shows the purpose');
  check((await page.textContent('button[value=absenden]')).includes('Absenden und bezahlen'), 'the button says "Absenden und bezahlen"');
  await axe(page, 'pruefen');
  await sendAndPay(page);
  check(/\/heinsberg\/zahlung\/[0-9a-f]{32}$/.test(page.url()), 'sending leads to the payment page');
  check((await page.textContent('#zahlungsstatus')).includes('offen'), 'the payment is open');
  await axe(page, 'offen');
  const paymentUrl = page.url();
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("Weiter zur Bezahlung")')]);
  check((await page.textContent('#betrag')).includes('61,40 €'), 'the platform charges the amount the citizen saw');
  await axe(page, 'plattform');
  await page.check('#methode-giropay');
  await page.check('#ergebnis-paid');
  await page.check('#benachrichtigung-now');
  await Promise.all([page.waitForURL(paymentUrl), page.click('button:has-text("Weiter")')]);
  check((await page.textContent('#zahlungsstatus')).includes('bezahlt'), 'back from the platform: "bezahlt"');
  const main = await page.textContent('main');
  transaction = (main.match(/TX-[0-9A-F]+/) ?? [''])[0];
  check(transaction !== '', 'the page shows the transaction id');
  await axe(page, 'bezahlt');
  // A reload of the return URL changes nothing.
  await page.goto(`${paymentUrl}/zurueck`);
  check((await page.textContent('#zahlungsstatus')).includes('bezahlt'), 'reloading the return URL: still "bezahlt"');
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("Zur Eingangsbestätigung")')]);
  reference = (await page.textContent('.panel strong')).trim();
  check(reference.startsWith('HEI-'), `the confirmation names the reference ${reference}`);
  const pdf = await page.request.get(`${page.url()}/quittung.pdf`);
  const text = pdfText(await pdf.body());
  check(text.includes('61,40 €'), 'the receipt shows the amount');
  check(text.includes('giropay'), 'the receipt shows the method');
  check(text.includes(transaction), 'the receipt shows the transaction id');
  await context.close();

  // 2. Paid, and the browser closed at once (a browser of its own, ended): the platform never
  // notifies.
  const browser2 = await launch();
  const context2 = await browser2.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  const page2 = await context2.newPage();
  await applyUntilReview(page2, 'Geschlossen');
  await sendAndPay(page2);
  const paymentUrl2 = page2.url();
  // First cancelled at the platform: nothing charged, "Erneut versuchen".
  await Promise.all([page2.waitForNavigation(), page2.click('a:has-text("Weiter zur Bezahlung")')]);
  await page2.check('#ergebnis-cancelled');
  await Promise.all([page2.waitForURL(paymentUrl2), page2.click('button:has-text("Weiter")')]);
  check((await page2.textContent('#zahlungsstatus')).includes('abgebrochen'), 'cancelled at the platform: "abgebrochen"');
  check((await page2.textContent('main')).includes('Es wurde nichts abgebucht'), 'the page says nothing was charged');
  await axe(page2, 'abgebrochen');
  await send(page2, 'button:has-text("Erneut versuchen")');
  check((await page2.textContent('#zahlungsstatus')).includes('offen'), '"Erneut versuchen" opens a new payment');
  await Promise.all([page2.waitForNavigation(), page2.click('a:has-text("Weiter zur Bezahlung")')]);
  await page2.route('**/zurueck', (route) => route.abort());
  await page2.check('#ergebnis-paid');
  await page2.check('#benachrichtigung-never');
  await page2.click('button:has-text("Weiter")').catch(() => {});
  await browser2.close();

  // 3. Without JavaScript: the same way, forms and links only.
  const context3 = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE', javaScriptEnabled: false });
  const page3 = await context3.newPage();
  await applyUntilReview(page3, 'Ohneskript');
  check((await page3.textContent('main')).includes('61,40 €'), 'without JavaScript: the review page shows the amount');
  await sendAndPay(page3);
  const paymentUrl3 = page3.url();
  check(/\/zahlung\/[0-9a-f]{32}$/.test(paymentUrl3), 'without JavaScript: sending leads to the payment page');
  await Promise.all([page3.waitForNavigation(), page3.click('a:has-text("Weiter zur Bezahlung")')]);
  await page3.check('#ergebnis-paid');
  await Promise.all([page3.waitForURL(paymentUrl3), page3.click('button:has-text("Weiter")')]);
  check((await page3.textContent('#zahlungsstatus')).includes('bezahlt'), 'without JavaScript: back from the platform, "bezahlt"');
  await context3.close();

  // 4. SEPA direct debit: the full mandate with the creditor id before sending, then on the
  // confirmation and the receipt.
  const context4 = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
  const page4 = await context4.newPage();
  await applyUntilReview(page4, 'Lastschrift', [
    ['zahlungsart', 'lastschrift'], ['konto.kontoinhaber', 'Jan Lastschrift'],
    ['konto.iban', 'DE89370400440532013000'],
  ]);
  const review4 = (await page4.textContent('main')).replace(/\s+/g, ' ');
  check(review4.includes('SEPA-Lastschriftmandat') && review4.includes(MANDATE), 'the review page shows the full SEPA mandate text');
  check(review4.includes('acht Wochen'), 'the review page shows the refund note of the mandate');
  check(review4.includes(CREDITOR_ID), `the review page shows Heinsberg's creditor id ${CREDITOR_ID}`);
  await axe(page4, 'mandat-pruefen');
  await sendAndPay(page4);
  const done4 = (await page4.textContent('main')).replace(/\s+/g, ' ');
  mandateReference = (await page4.textContent('.panel strong')).trim();
  check(mandateReference.startsWith('HEI-') && done4.includes(CREDITOR_ID), `the confirmation shows the mandate with its reference ${mandateReference}`);
  const pdf4 = await page4.request.get(`${page4.url()}/quittung.pdf`);
  const text4 = pdfText(await pdf4.body());
  check(text4.includes('SEPA-Lastschriftmandat') && text4.includes(CREDITOR_ID) && text4.includes(mandateReference),
    'the receipt shows the mandate with creditor id and mandate reference');
  await context4.close();

  // 5. The platform charges another amount than requested: never "bezahlt".
  const context5 = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  const page5 = await context5.newPage();
  await applyUntilReview(page5, 'Abweichung');
  await sendAndPay(page5);
  const paymentUrl5 = page5.url();
  await Promise.all([page5.waitForNavigation(), page5.click('a:has-text("Weiter zur Bezahlung")')]);
  await page5.check('#ergebnis-paid');
  await page5.check('#benachrichtigung-now');
  await page5.fill('#betrag-cents', '6000');
  await Promise.all([page5.waitForURL(paymentUrl5), page5.click('button:has-text("Weiter")')]);
  const status5 = await page5.textContent('#zahlungsstatus');
  check(status5.includes('Betrag abweichend') && !/:\s*bezahlt/.test(status5), 'another amount at the platform: "Betrag abweichend, nicht bezahlt", not "bezahlt"');
  const main5 = await page5.textContent('main');
  check(main5.includes('Wir klären Ihre Zahlung') && main5.includes('Bitte bezahlen Sie nicht noch einmal') && main5.includes('60,00 €'),
    'the page says calmly what happens, with the amount reported');
  check(!main5.includes('Erneut versuchen'), 'no second payment is offered');
  await axe(page5, 'betrag-abweichend');
  for (let i = 0; i < 50 && !mismatchReference; i++) {
    const link = page5.locator('a:has-text("Zur Eingangsbestätigung")');
    if (await link.count()) {
      await Promise.all([page5.waitForNavigation(), link.click()]);
      mismatchReference = (await page5.textContent('.panel strong')).trim();
    } else {
      await new Promise((r) => setTimeout(r, 200));
      await page5.reload();
    }
  }
  check(mismatchReference.startsWith('HEI-'), `the application still reached the office: ${mismatchReference}`);
  await context5.close();

  // The Postkorb: the first payment with state and transaction id; the second arrives.
  const login = process.env.LOTSE_CASEWORKER_LOGIN ?? 'sachbearbeitung';
  const password = process.env.LOTSE_CASEWORKER_PASSWORD;
  check(Boolean(password), 'LOTSE_CASEWORKER_PASSWORD is set for the Postkorb');
  const officeContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
  const office = await officeContext.newPage();
  await office.goto(`${BASE}/verwaltung/heinsberg/anmelden`);
  await office.fill('#benutzername', login);
  await office.fill('#passwort', password ?? '');
  await office.click('button:has-text("Anmelden")');
  await office.goto(`${BASE}/verwaltung/heinsberg`);
  await office.click(`a:has-text("${reference}")`);
  const detail = await office.textContent('main');
  check(detail.includes('bezahlt') && detail.includes(transaction) && detail.includes('61,40 €'),
    'the Postkorb shows the payment: bezahlt, amount and transaction id');
  await axe(office, 'postkorb-zahlung');
  let arrived = false;
  for (let i = 0; i < 60 && !arrived; i++) {
    await office.goto(`${BASE}/verwaltung/heinsberg?suche=Geschlossen`);
    arrived = (await office.textContent('main')).includes('Jan Geschlossen');
    if (!arrived) await new Promise((r) => setTimeout(r, 1000));
  }
  check(arrived, 'paid with the browser closed and no notification: the submission still arrives');
  await office.goto(`${BASE}/verwaltung/heinsberg`);
  await office.click(`a:has-text("${mandateReference}")`);
  const mandate = (await office.textContent('main')).replace(/\s+/g, ' ');
  check(mandate.includes('SEPA-Lastschriftmandat') && mandate.includes(CREDITOR_ID) && mandate.includes(MANDATE)
    && mandate.includes(mandateReference), 'the Postkorb shows the mandate: text, creditor id, mandate reference');
  await axe(office, 'postkorb-mandat');
  await office.goto(`${BASE}/verwaltung/heinsberg`);
  await office.click(`a:has-text("${mismatchReference}")`);
  const mismatch = (await office.textContent('main')).replace(/\s+/g, ' ');
  check(mismatch.includes('Nicht bezahlt:') && mismatch.includes('60,00 € statt 61,40 €') && mismatch.includes('Betrag abweichend, nicht bezahlt'),
    'the Postkorb shows the amount mismatch: not paid, both amounts');
  await axe(office, 'postkorb-betrag-abweichend');
  await officeContext.close();
} catch (e) {
  check(false, `${e.stack ?? e}`);
} finally {
  await browser.close();
}
c.done('payment browser test');
