"""On-disk cache of pass plans, serving plans and geometry.

Entries are keyed by a SHA-256 of (kind, algorithm version, TLE-set hash, sites, start, duration,
minimum elevation, handover rule, extra parameters), so a repeated run with the same inputs
loads instead of recomputing, and any change of input or algorithm misses. The directory is
``$LEO_EMULATOR_CACHE`` if set, else ``~/.cache/leo-emulator/orbits``. Writes are atomic
(temporary file + rename); an unreadable entry is treated as a miss and rewritten; an unwritable
directory only disables caching (with a warning).

Tables are stored as Parquet (through pandas), arrays as ``.npz`` without pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: bump when an algorithm change alters cached results
ALGORITHM_VERSION = "orbits-2"
ENV_VAR = "LEO_EMULATOR_CACHE"


def cache_dir(directory=None) -> Path:
    """The cache directory in use (argument, else ``$LEO_EMULATOR_CACHE``, else the default)."""
    if directory is not None:
        return Path(directory)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path.home() / ".cache" / "leo-emulator" / "orbits"


def array_digest(a: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def make_key(
    kind: str,
    *,
    constellation=None,
    tle_hash: str | None = None,
    sites=(),
    start_utc=None,
    duration_s: float | None = None,
    min_elevation_deg: float | None = None,
    rule: str | None = None,
    extra: dict | None = None,
) -> str:
    """Cache key (hex SHA-256) of the inputs that determine a cached result."""
    from orbits.timebase import utc_iso

    payload = {
        "kind": kind,
        "version": ALGORITHM_VERSION,
        "tle_hash": tle_hash or (constellation.tle_hash() if constellation is not None else None),
        "sites": [list(s.key()) for s in sites],
        "start_utc": utc_iso(start_utc) if start_utc is not None else None,
        "duration_s": None if duration_s is None else float(duration_s),
        "min_elevation_deg": None if min_elevation_deg is None else float(min_elevation_deg),
        "rule": rule,
        "extra": extra or {},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return f"{kind}-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _atomic_write(path: Path, write) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        warnings.warn(
            f"orbits cache disabled for this entry: cannot write {path}: {exc}", stacklevel=3
        )


def load_table(key: str, directory=None) -> pd.DataFrame | None:
    """The cached table for ``key``, or None on a miss or an unreadable entry."""
    path = cache_dir(directory) / f"{key}.parquet"
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a corrupt entry is a miss; it is rewritten
        return None


def store_table(key: str, df: pd.DataFrame, directory=None) -> None:
    """Store a table under ``key`` (atomic)."""
    path = cache_dir(directory) / f"{key}.parquet"
    plain = df.copy()
    plain.attrs = {}
    _atomic_write(path, lambda tmp: plain.to_parquet(tmp, index=False))


def load_arrays(key: str, directory=None) -> dict[str, np.ndarray] | None:
    """The cached arrays for ``key``, or None."""
    path = cache_dir(directory) / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception:
        return None


def store_arrays(key: str, arrays: dict[str, np.ndarray], directory=None) -> None:
    """Store arrays under ``key`` (atomic, ``.npz`` without pickles)."""
    path = cache_dir(directory) / f"{key}.npz"

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    _atomic_write(path, write)
