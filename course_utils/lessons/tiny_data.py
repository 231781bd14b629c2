"""Tiny regression sets for lesson 04 ("Tiny data") and its lab.

- ``forum_points()``: the 30 (x, y) points published with the original
  question (21 for training, 9 held out), exactly as posted;
- ``lab_points()``: a different tiny set for the lab, generated here: a few
  noisy readings whose inputs sit in a narrow band far from zero;
- ``Standardizer``: scale inputs with the training set's mean and standard
  deviation (and apply the same numbers to held-out inputs).

Arrays are float32 of shape (n, 1), like ``course_utils.data``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Split

# The data published with the question (https://stackoverflow.com/q/61252785):
# x and y are plain numbers in [0, 1]; the asker's 70/30 split is kept.
FORUM_X_TRAIN = (
    0.704619794270697, 0.6779457393024553, 0.8207082120250023, 0.8588819357831449,
    0.8692320257603844, 0.6878750931810429, 0.9556331888763945, 0.77677964510883,
    0.7211381534179618, 0.6438319113259414, 0.6478339581502052, 0.9710222750072649,
    0.8952188423349681, 0.6303124926673513, 0.9640316662124185, 0.869691568491902,
    0.8320164648420931, 0.8236399177660375, 0.8877334038470911, 0.8084042532069621,
    0.8045680821762038,
)
FORUM_Y_TRAIN = (
    0.7766424210611557, 0.8210846773655833, 0.9996114311913593, 0.8041331063189883,
    0.9980525368790883, 0.8164056182686034, 0.8925487603333683, 0.7758207470960685,
    0.37345286573743475, 0.9325789202459493, 0.6060269037514895, 0.9319771743389491,
    0.9990691225991941, 0.9320002808310418, 0.9992560731072977, 0.9980241561997089,
    0.8882905258641204, 0.4678339275898943, 0.9312152374846061, 0.9542371205095945,
    0.8885893668675711,
)
FORUM_X_TEST = (
    0.9749191829308574, 0.8735366740730178, 0.8882783211709133, 0.8022891400991644,
    0.8650601322313454, 0.8697902997857514, 1.0, 0.8165876695985228, 0.8923841531760973,
)
FORUM_Y_TEST = (
    0.975653685270635, 0.9096752789481569, 0.6653736469114154, 0.46367666660348744,
    0.9991817903431941, 1.0, 0.9111205717076893, 0.5264993912088891, 0.9989199241685126,
)


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def forum_points() -> Split:
    """The question's 21 training and 9 held-out points, shapes (n, 1)."""
    return Split(_column(FORUM_X_TRAIN), _column(FORUM_Y_TRAIN), _column(FORUM_X_TEST), _column(FORUM_Y_TEST))


def lab_points(n_train: int = 16, n_test: int = 8, seed: int = 4) -> Split:
    """The lab's tiny set: readings of a noisy response at inputs in [40, 46].

    The inputs sit in a narrow band far from zero (like the forum data, only
    more so), the targets are a gentle trend plus large point-to-point
    jitter, and neighbouring inputs are never closer than a quarter of the
    average spacing, so that a network can memorise the training points.
    Train and test points are interleaved over the same band.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    n = n_train + n_test
    rng = np.random.default_rng(seed)
    low, high = 40.0, 46.0
    cell = (high - low) / n
    x = low + cell * (np.arange(n) + 0.125 + 0.75 * rng.uniform(size=n))  # one point per cell
    y = 1.0 + 0.08 * (x - low) + 0.25 * rng.standard_normal(n)
    order = rng.permutation(n)
    train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
    return Split(_column(x[train]), _column(y[train]), _column(x[test]), _column(y[test]))


@dataclass(frozen=True)
class Standardizer:
    """x -> (x - mean) / std with the statistics of the inputs it was fitted on."""

    mean: float
    std: float

    @classmethod
    def fit(cls, x) -> "Standardizer":
        x = np.asarray(x, dtype=np.float64)
        std = float(x.std())
        return cls(float(x.mean()), std if std > 0 else 1.0)

    def __call__(self, x) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.std).astype(np.float32)
