#!/usr/bin/env python3
"""Fits the register-table erf of jit/vector_math.cpp (float32, AVX-512).

|x| in [0, 4) is cut into 16 intervals [i/4, (i+1)/4). Interval i has an
origin a_i (a float), and on it

    erf(|x|) = s_i + t * P_i(t),   t = |x| - a_i  (exact: Sterbenz),

with P_i of degree 4 (5 float coefficients c1..c5, Horner with FMA) and
s_i = c0_i = erf(a_i) rounded to float for i >= 1, s_0 = t (a_0 = 0, so the
first interval computes t + t * (erf(t)/t - 1): the 2/sqrt(pi) that no float
holds is 1 + 0.128..., and the error of the smaller part hardly shows).

For i >= 1 the origin is the float within 3000 ulp of the interval's middle
whose erf is nearest to a float (Gal's accurate tables), so c0_i is within
0.001 ulp of erf(a_i) and costs no rounding of its own. The coefficients are
a weighted least-squares fit, iteratively reweighted towards minimax of the
relative error of erf, rounded to float one at a time, each rounding
followed by a refit of the higher ones. The script then simulates the kernel
(float32 Horner with FMA on every float of the interval) and prints the
maximum error in ulp of the correctly rounded erf for each interval.

Needs numpy (Debian: python3-numpy); the reference is Python's math.erf
(double, within an ulp of double: 2^-29 of a float ulp).

    /usr/bin/python3 scripts/fit_erf_table.py > /tmp/erf_table.txt
"""
import math
import sys

import numpy as np

INTERVALS = 16
WIDTH = 0.25
COEFS = 5  # c1..c5: P of degree 4


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


def origin(lo):
    """The float near the middle of [lo, lo + WIDTH) whose erf is nearest to a float."""
    mid = np.float32(lo + WIDTH / 2)
    base = int(mid.view(np.uint32))
    best = None
    for d in range(-3000, 3001):
        a = float(np.uint32(base + d).view(np.float32))
        e = math.erf(a)
        dist = abs(e - f32(e)) / float(np.spacing(np.float32(e)))
        if best is None or dist < best[0]:
            best = (dist, a, f32(e))
    return best[1], best[2]


def main():
    erf = np.vectorize(math.erf)
    rows = []
    worst = 0.0
    for i in range(INTERVALS):
        lo = i * WIDTH
        a, c0 = (0.0, 0.0) if i == 0 else origin(lo)
        k = np.arange(6000)
        t = (lo - a) + (1 - np.cos(np.pi * (k + 0.5) / 6000)) / 2 * WIDTH  # Chebyshev nodes
        ev = erf(a + t)
        r = (ev - c0) / t - (1.0 if i == 0 else 0.0)
        scale = ev / np.abs(t)  # an error d in r is t*d in erf
        coefs = []
        for j in range(COEFS):
            c = fit(t, r, scale, COEFS - j)
            coefs.append(f32(c[0]))
            r = (r - coefs[-1]) / t
            scale = scale / np.abs(t)
        rows.append((a, c0, coefs))

        # The kernel's arithmetic, on every float of the interval.
        # (Interval 0 holds 2^30 floats: every 64th bit pattern of it.)
        lo_bits = int(np.float32(lo).view(np.uint32)) if lo > 0 else 1
        hi_bits = int(np.float32(lo + WIDTH).view(np.uint32))
        xs = np.arange(lo_bits, hi_bits, 64 if i == 0 else 1, dtype=np.uint32).view(np.float32)
        tt = (xs - np.float32(a)).astype(np.float32)
        assert np.all(tt.astype(np.float64) == xs.astype(np.float64) - a), "t is not exact"
        acc = np.full_like(tt, np.float32(coefs[-1]))
        for cc in coefs[-2::-1]:
            acc = (acc.astype(np.float64) * tt + cc).astype(np.float32)
        s = tt.astype(np.float64) if i == 0 else c0
        y = (acc.astype(np.float64) * tt + s).astype(np.float32)
        ref = erf(xs.astype(np.float64))
        ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
        err = (np.abs(y.astype(np.float64) - ref) / ulp).max()
        worst = max(worst, err)
        print(f"// interval {i:2d}: a = {a!r:<20} max {err:.2f} ulp ({len(xs)} floats)", file=sys.stderr)
    print(f"// worst {worst:.2f} ulp", file=sys.stderr)

    def table(name, values):
        print(f"inline constexpr double {name}[16] = {{")
        for j in range(0, 16, 4):
            print("    " + ", ".join(repr(v) for v in values[j:j + 4]) + ",")
        print("};")

    table("kErfTabA32", [r[0] for r in rows])
    table("kErfTabC0_32", [r[1] for r in rows])
    print("inline constexpr double kErfTabP32[5][16] = {")
    for j in range(COEFS):
        vals = [repr(r[2][j]) for r in rows]
        lines = [", ".join(vals[q:q + 4]) for q in range(0, 16, 4)]
        print("    {" + ",\n     ".join(lines) + "},")
    print("};")


if __name__ == "__main__":
    main()
