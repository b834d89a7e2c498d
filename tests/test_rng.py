"""Named, counter-based random streams (DESIGN section 5), and the ban on global RNGs."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import numpy as np
import pytest

from emulator.rng import stream, stream_key, stream_seed

ROOT = Path(__file__).resolve().parents[1]


def test_same_arguments_same_draws_regardless_of_order():
    a1 = stream(7, "fading", 3).standard_normal(5)
    stream(7, "arrivals", 0).random(100)  # creating other streams in between changes nothing
    b = stream(7, "fading", 4).standard_normal(5)
    a2 = stream(7, "fading", 3).standard_normal(5)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, b)


@pytest.mark.parametrize(
    "other", [(8, "fading", 3), (7, "fadinG", 3), (7, "fading", 3, 0), (7, "fading", 2**33 + 3)]
)
def test_seed_name_and_counters_all_matter(other):
    base = stream(7, "fading", 3).integers(0, 2**63, size=4)
    assert not np.array_equal(base, stream(*other).integers(0, 2**63, size=4))


def test_stream_key_is_the_documented_blake2b_layout():
    digest = hashlib.blake2b(b"arrivals", digest_size=16).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    c = 2**40 + 5
    assert stream_key("arrivals", c) == words + (c & 0xFFFFFFFF, c >> 32)
    # and the generator equals numpy's own construction from that key
    ss = np.random.SeedSequence(entropy=11, spawn_key=stream_key("arrivals", c))
    want = np.random.Generator(np.random.PCG64(ss)).random(3)
    np.testing.assert_array_equal(stream(11, "arrivals", c).random(3), want)


def test_streams_are_statistically_independent_and_uniform():
    # 2000 streams, one uniform each: mean 1/2 +- 4 sigma, lag-1 correlation ~ 0
    u = np.array([stream(0, "u", i).random() for i in range(2000)])
    sigma = np.sqrt(1 / 12 / u.size)
    assert abs(u.mean() - 0.5) < 4 * sigma
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / np.sqrt(u.size)


def test_bad_arguments():
    with pytest.raises(ValueError):
        stream(-1, "x")
    with pytest.raises(ValueError):
        stream(0, "")
    with pytest.raises(ValueError):
        stream(0, "x", -2)
    assert 0 <= stream_seed(3, "torch", 1) < 2**63


BANNED_ATTRS = {
    "seed",
    "rand",
    "randn",
    "randint",
    "random",
    "random_sample",
    "choice",
    "shuffle",
    "permutation",
    "normal",
    "uniform",
    "RandomState",
}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [f"import {a.name}" for a in node.names if a.name == "random"]
        elif isinstance(node, ast.ImportFrom) and node.module == "random":
            bad.append("from random import ...")
        elif isinstance(node, ast.Attribute):
            v = node.value
            # np.random.<banned>  /  numpy.random.<banned>
            if (
                isinstance(v, ast.Attribute)
                and v.attr == "random"
                and isinstance(v.value, ast.Name)
                and v.value.id in ("np", "numpy")
                and node.attr in BANNED_ATTRS
            ):
                bad.append(f"{v.value.id}.random.{node.attr}")
            if isinstance(v, ast.Name) and v.id == "torch" and node.attr in ("manual_seed", "seed"):
                bad.append(f"torch.{node.attr}")
    return [f"{path.relative_to(ROOT)}: {b}" for b in bad]


def test_no_global_rng_outside_tests():
    files = [
        p
        for pkg in ("emulator", "orbits", "policies", "traces", "experiments", "benchmarks")
        for p in (ROOT / pkg).rglob("*.py")
    ] + [ROOT / "run_emulation.py"]
    found = [v for f in files if f.is_file() for v in _violations(f)]
    assert found == []
