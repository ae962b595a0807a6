#!/usr/bin/env python3
"""Tables of the activation lab, written into docs/activations.md between marker
comments (<!-- lab:NAME begin --> … <!-- lab:NAME end -->), from the CSV files that
scripts/lab's programs write and the output of bench/bench_activations.
Usage: plot-lab-tables.py DATA_DIR BENCH_OUTPUT DOC.md
Every block named below must exist in DOC.md; each is replaced whole, so the tables
are regenerated, never edited by hand. Standard library only.
"""
import csv
import math
import os
import re
import statistics
import sys
from collections import defaultdict


def rows(data, name):
    with open(os.path.join(data, name), newline="") as fh:
        return list(csv.DictReader(fh))


def bench_rows(path):
    """activation key -> (fwd, bwd) ns/element; the key is the row's first word without
    underscores, matched to registry names the same way (first row wins)."""
    out, header = {}, ""
    with open(path) as fh:
        for line in fh:
            if line.startswith("threads"):
                header = line.strip()
            m = re.match(r"^(\S+)(?: \S+)*?\s{2,}(-?[\d.]+)\s+(-?[\d.]+)\s+\d+", line)
            if m:
                out.setdefault(m.group(1).replace("_", ""), (float(m.group(2)), float(m.group(3))))
    return out, header


def perlin_summary(data):
    by = defaultdict(list)
    for v in rows(data, "perlin.csv"):
        by[v["activation"]].append(v)
    return by


def pct(v):
    return f"{100 * v:.1f}%"


def criteria_table(data, bench, bench_header, bench_load, perlin):
    lines = [
        "| activation | saved for backward | fwd ns/el | bwd ns/el | f = 0 exactly on | dead units (Perlin) "
        "| largest jump of f′ (at x) | monotonic | range on [−8, 8] | flat at | int8 error | int4 error |",
        "|---|---|---:|---:|---|---:|---|---|---|---|---:|---:|",
    ]
    for v in rows(data, "criteria.csv"):
        name = v["activation"]
        saved = f"{int(v['saved_bytes']) / int(v['input_bytes']):.3g}× input ({v['saved_kind']})"
        fb = bench.get(name.replace("_", ""))
        fwd, bwd = (f"{fb[0]:.2f}", f"{fb[1]:.2f}") if fb else ("—", "—")
        total, run, at0 = int(v["zero_points"]), int(v["zero_run"]), v["zero_at_0"] == "true"
        if total == 0:
            gate = "never"
        elif run == 1:
            gate = "x = 0 only" if total == 1 and at0 else f"{total} isolated points"
        else:
            gate = f"[{float(v['zero_lo']):g}, {float(v['zero_hi']):g}]"
            if total > run:
                gate += " and x = 0" if total == run + 1 and at0 else f" and {total - run} more points"
        if name in perlin:
            runs = perlin[name]
            dead = f"{sum(int(r['dead_units']) for r in runs)}/{sum(int(r['hidden_units']) for r in runs)}"
        else:
            dead = "—"
        jump = f"{float(v['max_jump']):.3g} ({float(v['max_jump_at']):+.3f})"
        mono = "yes" if v["monotonic"] == "true" else "no"
        rng = f"[{float(v['f_min']):.4g}, {float(v['f_max']):.4g}]"
        flat = {(True, True): "both ends", (True, False): "left", (False, True): "right", (False, False): "neither"}[
            (v["bounded_below"] == "true", v["bounded_above"] == "true")]
        lines.append(f"| `{name}` | {saved} | {fwd} | {bwd} | {gate} | {dead} | {jump} | {mono} | {rng} | {flat} "
                     f"| {float(v['int8_err']):.2e} | {float(v['int4_err']):.2e} |")
    lines.append("")
    lines.append(f"Times: `bench/bench_activations` ({bench_header}; load average {bench_load} while it ran, "
                 "on a 2-core machine shared with other builds, so compare rows with care; vector activations: its "
                 "first row of that activation, 4×4 blocks; — where it has no row of that name). "
                 "Everything else: `lab criteria`.")
    return lines


def perlin_table(perlin):
    lines = ["| activation | accuracy, median (min–max) | hidden int8 | hidden int4 | dead units | final BCE |",
             "|---|---|---:|---:|---:|---:|"]
    for name, runs in perlin.items():
        acc = [float(r["accuracy"]) for r in runs]
        med = lambda k: statistics.median(float(r[k]) for r in runs)  # noqa: E731
        dead = f"{sum(int(r['dead_units']) for r in runs)}/{sum(int(r['hidden_units']) for r in runs)}"
        lines.append(f"| `{name}` | {pct(statistics.median(acc))} ({pct(min(acc))}–{pct(max(acc))}) "
                     f"| {pct(med('accuracy_int8'))} | {pct(med('accuracy_int4'))} | {dead} | {med('loss'):.4f} |")
    lines.append("")
    lines.append(f"{len(next(iter(perlin.values())))} seed(s) per activation; int8/int4: the same nets with every "
                 "hidden layer's output quantized (one scale per tensor) before the next layer; accuracy on the "
                 "evaluation grid over [−1, 1]².")
    return lines


def toy_table(data):
    by = defaultdict(lambda: defaultdict(list))  # (data, act) -> seed -> losses by epoch
    for v in rows(data, "toy_regression.csv"):
        by[(v["data"], v["activation"])][v["seed"]].append(float(v["loss"]))
    lines = ["| inputs | activation | final loss, median (min–max) | epochs to loss < 10⁻³, median |",
             "|---|---|---|---:|"]
    for (ds, act), seeds in by.items():
        final = [losses[-1] for losses in seeds.values()]
        reach = []
        for losses in seeds.values():
            hit = next((i + 1 for i, l in enumerate(losses) if l < 1e-3), None)
            reach.append(hit if hit is not None else math.inf)
        r = statistics.median(reach)
        lines.append(f"| {ds} | `{act}` | {statistics.median(final):.2e} ({min(final):.2e}–{max(final):.2e}) "
                     f"| {'not reached' if r == math.inf else f'{r:g}'} |")
    epochs = len(next(iter(next(iter(by.values())).values())))
    lines.append("")
    lines.append(f"{len(next(iter(by.values())))} seeds, {epochs} epochs each.")
    return lines


def selfnorm_table(data):
    by = defaultdict(list)
    for v in rows(data, "depth.csv"):
        by[v["activation"]].append(v)
    layers = len(next(iter(by.values())))
    mid = layers // 4
    lines = [f"| activation | variance at layer 1 / {mid} / {layers} | mean at layer {layers} "
             f"| ‖∂L/∂W₁‖ / ‖∂L/∂W_{layers}‖ |", "|---|---|---:|---:|"]
    for name, r in by.items():
        var = [float(x["var"]) for x in r]
        g = [float(x["grad_norm"]) for x in r]
        ratio = g[0] / g[-1] if g[-1] > 0 else math.inf
        lines.append(f"| `{name}` | {var[0]:.3g} / {var[mid - 1]:.3g} / {var[-1]:.3g} | {float(r[-1]['mean']):+.3f} "
                     f"| {ratio:.3g} |")
    return lines


def gelu_lines(data):
    r = rows(data, "gelu_mc.csv")
    worst = max(abs(float(v["mc_mean"]) - float(v["gelu"])) / float(v["mc_stderr"])
                for v in r if float(v["mc_stderr"]) > 0)
    bias = max(abs(float(v["exact_grad"]) - float(v["surrogate_grad"])) for v in r)
    return [f"Over {len(r)} points of [−4, 4], the Monte-Carlo mean is within {worst:.2f} standard errors of "
            f"x·Φ(x) everywhere; the surrogate gradient Φ(x) differs from d/dx x·Φ(x) by up to {bias:.3f} "
            "(|x·φ(x)|, largest at x = ±1)."]


def replace_block(doc, name, lines):
    begin, end = f"<!-- lab:{name} begin -->", f"<!-- lab:{name} end -->"
    i, j = doc.find(begin), doc.find(end)
    if i < 0 or j < i:
        sys.exit(f"plot-lab-tables: no '{begin}' … '{end}' block in the document")
    return doc[: i + len(begin)] + "\n" + "\n".join(lines) + "\n" + doc[j:]


def main():
    data, bench_path, doc_path = sys.argv[1:4]
    bench, header = bench_rows(bench_path)
    with open(os.path.join(data, "bench_load.txt")) as fh:
        load = fh.read().strip()
    perlin = perlin_summary(data)
    with open(doc_path) as fh:
        doc = fh.read()
    doc = replace_block(doc, "gelu", gelu_lines(data))
    doc = replace_block(doc, "toy", toy_table(data))
    doc = replace_block(doc, "perlin", perlin_table(perlin))
    doc = replace_block(doc, "selfnorm", selfnorm_table(data))
    doc = replace_block(doc, "criteria", criteria_table(data, bench, header, load, perlin))
    with open(doc_path, "w") as fh:
        fh.write(doc)


if __name__ == "__main__":
    main()
