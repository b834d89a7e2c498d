"""Policy conformance checker: ``check_policy(policy)`` (DESIGN section 7).

On the canned observation of the policy's system it checks that

1. the policy declares ``id`` and ``system`` (and the system exists);
2. ``decide`` returns a decision that ``system.validate`` accepts;
3. the decision is identical for identical input: a second call on the same object and a
   call on an independent deep copy give bitwise-equal decisions (policies are pure functions
   of the observation; warm starts come from ``obs.prev_power_w``);
4. ``decide`` leaves its input unmutated (every field compared bitwise before and after).

A second canned input, with ``prev_power_w`` filled (a warm start), is checked the same way
when the observation has that field.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np


class ConformanceError(AssertionError):
    """A policy broke the policy contract; the message names the check and the field."""


def _fields(obj) -> dict[str, Any]:
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return dict(vars(obj))


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float) and isinstance(b, float):
        return (a == b) or (np.isnan(a) and np.isnan(b))
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(
            _same(x, y) for x, y in zip(_fields(a).values(), _fields(b).values())
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _diff_field(a, b, skip=()) -> str | None:
    fa, fb = _fields(a), _fields(b)
    for k in fa:
        if k in skip:
            continue
        if k not in fb or not _same(fa[k], fb[k]):
            return k
    return None


def _snapshot(obs):
    return {
        k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else copy.deepcopy(v))
        for k, v in _fields(obs).items()
    }


#: decision diagnostics that may legitimately differ between equal calls (wall-clock time)
def _timing_key(k: str) -> bool:
    k = k.lower()
    return k.startswith("wall") or k.endswith("time_s") or k.endswith("_time") or k == "time"


def _decisions_equal(d1, d2) -> str | None:
    f1, f2 = _fields(d1), _fields(d2)
    for k in f1:
        if k == "diagnostics":
            g1 = {x: y for x, y in dict(f1[k] or {}).items() if not _timing_key(x)}
            g2 = {x: y for x, y in dict(f2.get(k) or {}).items() if not _timing_key(x)}
            if not _same(g1, g2):
                return "diagnostics"
        elif not _same(f1[k], f2.get(k)):
            return k
    return None


def _check_on(policy, system, obs, label: str) -> None:
    before = _snapshot(obs)
    try:
        d1 = policy.decide(obs)
    except Exception as exc:
        raise ConformanceError(
            f"{policy.id}: decide raised {exc.__class__.__name__}: {exc} on the {label}"
        ) from exc
    changed = [k for k, v in before.items() if not _same(v, getattr(obs, k))]
    if changed:
        raise ConformanceError(
            f"{policy.id}: decide mutated its input field(s) {changed} ({label})"
        )
    try:
        system.validate(d1, obs)
    except Exception as exc:
        raise ConformanceError(f"{policy.id}: invalid decision on the {label}: {exc}") from exc
    d2 = policy.decide(obs)
    field = _decisions_equal(d1, d2)
    if field is not None:
        raise ConformanceError(
            f"{policy.id}: two calls on the same {label} differ in {field!r}: not deterministic"
        )
    d3 = policy.decide(copy.deepcopy(obs))
    field = _decisions_equal(d1, d3)
    if field is not None:
        raise ConformanceError(
            f"{policy.id}: an equal copy of the {label} gives a different {field!r}: "
            "the decision must depend only on the observation's values"
        )


def check_policy(policy) -> dict[str, bool]:
    """Run the conformance checks on ``policy``; returns the checks passed.

    Raises:
        ConformanceError: naming the failed check.
    """
    from emulator.systems import get_system

    for attr in ("id", "system"):
        if not isinstance(getattr(policy, attr, None), str):
            raise ConformanceError(f"policy {policy!r} must declare a str attribute {attr!r}")
    if not callable(getattr(policy, "decide", None)):
        raise ConformanceError(f"{policy.id}: missing decide(obs)")
    try:
        system = get_system(policy.system)
    except KeyError as exc:
        raise ConformanceError(f"{policy.id}: {exc.args[0]}") from None
    obs = system.canned_observation()
    _check_on(policy, system, obs, "canned observation")
    names = {f.name for f in dataclasses.fields(obs)}
    if "prev_power_w" in names and "max_power_w" in names:
        k = len(np.asarray(obs.prev_power_w))
        prev = 0.5 * np.asarray(obs.max_power_w, dtype=float)
        if k > 1:
            prev[-1] = np.nan  # a user new this epoch
        warm = dataclasses.replace(obs, prev_power_w=prev)
        _check_on(policy, system, warm, "warm-started canned observation")
    return {"declares_id_system": True, "valid": True, "deterministic": True, "unmutated": True}
