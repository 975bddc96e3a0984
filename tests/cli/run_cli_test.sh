#!/usr/bin/env bash
# Runs the actjit CLI once and checks its exit code and output.
#
#   run_cli_test.sh BINARY [checks...] -- ARGS...
#
# Checks:
#   --exit N               expected exit code (default 0)
#   --stdout FILE          stdout must equal FILE (a golden file)
#   --stderr FILE          stderr must equal FILE
#   --stdout-has TEXT      stdout must contain TEXT (repeatable)
#   --stdout-lacks TEXT    stdout must not contain TEXT (repeatable)
#   --stderr-has TEXT      stderr must contain TEXT (repeatable)
#   --stdout-re REGEX      stdout must match the extended regex (grep -E, whole output as one line)
#   --stderr-max BYTES     stderr must be at most BYTES long (absurd input gives a short message)
#   --stdin TEXT           text fed to stdin (default: nothing)
# In ARGS and --stdin, {{REPEAT:N:TEXT}} expands to TEXT repeated N times and
# {{BYTE:HH}} to the byte 0xHH, so absurd inputs need no data files;
# {{SEMI}} is ';' (CMake lists cannot carry one).
#
# ACTJIT_UPDATE_GOLDEN=1 rewrites the golden files from the actual output.
set -uo pipefail

bin="$1"; shift
want_exit=0 stdout_file="" stderr_file="" stdin_text="" stderr_max=""
stdout_has=() stdout_lacks=() stderr_has=() stdout_re=()
while (($#)); do
  case "$1" in
    --exit) want_exit="$2"; shift 2 ;;
    --stdout) stdout_file="$2"; shift 2 ;;
    --stderr) stderr_file="$2"; shift 2 ;;
    --stdout-has) stdout_has+=("$2"); shift 2 ;;
    --stdout-lacks) stdout_lacks+=("$2"); shift 2 ;;
    --stderr-has) stderr_has+=("$2"); shift 2 ;;
    --stdout-re) stdout_re+=("$2"); shift 2 ;;
    --stderr-max) stderr_max="$2"; shift 2 ;;
    --stdin) stdin_text="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "run_cli_test: unknown check '$1'" >&2; exit 99 ;;
  esac
done

expand() {
  local s="$1" n text rep byte
  while [[ $s =~ \{\{REPEAT:([0-9]+):([^}]*)\}\} ]]; do
    n="${BASH_REMATCH[1]}" text="${BASH_REMATCH[2]}"
    rep="$(yes -- "$text" | head -n "$n" | tr -d '\n')"
    s="${s/"${BASH_REMATCH[0]}"/"$rep"}"
  done
  while [[ $s =~ \{\{BYTE:([0-9a-fA-F]{2})\}\} ]]; do
    byte="$(printf "\\x${BASH_REMATCH[1]}")"
    s="${s/"${BASH_REMATCH[0]}"/"$byte"}"
  done
  s="${s//\{\{SEMI\}\}/;}"
  printf '%s' "$s"
}

args=()
for a in "$@"; do args+=("$(expand "$a")"); done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
expand "$stdin_text" > "$tmp/stdin"
"$bin" "${args[@]}" < "$tmp/stdin" > "$tmp/stdout" 2> "$tmp/stderr"
got_exit=$?

fail=0
report() { echo "FAIL: $*"; fail=1; }
show() { echo "---- $1 ----"; head -c 4000 "$tmp/$1"; echo; }

if [[ $got_exit != "$want_exit" ]]; then report "exit code $got_exit, expected $want_exit"; fi
for stream in stdout stderr; do
  golden_var="${stream}_file"
  golden="${!golden_var}"
  [[ -n $golden ]] || continue
  if [[ ${ACTJIT_UPDATE_GOLDEN:-0} == 1 ]]; then
    cp "$tmp/$stream" "$golden"; echo "updated $golden"
  elif ! diff -u "$golden" "$tmp/$stream"; then
    report "$stream differs from $golden"
  fi
done
for t in ${stdout_has[@]+"${stdout_has[@]}"}; do grep -qF -- "$t" "$tmp/stdout" || report "stdout lacks '$t'"; done
for t in ${stdout_lacks[@]+"${stdout_lacks[@]}"}; do ! grep -qF -- "$t" "$tmp/stdout" || report "stdout has '$t'"; done
for t in ${stderr_has[@]+"${stderr_has[@]}"}; do grep -qF -- "$t" "$tmp/stderr" || report "stderr lacks '$t'"; done
for r in ${stdout_re[@]+"${stdout_re[@]}"}; do
  tr '\n' ' ' < "$tmp/stdout" | grep -qE -- "$r" || report "stdout does not match /$r/"
done
if [[ -n $stderr_max ]] && (($(wc -c < "$tmp/stderr") > stderr_max)); then
  report "stderr is $(wc -c < "$tmp/stderr") bytes, more than $stderr_max"
fi
if ((fail)); then show stdout; show stderr; exit 1; fi
echo "ok (exit $got_exit)"
