"""What every radio system provides (DESIGN section 3), and the world state it observes.

A *system* owns three things:

1. ``observe(world, params, seed, epoch_index) -> Observation``: what the network knows at an
   epoch (a frozen dataclass of numpy arrays);
2. its ``Decision`` type and ``validate(decision, obs)``, which raises :class:`InvalidDecision`
   naming the field and the bound;
3. ``score(decision, truth, ...) -> KPIs``: what a decision achieves on the *true* state.

Systems register themselves in :mod:`emulator.systems` by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class InvalidDecision(ValueError):
    """A decision that breaks a budget, a shape, finiteness or a paper constraint.

    The message names the field, the bound and the offending value.
    """


@dataclass(frozen=True)
class WorldState:
    """Geometry of one instant in emulation mode, in the local ENU frame of the service site.

    Built by the engine from ``orbits`` geometry and the arrival process; consumed by a
    system's ``observe``. All positions are metres in the site's East-North-Up frame whose
    origin is the site (ground level, z = 0 at the site's ellipsoid height).

    Attributes:
        t_s: simulated time since scenario start [s].
        serving_sat_id: catalogue number of the serving satellite, or -1 if none visible.
        sat_enu_m: serving satellite position. Shapes: [3] float64. NaN if none.
        sat_velocity_enu_m_s: its velocity in the same frame. Shapes: [3] float64.
        sat_nadir_enu: unit vector from the satellite towards the Earth's centre (the UPA
            boresight). Shapes: [3] float64.
        elevation_deg: elevation of the serving satellite seen from the site [deg].
        slant_range_m: site-satellite distance [m].
        ap_enu_m: ground access points / base stations. Shapes: [M, 3] float64.
        user_enu_m: active users. Shapes: [K, 3] float64.
        user_ids: stable ids of the active users (arrival order). Shapes: [K] int64.
        visible_sat_count: satellites above the minimum elevation at t_s.
    """

    t_s: float
    serving_sat_id: int
    sat_enu_m: np.ndarray
    sat_velocity_enu_m_s: np.ndarray
    sat_nadir_enu: np.ndarray
    elevation_deg: float
    slant_range_m: float
    ap_enu_m: np.ndarray
    user_enu_m: np.ndarray
    user_ids: np.ndarray
    visible_sat_count: int = 0


@dataclass(frozen=True)
class KPIs:
    """What a decision achieved on the true channel.

    Attributes:
        user_ids: users the per-user arrays refer to. Shapes: [K] int64.
        rate_bps: achieved (ergodic) rate per user; 0 for unscheduled users. Shapes: [K] float64.
        scheduled: scheduled mask actually applied. Shapes: [K] bool.
        power_w: transmit power actually applied. Shapes: [K] float64.
        sum_rate_bps: sum of ``rate_bps``.
        extra: further scalar KPIs (energy efficiency, CRB, ...), by name with unit suffix.
    """

    user_ids: np.ndarray
    rate_bps: np.ndarray
    scheduled: np.ndarray
    power_w: np.ndarray
    sum_rate_bps: float
    extra: Mapping[str, float] = field(default_factory=dict)


def as_diagnostics(values: Mapping[str, Any] | None) -> dict[str, float]:
    """Coerce a policy's diagnostics to a flat dict of floats (what the trace stores)."""
    out: dict[str, float] = {}
    for k, v in (values or {}).items():
        if isinstance(v, (bool, np.bool_)):
            out[str(k)] = float(bool(v))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            out[str(k)] = float(v)
    return out
