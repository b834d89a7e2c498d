"""SHGNN: typed message passing on the AP / SAT / UE graph, eqs. (45)-(50) of 002.

Layer l = 1..D updates all vertex types synchronously from the layer l-1 states (spec 6.2):

    m_AP[m,k] = MLP1(e_mk, u_k)       b_m = ReLU(MLP2(b_m, mean_k m_AP[m,k]))    # (48)
    m_S[k]    = MLP3(e_sk, u_k)       s   = ReLU(MLP4(s,   mean_k m_S[k]))       # (49)
    a_UA[k]   = mean_m MLP5(e_mk, b_m);  a_US[k] = MLP6(e_sk, s)
    u_k       = ReLU(MLP7(u_k, a_UA[k], a_US[k] [, W u, W^T u]))                  # (50)

with the neighbour-state fix of erratum E10 (``variant="neighbour"``/``"enhanced"``); the
printed form, which feeds each vertex its *own* state (``MLP1(e_mk, b_m)``, ``MLP5(e_mk, u_k)``,
``MLP3(e_sk, s)``, ``MLP6(e_sk, u_k)``), is ``variant="paper_literal"``. ``"enhanced"`` adds two
UE-UE aggregations over the interference edges ``W`` of :mod:`policies.shgnn.graph`.
Readout (spec 6.2): ``rho = P_max * sigmoid(MLP8(u^D))``, last bias +2. ``"refine"`` (not in
seed 002) then applies ``refine_steps`` learned refinements of the logits, each fed the exact
closed-form gradient parts at the current powers (:func:`refine_features`).

Every ``MLPi`` is ``Linear -> ReLU -> Linear``. For an edge MLP followed by a mean, the
first Linear of ``MLP(cat(e, h))`` is split into ``W_e e + W_h h`` (computed on the broadcast
grid) and the second Linear is applied *after* the mean: ``mean(W2 z + b2) = W2 mean(z) + b2``
exactly, so the network is the spec's, only cheaper (no [B, M, K, H] x H matmul).

Permutation equivariance over UEs and invariance over APs hold by construction (elementwise
maps, means and ``W``-products only); any M and K are accepted. Shapes: B batch, M APs, K UEs,
H hidden, F SAT-edge dimension.
"""

from __future__ import annotations

import torch
from torch import nn

from policies.shgnn.graph import check_variant, ue_feature_dim, uses_statistics

#: number of per-UE features of the current power vector fed to a refinement step.
NUM_REFINE_FEATURES = 5


def refine_features(x: torch.Tensor, a_tilde: torch.Tensor, d_tilde: torch.Tensor) -> torch.Tensor:
    """Per-UE features of the closed form (S8) at the current power fractions ``x``.

    With ``I = 1 + D~ x`` and ``S = x A~``: the spectral efficiency ``ln(1 + S/I)``, the two
    parts of the exact sum-rate gradient ``d/dx_k sum_j ln(1 + SINR_j) = b_k - h_k`` --
    ``b_k = A~_k / (I_k + S_k)`` (own benefit) and ``h_k = sum_j D~_jk S_j / (I_j (I_j + S_j))``
    (harm to every user, itself included through ``D~_kk``) -- as ``ln b / 10``,
    ``ln h / 10`` and ``tanh(ln(b / h) / 4)``, and ``x`` itself. Computed in float64.

    Shapes: x, a_tilde [B, K]; d_tilde [B, K, K] -> [B, K, 5] (dtype of ``x``).
    """
    xd = x.double()
    interference = torch.matmul(d_tilde, xd.unsqueeze(-1)).squeeze(-1) + 1.0
    signal = xd * a_tilde
    benefit = a_tilde / (interference + signal)
    victim = signal / (interference * (interference + signal))
    harm = torch.matmul(d_tilde.transpose(1, 2), victim.unsqueeze(-1)).squeeze(-1)
    tiny = 1e-30
    lb = torch.log(benefit + tiny)
    lh = torch.log(harm + tiny)
    feats = torch.stack(
        [torch.log1p(signal / interference), lb / 10.0, lh / 10.0, torch.tanh((lb - lh) / 4.0), xd],
        dim=-1,
    )
    return feats.to(x.dtype)


class NodeMLP(nn.Module):
    """``Linear(in, H) -> ReLU -> Linear(H, H)`` on a concatenation of vertex inputs."""

    def __init__(self, in_dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat(parts, dim=-1))


class EdgeMLP(nn.Module):
    """``MLP(cat(e, h))`` with the first Linear split as ``W_e e + W_h h + b1``."""

    def __init__(self, edge_dim: int, state_dim: int, hidden: int):
        super().__init__()
        self.lin_e = nn.Linear(edge_dim, hidden)
        self.lin_h = nn.Linear(state_dim, hidden, bias=False)
        self.lin_out = nn.Linear(hidden, hidden)

    def hidden(self, edge_proj: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """``ReLU(W_e e + b1 + W_h h)``; ``edge_proj = lin_e(e)`` broadcasts against ``state``."""
        return torch.relu_(edge_proj + self.lin_h(state))

    def hidden_scalar_edge(self, e: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """:meth:`hidden` for a 1-dim edge feature ``e`` [..., 1], fused in one pass:
        ``ReLU((b1 + W_h h) + e * w_e)`` (no [.., 1] x [1, H] matmul, no extra temporaries)."""
        base = self.lin_h(state) + self.lin_e.bias
        return torch.relu_(torch.addcmul(base, e, self.lin_e.weight[:, 0]))

    def mean_out(self, z: torch.Tensor, dim: int) -> torch.Tensor:
        """``mean_dim MLP(...)`` = ``lin_out(mean_dim z)`` (exact: ``lin_out`` is affine)."""
        return self.lin_out(z.mean(dim=dim))


class SHGNNLayer(nn.Module):
    """One synchronous update of AP, SAT and UE states (eqs. (48)-(50) of 002)."""

    def __init__(
        self,
        du: int,
        db: int,
        ds: int,
        sat_dim: int,
        hidden: int,
        variant: str,
        update_ap_sat: bool = True,
    ):
        super().__init__()
        self.variant = variant
        self.update_ap_sat = update_ap_sat
        literal = variant == "paper_literal"
        h = hidden
        # messages into UEs: from APs (MLP5) and from the SAT (MLP6)
        self.mlp5 = EdgeMLP(1, du if literal else db, h)
        self.mlp6 = EdgeMLP(sat_dim, du if literal else ds, h)
        extra = 0
        if uses_statistics(variant):
            self.uu_in = nn.Linear(du, h)
            self.uu_out = nn.Linear(du, h)
            extra = 2 * h
        self.mlp7 = NodeMLP(du + 2 * h + extra, h)
        if update_ap_sat:  # the last layer's AP/SAT states are never read
            self.mlp1 = EdgeMLP(1, db if literal else du, h)
            self.mlp2 = NodeMLP(db + h, h)
            self.mlp3 = EdgeMLP(sat_dim, ds if literal else du, h)
            self.mlp4 = NodeMLP(ds + h, h)

    def forward(self, e_ap, e_sat, w_in, u, b, s):
        """Shapes: e_ap [B,M,K,1], e_sat [B,K,F], w_in [B,K,K]|None, u [B,K,du],
        b [B,M,db], s [B,1,ds] -> (u', b', s') with H columns (b', s' None if not updated)."""
        literal = self.variant == "paper_literal"
        # UE <- AP, eq. (50): mean over APs of MLP5(e_mk, b_m) (literal: MLP5(e_mk, u_k))
        state5 = u.unsqueeze(1) if literal else b.unsqueeze(2)
        z5 = self.mlp5.hidden_scalar_edge(e_ap, state5)  # [B,M,K,H]
        a_ua = self.mlp5.mean_out(z5, dim=1)  # [B,K,H]
        # UE <- SAT: MLP6(e_sk, s) (literal: MLP6(e_sk, u_k))
        state6 = u if literal else s
        a_us = self.mlp6.lin_out(self.mlp6.hidden(self.mlp6.lin_e(e_sat), state6))  # [B,K,H]
        parts = [u, a_ua, a_us]
        if uses_statistics(self.variant):
            parts.append(torch.matmul(w_in, self.uu_in(u)))  # interferers of k
            parts.append(torch.matmul(w_in.transpose(1, 2), self.uu_out(u)))  # victims of k
        u_new = torch.relu(self.mlp7(*parts))
        if not self.update_ap_sat:
            return u_new, None, None
        # AP <- UE, eq. (48): mean over UEs of MLP1(e_mk, u_k) (literal: MLP1(e_mk, b_m))
        state1 = b.unsqueeze(2) if literal else u.unsqueeze(1)
        z1 = self.mlp1.hidden_scalar_edge(e_ap, state1)  # [B,M,K,H]
        m_ap = self.mlp1.mean_out(z1, dim=2)  # [B,M,H]
        b_new = torch.relu(self.mlp2(b, m_ap))
        # SAT <- UE, eq. (49): mean over UEs of MLP3(e_sk, u_k) (literal: MLP3(e_sk, s))
        state3 = s if literal else u
        m_s = self.mlp3.mean_out(self.mlp3.hidden(self.mlp3.lin_e(e_sat), state3), dim=1)
        s_new = torch.relu(self.mlp4(s, m_s.unsqueeze(1)))
        return u_new, b_new, s_new


class RefineStep(nn.Module):
    """One learned refinement of the powers (variant ``"refine"``, not in seed 002).

    ``u <- ReLU(MLP(u, f(x), W u, W^T u))`` and ``z <- z + MLP_out(u)``, with ``f`` the
    closed-form features of :func:`refine_features` at the current ``x = sigmoid(z)``: an
    unrolled, learned ascent on the sum rate. Per-UE maps and ``W``-products only, so
    permutation equivariance and any-(M, K) operation are kept.
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.uu_in = nn.Linear(hidden, hidden)
        self.uu_out = nn.Linear(hidden, hidden)
        self.update = NodeMLP(hidden + NUM_REFINE_FEATURES + 2 * hidden, hidden)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        with torch.no_grad():  # start as the identity refinement
            self.head[2].weight.zero_()
            self.head[2].bias.zero_()

    def forward(self, u, z, w_in, a_tilde, d_tilde):
        """Shapes: u [B,K,H], z [B,K], w_in/d_tilde [B,K,K], a_tilde [B,K] -> (u, z)."""
        f = refine_features(torch.sigmoid(z), a_tilde, d_tilde)
        agg_in = torch.matmul(w_in, self.uu_in(u))
        agg_out = torch.matmul(w_in.transpose(1, 2), self.uu_out(u))
        u = torch.relu(self.update(u, f, agg_in, agg_out))
        return u, z + self.head(u).squeeze(-1)


class SHGNN(nn.Module):
    """The SHGNN power-control network; outputs ``x = rho / P_max`` in (0, 1).

    Args:
        sat_dim: SAT-UE edge dimension ``2N + 2N^2``.
        hidden: H, hidden size of every vertex type.
        layers: D >= 2 (information crosses UE -> AP/SAT -> UE in two hops).
        variant: ``"paper_literal"``, ``"neighbour"``, ``"enhanced"`` or ``"refine"``.
        refine_steps: refinement steps after the readout (variant ``"refine"`` only).
    """

    def __init__(
        self,
        sat_dim: int,
        hidden: int = 64,
        layers: int = 3,
        variant: str = "neighbour",
        refine_steps: int = 3,
    ):
        super().__init__()
        check_variant(variant)
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        self.variant = variant
        self.sat_dim = sat_dim
        self.hidden_dim = hidden
        self.refine_steps = int(refine_steps) if variant == "refine" else 0
        self.refine = nn.ModuleList(RefineStep(hidden) for _ in range(self.refine_steps))
        du0 = ue_feature_dim(variant)
        self.layers = nn.ModuleList(
            SHGNNLayer(
                du0 if i == 0 else hidden,
                1 if i == 0 else hidden,
                1 if i == 0 else hidden,
                sat_dim,
                hidden,
                variant,
                update_ap_sat=i < layers - 1,
            )
            for i in range(layers)
        )
        self.readout = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        with torch.no_grad():
            self.readout[2].bias.fill_(2.0)  # start near sigmoid(2) = 0.88 P_max (spec 6.2)

    def logits(
        self, edge_ap_ue, edge_sat_ue, ue_feat, w_in=None, a_tilde=None, d_tilde=None
    ) -> torch.Tensor:
        """Pre-sigmoid outputs. Shapes: inputs as :func:`policies.shgnn.graph.collate`;
        returns [B, K]."""
        if uses_statistics(self.variant) and w_in is None:
            raise ValueError(f"variant {self.variant!r} needs the UE-UE weights w_in")
        if self.refine_steps and (a_tilde is None or d_tilde is None):
            raise ValueError("variant 'refine' needs a_tilde and d_tilde")
        bsz, m_count = edge_ap_ue.shape[0], edge_ap_ue.shape[1]
        u = ue_feat
        b = edge_ap_ue.new_ones((bsz, m_count, 1))
        s = edge_ap_ue.new_ones((bsz, 1, 1))
        for layer in self.layers:
            u, b, s = layer(edge_ap_ue, edge_sat_ue, w_in, u, b, s)
        z = self.readout(u).squeeze(-1)
        for step in self.refine:
            u, z = step(u, z, w_in, a_tilde, d_tilde)
        return z

    def forward(
        self, edge_ap_ue, edge_sat_ue, ue_feat, w_in=None, a_tilde=None, d_tilde=None
    ) -> torch.Tensor:
        """Power fractions ``x = rho / P_max = sigmoid(MLP8(u^D))``. Shapes: [B, K]."""
        return torch.sigmoid(self.logits(edge_ap_ue, edge_sat_ue, ue_feat, w_in, a_tilde, d_tilde))

    def hyper(self) -> dict:
        """Constructor arguments (stored in the weights' JSON)."""
        return {
            "sat_dim": self.sat_dim,
            "hidden": self.hidden_dim,
            "layers": len(self.layers),
            "variant": self.variant,
            "refine_steps": self.refine_steps,
        }
