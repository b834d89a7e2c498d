"""The heterogeneous wireless interference graph of seed 002 (section V-A), written once.

The same functions build the features in training (:mod:`policies.shgnn.data`), in the loop
(:mod:`policies.shgnn.policy`) and in export (``run_emulation.py export-graphs``), so the
features and their normalisation cannot drift apart.

Graph (spec section 6.1):

* vertex types AP (M), SAT (1) and UE (K); edges AP-UE (complete bipartite) and SAT-UE;
* UE input feature ``P_max,k / P_ref`` (1-dim); AP and SAT input feature the constant 1;
* AP-UE edge feature ``(10 log10(beta_mk / sigma_a^2) - mu_beta) / s_beta`` (1-dim);
* SAT-UE edge feature (47) with the LoS mean instead of the instantaneous channel (erratum
  E10): ``[Re gbar_k; Im gbar_k] / sqrt(c_s)`` and ``[Re vec R_k; Im vec R_k] / c_s``, after the
  AP-noise normalisation of spec section 2.4, with ``c_s`` the training median of
  ``beta_k / sigma_a^2``. Dimension ``2N + 2N^2`` (1300 for N = 25).

Variant ``"enhanced"`` (not in seed 002, documented in the README): the UEs additionally carry
four per-UE normalised statistics of the closed form, and UE-UE "interference edges" weighted
by ``W_kj = D~_kj / (1 + sum_i D~_ki)`` (j != k): the share of UE k's full-power
interference-plus-noise that UE j causes (spec section 4.4 notation; this is the spec's optional
UE-UE edge extension, with every interfering pair instead of co-pilot pairs only). All extra
features are per-UE or per-UE-pair functions of ``(A~, D~)``, so permutation equivariance and
any-(M, K) operation are kept. Variant ``"refine"`` uses the same graph; its model adds learned
refinement steps on the closed form (:mod:`policies.shgnn.model`).

Shapes use M = APs, K = users, N = satellite antennas, F = 2N + 2N^2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import networkx as nx
import numpy as np

from emulator.units import linear_to_db

#: Model variants: the printed layers (48)-(50), the neighbour-state fix of erratum E10, the
#: neighbour-state graph with per-UE statistics and UE-UE interference edges, and the latter
#: with learned refinement steps on the closed form (the shipped GNN-Stable / GNN-Robust).
VARIANTS = ("paper_literal", "neighbour", "enhanced", "refine")

#: number of per-UE closed-form statistics used by the ``"enhanced"`` variant.
NUM_UE_STATS = 6

_TINY_GAIN = 1e-30  # floor before dB, so an exactly-zero gain (removed branch) stays finite


def uses_statistics(variant: str) -> bool:
    """True for the variants whose features need ``statistics(obs).normalised()``."""
    return variant in ("enhanced", "refine")


def sat_feature_dim(num_antennas: int) -> int:
    """Dimension ``2N + 2N^2`` of the SAT-UE edge feature (47)."""
    return 2 * num_antennas + 2 * num_antennas**2


def ue_feature_dim(variant: str) -> int:
    """Dimension of the UE input feature for ``variant``."""
    return 1 + (NUM_UE_STATS if uses_statistics(variant) else 0)


def check_variant(variant: str) -> str:
    """Return ``variant`` or raise a one-line ValueError naming the choices."""
    if variant not in VARIANTS:
        raise ValueError(f"model variant must be one of {list(VARIANTS)}, got {variant!r}")
    return variant


@dataclass(frozen=True)
class Normalisation:
    """Normalisation constants fitted on the training set and stored with the weights.

    Attributes:
        beta_db_mean: mean of ``10 log10(beta_mk / sigma_a^2)`` [dB].
        beta_db_std: its standard deviation [dB].
        sat_scale: ``c_s``, median of ``beta_k / sigma_a^2`` (linear).
        pmax_ref_w: reference budget; the UE feature is ``P_max,k / pmax_ref_w`` [W].
        stats_mean: means of the per-UE statistics (``"enhanced"`` only). Shapes: [NUM_UE_STATS].
        stats_std: their standard deviations. Shapes: [NUM_UE_STATS].
    """

    beta_db_mean: float
    beta_db_std: float
    sat_scale: float
    pmax_ref_w: float
    stats_mean: tuple[float, ...] = field(default=(0.0,) * NUM_UE_STATS)
    stats_std: tuple[float, ...] = field(default=(1.0,) * NUM_UE_STATS)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        d = asdict(self)
        d["stats_mean"] = list(self.stats_mean)
        d["stats_std"] = list(self.stats_std)
        return d

    @classmethod
    def from_dict(cls, d) -> Normalisation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            beta_db_mean=float(d["beta_db_mean"]),
            beta_db_std=float(d["beta_db_std"]),
            sat_scale=float(d["sat_scale"]),
            pmax_ref_w=float(d["pmax_ref_w"]),
            stats_mean=tuple(float(v) for v in d["stats_mean"]),
            stats_std=tuple(float(v) for v in d["stats_std"]),
        )


@dataclass(frozen=True)
class GraphArrays:
    """One drop's graph as dense arrays (what the model and the loss consume).

    Attributes:
        edge_ap_ue: normalised AP-UE edge feature. Shapes: [M, K, 1] float32.
        edge_sat_ue: normalised SAT-UE edge feature (47). Shapes: [K, F] float32.
        ue_feat: UE input feature. Shapes: [K, 1] or [K, 1 + NUM_UE_STATS] float32.
        w_in: UE-UE interference-edge weights (``"enhanced"``), else None. Shapes: [K, K] float32.
        a_tilde: ``P_max a^2 / NO`` for the loss, or None. Shapes: [K] float64.
        d_tilde: ``D P_max / NO`` for the loss, or None. Shapes: [K, K] float64.
        prelog_bps: ``B (1 - tau_p / tau_c)`` [bit/s] (NaN when unknown).
    """

    edge_ap_ue: np.ndarray
    edge_sat_ue: np.ndarray
    ue_feat: np.ndarray
    w_in: np.ndarray | None = None
    a_tilde: np.ndarray | None = None
    d_tilde: np.ndarray | None = None
    prelog_bps: float = float("nan")

    @property
    def num_aps(self) -> int:
        """M."""
        return int(self.edge_ap_ue.shape[0])

    @property
    def num_users(self) -> int:
        """K."""
        return int(self.edge_ap_ue.shape[1])


# --- raw (un-standardised) quantities ------------------------------------------------------
def beta_db(obs) -> np.ndarray:
    """``10 log10(beta_mk / sigma_a^2)``, the AP-noise-normalised gain (spec 2.4) in dB.

    Shapes: [M, K] float64.
    """
    beta = np.asarray(obs.beta_ap, dtype=np.float64) / float(obs.noise_ap_w)
    return linear_to_db(np.maximum(beta, _TINY_GAIN))


def sat_edges_raw(obs) -> np.ndarray:
    """SAT-UE edge vectors (47) with the LoS mean, normalised by AP noise (spec 2.4).

    Returns:
        ``[Re gbar/sigma_a, Im gbar/sigma_a, Re vec R/sigma_a^2, Im vec R/sigma_a^2]``.
        Shapes: [K, 2N + 2N^2] float64.
    """
    sigma2 = float(obs.noise_ap_w)
    gbar = np.asarray(obs.gbar) / np.sqrt(sigma2)
    r = np.asarray(obs.R) / sigma2
    k = gbar.shape[0]
    vec_r = r.reshape(k, -1)  # row-major vec; any fixed order is fine for a learned layer
    return np.concatenate([gbar.real, gbar.imag, vec_r.real, vec_r.imag], axis=1)


def sat_gain_normalised(obs) -> np.ndarray:
    """``beta_k / sigma_a^2`` per user (sets ``c_s``). Shapes: [K] float64."""
    return np.asarray(obs.beta_sat, dtype=np.float64) / float(obs.noise_ap_w)


def interference_weights(a_tilde: np.ndarray, d_tilde: np.ndarray) -> np.ndarray:
    """UE-UE edge weights ``W_kj = D~_kj / (1 + sum_i D~_ki)`` for j != k, 0 on the diagonal.

    Row k says which users make up UE k's full-power interference-plus-noise (spec eq. (S8)
    at ``x = 1``): ``sum_j W_kj < 1``. Shapes: [K, K] float64.
    """
    d = np.asarray(d_tilde, dtype=np.float64)
    total = 1.0 + d.sum(axis=1, keepdims=True)
    w = d / total
    np.fill_diagonal(w, 0.0)
    return w


def ue_statistics_raw(a_tilde: np.ndarray, d_tilde: np.ndarray) -> np.ndarray:
    """Per-UE closed-form statistics of the ``"enhanced"`` variant (before standardising).

    With ``I_k = 1 + sum_j D~_kj`` and ``S_k = A~_k`` (full power, spec (S8) at ``x = 1``),
    the columns are ``log10 S_k`` (full-power SNR), ``log10 I_k`` (interference-to-noise),
    ``log10(1 + S_k / I_k)`` (full-power spectral efficiency), ``log10(1e-3 + sum_j W_jk)``
    (the share UE k takes of the others' interference-plus-noise), and the two parts of the
    sum-rate gradient at full power, in nats: the own benefit ``b_k = S_k / (I_k + S_k)`` and the
    harm to others ``h_k = sum_{j != k} D~_jk S_j / (I_j (I_j + S_j))``, as ``log10 b_k`` and
    ``log10(1e-6 + h_k)``.

    Shapes: [K, 6] float64.
    """
    a = np.asarray(a_tilde, dtype=np.float64)
    d = np.asarray(d_tilde, dtype=np.float64)
    total = 1.0 + d.sum(axis=1)
    sinr_full = a / total
    out_share = interference_weights(a, d).sum(axis=0)
    benefit = a / (total + a)
    victim = a / (total * (total + a))  # d log(1 + SINR_j) / d I_j, up to sign
    d_off = d - np.diag(np.diag(d))
    harm = d_off.T @ victim
    return np.stack(
        [
            np.log10(np.maximum(a, _TINY_GAIN)),
            np.log10(total),
            np.log10(1.0 + sinr_full),
            np.log10(1e-3 + out_share),
            np.log10(np.maximum(benefit, _TINY_GAIN)),
            np.log10(1e-6 + harm),
        ],
        axis=1,
    )


def fit_normalisation(observations, statistics=None) -> Normalisation:
    """Fit the normalisation constants on a training set.

    Args:
        observations: iterable of ``Observation``.
        statistics: matching iterable of ``(A~, D~)`` pairs, or None (then the per-UE
            statistics keep mean 0 / std 1).
    """
    betas, sats, pmax = [], [], []
    for obs in observations:
        betas.append(beta_db(obs).ravel())
        sats.append(sat_gain_normalised(obs))
        pmax.append(np.asarray(obs.max_power_w, dtype=np.float64))
    b = np.concatenate(betas)
    stats_mean, stats_std = (0.0,) * NUM_UE_STATS, (1.0,) * NUM_UE_STATS
    if statistics is not None:
        s = np.concatenate([ue_statistics_raw(a, d) for a, d in statistics], axis=0)
        stats_mean = tuple(float(v) for v in s.mean(axis=0))
        stats_std = tuple(float(max(v, 1e-6)) for v in s.std(axis=0))
    return Normalisation(
        beta_db_mean=float(b.mean()),
        beta_db_std=float(max(b.std(), 1e-6)),
        sat_scale=float(np.median(np.concatenate(sats))),
        pmax_ref_w=float(np.max(np.concatenate(pmax))),
        stats_mean=stats_mean,
        stats_std=stats_std,
    )


# --- features ------------------------------------------------------------------------------
def features(
    obs, norm: Normalisation, variant: str, stats=None, prelog_bps: float = float("nan")
) -> GraphArrays:
    """The graph features of one observation (the single place they are defined).

    Args:
        obs: a ``cellfree_uplink`` ``Observation``.
        norm: constants from :func:`fit_normalisation` (stored with the weights).
        variant: one of :data:`VARIANTS`.
        stats: ``(A~, D~)`` from ``statistics(obs).normalised()``; required for ``"enhanced"``,
            optional otherwise (then kept for the loss).
        prelog_bps: ``B (1 - tau_p / tau_c)`` for the loss (optional).

    Returns:
        The :class:`GraphArrays` of the drop.
    """
    check_variant(variant)
    e_ap = ((beta_db(obs) - norm.beta_db_mean) / norm.beta_db_std)[:, :, None]
    sat = sat_edges_raw(obs)
    n = np.asarray(obs.gbar).shape[1]
    scale = np.concatenate(
        [np.full(2 * n, np.sqrt(norm.sat_scale)), np.full(2 * n * n, norm.sat_scale)]
    )
    e_sat = sat / scale
    ue = (np.asarray(obs.max_power_w, dtype=np.float64) / norm.pmax_ref_w)[:, None]
    a_t = d_t = w_in = None
    if stats is not None:
        a_t = np.asarray(stats[0], dtype=np.float64)
        d_t = np.asarray(stats[1], dtype=np.float64)
    if uses_statistics(variant):
        if stats is None:
            raise ValueError(f"variant {variant!r} needs stats=(A~, D~) from statistics(obs)")
        s = (ue_statistics_raw(a_t, d_t) - np.asarray(norm.stats_mean)) / np.asarray(norm.stats_std)
        ue = np.concatenate([ue, s], axis=1)
        w_in = interference_weights(a_t, d_t).astype(np.float32)
    return GraphArrays(
        edge_ap_ue=e_ap.astype(np.float32),
        edge_sat_ue=e_sat.astype(np.float32),
        ue_feat=ue.astype(np.float32),
        w_in=w_in,
        a_tilde=a_t,
        d_tilde=d_t,
        prelog_bps=float(prelog_bps),
    )


# --- networkx export form --------------------------------------------------------------------
def to_networkx(g: GraphArrays, user_ids=None, meta: dict | None = None) -> nx.MultiDiGraph:
    """The exportable ``MultiDiGraph`` of a drop (spec section 6.1).

    Nodes ``"ap:m"``, ``"sat:0"``, ``"ue:k"`` (strings, so node-link JSON round-trips) carry
    ``ntype``, ``index`` and ``x`` (input feature list); UE nodes also ``user_id``. Each
    undirected relation is stored as two directed edges (``etype`` ``"ap-ue"`` / ``"ue-ap"``,
    ``"sat-ue"`` / ``"ue-sat"``) with feature ``e``; ``"enhanced"`` / ``"refine"`` graphs add
    ``"ue-ue"`` edges ``j -> k`` with weight ``w = W_kj`` (non-zero ones). Graph attributes
    hold ``a_tilde``, ``d_tilde`` (for a loss), ``prelog_bps`` and ``meta``.
    """
    m_count, k_count = g.num_aps, g.num_users
    ids = np.arange(k_count) if user_ids is None else np.asarray(user_ids)
    graph = nx.MultiDiGraph()
    graph.graph["prelog_bps"] = float(g.prelog_bps)
    graph.graph["meta"] = dict(meta or {})
    if g.a_tilde is not None:
        graph.graph["a_tilde"] = [float(v) for v in g.a_tilde]
        graph.graph["d_tilde"] = np.asarray(g.d_tilde, dtype=float).tolist()
    for m in range(m_count):
        graph.add_node(f"ap:{m}", ntype="ap", index=m, x=[1.0])
    graph.add_node("sat:0", ntype="sat", index=0, x=[1.0])
    for k in range(k_count):
        graph.add_node(f"ue:{k}", ntype="ue", index=k, x=g.ue_feat[k].tolist(), user_id=int(ids[k]))
    for m in range(m_count):
        for k in range(k_count):
            e = [float(g.edge_ap_ue[m, k, 0])]
            graph.add_edge(f"ap:{m}", f"ue:{k}", etype="ap-ue", e=e)
            graph.add_edge(f"ue:{k}", f"ap:{m}", etype="ue-ap", e=e)
    for k in range(k_count):
        e = g.edge_sat_ue[k].tolist()
        graph.add_edge("sat:0", f"ue:{k}", etype="sat-ue", e=e)
        graph.add_edge(f"ue:{k}", "sat:0", etype="ue-sat", e=e)
    if g.w_in is not None:
        rows, cols = np.nonzero(g.w_in)
        for k, j in zip(rows.tolist(), cols.tolist()):
            graph.add_edge(f"ue:{j}", f"ue:{k}", etype="ue-ue", w=float(g.w_in[k, j]))
    return graph


def from_networkx(graph: nx.MultiDiGraph) -> GraphArrays:
    """Dense :class:`GraphArrays` from a graph made by :func:`to_networkx` (exact inverse).

    Raises:
        ValueError: a node or edge type other than those :func:`to_networkx` writes.
    """
    m_count = sum(1 for _, d in graph.nodes(data=True) if d.get("ntype") == "ap")
    k_count = sum(1 for _, d in graph.nodes(data=True) if d.get("ntype") == "ue")
    ue_dim = len(graph.nodes["ue:0"]["x"]) if k_count else 1
    index = {n: int(d["index"]) for n, d in graph.nodes(data=True)}
    sat_dim = None
    e_ap = np.zeros((m_count, k_count, 1), np.float32)
    ue = np.zeros((k_count, ue_dim), np.float32)
    sat_rows: dict[int, list] = {}
    w_in = None
    for node, d in graph.nodes(data=True):
        if d.get("ntype") == "ue":
            ue[index[node]] = d["x"]
        elif d.get("ntype") not in ("ap", "sat"):
            raise ValueError(f"expected node types ap/sat/ue, got {d.get('ntype')!r} at {node}")
    for u, v, d in graph.edges(data=True):
        et = d.get("etype")
        if et == "ap-ue":
            e_ap[index[u], index[v], 0] = d["e"][0]
        elif et == "sat-ue":
            sat_rows[index[v]] = d["e"]
            sat_dim = len(d["e"])
        elif et == "ue-ue":
            if w_in is None:
                w_in = np.zeros((k_count, k_count), np.float32)
            w_in[index[v], index[u]] = d["w"]
        elif et not in ("ue-ap", "ue-sat"):
            raise ValueError(f"expected edge types ap-ue/sat-ue/ue-ue (+ reverses), got {et!r}")
    e_sat = np.zeros((k_count, sat_dim or 0), np.float32)
    for k, row in sat_rows.items():
        e_sat[k] = row
    if w_in is None and ue_dim > 1:
        w_in = np.zeros((k_count, k_count), np.float32)  # enhanced graph without interferers
    a_t = d_t = None
    if "a_tilde" in graph.graph:
        a_t = np.asarray(graph.graph["a_tilde"], dtype=np.float64)
        d_t = np.asarray(graph.graph["d_tilde"], dtype=np.float64)
    return GraphArrays(e_ap, e_sat, ue, w_in, a_t, d_t, float(graph.graph.get("prelog_bps", "nan")))


# --- dense tensors ---------------------------------------------------------------------------
def collate(graphs, with_loss: bool = True) -> dict:
    """Stack graphs of equal (M, K) into batched float32 torch tensors (torch imported here).

    Returns:
        dict with ``edge_ap_ue`` [B,M,K,1], ``edge_sat_ue`` [B,K,F], ``ue_feat`` [B,K,Fu],
        ``w_in`` [B,K,K] or None, ``a_tilde`` [B,K] / ``d_tilde`` [B,K,K] float64 (None when
        the graphs carry no statistics), and (if ``with_loss``) ``prelog_bps`` [B] float64.

    Raises:
        ValueError: graphs of different (M, K) in one batch.
    """
    import torch

    graphs = list(graphs)
    shapes = {(g.num_aps, g.num_users) for g in graphs}
    if len(shapes) != 1:
        raise ValueError(f"a batch needs one (M, K), got {sorted(shapes)}; group drops by size")
    out = {
        "edge_ap_ue": torch.from_numpy(np.stack([g.edge_ap_ue for g in graphs])),
        "edge_sat_ue": torch.from_numpy(np.stack([g.edge_sat_ue for g in graphs])),
        "ue_feat": torch.from_numpy(np.stack([g.ue_feat for g in graphs])),
        "w_in": None,
    }
    if graphs[0].w_in is not None:
        out["w_in"] = torch.from_numpy(np.stack([g.w_in for g in graphs]))
    have_stats = all(g.a_tilde is not None for g in graphs)
    out["a_tilde"] = torch.from_numpy(np.stack([g.a_tilde for g in graphs])) if have_stats else None
    out["d_tilde"] = torch.from_numpy(np.stack([g.d_tilde for g in graphs])) if have_stats else None
    if with_loss:
        if not have_stats:
            raise ValueError("a loss batch needs A~ and D~ in every graph (pass stats=...)")
        out["prelog_bps"] = torch.tensor([g.prelog_bps for g in graphs], dtype=torch.float64)
    return out
