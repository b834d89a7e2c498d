"""Policy registry: versioned ids -> lazy ``"module:Class"`` entry points.

Importing this module imports no policy implementation (so no torch, no cvxpy). A policy's
module is imported only when :func:`make` builds it.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import dataclass

from policies.base import PolicyError


@dataclass(frozen=True)
class Entry:
    """One registered policy."""

    id: str
    target: str  # "module:Class"
    system: str
    description: str


_REGISTRY: dict[str, Entry] = {}


def register(policy_id: str, target: str, system: str, description: str) -> None:
    """Register ``policy_id`` lazily (``target`` is ``"package.module:ClassName"``)."""
    if ":" not in target:
        raise ValueError(f"target must look like 'module:Class', got {target!r}")
    _REGISTRY[policy_id] = Entry(policy_id, target, system, description)


def entries() -> list[Entry]:
    """All registered policies, sorted by id."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def entry(policy_id: str) -> Entry:
    """The registry entry of ``policy_id``; unknown ids raise a did-you-mean ``PolicyError``."""
    try:
        return _REGISTRY[policy_id]
    except KeyError:
        close = difflib.get_close_matches(str(policy_id), list(_REGISTRY), n=3, cutoff=0.4)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise PolicyError(
            f"unknown policy id {policy_id!r}: expected one of {sorted(_REGISTRY)}; "
            f"{hint}run `python run_emulation.py policies` to list them"
        ) from None


def policy_class(policy_id: str) -> type:
    """Import and return the class registered under ``policy_id``."""
    e = entry(policy_id)
    module_name, cls_name = e.target.split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def make(policy_id: str, **params):
    """Build policy ``policy_id`` with keyword ``params``.

    Raises:
        PolicyError: unknown id, or a parameter the policy does not accept.
    """
    cls = policy_class(policy_id)
    sig = inspect.signature(cls)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    if not accepts_any:
        unknown = sorted(set(params) - set(sig.parameters))
        if unknown:
            raise PolicyError(
                f"policy {policy_id!r} got unknown parameter(s) {unknown}: expected some of "
                f"{sorted(sig.parameters)}; fix the [policy.params] table"
            )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"policy {policy_id!r} rejected its parameters: {exc}") from None


# --- the shipped policies (one line each; modules load only in make()) -------------------
register(
    "full-power-v1",
    "policies.baselines:FullPower",
    "cellfree_uplink",
    "Equal (full) power: every user scheduled at P_max (seed 002, ref. [38]).",
)
register(
    "random-power-v1",
    "policies.baselines:RandomPower",
    "cellfree_uplink",
    "Random power: rho_k ~ U[0, P_max] i.i.d. per epoch, all scheduled (seed 002, ref. [37]).",
)
register(
    "ao-v1",
    "policies.ao:AOPolicy",
    "cellfree_uplink",
    "Algorithm 1 of seed 002: WMMSE alternating optimisation, power control + scheduling.",
)
register(
    "shgnn-v1",
    "policies.shgnn.policy:SHGNNPolicy",
    "cellfree_uplink",
    "SHGNN of seed 002: heterogeneous GNN power control (GNN-Stable weights by default).",
)
register("sca-dc-v1", "policies.sca_dc:SCADCPolicy", "cellfree_uplink", "SCA-DC, not in seed 002")
