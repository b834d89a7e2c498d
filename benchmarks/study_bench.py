"""Benchmark: an 8-run study on 2 workers vs the same 8 runs one after another.

Target (issue 8): the local process-pool backend is >= 1.8x faster than serial on 2 cores;
Ray's ratio is reported too. All three are measured in one invocation, on the same runs
(2 policies x 4 seeds of ``scenarios/default.toml`` at its own 900 s, or ``--duration-s``).
Shortened runs measure the pool's fixed start-up more than the study: at 120 s a run takes
~0.3 s, about as long as forking and warming the workers.

Serial = the 8 runs in this process, one after another (imports already paid: the fairest
baseline). Local / Ray = ``emulator.studies.run_study`` with 2 workers, including pool or Ray
start-up. CPU seconds and the mean wall time of one run are printed too: on a machine whose
cores other jobs already saturate, parallel runs each take longer and the ratio falls, which
those figures show. Prints one JSON object; run with ``nice -n 10`` on a shared machine::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/study_bench.py [--duration-s 900] [--no-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from emulator import studies  # noqa: E402
from emulator.config import load_scenario  # noqa: E402
from emulator.engine import run_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "default.toml"))
    ap.add_argument(
        "--duration-s", type=float, default=None, help="run length (default: the scenario's)"
    )
    ap.add_argument("--policies", default="full-power-v1,random-power-v1")
    ap.add_argument("--seeds", default="0-3")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--repeats", type=int, default=2, help="serial + local pairs (median)")
    args = ap.parse_args()

    scenario = load_scenario(args.scenario)
    if args.duration_s is None:
        args.duration_s = float(scenario.duration_s)
    policies = studies.parse_policies(args.policies)
    seeds = studies.parse_seeds(args.seeds)
    tmp = Path(tempfile.mkdtemp(prefix="study-bench-"))
    out: dict[str, object] = {
        "runs": len(policies) * len(seeds),
        "duration_s": args.duration_s,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
    }
    try:
        # warm-up (imports, orbit caches) so that serial is not charged for them
        run_scenario(
            scenario.with_overrides(policy_id=policies[0], seed=seeds[0], duration_s=10.0),
            out_dir=tmp / "warm",
        )
        try:
            import ray  # noqa: F401

            have_ray = True
        except ImportError:  # the optional extra .[ray] is not installed
            have_ray = False
            out["ray"] = "not installed (pip install -e .[ray])"

        def serial_once(i: int) -> float:
            t0 = time.perf_counter()
            c0 = time.process_time()
            for p in policies:
                for s in seeds:
                    sc = scenario.with_overrides(policy_id=p, seed=s, duration_s=args.duration_s)
                    run_scenario(sc, out_dir=tmp / f"serial-{i}" / p / f"seed-{s}")
            out.setdefault("serial_cpu_s", []).append(time.process_time() - c0)
            return time.perf_counter() - t0

        tables = {}

        def study_once(backend: str, i: int) -> float:
            study = studies.plan_study(
                scenario,
                policies,
                seeds,
                out_dir=tmp / f"{backend}-{i}",
                duration_s=args.duration_s,
            )
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            results = studies.run_study(study, backend=backend, workers=args.workers)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if backend == "local":  # Ray's workers are not our children
                cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
                out.setdefault("local_children_cpu_s", []).append(cpu)
            out.setdefault(f"{backend}_mean_run_wall_s", []).append(
                sum(r.wall_s for r in results) / len(results)
            )
            assert all(r.status == "complete" for r in results), [r.error for r in results]
            tables[backend] = studies.study_kpi_table(study.root)
            return wall

        # serial and local alternate, --repeats times: on a shared machine one pair varies by
        # +-20 %, so the figure is the median of the per-pair ratios
        serial, local = [], []
        for i in range(args.repeats):
            serial.append(serial_once(i))
            local.append(study_once("local", i))
        out["serial_s"] = serial
        out["local_s"] = local
        out["local_speedup_per_repeat"] = [a / b for a, b in zip(serial, local)]
        out["local_speedup"] = statistics.median(out["local_speedup_per_repeat"])
        if have_ray and not args.no_ray:
            ray_s = study_once("ray", 0)
            out["ray_s"] = ray_s
            out["ray_speedup"] = statistics.median(serial) / ray_s
            out["local_equals_ray"] = bool(tables["local"].equals(tables["ray"]))
        out["loadavg_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
