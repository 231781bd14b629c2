"""Retrain small Keras MLPs fast enough for a live panel (lesson 04).

``MLPRetrainer`` is ``cached_keras.CachedTrainer`` for one family of models,
``mlp(width, depth)``, trained with Adam on the MSE (or the MAE) and a
``PeakSchedule`` learning rate. One compiled model is kept per architecture,
and before each run it is put back to the fresh weights of the run's seed,
so nothing retraces when the learning rate, the number of steps, the decay,
the inputs (of the same shape) or the seed change; another loss or
mini-batches compile once more, on the same model. ``copy_model`` keeps a
trained network when the cached model is about to be retrained.
"""
from __future__ import annotations

import numpy as np

from .cached_keras import CachedTrainer, PeakSchedule, copy_model
from .repro import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

__all__ = ["MLPRetrainer", "PeakSchedule", "copy_model", "mlp", "predict", "LOSSES"]

LOSSES = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}


def mlp(width: int, depth: int, seed: int | None = 0):
    """Dense(width, relu) x depth, then Dense(1): the lesson's family of models (seed None: the current RNG)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    layers = [keras.Input((1,))] + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    return keras.Sequential(layers + [keras.layers.Dense(1)])


class MLPRetrainer(CachedTrainer):
    """Adam retraining of ``mlp(width, depth)`` (MSE, full batch by default), one cached model per architecture."""

    def __init__(self, seed: int = 0, max_cached: int = 16):
        super().__init__(lambda width, depth: mlp(width, depth, seed=None), {n: make() for n, make in LOSSES.items()},
                         seed=seed, max_cached=max_cached, schedule=True)

    def train(self, x, y, width: int, depth: int, lr: float, steps: int, decay: bool = True,
              on_sample=None, sample_every: int | None = None, loss: str = "mse", batch_size: int | None = None,
              seed: int | None = None):
        """Train a fresh copy of ``mlp(width, depth)``; returns (model, TrainingRun).

        loss: "mse" or "mae". batch_size: None for full batch, else mini-batches
        reshuffled every epoch. seed: start from ``mlp(width, depth, seed)``'s
        weights (and draw that seed's batch order); None: the retrainer's seed.
        The returned model is the cached one: the next ``train`` of the same
        architecture overwrites its weights (``copy_model`` keeps them).
        """
        return super().train(x, y, {"width": int(width), "depth": int(depth)}, "adam", lr, steps,
                             batch_size=batch_size, sample_every=sample_every, on_sample=on_sample, decay=decay,
                             seed=seed, loss=loss)


def predict(model, x) -> np.ndarray:
    """Inference-mode predictions as a float64 NumPy array."""
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False), dtype=np.float64)
