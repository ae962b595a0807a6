#!/usr/bin/env python3
"""Coefficients of the float32 packet Φ in core/cpu/simd.h (normal_cdf_pdf_).

    python3 scripts/gen_normal_cdf_table.py     # prints the C++ tables to paste between
                                                 # the BEGIN/END generated markers

Needs mpmath and numpy (pip). For a = |x| the kernel writes
    Φ(−a) = e^(−a²/2) · H(a),   H(a) = Φ(−a)·e^(a²/2) = ½·erfcx(a/√2),
which is smooth, positive and slowly varying (0.5 at 0, ~1/(a√(2π)) for large a), so
a float polynomial evaluates it to a fraction of an ulp. Each polynomial is fitted for
minimal relative error (Lawson's reweighted least squares on Chebyshev points, the
reference from mpmath at 40 digits), then rounded to float (the second error column
printed).

The central piece a ≤ 3 holds most of an activation's inputs (for N(0, 1) inputs, 98% of
the packets of 8 lie there entirely): one degree-12 polynomial in s = a − 1.5 (kCentral),
with nothing to pick per lane. s is exact for a ≥ 0.75 (Sterbenz); below, its rounding
moves H by under an ulp.

The tail (3, 14.5] (Φ(−13.1) is below FLT_MIN; beyond 14.5 the kernel's e^(−a²/2) is 0)
is cut into 4 pieces at the binades of a − 2 (1, 2, 4, 8: a = 3, 4, 6, 10), so a lane's
piece is the exponent of a − 2, whose low two bits pick the table lane with one in-lane
permute per degree (the table repeated in both 128-bit halves); piece i is a degree-8
polynomial in s = a − kMid[i], and every kMid[i] lies within a factor of 2 of its whole
piece (Sterbenz), so s is exact in float. A packet with a lane in the tail evaluates both
and picks per lane, so a lane's value never depends on its neighbours.

The kernel's own e^z (z = −a²/2 ≥ −105.2, inline: SLEEF's out-of-line expf cost as much
as the rest of Φ together) reduces z = k·ln2 + r, |r| ≤ ln2/2, and evaluates e^r by a
degree-6 polynomial 1 + r + c2·r² + … + c6·r⁶, fitted here the same way.

Softplus's log1p(u), 0 ≤ u ≤ 1 (u = e^−|z|), writes 1 + u = 2^k·(1 + f) with k = 0 or 1
and f in [√½ − 1, √2 − 1], and evaluates log1p(f) = f + f²·(q0 + q1·f + … + q8·f⁸),
fitted here the same way (kLog1p).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
BOUNDS = [3, 4, 6, 10, 14.5]
DEG = 8
CENTRAL_END, CENTRAL_MID, CENTRAL_DEG = 3.0, 1.5, 12


def H(a):
    a = mp.mpf(a)
    return float(mp.erfc(a / mp.sqrt(2)) / 2 * mp.exp(a * a / 2))


def lawson(V, f, n_iter=30, weight=None):
    """Coefficients c minimizing max |V c − f| / |weight| (weight defaults to f; Lawson's
    reweighted least squares)."""
    weight = f if weight is None else weight
    w = np.ones(len(f))
    for _ in range(n_iter):
        W = w / np.abs(weight)
        c, *_ = np.linalg.lstsq(V * W[:, None], f * W, rcond=None)
        err = (V @ c - f) / weight
        w = w * np.abs(err)
        w /= w.sum()
    return c


def fit_piece(lo, hi, mid, deg=DEG, n=800):
    """The fit rounded to float two ways, keeping the better: every coefficient rounded,
    or the two leading ones rounded and the others refitted around them (those two
    dominate the rounding error where the fit is well conditioned)."""
    k = np.arange(n)
    a = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)
    h = np.array([H(v) for v in a])
    V = np.vander(a - mid, deg + 1, increasing=True)
    rel = lambda c: float(np.max(np.abs((V @ c - h) / h)))
    to_float = lambda c: c.astype(np.float32).astype(np.float64)
    c = lawson(V, h)
    head = to_float(c[:2])
    refit = np.concatenate([head, lawson(V[:, 2:], h - V[:, :2] @ head, weight=h)])
    best = min((to_float(c), to_float(refit)), key=rel)
    return best, rel(c), rel(best)


def fit_exp(deg=6, n=2000, iters=30):
    """e^r ~ 1 + r + c2 r^2 + ... + c6 r^6 on [-ln2/2, ln2/2], minimal relative error."""
    half = float(mp.log(2) / 2)
    r = half * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    f = np.array([float(mp.exp(v)) for v in r])
    V = np.vander(r, deg + 1, increasing=True)
    c = lawson(V[:, 2:], f - 1 - r, weight=f)
    err = (1 + r + V[:, 2:] @ c - f) / f
    c32 = c.astype(np.float32).astype(np.float64)
    return c32, float(np.max(np.abs(err))), float(np.max(np.abs((1 + r + V[:, 2:] @ c32 - f) / f)))


def fit_log1p(deg=8, n=2000):
    """log1p(f) ~ f + f^2 (q0 + ... + q8 f^8) on [sqrt(1/2) - 1, sqrt(2) - 1] (a hair
    wider), minimal relative error."""
    lo, hi = -0.2929, 0.4143
    f = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    y = np.array([float(mp.log1p(v)) for v in f])
    V = np.vander(f, deg + 1, increasing=True) * (f * f)[:, None]
    c = lawson(V, y - f, weight=y)
    c32 = c.astype(np.float32).astype(np.float64)
    return c32, float(np.max(np.abs((f + V @ c - y) / y))), float(np.max(np.abs((f + V @ c32 - y) / y)))


def main():
    pieces = len(BOUNDS) - 1
    mids = [float(np.float32((BOUNDS[i] + BOUNDS[i + 1]) / 2)) for i in range(pieces)]
    for i in range(pieces):
        assert BOUNDS[i + 1] <= 2 * mids[i] and mids[i] <= 2 * BOUNDS[i], "s = a - mid must be exact"
    coefs = []
    for i in range(pieces):
        c, e, e32 = fit_piece(BOUNDS[i], BOUNDS[i + 1], mids[i])
        coefs.append(c)
        print(f"// piece {i} [{BOUNDS[i]}, {BOUNDS[i + 1]}]: relative fit error {e:.1e}, "
              f"{e32:.1e} with float coefficients")
    central, e, e32 = fit_piece(0, CENTRAL_END, CENTRAL_MID, CENTRAL_DEG)
    print(f"// central piece [0, {CENTRAL_END}], degree {CENTRAL_DEG} in a - {CENTRAL_MID}: relative fit error {e:.1e}, "
          f"{e32:.1e} with float coefficients")
    fmt = lambda v: f"{np.float32(v).item():#.9g}f"
    ec, ee, ee32 = fit_exp()
    print(f"// e^r on [-ln2/2, ln2/2]: relative fit error {ee:.1e}, {ee32:.1e} with float coefficients")
    lc, le, le32 = fit_log1p()
    print(f"// log1p(f) on [sqrt(1/2) - 1, sqrt(2) - 1]: relative fit error {le:.1e}, {le32:.1e} with float coefficients")
    print("// BEGIN generated by scripts/gen_normal_cdf_table.py")
    # Both 128-bit halves; piece i (exponent 127 + i of a − 2) sits at lane (127 + i) mod 4,
    # the two bits vpermilps reads, so the kernel needs no subtraction.
    order = lambda vals: [vals[(lane - 127) % 4] for lane in range(4)]
    row = lambda vals: "{" + ", ".join(fmt(v) for v in order(vals) * 2) + "}"
    print(f"alignas(32) constexpr float kMid[8] = {row(mids)};")
    print(f"alignas(32) constexpr float kCoef[{DEG + 1}][8] = {{  // kCoef[j]: s^j; lane (127 + piece) mod 4")
    for j in range(DEG + 1):
        print("    " + row([coefs[i][j] for i in range(pieces)]) + ",")
    print("};")
    print(f"constexpr float kCentralEnd = {fmt(CENTRAL_END)}, kCentralMid = {fmt(CENTRAL_MID)};")
    print(f"constexpr float kCentral[{CENTRAL_DEG + 1}] = {{  // s^j, s = a - kCentralMid")
    print("    " + ", ".join(fmt(v) for v in central) + "};")
    print("constexpr float kExp[5] = {" + ", ".join(fmt(c) for c in ec) + "};  // c2..c6 of e^r")
    print(f"constexpr float kLog1p[{len(lc)}] = {{" + ", ".join(fmt(c) for c in lc) + "};  // q0..q8 of log1p(f)")
    print("// END generated by scripts/gen_normal_cdf_table.py")


if __name__ == "__main__":
    main()
