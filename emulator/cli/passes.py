"""``passes`` sub-command: the pass plan and serving plan of one ground site.

Example::

    python run_emulation.py passes --lat 48.85 --lon 2.35 --start 2023-07-18T12:00:00Z \\
        --hours 24 --min-elevation-deg 25 [--tle FILE] [--csv OUT] [--rule sticky]

Loads the TLE set (default: the shipped Starlink snapshot), runs TLE hygiene for the window,
computes the exact pass plan (cached on disk, see ``orbits.cache``) and the serving plan under the
chosen handover rule, prints the plan and a summary (hygiene line included), and optionally writes
the plan as CSV.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

from emulator.cli.common import UsageError

NAME = "passes"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``passes`` on the top-level sub-parsers."""
    p = subparsers.add_parser(
        NAME,
        help="pass plan (AOS/TCA/LOS) and handovers of one ground site",
        description=(
            "Exact pass plan of every satellite above a minimum elevation at one site, the "
            "serving plan under a handover rule, and TLE hygiene, for a UTC window."
        ),
    )
    p.add_argument("--lat", type=float, required=True, help="geodetic latitude [deg]")
    p.add_argument("--lon", type=float, required=True, help="longitude [deg], east positive")
    p.add_argument("--height-m", type=float, default=0.0, help="height above WGS84 [m]")
    p.add_argument("--site-name", default="site", help="label of the site (default: site)")
    p.add_argument(
        "--start",
        default=None,
        help="window start, ISO-8601 UTC (e.g. 2023-07-18T12:00:00Z); "
        "default: the median TLE epoch, floored to the hour",
    )
    p.add_argument("--hours", type=float, default=24.0, help="window length [h] (default 24)")
    p.add_argument(
        "--min-elevation-deg", type=float, default=25.0, help="minimum elevation [deg] (default 25)"
    )
    p.add_argument("--tle", default=None, help="TLE file (default: shipped Starlink 2023-07-18)")
    p.add_argument("--csv", default=None, help="write the pass plan to this CSV file")
    p.add_argument(
        "--rule",
        default="highest_elevation",
        choices=["highest_elevation", "longest_remaining", "sticky"],
        help="handover rule of the serving plan (default highest_elevation)",
    )
    p.add_argument(
        "--max-epoch-age-days",
        type=float,
        default=14.0,
        help="TLE epochs further than this from the start count as stale (default 14)",
    )
    p.add_argument("--rows", type=int, default=40, help="plan rows to print (default 40; 0 = all)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the disk cache")
    p.set_defaults(func=handler)
    return p


def _check(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.lat) and -90.0 <= args.lat <= 90.0):
        raise UsageError(
            f"--lat: expected a latitude in [-90, 90] deg, got {args.lat}; fix the value"
        )
    if not (math.isfinite(args.lon) and -180.0 <= args.lon < 360.0):
        raise UsageError(
            f"--lon: expected a longitude in [-180, 360) deg, got {args.lon}; fix the value"
        )
    if not (math.isfinite(args.hours) and 0.0 < args.hours <= 24.0 * 31):
        raise UsageError(f"--hours: expected a window in (0, 744] h, got {args.hours}")
    if not (math.isfinite(args.min_elevation_deg) and -10.0 <= args.min_elevation_deg < 90.0):
        raise UsageError(
            f"--min-elevation-deg: expected [-10, 90) deg, got {args.min_elevation_deg}"
        )
    if not (math.isfinite(args.max_epoch_age_days) and args.max_epoch_age_days > 0):
        raise UsageError(
            f"--max-epoch-age-days: expected a positive number, got {args.max_epoch_age_days}"
        )
    if args.rows < 0:
        raise UsageError(f"--rows: expected >= 0, got {args.rows}")
    if args.tle is not None and not Path(args.tle).is_file():
        raise UsageError(f"--tle: expected an existing TLE file, got {args.tle!r}; check the path")
    if args.csv is not None and not Path(args.csv).resolve().parent.is_dir():
        raise UsageError(
            f"--csv: expected a path in an existing directory, got {args.csv!r}; "
            "create the directory first"
        )


def handler(args: argparse.Namespace) -> int:
    """Run ``passes``; returns the exit status."""
    _check(args)
    t_wall = time.perf_counter()
    import pandas as pd

    import orbits
    from orbits.timebase import parse_utc

    constellation = (
        orbits.load_tle(args.tle) if args.tle is not None else orbits.default_constellation()
    )
    if args.start is None:
        start = constellation.epochs_utc.sort_values()[len(constellation) // 2].floor("h")
        start = start.to_pydatetime()
    else:
        try:
            start = parse_utc(args.start)
        except ValueError as exc:
            raise UsageError(
                f"--start: expected an ISO-8601 UTC time like 2023-07-18T12:00:00Z, "
                f"got {args.start!r}"
            ) from exc
    duration_s = args.hours * 3600.0
    site = orbits.Site(args.site_name, args.lat, args.lon, args.height_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", orbits.StaleTLEWarning)  # reported in the summary
        kept, report = orbits.hygiene(
            constellation, start, duration_s, args.max_epoch_age_days, warn=False
        )
    if len(kept) == 0:
        raise UsageError(
            f"expected satellites that propagate through the window, got none "
            f"({report.summary()}); fix: choose a --start near the TLE epochs"
        )
    plan = orbits.pass_plan(
        kept, site, start, duration_s, args.min_elevation_deg, cache=not args.no_cache
    )
    events = orbits.serving_plan(
        plan,
        start,
        duration_s,
        rule=args.rule,
        constellation=kept,
        site=site,
        cache=not args.no_cache,
    )
    elapsed = time.perf_counter() - t_wall

    shown = plan if args.rows == 0 else plan.head(args.rows)
    cols = ["sat_id", "name", "aos_utc", "tca_utc", "los_utc", "max_elevation_deg"]
    flags = plan["aos_in_progress"] | plan["los_after_end"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        table = shown[cols].copy()
        for c in ("aos_utc", "tca_utc", "los_utc"):
            table[c] = table[c].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
        table["max_elevation_deg"] = table["max_elevation_deg"].round(2)
        table["cut"] = [
            ("aos<start " if a else "") + ("los>end" if b else "")
            for a, b in zip(shown["aos_in_progress"], shown["los_after_end"])
        ]
        print(table.to_string(index=False))
    if len(shown) < len(plan):
        print(f"... {len(plan) - len(shown)} more passes (use --rows 0 or --csv FILE)")
    import numpy as np

    grid = np.arange(0.0, duration_s, 10.0)
    vis = orbits.visible_count(plan, grid)
    handovers = int(((events["from_sat_id"] >= 0) & (events["to_sat_id"] >= 0)).sum())
    outage_s = _outage_s(events, duration_s)
    print()
    print(
        f"site {site.name} ({site.lat_deg:.4f}, {site.lon_deg:.4f}, {site.height_m:g} m), "
        f"window {start.strftime('%Y-%m-%dT%H:%M:%SZ')} + {args.hours:g} h, "
        f"min elevation {args.min_elevation_deg:g} deg, TLE set {constellation.tle_hash()[:12]}"
    )
    print(report.summary())
    dur = plan["duration_s"]
    print(
        f"passes: {len(plan)} from {plan['sat_id'].nunique()} satellites "
        f"({int(flags.sum())} cut by the window); mean duration {dur.mean():.1f} s, "
        f"max elevation up to {plan['max_elevation_deg'].max():.2f} deg"
        if len(plan)
        else "passes: 0"
    )
    print(
        f"visible satellites (10 s grid): min {vis.min()}, mean {vis.mean():.1f}, "
        f"max {vis.max()}; coverage {100.0 * (vis > 0).mean():.2f} %"
    )
    print(
        f"serving plan ({args.rule}): {handovers} handovers "
        f"({3600.0 * handovers / duration_s:.1f} per hour), outage {outage_s:.1f} s"
    )
    print(f"computed in {elapsed:.2f} s")
    if args.csv is not None:
        plan.to_csv(args.csv, index=False)
        print(f"pass plan written to {args.csv}")
    return 0


def _outage_s(events, duration_s: float) -> float:
    """Total time with no serving satellite, from the event list."""
    if len(events) == 0:
        return duration_s
    t = list(events["t_s"]) + [duration_s]
    to = list(events["to_sat_id"])
    return float(sum(t[i + 1] - t[i] for i in range(len(to)) if to[i] < 0))
