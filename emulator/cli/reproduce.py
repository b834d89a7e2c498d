"""``reproduce PAPER [--quick] [--only ITEM] [--out DIR]``: a paper's figures (DESIGN §9).

The heavy lifting is in ``experiments/<paper>/``; this module only parses, checks the input and
reports. Exit status: 0 when every hard check passes, 1 when one fails, 2 on bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from pathlib import Path

from emulator.cli.common import UsageError


def add_parser(subparsers) -> None:
    """Register the ``reproduce`` sub-command."""
    p = subparsers.add_parser(
        "reproduce",
        help="regenerate a seed paper's figures and tables (PNG + CSV + summary)",
        description=(
            "Regenerate every numeric figure and table of a seed paper with the emulator's own "
            "systems and policies. Writes PNGs, CSVs, summary.md and summary.json."
        ),
    )
    p.add_argument("paper", help="seed number, e.g. 002")
    p.add_argument("--quick", action="store_true", help="reduced configuration (CI, minutes)")
    p.add_argument("--only", metavar="ITEM", help="one figure or table, e.g. fig7 or table1")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/reproduce-...)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=handler)


def resolve(paper: str, only: str | None):
    """The experiment module of ``paper`` and the items to run; :class:`UsageError` if unknown."""
    from experiments import PAPERS

    key = str(paper).strip()
    if key.isdigit():
        key = key.zfill(3)
    if key not in PAPERS:
        raise UsageError(
            f"unknown paper {paper!r}: expected one of {sorted(PAPERS)}; fix: e.g. `reproduce 002`"
        )
    module = importlib.import_module(PAPERS[key])
    items = list(module.ITEMS)
    if only is not None:
        name = only.strip().lower()
        if name not in items:
            raise UsageError(
                f"unknown item {only!r} for paper {key}: expected one of {items}; "
                f"fix: e.g. `--only {items[0]}`"
            )
        items = [name]
    return key, module, items


def handler(args: argparse.Namespace) -> int:
    """Run the reproduction and print where the summary is."""
    from experiments.common import Reproduction

    key, module, items = resolve(args.paper, args.only)
    config = "quick" if args.quick else "full"
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UsageError(
                f"--out must be a folder, got the file {str(out)!r}; fix: another path"
            )
    else:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        suffix = f"-{items[0]}" if args.only else ""
        out = Path("runs") / f"reproduce-{key}-{config}{suffix}-{stamp}"
    repro = Reproduction(key, out, config)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    module.run(repro, items, quick=args.quick, log=log)
    repro.write()
    failures = repro.hard_failures()
    n_hard = sum(r.hard for r in repro.rows)
    print(f"wrote {out / 'summary.md'} ({n_hard - len(failures)}/{n_hard} hard checks pass)")
    for r in failures:
        print(f"FAIL {r.item}: {r.quantity} {r.note}")
    return 1 if failures else 0
