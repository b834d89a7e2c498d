"""Streaming trace writer: atomically renamed Parquet parts plus a JSON manifest.

The engine hands the writer one part at a time (a few tables of rows). Each part is written
into a temporary folder, flushed to disk, and renamed in one ``os.rename``: a crash leaves
either a complete part or a ``.tmp`` folder that :meth:`TraceWriter.open_for_resume` deletes.
The manifest is rewritten the same way (temp file + rename) after every part.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from traces.errors import TraceError
from traces.schema import (
    CARRY_FILE,
    MANIFEST,
    PART_PREFIX,
    PARTS_DIR,
    TABLES,
    TMP_SUFFIX,
    part_name,
)


def rows_to_table(rows: Sequence[Mapping[str, Any]], required: Sequence[str] = ()) -> pa.Table:
    """Rows (dicts) -> an Arrow table with columns in first-seen order.

    Missing cells become nulls; a column that is entirely missing but ``required`` becomes a
    null column, so every part carries the required columns even when it has no rows.
    """
    names: dict[str, None] = {c: None for c in required}
    for r in rows:
        for k in r:
            names.setdefault(k, None)
    if not rows:
        return pa.table({c: pa.array([], type=pa.null()) for c in names})
    cols = {c: [r.get(c) for r in rows] for c in names}
    return pa.table({c: pa.array(v) for c, v in cols.items()})


def part_tables(tables: Mapping[str, Any]) -> dict[str, pa.Table]:
    """Every table of a part as Arrow (rows via :func:`rows_to_table`; tables pass through).

    The engine calls this in its own thread before handing a part to the writer thread: the
    conversion is Python work that holds the GIL, and run beside the timeline in a second
    thread it only slows both down (GIL hand-offs). What is left for the writer thread,
    Parquet encoding and fsync, runs in native code without the GIL.
    """
    out = {}
    for name, required in TABLES.items():
        t = tables.get(name, ())
        out[name] = t if isinstance(t, pa.Table) else rows_to_table(t, required)
    return out


def write_json_atomic(path: Path, obj: Any, fsync: bool = True) -> None:
    """Write JSON to ``path`` via a temp file, (fsync) and rename."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, allow_nan=True)
        f.write("\n")
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(tmp, path)


class TraceWriter:
    """Writes one run folder.

    Args:
        root: the run folder (created if missing).
        fsync: fsync every file before the renames that publish it (durability against OS
            crashes and power loss; not needed against a killed process).
    """

    def __init__(self, root: str | Path, fsync: bool = True):
        self.root = Path(root)
        self.fsync = bool(fsync)
        self.fsync_s = 0.0  # wall time spent in fsync (the price of durability)
        self.parts_dir = self.root / PARTS_DIR

    # -- creation / resume --------------------------------------------------------------
    def create(self, manifest: Mapping[str, Any]) -> None:
        """Start a new trace in an empty (or missing) folder."""
        if self.root.exists() and any(self.root.iterdir()):
            raise TraceError(
                f"expected an empty or new output folder, got {str(self.root)!r} which has files; "
                "choose another --out or resume it with --resume"
            )
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        self.write_manifest(manifest)

    def complete_parts(self) -> list[int]:
        """Indices of complete parts, in order."""
        if not self.parts_dir.is_dir():
            return []
        out = []
        for p in self.parts_dir.iterdir():
            if p.is_dir() and p.name.startswith(PART_PREFIX) and not p.name.endswith(TMP_SUFFIX):
                try:
                    out.append(int(p.name[len(PART_PREFIX) :]))
                except ValueError:
                    continue
        return sorted(out)

    def open_for_resume(self) -> list[int]:
        """Delete incomplete parts; return the complete part indices.

        Incomplete means a ``.tmp`` folder, or (after an OS crash without fsync) a renamed
        last part whose files cannot be read back; such a part is removed and redone.

        Raises:
            TraceError: the parts are not numbered 0..n-1 without gaps.
        """
        if self.parts_dir.is_dir():
            for p in self.parts_dir.iterdir():
                if p.name.endswith(TMP_SUFFIX):
                    shutil.rmtree(p, ignore_errors=True)
        parts = self.complete_parts()
        if parts != list(range(len(parts))):
            raise TraceError(
                f"expected parts 0..{len(parts) - 1} in {str(self.parts_dir)!r}, got {parts}; "
                "the trace is corrupt, start a new run"
            )
        if parts and not _part_readable(self.parts_dir / part_name(parts[-1])):
            shutil.rmtree(self.parts_dir / part_name(parts[-1]))
            parts = parts[:-1]
        return parts

    # -- writing ------------------------------------------------------------------------
    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Atomically (re)write ``manifest.json``."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.root / MANIFEST, dict(manifest), self.fsync)

    def write_part(
        self,
        index: int,
        tables: Mapping[str, Sequence[Mapping[str, Any]] | pa.Table],
        carry: Mapping[str, Any],
    ) -> Path:
        """Write part ``index`` (all tables + carry) and rename it into place atomically.

        Args:
            index: part number (0-based, consecutive).
            tables: table name -> rows, or an Arrow table from :func:`part_tables`; every
                name in :data:`traces.schema.TABLES` is written.
            carry: JSON-serialisable state needed to resume after this part.

        Returns:
            The final part folder.
        """
        final = self.parts_dir / part_name(index)
        if final.exists():
            raise TraceError(
                f"expected part {index} not to exist yet, got {str(final)!r}; "
                "the trace is corrupt, start a new run"
            )
        tmp = final.with_name(final.name + TMP_SUFFIX)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        for name, table in part_tables(tables).items():
            path = tmp / f"{name}.parquet"
            pq.write_table(table, path, compression="snappy")
            if self.fsync:
                t0 = time.perf_counter()
                _fsync(path)
                self.fsync_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        write_json_atomic(tmp / CARRY_FILE, dict(carry), self.fsync)
        self.fsync_s += (time.perf_counter() - t0) if self.fsync else 0.0
        # files are fsynced before the rename, so after a crash (even a power loss) a part
        # folder without the .tmp suffix holds complete files
        os.rename(tmp, final)
        return final


def _part_readable(part: Path) -> bool:
    """All tables' Parquet footers and the carry JSON of a part can be read."""
    try:
        for name in TABLES:
            pq.read_metadata(part / f"{name}.parquet")
        json.loads((part / CARRY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, pa.ArrowException):
        return False
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
