"""The SimPy processes of the timeline (DESIGN section 4).

* :func:`pass_process` replays the exact pass and serving plans (AOS / TCA / LOS / handover
  at their root-found times, never by polling) and keeps the serving satellite up to date;
* :func:`arrival_process` admits users at their arrival times (blocking when the area is
  full) and starts one :func:`departure_process` per user;
* :func:`epoch_process` wakes at every epoch start, has the runner build the decision
  observation, then walks through the epoch's sampled coherence intervals, each a pilot phase
  followed by a data phase, and finally hands the epoch to the runner (which calls
  :func:`emulator.epoch.run_epoch`).

The processes only move time and keep :class:`LiveState`; everything they see is logged
through a callback ``log(t_s, kind, sat_id=-1, user_id=-1, detail="")``. All events at one
instant are handled in one wake-up, so an epoch starting at the same instant as a world event
sees the world after that event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from emulator.arrivals import UserRecord
from emulator.world import WorldEvent


@dataclass
class LiveState:
    """Mutable world state maintained by the processes.

    Attributes:
        active: active users by id (insertion = arrival order = id order).
        serving_sat_id: current serving satellite (-1: none).
        blocked: number of arrivals refused because ``max_users`` were active.
    """

    active: dict[int, UserRecord] = field(default_factory=dict)
    serving_sat_id: int = -1
    blocked: int = 0


Log = Callable[..., None]


def pass_process(env, events: Iterable[WorldEvent], state: LiveState, log: Log):
    """Apply pass-plan and serving-plan events at their times."""
    for ev in events:
        if ev.t_s > env.now:
            yield env.timeout(ev.t_s - env.now)
        if ev.kind == "handover" and ev.serving_sat_id is not None:
            state.serving_sat_id = int(ev.serving_sat_id)
        log(ev.t_s, ev.kind, sat_id=ev.sat_id, detail=ev.detail)


def departure_process(env, user: UserRecord, state: LiveState, log: Log):
    """Remove ``user`` at its departure time."""
    if user.departure_s > env.now:
        yield env.timeout(user.departure_s - env.now)
    if state.active.pop(user.user_id, None) is not None:
        log(user.departure_s, "departure", user_id=user.user_id)


def arrival_process(
    env,
    users: Iterator[UserRecord],
    state: LiveState,
    log: Log,
    max_users: int,
    horizon_s: float,
):
    """Admit users in arrival order until ``horizon_s``."""
    for user in users:
        if user.arrival_s >= horizon_s:
            return
        if user.arrival_s > env.now:
            yield env.timeout(user.arrival_s - env.now)
        if user.departure_s <= user.arrival_s:
            continue  # zero holding time: never active
        if len(state.active) >= max_users:
            state.blocked += 1
            log(user.arrival_s, "arrival_blocked", user_id=user.user_id, detail="reason=max_users")
            continue
        state.active[user.user_id] = user
        log(
            user.arrival_s,
            "arrival",
            user_id=user.user_id,
            detail=f"east_m={user.east_m!r};north_m={user.north_m!r}",
        )
        env.process(departure_process(env, user, state, log))


def epoch_process(env, runner, num_epochs: int):
    """Drive the epochs: decision observation, coherence intervals, epoch result.

    ``runner`` provides ``epoch_start(k)``, ``ci_starts(k)`` (start times of the sampled
    intervals), ``pilot_s(k, j)`` (pilot-phase duration), ``begin_epoch(k)``,
    ``coherence_interval(k, j)`` and ``finish_epoch(k)``.
    """
    for k in range(num_epochs):
        t_k = runner.epoch_start(k)
        if t_k > env.now:
            yield env.timeout(t_k - env.now)
        if k > 0:
            runner.finish_epoch(k - 1)
        runner.begin_epoch(k)
        for j, c in enumerate(runner.ci_starts(k)):
            if c > env.now:
                yield env.timeout(c - env.now)
            runner.coherence_interval(k, j)  # pilot phase: estimates formed
            pilot_s = runner.pilot_s(k, j)
            if pilot_s > 0:
                yield env.timeout(pilot_s)
            runner.data_phase(k, j)
    t_end = runner.epoch_start(num_epochs)
    if t_end > env.now:
        yield env.timeout(t_end - env.now)
    runner.finish_epoch(num_epochs - 1)
