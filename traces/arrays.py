"""Exact (bitwise) encoding of numpy arrays into Parquet binary cells.

The ``observations`` table stores each array of a system's ``pack(obs)`` as raw little-endian
bytes plus a small JSON layout (dtype string and shape), so :func:`decode_arrays` gives back
arrays whose bytes equal the originals (NaN payloads included). Used for replay.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping

import numpy as np

#: prefix of the binary columns that hold arrays.
ARRAY_PREFIX = "arr_"
#: name of the JSON column that holds ``{name: [dtype, shape]}``.
LAYOUT_COLUMN = "array_layout"


def encode_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, object]:
    """Arrays -> ``{"array_layout": json, "arr_<name>": bytes, ...}`` (one Parquet row's cells).

    Args:
        arrays: name -> array (any shape, numeric or bool dtype).
    """
    key = []
    cells: dict[str, object] = {}
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        if a.dtype.kind not in "biufc":
            raise TypeError(f"array {name!r} has dtype {a.dtype}; expected bool/int/float/complex")
        a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)
        key.append((name, a.dtype.str, a.shape))
        cells[ARRAY_PREFIX + name] = a.tobytes()
    cells[LAYOUT_COLUMN] = _layout_json(tuple(key))
    return cells


@functools.lru_cache(maxsize=4096)
def _layout_json(key: tuple) -> str:
    layout = {name: [dtype, list(shape)] for name, dtype, shape in key}
    return json.dumps(layout, sort_keys=True, separators=(",", ":"))


def decode_arrays(row: Mapping[str, object], copy: bool = True) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_arrays` for one row (a dict or a pandas Series).

    Args:
        row: the row's cells.
        copy: writable copies (default); ``False`` gives read-only views of the cells' bytes
            (no copy), for callers that only read them.
    """
    out: dict[str, np.ndarray] = {}
    for name, dtype, shape in _parse_layout(row[LAYOUT_COLUMN]):
        a = np.frombuffer(row[ARRAY_PREFIX + name], dtype=dtype).reshape(shape)
        out[name] = a.copy() if copy else a
    return out


@functools.lru_cache(maxsize=4096)
def _parse_layout(layout_json: str) -> tuple:
    """``((name, dtype, shape), ...)`` of a layout cell (a trace repeats few distinct ones)."""
    layout = json.loads(layout_json)
    return tuple((name, np.dtype(dt), tuple(shape)) for name, (dt, shape) in layout.items())
