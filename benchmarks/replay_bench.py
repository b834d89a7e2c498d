"""Benchmark: replaying a 1-hour trace vs the original run, with the constant-decision baseline.

Target (issue 8): replay >= 5x faster than the original run, because replay generates no
geometry and no channels. Both are timed in this one process (imports paid by a warm-up):

1. ``run_scenario`` of ``scenarios/default.toml`` for 3600 s of simulated time with
   ``--source-policy`` (default ``full-power-v1``, the constant-decision baseline);
2. ``replay_trace`` of that trace with ``--policy`` (default ``full-power-v1``),

``--repeats`` times (default 3, alternating run and replay), and reports the median of the
per-pair ratios: on a shared 2-core machine one pair varies by +-20 %.

It also checks that the replay with the recorded policy reproduces the deterministic tables,
and prints where the time goes (sums of the ``wall`` table: observation building, scoring,
deciding) for both. One JSON object on stdout::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/replay_bench.py [--duration-s 3600]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import pandas as pd  # noqa: E402

import traces  # noqa: E402
from emulator.config import load_scenario  # noqa: E402
from emulator.engine import run_scenario  # noqa: E402
from emulator.replay import replay_trace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _breakdown(path: Path) -> dict[str, float]:
    wall = traces.load(path).wall
    return {c: float(wall[c].sum()) for c in wall.columns if c.startswith("wall_")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "default.toml"))
    ap.add_argument("--duration-s", type=float, default=3600.0)
    ap.add_argument("--source-policy", default="full-power-v1")
    ap.add_argument("--policy", default="full-power-v1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="run + replay pairs (median ratio)")
    args = ap.parse_args()

    base = load_scenario(args.scenario)
    tmp = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    out: dict[str, object] = {
        "duration_s": args.duration_s,
        "source_policy": args.source_policy,
        "replay_policy": args.policy,
        "loadavg_before": os.getloadavg(),
    }
    try:
        warm = base.with_overrides(policy_id=args.source_policy, seed=args.seed, duration_s=20.0)
        replay_trace(run_scenario(warm, out_dir=tmp / "warm"), args.policy, tmp / "warm-rep")

        sc = base.with_overrides(
            policy_id=args.source_policy, seed=args.seed, duration_s=args.duration_s
        )
        runs, replays = [], []
        for i in range(args.repeats):  # run, then replay it, alternating (same conditions)
            t0 = time.perf_counter()
            src = run_scenario(sc, out_dir=tmp / f"run-{i}")
            runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rep = replay_trace(src, args.policy, out_dir=tmp / f"replay-{i}")
            replays.append(time.perf_counter() - t0)
        ratios = [a / b for a, b in zip(runs, replays)]

        out["epochs"] = sc.num_epochs
        out["run_s"] = runs
        out["replay_s"] = replays
        out["speedup_per_repeat"] = ratios
        out["speedup"] = statistics.median(ratios)
        out["run_wall_breakdown_s"] = _breakdown(src)
        out["replay_wall_breakdown_s"] = _breakdown(rep)
        if args.policy == args.source_policy:
            a, b = traces.load(src), traces.load(rep)
            same = True
            for name in traces.DETERMINISTIC_TABLES:
                try:
                    pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
                except AssertionError:
                    same = False
            out["replay_reproduces_tables"] = same
        out["loadavg_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
