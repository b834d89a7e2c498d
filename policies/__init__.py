"""Decision policies, their registry and the conformance checker.

``import policies`` imports neither torch nor cvxpy: a policy's module loads in :func:`make`.
"""

from policies.base import Policy, PolicyError
from policies.conformance import ConformanceError, check_policy
from policies.registry import entries, entry, make, policy_class, register

__all__ = [
    "ConformanceError",
    "Policy",
    "PolicyError",
    "check_policy",
    "entries",
    "entry",
    "make",
    "policy_class",
    "register",
]
