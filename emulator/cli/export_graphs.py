"""``export-graphs TRACE_DIR --out DIR``: recorded observations -> SHGNN training graphs.

Thin wrapper over :func:`policies.shgnn.export.export_trace` (torch loads only here).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emulator.cli.common import UsageError


def add_parser(subparsers) -> None:
    """Register ``export-graphs``."""
    p = subparsers.add_parser(
        "export-graphs",
        help="turn a cellfree_uplink trace's observations into SHGNN training graphs",
        description=(
            "Rebuild every policy observation recorded in TRACE_DIR, compute its closed-form "
            "statistics and write its heterogeneous graph (AP / SAT / UE nodes, features "
            "normalised as the chosen SHGNN weights expect) as networkx node-link JSON, one "
            "file per epoch, plus index.json. Fine-tune with `python -m policies.shgnn.train "
            "--config CFG --finetune-graphs DIR`."
        ),
        epilog="example: run_emulation.py export-graphs runs/paris-starlink-... --out graphs/",
    )
    p.add_argument("trace_dir", metavar="TRACE_DIR", help="trace folder written by `run`")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder for the graphs")
    p.add_argument(
        "--weights",
        default="stable",
        help="SHGNN weights whose normalisation and variant the features use (default: stable)",
    )
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Export the graphs; bad input -> one line, exit status 2."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"expected --out to be a folder, got the file {str(out)!r}; pick a folder")
    from policies.shgnn.export import export_trace

    try:
        export_trace(args.trace_dir, out, weights=args.weights, log=print)
    except ValueError as exc:
        raise UsageError(" ".join(str(exc).split())) from None
    return 0
