"""Emulation-mode observation: geometry from the orbit timeline and the arrival process.

Frames. Positions come in the site's East-North-Up frame (:class:`WorldState`); the world
gives *ground* positions of APs and users, and the antenna heights ``ap_height_m`` /
``ue_height_m`` are added to their z coordinate. The satellite UPA frame is right-handed with

* z = the nadir direction (``world.sat_nadir_enu``, the array boresight);
* x = the component of the satellite velocity orthogonal to nadir (along-track), normalised;
  if the velocity is (nearly) parallel to nadir or missing, the ENU east axis projected
  orthogonally to nadir is used instead;
* y = z x x.

``sat_dir[k]`` is the unit vector satellite -> user k in this frame (its x, y components set
the UPA phases of (S1)).

Large-scale models. ``sat_model="paper"``: (S3) free-space gain with log-normal shadowing
sigma = ``sat_shadow_db`` and the fixed Rician factor ``kappa_db``. ``sat_model="tr38811"``:
TR 38.811 LoS probability, shadow fading, clutter loss and Rician K by the user's elevation
(NLoS users are Rayleigh). Optionally the Bessel aperture pattern (``sat_aperture_m``) scales
the per-element gain by the user's angle off the beam centre (the beam points at the site).
Per-user elevation uses the flat local frame (the area is small).

Randomness, keyed by stable ids so that a user's large-scale state is stable across epochs
(common random numbers between policies): ``cellfree/shadowing/sat`` (user id),
``cellfree/shadowing/ap`` (user id; one N(0,1) per AP in the world's AP order) and
``cellfree/ntn`` (user id: LoS uniform, shadow normal, K-factor normal).
"""

from __future__ import annotations

import functools

import numpy as np

from emulator import units
from emulator.radio import ntn
from emulator.radio.antenna import bessel_pattern_gain
from emulator.radio.pathloss import (
    cellfree_satellite_gain_db,
    cellfree_terrestrial_gain_db,
    fspl_db,
)
from emulator.radio.pilots import assign_pilots
from emulator.rng import stream
from emulator.systems.cellfree_uplink.observation import Observation


def upa_frame(nadir_enu, velocity_enu_m_s) -> np.ndarray:
    """Rows x, y, z of the satellite UPA frame expressed in ENU (see module docstring).

    Shapes: returns [3, 3] float64 (orthonormal, right-handed).
    """
    z = np.asarray(nadir_enu, dtype=float)
    z = z / np.linalg.norm(z)
    for cand in (np.asarray(velocity_enu_m_s, dtype=float), np.array([1.0, 0.0, 0.0])):
        if not np.all(np.isfinite(cand)):
            continue
        x = cand - (cand @ z) * z
        nx = np.linalg.norm(x)
        if nx > 1e-9 * max(np.linalg.norm(cand), 1e-300):
            x = x / nx
            break
    else:  # east parallel to nadir: use north
        cand = np.array([0.0, 1.0, 0.0])
        x = cand - (cand @ z) * z
        x = x / np.linalg.norm(x)
    # y = z x x, written out (np.cross costs ~0.1 ms of validation per call on 3-vectors)
    y = np.array([z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]])
    return np.vstack([x, y, z])


@functools.lru_cache(maxsize=1 << 16)
def _user_draws(seed: int, name: str, user_id: int, count: int, kind: str) -> np.ndarray:
    """The draws of user ``user_id`` on stream ``name`` (memoised: a pure function of its key).

    A user's shadowing must stay the same for its whole stay, so it comes from a stream keyed
    by the user id. Re-creating that stream every epoch dominated ``observe`` (one SeedSequence
    per user per call), so the draws are cached; the cache is bounded (LRU) and read-only.
    """
    g = stream(seed, name, user_id)
    out = g.standard_normal(count) if kind == "normal" else g.uniform(size=count)
    out.setflags(write=False)
    return out


def _per_user_normals(seed: int, name: str, user_ids, count: int) -> np.ndarray:
    k = len(user_ids)
    if k == 0:
        return np.zeros((0, count))
    return np.stack([_user_draws(int(seed), name, int(u), int(count), "normal") for u in user_ids])


@functools.lru_cache(maxsize=1 << 16)
def _ntn_draws(seed: int, user_id: int) -> tuple[float, float, float]:
    """(LoS uniform, shadowing normal, clutter normal) of one user, stable for its stay."""
    g = stream(seed, "cellfree/ntn", user_id)
    return (float(g.uniform()), float(g.standard_normal()), float(g.standard_normal()))


def observe(world, params, seed: int, epoch_index: int, prev_power_w=None) -> Observation:
    """Observation of one scheduling epoch in emulation mode.

    Args:
        world: :class:`emulator.systems.base.WorldState` (ENU geometry of the epoch).
        params: :class:`CellFreeParams` (``num_aps``/``area_side_m``/``sat_position_m`` are
            not used: the world gives the geometry).
        seed: run seed; epoch_index: epoch counter.
        prev_power_w: power in force last epoch, in the order of ``world.user_ids``
            (None -> NaN = none). Shapes: [K] float64.

    Returns:
        An :class:`Observation`; with no serving satellite (``serving_sat_id < 0`` or a NaN
        position) the satellite branch is absent (beta_sat = 0).
    """
    p = params
    ids = np.asarray(world.user_ids, dtype=np.int64)
    k = ids.shape[0]
    ue = np.asarray(world.user_enu_m, dtype=float).reshape(k, 3) + [0.0, 0.0, p.ue_height_m]
    ap = np.asarray(world.ap_enu_m, dtype=float).reshape(-1, 3) + [0.0, 0.0, p.ap_height_m]
    m = ap.shape[0]

    # terrestrial links, (S2), shadowing stable per user id
    z_ap = p.ap_shadow_db * _per_user_normals(seed, "cellfree/shadowing/ap", ids, m)  # [K, M]
    d_ap = np.linalg.norm(ap[:, None, :] - ue[None, :, :], axis=-1)  # [M, K]
    beta_ap = units.db_to_linear(
        cellfree_terrestrial_gain_db(
            d_ap, p.carrier_hz, p.ap_gain_dbi, p.ue_gain_dbi, z_ap.T, p.ap_pathloss_offset_db
        )
    )

    sat = np.asarray(world.sat_enu_m, dtype=float)
    has_sat = int(world.serving_sat_id) >= 0 and bool(np.all(np.isfinite(sat)))
    if has_sat and k:
        frame = upa_frame(world.sat_nadir_enu, world.sat_velocity_enu_m_s)
        vec = ue - sat[None, :]
        dist = np.linalg.norm(vec, axis=1)
        sat_dir = (vec / dist[:, None]) @ frame.T  # components in the UPA frame
        if p.sat_model == "paper":
            z_sat = (
                p.sat_shadow_db * _per_user_normals(seed, "cellfree/shadowing/sat", ids, 1)[:, 0]
            )
            beta_db = cellfree_satellite_gain_db(
                dist, p.carrier_hz, p.sat_gain_dbi, p.ue_gain_dbi, z_sat
            )  # (S3)
            kappa = np.full(k, float(units.db_to_linear(p.kappa_db)))
        else:
            elev = units.rad_to_deg(np.arcsin(np.clip(-vec[:, 2] / dist, -1.0, 1.0)))
            draws = np.array([_ntn_draws(int(seed), int(u)) for u in ids]).reshape(k, 3)
            _, loss_db, kappa = ntn.large_scale(
                elev, draws[:, 0], draws[:, 1], draws[:, 2], p.ntn_scenario, p.ntn_band
            )
            beta_db = p.sat_gain_dbi + p.ue_gain_dbi - fspl_db(dist, p.carrier_hz) - loss_db
        if p.sat_aperture_m is not None:
            centre = -sat / np.linalg.norm(sat)
            cosang = np.clip((vec / dist[:, None]) @ centre, -1.0, 1.0)
            gain = bessel_pattern_gain(np.arccos(cosang), p.sat_aperture_m, p.carrier_hz)
            beta_db = beta_db + units.linear_to_db(np.maximum(gain, 1e-300))
        beta_sat = units.db_to_linear(beta_db)
    else:
        beta_sat = np.zeros(k)
        kappa = np.zeros(k)
        sat_dir = np.tile([0.0, 0.0, 1.0], (k, 1))

    prev = np.full(k, np.nan) if prev_power_w is None else np.asarray(prev_power_w, dtype=float)
    if prev.shape != (k,):
        raise ValueError(
            f"prev_power_w: expected shape ({k},) in the order of world.user_ids, got {prev.shape}"
        )
    tau_p = p.resolved_tau_p(k)
    return Observation(
        params=p,
        beta_ap=beta_ap.reshape(m, k),
        beta_sat=np.asarray(beta_sat, dtype=float),
        kappa=np.asarray(kappa, dtype=float),
        sat_dir=np.asarray(sat_dir, dtype=float).reshape(k, 3),
        pilot_index=assign_pilots(k, tau_p),
        max_power_w=np.full(k, float(p.max_power_w)),
        user_ids=ids,
        prev_power_w=prev.copy(),
        seed=int(seed),
        epoch_index=int(epoch_index),
        t_s=float(world.t_s),
        elevation_deg=float(world.elevation_deg),
        slant_range_m=float(world.slant_range_m),
        serving_sat_id=int(world.serving_sat_id),
    )
