"""The closed-form uplink SINR and sum rate of seed 002 in torch (the unsupervised loss).

Uses the well-conditioned form of spec section 4.4: with ``x_k = rho_k / P_max,k`` in [0, 1],
``A~_k = P_max,k a_k^2 / NO_k`` and ``D~_kj = D_kj P_max,j / NO_k``,

    SINR_k = x_k A~_k / ((D~ x)_k + 1),                      # eq. (S8) of the spec, = (22)-(24)

which is exact and float32-safe. The loss is the negative sum rate (51) of 002 with the
corrected SINR. Zero-padded users (``x = 0``, ``A~ = 0``, zero rows/columns of ``D~``)
contribute nothing, so padded batches need no mask.
"""

from __future__ import annotations

import math

import torch


def sinr(x: torch.Tensor, a_tilde: torch.Tensor, d_tilde: torch.Tensor) -> torch.Tensor:
    """Per-user SINR of the closed form (S8) in the normalised variables.

    Args:
        x: power fractions ``rho / P_max``. Shapes: [B, K] (or [K]).
        a_tilde: ``P_max a^2 / NO``. Shapes: [B, K] (or [K]).
        d_tilde: ``D P_max / NO`` (row k = victim k). Shapes: [B, K, K] (or [K, K]).

    Returns:
        SINR per user, same shape as ``x``.
    """
    interference = torch.matmul(d_tilde, x.unsqueeze(-1)).squeeze(-1) + 1.0  # (D~x)_k + 1
    return x * a_tilde / interference


def sum_rate_bps(
    x: torch.Tensor, a_tilde: torch.Tensor, d_tilde: torch.Tensor, prelog_bps
) -> torch.Tensor:
    """Sum rate ``B (1 - tau_p/tau_c) sum_k log2(1 + SINR_k)`` per drop, eq. (19) of 002.

    Args:
        x, a_tilde, d_tilde: as in :func:`sinr`.
        prelog_bps: ``B (1 - tau_p / tau_c)`` in bit/s; a float or a [B] tensor.

    Returns:
        Sum rate per drop [bit/s]. Shapes: [B] (or scalar for unbatched input).
    """
    s = sinr(x, a_tilde, d_tilde)
    return torch.as_tensor(prelog_bps, dtype=s.dtype) * torch.log1p(s).sum(-1) / math.log(2.0)


def loss(x: torch.Tensor, a_tilde: torch.Tensor, d_tilde: torch.Tensor, prelog_bps) -> torch.Tensor:
    """Unsupervised loss (51) of 002: minus the batch-mean sum rate, in Mbit/s.

    Computed in float64 whatever the network's dtype (the spec allows float32 for the network
    and float64 for the loss), so the Mbit/s scale never costs precision.
    """
    rate = sum_rate_bps(x.double(), a_tilde.double(), d_tilde.double(), prelog_bps)
    return -(rate / 1e6).mean()
