"""1-D signals for lesson 03 ("Dying ReLU") and its lab.

- ``bump_signals(n)``: ``n`` deterministic signals of length 1024, each a
  Gaussian bump on top of a constant offset; offsets take both signs, so
  part of every batch lies below zero (the information a ReLU can clip);
- ``offset_variance(x)``: the MSE of a model that outputs the batch's mean
  signal for every input (what an autoencoder whose decoder is cut off from
  its code can reach at best);
- ``preactivations(model, x)``: the *inputs* of every ReLU-family layer of a
  PyTorch model (what the unit computed before the activation clipped it),
  for histograms of pre-activations.

Arrays are float32 NumPy, shape (n, length), like ``course_utils.data``.
"""
from __future__ import annotations

import numpy as np

LENGTH = 1024


def bump_signals(n: int, length: int = LENGTH, seed: int = 0, offset_range: float = 1.0):
    """``n`` signals: offset + amplitude * exp(-(t - centre)^2 / (2 width^2)).

    Per signal, drawn from ``seed``: an offset uniform in
    [-offset_range, offset_range] (signs alternate, so any batch of two or
    more has offsets of both signs), an amplitude in [0.5, 1.5], a centre in
    the middle 60% of the signal and a width of 3% to 10% of its length.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"length must be an integer >= 2, got {length!r}")
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.1, 1.0, size=n) * offset_range
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    offsets = signs * size
    amplitudes = rng.uniform(0.5, 1.5, size=n)
    centres = rng.uniform(0.2, 0.8, size=n) * length
    widths = rng.uniform(0.03, 0.10, size=n) * length
    t = np.arange(length, dtype=np.float64)
    bumps = amplitudes[:, None] * np.exp(-((t[None, :] - centres[:, None]) ** 2) / (2 * widths[:, None] ** 2))
    return (offsets[:, None] + bumps).astype(np.float32)


def offset_variance(x) -> float:
    """MSE of predicting the batch's mean signal for every sample (0 for one sample)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected signals of shape (n, length), got {x.shape}")
    return float(np.mean((x - x.mean(axis=0, keepdims=True)) ** 2))


def preactivations(model, x) -> dict:
    """name -> NumPy array of what flows *into* each ReLU-family layer (no grad).

    Names are those of ``course_utils.instruments`` (e.g. '1 ReLU'), so a
    histogram lines up with the dead fraction of the same layer. A value
    <= 0 going into a ReLU comes out as 0, with zero gradient.
    """
    from ..instruments.for_torch import activation_inputs

    return {name: value.double().numpy() for name, value in activation_inputs(model, x).items()}
