"""Data sets for the lessons: generated deterministically or loaded from an
installed package (scikit-learn ships the 8x8 digits), never downloaded.

Every function returns float32 NumPy arrays (labels as int64), so that the
same arrays feed torch (``torch.from_numpy``) and Keras.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Split:
    """Inputs and targets of a training set and a held-out test set."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


@lru_cache(maxsize=1)
def _digits_arrays():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)


def digits(n_train: int | None = None, n_test: int | None = None, standardize: bool = True, seed: int = 0) -> Split:
    """scikit-learn's 1,797 8x8 digit images (the course's stand-in for MNIST).

    Images are flattened to 64 pixels with values 0..16. ``standardize``
    scales pixels to zero mean and unit variance using the training set's
    statistics (per pixel; constant pixels are left at zero). The split is a
    fixed shuffle by ``seed``: 1,497 training and 300 test images unless
    n_train / n_test ask for fewer.
    """
    x, y = _digits_arrays()
    order = np.random.default_rng(seed).permutation(len(x))
    n_test_total = 300
    test_idx, train_idx = order[:n_test_total], order[n_test_total:]
    if n_train is not None:
        _check_count("n_train", n_train, len(train_idx))
        train_idx = train_idx[:n_train]
    if n_test is not None:
        _check_count("n_test", n_test, len(test_idx))
        test_idx = test_idx[:n_test]
    x_train, x_test = x[train_idx], x[test_idx]
    if standardize:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0
        x_train = (x_train - mean) / std
        x_test = (x_test - mean) / std
    return Split(x_train.astype(np.float32), y[train_idx], x_test.astype(np.float32), y[test_idx])


def one_batch(n: int = 64, seed: int = 0):
    """A single batch of ``n`` standardised digits: the batch of the overfit test."""
    split = digits(n_train=n, n_test=1, seed=seed)
    return split.x_train, split.y_train


def noisy_sine(n: int, noise: float = 0.1, seed: int = 0, x_range=(0.0, 1.0)):
    """``n`` points of y = sin(2 pi x) + noise, x uniform in ``x_range``; shapes (n, 1)."""
    _check_count("n", n, None)
    rng = np.random.default_rng(seed)
    x = rng.uniform(*x_range, size=(n, 1))
    y = np.sin(2 * np.pi * (x - x_range[0]) / (x_range[1] - x_range[0])) + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def _check_count(name: str, value: int, upper: int | None) -> None:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if upper is not None and value > upper:
        raise ValueError(f"{name}={value} is more than the {upper} available")
