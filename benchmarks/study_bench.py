"""Benchmark: an 8-run study on 2 workers vs the same 8 runs one after another.

Target (issue 8): the local process-pool backend is >= 1.8x faster than serial on 2 cores;
Ray's ratio is reported too. All three are measured in one invocation, on the same runs
(2 policies x 4 seeds of ``scenarios/default.toml`` shortened with ``--duration-s``).

Serial = the 8 runs in this process, one after another (imports already paid: the fairest
baseline). Local / Ray = ``emulator.studies.run_study`` with 2 workers, including pool or Ray
start-up. CPU seconds and the mean wall time of one run are printed too: on a machine whose
cores other jobs already saturate, parallel runs each take longer and the ratio falls, which
those figures show. Prints one JSON object; run with ``nice -n 10`` on a shared machine::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/study_bench.py [--duration-s 120] [--no-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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
    ap.add_argument("--duration-s", type=float, default=120.0)
    ap.add_argument("--policies", default="full-power-v1,random-power-v1")
    ap.add_argument("--seeds", default="0-3")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()

    scenario = load_scenario(args.scenario)
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
        t0 = time.perf_counter()
        c0 = time.process_time()
        for p in policies:
            for s in seeds:
                sc = scenario.with_overrides(policy_id=p, seed=s, duration_s=args.duration_s)
                run_scenario(sc, out_dir=tmp / "serial" / p / f"seed-{s}")
        serial = time.perf_counter() - t0
        out["serial_s"] = serial
        out["serial_cpu_s"] = time.process_time() - c0

        try:
            import ray  # noqa: F401

            have_ray = True
        except ImportError:  # the optional extra .[ray] is not installed
            have_ray = False
            out["ray"] = "not installed (pip install -e .[ray])"
        backends = ["local"] + ([] if args.no_ray or not have_ray else ["ray"])
        tables = {}
        for backend in backends:
            study = studies.plan_study(
                scenario, policies, seeds, out_dir=tmp / backend, duration_s=args.duration_s
            )
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            results = studies.run_study(study, backend=backend, workers=args.workers)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if backend == "local":  # Ray's workers are not our children
                out["local_children_cpu_s"] = (r1.ru_utime - r0.ru_utime) + (
                    r1.ru_stime - r0.ru_stime
                )
            out[f"{backend}_mean_run_wall_s"] = sum(r.wall_s for r in results) / len(results)
            assert all(r.status == "complete" for r in results), [r.error for r in results]
            out[f"{backend}_s"] = wall
            out[f"{backend}_speedup"] = serial / wall
            tables[backend] = studies.study_kpi_table(study.root)
        if "ray" in tables:
            out["local_equals_ray"] = bool(tables["local"].equals(tables["ray"]))
        out["loadavg_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
