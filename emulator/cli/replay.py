"""``replay TRACE_DIR --policy ID [--out DIR]`` and ``replay TRACE_DIR --epoch N --policy ID``.

The first re-runs a policy on the recorded observations of a trace (no geometry, no channel
generation) and writes a new trace that links to its source. The second re-executes one epoch
alone and prints the decision and KPIs next to the recorded ones. See :mod:`emulator.replay`.
Exit status: 0 (with ``--epoch``: 0 as well when the result differs; the table says so),
2 on bad input (another schema version, missing parts, unknown policy, epoch out of range).
"""

from __future__ import annotations

import argparse

from emulator.cli.common import UsageError, show_progress


def add_parser(subparsers) -> None:
    """Register the ``replay`` sub-command."""
    p = subparsers.add_parser(
        "replay",
        help="re-run a policy on a trace's recorded observations (or one epoch of it)",
        description=(
            "Re-run a policy on exactly the recorded inputs of a trace: the same epochs, "
            "channels and arrivals, without generating geometry or channels. The new trace "
            "links to its source. With --epoch N, re-execute that epoch alone and print its "
            "decision and KPIs next to the recorded ones."
        ),
    )
    p.add_argument("trace_dir", help="a complete trace folder written by `run`")
    p.add_argument(
        "--policy", default=None, metavar="ID", help="policy to replay (default: the recorded one)"
    )
    p.add_argument("--epoch", type=int, default=None, metavar="N", help="re-execute one epoch")
    p.add_argument("--out", default=None, metavar="DIR", help="new trace folder (whole replay)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Replay the trace (or one epoch) and print the result."""
    from emulator import replay

    if args.policy is not None:
        import policies

        policies.entry(args.policy)  # did-you-mean error, exit 2
    if args.epoch is not None:
        if args.out is not None:
            raise UsageError(
                "--epoch and --out both given: expected one; a single-epoch re-execution "
                "prints its result and writes no trace (drop --out)"
            )
        if args.epoch < 0:
            raise UsageError(f"expected --epoch >= 0, got {args.epoch}; fix --epoch")
        er = replay.replay_epoch(args.trace_dir, args.epoch, args.policy)
        print(replay.format_epoch_replay(er))
        return 0
    out = replay.replay_trace(
        args.trace_dir, args.policy, out_dir=args.out, quiet=not show_progress(args)
    )
    s = replay.replay_summary(out)
    print(f"replay: {out}")
    print(
        f"policy {s['policy']} on {s['epochs']} recorded epochs of {args.trace_dir}: mean sum "
        f"rate {s['mean_sum_rate_bps'] / 1e6:.3f} Mbit/s, {s['fallbacks']} fallbacks"
    )
    return 0
