#!/usr/bin/env python3
"""actjit's JIT kernels beside PyTorch eager and torch.compile, on the same CPU and thread count.

    python3 scripts/torch_compare.py --actjit build/src/cli/actjit --threads 16 --n 16777216
    python3 scripts/torch_compare.py --bench build/bench/actjit_bench --threads 1

For each activation (default: the seed activations, plus gelu), forward and
forward+backward over a [n / 64 x 64] float32 tensor, with the catalog's
trainable parameters trainable in PyTorch too (prepu's per-feature s,
soft_exponential's alpha, prelu's a), so that autograd computes the same
parameter gradients our backward kernel reduces.

Our numbers come from `actjit bench NAME --n N --cols 64 --threads T` (the CLI
prints forward and backward throughput), or, with --bench, from actjit_bench's
`kernel/<act>/jit/...` (1 thread) or `jit_mt` (all cores) benchmarks. Our
forward+backward time per element is the sum of the two passes' times.

Prints a markdown table of throughputs (elements per second) and ratios
(ours / PyTorch: > 1 means actjit is faster). Targets of issue 3: >= 2x
torch.compile, >= 10x eager. Without PyTorch installed it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import time

SEEDS = ["prepu", "expolu", "powerlu", "paralu", "quartlu", "silu", "swish", "soft_exponential", "brelu", "mish",
         "gelu"]
COLS = 64
# Parameter values (the same as actjit_bench's baselines): prepu s, soft_exponential alpha, prelu a.
PARAM = {"prepu": 0.5, "soft_exponential": 0.5, "prelu": 0.25}


# ---- PyTorch definitions (the catalog's formulas, written as a PyTorch user would) ----

def torch_activation(name: str, torch, device):
    """(fn(x, *params), [trainable parameter tensors])."""
    F = torch.nn.functional
    where = torch.where

    def piecewise(lo, hi, mid, right):
        return lambda x: where(x < lo, torch.zeros_like(x), where(x < hi, mid(x), right(x)))

    if name == "prepu":
        s = torch.full((COLS,), PARAM["prepu"], device=device, requires_grad=True)
        return (lambda x, s: torch.relu(x) ** (F.softsign(s) + 1)), [s]
    if name == "expolu":  # a = b = 1, p = 2
        return piecewise(-1.0, 1.0, lambda x: (x + 1) ** 2, lambda x: x + 3.0), []
    if name == "powerlu":  # k = 4
        return piecewise(-1.0, 1.0, lambda x: (x + 1) ** 4 / 16, lambda x: x), []
    if name == "paralu":  # c = 0.1
        return piecewise(-0.1, 0.1, lambda x: (x + 0.1) ** 2 / 0.4, lambda x: x), []
    if name == "quartlu":  # c = 0.1
        return piecewise(-0.1, 0.1 / 3, lambda x: (x + 0.1) ** 4 * 27 / (256 * 0.1 ** 3), lambda x: x), []
    if name == "silu":
        return F.silu, []
    if name == "swish":  # beta = 1, fixed
        return (lambda x: x * torch.sigmoid(1.0 * x)), []
    if name == "soft_exponential":
        alpha = torch.tensor(PARAM["soft_exponential"], device=device, requires_grad=True)

        def soft_exponential(x, a):
            # the seed article's module: the branch is on the parameter's value
            if a.item() < 0:
                return -torch.log1p(-a * (x + a)) / a
            if a.item() > 0:
                return torch.expm1(a * x) / a + a
            return x + a * (1 + x * x / 2)

        return soft_exponential, [alpha]
    if name == "brelu":
        even = (torch.arange(COLS, device=device) % 2 == 0)
        return (lambda x: where(even, torch.relu(x), -torch.relu(-x))), []
    if name == "mish":
        return F.mish, []
    if name == "gelu":
        return F.gelu, []
    if name == "gelu_tanh":
        return (lambda x: F.gelu(x, approximate="tanh")), []
    if name == "prelu":
        a = torch.tensor([PARAM["prelu"]], device=device, requires_grad=True)
        return (lambda x, a: F.prelu(x, a)), [a]
    simple = {
        "relu": F.relu, "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu, "celu": F.celu,
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softsign": F.softsign, "logsigmoid": F.logsigmoid,
        "hardtanh": F.hardtanh, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "softplus": F.softplus,
        "tanhshrink": F.tanhshrink,
    }
    if name in simple:
        return simple[name], []
    raise SystemExit(f"error: no PyTorch definition for '{name}'")


def time_call(fn, min_time: float) -> float:
    """Median seconds per call, after warm-up."""
    for _ in range(3):
        fn()
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(samples) < 5:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def torch_rates(name: str, n: int, threads: int, min_time: float, use_compile: bool) -> dict:
    import torch

    torch.set_num_threads(threads)
    device = "cpu"
    rows = n // COLS
    gen = torch.Generator().manual_seed(1234)
    x = (torch.rand(rows, COLS, generator=gen) * 12 - 6).to(device)
    dy = (torch.rand(rows, COLS, generator=gen) * 2 - 1).to(device)
    fn, params = torch_activation(name, torch, device)
    compile_s = None
    if use_compile:
        fn = torch.compile(fn, dynamic=False)
        t0 = time.perf_counter()
        with torch.no_grad():
            fn(x, *params)
        xg = x.clone().requires_grad_(True)
        fn(xg, *params).backward(dy)
        compile_s = time.perf_counter() - t0

    def forward():
        with torch.no_grad():
            fn(x, *params)

    xg = x.clone().requires_grad_(True)

    def forward_backward():
        xg.grad = None
        for p in params:
            p.grad = None
        fn(xg, *params).backward(dy)

    f = time_call(forward, min_time)
    fb = time_call(forward_backward, min_time)
    return {"fwd": n / f, "fwdbwd": n / fb, "compile_s": compile_s}


# ---- Our kernels ---------------------------------------------------------------

RATE_RE = re.compile(r"([0-9.]+)\s*([kMG]?)elem/s")
UNIT = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def actjit_rates_cli(exe: str, name: str, n: int, threads: int, min_time: float) -> dict:
    cmd = [exe, "bench", name, "--n", str(n), "--cols", str(COLS), "--threads", str(threads),
           "--min-time", str(min_time)]
    if name in PARAM:
        pname = {"prepu": "s", "soft_exponential": "alpha", "prelu": "a"}[name]
        cmd += ["--param", f"{pname}={PARAM[name]}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.split()[:1] == ["jit"]:
            rates = [float(v) * UNIT[u] for v, u in RATE_RE.findall(line)]
            if len(rates) >= 2:
                return {"fwd": rates[0], "bwd": rates[1]}
    raise RuntimeError(f"could not read the jit line of `{' '.join(cmd)}`:\n{out}")


def actjit_rates_bench(exe: str, name: str, n: int, threads: int, min_time: float) -> dict:
    impl = "jit" if threads == 1 else "jit_mt"
    filt = f"^kernel/{name}/{impl}/(fwd|bwd)/{n}$"
    out = subprocess.run([exe, f"--benchmark_filter={filt}", f"--benchmark_min_time={min_time}",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    data = json.loads(out[out.find("{"):])
    rates = {}
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            raise RuntimeError(b.get("error_message", "error"))
        pas = b["name"].split("/")[3]
        t = b["real_time" if impl == "jit_mt" else "cpu_time"] * unit[b.get("time_unit", "ns")]
        rates[pas] = n / t
    if "fwd" not in rates or "bwd" not in rates:
        raise RuntimeError(f"no {impl} benchmark for {name} at n = {n} (jit_mt exists only for n = 16777216)")
    return rates


def fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1e9:.2f} G" if v >= 1e9 else f"{v / 1e6:.1f} M"


def fmt_ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}x"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--actjit", default="actjit", help="the actjit CLI (default: actjit on PATH)")
    src.add_argument("--bench", help="use actjit_bench instead of the CLI (threads 1 or all cores)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=1 << 20, help="elements (multiple of 64)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    ap.add_argument("--activations", default=",".join(SEEDS), help="comma-separated catalog names")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    args = ap.parse_args()
    if args.n % COLS:
        ap.error(f"--n must be a multiple of {COLS}")
    names = [a for a in args.activations.split(",") if a]

    try:
        import torch
    except ImportError:
        print("torch_compare: PyTorch is not installed here (pip install torch); nothing to compare.")
        return 0

    print(f"PyTorch {torch.__version__}, {args.threads} thread(s), n = {args.n} ({args.n // COLS} x {COLS}), float32")
    print()
    head = ("| activation | eager fwd | compile fwd | actjit fwd | vs eager | vs compile "
            "| eager fwd+bwd | compile fwd+bwd | actjit fwd+bwd | vs eager | vs compile | torch.compile time |")
    print(head)
    print("|---|" + "---:|" * (head.count("|") - 2))
    ratios = {k: [] for k in ("fe", "fc", "be", "bc")}
    for name in names:
        try:
            if args.bench:
                ours = actjit_rates_bench(args.bench, name, args.n, args.threads, args.min_time)
            else:
                ours = actjit_rates_cli(args.actjit, name, args.n, args.threads, args.min_time)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
            print(f"| {name} | actjit failed: {str(e).strip().splitlines()[-1] if str(e).strip() else e} |")
            continue
        ours_fb = 1 / (1 / ours["fwd"] + 1 / ours["bwd"])
        eager = torch_rates(name, args.n, args.threads, args.min_time, use_compile=False)
        comp = None if args.no_compile else torch_rates(name, args.n, args.threads, args.min_time, use_compile=True)
        r = lambda a, b: a / b if a and b else None  # noqa: E731
        fe, be = r(ours["fwd"], eager["fwd"]), r(ours_fb, eager["fwdbwd"])
        fc = r(ours["fwd"], comp["fwd"]) if comp else None
        bc = r(ours_fb, comp["fwdbwd"]) if comp else None
        for k, v in (("fe", fe), ("fc", fc), ("be", be), ("bc", bc)):
            if v:
                ratios[k].append(v)
        ctime = f"{comp['compile_s']:.2f} s" if comp and comp["compile_s"] is not None else "-"
        print(f"| {name} | {fmt_rate(eager['fwd'])} | {fmt_rate(comp['fwd'] if comp else None)} | "
              f"{fmt_rate(ours['fwd'])} | {fmt_ratio(fe)} | {fmt_ratio(fc)} | {fmt_rate(eager['fwdbwd'])} | "
              f"{fmt_rate(comp['fwdbwd'] if comp else None)} | {fmt_rate(ours_fb)} | {fmt_ratio(be)} | "
              f"{fmt_ratio(bc)} | {ctime} |", flush=True)

    def geo(v):
        return math.exp(sum(map(math.log, v)) / len(v)) if v else None

    print(f"| **geomean** | | | | {fmt_ratio(geo(ratios['fe']))} | {fmt_ratio(geo(ratios['fc']))} | | | | "
          f"{fmt_ratio(geo(ratios['be']))} | {fmt_ratio(geo(ratios['bc']))} | |")
    print()
    print("Ratios: actjit / PyTorch (> 1: actjit faster). Targets: >= 10x eager, >= 2x torch.compile.")
    if not args.bench and any(a in PARAM for a in names):
        print("Note: `actjit bench --param` binds parameters as fixed values, so our backward for "
              + ", ".join(a for a in names if a in PARAM)
              + " computes no parameter gradient there (PyTorch's does); --bench times the catalog binding.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
