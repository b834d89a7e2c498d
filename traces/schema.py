"""Trace schema: folder layout, table names, required columns, schema version.

A trace folder::

    manifest.json                 run metadata (scenario + hash, seed, versions, TLE hash, ...)
    parts/part-000000/            one complete part = epochs [i*N, (i+1)*N)
        epochs.parquet            one row per epoch (KPIs, decision source, fallback cause)
        users.parquet             one row per user per epoch
        events.parquet            ordered event log (passes, handovers, arrivals, fallbacks, ...)
        observations.parquet      policy inputs (role "decision") and truths (role "truth")
        wall.parquet              wall-clock measurements only (excluded from determinism)
        carry.json                the state carried into the next part (for resume)
    parts/part-000001/ ...

Parts are written into ``part-XXXXXX.tmp/`` and renamed atomically, so a part folder without
the ``.tmp`` suffix is complete. Every column holding a wall-clock measurement starts with
``wall_`` and lives in ``wall.parquet``; every other table is a deterministic function of the
scenario and seed (with latency mode "none" or "fixed").
"""

from __future__ import annotations

#: bump on any incompatible change of the layout or of required columns.
SCHEMA_VERSION = 1
#: manifest key identifying the format.
FORMAT_NAME = "leo-emulator-trace"

MANIFEST = "manifest.json"
PARTS_DIR = "parts"
PART_PREFIX = "part-"
TMP_SUFFIX = ".tmp"
CARRY_FILE = "carry.json"

#: table name -> columns every part must contain.
TABLES: dict[str, tuple[str, ...]] = {
    "epochs": (
        "epoch",
        "t_s",
        "num_users",
        "num_scheduled",
        "serving_sat_id",
        "elevation_deg",
        "visible_sat_count",
        "decision_source",
        "fallback_reason",
        "effective_t_s",
        "sum_rate_bps",
        "num_intervals",
    ),
    "users": ("epoch", "user_id", "power_w", "scheduled", "rate_bps", "intervals_present"),
    "events": ("t_s", "epoch", "seq", "kind", "sat_id", "user_id", "detail"),
    "observations": ("epoch", "role", "ci", "t_s", "num_users", "rng_streams", "array_layout"),
    "wall": ("epoch", "wall_decide_s", "wall_epoch_s"),
}
#: tables that must be byte-identical for equal scenario + seed (deterministic latency).
DETERMINISTIC_TABLES = ("epochs", "users", "events", "observations")


def part_name(index: int) -> str:
    """Folder name of part ``index``."""
    return f"{PART_PREFIX}{index:06d}"
