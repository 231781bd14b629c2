"""Exactly-zero gradients, and a model's error in its two modes (lesson 05).

A model whose loss never moves may be receiving no gradient at all. Small
gradients and *exactly* zero gradients are different diagnoses: a small one
is a scale problem, an exactly-zero one means the chain of derivatives is cut
(a ReLU sitting at 0, a BatchNorm that normalises a single value, a layer
that is not connected to the loss). Adam cannot repair a cut: it rescales a
gradient, and zero rescaled is zero.

    report = zero_gradients(model, x, y, loss)   # Keras or PyTorch
    print(report)                                # "24/24 trainable variables ..."
    report.zero                                  # their names
    report.by_layer()                            # layer -> (zero, total)

    errors = mode_errors(model, x, y)            # MSE in training and in inference mode
    layer_outputs(model, x, ["bn6"])             # what a Keras layer outputs in training mode

Nothing here changes the model: a training-mode forward pass moves
BatchNorm's moving statistics (Keras) or running statistics (PyTorch); they
are put back afterwards, and a PyTorch model's train/eval mode is restored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fmt import sig
from ..frameworks import framework_of, to_numpy


def count_zero(gradients) -> int:
    """How many of ``gradients`` are exactly zero everywhere (None counts as zero).

    ``None`` is what TensorFlow and PyTorch return for a variable that the
    loss does not depend on at all; it is a zero gradient too.
    """
    return sum(1 for g in gradients if _largest(g) == 0.0)


def _largest(gradient) -> float:
    """max |g| as a float; 0.0 for None or an empty array."""
    if gradient is None:
        return 0.0
    values = np.abs(np.asarray(to_numpy(gradient), dtype=np.float64))
    return float(values.max()) if values.size else 0.0


@dataclass(frozen=True)
class ZeroGradients:
    """The gradient of one loss, variable by variable.

    names: the trainable variables, in the model's order ("conv1/kernel" in
        Keras, "0.weight" in PyTorch).
    largest: max |gradient| of each variable (0.0 means exactly zero).
    loss: the loss the gradient was taken of.
    """

    names: tuple
    largest: tuple
    loss: float

    @property
    def zero(self) -> tuple:
        """Names of the variables whose gradient is exactly zero."""
        return tuple(n for n, g in zip(self.names, self.largest) if g == 0.0)

    @property
    def n_zero(self) -> int:
        return len(self.zero)

    @property
    def n_total(self) -> int:
        return len(self.names)

    @property
    def all_zero(self) -> bool:
        return self.n_total > 0 and self.n_zero == self.n_total

    @property
    def count(self) -> str:
        """'24/24': zero-gradient variables out of all trainable ones."""
        return f"{self.n_zero}/{self.n_total}"

    def by_layer(self) -> dict:
        """layer -> (variables with a zero gradient, variables), in model order.

        The layer is the part of the name before the last separator
        ("conv1/kernel" -> "conv1", "0.weight" -> "0").
        """
        layers: dict = {}
        for name, g in zip(self.names, self.largest):
            layer = _layer_of(name)
            zero, total = layers.get(layer, (0, 0))
            layers[layer] = (zero + (g == 0.0), total + 1)
        return layers

    def __str__(self) -> str:
        return (f"{self.count} trainable variables have an exactly-zero gradient "
                f"(loss {sig(self.loss)})")

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _layer_of(name: str) -> str:
    for separator in ("/", "."):
        if separator in name:
            return name.rsplit(separator, 1)[0]
    return name


def zero_gradients(model, x, y, loss, training: bool = True) -> ZeroGradients:
    """Which trainable variables get an exactly-zero gradient of ``loss`` on (x, y)?

    model: a Keras model or a torch.nn.Module.
    loss: Keras: a loss object, function or name, called loss(y, pred);
        PyTorch: a function called loss(pred, y) (e.g. F.mse_loss).
    training: take the gradient in training mode (the mode the optimizer
        sees: BatchNorm uses the batch's statistics). The model's state is
        left as it was.
    """
    if framework_of(model) == "torch":
        return _zero_gradients_torch(model, x, y, loss, training)
    return _zero_gradients_keras(model, x, y, loss, training)


def _zero_gradients_keras(model, x, y, loss, training):
    from ..repro import import_tensorflow

    tf = import_tensorflow()
    import keras

    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    variables = model.trainable_variables
    with _keras_state_kept(model):
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(y, model(x, training=training)))
        grads = tape.gradient(value, variables)
    names = tuple(getattr(v, "path", v.name) for v in variables)
    return ZeroGradients(names, tuple(_largest(g) for g in grads), float(value))


def _zero_gradients_torch(model, x, y, loss, training):
    import torch

    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    x, y = _torch_tensor(x), _torch_tensor(y)
    with _torch_state_kept(model, training):
        value = loss(model(x), y)
        grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
    return ZeroGradients(tuple(n for n, _ in params), tuple(_largest(g) for g in grads), float(value.detach()))


# --- the two modes ---------------------------------------------------------

@dataclass(frozen=True)
class ModeErrors:
    """Mean squared error of one model on one batch, in its two modes."""

    training: float
    inference: float

    def __str__(self) -> str:
        return f"MSE in training mode {sig(self.training)}, in inference mode {sig(self.inference)}"


def mode_errors(model, x, y) -> ModeErrors:
    """The model's MSE on (x, y) in training mode and in inference mode.

    Training mode is what the optimizer sees (BatchNorm normalises with the
    batch's own statistics); inference mode is what ``model.predict`` and
    ``model.eval()`` give (BatchNorm uses its moving averages). The model's
    state is left as it was.
    """
    y = np.asarray(to_numpy(y), dtype=np.float64)
    return ModeErrors(_mse(predictions(model, x, training=True), y), _mse(predictions(model, x, training=False), y))


def predictions(model, x, training: bool = False) -> np.ndarray:
    """The model's outputs on x as float64, in either mode, leaving its state alone."""
    if framework_of(model) == "torch":
        import torch

        with _torch_state_kept(model, training), torch.no_grad():
            out = model(_torch_tensor(x))
        return np.asarray(to_numpy(out), dtype=np.float64)
    with _keras_state_kept(model):
        out = model(np.asarray(x, dtype=np.float32), training=training)
    return np.asarray(out, dtype=np.float64)


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    if pred.size != y.size:
        raise ValueError(f"{pred.size} outputs for {y.size} targets")
    return float(np.mean((pred.reshape(y.shape) - y) ** 2))


def layer_outputs(model, x, names, training: bool = True) -> dict:
    """name -> what each named layer of a Keras functional model outputs on x.

    In training mode by default: this is where a BatchNorm that sees one value
    per feature shows itself (its output is exactly its beta). The model's
    moving statistics are left as they were.
    """
    import keras

    names = [names] if isinstance(names, str) else list(names)
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [model.get_layer(n).output for n in names])
    with _keras_state_kept(model):
        outs = probe(np.asarray(x, dtype=np.float32), training=training)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {n: np.asarray(o) for n, o in zip(names, outs)}


# --- leaving the model as it was ------------------------------------------

class _keras_state_kept:
    """Put back a Keras model's non-trainable variables (BatchNorm's moving statistics)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = [v.numpy() for v in self.model.non_trainable_variables]

    def __exit__(self, *exc):
        for variable, value in zip(self.model.non_trainable_variables, self.saved):
            variable.assign(value)
        return False


class _torch_state_kept:
    """Set a torch module's mode; afterwards restore the mode and every buffer."""

    def __init__(self, model, training: bool):
        self.model, self.training = model, training

    def __enter__(self):
        self.modes = {m: m.training for m in self.model.modules()}
        self.buffers = {n: b.detach().clone() for n, b in self.model.named_buffers()}
        self.model.train(self.training)

    def __exit__(self, *exc):
        import torch

        with torch.no_grad():
            for name, buffer in self.model.named_buffers():
                if name in self.buffers:
                    buffer.copy_(self.buffers[name])
        for module, mode in self.modes.items():
            module.training = mode
        return False


def _torch_tensor(a):
    import torch

    if isinstance(a, torch.Tensor):
        return a
    return torch.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.float32)))
