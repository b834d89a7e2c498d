"""Trace format: streaming Parquet writer, validating reader, schema (DESIGN section 6).

``traces`` imports no SimPy and nothing of the engine::

    import traces
    tr = traces.load("runs/paris-starlink-ao-v1-0-20260101T120000Z")
    tr.manifest["scenario_hash"], tr.epochs.sum_rate_bps.mean()
"""

from traces.arrays import decode_arrays, encode_arrays
from traces.errors import TraceError
from traces.reader import Trace, load, read_manifest
from traces.schema import DETERMINISTIC_TABLES, SCHEMA_VERSION, TABLES
from traces.writer import TraceWriter

__all__ = [
    "DETERMINISTIC_TABLES",
    "SCHEMA_VERSION",
    "TABLES",
    "Trace",
    "TraceError",
    "TraceWriter",
    "decode_arrays",
    "encode_arrays",
    "load",
    "read_manifest",
]
