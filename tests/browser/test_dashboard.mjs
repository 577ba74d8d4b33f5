// Browser test: the program manager's dashboard (docs/dashboard.md) in headless chromium.
// A workspace with a matched program (some pairs approved, some proposals left to review, a
// session that has started) and three tokens (manage "alice" signs in, manage "bob" writes
// through the API, read "viewer"). Checked: a page without a session goes to the sign-in; a
// wrong token is refused; alice signs in (the cookie is HttpOnly and SameSite=Strict); every
// page answers 200 with one <h1> and <main id="main">, is screenshotted (not blank), has no
// serious or critical axe-core violation and weighs under 150 KB of its own HTML, CSS and
// JavaScript; approving a proposal on the review page shows it approved through the API, with
// alice as the actor; a participant's check-in link marks the session held on the calendar
// page; an event made through the API arrives on the open events page without a reload; a
// forged form posted from a page of another origin (a second local server) is refused and
// changes nothing, with or without the stolen csrf value; a read-scope session sees no action
// form; signing out ends the session.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { main, step, check, ok, fail, newWorkspace, seedProgram, must, sql, token, serve, browser, shot, axe, api, weigh } from './lib.mjs';

const P = 'digital-2027';
const KB = 1024;

// submit(form): the form's submit button (a <button> without a type submits too).
const submit = (form) => form.locator('button:not([type=button]):not([type=reset]), input[type=submit]').first();
const SIGNIN = 'form[action="/signin"]';

// visit(page, base, p, name): opens p, checks status, landmarks, screenshot, axe and weight.
async function visit(page, base, p, name) {
  step(`visit ${p}`);
  const bytes = weigh(page, base);
  const r = await page.goto(base + p, { waitUntil: 'load' });
  if (!check(`${name}: 200`, r && r.status() === 200, `${p}: status ${r && r.status()}`)) return false;
  await page.waitForLoadState('networkidle').catch(() => {});
  check(`${name}: one h1`, await page.locator('h1').count() === 1, p);
  check(`${name}: main#main`, await page.locator('main#main').count() === 1, p);
  check(`${name}: skip link`, await page.locator('a[href="#main"]').count() >= 1, p);
  await shot(page, `dashboard-${name}`);
  await axe(page, name);
  const w = bytes();
  console.log(`page ${p}: ${w.total} bytes (${w.parts.join(', ')})`);
  check(`${name}: under 150 KB`, w.total > 0 && w.total < 150 * KB, `${w.total} bytes: ${w.parts.join(', ')}`);
  return true;
}

// A second origin: serves one page whose form posts to the dashboard on load.
function evilServer(html) {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html());
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

main(async () => {
  step('workspace');
  const ws = newWorkspace();
  seedProgram(ws, P, 120, 7);
  const proposed = JSON.parse(must('match list', ws, 'match', 'list', '--program', P, '--status', 'proposed', '--json'));
  check('enough proposals', proposed.length >= 8, `${proposed.length}`);
  const keep = proposed.slice(0, 4).map((m) => m.id); // left proposed: approved in the browser, forged, rejected
  must('approve most', ws, 'match', 'approve', ...proposed.slice(4).map((m) => String(m.id)));
  const m = proposed[4].id;
  const soon = new Date(Date.now() + 2 * 3600e3).toISOString().slice(0, 13) + ':00:00Z';
  sql(ws, `INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
           VALUES (${m}, '${soon}', 45, 'Europe/Paris', 'manual', '[]', 'x', 'x')`);
  const s = sql(ws, `SELECT id FROM sessions WHERE match_id=${m}`);
  const mentorId = sql(ws, `SELECT mentor_id FROM matches WHERE id=${m}`);
  const lua = path.join(ws, 'tandem.lua');
  fs.writeFileSync(lua, fs.readFileSync(lua, 'utf8').replace(/^workspace \{/m,
    'workspace {\n  public_url = "https://mentoring.example.org/t",'));
  must('remind', ws, 'outbox', 'remind', '--lead', '3');
  const link = (sql(ws, `SELECT body FROM outbox WHERE idempotency_key='reminder:${s}:${mentorId}'`)
    .match(/\/c\/([A-Za-z0-9_-]+)/) || [])[1];
  check('check-in link', !!link);
  sql(ws, `UPDATE sessions SET starts_at=strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-1 hours') WHERE id=${s}`);
  const month = sql(ws, `SELECT substr(starts_at, 1, 7) FROM sessions WHERE id=${s}`);
  const alice = token(ws, 'alice', 'manage');
  const bob = token(ws, 'bob', 'manage');
  const viewer = token(ws, 'viewer', 'read');

  step('serve');
  const srv = await serve(ws);
  const B = srv.base;
  const b = await browser();
  const ctx = await b.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('dialog', (d) => d.accept()); // the script's confirm dialogs

  // ---- sign-in ----------------------------------------------------------------------------------
  step('sign-in');
  await page.goto(`${B}/`);
  check('no session: to /signin', new URL(page.url()).pathname === '/signin', page.url());
  await visit(page, B, '/signin?next=%2F', 'signin');
  await page.fill('#token', 'not-a-token');
  const bad = await Promise.all([page.waitForNavigation(), submit(page.locator(SIGNIN)).click()]);
  check('wrong token: 401', bad[0] && bad[0].status() === 401, `status ${bad[0] && bad[0].status()}`);
  check('wrong token: message', await page.locator('#signin-error').count() === 1);
  await axe(page, 'signin-refused');
  await page.fill('#token', alice);
  await Promise.all([page.waitForNavigation(), submit(page.locator(SIGNIN)).click()]);
  check('signed in: on /', new URL(page.url()).pathname === '/', page.url());
  const cookie = (await ctx.cookies()).find((c) => c.name === 'tandem_session');
  check('session cookie', cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/',
    JSON.stringify(cookie));

  // ---- every page -------------------------------------------------------------------------------
  step('every page');
  const pages = [
    ['/', 'overview'], [`/p/${P}`, 'program'], [`/p/${P}/review`, 'review'],
    [`/p/${P}/compare?a=digital_upskilling&b=cross_department`, 'compare'],
    [`/p/${P}/sessions?view=month&month=${month}&tz=UTC`, 'sessions-month'], [`/p/${P}/sessions?view=list&tz=UTC`, 'sessions-list'],
    [`/p/${P}/health`, 'health'], [`/p/${P}/rewards`, 'rewards'], [`/p/${P}/reports`, 'reports'], ['/events', 'events'],
  ];
  for (const [p, name] of pages) await visit(page, B, p, name);
  await page.goto(`${B}/`);
  check('overview: the program card', await page.locator(`#programs .program[data-program="${P}"]`).count() === 1);

  // ---- keyboard: the first Tab reaches the skip link, which leads to <main> ---------------------
  step('keyboard: the first Tab reaches the skip link, which leads to <main>');
  await page.goto(`${B}/p/${P}/review`);
  await page.keyboard.press('Tab');
  check('keyboard: first Tab on the skip link',
    await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('href') === '#main'),
    await page.evaluate(() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)));
  await page.keyboard.press('Enter');
  check('keyboard: skip link to #main', new URL(page.url()).hash === '#main', page.url());

  // ---- a phone: no page wider than the screen ---------------------------------------------------
  step('a phone: no page wider than the screen');
  const phone = await b.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    deviceScaleFactor: 1, storageState: await ctx.storageState() });
  const pp = await phone.newPage();
  for (const [p, name] of [['/', 'overview'], [`/p/${P}/review`, 'review'], [`/p/${P}/sessions?view=month&month=${month}&tz=UTC`, 'sessions-month'],
    [`/p/${P}/health`, 'health'], ['/events', 'events']]) {
    await pp.goto(B + p);
    const w = await pp.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
    check(`phone: ${name} fits 390 px`, w.doc <= w.view + 1, `${p}: page ${w.doc} px wide in a ${w.view} px screen`);
    await shot(pp, `dashboard-phone-${name}`);
  }
  await phone.close();

  // ---- dates in the viewer's zone ---------------------------------------------------------------
  step("dates in the viewer's zone");
  const tokyo = await b.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-GB', storageState: await ctx.storageState() });
  const tp = await tokyo.newPage();
  await tp.goto(`${B}/events`);
  await tp.waitForLoadState('networkidle').catch(() => {});
  const t0 = await tp.locator('time[datetime]').first().evaluate((t) => ({ iso: t.getAttribute('datetime'), text: t.textContent }));
  const local = new Date(new Date(t0.iso).getTime() + 9 * 3600e3).toISOString().slice(11, 16); // Tokyo: UTC+9, no DST
  check('dates in the viewer\'s zone', t0.text.includes(local), `${t0.iso} shown as '${t0.text}', want ${local} (Asia/Tokyo)`);
  // The calendar's days: drawn in the workspace's zone, asked again in the viewer's by the script.
  await tp.goto(`${B}/p/${P}/sessions?view=month&month=${month}`);
  const moved = await tp.waitForURL(/[?&]tz=Asia%2FTokyo/, { timeout: 10000 }).then(() => true, () => false);
  check('calendar asked in the viewer\'s zone', moved, tp.url());
  const zone = await tp.locator('#zone').getAttribute('data-zone').catch(() => null);
  check('calendar days in Asia/Tokyo', zone === 'Asia/Tokyo', `data-zone=${zone}`);
  await tokyo.close();

  // ---- approve a proposal -----------------------------------------------------------------------
  step('approve a proposal');
  const target = keep[0];
  await page.goto(`${B}/p/${P}/review`);
  const row = page.locator(`tr[data-match="${target}"]`);
  check('review: the proposal row', await row.count() === 1, `match ${target}`);
  await Promise.all([page.waitForNavigation(),
    submit(row.locator(`form[action="/p/${P}/matches/${target}/approve"]`)).click()]);
  const got = await api(B, viewer, 'GET', `/api/v1/matches/${target}`);
  check('approved through the API', got.json && got.json.status === 'approved', got.text.slice(0, 300));
  check('decided by alice', got.json && got.json.decided_by === 'alice', got.text.slice(0, 600));
  const actor = sql(ws, `SELECT actor FROM events WHERE kind='match.approved' ORDER BY id DESC LIMIT 1`);
  check('event actor is alice', actor === 'alice', actor);
  check('flash after the action', await page.locator('#flash').count() === 1);

  // ---- check in through a participant's link, held on the calendar ------------------------------
  step("check in through a participant's link, held on the calendar");
  const cp = await ctx.newPage();
  await cp.goto(`${B}/c/${link}`);
  await cp.getByLabel('Yes, we met').check();
  await Promise.all([cp.waitForNavigation(), cp.getByRole('button', { name: 'Record' }).click()]);
  const said = await cp.textContent('body');
  check('check-in recorded', /recorded|thank/i.test(said), said.slice(0, 300));
  await cp.close();
  await page.goto(`${B}/p/${P}/sessions?view=month&month=${month}&tz=UTC`);
  const sess = page.locator(`[data-session="${s}"]`);
  check('calendar: the session', await sess.count() >= 1, `session ${s}`);
  check('calendar: held', (await sess.first().getAttribute('data-state')) === 'held',
    `data-state=${await sess.first().getAttribute('data-state')}`);
  await shot(page, 'dashboard-sessions-held');

  // ---- the live feed ----------------------------------------------------------------------------
  step('the live feed');
  await page.goto(`${B}/events`);
  await page.waitForLoadState('networkidle').catch(() => {});
  const before = await page.locator('#events li[data-event]').evaluateAll((els) => els.map((e) => Number(e.dataset.event)));
  const top = Math.max(0, ...before);
  const rej = await api(B, bob, 'POST', `/api/v1/matches/${keep[3]}/reject`, {});
  check('reject through the API', rej.status === 200, `${rej.status} ${rej.text.slice(0, 300)}`);
  let arrived = false;
  try {
    await page.waitForFunction((t) => [...document.querySelectorAll('#events li[data-event]')]
      .some((e) => Number(e.dataset.event) > t), top, { timeout: 15000 });
    arrived = true;
  } catch { /* counted below */ }
  check('event arrives live', arrived, `no li[data-event] above ${top} within 15 s`);
  await shot(page, 'dashboard-events-live');

  // ---- a forged cross-site post -----------------------------------------------------------------
  step('a forged cross-site post');
  const victim = keep[1];
  await page.goto(`${B}/p/${P}/review`);
  const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
  const digest0 = sql(ws, 'SELECT count(*), max(id) FROM events') + sql(ws, `SELECT status FROM matches WHERE id=${victim}`);
  for (const withCsrf of [false, true]) {
    const evil = await evilServer(() => `<!DOCTYPE html><html lang="en"><title>prize</title><body>
      <form id="f" method="post" action="${B}/p/${P}/matches/${victim}/approve">
      ${withCsrf ? `<input type="hidden" name="csrf" value="${csrf}">` : ''}</form>
      <script>document.getElementById('f').submit()</script></body></html>`);
    try {
      const ep = await ctx.newPage();
      const answers = [];
      ep.on('response', (r) => { if (r.url().includes(`/matches/${victim}/approve`)) answers.push(r.status()); });
      await ep.goto(`http://127.0.0.1:${evil.address().port}/`);
      await ep.waitForURL((u) => u.href.startsWith(B), { timeout: 10000 }).catch(() => {});
      await ep.waitForLoadState('load');
      check(`forged post (${withCsrf ? 'stolen csrf' : 'no csrf'}) refused`, answers.length === 1 && answers[0] === 403,
        `answers ${JSON.stringify(answers)}`);
      if (!withCsrf) {
        await shot(ep, 'dashboard-refused');
        await axe(ep, 'refused');
      }
      await ep.close();
    } finally {
      evil.close();
    }
  }
  const digest1 = sql(ws, 'SELECT count(*), max(id) FROM events') + sql(ws, `SELECT status FROM matches WHERE id=${victim}`);
  check('forged posts changed nothing', digest0 === digest1, `${digest0} -> ${digest1}`);
  const still = await api(B, viewer, 'GET', `/api/v1/matches/${victim}`);
  check('victim still proposed', still.json && still.json.status === 'proposed', still.text.slice(0, 200));

  // ---- read scope -------------------------------------------------------------------------------
  step('read scope');
  const rctx = await b.newContext();
  const rp = await rctx.newPage();
  await rp.goto(`${B}/signin`);
  await rp.fill('#token', viewer);
  await Promise.all([rp.waitForNavigation(), submit(rp.locator(SIGNIN)).click()]);
  await rp.goto(`${B}/p/${P}/review`);
  check('read scope: review page', (await rp.locator('#proposals').count()) === 1);
  check('read scope: no action forms', (await rp.locator('form[action*="/matches/"]').count()) === 0);
  await rctx.close();

  // ---- sign out ---------------------------------------------------------------------------------
  step('sign out');
  await page.goto(`${B}/`);
  await Promise.all([page.waitForNavigation(), submit(page.locator('form#signout')).click()]);
  check('signed out: on /signin', new URL(page.url()).pathname === '/signin', page.url());
  await page.goto(`${B}/p/${P}/review`);
  check('after sign-out: back to /signin', new URL(page.url()).pathname === '/signin', page.url());
  ok();
});
