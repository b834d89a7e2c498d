"""Trace errors: one line saying what was expected, what was found and how to fix it."""

from __future__ import annotations


class TraceError(ValueError):
    """A missing, corrupt, incomplete or other-version trace (exit status 2 at the CLI)."""
