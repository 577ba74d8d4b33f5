# bash completion for tandem(1). Installed as share/bash-completion/completions/tandem
# (loaded on first use by bash-completion), or sourced by hand.
#
# Commands, subcommands and options are read from the --help texts of the tandem
# being completed, so the completion follows the program without a second list to
# keep in step: commands from `tandem --help` ("Commands:"), subcommands from the
# usage lines "tandem CMD SUB", options from `tandem CMD SUB --help`. Program names
# come from `tandem programs list --json` and plugin names from
# `tandem plugins list --json`, in the workspace the command line names with -C
# (and --db), else the current folder. Nothing here writes anything.

# _tandem_run ARGS...: the tandem being completed, its stderr silenced.
_tandem_run() {
  "${_tandem_bin:-tandem}" "$@" 2>/dev/null
}

# _tandem_json_names JSON: the "name" of each top-level object of a JSON array as
# tandem prints it (two-space indent), one a line; no JSON tool needed.
_tandem_json_names() {
  sed -n 's/^    "name": "\(.*\)",\{0,1\}$/\1/p' <<<"$1"
}

_tandem_commands() {
  _tandem_run --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'
}

# _tandem_subcommands CMD: the distinct SUB of the "tandem CMD SUB" usage lines.
_tandem_subcommands() {
  _tandem_run "$1" --help | sed -n "s/^\(usage:\)\{0,1\} *tandem $1 \([a-z][a-z-]*\).*/\2/p" | awk '!seen[$0]++'
}

# _tandem_options CMD [SUB]: the options SUB takes. When SUB has a --help of its
# own, every option it lists; when it shares its group's text, the options of
# its own usage lines (so `match list` does not offer `--explain`).
_tandem_options() {
  local group sub
  group=$(_tandem_run "$1" --help)
  if [ -n "${2:-}" ]; then
    sub=$(_tandem_run "$1" "$2" --help)
    if [ "$sub" != "$group" ]; then
      group=$sub
    else
      group=$(sed -n "s/^\(usage:\)\{0,1\} *\(tandem $1 $2 .*\)/\2/p" <<<"$group")
    fi
  fi
  { grep -o -- '--[a-z][a-z-]*' <<<"$group"; echo --help; } | awk '!seen[$0]++'
}

_tandem() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
  local _tandem_bin=${COMP_WORDS[0]}
  # The global options (-C DIR, --db FILE) go to every look-up, so names come from
  # the workspace the command will run in; then the command and its subcommand.
  local -a ws=() pos=()
  local cmd="" sub="" i=1 w
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w=${COMP_WORDS[i]}
    case $w in
      -C | --db)
        ws+=("$w" "${COMP_WORDS[i + 1]:-}")
        i=$((i + 2))
        continue
        ;;
      -C?* | --db=*) ws+=("$w") ;;
      -*) ;;
      *)
        pos+=("$w")
        if [ -z "$cmd" ]; then
          cmd=$w
        elif [ -z "$sub" ]; then
          sub=$w
        fi
        ;;
    esac
    i=$((i + 1))
  done
  COMPREPLY=()

  case $prev in
    -C)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return
      ;;
    --db | --out | --survey-out | --capacities | --rows-prefer | --map | --reason | --people | \
      --seed | --survey | --survey-size | --capacity | --status)
      # A file or a value of the user's: bash's default (files) applies.
      return
      ;;
    --program)
      mapfile -t COMPREPLY < <(compgen -W "$(_tandem_json_names "$(_tandem_run ${ws[@]+"${ws[@]}"} programs list --json)")" -- "$cur")
      return
      ;;
    --policy)
      mapfile -t COMPREPLY < <(compgen -W "$(_tandem_json_names "$(_tandem_run ${ws[@]+"${ws[@]}"} plugins list --json --kind policy)")" -- "$cur")
      return
      ;;
    --kind)
      # The plugin kinds, as `plugins list --help` names them.
      mapfile -t COMPREPLY < <(compgen -W "policy cadence reward report job" -- "$cur")
      return
      ;;
  esac

  if [ -z "$cmd" ]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "-C --db --version --help" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$(_tandem_commands)" -- "$cur")
    fi
    return
  fi

  if [ "$cmd" = help ]; then
    if [ "${#pos[@]}" -eq 1 ]; then
      mapfile -t COMPREPLY < <(compgen -W "$(_tandem_commands)" -- "$cur")
    elif [ "${#pos[@]}" -eq 2 ]; then
      mapfile -t COMPREPLY < <(compgen -W "$(_tandem_subcommands "$sub")" -- "$cur")
    fi
    return
  fi

  local subs
  subs=$(_tandem_subcommands "$cmd")
  if [ -n "$subs" ] && [ -z "$sub" ]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    fi
    return
  fi
  [ -z "$subs" ] && sub=""

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_tandem_options "$cmd" "$sub")" -- "$cur")
    return
  fi
  # Positional arguments with a known set of values.
  if [ "$cmd $sub" = "plugins new" ] && [ "$prev" = new ]; then
    mapfile -t COMPREPLY < <(compgen -W "policy cadence reward report job" -- "$cur")
  elif [ "$cmd $sub" = "programs show" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_tandem_json_names "$(_tandem_run ${ws[@]+"${ws[@]}"} programs list --json)")" -- "$cur")
  elif [ "$cmd $sub" = "plugins check" ]; then
    # A plugin file: the workspace's .lua files and folders.
    mapfile -t COMPREPLY < <(compgen -f -X '!*.lua' -- "$cur"; compgen -d -- "$cur")
  fi
  # Anything else (a CSV, an id): bash's default file completion.
}

complete -F _tandem -o bashdefault -o default tandem
