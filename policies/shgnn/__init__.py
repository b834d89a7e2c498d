"""SHGNN of seed 002 (section V): a heterogeneous graph neural network for uplink power control.

Modules (all import torch except :mod:`policies.shgnn.graph`'s numpy/networkx half, which
imports torch lazily):

* :mod:`~policies.shgnn.graph` -- graph features from an ``Observation`` (written once, used in
  training, in the loop and in export), the networkx ``MultiDiGraph`` form and dense tensors;
* :mod:`~policies.shgnn.model` -- the typed message-passing network, eqs. (45)-(50) of 002;
* :mod:`~policies.shgnn.closed_form_torch` -- the closed-form sum rate (S8) in torch (the loss);
* :mod:`~policies.shgnn.data` -- per-drop statistics generated with the emulator and cached;
* :mod:`~policies.shgnn.train` -- ``python -m policies.shgnn.train --config ...``;
* :mod:`~policies.shgnn.policy` -- the in-loop policy ``shgnn-v1``;
* :mod:`~policies.shgnn.evaluate` -- Table I of 002 (GNN-Stable, GNN-Robust, Algorithm 1).
"""
