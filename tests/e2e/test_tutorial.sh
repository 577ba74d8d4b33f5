#!/usr/bin/env bash
# docs/tutorial.md runs as written, so it cannot rot. Its fenced blocks are taken in order:
#  - ```sh blocks are run, each as one bash script with -e -o pipefail, in the folder the
#    previous one ended in (the tutorial starts in an empty temporary folder), with `tandem`
#    on PATH as the built binary; every block must succeed;
#  - a ```lua block whose first line is `-- file: PATH` is written to PATH (relative to that
#    folder) before the next block runs; other lua blocks are only shown;
#  - a ```text block right after a sh block shows what that block prints: every one of its
#    lines except `...` must be in the block's output (stdout and stderr, runs of spaces
#    taken as one), so the tutorial never promises an output the commands do not give.
# Then a few checks the prose makes: the custom plugins were the ones used, and the
# three simulated months left three months of reports, each page whole.
source "$(dirname "$0")/lib.sh"

DOC=$TANDEM_SRCDIR/docs/tutorial.md
D=$E2E_TMP/tutorial
BIN=$E2E_TMP/bin
mkdir -p "$D/run" "$BIN"
ln -sf "$TANDEM" "$BIN/tandem"
echo "$D/run" >"$D/cwd"

# Split the document: blocks/N.sh, N.lua (with N.path), N.text (after sh block N-1's output).
/usr/bin/python3 - "$DOC" "$D" <<'PY'
import os, sys
doc, out = sys.argv[1], sys.argv[2]
blocks, cur, lang = [], None, None
for line in open(doc, encoding="utf-8"):
    s = line.rstrip("\n")
    if cur is None and s.startswith("```") and len(s) > 3:
        cur, lang = [], s[3:].strip()
    elif cur is not None and s == "```":
        blocks.append((lang, cur))
        cur = None
    elif cur is not None:
        cur.append(s)
os.makedirs(os.path.join(out, "blocks"), exist_ok=True)
with open(os.path.join(out, "plan"), "w") as plan:
    prev = None
    for i, (lang, lines) in enumerate(blocks, 1):
        base = os.path.join(out, "blocks", str(i))
        if lang == "sh":
            open(base + ".sh", "w").write("\n".join(lines) + "\n")
            plan.write("sh %d\n" % i)
        elif lang == "lua" and lines and lines[0].startswith("-- file: "):
            open(base + ".lua", "w").write("\n".join(lines) + "\n")
            plan.write("lua %d %s\n" % (i, lines[0][len("-- file: "):].strip()))
        elif lang == "text" and prev == "sh":
            open(base + ".text", "w").write("\n".join(lines) + "\n")
            plan.write("text %d\n" % i)
        prev = lang
PY
nsh=$(grep -c '^sh ' "$D/plan")
ntext=$(grep -c '^text ' "$D/plan")
nlua=$(grep -c '^lua ' "$D/plan")
[ "$nsh" -ge 8 ] && [ "$nlua" -ge 4 ] && [ "$ntext" -ge 8 ] && ok "tutorial blocks ($nsh sh, $nlua files, $ntext outputs)" ||
  fail "tutorial blocks" "$nsh sh, $nlua lua files, $ntext outputs in $DOC"

last=""
while read -r kind n path; do
  case $kind in
  sh)
    { echo "cd \"\$(cat '$D/cwd')\""; echo "set -eo pipefail"; cat "$D/blocks/$n.sh"; echo "pwd >'$D/cwd'"; } >"$D/blocks/$n.run"
    if PATH="$BIN:$PATH" timeout 1500 bash "$D/blocks/$n.run" >"$D/blocks/$n.out" 2>&1; then
      ok "block $n: $(head -c 60 "$D/blocks/$n.sh" | head -1)"
    else
      fail "block $n" "$(head -3 "$D/blocks/$n.sh") -> $(tail -c 800 "$D/blocks/$n.out")"
    fi
    last=$n
    ;;
  lua)
    dest="$(cat "$D/cwd")/$path"
    mkdir -p "$(dirname "$dest")" && cp "$D/blocks/$n.lua" "$dest" && ok "block $n: wrote $path" || fail "block $n" "cannot write $dest"
    ;;
  text)
    missing=$(/usr/bin/python3 - "$D/blocks/$n.text" "$D/blocks/$last.out" <<'PY'
import re, sys
squeeze = lambda s: re.sub(r"\s+", " ", s).strip()
out = squeeze(open(sys.argv[2], encoding="utf-8", errors="replace").read())
for line in open(sys.argv[1], encoding="utf-8"):
    want = squeeze(line)
    if want and want != "..." and want not in out:
        print(want)
PY
)
    [ -z "$missing" ] && ok "block $n: the output block $last promises" ||
      fail "block $n: output of block $last" "not printed: $(echo "$missing" | head -5) -- got: $(head -c 600 "$D/blocks/$last.out")"
    ;;
  esac
done <"$D/plan"

# What the prose claims, checked on the result.
WS=$D/run/acme
SIM=$WS/simulation
q() { sqlite3 "$1/tandem.db" "$2"; }
[ "$(q "$WS" "SELECT count(*) FROM matches WHERE policy_name IS NOT 'acme_digital'")" = 0 ] &&
  [ "$(q "$WS" "SELECT count(*) FROM matches WHERE status = 'approved'")" -gt 0 ] &&
  ok "the custom policy proposed the approved matches" ||
  fail "the custom policy" "$(q "$WS" "SELECT policy_name, status, count(*) FROM matches GROUP BY 1, 2")"
[ "$(q "$SIM" "SELECT count(DISTINCT planned_by) FROM sessions")" = 1 ] &&
  [ "$(q "$SIM" "SELECT planned_by FROM sessions LIMIT 1")" = every_three_weeks ] &&
  ok "the custom cadence planned every session" || fail "the custom cadence" "$(q "$SIM" "SELECT planned_by, count(*) FROM sessions GROUP BY 1")"
[ "$(q "$SIM" "SELECT count(*) FROM rewards WHERE badge = 'first-steps'")" -gt 0 ] &&
  ok "the custom reward rule granted badges" || fail "the custom reward rule" "$(q "$SIM" "SELECT badge, count(*) FROM rewards GROUP BY 1")"
months=$(ls "$SIM/reports" 2>/dev/null | tr '\n' ' ')
[ "$months" = "2027-01 2027-02 2027-03 " ] && ok "three months, three monthly reports" || fail "three monthly reports" "reports/: $months"
for m in 2027-01 2027-02 2027-03; do
  f=$SIM/reports/$m/digital-acme/acme-board.html
  tail -c 100 "$f" 2>/dev/null | grep -q '</html>' && grep -q "Acme board pack, $m" "$f" && ok "board pack $m" ||
    fail "board pack $m" "$(ls "$SIM/reports/$m/digital-acme" 2>&1)"
done
problems=$(/usr/bin/python3 "$(dirname "$0")/serve_check.py" check "$SIM")
[ -z "$problems" ] && ok "the simulated service's invariants" || fail "simulated invariants" "$problems"
/usr/bin/python3 "$(dirname "$0")/check_html.py" "$WS/board.html" >/dev/null 2>&1 && ok "board.html well-formed" ||
  fail "board.html well-formed" "$(/usr/bin/python3 "$(dirname "$0")/check_html.py" "$WS/board.html" 2>&1 | head -5)"

finish
