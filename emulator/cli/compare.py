"""``compare SCENARIO --policies A,B --seeds 0-31``: a policy x seed study (emulator.studies).

Re-running the same command with the same ``--out`` resumes the study: finished runs are
skipped, a partial run is resumed, failed and missing runs are (re)started. Exit status: 0 when
every run completed, 1 when some run failed (the others still ran; see ``study.json``), 2 on
bad input.
"""

from __future__ import annotations

import argparse
import sys

from emulator.cli.common import UsageError, show_progress


def add_parser(subparsers) -> None:
    """Register the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="run a policy x seed comparison study (local process pool or Ray)",
        description=(
            "Run every policy on every seed of a scenario with common random numbers (the same "
            "seed gives every policy the same world), one trace per run under the study folder, "
            "then write kpis.parquet and report.md. Re-run with the same --out to resume."
        ),
        epilog=(
            "example: run_emulation.py compare scenarios/default.toml "
            "--policies ao-v1,shgnn-v1,full-power-v1 --seeds 0-31 --workers 2"
        ),
    )
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument(
        "--policies",
        required=True,
        metavar="IDS",
        help="comma-separated policy ids, e.g. ao-v1,shgnn-v1,full-power-v1",
    )
    p.add_argument("--seeds", default="0-7", metavar="SEEDS", help="e.g. 0-31 or 0,3,5-7")
    p.add_argument("--backend", choices=["local", "ray"], default="local")
    p.add_argument(
        "--workers", type=int, default=None, metavar="N", help="parallel runs (default: CPUs)"
    )
    p.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="join this Ray cluster (host:port or 'auto'); default: start a local Ray instance",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="study folder (default runs/study-<scenario>-<UTC time>); on a Ray cluster, a "
        "path on storage shared by every node",
    )
    p.add_argument(
        "--duration-s", type=float, default=None, metavar="X", help="override every run's duration"
    )
    p.add_argument(
        "--baseline", default=None, metavar="ID", help="report baseline (default: last policy)"
    )
    p.add_argument("--no-report", action="store_true", help="skip report.md and the PNGs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=handler)


def _preflight(scenario, policy_ids: list[str]) -> None:
    """Build every policy once here, so that a policy that cannot be built for this scenario
    (other system, missing weights, bad parameters) is one line and exit 2, not N failed runs."""
    import policies
    from emulator.engine import build_policies

    for pid in policy_ids:
        entry = policies.entry(pid)
        if entry.system != scenario.system.name:
            raise UsageError(
                f"policy {pid!r} solves system {entry.system!r}, expected one for the "
                f"scenario's system {scenario.system.name!r}; fix --policies (see `policies`)"
            )
        try:
            build_policies(scenario.with_overrides(policy_id=pid))
        except policies.PolicyError as exc:
            raise UsageError(
                f"policy {pid!r} cannot be built for this scenario: {exc}; fix --policies"
            ) from None


def handler(args: argparse.Namespace) -> int:
    """Plan, run (or resume) the study, then write its KPI table and report."""
    from emulator import studies
    from emulator.config import load_scenario

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"expected --workers >= 1, got {args.workers}; fix: e.g. --workers 2")
    if args.duration_s is not None and not args.duration_s > 0:
        raise UsageError(f"expected --duration-s > 0, got {args.duration_s}; fix the value")
    if args.ray_address and args.backend != "ray":
        raise UsageError(
            f"expected --backend ray with --ray-address, got --backend {args.backend}; "
            "fix: add --backend ray"
        )
    try:
        seeds = studies.parse_seeds(args.seeds)
        policy_ids = studies.parse_policies(args.policies)
    except studies.StudyError as exc:
        raise UsageError(str(exc)) from None
    if args.baseline is not None and args.baseline not in policy_ids:
        raise UsageError(
            f"expected --baseline among {policy_ids}, got {args.baseline!r}; fix --baseline"
        )
    scenario = load_scenario(args.scenario)
    _preflight(scenario, policy_ids)
    if args.backend == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError(
                "expected Ray for --backend ray, got no `ray` module; fix: "
                "pip install -e .[ray] (or use --backend local)"
            ) from None
    try:
        study = studies.plan_study(
            scenario,
            policy_ids,
            seeds,
            out_dir=args.out,
            duration_s=args.duration_s,
            scenario_path=args.scenario,
        )
        results = studies.run_study(
            study,
            backend=args.backend,
            workers=args.workers,
            ray_address=args.ray_address,
            progress=show_progress(args),
        )
    except studies.StudyError as exc:
        raise UsageError(str(exc)) from None
    failed = [r for r in results if r.status != "complete"]
    kpis = studies.write_study_kpis(study.root)
    print(f"study: {study.root}")
    print(
        f"runs: {len(results) - len(failed)} complete, {len(failed)} failed "
        f"({sum(r.skipped for r in results)} skipped as already done, "
        f"{sum(r.resumed for r in results)} resumed)"
    )
    for r in failed:
        print(f"  failed {r.policy_id} seed {r.seed}: {r.error}", file=sys.stderr)
    print(f"kpis: {kpis}")
    if not args.no_report:
        from emulator.cli.report import write_study_report

        report = write_study_report(study.root, baseline=args.baseline)
        print(f"report: {report}")
    return 1 if failed else 0
