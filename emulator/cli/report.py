"""``report STUDY_DIR``: per-policy KPI tables, paired differences with CIs, plots.

Writes ``report.md``, ``kpis.csv``, ``paired.csv`` and PNGs (per-user throughput CDF, KPIs
over the pass, paired sum-throughput differences) into the study folder (or ``--out``).
The metric definitions and the CI methods are documented in :mod:`traces.report` and
:mod:`traces.stats`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emulator.cli.common import UsageError


def add_parser(subparsers) -> None:
    """Register the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="write report.md and PNGs comparing the policies of a study",
        description=(
            "Per policy: mean sum throughput, energy efficiency (where the system defines it), "
            "5th-percentile user throughput, Jain fairness, outage and scheduled shares, "
            "decision time p50/p99, fallback counts; paired differences against a baseline "
            "with confidence intervals over seeds; CDF and KPI-over-time plots."
        ),
    )
    p.add_argument("study_dir", help="a study folder written by `compare` (holds study.json)")
    p.add_argument(
        "--baseline", default=None, metavar="ID", help="policy to pair against (default: last)"
    )
    p.add_argument(
        "--ci",
        choices=["t", "bootstrap"],
        default="t",
        help="paired t interval (default) or percentile bootstrap",
    )
    p.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument(
        "--outage-bps",
        type=float,
        default=None,
        metavar="X",
        help="outage threshold in bit/s (default 1e5)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default: STUDY_DIR)")
    p.set_defaults(func=handler)


def write_study_report(
    study_dir: str | Path,
    baseline: str | None = None,
    method: str = "t",
    confidence: float = 0.95,
    outage_bps: float | None = None,
    out_dir: str | Path | None = None,
) -> Path:
    """Build the report of a study folder; returns the path of ``report.md``."""
    from emulator.studies import StudyError, study_runs
    from traces import report as rep

    try:
        data, refs = study_runs(study_dir)
    except StudyError as exc:
        raise UsageError(str(exc)) from None
    policies = list(data.get("policies", []))
    if not policies:
        raise UsageError(f"expected policies in {study_dir}/study.json, got none; re-run compare")
    if baseline is not None and baseline not in policies:
        raise UsageError(
            f"expected --baseline among the study's policies {policies}, got {baseline!r}; "
            "fix --baseline"
        )
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"expected --confidence in (0, 1), got {confidence}; e.g. 0.95")
    if outage_bps is not None and not outage_bps >= 0.0:
        raise UsageError(f"expected --outage-bps >= 0, got {outage_bps}; fix the value")
    done = sum(r.path is not None for r in refs)
    header = [
        f"* study: `{Path(study_dir).resolve()}`",
        f"* scenario: `{data.get('scenario_path')}` (hash `{str(data.get('scenario_hash'))[:12]}`)"
        + (f", duration override {data['duration_s']:g} s" if data.get("duration_s") else ""),
        f"* policies: {', '.join(f'`{p}`' for p in policies)}; seeds: "
        f"{_seed_text(data.get('seeds', []))}",
        f"* runs: {done} complete of {len(refs)}; backend: {data.get('backend')}",
    ]
    return rep.write_report(
        refs,
        policies,
        out_dir or study_dir,
        baseline=baseline,
        confidence=confidence,
        method=method,
        outage_bps=rep.DEFAULT_OUTAGE_BPS if outage_bps is None else outage_bps,
        title=f"Policy comparison: {Path(str(data.get('scenario_path') or 'study')).stem}",
        header_lines=header,
    )


def _seed_text(seeds: list[int]) -> str:
    if not seeds:
        return "none"
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]} ({len(seeds)})"
    return ", ".join(str(s) for s in seeds)


def handler(args: argparse.Namespace) -> int:
    """Write the report and print where it is."""
    if not Path(args.study_dir).is_dir():
        raise UsageError(
            f"expected a study folder, got {args.study_dir!r} which is not a folder; "
            "fix: the --out folder of a `compare` run"
        )
    path = write_study_report(
        args.study_dir,
        baseline=args.baseline,
        method=args.ci,
        confidence=args.confidence,
        outage_bps=args.outage_bps,
        out_dir=args.out,
    )
    print(f"report: {path}")
    return 0
