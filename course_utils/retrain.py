"""Retrain small Keras MLPs fast enough for a live panel (lesson 04).

``train_keras`` compiles one ``tf.function`` per (model, optimizer, loss).
Building a new Keras model for every slider change pays for that tracing
again (0.4 to 0.8 s for a small MLP on a 2-core CPU), which is most of a
retrain. ``MLPRetrainer`` keeps one model, optimizer and loss per
architecture (width, depth) and, before each run, puts back the model's
initial weights and zeroes the optimizer's state, so a retrain with the same
architecture starts from the same fresh network and pays no tracing.

The learning rate is a schedule whose peak and length live in variables
(``PeakSchedule``), so changing the learning rate, the number of steps or
switching the decay on and off does not retrace either. Neither do new
inputs of the same shape (raw or standardised x) nor another seed (a run
from another initialisation loads that seed's fresh weights into the
cached model); another loss ("mae") or mini-batches compile once more, on
the same model. ``copy_model`` keeps a trained network when the cached
model is about to be retrained.
"""
from __future__ import annotations

import math

import numpy as np

from .repro import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

from .keras_loop import train_keras  # noqa: E402


class PeakSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``peak`` for the whole run, or a cosine decay from ``peak`` to 0 over ``total`` steps."""

    def __init__(self, peak: float = 1e-3, total: int = 1000, decay: bool = True):
        self.peak = tf.Variable(float(peak), dtype=tf.float32, trainable=False)
        self.total = tf.Variable(float(max(total, 1)), dtype=tf.float32, trainable=False)
        self.decay = tf.Variable(1.0 if decay else 0.0, dtype=tf.float32, trainable=False)

    def set(self, peak: float, total: int, decay: bool) -> None:
        self.peak.assign(float(peak))
        self.total.assign(float(max(int(total), 1)))
        self.decay.assign(1.0 if decay else 0.0)

    def __call__(self, step):
        progress = tf.minimum(tf.cast(step, tf.float32) / self.total, 1.0)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
        return self.peak * (self.decay * cosine + (1.0 - self.decay))

    def get_config(self):
        return {"peak": float(self.peak.numpy()), "total": int(self.total.numpy()), "decay": bool(self.decay.numpy())}


def mlp(width: int, depth: int, seed: int = 0):
    """Dense(width, relu) x depth, then Dense(1): the lesson's family of models."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((1,))] + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    return keras.Sequential(layers + [keras.layers.Dense(1)])


LOSSES = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}


class MLPRetrainer:
    """Adam retraining of ``mlp(width, depth)`` (MSE, full batch by default), one cached model per architecture."""

    def __init__(self, seed: int = 0, max_cached: int = 16):
        self.seed = seed
        self.max_cached = max_cached
        self._cache: dict = {}
        self.last_model = None

    def _entry(self, width: int, depth: int):
        key = (int(width), int(depth))
        if key not in self._cache:
            if len(self._cache) >= self.max_cached:
                self._cache.pop(next(iter(self._cache)))  # forget the oldest architecture
            model = mlp(*key, seed=self.seed)
            schedule = PeakSchedule()
            optimizer = keras.optimizers.Adam(schedule)
            optimizer.build(model.trainable_variables)
            losses = {name: make() for name, make in LOSSES.items()}
            self._cache[key] = (model, optimizer, schedule, losses, {self.seed: model.get_weights()})
        return self._cache[key]

    @property
    def cached(self) -> int:
        return len(self._cache)

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
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        seed = self.seed if seed is None else int(seed)
        model, optimizer, schedule, losses, initial = self._entry(width, depth)
        if seed not in initial:
            initial[seed] = mlp(width, depth, seed=seed).get_weights()  # built, never compiled
        model.set_weights(initial[seed])
        for variable in optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        schedule.set(lr, steps, decay)
        run = train_keras(model, x, y, losses[loss], optimizer, steps=int(steps), batch_size=batch_size,
                          sample_every=sample_every, on_sample=on_sample, seed=seed)
        self.last_model = model
        return model, run


def copy_model(model):
    """An independent copy of a Keras model with the same weights (uncompiled; for prediction or more training)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def predict(model, x) -> np.ndarray:
    """Inference-mode predictions as a float64 NumPy array."""
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False), dtype=np.float64)
