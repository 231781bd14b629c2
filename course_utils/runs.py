"""The result of a training run, the same for the PyTorch and the Keras loop."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .fmt import sig

# A run has diverged when its loss is not finite, or when it grows this many
# times above the first step's loss (and above DIVERGE_FLOOR, so that a loss
# that starts near zero is not flagged for rising to 0.01).
DIVERGE_FACTOR = 1e3
DIVERGE_FLOOR = 1e3


@dataclass
class TrainingRun:
    """What a training loop did, step by step.

    losses: the training loss of every step that ran (the batch's loss, as
        the optimizer saw it).
    sampled_steps: the steps at which instruments and metrics were read; a
        reading at step s is taken after s steps of training.
    metrics: name -> one value per sampled step (e.g. "train_accuracy").
    readings: one dict per sampled step: instrument name -> {layer: value}.
    diverged_at: the first step whose loss was not finite or exploded, else None.
    """

    losses: np.ndarray
    sampled_steps: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    readings: list = field(default_factory=list)
    diverged_at: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def steps_done(self) -> int:
        return int(len(self.losses))

    @property
    def initial_loss(self) -> float:
        return float(self.losses[0]) if len(self.losses) else math.nan

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1]) if len(self.losses) else math.nan

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def metric(self, name: str) -> np.ndarray:
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; this run recorded {sorted(self.metrics)}")
        return np.asarray(self.metrics[name])

    def reading(self, instrument: str, index: int = -1) -> dict:
        """One instrument's per-layer values at one sampled step (default: the last)."""
        if not self.readings:
            raise ValueError("this run recorded no instrument readings (pass instruments=... to the trainer)")
        reading = self.readings[index]
        if instrument not in reading:
            raise KeyError(f"no instrument {instrument!r}; recorded {sorted(k for k in reading if k != 'step')}")
        return reading[instrument]

    def describe(self) -> str:
        """One line for a status bar: steps, loss, divergence."""
        if self.diverged:
            return f"diverged at step {self.diverged_at}: loss {sig(self.losses[self.diverged_at])}"
        text = f"{self.steps_done} steps, loss {sig(self.initial_loss)} -> {sig(self.final_loss)}"
        if self.stopped_early:
            text += " (stopped early)"
        return text


def divergence_bound(first_loss: float) -> float:
    """The loss above which a run that started at ``first_loss`` has diverged."""
    return max(DIVERGE_FACTOR * abs(first_loss), DIVERGE_FLOOR) if math.isfinite(first_loss) else DIVERGE_FLOOR


def first_divergent_step(losses, first_loss: float) -> int | None:
    """Index of the first loss that is not finite or is above divergence_bound(first_loss)."""
    losses = np.asarray(losses, dtype=np.float64)
    bound = divergence_bound(first_loss)
    bad = ~np.isfinite(losses) | (losses > bound)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def sample_schedule(steps: int, every: int | None) -> list:
    """Steps after which to read instruments: 0, every, 2*every, ..., and the last."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if every is None or every <= 0:
        every = max(steps // 20, 1)
    points = list(range(0, steps, every))
    if not points or points[-1] != steps:
        points.append(steps)
    return points
