"""Trace reader: ``traces.load(path)`` -> :class:`Trace` with pandas DataFrames.

Validates the manifest (format name, schema version), that every complete part holds every
table, and that each table has its required columns. Anything else is a :class:`TraceError`
with one line (expected / got / fix). A run that is still going, or was killed, loads too:
``trace.complete`` is False and the tables hold the complete parts written so far.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from traces.arrays import decode_arrays
from traces.errors import TraceError
from traces.schema import (
    CARRY_FILE,
    FORMAT_NAME,
    MANIFEST,
    PART_PREFIX,
    PARTS_DIR,
    SCHEMA_VERSION,
    TABLES,
    TMP_SUFFIX,
)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check ``manifest.json`` of a trace folder."""
    root = Path(path)
    if not root.is_dir():
        raise TraceError(
            f"expected a trace folder, got {str(path)!r} which is not a folder; "
            "pass the run folder printed by `run` (e.g. runs/<name>-...)"
        )
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise TraceError(
            f"expected {MANIFEST} in {str(path)!r}, found none; "
            "this is not a trace folder (or the run never started)"
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise TraceError(
            f"expected valid JSON in {str(mpath)!r}, got a corrupt file "
            f"({exc.__class__.__name__}); the trace cannot be read, re-run it"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise TraceError(
            f"expected a {FORMAT_NAME!r} manifest in {str(mpath)!r}, got something else; "
            "pass a folder written by `run_emulation.py run`"
        )
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TraceError(
            f"expected trace schema version {SCHEMA_VERSION}, got {version!r} in {str(path)!r}; "
            "read it with the emulator version that wrote it, or re-run the scenario"
        )
    return manifest


def part_dirs(root: Path) -> list[Path]:
    """Complete part folders of a trace, in order (checks there are no gaps)."""
    pdir = root / PARTS_DIR
    if not pdir.is_dir():
        return []
    found = []
    for p in pdir.iterdir():
        if p.is_dir() and p.name.startswith(PART_PREFIX) and not p.name.endswith(TMP_SUFFIX):
            try:
                found.append((int(p.name[len(PART_PREFIX) :]), p))
            except ValueError:
                continue
    found.sort()
    idx = [i for i, _ in found]
    if idx != list(range(len(idx))):
        raise TraceError(
            f"expected consecutive parts 0..{len(idx) - 1} in {str(pdir)!r}, got {idx}; "
            "parts are missing, the trace is corrupt"
        )
    return [p for _, p in found]


def read_part_table(part: str | Path, name: str) -> pa.Table:
    """Table ``name`` of one part folder, as Arrow, checked against the schema.

    Read with ``ParquetFile(..., memory_map=True).read(use_threads=False)``: for the small
    per-part files of a trace this is several times faster than ``pq.read_table`` (no
    dataset discovery, no thread-pool hand-off).

    Raises:
        TraceError: missing or unreadable file, or columns of another schema (one line).
    """
    f = Path(part) / f"{name}.parquet"
    if not f.is_file():
        raise TraceError(
            f"expected {f.name} in {str(Path(part))!r}, found none; the part is incomplete, "
            "the trace is corrupt"
        )
    try:
        t = pq.ParquetFile(f, memory_map=True).read(use_threads=False)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise TraceError(
            f"expected a Parquet file at {str(f)!r}, got an unreadable one "
            f"({' '.join(str(exc).split())[:120]}); the trace is corrupt"
        ) from None
    have = set(t.schema.names)
    missing = [c for c in TABLES[name] if c not in have]
    if missing:
        raise TraceError(
            f"expected columns {missing} in {str(f)!r}, not found; "
            "the trace was written by another schema, re-run the scenario"
        )
    return t


def read_table(root: str | Path, name: str) -> pd.DataFrame:
    """Concatenate table ``name`` over all complete parts of a trace (validated)."""
    root = Path(root)
    if name not in TABLES:
        raise TraceError(f"expected a table in {sorted(TABLES)}, got {name!r}")
    tables = [t for t in (read_part_table(p, name) for p in part_dirs(root)) if t.num_rows]
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES[name]})
    try:
        t = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.concat([x.to_pandas() for x in tables], ignore_index=True)
    return t.to_pandas()


class Trace:
    """A loaded trace: ``manifest`` plus lazily read DataFrames.

    Attributes:
        path: the run folder.
        manifest: the parsed ``manifest.json``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self.parts = part_dirs(self.path)
        for p in self.parts:  # cheap structural check up front
            for name in TABLES:
                if not (p / f"{name}.parquet").is_file():
                    raise TraceError(
                        f"expected {name}.parquet in {str(p)!r}, found none; "
                        "the part is incomplete, the trace is corrupt"
                    )

    @property
    def complete(self) -> bool:
        """True when the run finished (manifest status ``"complete"``)."""
        return self.manifest.get("status") == "complete"

    @cached_property
    def epochs(self) -> pd.DataFrame:
        """One row per epoch."""
        return read_table(self.path, "epochs")

    @cached_property
    def users(self) -> pd.DataFrame:
        """One row per user per epoch."""
        return read_table(self.path, "users")

    @cached_property
    def events(self) -> pd.DataFrame:
        """The ordered event log."""
        return read_table(self.path, "events")

    @cached_property
    def observations(self) -> pd.DataFrame:
        """Policy inputs (``role == "decision"``) and truths (``role == "truth"``)."""
        return read_table(self.path, "observations")

    @cached_property
    def wall(self) -> pd.DataFrame:
        """Wall-clock measurements (not deterministic)."""
        return read_table(self.path, "wall")

    def carry(self) -> dict[str, Any] | None:
        """The carry state saved with the last complete part (None before the first part)."""
        if not self.parts:
            return None
        return json.loads((self.parts[-1] / CARRY_FILE).read_text(encoding="utf-8"))

    def observation_arrays(self, epoch: int, role: str = "decision", ci: int = -1) -> dict:
        """The packed arrays of one recorded observation (exact bytes), for replay.

        Args:
            epoch: epoch index.
            role: ``"decision"`` (what the policy saw) or ``"truth"``.
            ci: coherence-interval index within the epoch (``-1`` for the decision).
        """
        obs = self.observations
        sel = obs[(obs["epoch"] == epoch) & (obs["role"] == role) & (obs["ci"] == ci)]
        if sel.empty:
            raise TraceError(
                f"expected a recorded {role} observation for epoch {epoch}, ci {ci}, "
                f"found none in {str(self.path)!r}; pick an epoch from the trace's epochs table"
            )
        return decode_arrays(sel.iloc[0])


def load(path: str | Path) -> Trace:
    """Open a trace folder (validated). Tables load on first access."""
    return Trace(path)
