#!/usr/bin/env bash
# Layering check: every #include "<layer>/x.h" in core/ must name the file's own layer or one that
# core/layers.txt lets it use. core/tandem.c (the facade) and core/cli/ sit above every layer.
# Also checks that a planted upward include is caught, so the check itself can fail.
source "$(dirname "$0")/lib.sh"

check_tree() { # $1: root holding core/ ; prints one line per violation
	python3 - "$1" <<'PY'
import os, re, sys
root = sys.argv[1]
allowed = {}
for line in open(os.path.join(root, "core/layers.txt")):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, deps = line.split(":", 1)
    allowed[name.strip()] = set(deps.split()) | {name.strip()}
layers = set(allowed)
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
bad = 0
for d, _, files in os.walk(os.path.join(root, "core")):
    rel = os.path.relpath(d, os.path.join(root, "core"))
    top = rel.split(os.sep)[0]
    if top not in layers:
        if top not in (".", "cli"):
            print(f"core/{rel}: folder is not a layer in core/layers.txt"); bad += 1
        continue
    for f in files:
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(d, f)
        for n, text in enumerate(open(path, errors="replace"), 1):
            m = inc.match(text)
            if not m:
                continue
            target = os.path.normpath(os.path.join(rel, m.group(1))) if m.group(1).startswith("..") else m.group(1)
            want = target.split("/")[0] if "/" in target else top
            if want == "tandem.h" or want == "cli" or (want not in layers and "/" in target):
                print(f"{os.path.relpath(path, root)}:{n}: includes {m.group(1)}, above layer {top}"); bad += 1
            elif want not in allowed[top]:
                print(f"{os.path.relpath(path, root)}:{n}: layer {top} includes {m.group(1)} (layer {want} is not beneath it)"); bad += 1
print(f"violations: {bad}")
PY
}

# contains NAME TEXT HAYSTACK
contains() { case "$3" in *"$2"*) ok "$1" ;; *) fail "$1" "lacks '$2': $(printf '%s' "$3" | head -c 800)" ;; esac; }

out=$(check_tree "$TANDEM_SRCDIR")
contains "source tree respects core/layers.txt" "violations: 0" "$out"

# A planted upward include (base -> program) in a copy must be reported with file and line.
tmp=$E2E_TMP/tree
mkdir -p "$tmp/core"
cp -r "$TANDEM_SRCDIR/core/." "$tmp/core/"
printf '#include "program/people.h"\n' >>"$tmp/core/base/diag.c"
out=$(check_tree "$tmp")
contains "an upward include is caught" "core/base/diag.c:" "$out"
contains "and named" "includes program/people.h" "$out"
printf '#include "../program/people.h"\n' >>"$tmp/core/match/dense.c"
out=$(check_tree "$tmp")
contains "a relative upward include is caught" "core/match/dense.c:" "$out"
finish
