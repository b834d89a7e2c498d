"""Channel and antenna models, pilots and MMSE estimation (numpy/scipy only).

Modules, one job each:

* :mod:`~emulator.radio.pathloss` -- free-space path loss, slant range, the large-scale models
  of seed 002 ((S2) terrestrial, (S3) satellite);
* :mod:`~emulator.radio.ntn` -- 3GPP TR 38.811 elevation-dependent tables (LoS probability,
  shadow fading, clutter loss, Rician K), linearly interpolated in elevation;
* :mod:`~emulator.radio.antenna` -- Bessel aperture pattern, ULA / UPA steering vectors;
* :mod:`~emulator.radio.correlation` -- exponential / Kronecker spatial correlation and the
  correlated-Rician LoS mean + covariance construction (S1) of seed 002;
* :mod:`~emulator.radio.fading` -- Rayleigh / Rician small-scale draws from named streams;
* :mod:`~emulator.radio.pilots` -- pilot assignment and contamination (sharing matrix);
* :mod:`~emulator.radio.mmse` -- MMSE channel estimation (Lemma 1 of seed 002), estimate and
  error covariances.
"""
