"""The policy protocol (DESIGN section 7).

A policy is a function of its observation: it never imports SimPy, the engine or the clock.
Warm starts use what the observation carries (e.g. the power in force last epoch), so a
policy needs no hidden state and replay / resume reproduce it exactly.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Policy(Protocol):
    """A decision algorithm for one system.

    Attributes:
        id: versioned registry id, e.g. ``"ao-v1"``.
        system: name of the system it solves, e.g. ``"cellfree_uplink"``.
    """

    id: str
    system: str

    def decide(self, obs: Any) -> Any:
        """Return a ``Decision`` of the system for observation ``obs`` (never mutate ``obs``)."""
        ...


class PolicyError(ValueError):
    """Bad policy id or parameters (a user error: one line, exit status 2 at the CLI)."""
