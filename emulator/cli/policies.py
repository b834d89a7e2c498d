"""``policies``: list registered policies with their system and a one-line description."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    """Register ``policies``."""
    p = subparsers.add_parser(
        "policies",
        help="list registered policies",
        description="List the registered policy ids, the system each solves, and what it does.",
    )
    p.add_argument("--system", default=None, help="only policies of this system")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Print the registry as a table."""
    from policies import entries

    rows = [e for e in entries() if args.system is None or e.system == args.system]
    if not rows:
        from emulator.cli.common import UsageError

        systems = sorted({e.system for e in entries()})
        raise UsageError(
            f"expected a system with policies ({systems}), got {args.system!r}; "
            "fix --system or omit it"
        )
    w_id = max(len(e.id) for e in rows)
    w_sys = max(len(e.system) for e in rows)
    print(f"{'id':<{w_id}}  {'system':<{w_sys}}  description")
    for e in rows:
        print(f"{e.id:<{w_id}}  {e.system:<{w_sys}}  {e.description}")
    return 0
