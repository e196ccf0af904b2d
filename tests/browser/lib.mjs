// What the browser tests share: counting checks, axe-core on a page state (0 WCAG 2.1 A/AA
// violations, with a screenshot), waiting for a form post to settle, answering a field by its
// name whatever its widget, and the text of a PDF (pdftotext).
import { readFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// The checks of one test: `check` prints and counts, `done` exits 1 if any failed.
export function checks() {
  const c = { failures: 0 };
  c.check = (ok, what) => {
    if (ok) { console.log(`ok   ${what}`); } else { c.failures++; console.log(`FAIL ${what}`); }
  };
  c.done = (name) => {
    if (c.failures > 0) {
      console.log(`${c.failures} check(s) failed`);
      process.exit(1);
    }
    console.log(`${name}: all checks passed`);
  };
  return c;
}

export function within(ms, promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise.finally(() => clearTimeout(timer)), late]);
}

/// axe-core on `page`; the screenshot goes to `${shots}/${prefix}-${name}.png`.
export function axeChecker(c, shots, prefix) {
  mkdirSync(shots, { recursive: true });
  return async (page, name) => {
    let result;
    for (let attempt = 1; attempt <= 2 && !result; attempt++) {
      try {
        await within(60000, page.evaluate(AXE), `axe-core loading on ${name}`);
        result = await within(60000, page.evaluate(() =>
          // eslint-disable-next-line no-undef
          axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })),
        `axe-core on ${name}`);
      } catch (e) {
        console.log(`  axe ${name}: attempt ${attempt}: ${e.message}`);
      }
    }
    if (!result) {
      c.check(false, `axe-core: no WCAG 2.1 AA violations on ${name} (axe-core gave no answer)`);
      return;
    }
    for (const v of result.violations) {
      console.log(`  axe ${name}: ${v.id} (${v.impact}): ${v.help}`);
      for (const n of v.nodes.slice(0, 3)) console.log(`    ${n.target.join(' ')}`);
    }
    c.check(result.violations.length === 0, `axe-core: no WCAG 2.1 AA violations on ${name}`);
    await page.screenshot({ path: `${shots}/${prefix}-${name}.png`, fullPage: true });
  };
}

export async function settle(page) {
  await page.waitForSelector('html:not([data-sending])', { state: 'attached' });
}

/// Clicks `selector` (a submit button) and waits for the page it leads to.
export async function send(page, selector) {
  await page.click(selector);
  await settle(page);
  await page.waitForLoadState('load');
}

/// Answers a field by its name, whatever its widget.
export async function answer(page, name, value) {
  const el = page.locator(`[name="${name}"]`).first();
  const kind = await el.evaluate((e) => `${e.tagName.toLowerCase()}:${e.type ?? ''}`);
  if (kind.startsWith('select')) await page.selectOption(`select[name="${name}"]`, value);
  else if (kind.endsWith(':radio')) await page.check(`input[name="${name}"][value="${value}"]`);
  else if (kind.endsWith(':checkbox')) await page.check(`input[name="${name}"]`);
  else await page.fill(`[name="${name}"]`, value);
}

/// The text of a PDF, whitespace collapsed.
export function pdfText(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'lotse-browser-'));
  writeFileSync(join(dir, 'q.pdf'), bytes);
  return execFileSync('pdftotext', [join(dir, 'q.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

export const launchOptions = () => ({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
