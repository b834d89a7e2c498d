"""User arrivals and departures: Poisson (M/M/inf) or a recorded arrival list.

Every user is one :class:`UserRecord` with a stable id (arrival order), arrival and departure
times and a position in the service area. Draws are counter-based (DESIGN section 5):

* initial population (``initial = "stationary"``): its size from
  ``stream(seed, "arrivals/initial")``; user j's residual holding time and position from
  ``stream(seed, "arrivals/initial", j)``. For an M/M/inf queue the stationary number in
  system is Poisson(rate x mean holding) and, by memorylessness, residual holding times are
  exponential with the same mean;
* n-th new arrival: gap, holding time and position from ``stream(seed, "arrivals", n)``.

So the user list is a pure function of (seed, scenario): a resumed run or another policy on
the same seed regenerates it exactly, cheaply, without running the timeline.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emulator.rng import stream


@dataclass(frozen=True)
class UserRecord:
    """One user's life in the service area (positions in the site's ENU frame, metres)."""

    user_id: int
    arrival_s: float
    departure_s: float
    east_m: float
    north_m: float


def _uniform_position(rng: np.random.Generator, side_m: float) -> tuple[float, float]:
    e, n = rng.uniform(-0.5 * side_m, 0.5 * side_m, size=2)
    return float(e), float(n)


def poisson_users(
    seed: int,
    rate_per_s: float,
    mean_holding_s: float,
    side_m: float,
    initial: str = "stationary",
) -> Iterator[UserRecord]:
    """Users of a Poisson arrival process, in arrival order (an endless generator).

    Args:
        seed: run seed.
        rate_per_s: arrival rate lambda [1/s] (0: only the initial population).
        mean_holding_s: mean of the exponential holding time [s].
        side_m: side of the square service area centred on the site [m].
        initial: ``"stationary"`` or ``"empty"``.

    Yields:
        :class:`UserRecord` with ``arrival_s`` non-decreasing (initial users at 0).
    """
    uid = 0
    if initial == "stationary":
        n0 = int(stream(seed, "arrivals/initial").poisson(rate_per_s * mean_holding_s))
        for j in range(n0):
            rng = stream(seed, "arrivals/initial", j)
            hold = float(rng.exponential(mean_holding_s))
            e, n = _uniform_position(rng, side_m)
            yield UserRecord(uid, 0.0, hold, e, n)
            uid += 1
    if rate_per_s <= 0.0:
        return
    t = 0.0
    i = 0
    while True:
        rng = stream(seed, "arrivals", i)
        t += float(rng.exponential(1.0 / rate_per_s))
        hold = float(rng.exponential(mean_holding_s))
        e, n = _uniform_position(rng, side_m)
        yield UserRecord(uid, t, t + hold, e, n)
        uid += 1
        i += 1


def trace_users(path: str | Path) -> list[UserRecord]:
    """Users from a recorded arrival CSV (columns ``arrival_s, departure_s, east_m, north_m``).

    Rows are sorted by arrival time (stable) and numbered in that order.

    Raises:
        ValueError: naming the file, the row and what was wrong.
    """
    need = ["arrival_s", "departure_s", "east_m", "north_m"]
    rows: list[tuple[float, float, float, float]] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"arrival file {str(path)!r}: expected columns {need}, missing {missing}; "
                "add a header line with those names"
            )
        for lineno, r in enumerate(reader, start=2):
            try:
                vals = tuple(float(r[c]) for c in need)
            except (TypeError, ValueError):
                raise ValueError(
                    f"arrival file {str(path)!r} line {lineno}: expected numbers in {need}, "
                    f"got {[r.get(c) for c in need]}; fix that line"
                ) from None
            if not all(np.isfinite(vals)) or vals[0] < 0 or vals[1] < vals[0]:
                raise ValueError(
                    f"arrival file {str(path)!r} line {lineno}: expected finite times with "
                    f"0 <= arrival_s <= departure_s, got {vals[:2]}; fix that line"
                )
            rows.append(vals)  # type: ignore[arg-type]
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])
    return [UserRecord(n, *rows[i]) for n, i in enumerate(order)]
