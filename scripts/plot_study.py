"""The VecGELU study's figures from vecgelu_study's train.jsonl logs (see scripts/plot-study).

Monitor lines carry "step", "train_loss" and per-layer arrays in depth order; evaluation
lines carry "step", "val_loss", "val_acc" and "val_acc5". Writes into the output folder:
  study-grad.png       mean |dL/dW| per conv/linear layer, one line per logged step
                       (colour = step), log y, one panel per run
  study-vec-norm.png   mean vector norm r per activation layer (vector activations only)
  study-vec-scale.png  mean gate s per activation layer (vector activations only)
  study-act-var.png    activation output variance per layer, log y
  study-dead.png       dead-channel and exactly-zero-output fractions per layer at the
                       first and last logged steps, runs overlaid
  study-loss.png       train and validation loss, validation top-1/top-5 against step
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import cm, colors  # noqa: E402

DPI = 72


def load(run_dir):
    path = os.path.join(run_dir, "train.jsonl")
    if not os.path.exists(path):
        sys.exit(f"plot-study: {path} not found (is {run_dir} a vecgelu_study run folder?)")
    monitor, evals = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot-study: {path}:{n}: {e}")
            (evals if "val_loss" in entry else monitor).append(entry)
    return {"name": os.path.basename(os.path.normpath(run_dir)), "monitor": monitor, "evals": evals}


def per_layer(runs, key, title, ylabel, out, log_y):
    shown = [r for r in runs if any(key in m for m in r["monitor"])]
    if not shown:
        return None
    fig, axes = plt.subplots(1, len(shown), figsize=(5.2 * len(shown), 3.8), squeeze=False, sharey=log_y)
    for ax, run in zip(axes[0], shown):
        lines = [m for m in run["monitor"] if key in m]
        steps = [m["step"] for m in lines]
        norm = colors.Normalize(vmin=min(steps), vmax=max(max(steps), 1))
        cmap = plt.get_cmap("viridis")
        for m in lines:
            ys = [v if v is not None else float("nan") for v in m[key]]
            if log_y:
                ys = [v if v > 0 else float("nan") for v in ys]
            ax.plot(range(len(ys)), ys, color=cmap(norm(m["step"])), lw=1, marker=".", ms=3)
        ax.set_title(f"{run['name']}")
        ax.set_xlabel("layer (depth order)")
        ax.set_ylabel(ylabel)
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="training step")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def dead(runs, out):
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 3.8))
    for key, ax, label in (("act_dead_frac", axes[0], "dead channels (never non-zero in the batch)"),
                           ("act_zero_frac", axes[1], "outputs exactly 0")):
        for i, run in enumerate(runs):
            lines = [m for m in run["monitor"] if key in m]
            if not lines:
                continue
            c = f"C{i}"
            for m, style in ((lines[0], ":"), (lines[-1], "-")):
                ys = [v if v is not None else float("nan") for v in m[key]]
                ax.plot(range(len(ys)), ys, style, color=c, marker=".", ms=3,
                        label=f"{run['name']}, step {m['step']}")
        ax.set_title(label)
        ax.set_xlabel("activation layer (depth order)")
        ax.set_ylabel("fraction")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Dead units by layer (first and last logged step)")
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def losses(runs, out):
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 3.8))
    for i, run in enumerate(runs):
        c = f"C{i}"
        m = [x for x in run["monitor"] if x.get("train_loss") is not None]
        axes[0].plot([x["step"] for x in m], [x["train_loss"] for x in m], color=c, alpha=0.6, lw=1,
                     label=f"{run['name']} train")
        e = run["evals"]
        axes[0].plot([x["step"] for x in e], [x["val_loss"] for x in e], "o-", color=c, ms=4,
                     label=f"{run['name']} validation")
        axes[1].plot([x["step"] for x in e], [x["val_acc"] for x in e], "o-", color=c, ms=4,
                     label=f"{run['name']} top-1")
        axes[1].plot([x["step"] for x in e], [x["val_acc5"] for x in e], "s--", color=c, ms=3, alpha=0.7,
                     label=f"{run['name']} top-5")
    axes[0].set_title("Cross-entropy loss")
    axes[0].set_ylabel("loss")
    axes[1].set_title("Validation accuracy")
    axes[1].set_ylabel("accuracy (fraction)")
    axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run folders holding train.jsonl (e.g. runs/study/gelu)")
    p.add_argument("--out", help="folder for the PNGs (default: <parent of the first run>/figures)")
    args = p.parse_args()
    runs = [load(r) for r in args.runs]
    out = args.out or os.path.join(os.path.dirname(os.path.normpath(args.runs[0])), "figures")
    os.makedirs(out, exist_ok=True)
    written = [
        per_layer(runs, "grad_abs_mean", "Mean |dL/dW| per layer", "mean |grad|", f"{out}/study-grad.png", True),
        per_layer(runs, "vec_norm_mean", "Mean vector norm r = ||v|| entering each activation", "mean r",
                  f"{out}/study-vec-norm.png", False),
        per_layer(runs, "vec_scale_mean", "Mean gate s = ||y||/||v|| per activation layer", "mean s",
                  f"{out}/study-vec-scale.png", False),
        per_layer(runs, "act_var", "Activation output variance per layer", "variance", f"{out}/study-act-var.png",
                  True),
        dead(runs, f"{out}/study-dead.png"),
        losses(runs, f"{out}/study-loss.png"),
    ]
    for w in written:
        if w:
            print(f"plot-study: wrote {w}")


if __name__ == "__main__":
    main()
