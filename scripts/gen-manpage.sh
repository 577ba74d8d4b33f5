#!/usr/bin/env bash
# gen-manpage.sh TANDEM OUT: writes the man page tandem(1) to OUT from the --help
# texts of the built binary TANDEM, so the page lists exactly the commands and
# options the program accepts (a command's options change in one place, its
# --help). The build runs it after linking tandem (CMakeLists.txt, target
# tandem_man) and `make install` puts OUT in share/man/man1; tests/e2e/
# test_manpage.sh checks the result against --help and renders it.
#
# The sections --help cannot give (exit status, files, environment, examples)
# are written here. Output is deterministic: no date, only the version.
set -euo pipefail

T=${1:?usage: gen-manpage.sh TANDEM OUT}
OUT=${2:?usage: gen-manpage.sh TANDEM OUT}

# roff-escapes text for a no-fill block: backslashes, hyphens (real minus signs,
# so options copy and search well), and a leading control character.
esc() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# verbatim TEXT: a no-fill, indented block.
verbatim() {
  printf '.RS 4\n.nf\n'
  printf '%s\n' "$1" | esc
  printf '.fi\n.RE\n'
}

version=$("$T" --version | sed 's/^tandem //')
main_help=$("$T" --help)

# The commands, in --help order: "  NAME  summary" lines after "Commands:".
commands=$(printf '%s\n' "$main_help" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')

# subcommands CMD: the distinct words after "tandem CMD" in CMD's usage lines.
subcommands() {
  printf '%s\n' "$2" | sed -n "s/^\\(usage:\\)\\{0,1\\} *tandem $1 \\([a-z][a-z-]*\\).*/\\2/p" | awk '!seen[$0]++'
}

tmp=$(mktemp "${OUT}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  printf '.TH TANDEM 1 "" "tandem %s" "User Commands"\n' "$version"
  printf '.SH NAME\ntandem \\- run reverse\\-mentoring programs: people, matching, sessions, rewards\n'
  printf '.SH SYNOPSIS\n'
  verbatim "$(printf '%s\n' "$main_help" | sed -n '/^usage:/,/^$/p' | sed -e '/^$/d' -e 's/^usage: //' -e 's/^       //')"
  cat <<'EOF'
.SH DESCRIPTION
.B tandem
runs reverse\-mentoring programs for an organization: it imports people and
sign\-up surveys from CSV, matches mentors and mentees with a policy written in
Lua, and keeps the proposals for review. A workspace is a folder holding the
config
.IR tandem.lua ,
the database
.I tandem.db
and the client's policies and plugins;
.B tandem init
creates one. Every command runs in the current folder, or in the one
.B \-C
names.
.PP
Every command and subcommand takes
.BR \-\-help ;
.B tandem help
.I COMMAND
prints the same text. Listings take
.B \-\-json
for machine\-readable output. Nothing but the result is printed on success;
messages go to standard error.
EOF
  printf '.SH OPTIONS\n'
  verbatim "$(printf '%s\n' "$main_help" | sed -n '/^Global options:/,/^$/p' | sed -e '1d' -e '/^$/d')"
  printf '.SH COMMANDS\n'
  for c in $commands; do
    [ "$c" = help ] && continue
    h=$("$T" "$c" --help)
    summary=$(printf '%s\n' "$main_help" | awk -v c="$c" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }')
    printf '.SS "tandem %s"\n' "$c"
    printf '%s\n' "$summary" | esc
    printf '.PP\n'
    verbatim "$h"
    # A subcommand gets its own entry when its --help says more than the group's.
    for s in $(subcommands "$c" "$h"); do
      sh=$("$T" "$c" "$s" --help 2>/dev/null) || continue
      [ "$sh" = "$h" ] && continue
      printf '.SS "tandem %s %s"\n' "$c" "$s"
      verbatim "$sh"
    done
  done
  cat <<'EOF'
.SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
failure: bad input, a plugin error, a missing workspace or database (the message
is on standard error; an import or a matching run writes nothing)
.TP
.B 2
usage error: an unknown command or option, a missing argument
.SH FILES
.TP
.I tandem.lua
the workspace config: the organization and its programs (Lua, run in the plugin sandbox)
.TP
.I tandem.db
the workspace database (SQLite); another path with
.B \-\-db
.TP
.I policies/
the client's matching policies, found before the built\-in ones
.TP
.IR plugins/cadences/ ", " plugins/rewards/ ", " plugins/reports/
the client's plugins
.TP
.I scripts/
automation jobs
.TP
.I share/tandem/plugins/ ", " share/tandem/policies/
the built\-in plugins and policies, under the install prefix
.SH ENVIRONMENT
.TP
.B TANDEM_DATADIR
where to find the built\-in plugins and policies instead of the install folder
.TP
.B TANDEM_DEBUG
when set, debug messages are printed on standard error
.TP
.B TZDIR
the time zone database (default: the system's)
.TP
.B USER
recorded as the actor of the changes a command makes
.SH EXAMPLES
Create a workspace, import a synthetic organization and its sign\-up survey,
match and review:
.PP
.RS 4
.nf
tandem init acme
cd acme
tandem gen\-org \-\-people 500 \-\-out org.csv \-\-survey digital\-2027 \-\-survey\-out survey.csv
tandem import people org.csv
tandem import enrollments survey.csv \-\-program digital\-2027
tandem match run \-\-program digital\-2027
tandem match list \-\-program digital\-2027
tandem match explain 1
.fi
.RE
.PP
Write a policy plugin, check it and list what the workspace provides:
.PP
.RS 4
.nf
tandem plugins new policy mine
tandem plugins check policies/mine.lua
tandem plugins list \-\-kind policy
.fi
.RE
.SH SEE ALSO
.BR sqlite3 (1),
.BR lua (1).
The reference with every output format is docs/cli.md in the source tree.
EOF
} >"$tmp"
mv "$tmp" "$OUT"
trap - EXIT
