#!/usr/bin/env python3
"""Fits the register tables of erf (jit/vector_math.cpp, float32) and tanh.

The erf tables are in include/actjit/detail/poly_tables.hpp: `erf` for
AVX-512 (16 entries, one vpermps each), `erf8` for AVX2 (8 entries for the
256-bit vpermps). The tanh ones are not: measured and left out
(docs/VECTOR_MATH.md, "erf"), as accurate as the expm1 version but 2-7 %
slower on Zen 5.

|x| is cut into intervals: for `erf` 16, [i/4, (i+1)/4) of [0, 4); for
`erf8` 8, [i/2, (i+1)/2); for `tanh` 30, [0, 1/16) and then quarters of
binades, [1/16, 5/64), [5/64, 3/32), ..., [7, 8), [8, 9.0109...) (the index
is |x|'s bits >> 21, less 491, at least 0; 32-entry tables, the last two
entries unused). Interval i has an origin a_i (a float), and on it

    f(|x|) = s_i + t * P_i(t),   t = |x| - a_i  (exact: Sterbenz),

with P_i of degree 4 for erf, 6 for erf8 and 5 for tanh (5, 7 or 6 float
coefficients c1.., Horner with FMA) and s_i = c0_i = f(a_i) rounded to
float for i >= 1, s_0 = t (a_0 = 0, so the first interval computes
t + t * (f(t)/t - 1): for erf the 2/sqrt(pi) that no float holds is
1 + 0.128..., and the error of the smaller part hardly shows). For tanh s
has a low part too, c0lo_i = f(a_i) - c0_i rounded to float (near 1 no
float within 0.3 ulp of tanh(a_i) is found, and functions such as
gelu_tanh's derivative compute 1 - tanh^2): the kernel computes
s + fma(t, P, c0lo) there, fma(t, P, s) for erf.

For i >= 1 the origin is the float within 3000 ulp of the interval's middle
whose f is nearest to a float (Gal's accurate tables), so c0_i is within
0.001 ulp of f(a_i) for most intervals and costs no rounding of its own.
The coefficients are a weighted least-squares fit, iteratively reweighted
towards minimax of the relative error of f, rounded to float one at a
time, each rounding followed by a refit of the higher ones. The script then
simulates the kernel (float32 Horner with FMA on every float of the
interval; every 64th on interval 0) and prints, to stderr, the maximum
error in ulp of the correctly rounded f for each interval.

Needs numpy (Debian: python3-numpy); the reference is Python's math.erf
and math.tanh (double, within an ulp of double: 2^-29 of a float ulp).

    /usr/bin/python3 scripts/fit_vmath_tables.py erf > /tmp/erf_table.txt
    /usr/bin/python3 scripts/fit_vmath_tables.py erf8 > /tmp/erf8_table.txt
    /usr/bin/python3 scripts/fit_vmath_tables.py tanh > /tmp/tanh_table.txt
"""
import math
import sys

import numpy as np

INTERVALS = 16
TANH_SAT = 9.010913848876953  # the least float whose tanh rounds to 1


def intervals(name):
    if name == "erf":
        return [(i / 4, (i + 1) / 4) for i in range(INTERVALS)]
    if name == "erf8":
        return [(i / 2, (i + 1) / 2) for i in range(8)]
    starts = [0.0] + [2.0 ** (k // 4 - 4) * (1 + (k % 4) / 4) for k in range(29)]
    return list(zip(starts, starts[1:] + [TANH_SAT]))


# name: (f, coefficients of P, table prefix, whether s has a low part)
FUNCS = {"erf": (math.erf, 5, "Erf", False), "erf8": (math.erf, 7, "Erf8", False),
         "tanh": (math.tanh, 6, "Tanh", True)}


def f32(v):
    return float(np.float32(v))


def fit(t, target, scale, n):
    """Coefficients of sum c_k t^k, k < n, minimizing max |fit - target| / scale."""
    a = np.vander(t, n, increasing=True)
    w = np.ones_like(t)
    for _ in range(40):
        c, *_ = np.linalg.lstsq(a * (w / scale)[:, None], target * (w / scale), rcond=None)
        e = np.abs(a @ c - target) / scale
        w = w * (1 + e / e.max())
        w /= w.max()
    return c


def origin(f, lo, hi):
    """The float near the middle of [lo, hi) whose f is nearest to a float."""
    mid = np.float32((lo + hi) / 2)
    base = int(mid.view(np.uint32))
    best = None
    for d in range(-3000, 3001):
        a = float(np.uint32(base + d).view(np.float32))
        e = f(a)
        dist = abs(e - f32(e)) / float(np.spacing(np.float32(e)))
        if best is None or dist < best[0]:
            best = (dist, a, f32(e))
    return best[1], best[2]


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "erf"
    scalar, coefs_n, tag, split = FUNCS[name]
    f = np.vectorize(scalar)
    rows = []
    worst = 0.0
    for i, (lo, hi) in enumerate(intervals(name)):
        a, c0 = (0.0, 0.0) if i == 0 else origin(scalar, lo, hi)
        k = np.arange(6000)
        t = (lo - a) + (1 - np.cos(np.pi * (k + 0.5) / 6000)) / 2 * (hi - lo)  # Chebyshev nodes
        ev = f(a + t)
        # With `split`, s = c0 + c0lo: c0lo = f(a) - c0 rounded to float.
        c0lo = f32(scalar(a) - c0) if split and i > 0 else 0.0
        r = (ev - c0 - c0lo) / t - (1.0 if i == 0 else 0.0)
        scale = ev / np.abs(t)  # an error d in r is t*d in f
        coefs = []
        for j in range(coefs_n):
            c = fit(t, r, scale, coefs_n - j)
            coefs.append(f32(c[0]))
            r = (r - coefs[-1]) / t
            scale = scale / np.abs(t)
        rows.append((a, c0, coefs, c0lo))

        # The kernel's arithmetic, on every float of the interval.
        # (Interval 0 holds about 2^30 floats: every 64th bit pattern of it.)
        lo_bits = int(np.float32(lo).view(np.uint32)) if lo > 0 else 1
        hi_bits = int(np.float32(hi).view(np.uint32))
        xs = np.arange(lo_bits, hi_bits, 64 if i == 0 else 1, dtype=np.uint32).view(np.float32)
        tt = (xs - np.float32(a)).astype(np.float32)
        assert np.all(tt.astype(np.float64) == xs.astype(np.float64) - a), "t is not exact"
        acc = np.full_like(tt, np.float32(coefs[-1]))
        for cc in coefs[-2::-1]:
            acc = (acc.astype(np.float64) * tt + cc).astype(np.float32)
        s = tt.astype(np.float64) if i == 0 else c0
        if split:  # q = fma(t, acc, c0lo), then s + q
            q = (acc.astype(np.float64) * tt + c0lo).astype(np.float32)
            y = (q.astype(np.float64) + s).astype(np.float32)
        else:  # fma(t, acc, s)
            y = (acc.astype(np.float64) * tt + s).astype(np.float32)
        ref = f(xs.astype(np.float64))
        ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
        err = (np.abs(y.astype(np.float64) - ref) / ulp).max()
        worst = max(worst, err)
        print(f"// interval {i:2d}: a = {a!r:<20} max {err:.2f} ulp ({len(xs)} floats)", file=sys.stderr)
    print(f"// worst {worst:.2f} ulp", file=sys.stderr)

    size = 8 if len(rows) <= 8 else 16 if len(rows) <= 16 else 32
    rows += [rows[-1]] * (size - len(rows))  # unused entries: copies of the last

    def table(name, values):
        print(f"inline constexpr double {name}[{size}] = {{")
        for j in range(0, size, 4):
            print("    " + ", ".join(repr(v) for v in values[j:j + 4]) + ",")
        print("};")

    table(f"k{tag}TabA32", [r[0] for r in rows])
    table(f"k{tag}TabC0_32", [r[1] for r in rows])
    if split:
        table(f"k{tag}TabC0lo32", [r[3] for r in rows])
    print(f"inline constexpr double k{tag}TabP32[{coefs_n}][{size}] = {{")
    for j in range(coefs_n):
        vals = [repr(r[2][j]) for r in rows]
        lines = [", ".join(vals[q:q + 4]) for q in range(0, size, 4)]
        print("    {" + ",\n     ".join(lines) + "},")
    print("};")


if __name__ == "__main__":
    main()
