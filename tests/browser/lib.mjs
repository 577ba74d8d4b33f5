// Shared harness of the browser tests (tests/browser/test_*.mjs, run by run.sh under ctest):
// pass/fail counting with the suite's "N passed, N failed" line, the built `tandem` run on
// temporary workspaces, `tandem serve --http 127.0.0.1:0` started on a port the system picks
// and killed when the test ends (even on failure or timeout), headless Debian chromium driven
// by playwright-core (--no-sandbox only when running as root), screenshots saved as artifacts
// and checked not blank, axe-core's serious and critical violations, the bytes a page's own
// HTML, CSS and JavaScript weigh, and JSON calls to the HTTP API with a bearer token.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const T = process.env.TANDEM;
export const SRC = process.env.TANDEM_SRCDIR || path.resolve(HERE, '../..');
export const ARTIFACTS = process.env.TANDEM_ARTIFACTS || path.join(os.tmpdir(), 'tandem-browser-artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!T) { console.error('TANDEM must point to the built tandem binary'); process.exit(2); }
fs.mkdirSync(ARTIFACTS, { recursive: true });
export const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-browser.'));

let passed = 0, failed = 0;
const children = [];
let browserHandle = null;

const T0 = Date.now();
// step(what): prints how far into the test a step is (seconds), to see where the time goes.
export function step(what) { console.log(`[${((Date.now() - T0) / 1000).toFixed(1)} s] ${what}`); }
export function ok() { passed++; }
export function fail(name, why) { failed++; console.error(`FAIL: ${name}: ${why}`); }
export function check(name, cond, why = '') { if (cond) ok(); else fail(name, why); return !!cond; }

function killChildren() {
  for (const c of children) { if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); }
}
function removeTmp() { try { fs.rmSync(TMP, { recursive: true, force: true }); } catch { /* best effort */ } }
process.on('exit', () => { killChildren(); removeTmp(); });
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { fail('signal', `stopped by ${sig}`); console.log(`${passed} passed, ${failed} failed`); process.exit(1); });
}

// finish(): closes the browser, stops the servers and exits with the suite's summary line.
export async function finish() {
  if (browserHandle) { try { await browserHandle.close(); } catch { /* already gone */ } }
  for (const c of children) { if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); }
  await Promise.all(children.map((c) => waitExit(c, 5000)));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// main(fn, seconds): runs the test body, counting an exception or the time limit as a failure.
export function main(fn, seconds = 240) {
  const timer = setTimeout(() => { fail('time limit', `still running after ${seconds} s`); finish(); }, seconds * 1000);
  timer.unref();
  fn().catch((e) => fail('exception', e && e.stack ? e.stack : String(e))).finally(finish);
}

function waitExit(c, ms) {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { c.kill('SIGKILL'); resolve(); }, ms);
    c.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

// tandem(ws, ...args): runs the built binary in workspace ws (null: no -C) for at most 10 min.
export function tandem(ws, ...args) {
  const argv = ws ? ['-C', ws, ...args] : args;
  const r = spawnSync(T, argv, { encoding: 'utf8', timeout: 600000, maxBuffer: 64 << 20 });
  return { rc: r.status, out: r.stdout || '', err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}
// must(name, ws, ...args): tandem() that records a failure (and throws) when it exits non-zero.
export function must(name, ws, ...args) {
  const r = tandem(ws, ...args);
  if (r.rc !== 0) { fail(name, `tandem ${args.join(' ')}: exit ${r.rc}: ${r.err.slice(0, 600)}`); throw new Error(`${name} failed`); }
  ok();
  return r.out;
}
// sql(ws, query): the sqlite3 shell's answer on the workspace's database, trimmed.
export function sql(ws, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', path.join(ws, 'tandem.db'), query], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// newWorkspace(): a fresh workspace made by `tandem init` under the test's temporary folder.
export function newWorkspace(name = 'ws') {
  const ws = fs.mkdtempSync(path.join(TMP, `${name}.`));
  must('init', null, 'init', ws);
  return ws;
}

// seedProgram(ws, program, people, seed): gen-org with a survey, import people and
// enrollments, one match run (its proposals left to review).
export function seedProgram(ws, program = 'digital-2027', people = 120, seed = 7) {
  must('gen-org', null, 'gen-org', '--people', String(people), '--seed', String(seed),
    '--out', path.join(ws, 'people.csv'), '--survey', program, '--survey-out', path.join(ws, 'survey.csv'));
  must('import people', ws, 'import', 'people', path.join(ws, 'people.csv'));
  must('import enrollments', ws, 'import', 'enrollments', path.join(ws, 'survey.csv'), '--program', program);
  must('match run', ws, 'match', 'run', '--program', program);
}

// token(ws, name, scope): a new bearer token of that scope.
export function token(ws, name, scope) {
  return must(`token ${name}`, ws, 'tokens', 'create', name, '--scope', scope).trim().split(/\s+/).pop();
}

// serve(ws, ...args): starts `tandem serve --http 127.0.0.1:0` and resolves to its base URL
// once the log names the port; the process is killed when the test ends.
export function serve(ws, ...args) {
  const logPath = path.join(TMP, `serve-${children.length}.log`);
  const log = fs.openSync(logPath, 'w');
  // Bounded by timeout(1) too, so a server outlives no test, however the test is stopped.
  const c = spawn('timeout', ['-k', '5', '400', T, '-C', ws, 'serve', '--http', '127.0.0.1:0', ...args],
    { stdio: ['ignore', log, log] });
  children.push(c);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30000;
    const poll = () => {
      const text = fs.readFileSync(logPath, 'utf8');
      const m = text.match(/http: listening on .* \(port (\d+)\)/);
      if (m) return resolve({ base: `http://127.0.0.1:${m[1]}`, port: Number(m[1]), proc: c, logPath });
      if (c.exitCode !== null || Date.now() > deadline) return reject(new Error(`serve did not start: ${text.slice(0, 800)}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

// track(child): a process of the test's own (e.g. a second local server) stopped at the end.
export function track(child) { children.push(child); return child; }

// browser(): headless Debian chromium through playwright-core.
export async function browser() {
  const { chromium } = require('playwright-core');
  const args = ['--disable-gpu', '--disable-dev-shm-usage'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  browserHandle = await chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 60000 });
  return browserHandle;
}

// colours(png): how many distinct colours a sample of the PNG's pixels has (every 4th row,
// every 3rd pixel: the rule of tests/e2e/png_not_blank.py, decoded here with zlib in a few ms
// where the Python script takes seconds on a tall page).
export function colours(png) {
  if (png.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new Error('not a PNG');
  let pos = 8, width = 0, height = 0, bpp = 4;
  const idat = [];
  while (pos < png.length) {
    const n = png.readUInt32BE(pos), kind = png.subarray(pos + 4, pos + 8).toString('latin1');
    const chunk = png.subarray(pos + 8, pos + 8 + n);
    if (kind === 'IHDR') {
      width = chunk.readUInt32BE(0); height = chunk.readUInt32BE(4);
      if (chunk[8] !== 8) throw new Error(`bit depth ${chunk[8]}`);
      bpp = { 2: 3, 6: 4, 0: 1, 4: 2 }[chunk[9]] || 4;
    } else if (kind === 'IDAT') idat.push(chunk);
    pos += 12 + n;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp, seen = new Set();
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      if (f === 1) line[i] = (line[i] + a) & 255;
      else if (f === 2) line[i] = (line[i] + b) & 255;
      else if (f === 3) line[i] = (line[i] + ((a + b) >> 1)) & 255;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        line[i] = (line[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
    }
    if (y % 4 === 0) for (let x = 0; x + 2 < stride; x += bpp * 3) seen.add((line[x] << 16) | (line[x + 1] << 8) | line[x + 2]);
    prev = line;
  }
  return { width, height, colours: seen.size };
}

// shot(page, name): a full-page screenshot saved as ARTIFACTS/name.png and checked not blank
// (more than 8 colours in colours()'s sample).
export async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  const png = await page.screenshot({ path: file, fullPage: true });
  const c = colours(png);
  check(`screenshot ${name} not blank`, c.colours > 8, `${file}: ${c.width}x${c.height}, ${c.colours} colours`);
  return file;
}

// axe(page, name): axe-core's run on the page; a serious or critical violation fails.
export async function axe(page, name) {
  // Evaluated through the DevTools protocol rather than added as a <script>, so the page's
  // Content-Security-Policy (the check-in pages allow no script) stays in force.
  await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of res.filter((x) => !bad.includes(x))) console.error(`note: axe ${name}: ${v.impact} ${v.id}: ${v.help}`);
  check(`axe ${name}`, bad.length === 0,
    bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join('; '));
  return res;
}

// weigh(page): starts counting the bytes of the page's own HTML, CSS and JavaScript (same
// origin, documents, stylesheets and scripts); the returned function gives the total so far.
export function weigh(page, origin) {
  let total = 0;
  const parts = [];
  page.on('response', async (resp) => {
    const type = resp.request().resourceType();
    if (!['document', 'stylesheet', 'script'].includes(type) || !resp.url().startsWith(origin)) return;
    if (resp.status() >= 300 && resp.status() < 400) return;
    try {
      const body = await resp.body();
      total += body.length;
      parts.push(`${resp.url().slice(origin.length)} ${body.length}`);
    } catch { /* a body that was not kept (e.g. a navigation away): not counted */ }
  });
  return () => ({ total, parts });
}

// api(base, tok, method, path, body): a JSON call to the HTTP API; {status, json}.
export async function api(base, tok, method, p, body) {
  const headers = { Authorization: `Bearer ${tok}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15000) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}
