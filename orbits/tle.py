"""Two- and three-line element sets: strict parsing, validation and the ``Constellation`` type.

:func:`load_tle` reads 2-line and 3-line (name line first, optionally prefixed ``0 ``) sets, mixed
freely, and checks every set before SGP4 sees it:

* line pairing (a line 1 followed by its line 2; a line 2 with no line 1 before it is an error),
* line length (69 columns) and the modulo-10 checksum in column 69,
* the catalogue number agreeing between lines 1 and 2,
* the fixed-column field formats (epoch, drag terms, angles, eccentricity, mean motion),
* a physically possible orbit at the TLE's own epoch: SGP4 initialises and propagates at the epoch
  without an error code, and the orbit is not already decayed (perigee inside the Earth, or an
  epoch altitude below 100 km). Satellites that decay later, inside a scenario window, are the
  business of :func:`orbits.hygiene.hygiene`, which drops and counts them instead of failing.

Any failure raises :class:`TLEError` naming the file, the line number, what was expected, what was
found and how to fix it.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sgp4.api import WGS72, Satrec

#: Name of the shipped Starlink snapshot (package data).
DEFAULT_TLE_NAME = "starlink-2023-07-18.tle"

_WGS72_RADIUS_KM = 6378.135
_MIN_EPOCH_ALTITUDE_KM = 100.0


class TLEError(ValueError):
    """Malformed or physically impossible TLE input (one line: where, expected, got, fix).

    Attributes:
        source: file name (or ``<text>``).
        line_number: 1-based line number of the offending line (0 when not line-specific).
    """

    def __init__(self, source: str, line_number: int, expected: str, got: str, fix: str):
        self.source = source
        self.line_number = line_number
        where = f"{source}:{line_number}" if line_number else source
        super().__init__(f"{where}: expected {expected}, got {got}; fix: {fix}")


# fixed-column field formats (0-based slices) -----------------------------------------------
_CATNUM = r"[0-9A-HJ-NP-Z][0-9]{4}|\s{0,4}[0-9]{1,5}"
_IMPLIED = r"[ +-][0-9 ]{5}[+-][0-9]"
_LINE1_FIELDS = [
    ((2, 7), _CATNUM, "catalogue number (5 digits or Alpha-5)"),
    ((7, 8), r"[UCS ]", "classification U, C or S"),
    ((18, 20), r"[0-9]{2}", "two-digit epoch year"),
    ((20, 32), r"[0-9 ]{3}\.[0-9]{8}", "epoch day of year DDD.DDDDDDDD"),
    ((33, 43), r"[ +-]\.[0-9]{8}|[ +-]0\.[0-9]{7}", "first derivative of mean motion ±.NNNNNNNN"),
    ((44, 52), _IMPLIED, "second derivative of mean motion in implied-decimal form ±NNNNN±N"),
    ((53, 61), _IMPLIED, "B* drag term in implied-decimal form ±NNNNN±N"),
    ((62, 63), r"[0-9 ]", "ephemeris type digit"),
    ((64, 68), r"[ 0-9]{3}[0-9]", "element set number"),
]
_LINE2_FIELDS = [
    ((2, 7), _CATNUM, "catalogue number (5 digits or Alpha-5)"),
    ((8, 16), r"[ 0-9]{3}\.[0-9 ]{4}", "inclination [deg] NNN.NNNN"),
    ((17, 25), r"[ 0-9]{3}\.[0-9 ]{4}", "right ascension of the node [deg] NNN.NNNN"),
    ((26, 33), r"[0-9]{7}", "eccentricity with implied leading decimal point (7 digits)"),
    ((34, 42), r"[ 0-9]{3}\.[0-9 ]{4}", "argument of perigee [deg] NNN.NNNN"),
    ((43, 51), r"[ 0-9]{3}\.[0-9 ]{4}", "mean anomaly [deg] NNN.NNNN"),
    ((52, 63), r"[ 0-9]{2}\.[0-9 ]{8}", "mean motion [rev/day] NN.NNNNNNNN"),
    ((63, 68), r"[ 0-9]{5}", "revolution number at epoch"),
]
_LINE1_FIELDS = [(s, re.compile(p), d) for s, p, d in _LINE1_FIELDS]
_LINE2_FIELDS = [(s, re.compile(p), d) for s, p, d in _LINE2_FIELDS]


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns (digits count their value, '-' counts 1)."""
    total = 0
    for ch in line[:68]:
        if ch.isdigit():
            total += int(ch)
        elif ch == "-":
            total += 1
    return total % 10


def _catnum(field: str) -> int:
    field = field.strip()
    if field[:1].isalpha():  # Alpha-5: A0000 = 100000, letters skip I and O
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return (letters.index(field[0]) + 10) * 10_000 + int(field[1:])
    return int(field)


@dataclass(frozen=True)
class _Raw:
    name: str
    line1: str
    line2: str
    line_number: int  # of line 1


def _check_line(source: str, number: int, line: str, kind: str) -> None:
    if len(line) != 69:
        raise TLEError(
            source,
            number,
            f"a 69-column TLE line {kind}",
            f"{len(line)} columns ({line!r})",
            "restore the truncated/padded line from the original element set",
        )
    if not line[68].isdigit():
        raise TLEError(
            source,
            number,
            "a checksum digit in column 69",
            repr(line[68]),
            "restore the line from the original element set",
        )
    want = tle_checksum(line)
    if int(line[68]) != want:
        raise TLEError(
            source,
            number,
            f"checksum {want} (modulo-10 sum of columns 1-68)",
            f"checksum {line[68]}",
            "the line was altered or corrupted; re-download or re-export the element set",
        )
    fields = _LINE1_FIELDS if kind == "line 1" else _LINE2_FIELDS
    for (a, b), pattern, desc in fields:
        text = line[a:b]
        if not pattern.fullmatch(text):
            raise TLEError(
                source,
                number,
                f"{desc} in columns {a + 1}-{b} of {kind}",
                repr(text),
                "correct the field (TLE fields are fixed-column)",
            )


def _split_sets(text: str, source: str) -> list[_Raw]:
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise TLEError(
            source,
            0,
            "at least one 2-line or 3-line element set",
            "an empty input",
            "point to a TLE file (e.g. from CelesTrak) or use default_constellation()",
        )
    out: list[_Raw] = []
    pending_name = ""
    i = 0
    n = len(lines)
    while i < n:
        raw = lines[i].rstrip("\r\n")
        stripped = raw.rstrip()
        number = i + 1
        if not stripped:
            i += 1
            continue
        if stripped.startswith("1 ") or (stripped.startswith("1") and len(stripped) > 60):
            line1 = stripped
            j = i + 1
            if j >= n or not lines[j].strip():
                raise TLEError(
                    source,
                    number,
                    "line 2 of the element set right after line 1",
                    "end of input" if j >= n else "a blank line",
                    "add the missing line 2 (or remove the orphan line 1)",
                )
            nxt = lines[j].rstrip("\r\n")
            if not nxt.startswith("2"):
                raise TLEError(
                    source,
                    j + 1,
                    "line 2 (starting '2 ') right after line 1",
                    repr(nxt[:20] + ("..." if len(nxt) > 20 else "")),
                    "keep each element set in order: [name], line 1, line 2",
                )
            line2 = nxt.rstrip()
            _check_line(source, number, line1, "line 1")
            _check_line(source, j + 1, line2, "line 2")
            c1, c2 = _catnum(line1[2:7]), _catnum(line2[2:7])
            if c1 != c2:
                raise TLEError(
                    source,
                    j + 1,
                    f"catalogue number {c1} (from line 1) in columns 3-7 of line 2",
                    str(c2),
                    "lines 1 and 2 come from different element sets; re-pair them",
                )
            out.append(_Raw(pending_name or f"SAT-{c1}", line1, line2, number))
            pending_name = ""
            i = j + 1
            continue
        if stripped.startswith("2 ") or (stripped.startswith("2") and len(stripped) > 60):
            raise TLEError(
                source,
                number,
                "line 1 (starting '1 ') before line 2",
                "line 2 first",
                "put line 1 before line 2 (lines are swapped or line 1 is missing)",
            )
        # a name line (3-line format); "0 NAME" is the CelesTrak 3LE convention
        if pending_name:
            raise TLEError(
                source,
                number,
                "line 1 of an element set after the name line " + repr(pending_name),
                repr(stripped[:30]),
                "every name line must be followed by line 1 and line 2",
            )
        name = stripped[2:].strip() if stripped.startswith("0 ") else stripped.strip()
        pending_name = name
        i += 1
    if pending_name:
        raise TLEError(
            source,
            n,
            "line 1 and line 2 after the name line " + repr(pending_name),
            "end of input",
            "complete the last element set or remove the dangling name",
        )
    return out


def _build_satrec(raw: _Raw, source: str) -> Satrec:
    try:
        sat = Satrec.twoline2rv(raw.line1, raw.line2, WGS72)
    except (ValueError, IndexError) as exc:
        raise TLEError(
            source,
            raw.line_number,
            "an element set SGP4 can parse",
            f"{exc.__class__.__name__}: {exc}",
            "check the fields of this set",
        ) from exc
    ecc = sat.ecco
    incl_deg = math.degrees(sat.inclo)
    if not (0.0 <= incl_deg <= 180.0):
        raise TLEError(
            source,
            raw.line_number + 1,
            "inclination in [0, 180] deg",
            f"{incl_deg:.4f}",
            "correct the inclination field",
        )
    if sat.no_kozai <= 0.0:
        raise TLEError(
            source,
            raw.line_number + 1,
            "a positive mean motion",
            f"{sat.no_kozai * 1440 / (2 * math.pi):.8f} rev/day",
            "correct the mean motion field",
        )
    # decayed / sub-orbital at its own epoch (python-sgp4 #137: garbage with error 0)
    err, r, _v = sat.sgp4_tsince(0.0)
    a_km = sat.a * _WGS72_RADIUS_KM if sat.a > 0 else float("nan")
    perigee_km = a_km * (1.0 - ecc) - _WGS72_RADIUS_KM
    radius_km = math.sqrt(sum(x * x for x in r)) if all(map(math.isfinite, r)) else float("nan")
    epoch_alt_km = radius_km - _WGS72_RADIUS_KM
    if (
        sat.error != 0
        or err != 0
        or not math.isfinite(perigee_km)
        or perigee_km < 0.0
        or not math.isfinite(epoch_alt_km)
        or epoch_alt_km < _MIN_EPOCH_ALTITUDE_KM
    ):
        raise TLEError(
            source,
            raw.line_number,
            f"an orbiting satellite at the TLE epoch (perigee above the surface, altitude "
            f">= {_MIN_EPOCH_ALTITUDE_KM:.0f} km, no SGP4 error)",
            f"a decayed orbit (sgp4 error {err or sat.error}, perigee {perigee_km:.0f} km, "
            f"epoch altitude {epoch_alt_km:.0f} km) for catalogue number {sat.satnum}",
            "remove this satellite from the file (it has re-entered)",
        )
    return sat


class Constellation:
    """A set of satellites propagated with SGP4 (from TLEs or synthetic Walker shells).

    Attributes:
        sat_ids: catalogue numbers. Shapes: [S] int64.
        names: satellite names. Shapes: [S] object (str).
        satrecs: ``sgp4.api.Satrec`` objects, same order.
        epochs_utc: TLE epochs. Shapes: [S] datetime64[ns, UTC] (pandas DatetimeIndex).
        line1, line2: the element-set lines, same order.
        source: where the sets came from (file name or description).
    """

    def __init__(
        self,
        names: Sequence[str],
        line1: Sequence[str],
        line2: Sequence[str],
        satrecs: Sequence[Satrec],
        source: str = "<text>",
    ):
        import pandas as pd

        self.names = np.asarray(list(names), dtype=object)
        self.line1 = list(line1)
        self.line2 = list(line2)
        self.satrecs = list(satrecs)
        self.source = source
        self.sat_ids = np.asarray([s.satnum for s in self.satrecs], dtype=np.int64)
        jd = np.asarray([s.jdsatepoch + s.jdsatepochF for s in self.satrecs], dtype=float)
        posix_s = (jd - 2_440_587.5) * 86_400.0
        self.epochs_utc = pd.DatetimeIndex(
            pd.to_datetime(np.round(posix_s * 1e6).astype(np.int64), unit="us", utc=True)
        )
        unique, counts = np.unique(self.sat_ids, return_counts=True)
        if np.any(counts > 1):
            dup = unique[counts > 1][:5].tolist()
            raise TLEError(
                source,
                0,
                "each catalogue number once",
                f"duplicates {dup}",
                "keep one element set per satellite (the newest)",
            )
        self._index = {int(k): i for i, k in enumerate(self.sat_ids)}
        self._hash: str | None = None

    def __len__(self) -> int:
        return len(self.satrecs)

    def __repr__(self) -> str:
        return f"Constellation({len(self)} satellites from {self.source})"

    def index_of(self, sat_id: int) -> int:
        """Row index of a catalogue number; ``KeyError`` naming it if absent."""
        try:
            return self._index[int(sat_id)]
        except KeyError:
            raise KeyError(
                f"expected a catalogue number of this constellation, got {sat_id}"
            ) from None

    def canonical_text(self) -> str:
        """Canonical 3-line text (names stripped, lines in catalogue-number order)."""
        order = np.argsort(self.sat_ids, kind="stable")
        parts = [f"{self.names[i].strip()}\n{self.line1[i]}\n{self.line2[i]}\n" for i in order]
        return "".join(parts)

    def tle_hash(self) -> str:
        """SHA-256 of :meth:`canonical_text` (hex): identifies the TLE set in caches and traces."""
        if self._hash is None:
            self._hash = hashlib.sha256(self.canonical_text().encode()).hexdigest()
        return self._hash

    def subset(self, ids: Iterable[int]) -> Constellation:
        """The satellites with these catalogue numbers, in the order given."""
        idx = [self.index_of(i) for i in ids]
        return self._take(idx)

    def _take(self, idx: Sequence[int]) -> Constellation:
        return Constellation(
            [self.names[i] for i in idx],
            [self.line1[i] for i in idx],
            [self.line2[i] for i in idx],
            [self.satrecs[i] for i in idx],
            source=self.source,
        )

    def mean_motion_rad_s(self) -> np.ndarray:
        """Kozai mean motion of each satellite [rad/s]. Shapes: [S] float64."""
        return np.asarray([s.no_kozai for s in self.satrecs], dtype=float) / 60.0


def load_tle(path_or_text, *, source: str | None = None) -> Constellation:
    """Load a TLE file (or TLE text) with full validation.

    Args:
        path_or_text: a path (``str`` / ``os.PathLike``) to a TLE file, or the TLE text itself
            (anything containing a newline is treated as text).
        source: name used in error messages (default: the file name or ``<text>``).

    Returns:
        The :class:`Constellation`, in file order.

    Raises:
        TLEError: malformed input or a satellite already decayed at its own epoch.
        FileNotFoundError: the path does not exist.
    """
    if isinstance(path_or_text, os.PathLike) or (
        isinstance(path_or_text, str) and path_or_text.strip() and "\n" not in path_or_text
    ):
        path = os.fspath(path_or_text)
        with open(path, encoding="ascii", errors="replace") as fh:
            text = fh.read()
        src = source or os.path.basename(path)
    elif isinstance(path_or_text, str):
        text = path_or_text
        src = source or "<text>"
    else:
        raise TypeError(f"expected a path or TLE text, got {type(path_or_text).__name__}")
    raws = _split_sets(text, src)
    sats = [_build_satrec(r, src) for r in raws]
    return Constellation(
        [r.name for r in raws], [r.line1 for r in raws], [r.line2 for r in raws], sats, src
    )


def default_tle_path():
    """Path of the shipped Starlink snapshot (package data)."""
    return resources.files("orbits").joinpath("data", DEFAULT_TLE_NAME)


_DEFAULT: Constellation | None = None


def default_constellation() -> Constellation:
    """The shipped Starlink snapshot of 2023-07-18 (4428 satellites); loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        with resources.as_file(default_tle_path()) as p:
            _DEFAULT = load_tle(p, source=DEFAULT_TLE_NAME)
    return _DEFAULT
