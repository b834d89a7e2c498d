"""Shared helpers for the engine tests: the tiny scenario and misbehaving test policies.

The policies are registered under ``test-*`` ids when this module is imported (the registry
is per process; subprocess tests import this module before dispatching to the CLI).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import policies
from emulator.config import load_scenario, scenario_from_dict
from emulator.systems.cellfree_uplink import Decision

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.toml"


def tiny(**changes):
    """The tiny scenario with top-level or ``section.key`` changes, e.g. ``{"policy.id": x}``."""
    d = load_scenario(TINY).to_dict()
    for key, value in changes.items():
        parts = key.replace("__", ".").split(".")
        t = d
        for p in parts[:-1]:
            t = t[p]
        t[parts[-1]] = value
    return scenario_from_dict(d)


def _full(obs) -> Decision:
    return Decision(
        power_w=np.array(obs.max_power_w, dtype=float),
        scheduled=np.ones(obs.num_users, dtype=bool),
        user_ids=np.array(obs.user_ids, dtype=np.int64),
        diagnostics={},
    )


class Slow:
    """Full power after sleeping ``sleep_s`` (for kill-and-resume tests)."""

    id = "test-slow-v1"
    system = "cellfree_uplink"

    def __init__(self, sleep_s: float = 0.15):
        self.sleep_s = sleep_s

    def decide(self, obs):
        time.sleep(self.sleep_s)
        return _full(obs)


class Cycling:
    """Fails in turn: epoch % 3 == 0 raises, == 1 runs past its budget, == 2 is over budget."""

    id = "test-cycle-v1"
    system = "cellfree_uplink"

    def __init__(self, sleep_s: float = 0.4):
        self.sleep_s = sleep_s

    def decide(self, obs):
        mode = int(obs.epoch_index) % 3
        if mode == 0:
            raise RuntimeError("boom")
        if mode == 1:
            time.sleep(self.sleep_s)
            return _full(obs)
        d = _full(obs)
        return Decision(d.power_w * 2.0, d.scheduled, d.user_ids, {})


class AlwaysRaise:
    """Raises on every call (a fallback that fails too)."""

    id = "test-raise-v1"
    system = "cellfree_uplink"

    def decide(self, obs):
        raise ValueError("always")


class Constant:
    """A constant decision: half power for everyone (for overhead measurements)."""

    id = "test-constant-v1"
    system = "cellfree_uplink"

    def decide(self, obs):
        d = _full(obs)
        return Decision(0.5 * d.power_w, d.scheduled, d.user_ids, {})


for _cls in (Slow, Cycling, AlwaysRaise, Constant):
    policies.register(
        _cls.id, f"tests.test_engine_support:{_cls.__name__}", _cls.system, _cls.__doc__
    )


def read_part_bytes(root: Path, table: str) -> list[bytes]:
    """The raw bytes of ``table`` in every complete part of a trace."""
    parts = sorted((root / "parts").glob("part-??????"))
    return [(p / f"{table}.parquet").read_bytes() for p in parts]
