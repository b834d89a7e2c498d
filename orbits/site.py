"""Ground sites: WGS84 geodetic coordinates -> ITRS position and local East-North-Up frame."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: WGS84 ellipsoid (the one Skyfield's ``wgs84`` uses).
WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


@dataclass(frozen=True)
class Site:
    """A ground point.

    Args:
        name: label used in tables and cache keys.
        lat_deg: geodetic latitude [deg], in [-90, 90].
        lon_deg: longitude [deg], east positive, in [-180, 360).
        height_m: height above the WGS84 ellipsoid [m].
    """

    name: str
    lat_deg: float
    lon_deg: float
    height_m: float = 0.0

    def __post_init__(self):
        for field in ("lat_deg", "lon_deg", "height_m"):
            value = getattr(self, field)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"Site.{field}: expected a finite number, got {value!r}")
        if not -90.0 <= self.lat_deg <= 90.0:
            raise ValueError(f"Site.lat_deg: expected [-90, 90] deg, got {self.lat_deg}")
        if not -180.0 <= self.lon_deg < 360.0:
            raise ValueError(f"Site.lon_deg: expected [-180, 360) deg, got {self.lon_deg}")
        if not -12_000.0 <= self.height_m <= 100_000.0:
            raise ValueError(
                f"Site.height_m: expected a ground height in [-12 km, 100 km], got {self.height_m}"
            )

    def itrs_m(self) -> np.ndarray:
        """ITRS (ECEF) position [m]. Shapes: [3] float64."""
        lat, lon = math.radians(self.lat_deg), math.radians(self.lon_deg)
        n = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * math.sin(lat) ** 2)
        return np.array(
            [
                (n + self.height_m) * math.cos(lat) * math.cos(lon),
                (n + self.height_m) * math.cos(lat) * math.sin(lon),
                (n * (1.0 - WGS84_E2) + self.height_m) * math.sin(lat),
            ]
        )

    def enu_basis(self) -> np.ndarray:
        """Rows are the East, North and (geodetic) Up unit vectors in ITRS.

        ``enu = basis @ (r_itrs - site_itrs)``. Shapes: [3, 3] float64.
        """
        lat, lon = math.radians(self.lat_deg), math.radians(self.lon_deg)
        sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
        return np.array(
            [
                [-so, co, 0.0],
                [-sl * co, -sl * so, cl],
                [cl * co, cl * so, sl],
            ]
        )

    def key(self) -> tuple:
        """Stable tuple used in cache keys and table attributes."""
        return (self.name, float(self.lat_deg), float(self.lon_deg), float(self.height_m))


def as_sites(site_or_sites) -> list[Site]:
    """Normalise one :class:`Site` or a sequence of them to a non-empty list."""
    if isinstance(site_or_sites, Site):
        return [site_or_sites]
    if isinstance(site_or_sites, Sequence) and site_or_sites:
        sites = list(site_or_sites)
        for s in sites:
            if not isinstance(s, Site):
                raise TypeError(f"expected orbits.Site objects, got {type(s).__name__}")
        return sites
    raise TypeError(f"expected an orbits.Site or a non-empty list of them, got {site_or_sites!r}")
