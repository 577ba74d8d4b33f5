// Browser test: a participant's check-in link (/c/TOKEN) in headless chromium. A workspace
// with approved pairs gets a session that has started; `tandem outbox remind` with a public
// URL writes each side's link; the mentor opens theirs, the page (no JavaScript) passes
// axe-core and is screenshotted; they pick "Yes, we met", a rating and submit the form; the
// answer page says it is recorded, and the HTTP API (a read token) shows the session held
// with the mentor's check-in. Opening the link again shows it recorded, with no second form.
import fs from 'node:fs';
import path from 'node:path';
import { main, check, newWorkspace, seedProgram, must, sql, token, serve, browser, shot, axe, api, weigh } from './lib.mjs';

const P = 'digital-2027';

main(async () => {
  const ws = newWorkspace();
  seedProgram(ws, P, 60, 5);
  must('approve', ws, 'match', 'approve', '--all', '--program', P);
  const m = sql(ws, "SELECT id FROM matches WHERE status='approved' ORDER BY id LIMIT 1");
  const soon = new Date(Date.now() + 2 * 3600e3).toISOString().slice(0, 13) + ':00:00Z';
  sql(ws, `INSERT INTO sessions (match_id, starts_at, duration_min, timezone, planned_by, agenda, created_at, updated_at)
           VALUES (${m}, '${soon}', 45, 'Europe/Paris', 'manual', '[]', 'x', 'x')`);
  const s = sql(ws, `SELECT id FROM sessions WHERE match_id=${m}`);
  const mentorId = sql(ws, `SELECT mentor_id FROM matches WHERE id=${m}`);
  const mentorExt = sql(ws, `SELECT p.external_id FROM matches m JOIN people p ON p.id=m.mentor_id WHERE m.id=${m}`);
  // The links' host is only what the message shows: the token is what the server checks.
  const lua = path.join(ws, 'tandem.lua');
  fs.writeFileSync(lua, fs.readFileSync(lua, 'utf8').replace(/^workspace \{/m,
    'workspace {\n  public_url = "https://mentoring.example.org/t",'));
  must('remind', ws, 'outbox', 'remind', '--lead', '3');
  const body = sql(ws, `SELECT body FROM outbox WHERE idempotency_key='reminder:${s}:${mentorId}'`);
  const tok = (body.match(/\/c\/([A-Za-z0-9_-]+)/) || [])[1];
  check('reminder carries a link', tok && tok.length > 40, body.slice(0, 400));
  // The session has started now (the token names the session, not its time).
  sql(ws, `UPDATE sessions SET starts_at=strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-1 hours') WHERE id=${s}`);
  const read = token(ws, 'viewer', 'read');

  const srv = await serve(ws);
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  const bytes = weigh(page, srv.base);
  const r = await page.goto(`${srv.base}/c/${tok}`);
  check('link page 200', r.status() === 200, `status ${r.status()}`);
  check('link page has the form', await page.locator('form input[name=outcome][value=held]').count() === 1);
  check('page names the session', (await page.textContent('body')).includes(P));
  await shot(page, 'checkin-form');
  await axe(page, 'checkin-form');
  const w = bytes();
  check('check-in page under 150 KB', w.total > 0 && w.total < 150 * 1024, JSON.stringify(w));

  await page.getByLabel('Yes, we met').check();
  await page.getByLabel('How useful was it?').selectOption('5');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Record' }).click()]);
  const answer = await page.textContent('body');
  check('answer page says recorded', /recorded|thank/i.test(answer), answer.slice(0, 400));
  await shot(page, 'checkin-recorded');
  await axe(page, 'checkin-recorded');

  const got = await api(srv.base, read, 'GET', `/api/v1/sessions/${s}`);
  check('API answers', got.status === 200, got.text.slice(0, 300));
  check('API shows the session held', got.json && got.json.status === 'held', got.text.slice(0, 600));
  const fb = await api(srv.base, read, 'GET', `/api/v1/feedback?session=${s}`);
  check('API shows the mentor\'s check-in', fb.status === 200 && fb.text.includes(mentorExt), fb.text.slice(0, 600));

  await page.goto(`${srv.base}/c/${tok}`);
  check('second visit: no second form', await page.locator('form input[name=outcome]').count() === 0,
    (await page.textContent('body')).slice(0, 300));
});
