"""Every registered policy passes ``policies.check_policy`` (and the checker catches faults)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import policies
from policies.conformance import ConformanceError, check_policy
from tests.test_engine_support import Constant

SHIPPED = [e.id for e in policies.entries() if not e.id.startswith("test-")]


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_registered_policy_conforms(policy_id):
    result = check_policy(policies.make(policy_id))
    assert all(result.values())


class Mutates(Constant):
    def decide(self, obs):
        obs.max_power_w[0] = 0.0  # mutates its input
        return super().decide(obs)


class Flaky(Constant):
    def __init__(self):
        self.n = 0

    def decide(self, obs):
        self.n += 1
        d = super().decide(obs)
        return dataclasses.replace(d, power_w=d.power_w * (1.0 if self.n % 2 else 0.5))


class OverBudget(Constant):
    def decide(self, obs):
        d = super().decide(obs)
        return dataclasses.replace(d, power_w=4.0 * d.power_w)


class IdentityDependent(Constant):
    """Caches on the object identity: equal copies give different answers."""

    def __init__(self):
        self.cache = {}

    def decide(self, obs):
        d = super().decide(obs)
        if id(obs) in self.cache:
            return self.cache[id(obs)]
        self.cache[id(obs)] = d
        return (
            dataclasses.replace(d, power_w=np.zeros_like(d.power_w)) if len(self.cache) > 1 else d
        )


@pytest.mark.parametrize(
    "policy, match",
    [
        (Mutates(), "mutated"),
        (Flaky(), "not deterministic"),
        (OverBudget(), "invalid"),
        (IdentityDependent(), "equal copy"),
    ],
)
def test_checker_catches_faulty_policies(policy, match):
    with pytest.raises(ConformanceError, match=match):
        check_policy(policy)
