#!/usr/bin/env python3
"""Reference tables for activations/special.h, computed with mpmath (50 digits).

    python3 scripts/gen_special_table.py            # writes tests/data/special_ref.csv
                                                    #    and tests/data/erf_ref.csv
    python3 scripts/gen_special_table.py --temme    # prints the C++ Horner code for the
                                                    #    Temme coefficients c_k(z)

special_ref.csv  columns a,x,P,dPdx  with P = P(a, x) the regularized lower incomplete
                 gamma function and dPdx = x^(a-1) e^(-x) / Gamma(a).
erf_ref.csv      columns x,erf,Phi  for x in [-10, 10] (Phi = standard normal CDF).

Every a and every x that is >= 1e-37 is rounded to float32 before the reference is
computed, so the same rows test the float overloads at exactly the same arguments
(a float test at a rounded x would otherwise see a condition-number error of up to
~sqrt(a) * 6e-8 around x ~ a).  Tiny x below the float range are kept as doubles;
the float test skips those rows.

Rows with 0 < P < 1e-300 are dropped (P underflows to subnormals in double there,
where a relative-error test is meaningless).  Rows with x = 0 are kept: P = 0, and
dPdx is written as "inf" for a < 1 (the C++ code returns DBL_MAX/FLT_MAX there).
Numbers are printed with 20 significant digits.
"""
import os
import struct
import sys
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 50

A_VALUES = [0.5, 1, 1.5, 2, 3, 8, 16, 32, 100, 512, 1024, 2048, 4096]
X_MAX = 1e4


def f32(v):
    """Round a Python float to the nearest float32 (returned as a Python float)."""
    return struct.unpack("f", struct.pack("f", v))[0]


def x_grid(a):
    xs = {0.0, 1e-300, 1e-200, 1e-100, 1e-30, 1e-10, 1e-5, 1e-3, 0.01, 0.1, 0.5, 1.0,
          2.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 1e4}
    # around x = a: relative offsets, including the algorithm-switch zone |x/a - 1| ~ 0.4
    for d in [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.3, 0.39, 0.4, 0.41, 0.5,
              0.6, 0.8]:
        xs.add(a * (1 + d))
        xs.add(a * (1 - d))
    xs.add(a)
    # absolute offsets in units of the standard deviation sqrt(a)
    for k in [-12, -8, -6, -4, -3, -2, -1, -0.5, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 40]:
        xs.add(a + k * float(mp.sqrt(a)))
    # the series/continued-fraction switch at x = a + 1 for small a
    for d in [-1e-3, 0.0, 1e-3]:
        xs.add(a + 1 + d)
    for m in [1e-3, 0.01, 0.1, 0.25, 2, 3, 5, 10, 30]:
        xs.add(a * m)
    out = set()
    for x in xs:
        if x < 0 or x > X_MAX:
            continue
        out.add(f32(x) if x >= 1e-37 else x)
    return sorted(out)


def fmt(v):
    if v == mp.inf:
        return "inf"
    return mp.nstr(v, 20, min_fixed=-1, max_fixed=-1) if v != 0 else "0"


def gamma_rows():
    rows = []
    for a in A_VALUES:
        a = f32(float(a))
        am = mp.mpf(a)
        for x in x_grid(a):
            xm = mp.mpf(x)
            if x == 0:
                P = mp.mpf(0)
                dP = mp.inf if a < 1 else (mp.mpf(1) if a == 1 else mp.mpf(0))
            else:
                P = mp.gammainc(am, 0, xm, regularized=True)
                dP = mp.exp((am - 1) * mp.log(xm) - xm - mp.loggamma(am))
                if P < mp.mpf("1e-300"):
                    continue
            rows.append((repr(a), repr(x), fmt(P), fmt(dP)))
    return rows


def erf_rows():
    xs = set()
    for i in range(-400, 401):
        xs.add(f32(i * 0.025))
    for v in [1e-300, 1e-30, 1e-10, 1e-5, 1e-3]:
        xs.add(v)
        xs.add(-v)
    rows = []
    for x in sorted(xs):
        xm = mp.mpf(x)
        rows.append((repr(x), fmt(mp.erf(xm)), fmt(mp.ncdf(xm))))
    return rows


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    print(f"wrote {path}: {len(rows)} rows, {os.path.getsize(path)} bytes")


# ---------------------------------------------------------------------------------
# Temme coefficients (--temme)
#
# Q(a, x) = 1/2 erfc(eta sqrt(a/2)) + e^(-a eta^2/2) / sqrt(2 pi a) * sum_k c_k(eta) a^-k
# with eta^2/2 = lambda - 1 - log(lambda), lambda = x/a (DLMF 8.12).  With
# mu = lambda - 1 as a power series in eta:
#   c_0 = 1/mu - 1/eta,
#   c_k = (1/eta) c_{k-1}'(eta) + (-1)^k gamma_k / mu     (DLMF 8.12.9),
# where the Stirling coefficient gamma_k is exactly what cancels the 1/eta pole.
# Everything is done in exact rational arithmetic.

def _mul(a, b, n):
    r = [Fraction(0)] * n
    for i, x in enumerate(a[:n]):
        if x:
            for j, y in enumerate(b[:n - i]):
                r[i + j] += x * y
    return r


def _inv(a, n):
    r = [Fraction(0)] * n
    r[0] = 1 / a[0]
    for k in range(1, n):
        r[k] = -sum(a[j] * r[k - j] for j in range(1, min(k, len(a) - 1) + 1)) / a[0]
    return r


def _sqrt1(a, n):
    r = [Fraction(0)] * n
    r[0] = Fraction(1)
    for k in range(1, n):
        r[k] = (a[k] - sum(r[j] * r[k - j] for j in range(1, k))) / 2
    return r


def _compose(f, g, n):
    r = [Fraction(0)] * n
    p = [Fraction(1)] + [Fraction(0)] * (n - 1)
    for k in range(n):
        if k:
            p = _mul(p, g, n)
        if f[k]:
            for i in range(n):
                r[i] += f[k] * p[i]
    return r


def temme_coefficients(n_terms=40, kmax=11):
    n = n_terms
    # eta = mu * g(mu),  g(mu) = sqrt(2 sum_{k>=2} (-1)^k mu^(k-2) / k)
    g = _sqrt1([Fraction(2 * (-1) ** k, k) for k in range(2, n + 2)], n)
    ginv = _inv(g, n)
    eta = [Fraction(0), Fraction(1)] + [Fraction(0)] * (n - 2)
    mu = eta[:]
    for _ in range(n):  # fixed point mu = eta / g(mu), one order per iteration
        mu = _mul(eta, _compose(ginv, mu, n), n)
    m = _inv(mu[1:] + [Fraction(0)], n)  # eta / mu
    cs = [[m[i + 1] for i in range(n - 2)]]
    for _ in range(1, kmax):
        prev = cs[-1]
        gk = -prev[1]  # (-1)^k gamma_k
        cs.append([(i + 2) * prev[i + 2] + gk * m[i + 1] for i in range(len(prev) - 2)])
    return cs


def emit_temme(zmax=0.48, amin=20.0, tol=1e-19, kmax=11):
    cs = temme_coefficients(kmax=kmax)
    for k in range(kmax):
        n = len(cs[k])
        while n > 1 and abs(float(cs[k][n - 1])) * zmax ** (n - 1) / amin ** k < tol:
            n -= 1
        coefs = [repr(float(c)) for c in cs[k][:n]][::-1]
        lines = [", ".join(coefs[i:i + 4]) for i in range(0, len(coefs), 4)]
        body = (",\n" + " " * 12).join(lines)
        print(f"    const double w{k} = horner(z,  // degree {n - 1}\n            {body});")


def main():
    if "--temme" in sys.argv[1:]:
        emit_temme()
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
    os.makedirs(root, exist_ok=True)
    write_csv(os.path.join(root, "special_ref.csv"), "a,x,P,dPdx", gamma_rows())
    write_csv(os.path.join(root, "erf_ref.csv"), "x,erf,Phi", erf_rows())


if __name__ == "__main__":
    main()
