#!/usr/bin/env python3
"""Figures of the activation lab (docs/activations.md), drawn from the CSV files that
scripts/lab's programs write. Usage: plot-lab.py DATA_DIR FIGURES_DIR

  gelu_formation.png      Monte-Carlo mean of x·m, m ~ Bernoulli(Φ(x)), against x·Φ(x);
                          the backward surrogate Φ(x) against d/dx x·Φ(x)
  toy_regression.png      training loss of the GELU paper's toy MLP, median and range
                          over seeds, ReLU / GELU / stochastic GELU, Gaussian and uniform data
  self_normalization.png  per-layer activation mean and variance and weight-gradient
                          norm through a 64-layer LeCun-normal MLP
  activation_curves.png   f and f′ of every activation of the registry
  vecgelu_scale.png       VecGELU's gate s(r, d) = P(d/2, r²/2) against r/√d
  quantization.png        relative error of int8 / int4 outputs per activation
Runs under Debian's /usr/bin/python3 with python3-matplotlib (scripts/lab installs it).
"""
import csv
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 80


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def save(fig, figures, name):
    fig.tight_layout()
    fig.savefig(os.path.join(figures, name), dpi=DPI)
    plt.close(fig)


def gelu_formation(data, figures):
    r = rows(os.path.join(data, "gelu_mc.csv"))
    x = [float(v["x"]) for v in r]
    mc = [float(v["mc_mean"]) for v in r]
    se = [float(v["mc_stderr"]) for v in r]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(x, [float(v["gelu"]) for v in r], color="k", lw=1, label="x·Φ(x)")
    a.errorbar(x, mc, yerr=[2 * s for s in se], fmt="o", ms=2.5, color="C3", elinewidth=0.8,
               label="mean of x·m, m ~ Bernoulli(Φ(x)) (±2 s.e.)")
    a.set_xlabel("x")
    a.set_title("GELU is the expected Bernoulli gate")
    a.legend(fontsize=7)
    b.plot(x, [float(v["exact_grad"]) for v in r], color="k", lw=1, label="d/dx E[y] = Φ(x) + x·φ(x)")
    b.plot(x, [float(v["surrogate_grad"]) for v in r], color="C0", lw=1.5, ls="--",
           label="stochastic_gelu backward: Φ(x)")
    b.set_xlabel("x")
    b.set_title("the backward surrogate misses x·φ(x)")
    b.legend(fontsize=7)
    save(fig, figures, "gelu_formation.png")


def toy_regression(data, figures):
    curves = defaultdict(lambda: defaultdict(list))  # (data, act) -> epoch -> losses
    for v in rows(os.path.join(data, "toy_regression.csv")):
        curves[(v["data"], v["activation"])][int(v["epoch"])].append(float(v["loss"]))
    datasets = sorted({k[0] for k in curves})
    acts = list(dict.fromkeys(k[1] for k in curves))
    fig, axes = plt.subplots(1, len(datasets), figsize=(9, 3.4))
    for ax, ds in zip(axes, datasets):
        for i, act in enumerate(acts):
            by_epoch = curves[(ds, act)]
            ep = sorted(by_epoch)
            med = [sorted(by_epoch[e])[len(by_epoch[e]) // 2] for e in ep]
            ax.fill_between(ep, [min(by_epoch[e]) for e in ep], [max(by_epoch[e]) for e in ep], color=f"C{i}",
                            alpha=0.2, lw=0)
            ax.plot(ep, med, color=f"C{i}", lw=1.2, label=f"{act} (median, range of {len(by_epoch[ep[0]])} seeds)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch (full-batch Adam step)")
        ax.set_ylabel("MSE")
        ax.set_title(f"{ds} inputs and targets, 10 samples")
        ax.legend(fontsize=7)
    save(fig, figures, "toy_regression.png")


def self_normalization(data, figures):
    by = defaultdict(lambda: defaultdict(list))
    for v in rows(os.path.join(data, "depth.csv")):
        for k in ("layer", "mean", "var", "grad_norm"):
            by[v["activation"]][k].append(float(v[k]))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for i, (act, s) in enumerate(by.items()):
        style = dict(color=f"C{i}", lw=2 if act == "selu" else 1, ls="--" if act == "gelu_tanh" else "-", label=act)
        axes[0].plot(s["layer"], s["mean"], **style)
        axes[1].plot(s["layer"], s["var"], **style)
        axes[2].plot(s["layer"], s["grad_norm"], **style)
    axes[0].set_title("activation mean")
    axes[1].set_title("activation variance")
    axes[1].set_yscale("log")
    axes[2].set_title("‖∂L/∂W‖ per layer")
    axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("layer")
    axes[1].legend(fontsize=7)
    save(fig, figures, "self_normalization.png")


def activation_curves(data, figures):
    by = defaultdict(lambda: defaultdict(list))
    for v in rows(os.path.join(data, "curves.csv")):
        for k in ("x", "f", "df"):
            by[v["activation"]][k].append(float(v[k]))
    names = list(by)
    cols = 5
    nrows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 2.1 * nrows), sharex=True)
    for ax, name in zip(axes.flat, names):
        s = by[name]
        ax.axhline(0, color="0.8", lw=0.5)
        ax.axvline(0, color="0.8", lw=0.5)
        ax.plot(s["x"], s["f"], color="C0", lw=1.2, label="f")
        ax.plot(s["x"], s["df"], color="C3", lw=1, ls="--", label="f'")
        ax.set_ylim(-2, 3)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    save(fig, figures, "activation_curves.png")


def vecgelu_scale(data, figures):
    by = defaultdict(lambda: ([], []))
    for v in rows(os.path.join(data, "vecgelu_scale.csv")):
        by[int(v["d"])][0].append(float(v["r_over_sqrt_d"]))
        by[int(v["d"])][1].append(float(v["s"]))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for d, (x, s) in sorted(by.items()):
        ax.plot(x, s, lw=1.2, label=f"d = {d}")
    ax.set_xlabel("r/√d")
    ax.set_ylabel("s(r, d) = P(d/2, r²/2)")
    ax.set_title("VecGELU's gate sharpens to a step at r = √d")
    ax.legend(fontsize=7)
    save(fig, figures, "vecgelu_scale.png")


def quantization(data, figures):
    r = rows(os.path.join(data, "criteria.csv"))
    names = [v["activation"] for v in r]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [float(v["int8_err"]) for v in r], width=0.4, label="int8")
    ax.bar([x + 0.2 for x in xs], [float(v["int4_err"]) for v in r], width=0.4, label="int4")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("‖ŷ − y‖ / ‖y‖")
    ax.set_title("uniform quantization of outputs over the range seen on x ~ N(0, 3²)")
    ax.legend(fontsize=7)
    save(fig, figures, "quantization.png")


def main():
    data, figures = sys.argv[1], sys.argv[2]
    os.makedirs(figures, exist_ok=True)
    for plot in (gelu_formation, toy_regression, self_normalization, activation_curves, vecgelu_scale, quantization):
        plot(data, figures)


if __name__ == "__main__":
    main()
