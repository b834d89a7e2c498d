"""What the network knows at an epoch: the ``Observation`` of the cell-free uplink (seed 002).

An observation holds the large-scale state (AP and satellite gains, Rician factors,
satellite directions) and the pilot assignment; everything else (LoS means, covariances,
pilot sharing, noise powers) is derived from it and cached. Snapshot mode builds it from the
paper's static geometry (:func:`snapshot_observation`); emulation mode from the world state
(:mod:`.emulation`).

Snapshot frame (spec §2.1): the service area is [0, side]^2 m at z = 0 with z up; the
satellite sits at ``params.sat_position_m`` and its UPA lies parallel to the ground, facing
nadir, with array axes x and y along the frame's x and y, so ``sat_dir`` is the unit vector
satellite -> user in this frame (spec (S1) uses its x and y components).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from emulator import units
from emulator.radio.correlation import KroneckerRicianModel
from emulator.radio.pathloss import cellfree_satellite_gain_db, cellfree_terrestrial_gain_db
from emulator.radio.pilots import assign_pilots, pilot_sharing
from emulator.rng import stream
from emulator.systems.cellfree_uplink.params import CellFreeParams


@dataclass(frozen=True, eq=False)
class Observation:
    """Large-scale state of one epoch of the cell-free uplink.

    Attributes:
        params: system parameters.
        beta_ap: AP-user large-scale gain beta_mk (linear). Shapes: [M, K] float64.
        beta_sat: satellite-user large-scale gain per antenna element beta_k (linear).
            Shapes: [K] float64.
        kappa: satellite Rician factor kappa_k (linear; 0 = Rayleigh). Shapes: [K] float64.
        sat_dir: unit direction satellite -> user in the UPA frame. Shapes: [K, 3] float64.
        pilot_index: pilot t_k of each user. Shapes: [K] int64.
        max_power_w: per-user data-power budget P_max,k [W]. Shapes: [K] float64.
        user_ids: stable user ids. Shapes: [K] int64.
        prev_power_w: power in force last epoch [W] (NaN = none). Shapes: [K] float64.
        seed: run seed; epoch_index: epoch counter (snapshot mode: the drop index);
        t_s: simulated time [s]; elevation_deg: serving-satellite elevation at the site
        [deg] (NaN in snapshot mode); slant_range_m: site-satellite distance [m] (NaN in
        snapshot mode); serving_sat_id: serving satellite (-1 in snapshot mode / none).
    """

    params: CellFreeParams
    beta_ap: np.ndarray
    beta_sat: np.ndarray
    kappa: np.ndarray
    sat_dir: np.ndarray
    pilot_index: np.ndarray
    max_power_w: np.ndarray
    user_ids: np.ndarray
    prev_power_w: np.ndarray
    seed: int = 0
    epoch_index: int = 0
    t_s: float = 0.0
    elevation_deg: float = float("nan")
    slant_range_m: float = float("nan")
    serving_sat_id: int = -1

    def __post_init__(self):
        k = self.beta_sat.shape[0] if np.ndim(self.beta_sat) == 1 else -1
        m = np.shape(self.beta_ap)[0] if np.ndim(self.beta_ap) == 2 else -1
        expect = {
            "beta_ap": (m, k),
            "beta_sat": (k,),
            "kappa": (k,),
            "sat_dir": (k, 3),
            "pilot_index": (k,),
            "max_power_w": (k,),
            "user_ids": (k,),
            "prev_power_w": (k,),
        }
        for name, shape in expect.items():
            got = np.shape(getattr(self, name))
            if k < 0 or m < 0 or got != shape:
                raise ValueError(f"Observation.{name}: expected shape {shape}, got {got}")
        tau = self.tau_p
        if self.num_users and (self.pilot_index.min() < 0 or self.pilot_index.max() >= tau):
            raise ValueError(
                f"Observation.pilot_index: expected values in [0, tau_p={tau}), got "
                f"[{self.pilot_index.min()}, {self.pilot_index.max()}]"
            )
        if not 1 <= tau < self.params.tau_c:
            raise ValueError(f"tau_p: expected 1 <= tau_p < tau_c = {self.params.tau_c}, got {tau}")

    # ---- sizes -------------------------------------------------------------------------
    @property
    def num_users(self) -> int:
        """K."""
        return int(self.beta_sat.shape[0])

    @property
    def num_aps(self) -> int:
        """M (rows of ``beta_ap``)."""
        return int(self.beta_ap.shape[0])

    @property
    def num_antennas(self) -> int:
        """N = n_h n_v."""
        return self.params.num_antennas

    @functools.cached_property
    def tau_p(self) -> int:
        """Resolved pilot length (params.tau_p, or ceil(K/2))."""
        return self.params.resolved_tau_p(self.num_users)

    # ---- derived, cached --------------------------------------------------------------
    @functools.cached_property
    def _sat_channel(self):
        model = KroneckerRicianModel(self.params.n_h, self.params.n_v, self.params.corr_r)
        return model.mean_and_covariance(self.beta_sat, self.kappa, self.sat_dir)

    @property
    def gbar(self) -> np.ndarray:
        """Satellite LoS means, (S1). Shapes: [K, N] complex128."""
        return self._sat_channel[0]

    @property
    def R(self) -> np.ndarray:  # noqa: N802 - the paper's symbol
        """Satellite NLoS covariances, (S1). Shapes: [K, N, N] complex128."""
        return self._sat_channel[1]

    @functools.cached_property
    def pilot_sharing(self) -> np.ndarray:
        """S[k, j] = users k and j share a pilot. Shapes: [K, K] bool."""
        return pilot_sharing(self.pilot_index)

    @functools.cached_property
    def noise_ap_w(self) -> float:
        """AP noise power sigma_a^2 [W] (density + 10 log10 B + NF)."""
        p = self.params
        return float(
            units.noise_from_density_w(p.noise_density_dbm_hz, p.bandwidth_hz, p.ap_noise_figure_db)
        )

    @functools.cached_property
    def noise_sat_w(self) -> float:
        """Satellite noise power per antenna sigma_s^2 [W]."""
        p = self.params
        return float(
            units.noise_from_density_w(
                p.noise_density_dbm_hz, p.bandwidth_hz, p.sat_noise_figure_db
            )
        )

    def with_params(self, **changes) -> Observation:
        """The same large-scale state under changed parameters (e.g. architecture)."""
        return replace(self, params=replace(self.params, **changes))


def _positions(rng: np.random.Generator, count: int, side_m: float) -> np.ndarray:
    return rng.uniform(0.0, side_m, size=(count, 2))


def snapshot_observation(
    params: CellFreeParams, num_users: int, seed: int, drop_index: int
) -> Observation:
    """One drop of the paper's static geometry (spec §2.1, §8).

    APs and users are uniform i.i.d. in the square; the satellite is at
    ``params.sat_position_m``. Streams (all keyed by ``drop_index``): ``cellfree/drop/ap``
    (AP positions), ``cellfree/drop/ue`` (user positions), ``cellfree/drop/shadow_ap`` and
    ``cellfree/drop/shadow_sat`` (shadowing). Users are drawn one after another, so the first
    K users of a drop with more users are the same users.
    """
    k = int(num_users)
    if k < 1:
        raise ValueError(f"num_users: expected an int >= 1, got {num_users!r}")
    p = params
    m = p.num_aps
    ap_xy = _positions(stream(seed, "cellfree/drop/ap", drop_index), m, p.area_side_m)
    ue_xy = _positions(stream(seed, "cellfree/drop/ue", drop_index), k, p.area_side_m)
    ap = np.column_stack([ap_xy, np.full(m, p.ap_height_m)])  # [M, 3]
    ue = np.column_stack([ue_xy, np.full(k, p.ue_height_m)])  # [K, 3]
    z_ap = p.ap_shadow_db * stream(seed, "cellfree/drop/shadow_ap", drop_index).standard_normal(
        (k, m)
    )
    z_sat = p.sat_shadow_db * stream(seed, "cellfree/drop/shadow_sat", drop_index).standard_normal(
        k
    )
    d_ap = np.linalg.norm(ap[:, None, :] - ue[None, :, :], axis=-1)  # [M, K]
    beta_ap = units.db_to_linear(
        cellfree_terrestrial_gain_db(
            d_ap, p.carrier_hz, p.ap_gain_dbi, p.ue_gain_dbi, z_ap.T, p.ap_pathloss_offset_db
        )
    )  # (S2)
    vec = ue - np.asarray(p.sat_position_m, dtype=float)[None, :]
    d_sat = np.linalg.norm(vec, axis=1)
    beta_sat = units.db_to_linear(
        cellfree_satellite_gain_db(d_sat, p.carrier_hz, p.sat_gain_dbi, p.ue_gain_dbi, z_sat)
    )  # (S3)
    tau_p = p.resolved_tau_p(k)
    return Observation(
        params=p,
        beta_ap=beta_ap,
        beta_sat=beta_sat,
        kappa=np.full(k, float(units.db_to_linear(p.kappa_db))),
        sat_dir=vec / d_sat[:, None],
        pilot_index=assign_pilots(k, tau_p),
        max_power_w=np.full(k, float(p.max_power_w)),
        user_ids=np.arange(k, dtype=np.int64),
        prev_power_w=np.full(k, np.nan),
        seed=int(seed),
        epoch_index=int(drop_index),
    )


#: Parameters of the reduced configuration of spec §12 (CI size).
REDUCED = dict(num_aps=8, n_h=2, n_v=2, tau_p=3, tau_c=200)


def canned_observation() -> Observation:
    """A small fixed observation (reduced configuration of spec §12: M=8, K=6, N=4).

    Used by ``policies.check_policy`` and tests.
    """
    return snapshot_observation(CellFreeParams(**REDUCED), num_users=6, seed=2024, drop_index=0)


# ---- trace packing ----------------------------------------------------------------------
_ARRAY_FIELDS = (
    "beta_ap",
    "beta_sat",
    "kappa",
    "sat_dir",
    "pilot_index",
    "max_power_w",
    "user_ids",
    "prev_power_w",
)
_SCALAR_FIELDS = {
    "seed": np.int64,
    "epoch_index": np.int64,
    "t_s": np.float64,
    "elevation_deg": np.float64,
    "slant_range_m": np.float64,
    "serving_sat_id": np.int64,
}


def pack(obs: Observation, include_statistics: bool = False) -> dict[str, np.ndarray]:
    """Compact arrays for the trace's observations table (exact inverse: :func:`unpack`).

    Derived quantities (gbar, R) are not stored: they are rebuilt from these. Scalars become
    0-d arrays. With ``include_statistics`` (the engine sets it for truth rows) the closed-form
    statistics are stored too (``stats_*`` arrays), so replay scores without rebuilding them.
    """
    out = {name: np.array(getattr(obs, name), copy=True) for name in _ARRAY_FIELDS}
    for name, dt in _SCALAR_FIELDS.items():
        out[name] = np.array(getattr(obs, name), dtype=dt)
    if include_statistics:
        from emulator.systems.cellfree_uplink.statistics import statistics_arrays

        out.update(statistics_arrays(obs))
    return out


def unpack(arrays, params: CellFreeParams) -> Observation:
    """Rebuild an :class:`Observation` from :func:`pack` output (bitwise equal fields).

    Raises:
        ValueError: a missing array, naming it.
    """
    missing = [n for n in (*_ARRAY_FIELDS, *_SCALAR_FIELDS) if n not in arrays]
    if missing:
        raise ValueError(f"cellfree observation arrays: missing {missing}; expected pack() output")
    kw = {
        "beta_ap": np.asarray(arrays["beta_ap"], dtype=np.float64),
        "beta_sat": np.asarray(arrays["beta_sat"], dtype=np.float64),
        "kappa": np.asarray(arrays["kappa"], dtype=np.float64),
        "sat_dir": np.asarray(arrays["sat_dir"], dtype=np.float64),
        "pilot_index": np.asarray(arrays["pilot_index"], dtype=np.int64),
        "max_power_w": np.asarray(arrays["max_power_w"], dtype=np.float64),
        "user_ids": np.asarray(arrays["user_ids"], dtype=np.int64),
        "prev_power_w": np.asarray(arrays["prev_power_w"], dtype=np.float64),
    }
    k = kw["beta_sat"].shape[0]
    kw["beta_ap"] = kw["beta_ap"].reshape(-1, k) if k else kw["beta_ap"].reshape(0, 0)
    kw["sat_dir"] = kw["sat_dir"].reshape(k, 3)
    scal = {n: np.asarray(arrays[n], dtype=dt).item() for n, dt in _SCALAR_FIELDS.items()}
    obs = Observation(params=params, **kw, **scal)
    if "stats_a" in arrays:  # recorded closed-form statistics (truth rows)
        from emulator.systems.cellfree_uplink.statistics import attach_statistics

        attach_statistics(obs, arrays)
    return obs
