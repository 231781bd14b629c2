"""What the model's outputs are, against what the loss expects: shapes, range, row sums, floor, gradient.

    from course_utils.instruments.outputs import read_outputs
    reading = read_outputs(model(x), y, nn.MSELoss())     # or a Keras model's outputs and "mse"
    print(reading)          # shapes compared, output range, row/column sums, what the loss expects,
                            # the lowest loss these outputs could ever reach, the gradient at the output
    reading.floor           # a number computed from the targets (None: nothing stops the loss at 0)
    reading.mismatches      # short codes, the same as diagnose's where it has one

It works on outputs and targets alone (numpy, torch or TensorFlow), so it
reads any model in either framework. What a loss expects comes from
``diagnosis.losses.loss_info`` and what a probability row is from
``diagnosis.checks``: the instrument and ``cu.diagnose`` read outputs the same way.

Floors, each computed from the targets (the output's structure fixes them, not the weights):
- (n, 1) outputs against (n,) targets in PyTorch's MSELoss: every output is
  compared with every target, so the best output for every sample is the
  targets' mean and the loss cannot go below their variance;
- one unit that is always 1 (a softmax over one unit): the loss of output 1;
- probabilities into a loss that applies its own softmax/sigmoid: the
  largest logit gap it can see is 1, so cross-entropy stays at or above
  ln(1 + (K-1)/e) and binary cross-entropy at the best sigmoid of [0, 1];
- a softmax over the batch axis (columns sum to 1): a class's probability
  mass is shared by every sample of that class in the batch, so the loss
  stays at or above the mean of ln(samples of one's own class);
- softmax rows against rows with several 1s: each row's mass is split over
  its labels (and a row with no label must still put its 1 somewhere).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..diagnosis.checks import _log_probability_rows, _probability_rows
from ..diagnosis.losses import loss_info
from ..fmt import sig
from ..frameworks import to_numpy

SUM_TOLERANCE = 1e-4  # rows or columns "sum to 1" within this (float32 softmax rounding is far smaller)


@dataclass
class OutputReading:
    """One reading of a model's outputs against its targets and loss (see ``read_outputs``)."""

    loss_name: str
    expects: str | None  # logits, probabilities, log_probabilities, values (loss_info)
    output_shape: tuple
    target_shape: tuple
    compared_shape: tuple  # the shape the loss really compares (broadcast), or the output shape
    low: float
    high: float
    looks_like: str  # what the outputs are, read from their values
    row_sums: tuple | None  # (min, max) over the samples, for outputs with >= 2 columns
    column_sums: tuple | None  # (min, max) over the classes, when the columns sum to 1 (a softmax over the batch)
    loss: float  # the loss of these outputs now
    floor: float | None  # the lowest loss outputs of this structure can reach on these targets
    floor_why: str
    gradient_rms: float  # root mean square of d loss / d output
    gradient_zeros: int  # entries of d loss / d output that are exactly 0
    mismatches: list = field(default_factory=list)

    @property
    def gradient_size(self) -> int:
        return int(np.prod(self.output_shape))

    def __str__(self) -> str:
        lines = [f"loss {self.loss_name}: expects {self.expects or 'something unknown'}; "
                 f"outputs {self.output_shape} against targets {self.target_shape}"
                 + (f" -> compares {self.compared_shape}" if self.compared_shape != self.output_shape else "")]
        sums = f", rows sum to {sum_range(self.row_sums)}" if self.row_sums else ""
        if self.column_sums:
            sums += f", columns sum to {sum_range(self.column_sums)}"
        lines.append(f"outputs range {sig(self.low)}..{sig(self.high)}{sums}: {self.looks_like}")
        floor = ("no floor above 0 from the outputs' structure" if self.floor is None
                 else f"floor {sig(self.floor)} ({self.floor_why})")
        lines.append(f"loss now {sig(self.loss)}; {floor}")
        lines.append(f"gradient at the output: rms {sig(self.gradient_rms)}, "
                     f"{self.gradient_zeros}/{self.gradient_size} entries exactly 0")
        lines.append("mismatch: " + (", ".join(self.mismatches) if self.mismatches else "none found"))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


# --- reading the values -------------------------------------------------------

def sum_range(bounds) -> str:
    """'1' when every sum is 1 (to SUM_TOLERANCE), else 'low..high' to 3 significant figures."""
    low, high = bounds
    if abs(low - 1) <= SUM_TOLERANCE and abs(high - 1) <= SUM_TOLERANCE:
        return "1"
    return f"{sig(low)}..{sig(high)}"


def _looks_like(out: np.ndarray) -> tuple:
    """(description, row sums or None, column sums or None) of outputs (n, ...)."""
    rows = cols = None
    if out.ndim == 2 and out.shape[1] >= 2:
        s = out.sum(axis=1)
        rows = (float(s.min()), float(s.max()))
    if out.ndim == 2 and out.shape[0] >= 2 and np.all(out >= 0):
        c = out.sum(axis=0)
        if np.allclose(c, 1.0, atol=SUM_TOLERANCE) and not _probability_rows(out):
            return "probabilities over the batch axis: each column sums to 1, not each row", rows, (float(c.min()), float(c.max()))
    if out.ndim == 2 and out.shape[0] >= 2 and np.all(out <= 1e-6) and not _log_probability_rows(out):
        c = np.exp(out).sum(axis=0)
        if np.allclose(c, 1.0, atol=SUM_TOLERANCE):
            return ("log-probabilities over the batch axis: exp of each column sums to 1, not of each row", rows,
                    (float(c.min()), float(c.max())))
    if out.size >= 2 and (out.ndim == 1 or out.shape[-1] == 1) and np.allclose(out, 1.0, rtol=0, atol=1e-6):
        return "one unit, exactly 1 for every sample (a softmax over one unit?)", rows, cols
    if _probability_rows(out):
        return "probability rows (a softmax: each row sums to 1)", rows, cols
    if _log_probability_rows(out):
        return "log-probability rows (a log_softmax)", rows, cols
    if np.all((out >= 0) & (out <= 1)):
        return "every value in [0, 1] (a sigmoid?)", rows, cols
    return "unbounded values (logits or regression values)", rows, cols


# --- the loss and its gradient, in the outputs' framework ---------------------------

def _is_torch(*values) -> bool:
    return any(type(v).__module__.startswith("torch") for v in values)


def _torch_loss_and_grad(outputs, targets, loss):
    import torch

    out = (outputs.detach() if isinstance(outputs, torch.Tensor) else torch.as_tensor(np.asarray(outputs)))
    out = out.clone().float().requires_grad_(True)
    y = targets if isinstance(targets, torch.Tensor) else torch.as_tensor(np.asarray(targets))
    import warnings

    with warnings.catch_warnings(), torch.enable_grad():  # works inside a caller's torch.no_grad() too
        warnings.simplefilter("ignore")  # the broadcast warning: this instrument reports it in numbers
        value = loss(out, y)
        value.backward()
    return float(value.detach()), out.grad.detach().double().numpy()


def _keras_loss_and_grad(outputs, targets, loss):
    import keras
    import tensorflow as tf

    from .for_keras import loss_function

    fn = loss_function(loss)
    out = tf.Variable(np.asarray(to_numpy(outputs), dtype=np.float32))
    y = np.asarray(to_numpy(targets))
    if y.ndim == len(out.shape) - 1 and out.shape[-1] == 1 and not isinstance(fn, keras.losses.Loss):
        y = y[..., None]  # compile() wraps a loss given by name and lines (n,) up with (n, 1), as here
    y = tf.constant(y)
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(fn(y, out))
    grad = tape.gradient(value, out)
    grad = np.zeros(out.shape) if grad is None else grad.numpy().astype(np.float64)
    return float(value.numpy()), grad


def loss_and_output_gradient(outputs, targets, loss, framework: str | None = None):
    """(loss, d loss / d outputs as float64) of these outputs; the loss is PyTorch's or Keras' as given."""
    framework = framework or ("torch" if _is_torch(outputs, targets, loss) else "keras")
    if framework == "torch":
        return _torch_loss_and_grad(outputs, targets, loss)
    return _keras_loss_and_grad(outputs, targets, loss)


# --- floors ------------------------------------------------------------------

def _class_indices(y: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Class indices from index targets (n,) or one-hot rows (n, K); None for anything else."""
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and n_classes > 1):
        return y.reshape(-1).astype(int)
    if y.ndim == 2 and y.shape[1] == n_classes and np.all(y.sum(axis=1) == 1) and np.all((y == 0) | (y == 1)):
        return y.argmax(axis=1)
    return None


def broadcast_floor(y: np.ndarray, kind: str) -> float:
    """Every output compared with every target: the best single output is the targets' mean (MSE) or
    median (MAE), so the loss stays at or above their variance (MSE) or mean absolute deviation (MAE)."""
    y = y.reshape(-1).astype(np.float64)
    if kind == "mae":
        return float(np.mean(np.abs(y - np.median(y))))
    return float(np.var(y))


def probabilities_into_logits_floor(y: np.ndarray, kind: str, n_classes: int) -> float:
    """Outputs in [0, 1] that the loss passes through its own softmax (K classes) or sigmoid (binary)."""
    if kind == "cross_entropy":
        return math.log(1 + (n_classes - 1) / math.e)  # best: a one-hot row, a logit gap of only 1
    y = y.astype(np.float64)
    best = np.clip(np.log(np.clip(y, 1e-12, None)) - np.log(np.clip(1 - y, 1e-12, None)), 0.0, 1.0)
    softplus = lambda v: np.logaddexp(0.0, v)  # noqa: E731
    return float(np.mean(y * softplus(-best) + (1 - y) * softplus(best)))


def batch_axis_floor(classes: np.ndarray) -> float:
    """Columns summing to 1 over the batch: a class's mass is shared by its samples, so sample i gets at most
    1 / (samples of its class) and cross-entropy stays at or above the mean of ln(that count)."""
    counts = np.bincount(classes)
    return float(np.mean(np.log(counts[classes])))


def batch_axis_label_floor(y: np.ndarray) -> float:
    """Binary cross-entropy of columns summing to 1 against 0/1 targets (n, K): label k's mass is shared by its
    n_k samples (1/n_k each, 0 elsewhere); a label no sample carries still spreads its 1 over all n."""
    n = y.shape[0]
    counts = y.sum(axis=0)
    per_label = np.where(counts > 0, counts * np.log(np.maximum(counts, 1)), -n * np.log(1 - 1 / n))
    return float(per_label.sum() / y.size)


def multi_hot_floor(y: np.ndarray, kind: str) -> float:
    """Probability rows against rows with m 1s: the best row puts 1/m on each label."""
    m = y.sum(axis=1).astype(np.float64)
    per_row = np.where(m > 1, m * np.log(np.maximum(m, 1)), 0.0)  # -sum over the labels of ln(1/m)
    if kind == "binary_cross_entropy":
        k = y.shape[1]  # a row with no label must still put its 1 somewhere: 1/K on each is the least bad
        per_row = np.where(m == 0, -k * np.log(1 - 1 / k), per_row)
        return float(per_row.sum() / y.size)  # the loss is a mean over every element
    return float(per_row.mean())


def _compared_shape(out_shape, y_shape, framework) -> tuple:
    if framework != "torch" or tuple(out_shape) == tuple(y_shape):
        return tuple(out_shape)  # Keras lines (n, 1) and (n,) up as fit does
    try:
        return tuple(np.broadcast_shapes(tuple(out_shape), tuple(y_shape)))
    except ValueError:
        return tuple(out_shape)


# --- the reading -----------------------------------------------------------------

def read_outputs(outputs, targets, loss, framework: str | None = None) -> OutputReading:
    """Read a model's outputs against its targets and its loss.

    outputs: (n, ...) what the model returned (numpy, torch or TensorFlow);
    targets: the targets in the loss's format; loss: the loss object or function
    (PyTorch) or name/object (Keras) in use. framework: 'torch' or 'keras'
    (guessed from the types when None). Returns an ``OutputReading``.
    """
    framework = framework or ("torch" if _is_torch(outputs, targets, loss) else "keras")
    info = loss_info(loss, framework)
    out = np.asarray(to_numpy(outputs), dtype=np.float64)
    y = np.asarray(to_numpy(targets), dtype=np.float64)
    value, grad = loss_and_output_gradient(outputs, targets, loss, framework)
    looks, rows, cols = _looks_like(out)
    compared = _compared_shape(out.shape, y.shape, framework)
    n_classes = out.shape[-1] if out.ndim == 2 else 1
    floor, why, mismatches = None, "", []

    if compared != tuple(out.shape) and info.kind in ("mse", "mae", "binary_cross_entropy"):
        mismatches.append("target-shape-broadcast")
        floor, why = broadcast_floor(y, info.kind if info.kind != "binary_cross_entropy" else "mse"), (
            "every output is compared with every target: the best any model can do is the targets' mean, "
            "and the loss is then their variance")
        if info.kind == "binary_cross_entropy":
            floor, why = None, "every output is compared with every target"
    elif looks.startswith("one unit"):
        mismatches.append("one-unit-softmax")
        floor, why = value, "the output is 1 whatever the weights: this loss is the only one it can have"
    elif "over the batch axis" in looks:
        mismatches.append("softmax-over-batch")
        classes = _class_indices(y, n_classes)
        if classes is not None and info.kind == "cross_entropy":
            floor, why = batch_axis_floor(classes), ("a class's probability 1 is shared by all the samples of "
                                                     "that class in the batch")
        elif info.kind == "binary_cross_entropy" and y.shape == out.shape and np.all((y == 0) | (y == 1)):
            floor, why = batch_axis_label_floor(y), ("a label's probability 1 is shared by all the samples that "
                                                     "carry it in the batch")
    elif info.expects == "logits" and np.all((out >= 0) & (out <= 1)) and out.size >= 2:
        mismatches.append("softmax-before-crossentropy")
        floor, why = probabilities_into_logits_floor(y, info.kind, n_classes), (
            "the loss applies its own softmax/sigmoid to values in [0, 1]: it never sees a logit gap above 1")
    elif info.expects == "probabilities" and not np.all((out >= 0) & (out <= 1)):
        mismatches.append("logits-into-probability-loss")
        why = "values outside [0, 1] are clipped or renormalised by the loss"
    elif info.expects == "log_probabilities" and not _log_probability_rows(out):
        mismatches.append("logits-into-probability-loss")
        floor, why = (-1.0, "NLL of probabilities is -p, down to -1") if _probability_rows(out) else (
            -math.inf, "NLL of unbounded values is -value: it falls without end")
    if (_probability_rows(out) and y.shape == out.shape and np.all((y == 0) | (y == 1))
            and np.any(y.sum(axis=1) > 1)):
        mismatches.append("output-cannot-reach-target")
        floor, why = multi_hot_floor(y, info.kind), "each row sums to 1 but rows of the targets hold several 1s"

    return OutputReading(
        loss_name=info.name, expects=info.expects, output_shape=tuple(out.shape), target_shape=tuple(y.shape),
        compared_shape=compared, low=float(out.min()), high=float(out.max()), looks_like=looks,
        row_sums=rows, column_sums=cols, loss=value, floor=floor, floor_why=why,
        gradient_rms=float(np.sqrt(np.mean(grad ** 2))), gradient_zeros=int(np.count_nonzero(grad == 0)),
        mismatches=mismatches)
