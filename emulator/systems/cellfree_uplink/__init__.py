"""The ``cellfree_uplink`` system: integrated satellite-terrestrial cell-free massive-MIMO IoT
uplink of seed 002 (spec ``002_d547b10d790f5465.md``). API fixed in docs/CONTRACTS.md.

Submodules, one job each: :mod:`.params` (configuration, profiles), :mod:`.observation`
(observation, snapshot drops, pack/unpack), :mod:`.emulation` (observation from the world
state), :mod:`.statistics` (closed form (S5)-(S8)), :mod:`.montecarlo` (spec §4.5),
:mod:`.decision` (Decision, validate, align), :mod:`.scoring` (score).
"""

from emulator.systems.cellfree_uplink.decision import Decision, align, validate
from emulator.systems.cellfree_uplink.emulation import observe, upa_frame
from emulator.systems.cellfree_uplink.montecarlo import mc_statistics
from emulator.systems.cellfree_uplink.observation import (
    REDUCED,
    Observation,
    canned_observation,
    pack,
    snapshot_observation,
    unpack,
)
from emulator.systems.cellfree_uplink.params import (
    ARCHITECTURES,
    CPU_COMBINING,
    PROFILES,
    CellFreeParams,
    params_from_dict,
)
from emulator.systems.cellfree_uplink.scoring import score
from emulator.systems.cellfree_uplink.statistics import Statistics, statistics

NAME = "cellfree_uplink"

__all__ = [
    "ARCHITECTURES",
    "CPU_COMBINING",
    "NAME",
    "PROFILES",
    "REDUCED",
    "CellFreeParams",
    "Decision",
    "Observation",
    "Statistics",
    "align",
    "canned_observation",
    "mc_statistics",
    "observe",
    "pack",
    "params_from_dict",
    "score",
    "snapshot_observation",
    "statistics",
    "unpack",
    "upa_frame",
    "validate",
]
