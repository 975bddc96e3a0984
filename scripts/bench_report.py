#!/usr/bin/env python3
"""Turn actjit_bench's JSON output into the markdown tables of docs/PERFORMANCE.md.

    build/bench/actjit_bench --benchmark_format=json --benchmark_out=run.json ...
    python3 scripts/bench_report.py run.json --out docs/PERFORMANCE.md \\
        --command "actjit_bench --benchmark_min_time=0.05 ..."

With --out, the tables replace what lies between the markers
`<!-- bench_report:begin -->` and `<!-- bench_report:end -->` of that file (the
prose around them is kept); a file without the markers gets them appended.
With --marker NAME the markers are `<!-- bench_report:NAME:begin -->` and
`<!-- bench_report:NAME:end -->`, so one file can hold the runs of several
machines. Without --out the tables go to stdout.

Throughput is items (elements) per second: from the benchmark's
items_per_second (CPU time of the calling thread) for single-threaded runs,
and from real (wall-clock) time for jit_mt, which uses every core. When the
run has repetitions, the median aggregate is used.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

BEGIN = "<!-- bench_report:begin -->"
END = "<!-- bench_report:end -->"

IMPLS = ["jit", "et", "simd", "scalar", "interp"]
PASSES = ["fwd", "bwd"]
# Bytes moved per element: forward reads x and writes y; backward reads x and
# dy and writes dx. copy/<n> moves 8 bytes per element.
BYTES_PER_ELEMENT = {"fwd": 8, "bwd": 12}
# Activations whose kernels call exp, log, tanh, erf or pow (issue 3's ">= 5x
# the scalar loop" target applies to these).
TRANSCENDENTAL = {
    "prepu", "silu", "swish", "soft_exponential", "mish", "elu", "selu", "celu", "gelu", "gelu_tanh",
    "sigmoid", "logsigmoid", "tanh", "softplus", "tanhshrink",
}
TIME_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

KERNEL_RE = re.compile(r"^kernel/(?P<act>[^/]+)/(?P<impl>[^/]+)/(?P<pass>fwd|bwd)/(?P<n>\d+)$")
COMPILE_RE = re.compile(r"^compile/(?P<act>[^/]+)/(?P<kind>cold|cached)$")
COPY_RE = re.compile(r"^copy/(?P<n>\d+)$")


def load(path: str) -> dict:
    text = Path(path).read_text()
    # actjit_bench may print non-JSON lines before the JSON (warnings); skip them.
    start = text.find("{")
    if start < 0:
        sys.exit(f"error: no JSON object in {path}")
    return json.loads(text[start:])


def select_runs(benchmarks: list[dict]) -> dict[str, dict]:
    """One record per benchmark name: the median aggregate if any, else the
    fastest single run (errors kept so that they can be reported)."""
    medians: dict[str, dict] = {}
    runs: dict[str, dict] = {}
    for b in benchmarks:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b
            continue
        prev = runs.get(name)
        if prev is None or (not b.get("error_occurred") and seconds(b, "real_time") < seconds(prev, "real_time")):
            runs[name] = b
    runs.update(medians)
    return runs


def seconds(b: dict, key: str) -> float:
    return float(b.get(key, math.inf)) * TIME_UNIT.get(b.get("time_unit", "ns"), 1e-9)


def items_per_second(b: dict, n: int, wall: bool) -> float | None:
    if b.get("error_occurred"):
        return None
    if wall:
        t = seconds(b, "real_time")
        return n / t if t > 0 else None
    ips = b.get("items_per_second")
    if ips is not None:
        return float(ips)
    t = seconds(b, "cpu_time")
    return n / t if t > 0 else None


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 1e9:
        return f"{v / 1e9:.2f} G"
    if v >= 1e6:
        return f"{v / 1e6:.1f} M"
    return f"{v / 1e3:.1f} k"


def fmt_ratio(v: float | None, target: float | None = None) -> str:
    if v is None:
        return "-"
    s = f"{v:.2f}x" if v < 100 else f"{v:.0f}x"
    if target is not None and v < target:
        s = f"*{s}*"  # below the target: italic
    return s


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def cpu_model(context: dict) -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^flags\s*:(.*)$", text, re.M)
        if m:
            fl = m.group(1).split()
            flags = "AVX-512" if "avx512f" in fl else "AVX2" if "avx2" in fl else "SSE2"
    except OSError:
        pass
    ncpu = context.get("num_cpus", "?")
    mhz = context.get("mhz_per_cpu", "?")
    caches = ", ".join(
        f"L{c['level']} {c['type'][0].lower() if c['type'] != 'Unified' else ''}{c['size'] // 1024} KiB"
        + (f" x{c['num_sharing']}" if c.get("num_sharing", 0) > 1 else "")
        for c in context.get("caches", [])
    )
    parts = [model or platform.processor() or "unknown CPU", f"{ncpu} CPUs @ {mhz} MHz"]
    if flags:
        parts.append(flags)
    if caches:
        parts.append(f"caches: {caches}")
    return "; ".join(parts)


def report(data: dict, command: str) -> str:
    context = data.get("context", {})
    runs = select_runs(data.get("benchmarks", []))

    kernel: dict[tuple[str, str, str, int], float | None] = {}
    errors: dict[tuple[str, str], str] = {}
    acts: list[str] = []
    sizes: set[int] = set()
    impls_seen: set[str] = set()
    copy: dict[int, dict] = {}
    compile_t: dict[tuple[str, str], float | None] = {}
    compile_acts: list[str] = []
    for name, b in runs.items():
        if m := KERNEL_RE.match(name):
            act, impl, pas, n = m["act"], m["impl"], m["pass"], int(m["n"])
            if act not in acts:
                acts.append(act)
            sizes.add(n)
            impls_seen.add(impl)
            kernel[(act, impl, pas, n)] = items_per_second(b, n, wall=impl.endswith("_mt"))
            if b.get("error_occurred"):
                errors.setdefault((impl, b.get("error_message", "")), name)
        elif m := COMPILE_RE.match(name):
            if m["act"] not in compile_acts:
                compile_acts.append(m["act"])
            compile_t[(m["act"], m["kind"])] = None if b.get("error_occurred") else seconds(b, "real_time")
            if b.get("error_occurred"):
                errors.setdefault(("compile", b.get("error_message", "")), name)
        elif m := COPY_RE.match(name):
            copy[int(m["n"])] = b

    impls = [i for i in IMPLS if i in impls_seen]
    sizes_sorted = sorted(sizes)
    out: list[str] = []
    w = out.append

    date = context.get("date") or datetime.now(timezone.utc).isoformat(timespec="seconds")
    w(f"Measured {date} on {cpu_model(context)}.")
    if context.get("library_build_type") == "debug":
        w("Google Benchmark itself is Debian's build (it reports `debug`); that affects only its own")
        w("bookkeeping between timed regions, not the kernels.")
    if command:
        w("")
        w(f"Command: `{command}`")
    w("")
    w("Throughput in elements per second (G = 1e9), one thread unless the implementation ends in `_mt`;")
    w("ratios are `jit` over the other implementation in the same run (> 1: the JIT is faster).")
    w("Italic ratios miss the target of issue 3.")
    w("")

    # ---- Summary ------------------------------------------------------------
    w("### Summary")
    w("")
    w("| pass | n | geomean jit/simd | geomean jit/scalar | geomean jit/interp | jit >= simd | jit >= 5x scalar (transcendental) |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for pas in PASSES:
        for n in sizes_sorted:
            r_simd = [ratio(kernel.get((a, "jit", pas, n)), kernel.get((a, "simd", pas, n))) for a in acts]
            r_scalar = [ratio(kernel.get((a, "jit", pas, n)), kernel.get((a, "scalar", pas, n))) for a in acts]
            r_interp = [ratio(kernel.get((a, "jit", pas, n)), kernel.get((a, "interp", pas, n))) for a in acts]
            measured = [r for r in r_simd if r]
            at_least = sum(1 for r in measured if r >= 1.0)
            trans = [ratio(kernel.get((a, "jit", pas, n)), kernel.get((a, "scalar", pas, n))) for a in acts
                     if a in TRANSCENDENTAL]
            trans = [r for r in trans if r]
            five = sum(1 for r in trans if r >= 5.0)
            w(f"| {pas} | {n} | {fmt_ratio(geomean(r_simd), 1.2)} | {fmt_ratio(geomean(r_scalar))} | "
              f"{fmt_ratio(geomean(r_interp))} | {at_least}/{len(measured)} | {five}/{len(trans)} |")
    w("")
    silu = [(n, kernel.get(("silu", "jit", "fwd", n))) for n in sizes_sorted if n <= 262144]
    silu = [(n, v) for n, v in silu if v]
    if silu:
        best = max(silu, key=lambda t: t[1])
        ok = "met" if best[1] >= 2.5e9 else "not met"
        w(f"SiLU forward in cache (jit, one thread): {fmt_rate(best[1])}elements/s at n = {best[0]} "
          f"(target >= 2.5 G/s: {ok}).")
        w("")

    # ---- Bandwidth ----------------------------------------------------------
    big = max(copy) if copy else None
    if big is not None:
        cb = copy[big]
        copy_bps = None if cb.get("error_occurred") else cb.get("bytes_per_second")
        w(f"### Memory bandwidth (n = {big})")
        w("")
        w("Bytes per element: forward 8 (read x, write y), backward 12 (read x and dy, write dx); `copy` is")
        w("memcpy of n floats (8 bytes per element). Target: >= 85% of the copy's bytes per second.")
        w("")
        w("| copy/n | GB/s |")
        w("|---:|---:|")
        for n in sorted(copy):
            b = copy[n]
            v = None if b.get("error_occurred") else b.get("bytes_per_second")
            w(f"| {n} | {v / 1e9:.1f} |" if v else f"| {n} | - |")
        w("")
        if copy_bps:
            mt = [i for i in sorted(impls_seen) if i.endswith("_mt")]
            cols = [i for i in ["jit"] + mt + ["simd", "scalar"] if i in impls_seen]
            w("| activation | " + " | ".join(f"{i} {p} % of copy" for p in PASSES for i in cols) + " |")
            w("|---|" + "---:|" * (len(cols) * len(PASSES)))
            per_col: dict[tuple[str, str], list[float]] = defaultdict(list)
            for a in acts:
                cells = []
                for p in PASSES:
                    for i in cols:
                        v = kernel.get((a, i, p, big))
                        if v:
                            pct = 100 * v * BYTES_PER_ELEMENT[p] / copy_bps
                            per_col[(i, p)].append(pct)
                            cells.append(f"{pct:.0f}%")
                        else:
                            cells.append("-")
                w(f"| {a} | " + " | ".join(cells) + " |")
            cells = []
            for p in PASSES:
                for i in cols:
                    vals = per_col.get((i, p), [])
                    cells.append(f"{sum(vals) / len(vals):.0f}%" if vals else "-")
            w("| **mean** | " + " | ".join(cells) + " |")
            w("")

    # ---- Per-size tables -----------------------------------------------------
    for pas in PASSES:
        for n in sizes_sorted:
            cols = [i for i in impls + sorted(i for i in impls_seen if i.endswith("_mt"))
                    if any(kernel.get((a, i, pas, n)) for a in acts)]
            if not cols:
                continue
            others = [i for i in ["simd", "scalar", "interp", "et"] if i in cols and "jit" in cols]
            w(f"### {'Forward' if pas == 'fwd' else 'Backward (dx and parameter gradients)'}, n = {n}")
            w("")
            w("| activation | " + " | ".join(cols) + " | " + " | ".join(f"jit/{o}" for o in others) + " |")
            w("|---|" + "---:|" * (len(cols) + len(others)))
            ratios: dict[str, list[float | None]] = defaultdict(list)
            for a in acts:
                row = [fmt_rate(kernel.get((a, i, pas, n))) for i in cols]
                rs = []
                for o in others:
                    r = ratio(kernel.get((a, "jit", pas, n)), kernel.get((a, o, pas, n)))
                    ratios[o].append(r)
                    target = 1.0 if o == "simd" else (5.0 if o == "scalar" and a in TRANSCENDENTAL else None)
                    rs.append(fmt_ratio(r, target))
                w(f"| {a} | " + " | ".join(row) + " | " + " | ".join(rs) + " |")
            geo_rates = [fmt_rate(geomean([kernel.get((a, i, pas, n)) for a in acts])) for i in cols]
            w("| **geomean** | " + " | ".join(geo_rates) + " | "
              + " | ".join(fmt_ratio(geomean(ratios[o]), 1.2 if o == "simd" else None) for o in others) + " |")
            w("")

    # ---- Compile times ------------------------------------------------------
    if compile_acts:
        w("### Compile time (forward + backward kernels)")
        w("")
        w("`cold`: differentiation, code generation, LLVM optimization and machine code, in-memory cache")
        w("cleared before each iteration, no disk cache. `cached`: the same compile() served by the cache.")
        w("Targets: cold <= 10 ms (median over the catalog), cached <= 5 us.")
        w("")
        w("| activation | cold (ms) | cached (us) |")
        w("|---|---:|---:|")
        colds, cacheds = [], []
        for a in compile_acts:
            c, k = compile_t.get((a, "cold")), compile_t.get((a, "cached"))
            if c is not None:
                colds.append(c)
            if k is not None:
                cacheds.append(k)
            w(f"| {a} | {c * 1e3:.2f} |" if c is not None else f"| {a} | - |")
            out[-1] += f" {k * 1e6:.2f} |" if k is not None else " - |"
        med = lambda v: sorted(v)[len(v) // 2] if v else None  # noqa: E731
        mc, mk = med(colds), med(cacheds)
        w(f"| **median** | {mc * 1e3:.2f} | {mk * 1e6:.2f} |" if mc is not None and mk is not None
          else "| **median** | - | - |")
        w("")

    if errors:
        w("### Benchmarks that reported an error")
        w("")
        for (impl, msg), name in sorted(errors.items())[:20]:
            w(f"- `{name}` ({impl}): {msg}")
        if len(errors) > 20:
            w(f"- ... {len(errors) - 20} more distinct errors")
        w("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+", help="actjit_bench --benchmark_format=json output (several are merged)")
    ap.add_argument("--out", help="markdown file to update between the bench_report markers")
    ap.add_argument("--command", default="", help="the command line that produced the JSON, for the header")
    ap.add_argument("--marker", default="", help="NAME: write between <!-- bench_report:NAME:begin/end --> instead")
    args = ap.parse_args()
    if args.marker and not re.fullmatch(r"[A-Za-z0-9_.-]+", args.marker):
        ap.error("--marker: letters, digits, '_', '.' and '-' only")
    begin, end = (f"<!-- bench_report:{args.marker}:begin -->", f"<!-- bench_report:{args.marker}:end -->") \
        if args.marker else (BEGIN, END)

    data: dict = {"context": {}, "benchmarks": []}
    for path in args.json:
        d = load(path)
        data["context"] = data["context"] or d.get("context", {})
        data["benchmarks"].extend(d.get("benchmarks", []))
    tables = report(data, args.command)

    if not args.out:
        sys.stdout.write(tables)
        return 0
    path = Path(args.out)
    block = f"{begin}\n{tables}{end}\n"
    if path.exists():
        text = path.read_text()
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _, tail = rest.split(end, 1)
            tail = tail.lstrip("\n")
            text = head + block + ("\n" + tail if tail else "")
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = "# Performance\n\n" + block
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
