"""Instruments: the measurements that name a training failure's cause.

Every function takes a PyTorch module or a Keras model and returns plain
Python numbers keyed by layer name, so the same plots and checks serve both
frameworks:

- ``grad_norms(model, x, y, loss)``: each layer's gradient norm on a batch
  (computed anew; the model's own gradients are left alone);
- ``unreached_layers(model, x, y, loss)``: layers the loss does not reach at
  all (gradient None, not 0: a ``.detach()`` or ``.numpy()`` on the way);
- ``step_gradients(model, x, y, loss)``: how much of the loss's gradient
  reaches each time step of a recurrent layer's input (a long sequence
  whose early steps get none cannot be learned from them);
- ``stored_grad_norms(model)``: what PyTorch's ``.grad`` holds right now,
  for a loop you wrote yourself (this is how accumulating gradients show);
- ``dead_fraction(model, x)``: fraction of units per ReLU-family layer that
  are <= 0 for every sample in the batch (dead only where
  ``gradient_stopping_layers(model)`` says no gradient passes below zero);
- ``activation_stats(model, x)``: mean, std and fraction of zeros per
  activation layer;
- ``snapshot_weights`` / ``update_ratios``: ||w_after - w_before|| / ||w_before||
  per layer, around one optimizer step (healthy SGD: about 1e-3);
- ``chance_loss``: the loss of the best constant prediction (a model that
  learned nothing about the inputs: the level a stuck run plateaus at);
- ``untrained_loss`` / ``init_loss_check``: the loss an untrained network
  should have (its outputs are near 0), against the loss the model has
  before training.

Two modules in this package read one family of bugs each, in both frameworks:
``outputs`` (what the model's outputs are against what the loss expects:
shapes, range, row sums, the loss floor, the gradient at the output; lesson
07) and ``updates`` (what the optimizer holds, ``.grad`` None or 0, how far a
step moves each layer, the loss with and without the regularisers; lesson 08).

The framework's side lives in ``for_torch`` and ``for_keras`` in this
package; it is imported on first use, so a torch-only notebook never
imports TensorFlow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..fmt import sig
from ..frameworks import framework_of

INSTRUMENTS = ("grad_norm", "dead_fraction", "update_ratio", "activation_stats")


def backend(model):
    """The framework-specific instrument module for ``model``."""
    if framework_of(model) == "torch":
        from . import for_torch

        return for_torch
    from . import for_keras

    return for_keras


def grad_norms(model, x, y, loss) -> dict:
    return backend(model).fresh_grad_norms(model, x, y, loss)


def unreached_layers(model, x, y, loss) -> list:
    return backend(model).unreached_layers(model, x, y, loss)


def step_gradients(model, x, y, loss):
    """(layer name, per-step gradient norms) for the first recurrent layer (RNN, LSTM, GRU) of ``model``: the norm
    of the loss's gradient with respect to that layer's input at each time step, first step first; None when the
    model has no recurrent layer this can reach (PyTorch: any; Keras: a Sequential, or one fed ``x`` directly)."""
    return backend(model).step_gradients(model, x, y, loss)


def stored_grad_norms(model) -> dict:
    if framework_of(model) != "torch":
        raise TypeError("Keras keeps no gradients between steps; use grad_norms(model, x, y, loss) instead")
    return backend(model).stored_grad_norms(model)


def dead_fraction(model, x) -> dict:
    return backend(model).dead_fraction(model, x)


def gradient_stopping_layers(model) -> set:
    """The activation layers where "<= 0 for every sample" means dead (no gradient below zero): ReLU, not LeakyReLU."""
    return backend(model).gradient_stopping_layers(model)


def dead_relu_fraction(model, x) -> dict:
    """``dead_fraction`` of the gradient-stopping layers only: there, off for every sample means dead."""
    stopping = gradient_stopping_layers(model)
    return {name: v for name, v in dead_fraction(model, x).items() if name in stopping}


def activation_stats(model, x) -> dict:
    return backend(model).activation_stats(model, x)


def snapshot_weights(model) -> dict:
    return backend(model).snapshot_weights(model)


def update_ratios(before: dict, model) -> dict:
    return backend(model).update_ratios(before, model)


def loss_value(model, x, y, loss, training: bool = False) -> float:
    """The model's loss on (x, y); inference mode unless ``training``."""
    return backend(model).loss_value(model, x, y, loss, training=training)


def predict(model, x, training: bool = False) -> np.ndarray:
    return backend(model).predict(model, x, training=training)


def norms_by_layer(layers: dict, grads, norm) -> dict:
    """layer -> ``norm`` of its gradients, from ``grads`` listed in the order of the layers' weights (0 for none)."""
    norms, start = {}, 0
    for name, weights in layers.items():
        chunk = [g for g in grads[start : start + len(weights)] if g is not None]
        norms[name] = norm(chunk) if chunk else 0.0
        start += len(weights)
    return norms


def float64_norm(arrays) -> float:
    """The L2 norm of several arrays taken together, summed in float64."""
    return float(np.sqrt(sum((np.asarray(a, dtype=np.float64) ** 2).sum() for a in arrays)))


def ratios_by_layer(before: dict, layers: dict, distance, size) -> dict:
    """layer -> ``distance(weights now, weights before) / size(weights before)``, for the layers in ``before``:
    exactly 0.0 for a layer nothing moved, inf for one that moved away from all zeros."""
    ratios = {}
    for name, weights in layers.items():
        if name in before:
            change, norm = distance(weights, before[name]), size(before[name])
            ratios[name] = change / norm if norm > 0 else (float("inf") if change > 0 else 0.0)
    return ratios


def layers_without_gradient(layers: dict, grads) -> list:
    """Names of the layers whose every weight has no gradient (None), from ``grads`` in the layers' weight order."""
    names, start = [], 0
    for name, weights in layers.items():
        if all(g is None for g in grads[start : start + len(weights)]):
            names.append(name)
        start += len(weights)
    return names


def total_norm(per_layer: dict) -> float:
    """Combine per-layer norms into the whole model's norm."""
    return float(math.sqrt(sum(v * v for v in per_layer.values())))


# --- chance level --------------------------------------------------------

LOSS_KINDS = ("cross_entropy", "binary_cross_entropy", "mse", "mae")


def chance_loss(y, kind: str, n_classes: int | None = None) -> float:
    """The loss of a model that has learned nothing about the inputs.

    cross_entropy: predicting every class with probability 1/K gives ln K
        (K = n_classes, else the number of label values seen).
    binary_cross_entropy: predicting 0.5 gives ln 2.
    mse: predicting the mean target gives the targets' variance.
    mae: predicting the median target gives the mean absolute deviation from it.
    """
    y = np.asarray(y, dtype=np.float64)
    if kind == "cross_entropy":
        k = n_classes if n_classes is not None else len(np.unique(y))
        if k < 2:
            raise ValueError("cross-entropy needs at least 2 classes to have a chance level")
        return math.log(k)
    if kind == "binary_cross_entropy":
        return math.log(2)
    if kind == "mse":
        return float(np.mean((y - y.mean(axis=0)) ** 2))
    if kind == "mae":
        return float(np.mean(np.abs(y - np.median(y, axis=0))))
    raise ValueError(f"unknown loss kind {kind!r}; choose from {LOSS_KINDS}")


def untrained_loss(y, kind: str, n_classes: int | None = None) -> float:
    """The loss of outputs near 0, which is what a freshly initialised network gives.

    cross_entropy: logits near 0 are uniform probabilities: ln K, the same as chance.
    binary_cross_entropy: a logit near 0 is probability 0.5: ln 2, the same as chance.
    mse: mean(y²) = variance + mean², not the variance: an untrained network has not
        learned the targets' mean yet, so it reaches the chance level only after training.
    mae: mean |y|.
    """
    if kind in ("cross_entropy", "binary_cross_entropy"):
        return chance_loss(y, kind, n_classes)
    y = np.asarray(y, dtype=np.float64)
    if kind == "mse":
        return float(np.mean(y ** 2))
    if kind == "mae":
        return float(np.mean(np.abs(y)))
    raise ValueError(f"unknown loss kind {kind!r}; choose from {LOSS_KINDS}")


# How far from untrained_loss a healthy untrained model may start, as a factor either way.
# Classification: default initialisations give logits with a spread well under 1, which moves
# a softmax cross-entropy by a fraction of ln K; twice ln K (or half of it) before any training
# means confidently wrong outputs or a loss that is not the one you think.
# Regression: the untrained outputs' own spread adds to mean(y²) and depends on the
# initialisation and the input scale, so the band is wider; a factor of 10 still catches
# targets or outputs on the wrong scale.
INIT_LOSS_FACTOR = {"cross_entropy": 2.0, "binary_cross_entropy": 2.0, "mse": 10.0, "mae": 10.0}


@dataclass(frozen=True)
class InitLossCheck:
    initial_loss: float
    reference: float  # untrained_loss: what outputs near 0 score
    kind: str

    @property
    def ratio(self) -> float:
        return self.initial_loss / self.reference if self.reference else math.inf

    @property
    def factor(self) -> float:
        return INIT_LOSS_FACTOR[self.kind]

    @property
    def healthy(self) -> bool:
        """Within INIT_LOSS_FACTOR of the reference, either way."""
        return 1 / self.factor <= self.ratio <= self.factor

    def __str__(self) -> str:
        baseline = "chance" if self.kind in ("cross_entropy", "binary_cross_entropy") else (
            "mean(y²)" if self.kind == "mse" else "mean |y|")
        if self.healthy:
            verdict = "as expected"
        elif self.ratio > 1:
            verdict = f"NOT near {baseline} ({sig(self.ratio, 2)} times): confidently wrong outputs; check the output layer and the loss"
        else:
            verdict = (f"NOT near {baseline} ({sig(self.ratio, 2)} times): an untrained model cannot beat chance; "
                       "check the loss and the labels")
        return f"loss at initialisation {sig(self.initial_loss)} vs {baseline} {sig(self.reference)} ({self.kind}): {verdict}"

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731  (readable in a notebook)


def init_loss_check(model, x, y, loss, kind: str, n_classes: int | None = None) -> InitLossCheck:
    """Compare an untrained model's loss on (x, y) with what outputs near 0 score.

    A freshly initialised classifier should be about as unsure as a coin with
    K sides. Far above means confidently wrong outputs (a bad output scale, a
    wrong loss). Far below cannot come from the data, since the model has
    learned nothing yet: it points to a loss or label bug (log-probabilities
    expected but raw scores given, a loss averaged over the wrong count).
    """
    return InitLossCheck(loss_value(model, x, y, loss), untrained_loss(y, kind, n_classes), kind)
