"""Serving plan: which satellite serves a site at each moment, as timed handover events.

A satellite is *visible* during ``[aos_s, los_s)`` of one of its passes (clipped to the window).
Rules (``rule=``):

* ``"highest_elevation"``: always the visible satellite with the highest elevation. The argmax is
  taken on a grid made of every AOS/LOS instant plus a regular ``crossing_step_s`` grid; where it
  changes between grid points without a rise or set, the upper envelope inside the step is
  followed exactly (earliest ``brentq`` crossing of the elevation differences, repeated until
  the best satellite at the step's end is reached). Only a pair that crosses twice within one
  step (a few seconds of near-identical elevations) can go unseen.
* ``"longest_remaining"``: when a serving satellite is needed (window start, LOS of the serving
  satellite, end of an outage) take the visible satellite whose pass ends last; keep it until its
  LOS (maximum-service-time handover).
* ``"sticky"``: keep the serving satellite until it drops below the minimum elevation, then take
  the visible satellite with the highest elevation at that instant.

Events (one row each): ``t_s`` (seconds since start), ``utc``, ``from_sat_id``, ``to_sat_id``
(-1 = none), ``reason``: ``start`` (first serving satellite), ``los`` (serving satellite set),
``higher_elevation`` (overtaken), ``outage`` (nobody visible), ``aos`` (coverage resumes).
The first row is always at ``t_s = 0`` (``start`` or ``outage``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from orbits.passes import SatSiteEvaluator
from orbits.site import Site
from orbits.timebase import TimeBase, parse_utc
from orbits.tle import Constellation

RULES = ("highest_elevation", "longest_remaining", "sticky")
EVENT_COLUMNS = ["t_s", "utc", "from_sat_id", "to_sat_id", "reason"]


def visible_count(passes: pd.DataFrame, t_s) -> np.ndarray:
    """Number of satellites visible (``aos_s <= t < los_s``) at each time.

    Args:
        passes: a pass plan (one site).
        t_s: seconds since the plan's start. Shapes: [T] float64 (or scalar).

    Returns:
        Shapes: [T] int64 (0-d for a scalar input).
    """
    t = np.asarray(t_s, dtype=float)
    aos = np.sort(np.nan_to_num(passes["aos_s"].to_numpy(dtype=float), nan=-np.inf))
    los = np.sort(np.nan_to_num(passes["los_s"].to_numpy(dtype=float), nan=np.inf))
    count = np.searchsorted(aos, t, side="right") - np.searchsorted(los, t, side="right")
    return count.astype(np.int64)


def _select_site(passes: pd.DataFrame, site: Site | None) -> tuple[pd.DataFrame, Site | None]:
    names = passes["site"].unique() if "site" in passes.columns else []
    if site is None:
        stored = passes.attrs.get("sites") or []
        if len(stored) == 1:
            site = Site(*stored[0])
        elif len(names) > 1 or len(stored) > 1:
            raise ValueError(
                f"passes: expected one site, got {len(max(names, stored, key=len))}; "
                "fix: pass site= to choose one"
            )
    if site is not None and len(names):
        passes = passes[passes["site"] == site.name]
    return passes, site


def _resolve_constellation(passes, constellation):
    if constellation is not None:
        return constellation
    from orbits.tle import default_constellation

    default = default_constellation()
    if passes.attrs.get("tle_hash") == default.tle_hash():
        return default
    return None


def serving_plan(
    passes: pd.DataFrame,
    start_utc,
    duration_s: float,
    rule: str = "highest_elevation",
    constellation: Constellation | None = None,
    site: Site | None = None,
    *,
    crossing_step_s: float = 10.0,
    cache: bool = False,
    cache_dir=None,
) -> pd.DataFrame:
    """Handover events of one site under a handover rule.

    Args:
        passes: the pass plan (:func:`orbits.passes.pass_plan`) of this site.
        start_utc: window start (the plan's ``t_s`` origin).
        duration_s: window length [s].
        rule: ``"highest_elevation"``, ``"longest_remaining"`` or ``"sticky"``.
        constellation: the satellites of the plan; needed for elevations by the
            ``highest_elevation`` and ``sticky`` rules (default: the shipped snapshot when the
            plan was made from it).
        site: the site (default: the plan's only site, from ``passes.attrs``).
        crossing_step_s: regular grid step for elevation crossings [s] (``highest_elevation``).
        cache: load/store the events in the on-disk cache.
        cache_dir: cache directory override.

    Returns:
        DataFrame with columns ``t_s, utc, from_sat_id, to_sat_id, reason`` sorted by time.
    """
    if rule not in RULES:
        raise ValueError(f"rule: expected one of {', '.join(RULES)}, got {rule!r}")
    start = parse_utc(start_utc)
    duration_s = float(duration_s)
    if not duration_s > 0:
        raise ValueError(f"duration_s: expected a positive number of seconds, got {duration_s}")
    passes, site = _select_site(passes, site)
    constellation = _resolve_constellation(passes, constellation)
    needs_el = rule in ("highest_elevation", "sticky")
    if needs_el and (constellation is None or site is None):
        raise ValueError(
            f"rule {rule!r} needs the constellation and site of the pass plan (for elevations "
            "between events); fix: pass constellation= and site=, or use rule='longest_remaining'"
        )
    key = None
    if cache:
        from orbits import cache as _cache

        key = _cache.make_key(
            "serving",
            tle_hash=passes.attrs.get("tle_hash")
            or (constellation.tle_hash() if constellation is not None else None),
            sites=[site] if site is not None else [],
            start_utc=start,
            duration_s=duration_s,
            min_elevation_deg=passes.attrs.get("min_elevation_deg"),
            rule=rule,
            extra={
                "crossing_step_s": crossing_step_s,
                "passes_sha": _passes_digest(passes),
            },
        )
        hit = _cache.load_table(key, cache_dir)
        if hit is not None:
            return hit
    tb = TimeBase(start, 0.0, duration_s)
    planner = _Planner(passes, duration_s, constellation, site, tb)
    if rule == "highest_elevation":
        events = planner.highest_elevation(crossing_step_s)
    else:
        events = planner.at_los(rule)
    df = pd.DataFrame(events, columns=["t_s", "from_sat_id", "to_sat_id", "reason"])
    df["t_s"] = df["t_s"].astype(float)
    df["from_sat_id"] = df["from_sat_id"].astype(np.int64)
    df["to_sat_id"] = df["to_sat_id"].astype(np.int64)
    df["utc"] = tb.to_utc(df["t_s"].to_numpy())
    df = df[EVENT_COLUMNS]
    if key is not None:
        _cache.store_table(key, df, cache_dir)
    return df


def _passes_digest(passes: pd.DataFrame) -> str:
    from orbits.cache import array_digest

    cols = passes[["sat_id", "aos_s", "los_s"]].to_numpy(dtype=float)
    return array_digest(cols)


class _Planner:
    def __init__(self, passes, duration_s, constellation, site, tb):
        aos = np.nan_to_num(passes["aos_s"].to_numpy(dtype=float), nan=-np.inf)
        los = np.nan_to_num(passes["los_s"].to_numpy(dtype=float), nan=np.inf)
        keep = (los > 0.0) & (aos < duration_s) & (los > aos)
        self.sat = passes["sat_id"].to_numpy(dtype=np.int64)[keep]
        self.aos = np.clip(aos[keep], 0.0, duration_s)
        self.los = np.clip(los[keep], 0.0, duration_s)
        self.raw_los = los[keep]
        self.end = duration_s
        self.constellation = constellation
        self.site = site
        self.tb = tb
        self._ev: dict[int, SatSiteEvaluator] = {}
        if site is not None:
            self._site_m = site.itrs_m()
            self._up = site.enu_basis()[2]

    # elevation helpers --------------------------------------------------------------------
    def evaluator(self, p: int) -> SatSiteEvaluator:
        ev = self._ev.get(p)
        if ev is None:
            row = self.constellation.index_of(int(self.sat[p]))
            ev = SatSiteEvaluator(self.constellation.satrecs[row], self.site, self.tb)
            self._ev[p] = ev
        return ev

    def el(self, p: int, t: float) -> float:
        return self.evaluator(p).elevation_deg(t)

    def visible_at(self, t: float) -> np.ndarray:
        return np.nonzero((self.aos <= t) & (t < self.los))[0]

    def _pick(self, cands: np.ndarray, t: float, by: str) -> int:
        if cands.size == 0:
            return -1
        if by == "longest_remaining":
            # latest LOS (unclipped, so passes running past the window rank correctly)
            return int(cands[np.argmax(self.raw_los[cands])])
        els = np.array([self.el(int(p), t) for p in cands])
        return int(cands[np.nanargmax(els)])

    def _sid(self, p: int) -> int:
        return -1 if p < 0 else int(self.sat[p])

    # rules --------------------------------------------------------------------------------
    def at_los(self, rule: str) -> list[tuple]:
        by = "longest_remaining" if rule == "longest_remaining" else "highest_elevation"
        events = []
        cur = self._pick(self.visible_at(0.0), 0.0, by)
        events.append((0.0, -1, self._sid(cur), "start" if cur >= 0 else "outage"))
        t = 0.0
        while True:
            if cur >= 0:
                t = float(self.los[cur])
                if t >= self.end:
                    break
                nxt = self._pick(self.visible_at(t), t, by)
                events.append((t, self._sid(cur), self._sid(nxt), "los" if nxt >= 0 else "outage"))
                cur = nxt
            else:
                later = self.aos[self.aos > t]
                if later.size == 0:
                    break
                t = float(later.min())
                cur = self._pick(self.visible_at(t), t, by)
                events.append((t, -1, self._sid(cur), "aos"))
        return events

    def highest_elevation(self, step_s: float) -> list[tuple]:
        if not step_s > 0:
            raise ValueError(f"crossing_step_s: expected > 0, got {step_s}")
        grid = np.unique(
            np.concatenate([np.arange(0.0, self.end, step_s), self.aos, self.los, [self.end]])
        )
        grid = grid[grid < self.end]
        best_el = np.full(grid.size, -np.inf)
        best = np.full(grid.size, -1, dtype=np.int64)
        i0 = np.searchsorted(grid, self.aos, side="left")
        i1 = np.searchsorted(grid, self.los, side="left")  # samples in [aos, los)
        order = np.argsort(self.sat, kind="stable")
        bounds = np.nonzero(np.diff(self.sat[order]))[0] + 1
        all_idx, all_owner, all_el = [], [], []
        for group in np.split(order, bounds):  # one propagation call per satellite
            idx_parts = [np.arange(i0[p], i1[p]) for p in group]
            idx = np.concatenate(idx_parts)
            if idx.size == 0:
                continue
            owner = np.repeat(group, [part.size for part in idx_parts])
            el = self._el_array(int(group[0]), grid[idx])
            upd = el > best_el[idx]
            best_el[idx[upd]] = el[upd]
            best[idx[upd]] = owner[upd]
            all_idx.append(idx)
            all_owner.append(owner)
            all_el.append(el)
        # every sample, grouped by grid point (the envelope search reads them back)
        if all_idx:
            idx = np.concatenate(all_idx)
            srt = np.argsort(idx, kind="stable")
            self._s_idx = idx[srt]
            self._s_owner = np.concatenate(all_owner)[srt]
            self._s_el = np.concatenate(all_el)[srt]
        events = [(0.0, -1, self._sid(int(best[0])), "start" if best[0] >= 0 else "outage")]
        changes = np.nonzero(best[1:] != best[:-1])[0]
        for k in changes.tolist():
            p, q = int(best[k]), int(best[k + 1])
            t0, t1 = float(grid[k]), float(grid[k + 1])
            if p >= 0 and self.los[p] <= t1:
                events.append((t1, self._sid(p), self._sid(q), "los" if q >= 0 else "outage"))
            elif p < 0:
                events.append((t1, -1, self._sid(q), "aos"))
            elif q >= 0 and self.aos[q] >= t1:
                # q rose at t1 and is already higher than p: a tie at the minimum elevation
                events.append((t1, self._sid(p), self._sid(q), "higher_elevation"))
            else:
                events.extend(self._envelope(p, t0, t1, k + 1))
        return events

    def _envelope(self, p: int, t0: float, t1: float, k1: int) -> list[tuple]:
        """Exact upper-envelope switches in (t0, t1) starting from ``p``, the best at t0.

        The visible set is constant on [t0, t1] (every AOS/LOS is a grid point). Repeatedly take,
        among satellites higher than the current one at t1, the earliest crossing (``brentq``
        on the elevation difference) until the current one is the best at t1; so a third
        satellite overtaking briefly inside the step is not lost.
        """
        a, b = np.searchsorted(self._s_idx, [k1, k1 + 1])
        owners, els = self._s_owner[a:b], self._s_el[a:b]
        keep = self.aos[owners] <= t0  # visible over the whole step
        el_t1 = dict(zip(owners[keep].tolist(), els[keep].tolist()))
        out = []
        cur, t = p, t0
        while True:
            higher = [c for c, e in el_t1.items() if c != cur and e > el_t1.get(cur, -np.inf)]
            if not higher:
                return out
            best_tc, best_c = t1, higher[0]
            for c in higher:
                f = lambda x, a=cur, b=c: self.el(a, x) - self.el(b, x)  # noqa: E731
                try:
                    tc = brentq(f, t, t1, xtol=1e-3)
                except ValueError:  # no sign change (NaN or a double crossing): switch at t1
                    tc = t1
                if tc < best_tc or (tc == best_tc and el_t1[c] > el_t1[best_c]):
                    best_tc, best_c = tc, c
            out.append((best_tc, self._sid(cur), self._sid(best_c), "higher_elevation"))
            cur, t = best_c, best_tc

    def _el_array(self, p: int, tt: np.ndarray) -> np.ndarray:
        row = self.constellation.index_of(int(self.sat[p]))
        sat = self.constellation.satrecs[row]
        err, r_km, _ = sat.sgp4_array(np.full(tt.size, self.tb.jd_whole), self.tb.utc_fraction(tt))
        theta, _ = self.tb.gmst_rad(tt)
        c, s = np.cos(theta), np.sin(theta)
        d = np.empty_like(r_km)
        d[:, 0] = (c * r_km[:, 0] + s * r_km[:, 1]) * 1000.0
        d[:, 1] = (-s * r_km[:, 0] + c * r_km[:, 1]) * 1000.0
        d[:, 2] = r_km[:, 2] * 1000.0
        d -= self._site_m
        el = np.degrees(np.arcsin(np.clip((d @ self._up) / np.linalg.norm(d, axis=1), -1, 1)))
        el[err != 0] = np.nan
        return el


__all__ = ["EVENT_COLUMNS", "RULES", "serving_plan", "visible_count"]
