"""The exogenous world of a run: satellites over the site, the service area, active users.

This module is the engine's only door to :mod:`orbits`. It computes, once per run:

* the constellation (TLE file, shipped snapshot, or Walker shells) after TLE hygiene;
* the exact pass plan and serving plan of the site (root-found AOS / TCA / LOS and handovers);

and, on demand, the serving satellite's geometry in the site's ENU frame at the instants the
timeline needs (epoch starts and sampled coherence intervals). Geometry is computed per
satellite for a block of such instants at a time (one vectorised ``orbits.site_track`` call)
and older blocks are dropped, so memory stays bounded however long the run.

The service area is a square of side ``area_side_m`` centred on the site; the ground access
points are placed uniformly in it from ``stream(seed, "world/ap_positions")``. Positions are
*ground* positions (z = 0): a system adds its antenna heights. ``num_aps`` and ``area_side_m``
are read from the system's parameters when it has them.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from emulator.rng import stream
from emulator.systems.base import WorldState


@dataclass(frozen=True)
class ServiceArea:
    """Square service area centred on the site, and its access points.

    Attributes:
        side_m: side of the square [m].
        ap_enu_m: access-point ground positions. Shapes: [M, 3] float64 (z = 0).
    """

    side_m: float
    ap_enu_m: np.ndarray


def service_area(params, seed: int) -> ServiceArea:
    """The service area for a system's parameters (APs drawn from a named stream)."""
    side_m = float(getattr(params, "area_side_m", 4000.0))
    num_aps = int(getattr(params, "num_aps", 0))
    rng = stream(seed, "world/ap_positions")
    xy = rng.uniform(-0.5 * side_m, 0.5 * side_m, size=(num_aps, 2))
    ap = np.column_stack([xy, np.zeros(num_aps)]) if num_aps else np.zeros((0, 3))
    return ServiceArea(side_m=side_m, ap_enu_m=ap)


@dataclass(frozen=True)
class WorldEvent:
    """A pass-plan or serving-plan event at ``t_s`` (seconds since the scenario start)."""

    t_s: float
    kind: str  # "aos" | "tca" | "los" | "handover"
    sat_id: int
    detail: str
    serving_sat_id: int | None = None  # set on "handover": the new serving satellite (-1: none)


@dataclass(frozen=True)
class SatGeometry:
    """Serving-satellite geometry at one instant (site ENU frame)."""

    sat_id: int
    enu_m: np.ndarray  # [3]
    velocity_enu_m_s: np.ndarray  # [3]
    nadir_enu: np.ndarray  # [3]
    elevation_deg: float
    slant_range_m: float


NO_SATELLITE = SatGeometry(
    sat_id=-1,
    enu_m=np.full(3, np.nan),
    velocity_enu_m_s=np.full(3, np.nan),
    nadir_enu=np.full(3, np.nan),
    elevation_deg=math.nan,
    slant_range_m=math.nan,
)


def _sec(utc: _dt.datetime, start: _dt.datetime) -> float:
    return (utc - start).total_seconds()


class OrbitWorld:
    """Satellites over one site for the whole run (pass plan, serving plan, geometry).

    Args:
        scenario: the :class:`emulator.config.Scenario`.
        block_times_fn: ``t_s -> sorted array of instants`` of the block containing ``t_s``
            (the engine's timeline grid); geometry is computed for a whole block per satellite.
    """

    def __init__(self, scenario, block_times_fn):
        import orbits

        self._orbits = orbits
        self.scenario = scenario
        self.start_utc = scenario.start_utc
        self.duration_s = float(scenario.duration_s)
        sc = scenario
        self.site = orbits.Site(
            name=sc.site.name,
            lat_deg=sc.site.lat_deg,
            lon_deg=sc.site.lon_deg,
            height_m=sc.site.alt_m,
        )
        self.constellation = self._constellation(sc)
        self.hygiene = self._hygiene(sc)
        self.passes = orbits.pass_plan(
            self.constellation,
            self.site,
            self.start_utc,
            self.duration_s,
            sc.site.min_elevation_deg,
        )
        self.serving = orbits.serving_plan(
            self.passes,
            self.start_utc,
            self.duration_s,
            sc.constellation.handover_rule,
            constellation=self.constellation,
            site=self.site,
        )
        self._block_times_fn = block_times_fn
        self._cache: dict[tuple[int, float], dict[float, SatGeometry]] = {}
        self._visible: tuple[np.ndarray, dict[float, int]] | None = None

    # -- set-up --------------------------------------------------------------------------
    def _constellation(self, sc):
        o = self._orbits
        c = sc.constellation
        if c.source == "walker":
            shells = [
                {
                    "total": sh.total,
                    "planes": sh.planes,
                    "phasing": sh.phasing,
                    "altitude_m": sh.altitude_m,
                    "inclination_deg": sh.inclination_deg,
                    "epoch_utc": self.start_utc,
                }
                for sh in c.shells
            ]
            return o.multi_shell(shells)
        if c.tle_file:
            return o.load_tle(c.tle_file)
        return o.default_constellation()

    def _hygiene(self, sc):
        fn = self._orbits.hygiene
        if not callable(fn):  # the submodule, when the package exports it under the same name
            fn = fn.hygiene
        kept, report = fn(
            self.constellation,
            self.start_utc,
            self.duration_s,
            max_epoch_age_days=sc.constellation.max_tle_age_days,
            warn=False,
        )
        self.constellation = kept
        return report

    def hygiene_summary(self) -> dict:
        """TLE hygiene counts (loaded / stale / dropped / kept + one line), for the manifest."""
        rep = self.hygiene
        out: dict = {}
        for k in ("loaded", "stale", "dropped", "kept"):
            v = getattr(rep, k, None)
            if isinstance(v, (int, np.integer)):
                out[k] = int(v)
        if callable(getattr(rep, "summary", None)):
            out["summary"] = str(rep.summary())
        return out

    def tle_set_hash(self) -> str:
        """Digest of the constellation's element sets (what the manifest records)."""
        h = getattr(self.constellation, "tle_hash", None)
        return str(h()) if callable(h) else ""

    # -- events ----------------------------------------------------------------------------
    def events(self) -> Iterator[WorldEvent]:
        """AOS / TCA / LOS of every pass and every serving change, in time order (lazily).

        Passes already in progress at the start have no AOS event, passes still running at
        the end no LOS event; TCAs outside the window are left out. Ties are ordered LOS,
        handover, AOS, TCA, then by catalogue number. The order is computed with one numpy
        sort and the events are built as they are consumed, so a week-long plan costs a few
        arrays, not a list of objects.
        """
        end = self.duration_s
        p = self.passes
        sid = p["sat_id"].to_numpy(np.int64)
        aos = p["aos_s"].to_numpy(float)
        tca = p["tca_s"].to_numpy(float)
        los = p["los_s"].to_numpy(float)
        aos_ok = ~p["aos_in_progress"].to_numpy(bool) & (aos >= 0.0) & (aos <= end)
        tca_ok = (tca >= 0.0) & (tca <= end)
        los_ok = ~p["los_after_end"].to_numpy(bool) & (los >= 0.0) & (los <= end)
        rows = np.arange(len(p))
        n_ho = len(self.serving)
        to_ids = [int(v) if _finite_id(v) else -1 for v in self.serving["to_sat_id"]]
        # columns: time, tie rank, sat id, kind code (0 los, 1 handover, 2 aos, 3 tca), row
        t = np.concatenate(
            [los[los_ok], self.serving["t_s"].to_numpy(float), aos[aos_ok], tca[tca_ok]]
        )
        kind = np.concatenate(
            [
                np.zeros(los_ok.sum(), int),
                np.ones(n_ho, int),
                np.full(aos_ok.sum(), 2),
                np.full(tca_ok.sum(), 3),
            ]
        )
        sat = np.concatenate([sid[los_ok], np.asarray(to_ids, np.int64), sid[aos_ok], sid[tca_ok]])
        row = np.concatenate([rows[los_ok], np.arange(n_ho), rows[aos_ok], rows[tca_ok]])
        order = np.lexsort((sat, kind, t))
        names = p["name"].to_numpy(object)
        max_el = p["max_elevation_deg"].to_numpy(float)
        serving = self.serving
        for i in order:
            k, r = int(kind[i]), int(row[i])
            if k == 1:
                h = serving.iloc[r]
                to_id = to_ids[r]
                from_id = int(h["from_sat_id"]) if _finite_id(h["from_sat_id"]) else -1
                yield WorldEvent(
                    float(t[i]),
                    "handover",
                    to_id,
                    f"from_sat_id={from_id};reason={h['reason']}",
                    serving_sat_id=to_id,
                )
            elif k == 3:
                yield WorldEvent(
                    float(t[i]), "tca", int(sat[i]), f"max_elevation_deg={max_el[r]:.6f}"
                )
            else:
                yield WorldEvent(
                    float(t[i]), "los" if k == 0 else "aos", int(sat[i]), f"name={names[r]}"
                )

    def visible_count(self, t_s: float) -> int:
        """Satellites above the minimum elevation at ``t_s`` (computed per block of instants)."""
        times = self._block_times_fn(t_s)
        if self._visible is None or self._visible[0] is not times:
            counts = np.asarray(self._orbits.visible_count(self.passes, times)).reshape(-1)
            self._visible = (times, dict(zip(times.tolist(), counts.tolist(), strict=True)))
        v = self._visible[1].get(float(t_s))
        if v is None:
            v = self._orbits.visible_count(self.passes, t_s)
        return int(v)

    # -- geometry --------------------------------------------------------------------------
    def geometry(self, sat_id: int, t_s: float) -> SatGeometry:
        """Geometry of satellite ``sat_id`` at ``t_s`` (cached per block of instants)."""
        if sat_id < 0:
            return NO_SATELLITE
        times = self._block_times_fn(t_s)
        key = (int(sat_id), float(times[0]))
        block = self._cache.get(key)
        if block is None:
            # drop blocks that end before this one starts: time only moves forward
            self._cache = {k: v for k, v in self._cache.items() if k[1] >= times[0]}
            tr = self._orbits.site_track(
                self.constellation, int(sat_id), self.site, self.start_utc, np.asarray(times)
            )
            enu = np.asarray(tr["enu_m"], dtype=float)
            vel = np.asarray(tr["velocity_enu_m_s"], dtype=float)
            nad = np.asarray(tr["nadir_enu"], dtype=float)
            el = np.asarray(tr["elevation_deg"], dtype=float)
            rng_m = np.asarray(tr["slant_range_m"], dtype=float)
            block = {
                float(t): SatGeometry(
                    int(sat_id), enu[i], vel[i], nad[i], float(el[i]), float(rng_m[i])
                )
                for i, t in enumerate(times)
            }
            self._cache[key] = block
        g = block.get(float(t_s))
        if g is None:  # an instant off the grid: compute it alone
            tr = self._orbits.site_track(
                self.constellation, int(sat_id), self.site, self.start_utc, np.asarray([t_s])
            )
            g = SatGeometry(
                int(sat_id),
                np.asarray(tr["enu_m"], dtype=float)[0],
                np.asarray(tr["velocity_enu_m_s"], dtype=float)[0],
                np.asarray(tr["nadir_enu"], dtype=float)[0],
                float(np.asarray(tr["elevation_deg"])[0]),
                float(np.asarray(tr["slant_range_m"])[0]),
            )
        return g


def _finite_id(v) -> bool:
    try:
        return v is not None and not (isinstance(v, float) and math.isnan(v)) and int(v) >= 0
    except (TypeError, ValueError):
        return False


def world_state(
    t_s: float,
    geom: SatGeometry,
    area: ServiceArea,
    user_ids: np.ndarray,
    user_en_m: np.ndarray,
    visible_sat_count: int,
) -> WorldState:
    """Assemble the :class:`WorldState` a system observes.

    Args:
        t_s: instant [s].
        geom: serving-satellite geometry (``NO_SATELLITE`` if none).
        area: the service area.
        user_ids: active users, ascending. Shapes: [K] int64.
        user_en_m: their east/north positions. Shapes: [K, 2] float64.
        visible_sat_count: satellites above the minimum elevation.
    """
    k = len(user_ids)
    ue = np.column_stack([user_en_m.reshape(k, 2), np.zeros(k)])
    return WorldState(
        t_s=float(t_s),
        serving_sat_id=int(geom.sat_id),
        sat_enu_m=geom.enu_m,
        sat_velocity_enu_m_s=geom.velocity_enu_m_s,
        sat_nadir_enu=geom.nadir_enu,
        elevation_deg=geom.elevation_deg,
        slant_range_m=geom.slant_range_m,
        ap_enu_m=area.ap_enu_m,
        user_enu_m=ue,
        user_ids=np.asarray(user_ids, dtype=np.int64),
        visible_sat_count=int(visible_sat_count),
    )


__all__ = [
    "NO_SATELLITE",
    "OrbitWorld",
    "SatGeometry",
    "ServiceArea",
    "WorldEvent",
    "service_area",
    "world_state",
]
