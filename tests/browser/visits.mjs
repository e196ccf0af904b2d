// Browser test of the Online-Terminvereinbarung (docs/appointments.md) in Debian's chromium with
// axe-core on every page state: a citizen picks a day and a time without JavaScript, books with
// a mistake first, sees the booked visit, the case worker finds it in the day view and marks it,
// the citizen reads the confirmation mail at the test SMTP server (its calendar file parsed by
// Python's icalendar), moves the visit from the mail's link, cancels it, and the time is free
// again. Expects `lotse serve` at LOTSE_URL (the same portal and case worker as e2e.mjs) sending
// through an SMTP server that writes into LOTSE_MAILDIR.
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.LOTSE_URL ?? 'http://127.0.0.1:18080';
const SHOTS = process.env.LOTSE_SHOTS ?? '../../target/screenshots';
// The maildir of the test SMTP server the portal sends through (.ci/run starts it).
const MAILDIR = process.env.LOTSE_MAILDIR;
mkdirSync(SHOTS, { recursive: true });

let failures = 0;
function check(ok, what) {
  if (ok) { console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}`); }
}

// The mails that arrived, read by Python's email and icalendar (read_mail.py).
function mails() {
  if (!MAILDIR || !existsSync(`${MAILDIR}/new`)) return [];
  return JSON.parse(execFileSync('/usr/bin/python3', ['read_mail.py', MAILDIR], { encoding: 'utf8' }));
}

// Waits up to 30 s for a mail whose subject starts with `subject` and whose text names `link`.
async function mailFor(subject, link) {
  for (let i = 0; i < 60; i++) {
    const m = mails().find((x) => x.subject.startsWith(subject) && x.text.includes(link));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
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
      // The confirmation at the test SMTP server: subject, the link, and the calendar file as
      // an independent library reads it.
      check(Boolean(MAILDIR), 'LOTSE_MAILDIR names the test SMTP server\'s maildir');
      const mail = await mailFor('Ihr Termin: Personalausweis beantragen am ', visit);
      check(mail !== null, `[${size}] the confirmation mail arrives with the link to the visit`);
      check(mail?.to === 'Jürgen Schmitz <juergen@example.org>', `[${size}] the mail goes to the citizen by name (${mail?.to})`);
      check(mail?.calendar?.tzid === 'Europe/Berlin' && mail.calendar.start_local.endsWith(` ${time}`),
        `[${size}] the calendar file in the mail starts at ${time} Europe/Berlin (${mail?.calendar?.start_local})`);
      check(mail?.calendar?.url === visit, `[${size}] the calendar file links to the visit`);
      // From the mail, in a fresh browser: move the visit to another time of the day ...
      const fromMail = await (await browser.newContext({ viewport, locale: 'de-DE' })).newPage();
      const link = mail?.text.match(/http:\/\/\S+\/termin\/[0-9a-z]+/)?.[0] ?? visit;
      await fromMail.goto(link);
      check((await fromMail.textContent('h1')).includes('Ihr Termin ist gebucht'), `[${size}] the mail's link opens the booked visit`);
      await fromMail.click('a:has-text("Termin verschieben")');
      check((await fromMail.textContent('h1')).includes('Termin verschieben'), `[${size}] the visit can be moved`);
      await axe(fromMail, `${size}-verschieben`);
      const other = fromMail.locator('fieldset .choice').nth(1);
      const newLabel = (await other.locator('label').textContent()).trim();
      const newTime = newLabel.split(' Uhr')[0];
      await other.locator('input').check();
      await fromMail.click('button:has-text("Auf diese Uhrzeit verschieben")');
      check((await fromMail.textContent('main')).includes(`${newTime} Uhr`), `[${size}] the visit moved to ${newTime} Uhr`);
      const moved = await mailFor('Ihr Termin ist verschoben: Personalausweis beantragen am ', visit);
      check(moved?.calendar?.start_local.endsWith(` ${newTime}`) && moved.calendar.sequence === 1 && moved.calendar.uid === mail?.calendar?.uid,
        `[${size}] the move's mail carries the changed calendar file (same event, sequence 1)`);
      // ... and cancel it there: both times are free again.
      await fromMail.click('button:has-text("Termin absagen")');
      check((await fromMail.textContent('h1')).includes('Der Termin ist abgesagt'), `[${size}] the citizen cancels through the mail's link`);
      await axe(fromMail, `${size}-abgesagt`);
      await fromMail.goto(visit.replace(/\/termin\/.*/, '/termine/personalausweis'));
      await fromMail.click('ul.days li:nth-child(2) a');
      const again = (await fromMail.textContent('fieldset .choice label')).trim();
      check(again === label, `[${size}] the cancelled time is free again (${again}; before the booking: ${label})`);
      await fromMail.context().close();
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
