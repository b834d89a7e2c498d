"""Orbits: TLE / Walker constellations -> vectorised geometry, exact pass and handover plans.

Imports only numpy, scipy, sgp4, skyfield and pandas (nothing from ``emulator``; DESIGN §2).
Skyfield ``Time`` objects stay inside this package: the public API speaks timezone-aware UTC
datetimes and float seconds ``t_s`` since a window start.

Public API (what the engine calls):

* :class:`Site` — a ground point (WGS84 geodetic).
* :func:`load_tle`, :func:`default_constellation`, :func:`walker_delta`, :func:`multi_shell`
  -> :class:`Constellation` (``sat_ids``, ``names``, ``satrecs``, ``epochs_utc``,
  ``tle_hash()``, ``subset(ids)``); malformed input raises :class:`TLEError`.
* :func:`hygiene` -> ``(Constellation, HygieneReport)``: stale epochs, SGP4 errors, altitude.
* :func:`geometry` -> :class:`Geometry` over [S, T, G]; :func:`site_track` -> one satellite in a
  site's East-North-Up frame (the engine's ``WorldState`` source).
* :func:`pass_plan` -> DataFrame of passes (exact AOS / TCA / LOS, root-found).
* :func:`serving_plan` -> DataFrame of handover events; :func:`visible_count`.
* On-disk cache: :mod:`orbits.cache` (``$LEO_EMULATOR_CACHE``).
"""

from orbits.geometry import SPEED_OF_LIGHT_M_S, Geometry, geometry, site_track
from orbits.hygiene import HygieneReport, StaleTLEWarning, hygiene
from orbits.passes import PASS_COLUMNS, pass_plan
from orbits.serving import EVENT_COLUMNS, RULES, serving_plan, visible_count
from orbits.site import Site
from orbits.tle import Constellation, TLEError, default_constellation, load_tle
from orbits.walker import multi_shell, walker_delta

__all__ = [
    "EVENT_COLUMNS",
    "PASS_COLUMNS",
    "RULES",
    "SPEED_OF_LIGHT_M_S",
    "Constellation",
    "Geometry",
    "HygieneReport",
    "Site",
    "StaleTLEWarning",
    "TLEError",
    "default_constellation",
    "geometry",
    "hygiene",
    "load_tle",
    "multi_shell",
    "pass_plan",
    "serving_plan",
    "site_track",
    "visible_count",
    "walker_delta",
]
