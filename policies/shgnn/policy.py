"""Policy ``shgnn-v1``: SHGNN power control + scheduling of seed 002 in the loop.

``decide(obs)`` builds the graph features of the observation with
:func:`policies.shgnn.graph.features` (the same code as training and export), runs the network
once without gradient, and maps its output to powers ``rho = P_max * x`` (the box holds by
construction). Scheduling follows (44) with the AO's threshold (spec 6.2, E8):
``scheduled = rho > eps_s * P_max``; unscheduled users get exactly 0 W.

Weights are loaded once per file per process (``torch.load(..., weights_only=True)``) from the
package's ``weights/`` directory:

* ``"stable"``: GNN-Stable (trained at K = 30, tau_p = 15), the default;
* ``"robust"``: the GNN-Robust model whose training K is nearest the observation's K (the
  Stable model counts as the K = 30 Robust model: its training configuration is the same);
* ``"robust-k<K>"``: that member of the Robust family (``robust-k30`` is ``stable``);
* any other stem in ``weights/`` (e.g. ``"stable-neighbour"``), or a path to a ``.pt`` file
  with its ``.json`` beside it.

Profiles: the models are trained per system profile. On an observation whose parameters
carry a profile's overrides (``cellfree_uplink.PROFILES``, e.g. CAL) a name resolves to that
profile's model (``cal-stable``, ``cal-robust-k20``, ...) when it is shipped.

The SAT-UE edge feature (47) has ``2N + 2N^2`` entries, so a model is tied to the satellite
array size N (any M and K are fine). When the requested model does not match the
observation's N, the policy uses a shipped model trained at that N (``reduced``: the spec's
reduced configuration, N = 2 x 2, used by the conformance check's canned observation), and
says so in the diagnostics (``weights_substituted = 1``); with none shipped it raises a
one-line ``ValueError``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from policies.shgnn.graph import (
    Normalisation,
    collate,
    features,
    sat_feature_dim,
    uses_statistics,
)
from policies.shgnn.model import SHGNN
from policies.shgnn.train import build_model

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SYSTEM = "cellfree_uplink"

_LOADED: dict[str, tuple[SHGNN, Normalisation, dict]] = {}


def weights_path(name: str) -> Path:
    """Resolve a weights name or path to an existing ``.pt`` file.

    Raises:
        ValueError: unknown name (the message lists the shipped ones).
    """
    p = Path(name)
    if p.suffix == ".pt" and p.is_file():
        return p
    cand = WEIGHTS_DIR / f"{name}.pt"
    if cand.is_file():
        return cand
    shipped = sorted(f.stem for f in WEIGHTS_DIR.glob("*.pt"))
    raise ValueError(
        f"SHGNN weights {name!r} not found: expected one of {shipped + ['robust']} or a .pt path"
    )


def load_weights(name: str) -> tuple[SHGNN, Normalisation, dict]:
    """Load (once per process) a model, its normalisation and its JSON metadata."""
    path = weights_path(name)
    key = str(path.resolve())
    if key not in _LOADED:
        meta = json.loads(path.with_suffix(".json").read_text())
        hyper = meta["hyper"]
        model = build_model(hyper)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        for prm in model.parameters():
            prm.requires_grad_(False)
        _LOADED[key] = (model, Normalisation.from_dict(meta["normalisation"]), meta)
    return _LOADED[key]


def profile_of(params) -> str:
    """The system profile (``cellfree_uplink.PROFILES``) whose overrides ``params`` carry."""
    from emulator.systems import get_system

    for name, overrides in get_system(SYSTEM).PROFILES.items():
        if overrides and all(getattr(params, k, None) == v for k, v in overrides.items()):
            return name
    return "PHYS"


def _prefix(profile: str) -> str:
    return "" if profile == "PHYS" else f"{profile.lower()}-"


def robust_table(profile: str = "PHYS") -> dict[int, str]:
    """Training K -> weights name of the GNN-Robust family of ``profile``.

    The family is ``<prefix>robust-k*`` plus ``<prefix>stable`` (prefix ``""`` for PHYS,
    ``"cal-"`` for CAL); an explicit ``robust-k<K>`` wins over ``stable`` at the same K.
    """
    pre = _prefix(profile)
    table: dict[int, str] = {}
    for js in sorted(WEIGHTS_DIR.glob("*.json")):
        stem = js.stem
        if stem == f"{pre}stable" or stem.startswith(f"{pre}robust-k"):
            if not js.with_suffix(".pt").is_file():
                continue
            k = int(json.loads(js.read_text())["config"]["data"]["num_users"])
            if stem.startswith(f"{pre}robust-k") or k not in table:
                table[k] = stem
    return table


def shipped_for_antennas(num_antennas: int, variant: str) -> str | None:
    """A shipped weights stem whose SAT-edge dimension fits N antennas (same variant first)."""
    dim = sat_feature_dim(num_antennas)
    found = []
    for js in sorted(WEIGHTS_DIR.glob("*.json")):
        if not js.with_suffix(".pt").is_file():
            continue
        hyper = json.loads(js.read_text())["hyper"]
        if int(hyper["sat_dim"]) == dim:
            found.append((hyper["variant"] != variant, js.stem))
    return min(found)[1] if found else None


def resolve_name(weights: str, num_users: int, profile: str = "PHYS") -> str:
    """The concrete weights name for ``weights`` at K users on a ``profile`` observation.

    ``"robust"`` picks the nearest training K; ``"robust-k<K>"`` without its own file is the
    family member trained at that K (``stable`` at K = 30). For a non-PHYS profile the
    profile's own model (``cal-<name>``) is used when shipped. Paths are returned unchanged.
    """
    if weights.endswith(".pt"):
        return weights
    if weights == "robust":
        table = robust_table(profile) or robust_table("PHYS")
        if not table:
            raise ValueError("no GNN-Robust weights shipped (expected weights/robust-k*.pt)")
        return table[min(table, key=lambda k: (abs(k - num_users), k))]
    for prof in dict.fromkeys([profile, "PHYS"]):
        name = f"{_prefix(prof)}{weights}"
        if (WEIGHTS_DIR / f"{name}.pt").is_file():
            return name
        if re.fullmatch(r"robust-k\d+", weights):
            k = int(weights[len("robust-k") :])
            if k in robust_table(prof):
                return robust_table(prof)[k]
    return weights  # load_weights raises the one-line "not found" error


class SHGNNPolicy:
    """Policy ``shgnn-v1`` on the ``cellfree_uplink`` system.

    Args:
        weights: ``"stable"`` (default), ``"robust"``, a shipped stem or a ``.pt`` path.
        num_threads: torch intra-op threads used while deciding (>= 1).
        eps_s: scheduling threshold as a fraction of ``P_max`` (44); same default as ``ao-v1``.
    """

    id = "shgnn-v1"
    system = SYSTEM

    def __init__(self, weights: str = "stable", num_threads: int = 1, eps_s: float = 1e-3):
        if not isinstance(weights, str) or not weights:
            raise ValueError(
                f"shgnn-v1 parameter weights: expected a name or path, got {weights!r}"
            )
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(
                f"shgnn-v1 parameter num_threads: expected int >= 1, got {num_threads!r}"
            )
        if isinstance(eps_s, bool) or not isinstance(eps_s, (int, float)) or not 0 <= eps_s < 1:
            raise ValueError(
                f"shgnn-v1 parameter eps_s: expected a number in [0, 1), got {eps_s!r}"
            )
        self.weights = weights
        self.num_threads = int(num_threads)
        self.eps_s = float(eps_s)
        if weights == "robust":
            for name in robust_table().values():  # load every member once, up front
                load_weights(name)
            if not robust_table():
                resolve_name(weights, 0)  # raises the one-line error
        else:
            load_weights(resolve_name(weights, 0))

    def power_fraction(self, obs) -> tuple[np.ndarray, dict]:
        """Network output ``x = rho / P_max`` for ``obs`` and timing diagnostics.

        Shapes: returns [K] float64 in (0, 1).
        """
        t0 = time.perf_counter()
        k = int(np.asarray(obs.max_power_w).shape[0])
        name = resolve_name(self.weights, k, profile_of(obs.params))
        model, norm, _ = load_weights(name)
        substituted = 0.0
        n_ant = int(np.asarray(obs.gbar).shape[1])
        if model.sat_dim != sat_feature_dim(n_ant):
            other = shipped_for_antennas(n_ant, model.variant)
            if other is None:
                raise ValueError(
                    f"SHGNN weights {name!r} expect SAT-edge dimension {model.sat_dim}, the "
                    f"observation has N = {n_ant} antennas (dimension {sat_feature_dim(n_ant)}); "
                    "fix: train weights at this N (policies/shgnn/train.py) and pass weights=PATH"
                )
            model, norm, _ = load_weights(other)
            substituted = 1.0
        stats = None
        if uses_statistics(model.variant):
            from emulator.systems import get_system

            stats = get_system(SYSTEM).statistics(obs).normalised()
        g = features(obs, norm, model.variant, stats)
        t1 = time.perf_counter()
        prev_threads = torch.get_num_threads()
        if prev_threads != self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                t = collate([g], with_loss=False)
                x = model(
                    t["edge_ap_ue"], t["edge_sat_ue"], t["ue_feat"], t["w_in"], t["a_tilde"],
                    t["d_tilde"],
                )[0]  # fmt: skip
        finally:
            if prev_threads != self.num_threads:
                torch.set_num_threads(prev_threads)
        t2 = time.perf_counter()
        diag = {
            "features_time_s": t1 - t0,
            "forward_time_s": t2 - t1,
            "solve_time_s": t2 - t0,
            "weights_substituted": substituted,
        }
        return x.double().numpy().copy(), diag

    def decide(self, obs):
        """Powers and scheduled set for ``obs`` (a ``cellfree_uplink`` Observation)."""
        from emulator.systems import get_system

        cf = get_system(SYSTEM)
        p_max = np.asarray(obs.max_power_w, dtype=np.float64)
        if p_max.size == 0:
            x, diag = np.zeros(0), {"solve_time_s": 0.0}
        else:
            x, diag = self.power_fraction(obs)
        power = np.minimum(p_max * x, p_max)
        scheduled = power > self.eps_s * p_max  # eq. (44), thresholded (spec E8)
        power = np.where(scheduled, power, 0.0)
        diag["num_scheduled"] = float(np.count_nonzero(scheduled))
        return cf.Decision(
            power_w=power,
            scheduled=scheduled,
            user_ids=np.asarray(obs.user_ids, dtype=np.int64).copy(),
            diagnostics=diag,
        )
