"""``run``: run a scenario (or resume a killed run) and print where the trace is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.cli.common import UsageError, show_progress

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"


def add_parser(subparsers) -> None:
    """Register ``run``."""
    p = subparsers.add_parser(
        "run",
        help="run a scenario and write its trace",
        description=(
            "Run SCENARIO (default: scenarios/default.toml) with its policy in the loop and "
            "write a trace folder (manifest.json + Parquet parts). --resume DIR continues a "
            "killed run from its last complete part; the result equals an uninterrupted run."
        ),
    )
    p.add_argument("scenario", nargs="?", default=None, help="scenario TOML file")
    p.add_argument("--policy", default=None, help="override the policy id (see `policies`)")
    p.add_argument("--seed", type=_nonneg_int, default=None, help="override the run seed")
    p.add_argument(
        "--duration-s", type=_positive_float, default=None, help="override the duration [s]"
    )
    p.add_argument("--out", default=None, help="trace folder (default runs/<name>-<policy>-...)")
    p.add_argument("--resume", default=None, metavar="DIR", help="continue a killed run")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=handler)


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return v


def handler(args: argparse.Namespace) -> int:
    """Run (or resume) and print the trace folder and its summary."""
    from emulator.config import load_scenario
    from emulator.engine import run_scenario, scenario_of_trace

    if args.resume is not None:
        if args.out is not None:
            raise UsageError(
                "--out and --resume both given: expected one trace folder; "
                "drop --out (a resumed run writes into DIR)"
            )
        if args.scenario is None:
            scenario = scenario_of_trace(args.resume)
        else:
            scenario = load_scenario(args.scenario)
    else:
        scenario = load_scenario(args.scenario or DEFAULT_SCENARIO)
    if args.policy is not None or args.seed is not None or args.duration_s is not None:
        scenario = scenario.with_overrides(
            policy_id=args.policy, seed=args.seed, duration_s=args.duration_s
        )
    out = run_scenario(
        scenario, out_dir=args.out, resume_dir=args.resume, quiet=not show_progress(args)
    )
    if not args.quiet:
        import traces
        from traces.summary import format_summary

        print(f"trace: {out}")
        print(format_summary(traces.load(out)))
    else:
        print(out)
    sys.stdout.flush()
    return 0
