// Screenshots of a running dashboard for the docs: node shoot.mjs BASE_URL TOKEN OUT.png [PATH]
// Signs in with TOKEN in headless chromium and saves PATH (default /) at 1200 px wide, the
// first 760 px of it, as OUT.png (tests/browser/demo_screenshot.sh: docs/img/dashboard.png).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [base, tok, out, where = '/'] = process.argv.slice(2);
if (!out) { console.error('usage: node shoot.mjs BASE_URL TOKEN OUT.png [PATH]'); process.exit(2); }
const { chromium } = require('playwright-core');
const args = ['--disable-gpu', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
const b = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
const timer = setTimeout(() => { console.error('shoot: over 2 min'); process.exit(1); }, 120000);
try {
  const p = await b.newPage({ viewport: { width: 1200, height: 760 } });
  await p.goto(`${base}/signin`);
  await p.fill('#token', tok);
  await Promise.all([p.waitForNavigation(),
    p.locator('form[action="/signin"]').locator('button:not([type=button]), input[type=submit]').first().click()]);
  const r = await p.goto(base + where, { waitUntil: 'networkidle' });
  if (!r || r.status() !== 200) throw new Error(`${where} answered ${r && r.status()}`);
  await p.screenshot({ path: out });
  console.log(`shoot: ${where} -> ${out}`);
} finally {
  clearTimeout(timer);
  await b.close();
}
