// Browser test of the Online-Terminvereinbarung (docs/appointments.md) in Debian's chromium with
// axe-core on every page state: a citizen picks a day and a time without JavaScript, books with
// a mistake first, sees the booked visit, the case worker finds it in the day view and marks it,
// the citizen cancels and the time is free again. Expects `lotse serve` at LOTSE_URL (the same
// portal and case worker as e2e.mjs).
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

async function axe(page, name) {
  await page.screenshot({ path: join(SHOTS, `termin-${name}.png`), fullPage: true });
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  for (const v of result.violations) {
    console.log(`  axe ${name}: ${v.id} (${v.impact}): ${v.help}`);
    for (const n of v.nodes.slice(0, 3)) console.log(`    ${n.target.join(' ')}`);
  }
  check(result.violations.length === 0, `axe-core: no WCAG 2.1 AA violations on termin-${name}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const deadline = setTimeout(() => { console.log('FAIL the appointments test ran past 180 s'); process.exit(1); }, 180000);
try {
  for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 800 }]]) {
    const citizen = await browser.newContext({ viewport, locale: 'de-DE' });
    const page = await citizen.newPage();
    page.setDefaultTimeout(30000);
    await page.goto(`${BASE}/heinsberg/termine`);
    check((await page.textContent('h1')).includes('Termin vereinbaren'), `[${size}] the appointments page lists the services`);
    await axe(page, `${size}-anliegen`);
    await page.click('a:has-text("Personalausweis beantragen")');
    await axe(page, `${size}-zeiten`);
    // The second day offered, then its first time.
    await page.click('ul.days li:nth-child(2) a');
    const day = (await page.textContent('legend')).trim();
    const label = (await page.textContent('fieldset .choice label')).trim();
    const time = label.split(' Uhr')[0];
    await page.check('fieldset .choice input[type=radio]');
    await page.click('button:has-text("Diese Uhrzeit reservieren")');
    check((await page.textContent('h1')).includes('Termin reservieren'), `[${size}] the time is held (${day}, ${time} Uhr)`);
    await axe(page, `${size}-reserviert`);
    await page.fill('#email', 'kein-at-zeichen');
    await page.click('button:has-text("Termin verbindlich buchen")');
    check((await page.textContent('.error-summary')).includes('Bitte geben Sie Ihren Namen an.'), `[${size}] a missing name is named`);
    await axe(page, `${size}-fehler`);
    await page.fill('#name', 'Jürgen Schmitz');
    await page.fill('#email', 'juergen@example.org');
    await page.click('button:has-text("Termin verbindlich buchen")');
    check((await page.textContent('h1')).includes('Ihr Termin ist gebucht'), `[${size}] the visit is booked`);
    check((await page.textContent('main')).includes(`${time} Uhr`), `[${size}] the booked page names the time`);
    await axe(page, `${size}-gebucht`);
    const ics = await page.request.get(page.url() + '/termin.ics');
    check(ics.status() === 200 && (await ics.text()).includes('BEGIN:VEVENT'), `[${size}] the calendar file is offered`);
    const visit = page.url();

    if (size === 'desktop') {
      // The case worker sees it in the day view and marks it.
      const office = await (await browser.newContext({ viewport, locale: 'de-DE' })).newPage();
      await office.goto(`${BASE}/verwaltung/heinsberg/anmelden`);
      await office.fill('#benutzername', process.env.LOTSE_CASEWORKER_LOGIN ?? 'sachbearbeitung');
      await office.fill('#passwort', process.env.LOTSE_CASEWORKER_PASSWORD ?? '');
      await office.click('button:has-text("Anmelden")');
      await office.click('header a:has-text("Termine")');
      await office.click('a:has-text("Nächster Tag")');
      // The visit's day: follow "Nächster Tag" until it shows (it is within three weeks).
      for (let i = 0; i < 21 && !(await office.textContent('main')).includes('Jürgen Schmitz'); i++) {
        await office.click('a:has-text("Nächster Tag")');
      }
      check((await office.textContent('main')).includes('Jürgen Schmitz'), 'the case worker finds the visit in the day view');
      await axe(office, 'tagesansicht');
      await office.click(`tr:has-text("Jürgen Schmitz") button[value=erschienen]`);
      check((await office.textContent(`tr:has-text("Jürgen Schmitz")`)).includes('erschienen'), 'the case worker marks the visit as attended');
      // An attended visit can no longer be cancelled by the citizen.
      await office.close();
    } else {
      await page.click('button:has-text("Termin absagen")');
      check((await page.textContent('h1')).includes('Der Termin ist abgesagt'), `[${size}] the citizen cancels through the link`);
      await axe(page, `${size}-abgesagt`);
      await page.goto(visit.replace(/\/termin\/.*/, '/termine/personalausweis'));
      await page.click('ul.days li:nth-child(2) a');
      const again = (await page.textContent('fieldset .choice label')).trim();
      check(again === label, `[${size}] the cancelled time is free again (${again}; before the booking: ${label})`);
    }
    await citizen.close();
  }
} catch (e) {
  failures++;
  console.log(`FAIL the appointments test stopped: ${e.message}`);
} finally {
  clearTimeout(deadline);
  await browser.close();
}
console.log(failures === 0 ? 'appointments: all checks passed' : `appointments: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
