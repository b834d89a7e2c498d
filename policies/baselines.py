"""Baselines of seed 002 that need no optimiser (spec §7): full power and random power.

Both schedule every user (the paper's "all users scheduled" baselines of Figs 3-6 and 8).
"""

from __future__ import annotations

import numpy as np

from emulator.rng import stream
from emulator.systems.cellfree_uplink.decision import Decision


class FullPower:
    """Equal / full power: rho_k = P_max,k for every user, all scheduled (ref. [38] of 002)."""

    id = "full-power-v1"
    system = "cellfree_uplink"

    def decide(self, obs) -> Decision:
        """Full power for every user of ``obs``."""
        k = obs.num_users
        return Decision(
            power_w=np.array(obs.max_power_w, dtype=float, copy=True),
            scheduled=np.ones(k, dtype=bool),
            user_ids=np.array(obs.user_ids, dtype=np.int64, copy=True),
            diagnostics={},
        )


class RandomPower:
    """Random power: rho_k ~ U[0, P_max,k] i.i.d. per epoch, all scheduled (ref. [37] of 002).

    Draws from ``stream(obs.seed, "policy/random-power", obs.epoch_index)``, so it is
    deterministic for equal observations and paired across runs with the same seed.
    """

    id = "random-power-v1"
    system = "cellfree_uplink"

    def decide(self, obs) -> Decision:
        """Uniform random powers for the users of ``obs``."""
        k = obs.num_users
        rng = stream(int(obs.seed), "policy/random-power", int(obs.epoch_index))
        return Decision(
            power_w=rng.uniform(0.0, 1.0, size=k) * np.asarray(obs.max_power_w, dtype=float),
            scheduled=np.ones(k, dtype=bool),
            user_ids=np.array(obs.user_ids, dtype=np.int64, copy=True),
            diagnostics={},
        )
