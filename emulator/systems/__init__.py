"""Radio systems (DESIGN section 3): one module per problem family, found by name."""

from __future__ import annotations

import importlib

#: system name -> module implementing it (observe / Decision / validate / score).
SYSTEMS: dict[str, str] = {
    "cellfree_uplink": "emulator.systems.cellfree_uplink",
}


def get_system(name: str):
    """Import and return the module of system ``name``.

    Raises:
        KeyError: with the known names, when ``name`` is not a registered system.
    """
    try:
        module = SYSTEMS[name]
    except KeyError:
        raise KeyError(
            f"unknown system {name!r}: expected one of {sorted(SYSTEMS)}; fix the `system` key"
        ) from None
    return importlib.import_module(module)
