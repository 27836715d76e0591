#!/usr/bin/env python3
"""tables.py -- the Markdown tables of docs/benchmarks.md from bench/results.

    python3 bench/tables.py [bench/results]

Prints the kernels, solvers, SPSA, peers and scaling tables; paste them into
docs/benchmarks.md after `bash bench/run.sh full`.  A documentation helper
only (the build and the tests never run it).

    python3 bench/tables.py --targets RUN1.csv [RUN2.csv ...]

prints the issue-7 status table of docs/benchmarks.md from `bench_kernels
--targets` runs instead, each cell "run1 / run2 / ...".
"""
import csv
import math
import statistics
import sys

D = sys.argv[1] if len(sys.argv) > 1 else "bench/results"


def rows(name):
    with open(f"{D}/{name}") as f:
        head = f.readline().strip().lstrip("# ")
        return head, list(csv.DictReader(f))


SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(n):
    """10⁶, 2·10⁴, or the plain number"""
    n = int(n)
    e = int(math.floor(math.log10(n)))
    m = n / 10 ** e
    if m != int(m) or e < 3:
        return str(n)
    return ("" if m == 1 else f"{int(m)}·") + "10" + str(e).translate(SUP)


def kernels():
    head, r = rows("kernels.csv")
    print(f"<!-- kernels: {head} -->")
    print("| n | d | A | loss | loss+grad (one pass) | two-call | Hv | Hessian / dsyrk | assembly / dsyrk |")
    print("|---|---|---|---|---|---|---|---|---|")
    by = {}
    for x in r:
        if x["layout"] == "row":
            by[(int(x["n"]), int(x["d"]), x["kernel"])] = float(x["ratio"])
    for n, d in sorted({(k[0], k[1]) for k in by}):
        if n * d < 10 ** 6:
            continue
        g = lambda k: f"{by[(n, d, k)]:.2f}" if (n, d, k) in by else "—"
        mb = n * d * 8 / 1e6
        a = f"{mb:.0f} MB" if mb < 1000 else f"{mb / 1000:.1f} GB"
        print(f"| {sci(n)} | {d} | {a} | {g('loss')} | {g('one_pass')} | {g('two_call')} "
              f"| {g('hessvec')} | {g('hessian')} | {g('hessian_asm')} |")


def solvers():
    head, r = rows("solvers.csv")
    print(f"\n<!-- solvers: {head} -->")
    meths = [m for m in ["auto", "newton", "lbfgs", "gd", "sketch", "spsa"]
             if any(x["method"] == m for x in r)]
    print("| problem | A | " + " | ".join(meths) + " |")
    print("|---|---|" + "---|" * len(meths))
    probs = []
    for x in r:
        k = (x["kind"], int(x["n"]), int(x["d"]))
        if k not in probs:
            probs.append(k)
    for k in probs:
        cells = []
        a = ""
        for m in meths:
            xs = [x for x in r if (x["kind"], int(x["n"]), int(x["d"])) == k and x["method"] == m]
            if not xs:
                cells.append("—")
                continue
            x = xs[0]
            a = f"{float(x['a_mb']):.0f} MB"
            st = "" if x["converged"] == "1" else f" ({x['status']})"
            cells.append(f"{float(x['seconds']):.3g} s, {x['iterations']} it, "
                         f"{float(x['extra_peak_mb']):.1f} MB{st}")
        print(f"| {k[0]} n={sci(k[1])} d={k[2]} | {a} | " + " | ".join(cells) + " |")


def spsa():
    head, r = rows("spsa.csv")
    print(f"\n<!-- spsa: {head} -->")
    ks = sorted({int(x["k"]) for x in r})
    print("| n | d | " + " | ".join(f"k = {k}" for k in ks) + " |")
    print("|---|---|" + "---|" * len(ks))
    for n, d in sorted({(int(x["n"]), int(x["d"])) for x in r}, key=lambda t: (t[1], t[0])):
        c = []
        for k in ks:
            xs = [x for x in r if int(x["n"]) == n and int(x["d"]) == d and int(x["k"]) == k]
            c.append(f"{float(xs[0]['solver_speedup']):.2f}×" if xs else "—")
        print(f"| {sci(n)} | {d} | " + " | ".join(c) + " |")


def peers():
    head, r = rows("peers.csv")
    print(f"\n<!-- peers: {head} -->")
    print("| problem | auto (s) | auto it | auto ev | liblbfgs ev | vs GSL LM | vs GSL BFGS2 | vs liblbfgs | newton / liblbfgs | our lbfgs / liblbfgs | floor / (best / 3) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    probs = []
    for x in r:
        k = (x["kind"], int(x["n"]), int(x["d"]))
        if k not in probs:
            probs.append(k)
    med = []
    for k in probs:
        xs = {x["solver"]: x for x in r if (x["kind"], int(x["n"]), int(x["d"])) == k}
        ours = xs.get("ours")
        if not ours:
            continue
        t = float(ours["seconds"])

        def vs(s):
            x = xs.get(s)
            if not x or x["reached"] != "1":
                return "not reached", None
            return f"{t / float(x['seconds']):.2g}", float(x["seconds"])

        cells, best = [], None
        for s in ["gsl_lm", "gsl_bfgs", "lbfgs"]:
            c, ts = vs(s)
            cells.append(c)
            if ts is not None:
                best = ts if best is None else min(best, ts)
        lb = xs.get("lbfgs")
        extra = []
        for s in ["newton", "our_lbfgs"]:
            x = xs.get(s)
            if x and lb and x["reached"] == "1" and lb["reached"] == "1":
                extra.append(f"{float(x['seconds']) / float(lb['seconds']):.2f}")
            else:
                extra.append("—")
        if best:
            med.append(t / best)
        # the bound on a 3x win (bench_peers' header): >= 1 rules it out
        fl, b3 = float(ours.get("floor", "nan")), float(ours.get("best_peer_over_3", "nan"))
        bound = f"{fl / b3:.2f}" if b3 > 0 and math.isfinite(fl / b3) else "—"
        lev = lb["evaluations"] if lb and lb["reached"] == "1" else "—"
        print(f"| {k[0]} n={sci(k[1])} d={k[2]} | {t:.4f} | {ours['iterations']} | "
              f"{ours.get('evaluations', '—')} | {lev} | "
              + " | ".join(cells + extra) + f" | {bound} |")
    if med:
        print(f"\nmedian of auto / fastest peer over the {len(med)} problems: "
              f"{statistics.median(med):.2f} (min {min(med):.2f}, max {max(med):.2f})")


def scaling():
    head, r = rows("scaling.csv")
    print(f"\n<!-- scaling: {head} -->")
    print("| sweep | method | fitted log-log slope | points |")
    print("|---|---|---|---|")
    for sw, m, xcol in [("n", "gd", "n"), ("n", "spsa", "n"), ("n", "newton", "n"),
                        ("newton_d", "newton", "work")]:
        xs = [x for x in r if x["sweep"] == sw and x["method"] == m and x["ok"] == "1"]
        if len(xs) < 2:
            continue
        X = [math.log(float(x[xcol])) for x in xs]
        Y = [math.log(float(x["per_iter_s"])) for x in xs]
        mx, my = statistics.mean(X), statistics.mean(Y)
        s = sum((a - mx) * (b - my) for a, b in zip(X, Y)) / sum((a - mx) ** 2 for a in X)
        what = "n (d = 16)" if sw == "n" else "n d² + d³ (n = 262144)"
        print(f"| {what} | {m} | {s:.2f} | {len(xs)} |")


def targets(files):
    """one row per layout and d: each --targets run's figures, run by run"""
    runs, heads = [], []
    for fn in files:
        with open(fn) as f:
            head = f.readline().strip().lstrip("# ")
            heads.append(head)
            runs.append(list(csv.DictReader(f)))
        print(f"<!-- {fn}: {head} -->")

    def get(r, k, lay, d, col="ratio"):
        for x in r:
            if x["kernel"] == k and x["layout"] == lay and x["d"] == d:
                return float(x[col])
        return None

    def cell(k, lay, d, fmt, col="ratio", f=lambda v: v):
        vs = [get(r, k, lay, d, col) for r in runs]
        return " / ".join("—" if v is None else fmt.format(f(v)) for v in vs)

    print("| layout | d | read (GB/s) | lean pass / read | keeps f / read "
          "| n-vector floor / read | compute alone / read | 2-thread speedup "
          "| speedup bandwidth allows | vs two_call | Hessian / dsyrk |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    keys = []
    for x in runs[0]:
        if x["kernel"] == "one_pass_paired" and (x["layout"], x["d"]) not in keys:
            keys.append((x["layout"], x["d"]))
    for lay, d in keys:
        print(f"| {lay} | {d} | {cell('stream_sum', lay, d, '{:.0f}', 'rate')} "
              f"| {cell('one_pass_paired', lay, d, '{:.2f}')} "
              f"| {cell('one_pass_keep_paired', lay, d, '{:.2f}')} "
              f"| {cell('nvec_floor_paired', lay, d, '{:.2f}')} "
              f"| {cell('one_pass_compute', lay, d, '{:.2f}')} "
              f"| {cell('speedup_2t_runs', lay, d, '{:.2f}×')} "
              f"| {cell('speedup_bound_2t', lay, d, '{:.2f}×')} "
              f"| {cell('vs_two_call_runs', lay, d, '{:.2f}×')} "
              f"| {cell('hessian', lay, d, '{:.2f}')} |")

    # column-major: A read plainly in the pass's order (col_read_rR rows,
    # bench_colread.c), where the runs have them
    if any(x["kernel"].startswith("col_read_r") for r in runs for x in r):
        print()
        print("| col d | read in the pass's order, kernel's R / read "
              "| best R: read in that order / read | lean pass / best "
              "| vs two_call | two_call / best (≈ most a chunked pass gains) |")
        print("|---|---|---|---|---|---|")

        def best(r, d):
            xs = [x for x in r if x["kernel"].startswith("col_read_r")
                  and x["layout"] == "col" and x["d"] == d]
            return min(xs, key=lambda x: float(x["ratio"])) if xs else None

        def per_run(f):
            return " / ".join(f(r) for r in runs)

        for lay, d in keys:
            if lay != "col":
                continue
            # the kernel's R (fused_cols.c): 128 from d = 48 to 255 since
            # 28908ac, 64 in the runs at 929fd0f (targets-run23, run24)
            def kr(i):
                if int(d) < 48:
                    return "col_read_r32"
                old = "commit=929fd0f" in heads[i]
                return "col_read_r128" if int(d) < 256 and not old else "col_read_r64"

            def kcell(i, r):
                v = get(r, kr(i), "col", d)
                return "—" if v is None else f"{v:.2f} (R = {kr(i)[10:]})"

            def bcell(r):
                b = best(r, d)
                return "—" if b is None else \
                    f"{float(b['ratio']):.2f} (R = {b['kernel'][10:]})"

            def over(r):
                b, p = best(r, d), get(r, "one_pass_paired", "col", d)
                return "—" if b is None or p is None else \
                    f"{p / float(b['ratio']):.2f}"

            def gain(r):
                b = best(r, d)
                v = get(r, "vs_two_call_runs", "col", d)
                p = get(r, "one_pass_paired", "col", d)
                if b is None or v is None or p is None:
                    return "—"
                return f"{v * p / float(b['ratio']):.2f}×"
            kc = " / ".join(kcell(i, r) for i, r in enumerate(runs))
            print(f"| {d} | {kc} | {per_run(bcell)} "
                  f"| {per_run(over)} | {cell('vs_two_call_runs', 'col', d, '{:.2f}×')} "
                  f"| {per_run(gain)} |")

    # the overlap probes (rows with layout "-"), where the runs have them
    probe = [("overlap_fma_compute", "F = {} multiply-adds: compute alone"),
             ("overlap_fma_both", "F = {} multiply-adds: with the read"),
             ("reread_in_sequence", "{} KiB blocks, update after the dot"),
             ("reread_interleaved", "{} KiB blocks, update interleaved")]
    if any(x["kernel"] == "reread_interleaved" for r in runs for x in r):
        print()
        print("| overlap probe | × the read |")
        print("|---|---|")
        for k, what in probe:
            ds = []
            for r in runs:
                for x in r:
                    if x["kernel"] == k and x["d"] not in ds:
                        ds.append(x["d"])
            for d in ds:
                print(f"| {what.format(d)} | {cell(k, '-', d, '{:.2f}')} |")


if len(sys.argv) > 2 and sys.argv[1] == "--targets":
    targets(sys.argv[2:])
    sys.exit(0)

for fn in (kernels, solvers, spsa, peers, scaling):
    try:
        fn()
    except FileNotFoundError as e:
        print(f"\n(no {e.filename})")
