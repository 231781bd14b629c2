"""Metrics on NumPy arrays, shared by the PyTorch and the Keras loop."""
from __future__ import annotations

import numpy as np


def accuracy(predictions, labels) -> float:
    """Fraction of correct classes.

    predictions: (n, K) scores with K > 1 (logits or probabilities: argmax),
        or (n,) / (n, 1) probabilities of the positive class (threshold 0.5).
    labels: (n,) class indices, or (n,) / (n, 1) 0/1 labels.
    """
    predictions = np.asarray(predictions)
    labels = np.asarray(labels).reshape(-1)
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        guessed = predictions.argmax(axis=1)
    else:
        guessed = (predictions.reshape(-1) > 0.5).astype(labels.dtype)
    if guessed.shape != labels.shape:
        raise ValueError(f"{guessed.size} predictions for {labels.size} labels")
    return float((guessed == labels).mean())


def mse(predictions, targets) -> float:
    predictions, targets = np.asarray(predictions, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if predictions.size != targets.size:
        raise ValueError(f"{predictions.size} predictions for {targets.size} targets")
    return float(np.mean((predictions.reshape(targets.shape) - targets) ** 2))
