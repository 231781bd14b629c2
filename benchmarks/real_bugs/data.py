"""Small data sets for the cases: scikit-learn's bundled sets and generators, nothing downloaded.

Every loader returns float32 inputs and returns the same rows on every call
(fixed seeds), so a case's buggy and fixed twins see the same batch.
"""
from __future__ import annotations

import numpy as np
from sklearn import datasets


def standardise(x: np.ndarray) -> np.ndarray:
    """Per feature: zero mean, unit standard deviation (the usual fix for unscaled inputs)."""
    return ((x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)).astype(np.float32)


def iris(n: int = 120):
    x, y = datasets.load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))[:n]
    return x[order].astype(np.float32), y[order].astype(np.int64)


def wine(n: int = 128):
    x, y = datasets.load_wine(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))[:n]
    return x[order].astype(np.float32), y[order].astype(np.int64)


def breast_cancer(n: int = 128):
    x, y = datasets.load_breast_cancer(return_X_y=True)
    return x[:n].astype(np.float32), y[:n].astype(np.float32)


def digits(n: int = 128):
    """8x8 digit images with pixel values 0..16, and their labels 0..9."""
    x, y = datasets.load_digits(return_X_y=True)
    return x[:n].astype(np.float32), y[:n].astype(np.int64)


def blobs(n: int = 128, classes: int = 3, features: int = 2):
    x, y = datasets.make_blobs(n_samples=n, centers=classes, n_features=features, random_state=0)
    return x.astype(np.float32), y.astype(np.int64)


def binary_blobs(n: int = 128, features: int = 10):
    informative = min(5, features)
    x, y = datasets.make_classification(n_samples=n, n_features=features, n_informative=informative,
                                        n_redundant=0, random_state=0)
    return x.astype(np.float32), y.astype(np.float32)


def multilabel(n: int = 128, features: int = 20, labels: int = 5):
    """Rows with several labels switched on at once (multi-hot targets)."""
    x, y = datasets.make_multilabel_classification(n_samples=n, n_features=features, n_classes=labels,
                                                   n_labels=2, random_state=0)
    return standardise(x.astype(np.float32)), y.astype(np.float32)


def xor(n: int = 64):
    """The four XOR corners, repeated with a little noise so the batch has several distinct rows."""
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    x = corners[np.arange(n) % 4] + rng.normal(0, 0.05, (n, 2)).astype(np.float32)
    y = (corners[np.arange(n) % 4].sum(axis=1) == 1).astype(np.float32)
    return x.astype(np.float32), y


def one_hot(y: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[y]
