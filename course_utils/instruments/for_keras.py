"""Instruments for Keras models. Use them through ``course_utils.instruments``.

A "layer" is a Keras layer with trainable weights. An "activation layer" is
one whose output goes through a ReLU-family activation: a ReLU, LeakyReLU or
ELU layer, an ``Activation("relu")``, or a Dense/Conv layer built with
``activation="relu"``. Reading activations needs a Sequential or functional
model (a subclassed model has no graph of layer outputs to read).
"""
from __future__ import annotations

import numpy as np

from ..frameworks import keras_layers
from ..repro import import_tensorflow
from . import float64_norm, layers_without_gradient, norms_by_layer, ratios_by_layer

tf = import_tensorflow()
import keras  # noqa: E402  (after TensorFlow's quiet import)

RELU_FAMILY = {"relu", "relu6", "leaky_relu", "elu"}
ACTIVATION_LAYER_TYPES = ("ReLU", "LeakyReLU", "ELU", "PReLU")


def parametric_layers(model) -> dict:
    return {layer.name: layer.trainable_weights for layer in keras_layers(model) if layer.trainable_weights}


def _activation_name(layer) -> str | None:
    if type(layer).__name__ in ACTIVATION_LAYER_TYPES:
        return type(layer).__name__
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    return name if name in RELU_FAMILY else None


def activation_layers(model) -> dict:
    return {layer.name: layer for layer in keras_layers(model) if _activation_name(layer)}


def gradient_stopping_layers(model) -> set:
    """Names of the activation layers that pass no gradient below zero (relu, relu6, a slope-0 LeakyReLU)."""
    stopping = set()
    for name, layer in activation_layers(model).items():
        kind = _activation_name(layer)
        slope = getattr(layer, "negative_slope", 0.0)
        if kind in ("relu", "relu6") or (kind in ("ReLU", "LeakyReLU") and float(slope) == 0.0):
            stopping.add(name)
    return stopping


def _norm(tensors) -> float:
    """The joint L2 norm; an Embedding's sparse gradient (IndexedSlices) is made dense first, so rows that
    appear twice in the batch are summed as they are in the update."""
    return float(np.sqrt(sum(float(tf.reduce_sum(tf.cast(tf.convert_to_tensor(t), tf.float64) ** 2))
                             for t in tensors)))


def line_up(y, pred):
    """Targets and outputs as ``model.fit`` hands them to a loss: when their ranks differ by one and the
    longer has a last axis of 1, a rank-1 side gains that axis, else the longer loses it (``(n,)`` targets
    against ``(n, 1)`` outputs become ``(n, 1)``), as Keras does before it calls any loss, a function of the
    student's included. Nothing broadcasts, so a loss that fit accepts gives the same number here."""
    y, pred = tf.convert_to_tensor(y), tf.convert_to_tensor(pred)
    if y.shape.rank == pred.shape.rank + 1 and y.shape[-1] == 1:
        y, pred = (y, tf.expand_dims(pred, -1)) if pred.shape.rank == 1 else (tf.squeeze(y, -1), pred)
    elif pred.shape.rank == y.shape.rank + 1 and pred.shape[-1] == 1:
        y, pred = (tf.expand_dims(y, -1), pred) if y.shape.rank == 1 else (y, tf.squeeze(pred, -1))
    return y, pred


def fresh_grad_norms(model, x, y, loss_fn) -> dict:
    """Norm of each layer's gradient of ``loss_fn(y, model(x))`` (training mode)."""
    layers, grads = _fresh_grads(model, x, y, loss_fn)
    return norms_by_layer(layers, grads, _norm)


def unreached_layers(model, x, y, loss_fn) -> list:
    """Layers none of whose weights the loss reaches (their gradient is None, not 0)."""
    return layers_without_gradient(*_fresh_grads(model, x, y, loss_fn))


def loss_function(loss):
    """The loss function for ``loss``: a name as ``compile`` takes it ("mse"), or a callable, returned as is.

    A name Keras does not know is refused, as ``compile`` refuses it, with the nearest names it does know.
    """
    if not isinstance(loss, str):
        return loss
    import difflib

    try:
        return keras.losses.get(loss)
    except ValueError:
        known = [n for n in dir(keras.losses) if not n.startswith("_") and n.islower()]
        close = difflib.get_close_matches(loss, known, n=2)
        raise ValueError(f"Keras has no loss called {loss!r} (model.compile refuses it too)"
                         + (f": did you mean {' or '.join(repr(c) for c in close)}?" if close else "")) from None


def _fresh_grads(model, x, y, loss_fn):
    """The parametric layers, and the gradient of the loss for each of their weights (None: no path)."""
    loss_fn = loss_function(loss_fn)
    layers = parametric_layers(model)
    weights = [w for ws in layers.values() for w in ws]
    # A training-mode call moves BatchNorm's moving statistics: put them back after.
    saved = [v.numpy() for v in model.non_trainable_variables]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(loss_fn(*line_up(y, model(x, training=True))))  # loss functions return one value per sample
    grads = tape.gradient(loss, weights)
    for variable, value in zip(model.non_trainable_variables, saved):
        variable.assign(value)
    return layers, grads


RECURRENT_TYPES = ("SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional")


def step_gradients(model, x, y, loss_fn):
    layers = list(keras_layers(model))
    first = next((i for i, layer in enumerate(layers) if type(layer).__name__ in RECURRENT_TYPES), None)
    if first is None:
        return None
    loss_fn = loss_function(loss_fn)
    sequential = isinstance(model, keras.Sequential) and list(model.layers) == layers
    if not sequential and first > 0 and any(layer.weights for layer in layers[:first]):
        return None  # the recurrent layer's input is not the model's: no layer chain to run by hand
    with tf.GradientTape() as tape:
        h = tf.convert_to_tensor(x)
        if sequential:
            for layer in layers[:first]:
                h = layer(h, training=True)
        if h.shape.rank != 3 or not h.dtype.is_floating:
            return None
        tape.watch(h)
        steps_in = h
        if sequential:
            for layer in layers[first:]:
                h = layer(h, training=True)
        else:
            h = model(h, training=True)
        loss = tf.reduce_mean(loss_fn(*line_up(y, h)))
    grad = tape.gradient(loss, steps_in)
    if grad is None:
        return None
    per_step = np.sqrt((np.asarray(grad, dtype=np.float64) ** 2).sum(axis=(0, 2)))
    return layers[first].name, per_step


def activation_outputs(model, x, training: bool = False) -> dict:
    layers = activation_layers(model)
    if not layers:
        return {}
    try:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        probe = keras.Model(inputs, [layer.output for layer in layers.values()])
    except (AttributeError, ValueError) as error:
        raise TypeError(
            "reading activations needs a Sequential or functional Keras model that has been built "
            f"(call it on data once); this one gave: {error}"
        ) from None
    outputs = probe(x, training=training)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {name: np.asarray(out) for name, out in zip(layers, outputs)}


def _units_last(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(-1, 1)


def dead_fraction(model, x) -> dict:
    """Fraction of units per activation layer that are <= 0 for every sample (channels last)."""
    return {name: float((_units_last(out) <= 0).all(axis=0).mean()) for name, out in activation_outputs(model, x).items()}


def activation_stats(model, x) -> dict:
    stats = {}
    for name, out in activation_outputs(model, x).items():
        out = out.astype(np.float64)
        stats[name] = {"mean": float(out.mean()), "std": float(out.std()), "zero_fraction": float((out == 0).mean())}
    return stats


def snapshot_weights(model) -> dict:
    return {name: [np.array(w) for w in ws] for name, ws in parametric_layers(model).items()}


def update_ratios(before: dict, model) -> dict:
    return ratios_by_layer(before, parametric_layers(model),
                           lambda ws, old: float64_norm(np.array(w, dtype=np.float64) - o for w, o in zip(ws, old)),
                           float64_norm)


def loss_value(model, x, y, loss_fn, training: bool = False) -> float:
    loss_fn = loss_function(loss_fn)
    return float(tf.reduce_mean(loss_fn(*line_up(y, model(x, training=training)))))


def predict(model, x, training: bool = False) -> np.ndarray:
    return np.asarray(model(x, training=training))
