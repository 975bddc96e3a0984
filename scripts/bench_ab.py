#!/usr/bin/env python3
"""A/B of two actjit_bench binaries on a noisy machine.

Runs the two binaries alternately (A, B, A, B, ...) on the same benchmark
filter, several rounds, and prints per benchmark the best throughput of each
(items per second; for compile/ benchmarks the least real time) and B over A.
The best of several alternating runs is what is least disturbed by a shared
machine's slow stretches, which hit either binary alike.

    scripts/bench_ab.py OLD/actjit_bench NEW/actjit_bench \
        --filter 'kernel/(silu|prepu)/jit/.*/4096' --rounds 4
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile


def run(binary, filt, min_time, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary, f"--benchmark_filter={filt}", f"--benchmark_min_time={min_time}",
               f"--benchmark_out={out.name}", "--benchmark_out_format=json"] + extra
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return json.load(open(out.name))["benchmarks"]


def score(b):
    """Larger is better: items/s for kernels; 1/real time (in seconds) for
    compile/ (whose items/s count the calling thread's CPU time only, and the
    backward compiles on a second thread)."""
    if b.get("error_occurred"):
        return None
    if "items_per_second" in b and not b["name"].startswith("compile/"):
        return b["items_per_second"]
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
    return 1.0 / (b["real_time"] * unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--filter", required=True)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--min-time", default="0.1")
    ap.add_argument("extra", nargs="*", help="more actjit_bench arguments (after --)")
    args = ap.parse_args()

    best = {}  # name -> [best A, best B]
    order = []
    for _ in range(args.rounds):
        for side, binary in enumerate((args.a, args.b)):
            for b in run(binary, args.filter, args.min_time, args.extra):
                if b.get("run_type") == "aggregate":
                    continue
                name = b["name"]
                if name not in best:
                    best[name] = [None, None]
                    order.append(name)
                s = score(b)
                if s is not None and (best[name][side] is None or s > best[name][side]):
                    best[name][side] = s

    def fmt(b, s):
        if s is None:
            return "error"
        if "compile/" in b:
            return f"{1e3 / s:.3g} ms" if s < 1e3 else f"{1e6 / s:.3g} us"  # s is 1/seconds
        return f"{s / 1e9:.3g} G/s"

    ratios = []
    print(f"| benchmark | A | B | B/A |\n|---|---:|---:|---:|")
    for name in order:
        a, b = best[name]
        r = b / a if a and b else None
        if r:
            ratios.append(r)
        print(f"| {name} | {fmt(name, a)} | {fmt(name, b)} | {f'{r:.3f}' if r else '-'} |")
    if ratios:
        g = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"\ngeomean B/A over {len(ratios)}: {g:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
