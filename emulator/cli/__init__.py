"""Command-line interface: one module per sub-command, dispatched by :func:`main`.

Each sub-command module defines ``add_parser(subparsers)`` which registers its parser and
sets ``func=handler`` on it; the handler takes the parsed ``argparse.Namespace`` and returns an
exit status. User errors raise :class:`emulator.cli.common.UsageError` (or one of the known
error types listed in ``common.USER_ERRORS``) and become one line on stderr with exit status 2.
"""

from __future__ import annotations

import importlib
import sys

from emulator.cli.common import OneLineParser, run_handler

#: sub-command modules in the order ``--help`` lists them.
COMMANDS = [
    "run",
    "inspect",
    "passes",
    "policies",
    "compare",
    "report",
    "replay",
    "reproduce",
    "export_graphs",
]


def build_parser() -> OneLineParser:
    """The top-level parser with every available sub-command."""
    parser = OneLineParser(
        prog="run_emulation.py",
        description="Discrete-event emulator of integrated LEO-satellite / terrestrial networks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module_name = f"emulator.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a sub-command not built yet in this checkout
            if exc.name == module_name:
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return run_handler(args.func, args)
