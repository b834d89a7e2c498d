"""Engine benchmark: overhead with a constant-decision policy, and the `make run` wall time.

Measured in one run (ratios, not absolute times, are the targets):

1. **Engine overhead.** The default scenario with ``full-power-v1`` (a constant decision rule:
   every user at P_max, ~10 us per call). From the trace's ``wall`` table and the run's own
   clock we split the wall time of the timeline into: policy ``decide``, system ``score``,
   system ``observe`` (channel/large-scale generation from the world), the other system calls
   (``validate``, ``align``, warm start, ``pack``) and the rest, which is the engine itself
   (SimPy, geometry look-ups, bookkeeping, handing parts to the trace-writer thread; the
   Parquet encoding and fsync run in that thread, overlapped with the timeline). Target: the
   time outside ``decide`` and ``score`` <= 10 % of wall. Both the strict ratio (observe
   counted as overhead) and the engine-only ratio (observe counted as system work) are
   reported.
2. **`make run` wall time.** ``run_emulation.py run scenarios/default.toml`` (AO in the loop)
   in a subprocess, from an already set-up environment, including interpreter start-up, TLE
   loading, hygiene, pass plan (on-disk cache cold and warm). Target: <= 120 s on 2 cores.

Usage: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/engine_bench.py [--json OUT]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import traces  # noqa: E402
from emulator.config import load_scenario  # noqa: E402
from emulator.engine import Run  # noqa: E402


def overhead(tmp: Path) -> dict:
    sc = load_scenario(ROOT / "scenarios" / "default.toml").with_overrides(
        policy_id="full-power-v1"
    )
    t0 = time.perf_counter()
    run = Run(sc, out_dir=tmp / "overhead")
    t1 = time.perf_counter()
    run.execute()
    t2 = time.perf_counter()
    wall = traces.load(run.root).wall
    decide = float(wall["wall_decide_s"].sum() + wall["wall_fallback_decide_s"].sum())
    score = float(wall["wall_score_s"].sum())
    observe = float(wall["wall_observe_s"].sum())
    system = float(wall["wall_system_s"].sum())  # validate, align, warm start, pack
    timeline = t2 - t1
    engine = timeline - decide - score - observe - system
    fsync = run.writer.fsync_s
    return {
        "epochs": sc.num_epochs,
        "setup_s": t1 - t0,
        "timeline_s": timeline,
        "decide_s": decide,
        "score_s": score,
        "observe_s": observe,
        "system_other_s": system,
        "engine_s": engine,
        "outside_decide_score_ratio": (timeline - decide - score) / timeline,
        "engine_only_ratio": engine / timeline,
        "writer_thread_fsync_s": fsync,  # overlapped with the timeline (writer thread)
        "outside_decide_score_observe_ratio": (timeline - decide - score - observe) / timeline,
        "engine_only_ratio_incl_setup": (engine + (t1 - t0)) / (t2 - t0),
        "ms_per_epoch_engine": 1e3 * engine / sc.num_epochs,
    }


def make_run(tmp: Path, cache_dir: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", LEO_EMULATOR_CACHE=str(cache_dir))
    out = {}
    for label in ("cold_cache", "warm_cache"):
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "run_emulation.py",
                "run",
                "scenarios/default.toml",
                "--quiet",
                "--out",
                str(tmp / f"make-run-{label}"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out[f"make_run_{label}_s"] = time.perf_counter() - t0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        res = overhead(tmp)
        res.update(make_run(tmp, tmp / "orbits-cache"))
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v:.4g}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    print(
        f"target: outside decide+score <= 10 %: {res['outside_decide_score_ratio']:.1%} "
        f"(engine only {res['engine_only_ratio']:.1%}); make run <= 120 s: "
        f"{res['make_run_cold_cache_s']:.1f} s cold, {res['make_run_warm_cache_s']:.1f} s warm"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
