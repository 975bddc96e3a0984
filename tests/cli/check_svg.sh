#!/usr/bin/env bash
# Runs `actjit inspect ... --plot FILE.svg` and checks the SVG it writes.
#
#   check_svg.sh BINARY [--has TEXT]... -- INSPECT-ARGS...
#
# The command must exit 0 and write FILE.svg; the file must be well-formed XML
# (xmllint, else python3's parser, when either is installed), an <svg> document,
# and contain every TEXT given with --has (for example class="f").
set -uo pipefail

bin="$1"; shift
has=()
while (($#)); do
  case "$1" in
    --has) has+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "check_svg: unknown check '$1'" >&2; exit 99 ;;
  esac
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
svg="$tmp/plot.svg"
fail=0
report() { echo "FAIL: $*"; fail=1; }

"$bin" inspect "$@" --plot "$svg" > "$tmp/stdout" 2> "$tmp/stderr"
code=$?
[[ $code == 0 ]] || report "exit code $code, expected 0"
if [[ ! -s $svg ]]; then
  report "no SVG written"
else
  if command -v xmllint > /dev/null; then
    xmllint --noout "$svg" 2> "$tmp/xml" || report "not well-formed XML: $(head -c 400 "$tmp/xml")"
  elif command -v python3 > /dev/null; then
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$svg" 2> "$tmp/xml" || report "not well-formed XML: $(tail -c 400 "$tmp/xml")"
  fi
  grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$svg" || report "no <svg> root element"
  grep -q '</svg>' "$svg" || report "no closing </svg>"
  for t in ${has[@]+"${has[@]}"}; do grep -qF -- "$t" "$svg" || report "SVG lacks '$t'"; done
fi
if ((fail)); then echo "---- stderr ----"; head -c 2000 "$tmp/stderr"; exit 1; fi
echo "ok ($(wc -c < "$svg") bytes of SVG)"
