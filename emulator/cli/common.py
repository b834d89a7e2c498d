"""Shared CLI plumbing: one-line errors with exit status 2, TTY-aware progress."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


class UsageError(Exception):
    """A user error: printed as one line (expected / got / fix), exit status 2."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad user input anywhere in the stack (lazy imports)."""
    types: list[type[BaseException]] = [UsageError]
    for module, name in [
        ("policies.base", "PolicyError"),
        ("emulator.config", "ScenarioError"),
        ("traces.errors", "TraceError"),
        ("orbits.tle", "TLEError"),
    ]:
        try:
            mod = __import__(module, fromlist=[name])
            types.append(getattr(mod, name))
        except (ImportError, AttributeError):
            pass
    return tuple(types)


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def one_line(exc: BaseException) -> str:
    """The exception message squeezed onto one line."""
    text = str(exc) or exc.__class__.__name__
    return " ".join(text.split())


def run_handler(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a sub-command handler; user errors -> one line on stderr and status 2."""
    errors = user_error_types()
    try:
        return int(func(args) or 0)
    except errors as exc:
        sys.stderr.write(f"error: {one_line(exc)}\n")
        return 2
    except FileNotFoundError as exc:
        sys.stderr.write(
            f"error: expected an existing file, got {exc.filename!r}; check the path\n"
        )
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal and never with ``--quiet``."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)
