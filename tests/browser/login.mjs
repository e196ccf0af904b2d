// Citizen sign-in in a real browser (Debian's chromium, driven by playwright-core) against a real
// SAML identity provider (pysaml2's, started by login.sh) or a real OpenID provider
// (oidc-provider, started by oidc.sh with LOTSE_LOGIN_KIND=oidc), with axe-core on every page of ours
// (0 WCAG 2.1 A/AA violations): a citizen with an ELSTER-level account (substantial) signs in from
// the Hundesteuer page, finds the owner's name prefilled "aus Ihrem BundID-Konto" and locked,
// applies, finds the application in Mein Konto, signs out (single logout through the provider's
// pages back to Mein Konto) and no longer sees it; a citizen with a
// basic account is asked to sign in with a higher level. Expects `lotse serve` at LOTSE_URL with
// [login] pointing at the IdP (docs/login.md).
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.LOTSE_URL ?? 'http://127.0.0.1:18100';
const SHOTS = process.env.LOTSE_SHOTS ?? '../../target/screenshots';
// The provider kind and what citizens read of it.
const KIND = process.env.LOTSE_LOGIN_KIND ?? 'saml';
const LABEL = KIND === 'oidc' ? 'Servicekonto' : 'BundID';
// The note beside a prefilled answer names the account once: "aus Ihrem BundID-Konto", but
// "aus Ihrem Servicekonto" (never "Servicekonto-Konto").
const FROM_ACCOUNT = /konto/i.test(LABEL) ? `aus Ihrem ${LABEL}` : `aus Ihrem ${LABEL}-Konto`;
const IDP_HEADING = KIND === 'oidc' ? 'Test-Anmeldedienst' : 'BundID';
mkdirSync(SHOTS, { recursive: true });

let failures = 0;
let passes = 0;
function check(ok, what) {
  if (ok) { passes++; console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}`); }
}

async function axe(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  for (const v of result.violations) {
    console.log(`  axe ${name}: ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.log(`    ${n.target.join(' ')}`);
  }
  check(result.violations.length === 0, `axe-core: no WCAG 2.1 AA violations on ${name}`);
  await page.screenshot({ path: `${SHOTS}/anmeldung-${KIND}-${name}.png`, fullPage: true });
}

async function send(page, selector) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
}

// Signs in at the IdP's own login page; the IdP posts its answer back to Lotse by itself.
async function idpLogin(page, user, password) {
  await page.waitForSelector('#user');
  check((await page.textContent('h1')).includes(IDP_HEADING), `the identity provider's login page for ${user}`);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => u.toString().startsWith(BASE), { timeout: 30000 }),
    page.click('button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
}

const SERVICE = `${BASE}/heinsberg/leistung/hundesteuer-anmeldung`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'de-DE' });
  const page = await context.newPage();

  await page.goto(`${BASE}/konto`);
  check((await page.textContent('main')).includes(`Melden Sie sich mit ${LABEL} an`), 'Mein Konto offers to sign in');
  await axe(page, 'konto-abgemeldet');

  // Erika (ELSTER, substantial) signs in from the service page and comes back to it.
  await page.goto(SERVICE);
  check((await page.textContent('.sign-in')).includes('Vertrauensniveau substanziell'), 'the service page offers sign-in at level substantial');
  await axe(page, 'leistung-anmelden');
  await page.click('.sign-in a');
  await idpLogin(page, 'erika', 'passwort-erika');
  check(page.url() === SERVICE, `back on the service page after signing in (${page.url()})`);
  check((await page.textContent('.sign-in')).includes('angemeldet'), 'the service page says she is signed in');
  await axe(page, 'leistung-angemeldet');

  await send(page, 'form[action$="/leistung/hundesteuer-anmeldung"] button[type=submit]');
  check(page.url().endsWith('/schritt/halter'), `the first step (${page.url()})`);
  const main = await page.textContent('main');
  check(main.includes(`(${FROM_ACCOUNT})`) && !main.includes('Konto-Konto') && !main.includes('konto-Konto'),
    `prefilled answers say "${FROM_ACCOUNT}"`);
  check(await page.inputValue('[name="halter.nachname"]') === 'Mustermann', 'the family name is prefilled');
  check(await page.getAttribute('[name="halter.nachname"]', 'readonly') !== null, 'the family name is locked');
  check(await page.getAttribute('[name="anschrift.ort"]', 'readonly') === null
    && await page.inputValue('[name="anschrift.ort"]') === 'Heinsberg', 'the town is prefilled and may be changed');
  await axe(page, 'schritt-vorausgefuellt');
  const anrede = page.locator('[name="halter.anrede"]').first();
  if ((await anrede.evaluate((e) => e.tagName.toLowerCase())) === 'select') {
    await page.selectOption('select[name="halter.anrede"]', { index: 1 });
  } else {
    await anrede.check();
  }
  await page.fill('[name="anschrift.hausnummer"]', '17');
  await send(page, '.actions button[value=weiter]');
  check(page.url().endsWith('/schritt/hunde'), `the dogs step (${page.url()})`);
  await page.fill('#f-hunde-0-name', 'Bello');
  await page.fill('#f-hunde-0-rasse', 'Labrador');
  await page.fill('#f-hunde-0-geburtsdatum', '2022-03-01');
  await page.check('#f-hunde-0-kategorie-0');
  await send(page, '.actions button[value=weiter]');
  await page.fill('#f-haltungsbeginn', '2026-11-01');
  await page.check('#f-zuzug-1');
  await send(page, '.actions button[value=weiter]');
  await page.check('#f-ermaessigung-0');
  await send(page, '.actions button[value=weiter]');
  await page.check('#f-lastschrift-1');
  await send(page, '.actions button[value=weiter]');
  check((await page.textContent('h1')).includes('Bitte prüfen Sie Ihre Angaben'), 'the review page');
  check((await page.textContent('main')).includes('Mustermann'), 'the review shows the prefilled name');
  await page.check('#f-declaration-richtig');
  await send(page, 'button[value=absenden]');
  const ref = (await page.textContent('.panel strong')).trim();
  check(/^HEI-\d{4}-\d{6}$/.test(ref), `submitted with a reference (${ref})`);

  await page.goto(`${BASE}/konto`);
  const konto = await page.textContent('main');
  check(konto.includes('Vertrauensniveau substanziell'), 'Mein Konto: signed in at level substantial');
  check(konto.includes('Hund zur Hundesteuer anmelden') && konto.includes('Eingereicht'), 'Mein Konto lists the submitted application');
  await axe(page, 'konto');
  await page.click('a:has-text("Hund zur Hundesteuer anmelden")');
  await page.waitForLoadState('load');
  check((await page.textContent('main')).includes(ref), 'the application opens from Mein Konto without a code');

  await page.goto(`${BASE}/konto`);
  const visited = [];
  page.on('request', (r) => visited.push(r.url()));
  await send(page, 'form[action="/konto/abmelden"] button');
  if (KIND === 'oidc') {
    // Single logout: the provider asks, ends its session and sends her back to Mein Konto.
    check(!page.url().startsWith(BASE), `the provider's logout page (${page.url().split('?')[0]})`);
    await Promise.all([
      page.waitForURL((u) => u.toString().startsWith(BASE), { timeout: 30000 }),
      page.click('button[name=logout]'),
    ]);
    await page.waitForLoadState('load');
    check(page.url() === `${BASE}/konto`, `back in Mein Konto after the provider's logout (${page.url()})`);
  } else {
    // Single logout by SAML: through the IdP (LogoutRequest, LogoutResponse) back to Mein Konto.
    check(visited.some((u) => u.includes('/slo?SAMLRequest='))
      && visited.some((u) => u.startsWith(`${BASE}/konto/saml/slo?SAMLResponse=`)),
    'sign-out went through the IdP (LogoutRequest) and came back with its LogoutResponse');
    check(page.url() === `${BASE}/konto`, `back in Mein Konto after the IdP's single logout (${page.url()})`);
  }
  const after = await page.textContent('main');
  check(!after.includes('Hund zur Hundesteuer anmelden') && after.includes(`Melden Sie sich mit ${LABEL} an`),
    'after signing out Mein Konto shows nothing of hers');
  await axe(page, 'konto-abgemeldet-danach');
  await context.close();

  // Bruno has a basic account: a workflow that needs substantial asks for a higher level.
  const context2 = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  const page2 = await context2.newPage();
  await page2.goto(SERVICE);
  await page2.click('.sign-in a');
  await idpLogin(page2, 'bruno', 'passwort-bruno');
  const refused = await page2.textContent('main');
  check(refused.includes('Höheres Vertrauensniveau nötig') && refused.includes('LOT-L008'),
    'a basic account is asked to sign in with a higher trust level');
  check((await page2.getAttribute('main a.button', 'href') ?? '').startsWith('/konto/anmelden?ebene=substanziell&zurueck=%2Fheinsberg%2Fleistung%2F'),
    'the page leads to signing in again at level substantial, back to the service');
  await axe(page2, 'niveau-zu-niedrig');
  await context2.close();
} catch (e) {
  failures++;
  console.log(`FAIL ${e.stack ?? e}`);
} finally {
  await browser.close();
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
