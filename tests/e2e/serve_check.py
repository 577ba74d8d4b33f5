#!/usr/bin/env python3
"""The invariants a workspace must keep however its service died, for the e2e tests that kill
`tandem serve` (test_kill.sh: SIGKILL at random moments; test_crash_serve.sh: a crash at every
step boundary in turn).

    serve_check.py check WS [--custom KIND] [--snapshot-out FILE] [--same-as FILE]
                                              every invariant below; one line per problem,
                                              exit 1 if any; --snapshot-out writes the
                                              snapshot, --same-as reports how it differs
                                              from a snapshot written before
    serve_check.py snapshot WS                the workspace's outcome as sorted text lines
                                              (sessions, occurrences, outbox, delivered keys,
                                              event counts), to compare a crashed run with an
                                              uncrashed one

Invariants (after a clean final run of the service):
  - PRAGMA integrity_check is ok; PRAGMA foreign_key_check is empty;
  - occurrences: unique by (job, due); none left 'running' or 'failed'; none pending whose
    time has come (run_at <= the last finished run); each 'done' one has exactly one job.ran
    event naming it and no other has one; with --custom KIND, the Lua job's done runs wrote
    exactly one KIND event each;
  - sessions: unique by (match, start); each one has exactly one session.planned event;
  - outbox: no row left 'sending' or 'unknown'; each row exactly one message.queued event,
    each 'sent' row exactly one message.sent event; every line of outbox/messages.jsonl is
    one JSON object and every outbox/*.eml file has its X-Tandem-Key; no key delivered twice
    (two lines or files with one key); the keys delivered are exactly the keys of the 'sent'
    rows;
  - monthly reports: one report.published event per (program, plugin, month); the files under
    reports/ are exactly the files the events name, each complete (an HTML page ends with
    </html>, a Markdown one starts with "# "), and no temporary file is left there.
"""
import collections
import difflib
import json
import os
import sqlite3
import sys


def connect(ws):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(ws, "tandem.db"), uri=True)
    c.row_factory = sqlite3.Row
    return c


def delivered_keys(ws):
    """The keys delivered: each .eml file's X-Tandem-Key and each line's key in
    messages.jsonl; and the lines or files that are not whole messages."""
    folder = os.path.join(ws, "outbox")
    path = os.path.join(folder, "messages.jsonl")
    keys, bad = [], []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8", newline="") as f:
            head = f.read().split("\r\n\r\n", 1)[0]
        key = [l[len("X-Tandem-Key: "):] for l in head.split("\r\n") if l.startswith("X-Tandem-Key: ")]
        if len(key) != 1:
            bad.append("%s: no X-Tandem-Key header" % name)
        keys.extend(key)
    if not os.path.exists(path):
        return keys, bad
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
                keys.append(o["key"])
            except (ValueError, KeyError, TypeError) as e:
                bad.append("messages.jsonl:%d: %s: %r" % (n, e, line[:80]))
    return keys, bad


def events_by(c, kind, field):
    """{payload[field]: count} of the events of one kind."""
    out = collections.Counter()
    for (p,) in c.execute("SELECT payload FROM events WHERE kind = ?", (kind,)):
        out[json.loads(p).get(field)] += 1
    return out


def check(ws, custom):
    c = connect(ws)
    bad = []
    ic = [r[0] for r in c.execute("PRAGMA integrity_check")]
    if ic != ["ok"]:
        bad.append("integrity_check: %s" % "; ".join(ic[:5]))
    fk = c.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        bad.append("foreign_key_check: %d rows, first %s" % (len(fk), tuple(fk[0])))

    # Occurrences.
    for r in c.execute("SELECT job_id, due_at, count(*) n FROM occurrences GROUP BY 1, 2 HAVING n > 1"):
        bad.append("occurrence (job %s, due %s) exists %d times" % (r[0], r[1], r[2]))
    for r in c.execute("SELECT o.id, j.name, o.due_at, o.status, o.reason FROM occurrences o"
                       " JOIN jobs j ON j.id = o.job_id WHERE o.status IN ('running', 'failed')"):
        bad.append("occurrence %d (%s due %s) left %s: %s" % tuple(r))
    last = c.execute("SELECT max(finished_at) FROM occurrences WHERE status = 'done'").fetchone()[0]
    if last is not None:
        for r in c.execute("SELECT o.id, j.name, o.run_at FROM occurrences o JOIN jobs j"
                           " ON j.id = o.job_id WHERE o.status = 'pending' AND j.enabled = 1"
                           " AND o.run_at <= ?", (last,)):
            bad.append("occurrence %d (%s) due at %s still pending after a run at %s"
                       % (r[0], r[1], r[2], last))
    done = {r[0]: r[1] for r in c.execute(
        "SELECT o.id, j.name FROM occurrences o JOIN jobs j ON j.id = o.job_id"
        " WHERE o.status = 'done'")}
    ran = events_by(c, "job.ran", "occurrence")
    for occ, name in done.items():
        if ran.get(occ, 0) != 1:
            bad.append("occurrence %d (%s) is done with %d job.ran events" % (occ, name, ran.get(occ, 0)))
    for occ in ran:
        if occ not in done:
            bad.append("job.ran event for occurrence %s, which is not done" % occ)
    if custom:
        lua = sum(1 for n in done.values() if n not in BUILTIN)
        got = c.execute("SELECT count(*) FROM events WHERE kind = ?", (custom,)).fetchone()[0]
        if got != lua:
            bad.append("%d %s events for %d done Lua job runs" % (got, custom, lua))

    # Sessions.
    for r in c.execute("SELECT match_id, starts_at, count(*) n FROM sessions GROUP BY 1, 2 HAVING n > 1"):
        bad.append("session (match %s, %s) exists %d times" % tuple(r))
    planned = events_by(c, "session.planned", "session")
    for (sid,) in c.execute("SELECT id FROM sessions WHERE planned_by <> 'manual'"):
        if planned.get(sid, 0) != 1:
            bad.append("session %d has %d session.planned events" % (sid, planned.get(sid, 0)))
    for sid in planned:
        if c.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
            bad.append("session.planned event for session %s, which does not exist" % sid)

    # Outbox and what was delivered.
    for r in c.execute("SELECT id, idempotency_key, status FROM outbox"
                       " WHERE status IN ('sending', 'unknown')"):
        bad.append("message %d (%s) left %s" % tuple(r))
    queued = events_by(c, "message.queued", "id")
    sent_ev = events_by(c, "message.sent", "id")
    sent_keys = set()
    for r in c.execute("SELECT id, idempotency_key, status FROM outbox"):
        if queued.get(r[0], 0) != 1:
            bad.append("message %d (%s) has %d message.queued events" % (r[0], r[1], queued.get(r[0], 0)))
        want = 1 if r[2] == "sent" else 0
        if sent_ev.get(r[0], 0) != want:
            bad.append("message %d (%s, %s) has %d message.sent events"
                       % (r[0], r[1], r[2], sent_ev.get(r[0], 0)))
        if r[2] == "sent":
            sent_keys.add(r[1])
    keys, torn = delivered_keys(ws)
    bad.extend(torn)
    for k, n in collections.Counter(keys).items():
        if n > 1:
            bad.append("key %s delivered %d times" % (k, n))
    for k in sorted(set(keys) - sent_keys):
        bad.append("key %s delivered but its row is not 'sent'" % k)
    for k in sorted(sent_keys - set(keys)):
        bad.append("key %s is 'sent' but was never delivered" % k)

    bad.extend(check_reports(ws, c))
    return bad


def report_files(ws):
    """Every file under WS/reports/, relative to WS."""
    out = []
    for root, _, files in os.walk(os.path.join(ws, "reports")):
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), ws))
    return sorted(out)


def check_reports(ws, c):
    bad = []
    named = []
    seen = collections.Counter()
    for (p,) in c.execute("SELECT payload FROM events WHERE kind = 'report.published'"):
        ev = json.loads(p)
        seen[(ev["program"], ev["plugin"], ev["month"])] += 1
        named.extend(ev["files"])
    for k, n in seen.items():
        if n != 1:
            bad.append("report %s/%s/%s published %d times" % (k + (n,)))
    files = report_files(ws)
    for f in files:
        if ".tmp" in os.path.basename(f):
            bad.append("temporary report file left: %s" % f)
    real = [f for f in files if ".tmp" not in os.path.basename(f)]
    for f in sorted(set(real) - set(named)):
        bad.append("report file %s named by no report.published event" % f)
    for f in sorted(set(named) - set(real)):
        bad.append("report.published names %s, which does not exist" % f)
    for f in sorted(set(real) & set(named)):
        with open(os.path.join(ws, f), "rb") as fh:
            data = fh.read()
        if f.endswith(".html") and not data.rstrip().endswith(b"</html>"):
            bad.append("report %s is not a whole page (%d bytes)" % (f, len(data)))
        if f.endswith(".md") and not data.startswith(b"# "):
            bad.append("report %s is not a whole Markdown page (%d bytes)" % (f, len(data)))
    return bad


BUILTIN = {"activate-matches", "plan-sessions", "send-reminders", "mark-missed", "monthly-reports"}


def snapshot(ws):
    c = connect(ws)
    out = []
    for r in c.execute("SELECT id, status FROM matches ORDER BY id"):
        out.append("match %s %s" % tuple(r))
    for r in c.execute("SELECT match_id, starts_at, status FROM sessions ORDER BY 1, 2"):
        out.append("session %s %s %s" % tuple(r))
    for r in c.execute("SELECT j.name, o.due_at, o.status, o.covers FROM occurrences o"
                       " JOIN jobs j ON j.id = o.job_id ORDER BY 1, 2"):
        out.append("occurrence %s %s %s covers=%s" % tuple(r))
    for r in c.execute("SELECT idempotency_key, status FROM outbox ORDER BY 1"):
        out.append("outbox %s %s" % tuple(r))
    keys, _ = delivered_keys(ws)
    for k, n in sorted(collections.Counter(keys).items()):
        out.append("delivered %s x%d" % (k, n))
    for f in report_files(ws):
        out.append("report file %s" % f)
    # message.unknown is the one event a crash adds by design (a send it interrupted).
    for r in c.execute("SELECT kind, count(*) FROM events WHERE kind <> 'message.unknown'"
                       " GROUP BY 1 ORDER BY 1"):
        out.append("events %s %s" % tuple(r))
    return out


def option(argv, name):
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def main(argv):
    if len(argv) >= 3 and argv[1] == "check":
        ws = argv[2]
        bad = check(ws, option(argv, "--custom"))
        out, same = option(argv, "--snapshot-out"), option(argv, "--same-as")
        if out or same:
            snap = snapshot(ws)
            if out:
                with open(out, "w") as f:
                    f.write("\n".join(snap) + "\n")
            if same:
                with open(same) as f:
                    want = f.read().splitlines()
                diff = list(difflib.unified_diff(want, snap, same, ws, lineterm="", n=0))
                bad.extend("not as uncrashed: " + l for l in diff[2:22])
        for b in bad:
            print(b)
        return 1 if bad else 0
    if len(argv) == 3 and argv[1] == "snapshot":
        print("\n".join(snapshot(argv[2])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
