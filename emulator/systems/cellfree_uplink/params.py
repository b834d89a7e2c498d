"""Parameters of the cell-free satellite-terrestrial uplink (seed 002, spec §8).

SI inside; dB-valued fields are named ``*_db`` / ``*_dbi`` / ``*_dbm_hz`` and converted with
:mod:`emulator.units` where used. Two profiles (spec §9): ``PHYS`` (spec §8 exactly) and
``CAL`` (extra terrestrial path loss calibrated to the paper's ground-only numbers).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

ARCHITECTURES = ("space_ground", "space", "ground")
CPU_COMBINING = ("equal", "lsfd2")
SAT_MODELS = ("paper", "tr38811")


@dataclass(frozen=True)
class CellFreeParams:
    """Configuration of one cell-free uplink system (defaults: spec §8, PHYS profile).

    Attributes:
        num_aps: M ground APs (snapshot mode; in emulation mode the world gives the APs).
        area_side_m: side of the square service area [m] (snapshot mode).
        ap_height_m, ue_height_m: antenna heights above ground [m].
        carrier_hz, bandwidth_hz: carrier frequency and bandwidth [Hz].
        n_h, n_v: satellite UPA size (N = n_h n_v).
        ap_noise_figure_db, sat_noise_figure_db: noise figures [dB].
        noise_density_dbm_hz: thermal noise density [dBm/Hz].
        tau_c: coherence-block length [symbols].
        tau_p: pilot length [symbols]; None -> ceil(K/2) (capped at tau_c - 1).
        pilot_power_w: pilot power per symbol p [W].
        max_power_w: per-user data-power budget P_max [W].
        sat_gain_dbi, ap_gain_dbi, ue_gain_dbi: antenna gains (satellite: per element) [dBi].
        kappa_db: satellite Rician factor [dB] (``sat_model="paper"``).
        corr_r: exponential correlation coefficient of the satellite UPA.
        ap_shadow_db, sat_shadow_db: shadowing standard deviations [dB].
        ap_pathloss_offset_db: extra terrestrial loss L_cal [dB] (CAL profile: 47).
        architecture: "space_ground" (22), "space" (26)-(28) or "ground" (25).
        cpu_combining: "equal" (the paper's unit-weight CPU sum, (16)) or "lsfd2" (optimal
            two-branch weighting, spec §7; not in seed 002).
        sat_position_m: satellite position in the snapshot frame [m] (snapshot mode only).
        sat_model: satellite large-scale model in emulation mode: "paper" ((S3) + log-normal
            shadowing + fixed kappa) or "tr38811" (elevation-dependent LoS probability, shadow
            fading, clutter loss and Rician K of TR 38.811).
        ntn_scenario, ntn_band: TR 38.811 table selectors ("dense_urban" | "urban" |
            "suburban"; "S" | "Ka").
        sat_aperture_m: if set, the satellite's Bessel aperture pattern (TR 38.811 §6.4.1) of
            this diameter scales the per-element gain by the user's angle off the beam centre,
            which points at the site (emulation mode only). None: no pattern.
    """

    num_aps: int = 40
    area_side_m: float = 4000.0
    ap_height_m: float = 15.0
    ue_height_m: float = 1.5
    carrier_hz: float = 3e9
    bandwidth_hz: float = 20e6
    n_h: int = 5
    n_v: int = 5
    ap_noise_figure_db: float = 1.2
    sat_noise_figure_db: float = 4.0
    noise_density_dbm_hz: float = -174.0
    tau_c: int = 10_000
    tau_p: int | None = None
    pilot_power_w: float = 0.2
    max_power_w: float = 0.2
    sat_gain_dbi: float = 30.0
    ap_gain_dbi: float = 10.0
    ue_gain_dbi: float = 10.0
    kappa_db: float = 10.0
    corr_r: float = 0.5
    ap_shadow_db: float = 8.0
    sat_shadow_db: float = 4.0
    ap_pathloss_offset_db: float = 0.0
    architecture: str = "space_ground"
    cpu_combining: str = "equal"
    sat_position_m: tuple = (300e3, 300e3, 400e3)
    sat_model: str = "paper"
    ntn_scenario: str = "urban"
    ntn_band: str = "S"
    sat_aperture_m: float | None = None

    def __post_init__(self):
        _check_params(self)

    @property
    def num_antennas(self) -> int:
        """N = n_h n_v."""
        return self.n_h * self.n_v

    def resolved_tau_p(self, num_users: int) -> int:
        """tau_p, or ceil(K/2) when unset (spec §3.4), capped at tau_c - 1 so that a crowded
        emulation epoch keeps at least one data symbol (1 <= tau_p < tau_c, spec §3.4)."""
        if self.tau_p is not None:
            return int(self.tau_p)
        return max(1, min(math.ceil(int(num_users) / 2), self.tau_c - 1))


def _fail(name: str, expected: str, got) -> None:
    raise ValueError(f"cellfree parameter {name!r}: expected {expected}, got {got!r}")


def _check_params(p: CellFreeParams) -> None:
    for name in ("num_aps", "n_h", "n_v"):
        v = getattr(p, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            _fail(name, "an int >= 1", v)
    if isinstance(p.tau_c, bool) or not isinstance(p.tau_c, int) or p.tau_c < 2:
        _fail("tau_c", "an int >= 2 (at least one pilot and one data symbol)", p.tau_c)
    if p.tau_p is not None and (
        isinstance(p.tau_p, bool) or not isinstance(p.tau_p, int) or not 1 <= p.tau_p < p.tau_c
    ):
        _fail("tau_p", f"None or an int with 1 <= tau_p < tau_c = {p.tau_c}", p.tau_p)
    positive = ("area_side_m", "carrier_hz", "bandwidth_hz", "pilot_power_w", "max_power_w")
    for name in positive:
        v = getattr(p, name)
        if not _is_real(v) or not v > 0 or not math.isfinite(v):
            _fail(name, "a finite number > 0", v)
    for name in (
        "ap_height_m",
        "ue_height_m",
        "ap_noise_figure_db",
        "sat_noise_figure_db",
        "noise_density_dbm_hz",
        "sat_gain_dbi",
        "ap_gain_dbi",
        "ue_gain_dbi",
        "kappa_db",
        "ap_shadow_db",
        "sat_shadow_db",
        "ap_pathloss_offset_db",
    ):
        v = getattr(p, name)
        if not _is_real(v) or not math.isfinite(v):
            _fail(name, "a finite number", v)
    if p.ap_shadow_db < 0 or p.sat_shadow_db < 0:
        _fail("ap_shadow_db/sat_shadow_db", ">= 0", (p.ap_shadow_db, p.sat_shadow_db))
    if not _is_real(p.corr_r) or not 0.0 <= p.corr_r < 1.0:
        _fail("corr_r", "a number in [0, 1)", p.corr_r)
    if p.architecture not in ARCHITECTURES:
        _fail("architecture", f"one of {list(ARCHITECTURES)}", p.architecture)
    if p.cpu_combining not in CPU_COMBINING:
        _fail("cpu_combining", f"one of {list(CPU_COMBINING)}", p.cpu_combining)
    if p.sat_model not in SAT_MODELS:
        _fail("sat_model", f"one of {list(SAT_MODELS)}", p.sat_model)
    if p.ntn_scenario not in ("dense_urban", "urban", "suburban"):
        _fail("ntn_scenario", "one of ['dense_urban', 'urban', 'suburban']", p.ntn_scenario)
    if p.ntn_band not in ("S", "Ka"):
        _fail("ntn_band", "one of ['S', 'Ka']", p.ntn_band)
    if p.sat_aperture_m is not None and (not _is_real(p.sat_aperture_m) or p.sat_aperture_m <= 0):
        _fail("sat_aperture_m", "None or a number > 0", p.sat_aperture_m)
    pos = p.sat_position_m
    if (
        not isinstance(pos, tuple)
        or len(pos) != 3
        or not all(_is_real(v) and math.isfinite(v) for v in pos)
    ):
        _fail("sat_position_m", "a tuple of 3 finite numbers [m]", pos)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: Named parameter profiles (spec §9, §12): overrides applied on top of the defaults.
PROFILES: dict[str, dict] = {
    "PHYS": {},
    "CAL": {"ap_pathloss_offset_db": 47.0, "sat_gain_dbi": 20.0},
}

_FIELDS = {f.name: f for f in dataclasses.fields(CellFreeParams)}


def params_from_dict(d: Mapping | None = None, profile: str = "PHYS") -> CellFreeParams:
    """Build parameters from a mapping (e.g. a TOML table) on top of a profile.

    Ints are accepted for float fields; lists are accepted for ``sat_position_m``.

    Raises:
        ValueError: unknown profile, unknown key, or a value of the wrong type / out of range,
            naming the key, what was expected and what was got.
    """
    if profile not in PROFILES:
        raise ValueError(
            f"unknown cellfree profile {profile!r}: expected one of {sorted(PROFILES)}"
        )
    values = dict(PROFILES[profile])
    for key, value in dict(d or {}).items():
        if key not in _FIELDS:
            raise ValueError(
                f"unknown cellfree parameter {key!r}: expected one of {sorted(_FIELDS)}; "
                "fix the key in the [system.params] table"
            )
        values[key] = _coerce(key, value)
    return CellFreeParams(**values)


_INT_FIELDS = {"num_aps", "n_h", "n_v", "tau_c"}
_STR_FIELDS = {"architecture", "cpu_combining", "sat_model", "ntn_scenario", "ntn_band"}


def _coerce(key: str, value):
    if key in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(key, "an int", value)
        return value
    if key == "tau_p":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            _fail(key, "an int or None", value)
        return value
    if key in _STR_FIELDS:
        if not isinstance(value, str):
            _fail(key, "a string", value)
        return value
    if key == "sat_position_m":
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            _fail(key, "a list of 3 numbers [m]", value)
        return tuple(_coerce_float(key, v) for v in value)
    if key == "sat_aperture_m" and value is None:
        return None
    return _coerce_float(key, value)


def _coerce_float(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(key, "a number", value)
    return float(value)
