#!/usr/bin/env python3
"""Reference values for tests/test_activations_values.cpp, at 40 significant digits.

Writes tests/data/activation_ref.csv with columns
  name, param, x, y, dy, dparam
  * elementwise activations: y = f(x), dy = f'(x) (nan at kinks, where it is undefined);
    param is the activation's parameter where it has one (slope, alpha, beta), else 0.
  * vec_gelu_scale: the gate s = P(d/2, r^2/2) with param = d, x = r, dy = s'(r).
  * vec_erf_scale: s = erf(r/(sqrt(2) sigma)) with param = sigma, x = r, dy = ds/dr,
    dparam = ds/dsigma.
Every value comes from the defining formula evaluated by mpmath, independent of the
C++ code. Usage: python3 scripts/gen_activation_table.py [output.csv]
"""
import sys

import mpmath as mp

mp.mp.dps = 40
SELU_ALPHA = mp.mpf("1.6732632423543772")
SELU_SCALE = mp.mpf("1.0507009873554805")


def clamp(v, lo, hi):
    return min(max(v, lo), hi)


def softplus(x, beta=1, threshold=20):
    return x if x * beta > threshold else mp.log1p(mp.exp(beta * x)) / beta


def hardgelu(x):
    return x * clamp(x + mp.mpf("1.5"), 0, 3) / 3


# name -> (param, f, kinks)
ELEMENTWISE = {
    "relu": (0, lambda x: max(x, 0), [0]),
    "leaky_relu": (mp.mpf("0.01"), lambda x: x if x > 0 else mp.mpf("0.01") * x, [0]),
    "elu": (1, lambda x: x if x > 0 else mp.expm1(x), [0]),
    "selu": (0, lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mp.expm1(x)), [0]),
    "celu": (2, lambda x: x if x > 0 else 2 * mp.expm1(x / 2), [0]),
    "gelu": (0, lambda x: x * mp.ncdf(x), []),
    "gelu_tanh": (0, lambda x: x / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3))), []),
    "silu": (0, lambda x: x / (1 + mp.exp(-x)), []),
    "mish": (0, lambda x: x * mp.tanh(mp.log1p(mp.exp(x))), []),
    "softplus": (1, lambda x: softplus(x), [20]),
    "softplus_beta2": (2, lambda x: softplus(x, 2), [10]),
    "sigmoid": (0, lambda x: 1 / (1 + mp.exp(-x)), []),
    "tanh": (0, mp.tanh, []),
    "hardsigmoid": (0, lambda x: clamp(x + 3, 0, 6) / 6, [-3, 3]),
    "hardswish": (0, lambda x: x * clamp(x + 3, 0, 6) / 6, [-3, 3]),
    "hardgelu": (0, hardgelu, [mp.mpf("-1.5"), mp.mpf("1.5")]),
    "hardgelu_clamped": (0, lambda x: clamp(hardgelu(x), mp.mpf(-3) / 16, 3), [mp.mpf("-1.5"), mp.mpf("1.5"), 3]),
}

XS = ["-30", "-12", "-5", "-3", "-2.5", "-1.5", "-1", "-0.75", "-0.5", "-0.1", "-1e-3", "0", "1e-3", "0.1",
      "0.5", "0.75", "1", "1.5", "2", "2.5", "3", "4", "5", "12", "30"]


def fmt(v):
    return mp.nstr(v, 40, min_fixed=-5, max_fixed=5) if v == v else "nan"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/activation_ref.csv"
    rows = ["name,param,x,y,dy,dparam"]
    nan = mp.mpf("nan")
    for name, (param, f, kinks) in ELEMENTWISE.items():
        for xs in XS:
            x = mp.mpf(xs)
            y = f(x)
            dy = nan if any(x == k for k in kinks) else mp.diff(f, x)
            rows.append(f"{name},{fmt(mp.mpf(param))},{xs},{fmt(y)},{fmt(dy)},nan")
    for d in [1, 2, 3, 16, 64, 1024, 4096]:
        a = mp.mpf(d) / 2
        for k in ["1e-3", "0.1", "0.5", "0.9", "1", "1.1", "1.5", "2", "4"]:
            r = mp.sqrt(d) * mp.mpf(k)
            u = r * r / 2
            s = mp.gammainc(a, 0, u, regularized=True)
            ds = r * u ** (a - 1) * mp.exp(-u) / mp.gamma(a)
            rows.append(f"vec_gelu_scale,{d},{fmt(r)},{fmt(s)},{fmt(ds)},nan")
    for sigma in ["0.5", "1", "2"]:
        sg = mp.mpf(sigma)
        for rs in ["1e-3", "0.3", "1", "2", "5"]:
            r = mp.mpf(rs)
            s = mp.erf(r / (mp.sqrt(2) * sg))
            ds = mp.diff(lambda t: mp.erf(t / (mp.sqrt(2) * sg)), r)
            dsg = mp.diff(lambda t: mp.erf(r / (mp.sqrt(2) * t)), sg)
            rows.append(f"vec_erf_scale,{sigma},{rs},{fmt(s)},{fmt(ds)},{fmt(dsg)}")
    with open(out, "w") as fh:
        fh.write("\n".join(rows) + "\n")
    print(f"wrote {len(rows) - 1} rows to {out}")


if __name__ == "__main__":
    main()
