#!/usr/bin/env bash
# Set up actjit on Debian 12: install the packages it needs, configure, build.
#
#   scripts/setup.sh [build]   install packages (as root), configure and build (default)
#   scripts/setup.sh run       ... then run the main job: ./build/actjit demo
#   scripts/setup.sh test      ... then build everything and run every test
#
# Environment: BUILD_DIR (default: build), JOBS (default: all cores),
# ACTJIT_CMAKE_ARGS (extra configure arguments, e.g. "-DACTJIT_WITH_JIT=OFF").
set -euo pipefail

mode="${1:-build}"
case "$mode" in
  build|run|test) ;;
  -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [build|run|test]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# ---- 1. Packages -------------------------------------------------------------
packages=(cmake ninja-build g++ llvm-19-dev libfmt-dev catch2 libbenchmark-dev libcli11-dev
          libeigen3-dev libsleef-dev libzstd-dev)
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
else
  echo "setup: dpkg not found; assuming the packages are installed (${packages[*]})" >&2
fi
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: install them as root with:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# ---- 2. Configure and build ----------------------------------------------------
cd "$root"
configure=(cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release)
# A fresh build directory uses Ninja; an existing one keeps its generator.
[[ -f $build_dir/CMakeCache.txt ]] || configure+=(-G Ninja)
# The run and build modes need only the CLI; tests want everything but the benchmarks.
if [[ $mode != test ]]; then configure+=(-DACTJIT_BUILD_BENCH=OFF); fi
if [[ $mode == test ]]; then configure+=(-DACTJIT_BUILD_BENCH=OFF -DACTJIT_BUILD_TESTS=ON); fi
# shellcheck disable=SC2206
[[ -n ${ACTJIT_CMAKE_ARGS:-} ]] && configure+=(${ACTJIT_CMAKE_ARGS})
echo "setup: ${configure[*]}"
"${configure[@]}"

case "$mode" in
  build) cmake --build "$build_dir" -j "$jobs" ;;
  run)
    cmake --build "$build_dir" -j "$jobs" --target actjit_cli
    exec "$build_dir/actjit" demo ;;
  test)
    cmake --build "$build_dir" -j "$jobs"
    exec ctest --test-dir "$build_dir" --output-on-failure -j2 ;;
esac
