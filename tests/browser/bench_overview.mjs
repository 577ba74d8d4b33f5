// The dashboard overview's first render, measured in headless chromium (make bench, through
// tests/bench/bench_dashboard.sh). Usage: node bench_overview.mjs BASE_URL TOKEN [RUNS]
// Signs in with TOKEN, then loads / RUNS times (default 5), each in a fresh page, and prints
// per run the navigation timing (first byte, response end, DOMContentLoaded, load) and the
// first contentful paint, then the median paint against the 300 ms target and against the
// reference measured in the same run: the sign-in page (same server, same CSS and JS, no
// figures) loaded RUNS times without a session, i.e. what the browser costs by itself.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [base, tok, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const { chromium } = require('playwright-core');
const args = ['--disable-gpu', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
const b = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
const timer = setTimeout(() => { console.error('bench_overview: over 5 min'); process.exit(1); }, 300000);
try {
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(`${base}/signin`);
  await p.fill('#token', tok);
  await Promise.all([p.waitForNavigation({ timeout: 120000 }), p.click('form[action="/signin"] [type=submit]')]);
  await p.close();
  const measure = async (c, where, label) => {
    const rows = [];
    for (let i = 0; i < runs; i++) rows.push(await once(c, where, label, i));
    return rows;
  };
  const once = async (c, where, label, i) => {
    const page = await c.newPage();
    const r = await page.goto(`${base}${where}`, { waitUntil: 'load', timeout: 120000 });
    if (!r || r.status() !== 200) throw new Error(`/ answered ${r && r.status()}`);
    const t = await page.evaluate(() => new Promise((resolve) => {
      const nav = performance.getEntriesByType('navigation')[0];
      const fcp = () => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime;
      const done = () => resolve({ ttfb: nav.responseStart, response: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd, fcp: fcp(), bytes: nav.transferSize, cards: document.querySelectorAll('#programs .program').length });
      if (fcp() !== undefined) done(); else setTimeout(done, 1000);
    }));
    console.log(`${label} run ${i + 1}: first contentful paint ${t.fcp === undefined ? '?' : t.fcp.toFixed(0)} ms, response end ${t.response.toFixed(0)} ms (first byte ${t.ttfb.toFixed(0)} ms), DOMContentLoaded ${t.dcl.toFixed(0)} ms, load ${t.load.toFixed(0)} ms, ${t.bytes} bytes, ${t.cards} program card(s)`);
    await page.close();
    return t;
  };
  const anon = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const ref = await measure(anon, '/signin', 'reference /signin');
  const rows = await measure(ctx, '/', 'overview /');
  const med = (rs, k) => { const v = rs.map((r) => r[k]).filter((x) => x !== undefined).sort((x, y) => x - y); return v[(v.length - 1) >> 1]; };
  const fcp = med(rows, 'fcp'), rfcp = med(ref, 'fcp');
  console.log(`overview first render, median of ${runs}: first contentful paint ${fcp.toFixed(0)} ms (runs: ${rows.map((r) => (r.fcp || 0).toFixed(0)).join(' ')}), response end ${med(rows, 'response').toFixed(0)} ms, load ${med(rows, 'load').toFixed(0)} ms; ratio to the 300 ms target: ${(fcp / 300).toFixed(2)}; ratio to the sign-in page's paint in the same run (${rfcp.toFixed(0)} ms): ${(fcp / rfcp).toFixed(2)} (load average ${(await import('node:os')).loadavg()[0].toFixed(2)})`);
} finally {
  clearTimeout(timer);
  await b.close();
}
