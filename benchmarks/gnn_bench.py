"""Benchmark: SHGNN (``shgnn-v1``) inference time per decision vs Algorithm 1 (``ao-v1``).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/gnn_bench.py [--repeats 200] [--json out.json]

Per (M, K) one snapshot drop (PHYS profile) is decided repeatedly with ``torch`` on one thread,
``torch.no_grad`` / inference mode, batch 1 (spec 6.3): 20 warm-up runs, then the median of
``--repeats`` runs (fewer at K = 1000). Reported per SHGNN weights:

* ``decide``: the whole policy call (graph features [+ closed-form statistics for the
  ``enhanced`` variant] + forward + decision), what the emulator measures;
* ``forward``: the network alone.

For ``ao-v1`` (when ``policies.ao`` is present): the whole ``decide`` (statistics build +
iterations) and the iterations alone. All ratios come from this one run: GNN time at K = 50 over
K = 20, and GNN / AO at K = 20, 50, 200.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics as pystats
import time

import numpy as np


def _median_time(fn, obs, repeats: int, warmup: int) -> float:
    """Median wall time of ``fn(fresh copy of obs)``.

    Each call gets its own copy (``dataclasses.replace``: no cached properties), because
    ``statistics(obs)`` and the satellite means / covariances are memoised on an observation:
    re-deciding one object would time cache hits, not what a decision costs in the loop,
    where every epoch brings a new observation. The copies are made outside the timer.
    """
    for o in [dataclasses.replace(obs) for _ in range(warmup)]:
        fn(o)
    times = []
    for o in [dataclasses.replace(obs) for _ in range(repeats)]:
        t0 = time.perf_counter()
        fn(o)
        times.append(time.perf_counter() - t0)
    return float(pystats.median(times))


def _median_diag(policy, obs, key: str, repeats: int) -> float:
    """Median of a decision diagnostic over fresh copies of ``obs`` (see :func:`_median_time`)."""
    copies = [dataclasses.replace(obs) for _ in range(repeats)]
    return float(np.median([policy.decide(o).diagnostics[key] for o in copies]))


def run(repeats: int = 200, weights=("stable", "stable-neighbour"), threads: int = 1) -> dict:
    """Measure everything; returns a JSON-ready dict."""
    import torch

    from emulator.systems import cellfree_uplink as cf
    from policies.shgnn.policy import SHGNNPolicy, weights_path

    torch.set_num_threads(threads)
    sizes = [(40, 20), (40, 50), (40, 200), (100, 1000)]
    names = []
    for w in weights:
        try:
            weights_path(w)
            names.append(w)
        except ValueError:
            print(f"(weights {w!r} not shipped: skipped)")
    try:
        from policies.ao import AOPolicy

        ao = AOPolicy()
    except ImportError:
        ao = None
    rows = []
    for m, k in sizes:
        obs = cf.snapshot_observation(cf.params_from_dict({"num_aps": m}, "PHYS"), k, 7, 0)
        reps = repeats if k <= 200 else max(5, repeats // 20)
        warm = 20 if k <= 200 else 3
        row = {"M": m, "K": k, "repeats": reps}
        for w in names:
            pol = SHGNNPolicy(weights=w, num_threads=threads)
            row[f"gnn[{w}]_decide_ms"] = 1e3 * _median_time(pol.decide, obs, reps, warm)
            row[f"gnn[{w}]_forward_ms"] = 1e3 * _median_diag(pol, obs, "forward_time_s", reps)
        if ao is not None:
            row["ao_decide_ms"] = 1e3 * _median_time(ao.decide, obs, reps, warm)
            row["ao_iterations_ms"] = 1e3 * _median_diag(ao, obs, "iter_time_s", reps)
            row["ao_stats_ms"] = 1e3 * _median_diag(ao, obs, "stats_time_s", reps)
            row["ao_iterations"] = ao.decide(obs).diagnostics["iterations"]
        rows.append(row)
        print(json.dumps(row))
    by_k = {r["K"]: r for r in rows}
    ratios = {}
    for w in names:
        key = f"gnn[{w}]_decide_ms"
        ratios[f"gnn[{w}]_K50_over_K20"] = by_k[50][key] / by_k[20][key]
        if ao is not None:
            for k in (20, 50, 200):
                ratios[f"gnn[{w}]_over_ao_K{k}"] = by_k[k][key] / by_k[k]["ao_decide_ms"]
    if ao is not None:
        ratios["ao_K50_over_K20"] = by_k[50]["ao_decide_ms"] / by_k[20]["ao_decide_ms"]
    return {"threads": threads, "rows": rows, "ratios": ratios, "torch": torch.__version__}


def main(argv=None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--weights", nargs="+", default=["stable", "stable-neighbour"])
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if args.repeats < 5 or args.threads < 1:
        print(
            f"error: expected --repeats >= 5 and --threads >= 1, got {args.repeats}, {args.threads}"
        )
        return 2
    res = run(args.repeats, tuple(args.weights), args.threads)
    for name, value in res["ratios"].items():
        print(f"{name}: {value:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
