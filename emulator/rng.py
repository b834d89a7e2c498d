"""Named, counter-based random streams (DESIGN section 5).

Every exogenous process draws from its own stream keyed by a *stable name* and integer
counters, never by creation order::

    rng = stream(seed, "fading", epoch_index)

The key is hashed with BLAKE2b (stable across Python processes and versions, unlike
``hash()``), and fed with the seed to :class:`numpy.random.SeedSequence`, whose output seeds a
PCG64 generator. Consequences:

* two policies run with the same seed see identical worlds (common random numbers);
* any epoch's draws can be regenerated alone (resume, replay, single-epoch re-execution);
* there is no global RNG anywhere.
"""

from __future__ import annotations

import hashlib

import numpy as np

_MASK_32 = 0xFFFFFFFF


def _name_words(name: str) -> tuple[int, ...]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def stream_key(name: str, *counters: int) -> tuple[int, ...]:
    """The spawn key of stream ``name`` at ``counters`` (what a trace records to re-create it)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"stream name must be a non-empty str, got {name!r}")
    words: list[int] = list(_name_words(name))
    for c in counters:
        c = int(c)
        if c < 0:
            raise ValueError(f"stream counters must be >= 0, got {c} for stream {name!r}")
        # 64-bit counters split into two 32-bit words, so any int64 counter is allowed
        words.extend((c & _MASK_32, (c >> 32) & _MASK_32))
    return tuple(words)


def stream(seed: int, name: str, *counters: int) -> np.random.Generator:
    """Independent generator for stream ``name`` at ``counters`` under run ``seed``.

    Args:
        seed: the run seed (non-negative int).
        name: a stable stream name, e.g. ``"fading"``, ``"arrivals"``, ``"shadowing/ap"``.
        *counters: non-negative ints (epoch index, coherence-interval index, user id, ...).

    Returns:
        A fresh ``numpy.random.Generator`` (PCG64); equal arguments give equal draws.
    """
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    ss = np.random.SeedSequence(entropy=seed, spawn_key=stream_key(name, *counters))
    return np.random.Generator(np.random.PCG64(ss))


def stream_seed(seed: int, name: str, *counters: int) -> int:
    """A 63-bit integer derived from the stream (for libraries wanting an int seed: torch)."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=stream_key(name, *counters))
    return int(ss.generate_state(2, dtype=np.uint32).view(np.uint64)[0] & ((1 << 63) - 1))
