"""Suite-wide fixtures.

The orbit layer caches pass plans and geometry on disk (``$LEO_EMULATOR_CACHE``). The suite
points that at one temporary directory per test session (and per xdist worker), so tests never
write into the user's home and repeated scenarios within a session still share the cache.
Tests that check the cache itself override it with their own ``tmp_path``.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_orbit_cache(tmp_path_factory):
    previous = os.environ.get("LEO_EMULATOR_CACHE")
    os.environ["LEO_EMULATOR_CACHE"] = str(tmp_path_factory.mktemp("orbit-cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")
    yield
    if previous is None:
        os.environ.pop("LEO_EMULATOR_CACHE", None)
    else:
        os.environ["LEO_EMULATOR_CACHE"] = previous
