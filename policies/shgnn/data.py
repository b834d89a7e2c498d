"""Training / test data for SHGNN, generated only by the emulator's own snapshot path.

A *dataset* is ``n`` i.i.d. drops of the ``cellfree_uplink`` system in snapshot mode (spec
section 2: the paper's static geometry), drop ``i`` being
``snapshot_observation(params, K, split_seed, i)``, which draws from the named streams
``stream(split_seed, "cellfree/drop", i, ...)``. The split seed is derived by name from the data
seed: ``stream_seed(data_seed, "shgnn/split/<split>")``, so train / val / test never overlap and
every consumer of a split (GNN-Stable, GNN-Robust, Algorithm 1) sees the same drops (common
random numbers).

The expensive part, the closed-form statistics (spec 4.4, ``statistics(obs).normalised()``),
is cached per dataset as one ``.npz`` (``A~`` [n, K], ``D~`` [n, K, K], pre-log) under a
git-ignored cache directory (default ``<repo>/.cache/shgnn``; override with
``$SHGNN_CACHE_DIR``). Observations are cheap and are regenerated, so graph features are always
built by the current :func:`policies.shgnn.graph.features` (no stale feature caches).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from emulator.rng import stream_seed

#: default cache directory (``.cache/`` is git-ignored).
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "shgnn"

CACHE_VERSION = 1


def cache_dir() -> Path:
    """The statistics cache directory (``$SHGNN_CACHE_DIR`` or the default)."""
    return Path(os.environ.get("SHGNN_CACHE_DIR", DEFAULT_CACHE_DIR))


def system():
    """The ``cellfree_uplink`` system module (imported lazily)."""
    from emulator.systems import get_system

    return get_system("cellfree_uplink")


def make_params(profile: str = "PHYS", overrides: dict | None = None, tau_p: int | None = None):
    """``CellFreeParams`` of ``profile`` with ``overrides`` (and ``tau_p``) applied."""
    d = dict(overrides or {})
    if tau_p is not None:
        d["tau_p"] = int(tau_p)
    return system().params_from_dict(d, profile=profile)


def split_seed(data_seed: int, split: str) -> int:
    """Seed of one split, derived by name from the data seed (``emulator.rng.stream_seed``)."""
    return stream_seed(int(data_seed), f"shgnn/split/{split}")


def _params_json(params) -> str:
    return json.dumps(asdict(params), sort_keys=True, default=str)


@dataclass
class Dataset:
    """``n`` drops at one (params, K): observations and their normalised statistics.

    Attributes:
        params: the system parameters.
        num_users: K.
        seed: the split seed passed to ``snapshot_observation``.
        observations: the drops' ``Observation`` objects (regenerated, not cached).
        a_tilde: ``P_max a^2 / NO`` per drop. Shapes: [n, K] float64.
        d_tilde: ``D P_max / NO`` per drop. Shapes: [n, K, K] float64.
        prelog_bps: ``B (1 - tau_p / tau_c)`` [bit/s] (equal for all drops).
    """

    params: object
    num_users: int
    seed: int
    observations: list
    a_tilde: np.ndarray
    d_tilde: np.ndarray
    prelog_bps: float

    def __len__(self) -> int:
        return len(self.observations)

    def stats(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(A~, D~)`` of drop ``i``."""
        return self.a_tilde[i], self.d_tilde[i]

    def graphs(self, norm, variant: str) -> list:
        """The drops' :class:`~policies.shgnn.graph.GraphArrays` (features + loss tensors)."""
        from policies.shgnn.graph import features

        return [
            features(obs, norm, variant, self.stats(i), self.prelog_bps)
            for i, obs in enumerate(self.observations)
        ]

    def sum_rate_bps(self, power_fraction: np.ndarray) -> np.ndarray:
        """Closed-form (S8) sum rate per drop for power fractions ``x`` [n, K] (numpy, float64).

        Shapes: power_fraction [n, K] -> [n] float64 [bit/s].
        """
        x = np.asarray(power_fraction, dtype=np.float64)
        interference = np.einsum("nkj,nj->nk", self.d_tilde, x) + 1.0
        sinr = x * self.a_tilde / interference  # eq. (S8), normalised form of spec 4.4
        return self.prelog_bps * np.log2(1.0 + sinr).sum(axis=1)


def cache_path(params, num_users: int, seed: int, n: int, root: Path | None = None) -> Path:
    """Cache file of a dataset; the name hashes everything that determines its content."""
    key = f"v{CACHE_VERSION}|{_params_json(params)}|K={num_users}|seed={seed}|n={n}"
    digest = hashlib.blake2b(key.encode(), digest_size=10).hexdigest()
    return (root or cache_dir()) / f"stats-K{num_users}-n{n}-{digest}.npz"


def load_dataset(
    params,
    num_users: int,
    seed: int,
    n: int,
    use_cache: bool = True,
    log=None,
) -> Dataset:
    """Generate (or load the cached statistics of) ``n`` snapshot drops.

    Args:
        params: ``CellFreeParams``.
        num_users: K.
        seed: split seed (see :func:`split_seed`).
        n: number of drops (drop indices ``0 .. n-1``).
        use_cache: read / write the ``.npz`` statistics cache.
        log: optional ``print``-like callable for progress lines.
    """
    cf = system()
    observations = [cf.snapshot_observation(params, num_users, seed, i) for i in range(n)]
    path = cache_path(params, num_users, seed, n)
    if use_cache and path.exists():
        with np.load(path) as z:
            return Dataset(
                params,
                num_users,
                seed,
                observations,
                z["a_tilde"],
                z["d_tilde"],
                float(z["prelog_bps"]),
            )
    t0 = time.perf_counter()
    a_all = np.empty((n, num_users))
    d_all = np.empty((n, num_users, num_users))
    prelog = float("nan")
    for i, obs in enumerate(observations):
        st = cf.statistics(obs)
        a_all[i], d_all[i] = st.normalised()
        prelog = float(st.prelog_bps)
        if log is not None and n >= 500 and (i + 1) % max(1, n // 5) == 0:
            log(f"  statistics K={num_users}: {i + 1}/{n} drops, {time.perf_counter() - t0:.1f} s")
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, a_tilde=a_all, d_tilde=d_all, prelog_bps=np.float64(prelog))
        tmp.replace(path)
    return Dataset(params, num_users, seed, observations, a_all, d_all, prelog)
