"""Benchmark of the orbit layer (issue 3): pass-plan speed-up, geometry throughput, peak RSS.

Run (not in CI):  ``nice -n 10 .venv/bin/python benchmarks/orbits_bench.py [--quick]``

Measured in one run, on the shipped Starlink snapshot (4428 satellites), site Paris, window
2023-07-18T12:00Z + 24 h, minimum elevation 25 deg:

1. **Ours**: ``orbits.pass_plan`` for all satellites x 24 h, cache disabled, in process; and the
   whole ``run_emulation.py passes`` CLI (start-up, TLE load, hygiene, pass plan, serving plan)
   in a subprocess, whose peak RSS is read from ``getrusage(RUSAGE_CHILDREN)``.
2. **Naive baseline**: Skyfield ``(sat - site).at(t).altaz()`` at 1 s steps (vectorised over a
   time array, the fastest naive form), on 3 satellites that pass in the first 2 h, scaled to
   4428 satellite-days. The passes it finds by thresholding are compared with ours.
3. **Geometry throughput**: ``orbits.geometry`` (1 site, all fields) vs raw
   ``SatrecArray.sgp4`` on the same satellites x times, best of 5 (interleaved).

Targets: speed-up >= 1000x, geometry >= 50 % of raw SGP4 throughput, peak RSS <= 1 GB.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orbits  # noqa: E402
from orbits.geometry import satrec_array  # noqa: E402
from orbits.timebase import TimeBase  # noqa: E402

START = dt.datetime(2023, 7, 18, 12, tzinfo=dt.UTC)
SITE = orbits.Site("paris", 48.85, 2.35, 0.0)
MIN_EL = 25.0
DAY_S = 86_400.0


def naive(constellation, rows, hours: float):
    """Skyfield altaz at 1 s for some satellites; returns (seconds per satellite-day, passes)."""
    from skyfield.api import EarthSatellite, wgs84

    n_sats = len(rows)
    tb = TimeBase(START, 0.0, hours * 3600.0)
    t_s = np.arange(0.0, hours * 3600.0, 1.0)
    t = tb.skyfield_time(t_s)
    topo = wgs84.latlon(SITE.lat_deg, SITE.lon_deg, SITE.height_m)
    passes = {}
    t0 = time.perf_counter()
    for i in rows:
        sat = EarthSatellite(constellation.line1[i], constellation.line2[i], ts=t.ts)
        alt, _, _ = (sat - topo).at(t).altaz()
        above = alt.degrees >= MIN_EL
        rises = np.count_nonzero(above[1:] & ~above[:-1]) + int(above[0])
        passes[int(constellation.sat_ids[i])] = rises
    elapsed = time.perf_counter() - t0
    per_sat_day = elapsed / (n_sats * hours / 24.0)
    return per_sat_day, passes


def geometry_throughput(constellation, n_times: int, repeats: int = 5):
    t_s = np.linspace(0.0, DAY_S, n_times)
    tb = TimeBase(START, 0.0, DAY_S)
    arr = satrec_array(constellation)
    jd = np.full(n_times, tb.jd_whole)
    fr = tb.utc_fraction(t_s)
    raw, ours = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        arr.sgp4(jd, fr)
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        orbits.geometry(constellation, SITE, START, t_s)
        ours.append(time.perf_counter() - t0)
    n = len(constellation) * n_times
    return n / min(raw), n / min(ours)


def cli_run(hours: float, cache_dir: str):
    cmd = [
        sys.executable,
        str(ROOT / "run_emulation.py"),
        "passes",
        "--lat",
        str(SITE.lat_deg),
        "--lon",
        str(SITE.lon_deg),
        "--start",
        START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--hours",
        str(hours),
        "--min-elevation-deg",
        str(MIN_EL),
        "--rows",
        "3",
        "--no-cache",
    ]
    env = dict(os.environ, LEO_EMULATOR_CACHE=cache_dir, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"CLI failed ({proc.returncode}): {proc.stderr.strip()}")
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return wall, rss_mb, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    args = ap.parse_args()
    hours = 2.0 if args.quick else 24.0
    print(f"orbits benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs visible)")

    t0 = time.perf_counter()
    full = orbits.default_constellation()
    print(f"TLE load: {len(full)} satellites in {time.perf_counter() - t0:.2f} s")
    c, report = orbits.hygiene(full, START, hours * 3600.0, warn=False)
    print(report.summary())

    # 1. ours, in process (cache off) ---------------------------------------------------------
    t0 = time.perf_counter()
    plan = orbits.pass_plan(c, SITE, START, hours * 3600.0, MIN_EL, cache=False)
    ours_plan = time.perf_counter() - t0
    print(
        f"pass_plan in process ({len(c)} sats x {hours:g} h): {ours_plan:.2f} s, {len(plan)} passes"
    )

    # 2. naive baseline on 3 satellites that do pass in the first 2 h ------------------------
    early = plan[(plan["aos_s"] > 0) & (plan["los_s"] < 7200.0)]["sat_id"].unique()[:3]
    rows = [full.index_of(i) for i in early]
    per_sat_day, naive_passes = naive(full, rows, 2.0)
    naive_total = per_sat_day * len(full) * hours / 24.0
    print(
        f"naive Skyfield altaz @1 s: {per_sat_day:.2f} s per satellite-day "
        f"(sample {len(rows)} sats x 2 h) -> {naive_total:.0f} s = {naive_total / 3600:.2f} h "
        f"for {len(full)} sats x {hours:g} h"
    )
    sample_plan = orbits.pass_plan(full.subset(early), SITE, START, 7200.0, MIN_EL, cache=False)
    ours_counts = sample_plan.groupby("sat_id").size().to_dict()
    agree = all(ours_counts.get(k, 0) == v for k, v in naive_passes.items())
    print(
        f"naive 1 s sampling vs ours on that sample: {sum(naive_passes.values())} vs "
        f"{len(sample_plan)} passes ({'agree' if agree else 'DISAGREE'})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        wall, rss_mb, out = cli_run(hours, tmp)
    print(f"CLI `passes` end to end (start-up + load + hygiene + plan + serving): {wall:.2f} s")
    for line in out.splitlines():
        if line.startswith(("passes:", "serving plan", "computed in")):
            print("   ", line)
    print(f"peak RSS of the CLI run: {rss_mb:.0f} MB (target <= 1024 MB)")
    print(
        f"speed-up vs naive: {naive_total / ours_plan:.0f}x (pass_plan), "
        f"{naive_total / wall:.0f}x (whole CLI incl. start-up)  (target >= 1000x)"
    )

    # warm cache ----------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        orbits.pass_plan(c, SITE, START, hours * 3600.0, MIN_EL, cache=True, cache_dir=tmp)
        t0 = time.perf_counter()
        orbits.pass_plan(c, SITE, START, hours * 3600.0, MIN_EL, cache=True, cache_dir=tmp)
        print(f"pass_plan from the disk cache: {time.perf_counter() - t0:.3f} s")

    # 3. geometry throughput ----------------------------------------------------------------
    n_times = 100 if args.quick else 400
    raw_rate, geo_rate = geometry_throughput(c, n_times)
    print(
        f"geometry throughput ({len(c)} sats x {n_times} times, 1 site): "
        f"{geo_rate / 1e6:.2f} M sat-times/s vs raw SatrecArray.sgp4 {raw_rate / 1e6:.2f} M/s "
        f"= {100 * geo_rate / raw_rate:.0f} % (target >= 50 %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
