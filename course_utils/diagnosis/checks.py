"""The checks diagnose() runs, one function per mechanism; each adds findings to a Report."""
from __future__ import annotations

import copy
import math
import time

import numpy as np

from ..fmt import percent, sig
from ..frameworks import error_text, input_arrays, is_structured, keras_activation, keras_layers, map_inputs, to_numpy
from ..instruments import InitLossCheck, untrained_loss
from .setup_checks import STILL_LOSS, step_size
from .wiring import RECURRENT, check_inplace_writes, tanh_logits_ceiling


def _fraction(mask) -> float:
    mask = np.asarray(mask)
    return float(mask.mean()) if mask.size else 0.0


def _probability_rows(out: np.ndarray) -> bool:
    """Every row non-negative and summing to 1 (a softmax's output), over >= 2 classes."""
    return out.ndim == 2 and _probabilities_on_last_axis(out)


def _probabilities_on_last_axis(out: np.ndarray) -> bool:
    """The same along the last axis of an output of any rank (Keras: one row of classes per pixel or time step)."""
    if out.ndim < 2 or out.shape[-1] < 2:
        return False
    return bool(np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=_row_sum_tolerance(out)))


def _log_probability_rows(out: np.ndarray) -> bool:
    if out.ndim != 2 or out.shape[-1] < 2:
        return False
    return bool(np.all(out <= 1e-6)
                and np.allclose(np.exp(out.astype(np.float64)).sum(axis=-1), 1.0, atol=_row_sum_tolerance(out)))


def _row_sum_tolerance(out: np.ndarray) -> float:
    """How far from 1 a softmax row may sum: 1e-4, or each class's rounding in the precision the model computed
    in. The outputs arrive as float64; values that float16 holds exactly came from a float16 model, whose
    softmax rows over 10 classes sum to 1 only within about 1e-2."""
    exact_in_half = np.array_equal(out.astype(np.float16).astype(out.dtype), out)
    return max(1e-4, out.shape[-1] * float(np.finfo(np.float16).eps)) if exact_in_half else 1e-4


def check_refused_shapes(ad, rep, out, problem):
    """A loss that refuses the targets' shape (as the framework's own fit or step would): name the shapes."""
    y = np.asarray(to_numpy(ad.y))
    if y.shape == out.shape:
        return
    evidence = [f"output shape {tuple(out.shape)}, target shape {tuple(y.shape)}: the loss refuses to compare them "
                f"({problem})"]
    whole = y.size > 0 and np.issubdtype(y.dtype, np.number) and bool(np.all(np.mod(y, 1) == 0))
    labels = whole and y.size == ad.n and out.ndim == 2
    axis = _class_axis(ad, out.ndim)
    width = out.shape[axis] if out.ndim >= 2 else 1
    takes_indices = ad.info.kind == "cross_entropy" and ad.info.sparse
    # one class index per sample, covering every output column: what a loss of one column per output wants one-hot
    every_class = labels and y.min() == 0 and y.max() == width - 1 and len(np.unique(y)) == width > 1
    index_maps = (whole and takes_indices and y.ndim == out.ndim
                  and y.shape[axis] == 1 and np.delete(y.shape, axis).tolist() == np.delete(out.shape, axis).tolist())
    widths = _width_mismatch(ad, out.shape, y)
    if labels and not takes_indices and (ad.info.kind == "cross_entropy" or every_class):
        evidence.append(f"the targets are {ad.n} class indices ({int(y.min())}..{int(y.max())}), and "
                        f"{ad.info.name} wants one-hot rows of the output's shape")
        rep.add("target-shape-broadcast", evidence,
                fix="One-hot the targets to the output's shape, or use a loss that takes class indices "
                    "(sparse_categorical_crossentropy, nn.CrossEntropyLoss).")
    elif index_maps:
        wanted = tuple(int(d) for d in np.delete(out.shape, axis))
        evidence.append(f"the targets are class indices with an extra axis of size 1 (axis {axis}), where "
                        f"{ad.info.name} wants them without the class axis: shape {wanted}")
        rep.add("target-shape-broadcast", evidence,
                fix=f"Drop the targets' axis of size 1 (y.squeeze({axis})): class indices have the output's shape "
                    "without its class axis.")
    elif widths and not (labels and ad.info.kind == "cross_entropy"):  # not class indices in a (n, 1) column
        add_width_findings(ad, rep, evidence + [widths], out.shape, y)
    elif _targets_are_inputs(ad, y):
        rep.add("output-width-mismatch", evidence + [
            f"the targets are the inputs themselves (a reconstruction, as in an autoencoder): the output must have "
            f"their shape, {tuple(y.shape[1:])} per sample, and the model returns {tuple(out.shape[1:])}"],
                fix=RECONSTRUCTION_FIX)
    else:
        rep.add("target-shape-broadcast", evidence)


RECONSTRUCTION_FIX = ("Change the model, not the targets: give its last layer as many channels as the input has, and "
                      "undo every pooling or strided step with an upsampling (or transposed convolution) of the same "
                      "factor, so the output has the input's shape.")


def _targets_are_inputs(ad, y) -> bool:
    """The targets are x itself (an autoencoder reconstructs its input)."""
    if is_structured(ad.x):
        return False
    x = np.asarray(to_numpy(ad.x))
    return x.shape == y.shape and np.array_equal(x, y)


def _class_axis(ad, ndim: int) -> int:
    """Where the classes (or target columns) lie: axis 1 in PyTorch (N, C, ...), the last axis in Keras."""
    return 1 if ad.framework == "torch" else ndim - 1


def _width_mismatch(ad, out_shape, y) -> str:
    """Outputs and targets of the same rank that differ only in the width of the class axis: in words, else "".

    Targets whose columns are copies of one another (one mask repeated over three colour channels) are a
    target-shape problem, not the output's."""
    out_shape, y = tuple(out_shape), np.asarray(y)
    if len(out_shape) == 2 and y.shape == out_shape[:1] and out_shape[1] > 1 and ad.info.kind != "cross_entropy":
        # one value per sample against several outputs each (a recurrent layer's states left as the output)
        return (f"the output has {out_shape[1]} units per sample where the targets hold one value per sample: "
                "a loss that fits them must repeat each target over every unit")
    if len(out_shape) < 2 or y.ndim != len(out_shape) or y.shape == out_shape:
        return ""
    axis = _class_axis(ad, y.ndim)
    others_match = all(a == b for i, (a, b) in enumerate(zip(out_shape, y.shape)) if i != axis)
    if not others_match:
        return ""
    width, columns = out_shape[axis], y.shape[axis]
    if columns > 1 and np.all(np.take(y, [0], axis=axis) == y):
        return ""
    return (f"the output has {width} unit{'s' if width != 1 else ''} on its class axis where the targets have "
            f"{columns} column{'s' if columns != 1 else ''}: every target column needs its own output")


def _targets_too_wide(ad, out_shape, y) -> str:
    """The fix for one-hot targets wider than the output whose extra columns are never 1 (one_hot with a
    default or wrong class count): the targets, not the output layer, are what to change. Else ""."""
    y, axis = np.asarray(y), _class_axis(ad, np.ndim(y))
    width = tuple(out_shape)[axis] if len(out_shape) == y.ndim else 0
    if not width or y.shape[axis] <= width or not np.all(np.isin(y, (0, 1))):
        return ""
    if np.any(np.take(y, range(width, y.shape[axis]), axis=axis)) or not np.all(y.sum(axis=axis) == 1):
        return ""
    return (f"The targets are one-hot rows {y.shape[axis]} wide, but only their first {width} columns are ever 1 "
            f"and the output has {width} units: one-hot the labels with the number of classes ({width}).")


def _targets_recoded(ad, out_shape, y) -> tuple:
    """Binary cross-entropy: targets that say the same thing at the output's width, (evidence, fix); else ().
    0/1 labels, one per sample, for two sigmoid units are one-hot rows of two; one-hot rows of two for one
    sigmoid unit are its 0/1 label. Then either side may be the one to change."""
    out_shape, y = tuple(out_shape), np.asarray(y)
    if len(out_shape) != 2 or ad.info.kind != "binary_cross_entropy" or y.size == 0:
        return ()
    rows, width = y.reshape(len(y), -1), out_shape[1]
    if rows.shape[1] == 1 and width == 2 and np.all(np.isin(rows, (0, 1))):
        return ("or the targets: one 0/1 label per sample is a one-hot row of two, np.eye(2)[labels], one column "
                "per sigmoid unit",
                "If each of the two units is to score one class, one-hot the labels: np.eye(2)[y.ravel().astype(int)] "
                "(Keras folder iterators: class_mode='categorical').")
    if rows.shape[1] == 2 and width == 1 and np.all(np.isin(rows, (0, 1))) and np.all(rows.sum(axis=1) == 1):
        return ("or the targets: one-hot rows of two classes hold the same label as one 0/1 column, y[:, 1:], the "
                "single sigmoid unit's width",
                "Keep one 0/1 column for the single sigmoid unit: y[:, 1:] (Keras folder iterators: "
                "class_mode='binary').")
    return ()


def add_width_findings(ad, rep, evidence, out_shape, y):
    """Outputs and targets that differ in the width of the class axis. One-hot targets wider than the output whose
    extra columns are never 1 are what to change; targets that re-encode to the output's width (``_targets_recoded``)
    may be, as much as the output layer: then both fixes are findings."""
    too_wide = _targets_too_wide(ad, out_shape, y)
    if too_wide:
        rep.add("target-shape-broadcast", evidence, fix=too_wide)
        return
    rep.add("output-width-mismatch", evidence)
    recoded = _targets_recoded(ad, out_shape, y)
    if recoded:
        rep.add("target-shape-broadcast", [recoded[0]], fix=recoded[1], alternative=True)


def _class_indices(y: np.ndarray) -> bool:
    """Whole numbers from 0 with at least 3 values (class indices of a multi-class task)."""
    return (y.size > 0 and np.issubdtype(y.dtype, np.number) and bool(np.all(np.isfinite(y)))
            and bool(np.all(np.mod(y, 1) == 0)) and y.min() >= 0 and len(np.unique(y)) >= 3)


def _binary_loss_on_one_class_rows(ad, out, y) -> list:
    """Evidence that a binary cross-entropy is given one class per sample among more than two, else []."""
    if ad.info.kind != "binary_cross_entropy":
        return []
    if y.size == ad.n and _class_indices(y):  # one whole number per sample, not pixel values
        return [f"the targets are class indices from {int(y.min())} to {int(y.max())} "
                f"({len(np.unique(y))} classes), but {ad.info.name} reads each target as a 0/1 answer"]
    if out.ndim >= 2 and y.shape == out.shape and out.shape[-1] > 2 and np.all((y == 0) | (y == 1)) \
            and np.all(y.sum(axis=-1) == 1):
        return [f"every target row holds exactly one 1 among {y.shape[-1]} columns (one class per sample)",
                f"{ad.info.name} scores each column as its own yes/no question, so nothing makes the {y.shape[-1]} "
                "classes compete: one-class-per-sample training wants a softmax with categorical cross-entropy"]
    return []


def _binary_targets_outside(ad, y) -> list:
    """Evidence that a binary cross-entropy gets targets outside [0, 1] (labels 5 and 7, pixels 0-255), else [].
    Class indices 0, 1, 2, ... are binary-loss-on-one-class-rows instead."""
    if ad.info.kind != "binary_cross_entropy" or y.size == 0 or not np.all(np.isfinite(y)):
        return []
    if (y.min() >= 0 and y.max() <= 1) or (y.size == ad.n and _class_indices(y) and y.min() == 0):
        return []
    return [f"the targets run from {sig(y.min())} to {sig(y.max())} ({len(np.unique(y))} distinct values), but "
            f"{ad.info.name} takes each target as the probability of the positive class, in [0, 1]"]


def check_class_labels(ad, rep, out):
    """Targets given as class indices (a cross-entropy over the output's class axis) must be whole numbers from 0
    to the number of classes - 1 and, for PyTorch, int64: the loss raises on anything else. Binary cross-entropy
    takes targets in [0, 1]."""
    outside = _binary_targets_outside(ad, np.asarray(to_numpy(ad.y)))
    if outside:
        rep.add("labels-not-class-indices", outside,
                fix="Encode the two classes as 0 and 1 (or scale the targets into [0, 1]) for binary cross-entropy.")
    if ad.info.kind != "cross_entropy" or not ad.info.sparse or out.ndim < 2:
        return
    y = np.asarray(to_numpy(ad.y))
    classes_axis = _class_axis(ad, out.ndim)
    without_classes = out.shape[:classes_axis] + out.shape[classes_axis + 1:]
    if y.shape not in (without_classes, without_classes + (1,)) or y.size == 0:
        return  # not one index per sample (or pixel): one-hot or probability targets, judged elsewhere
    if ad.info.ignored is not None:  # labels the loss skips (padding, unlabelled pixels) name no class
        y = y[y != ad.info.ignored]
        if y.size == 0:
            return
    k, evidence = out.shape[classes_axis], []
    given = getattr(ad, "given_target_dtype", str(y.dtype))
    if ad.framework == "torch" and given not in ("int64", "uint8"):
        evidence.append(f"the targets are {given}, and {ad.info.name} takes class indices only as int64 "
                        "(it raises: expected target dtype to be Long)")
    if not np.all(np.isfinite(y)) or np.any(np.mod(y, 1) != 0):
        evidence.append("some targets are not whole numbers, so they cannot be class indices")
    elif y.min() < 0 or y.max() >= k:
        outside = int(np.sum((y < 0) | (y >= k)))
        said = (f"the targets run from {int(y.min())} to {int(y.max())}, but the output has {k} classes, "
                f"numbered 0..{k - 1}: {outside} of {y.size} targets name no output")
        classes = len(np.unique(y))
        if y.min() >= 0 and (y.min() == 0 or classes > k):  # numbered from 0 (or more labels than units): too narrow
            rep.add("output-width-mismatch", [said, f"the targets hold {classes} different classes"])
        else:
            evidence.append(said)
    if evidence:
        rep.add("labels-not-class-indices", evidence)
    elif "output-width-mismatch" not in rep.codes:
        rep.passed.append("labels-not-class-indices")


def _normalised_over_batch(out: np.ndarray) -> bool:
    """A softmax (or log_softmax) over the batch axis: every column, not every row, sums to 1."""
    if out.ndim != 2 or out.shape[0] < 2 or out.shape[0] == out.shape[1]:
        return False
    for p in (out, np.exp(np.minimum(out, 0.0)) if np.all(out <= 1e-6) else None):
        if p is not None and np.all(p >= 0) and np.allclose(p.sum(axis=0), 1.0, atol=1e-4) \
                and not np.allclose(p.sum(axis=-1), 1.0, atol=1e-4):
            return True
    return False


def draws_noise(ad, model, first=None) -> bool:
    """Two evaluations of the same batch in inference mode (dropout off) differ: the model samples noise of its
    own (a GAN player feeding a generator's output to its discriminator, a VAE) or keeps a state. ``first``: an
    evaluation already made, as a float64 array."""
    def evaluate():
        return np.asarray(to_numpy(ad.output(model, False)), dtype=np.float64)

    first, second = evaluate() if first is None else first, evaluate()
    scale = max(float(np.abs(first).max()), 1e-12)
    return first.shape != second.shape or bool(np.abs(first - second).max() > 1e-5 * scale)


def check_samples_independent(ad, rep, model):
    """In inference mode each sample's output must depend on that sample alone: the second half of the batch,
    run on its own, must get the outputs it got in the whole batch. An RNN fed (batch, time, features) without
    batch_first, a reshape or transpose across the batch axis, or a mean over axis 0 all break this."""
    if ad.n < 4 or "softmax-over-batch" in rep.codes:
        return
    half = ad.n // 2
    try:
        whole, alone = (np.asarray(to_numpy(ad.output(model, False, x)), dtype=np.float64)
                        for x in (ad.x, map_inputs(lambda a: a[half:], ad.x)))
    except Exception as e:  # noqa: BLE001
        rep.skip("samples-mixed", f"the model does not run on half the batch ({error_text(e)}): "
                                  "is the batch size written into the model?")
        return
    if not np.all(np.isfinite(whole)):  # NaN never equals NaN: every sample would look moved
        rep.skip("samples-mixed", "the model's outputs on this batch are not all finite")
        return
    scale = max(float(np.abs(whole).max()), 1e-12)
    if draws_noise(ad, model, first=whole):
        rep.skip("samples-mixed", "two identical calls in inference mode gave different outputs (a random or "
                                  "stateful model?)")
        return
    if alone.shape != whole[half:].shape:
        return
    moved = np.abs(alone - whole[half:]).reshape(len(alone), -1).max(axis=1)
    if moved.max() <= 1e-3 * scale:
        rep.passed.append("samples-mixed")
        return
    j = int(np.argmax(moved))
    rep.add("samples-mixed",
            [f"the second half of the batch, run on its own, got different outputs: "
             f"{int((moved > 1e-3 * scale).sum())} of {len(alone)} samples (sample {half + j}'s output moved by "
             f"{sig(moved[j])}, {percent(moved[j] / scale)} of the largest output), in inference mode",
             "so a sample's output depends on the other samples of the batch: somewhere the batch axis is treated "
             "as a time, feature or class axis, or reduced over"])


_RANGES = {"relu": (0.0, math.inf), "sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
           "softplus": (0.0, math.inf), "exponential": (0.0, math.inf), "relu6": (0.0, 6.0)}


def torch_final_activation(ad, trace, out):
    """The function applied last: from the last leaf that ran, if its output is the model's output."""
    if not trace:
        return None
    name, module, _, last_out = trace[-1]
    same = last_out.shape == out.shape and bool(ad.torch.equal(last_out, out))
    if not same:
        return None
    kind = type(module).__name__.lower()
    for key in ("softmax", "logsoftmax", "sigmoid", "tanh", "relu6", "relu", "softplus"):
        if kind == key:
            return key
    return None


def keras_final_activation(model):
    layers = list(keras_layers(model))
    return keras_activation(layers[-1]) if layers else None


def check_output(ad, rep, out, activation):
    """Output activation against the loss and the targets."""
    info = ad.info
    y = np.asarray(to_numpy(ad.y), dtype=np.float64)
    n_out = out.shape[-1] if out.ndim >= 2 else 1
    # one unit through a softmax: the output is exactly 1 for every sample
    if n_out == 1 and out.size >= 2 and np.allclose(out, 1.0, rtol=0, atol=1e-5) and out.std() < 1e-6:
        rep.add("one-unit-softmax", [f"the output has 1 unit and equals 1 (to 1e-5) for all {out.shape[0]} samples"
                                     + (" (a softmax over one unit)" if activation == "softmax" else ""),
                                     "no weight can change it: the output stays 1 whatever the training does"
                                     + (" (its gradient with respect to every weight is exactly 0)"
                                        if ad.framework == "torch" else
                                        " (Keras' cross-entropy may train the logit behind the softmax, so its "
                                        "loss can fall while the output never moves)")])
        return
    if _normalised_over_batch(out):
        rep.add("softmax-over-batch",
                [f"each of the {out.shape[1]} output columns sums to 1 over the {out.shape[0]} samples, "
                 "but the rows (one per sample) do not",
                 "so every sample's output depends on the rest of the batch, and each class's probability is "
                 "shared out among the samples"])
        return
    probs = _probability_rows(out) or (activation in ("softmax", "sigmoid") and np.all((out >= 0) & (out <= 1)))
    if info.expects == "logits" and probs:
        what = activation or "softmax"
        rep.add("softmax-before-crossentropy",
                [f"the model's outputs are probabilities (a {what}: all in [0, 1]"
                 + (", rows sum to 1" if _probability_rows(out) else "") + ")",
                 f"but {info.name} applies its own softmax/sigmoid to what it gets: "
                 f"output range {sig(out.min())}..{sig(out.max())} becomes nearly uniform"])
    elif info.expects == "log_probabilities" and not _log_probability_rows(out):
        rep.add("logits-into-probability-loss",
                [f"{info.name} expects log-probabilities (rows with exp summing to 1); "
                 f"these outputs range {sig(out.min())}..{sig(out.max())}"
                 + (" and are probabilities: use log_softmax" if probs else ": add log_softmax")])
    elif info.expects == "probabilities" and info.kind in ("cross_entropy", "binary_cross_entropy"):
        in_range = bool(np.all((out >= 0) & (out <= 1)))
        rows_ok = _probabilities_on_last_axis(out) if info.kind == "cross_entropy" and n_out >= 2 else in_range
        if info.kind == "cross_entropy" and n_out >= 2 and in_range and not rows_ok:
            sums = out.sum(axis=-1)
            rep.add("rows-not-probabilities",
                    [f"every output is in [0, 1] but the rows sum to {sig(sums.min())}..{sig(sums.max())}, not 1 "
                     + (f"(a {activation} per class)" if activation else "(one sigmoid per class?)"),
                     f"{info.name} reads each row as one probability per class"])
        elif not rows_ok and activation == "tanh":  # bounded scores: from_logits=True would leave them in [-1, 1]
            rep.add("logits-into-probability-loss",
                    [f"{info.name} expects probabilities, but the outputs come out of a tanh and range "
                     f"{sig(out.min())}..{sig(out.max())}",
                     "as logits (from_logits=True) they would stay within [-1, 1]: no probability could pass "
                     f"{tanh_logits_ceiling(info.kind, out)[0]:.3g}"],
                    fix="Replace the tanh on the last layer with a softmax (one class per sample) or a sigmoid "
                        "(binary or several labels per sample).")
        elif not rows_ok:
            rep.add("logits-into-probability-loss",
                    [f"{info.name} expects probabilities, but outputs range {sig(out.min())}..{sig(out.max())}"
                     + ("" if in_range else " (outside [0, 1])")])
    # softmax rows (the model's, or the one a cross-entropy on logits applies) against several 1s per
    # target row (multi-label targets)
    softmax_rows = "each output row sums to 1 (a softmax)" if _probability_rows(out) else (
        f"{info.name} applies a softmax, so each row of probabilities sums to 1"
        if info.kind == "cross_entropy" and info.expects == "logits" and out.ndim == 2 and out.shape[-1] >= 2 else "")
    if softmax_rows and y.ndim == 2 and y.shape == out.shape and np.all((y == 0) | (y == 1)):
        several = y.sum(axis=-1) > 1
        if np.any(several):
            rep.add("output-cannot-reach-target",
                    [f"{softmax_rows}, but {percent(_fraction(several))} of the target rows "
                     f"hold several 1s (up to {int(y.sum(axis=-1).max())})"],
                    fix="For several labels per sample, use one sigmoid per label with binary cross-entropy.")
    elif softmax_rows and info.kind != "cross_entropy" and y.ndim >= 2 and y.shape == out.shape and y.shape[-1] >= 2:
        # a vector of values through a softmax (a regression, a Poisson loss): the row must sum to 1, its targets not
        sums = y.sum(axis=-1)
        off = (np.abs(sums - 1) > 1e-3) | np.any(y < 0, axis=-1)
        if _fraction(off) >= 0.5:
            rep.add("output-cannot-reach-target",
                    [f"{softmax_rows}, and every output lies in [0, 1]",
                     f"but {percent(_fraction(off))} of the target rows do not: they sum to "
                     f"{sig(sums.min())}..{sig(sums.max())} (targets range {sig(y.min())}..{sig(y.max())})"],
                    fix="Replace the softmax on the last layer, which ties the outputs of a row together, with an "
                        "activation that gives each its own value: none (linear) for any value, a sigmoid for "
                        "values in [0, 1], a softplus for positive ones; keep a softmax for one class per sample.")
    one_class_rows = _binary_loss_on_one_class_rows(ad, out, y)
    if one_class_rows:  # one-hot rows can still be memorised this way (then it is a note); class indices cannot
        rep.add("binary-loss-on-one-class-rows", one_class_rows, reading=y.size != ad.n)
    # an output that cannot reach the targets (regression or binary targets)
    if activation in _RANGES and info.kind in ("mse", "mae", "binary_cross_entropy") and info.expects != "logits":
        low, high = _RANGES[activation]
        outside = (y < low) | (y > high)
        if _fraction(outside) > 0.0:
            rep.add("output-cannot-reach-target",
                    [f"the output goes through {activation}, range [{sig(low)}, {sig(high) if high < math.inf else 'inf'}]",
                     f"{percent(_fraction(outside))} of the targets lie outside it "
                     f"(targets range {sig(y.min())}..{sig(y.max())})"])
    # regression outputs clipped at zero by a ReLU (also one applied inside forward)
    if activation is None and info.kind in ("mse", "mae") and np.any(y < 0):
        zeros = _fraction(out == 0)
        if np.all(out >= 0) and zeros >= 0.1 and np.ptp(out) > 0:  # a constant output is another story
            rep.add("output-cannot-reach-target",
                    [f"every output is >= 0 and {percent(zeros)} are exactly 0 (a ReLU at the output)",
                     f"{percent(_fraction(y < 0))} of the targets are negative"])
    # shapes that broadcast in the loss (a loss of the student's own too, when it gets one target per output)
    if info.kind in ("mse", "mae", "binary_cross_entropy") or (info.kind is None and y.size == out.size):
        compared = _broadcast_shape(ad, out.shape, y)
        widths = _width_mismatch(ad, out.shape, y)
        if widths:  # the cause; a broadcast it leads to is reported too, as its consequence
            add_width_findings(ad, rep, [f"output shape {tuple(out.shape)}, target shape {tuple(y.shape)}", widths],
                               out.shape, y)
        shapes = f"output shape {tuple(out.shape)}, target shape {tuple(y.shape)}"
        if compared == tuple(out.shape):
            said = (f"{shapes}: each target is compared with all {out.size // max(y.size, 1)} outputs of its row (the "
                    "loss repeats it silently)")
        elif compared is not None:
            said = f"{shapes}: the loss compares every output with every target (shape {compared})"
        else:
            said = ""
        if said and "target-shape-broadcast" in rep.codes:  # the targets are already a fix the width finding gave
            rep.finding("target-shape-broadcast").evidence.append(said)
        elif said:
            rep.add("target-shape-broadcast", [said])


def _broadcast_shape(ad, out_shape, y):
    """The shape the loss compares when it pairs every output with every target, else None.

    Shapes alone do not tell: PyTorch's MSELoss broadcasts (n, 1) against (n,) to (n, n), Keras lines them up
    as fit does. So when y holds one value per output, the loss is computed on outputs equal to the targets:
    0 (or its floor) when it lines them up, more when it broadcasts.
    """
    out_shape = tuple(out_shape)
    if out_shape == y.shape:
        return None
    try:
        compared = np.broadcast_shapes(out_shape, y.shape)
    except ValueError:
        return None
    if tuple(compared) == out_shape and y.size < int(np.prod(out_shape)):
        return out_shape  # one target repeated across several outputs of its row
    if int(np.prod(compared)) <= max(int(np.prod(out_shape)), y.size):
        return None
    if y.size == int(np.prod(out_shape)):
        lined_up = ad.values(y.reshape(out_shape))
        try:
            as_given = ad.loss_of(lined_up, ad.values(y))
            as_lined_up = ad.loss_of(lined_up, lined_up)
        except Exception:  # noqa: BLE001  (the loss refuses the shapes as given: nothing broadcasts)
            return None
        if math.isclose(as_given, as_lined_up, rel_tol=1e-4, abs_tol=1e-6):
            return None
    return tuple(compared)


def _final_softmax_input(ad, model, trace):
    """What the model's last layer, a softmax of its own, receives; None when the softmax sits inside a layer."""
    if ad.framework == "torch":
        return trace[-1][2] if trace and type(trace[-1][1]).__name__ == "Softmax" else None
    last = list(keras_layers(model))[-1]
    if type(last).__name__ not in ("Softmax", "Activation"):
        return None
    return ad.keras.Model(model.inputs, last.input)(ad.x, training=False)


def check_softmax_twice(ad, rep, model, trace):
    """A softmax of probabilities: its outputs never leave a narrow band around 1/classes."""
    try:
        received = _final_softmax_input(ad, model, trace)
    except Exception:  # noqa: BLE001  (a model we cannot split: nothing to say)
        return
    if received is None:
        return
    received = np.asarray(to_numpy(received), dtype=np.float64)
    if not _probability_rows(received):
        return
    classes = received.shape[-1]
    ceiling = math.e / (math.e + classes - 1)  # a softmax of values in [0, 1]: at best one 1 against zeros
    rep.add("output-cannot-reach-target",
            ["the final softmax receives rows that are already probabilities (in [0, 1], summing to 1)",
             f"so no output can exceed e/(e + {classes - 1}) = {sig(ceiling)}: a target of 1 is out of reach"],
            fix="Apply the softmax once: remove the second one (or the activation of the layer before it).")


def _non_finite_data(ad) -> list:
    """Where the batch itself holds NaN or inf: an evidence line for x and for y, if they do."""
    found = []
    for name, arrays in (("x", input_arrays(ad.x)), ("y", [ad.y])):
        values = [np.asarray(to_numpy(a)) for a in arrays]
        bad = sum(int(np.sum(~np.isfinite(v))) for v in values if np.issubdtype(v.dtype, np.floating))
        if bad:
            found.append(f"{name} holds {bad} NaN or infinite value(s) of {sum(v.size for v in values)}")
    return found


def check_init_loss(ad, rep, init_loss, out):
    """The same rule as instruments.init_loss_check: within INIT_LOSS_FACTOR of untrained_loss."""
    if not math.isfinite(init_loss):
        rep.add("non-finite-loss", [f"the loss of the untrained model on this batch is {init_loss}"] + _non_finite_data(ad),
                fix="The loss is not finite before any step, so the learning rate is not the cause: look for NaN or "
                    "inf in x and y, targets the loss cannot score, and a log of 0 or a division inside the loss.")
        return
    kind = ad.info.kind
    if kind is None:
        rep.skip("init-loss", f"no chance level for loss {ad.info.name!r} (pass loss_kind=... to set one)")
        return
    n_classes = out.shape[_class_axis(ad, out.ndim)] if kind == "cross_entropy" and out.ndim >= 2 else None
    if kind == "cross_entropy" and not (n_classes and n_classes >= 2):
        rep.skip("init-loss", f"a cross-entropy over output shape {tuple(out.shape)} has no chance level")
        return
    check = InitLossCheck(init_loss, untrained_loss(to_numpy(ad.y), kind, n_classes), kind)
    if check.reference <= 0:
        rep.skip("init-loss", "the targets are all zero in this batch: no level to compare with")
        return
    if not check.healthy:
        rep.add("init-loss-off", [str(check)], severity="warning", ratio=check.ratio, chance=check.reference)
    else:
        rep.passed.append("init-loss")


def _feature_axis_values(ad, x: np.ndarray):
    """(samples, features): torch is channels first, Keras channels last."""
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 2:
        return x
    if ad.framework == "torch":
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def first_layer_input(ad, model, trace=()):
    """What the model's first layer with trainable weights receives, when a fixed step changed x on the way.

    A standardisation inside the model (a Keras ``Normalization`` layer adapted on x, or a
    fixed ``(x - mean) / std`` in a PyTorch ``forward``) is a fix for unscaled inputs, so
    the scale check judges what that layer receives. None when it receives x itself (maybe
    reshaped) or when it cannot be told.
    """
    try:
        if ad.framework == "torch":
            seen = _torch_first_layer_input(ad, model, trace)
        else:
            seen = _keras_first_layer_input(ad, model)
    except Exception:  # noqa: BLE001  (a model we cannot split: judge x, as before)
        return None
    if seen is None:
        return None
    seen = np.asarray(to_numpy(seen), dtype=np.float64)
    inputs = [np.asarray(to_numpy(array), dtype=np.float64) for array in input_arrays(ad.x)]
    same = any(seen.size == x.size and np.array_equal(seen.reshape(-1), x.reshape(-1)) for x in inputs)
    return None if same else seen


def _torch_first_layer_input(ad, model, trace):
    leaves = [m for m in model.modules() if not list(m.children())]
    if sum(p.numel() for m in leaves for p in m.parameters()) != sum(p.numel() for p in model.parameters()):
        return None  # weights used directly in a forward: we cannot tell where the first layer is
    for _, module, inputs, _ in trace:
        if any(p.requires_grad for p in module.parameters()):
            return inputs
    return None


NORMALISERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "BatchNorm1d", "BatchNorm2d",
               "BatchNorm3d", "LayerNorm", "GroupNorm")


def first_layer_normalises(ad, model, trace=()) -> str:
    """The type of the model's first layer with weights when it is a normalisation layer (it rescales the inputs
    itself, so their raw scale is no problem), else ''."""
    first = _first_weighted_layer(ad, model, trace)
    name = type(first).__name__ if first is not None else ""
    return name if name in NORMALISERS else ""


def _first_weighted_layer(ad, model, trace=()):
    """The first layer with trainable weights: in the order the layers ran (PyTorch's ``trace``), or Keras's."""
    if ad.framework == "torch":
        return next((module for _, module, _, _ in trace if any(p.requires_grad for p in module.parameters())), None)
    return next((layer for layer in keras_layers(model) if layer.trainable_weights), None)


def _keras_first_layer_input(ad, model):
    layers = list(keras_layers(model))
    first = _first_weighted_layer(ad, model)
    if first is None or first is layers[0]:
        return None
    try:
        return ad.keras.Model(model.inputs, first.input)(ad.x, training=False)
    except Exception:  # noqa: BLE001  (a model never called, or the layer inside a nested model)
        if not isinstance(model, ad.keras.Sequential):
            raise
    values = ad.x
    for layer in layers[:layers.index(first)]:
        values = layer(values, training=False)
    return values


# features far from zero are named when they are at least this share of the varying ones: iris has 2 of 4; 2 of
# 5000 word counts or 3 of 449 pixels, measured in the real-bug benchmark's fixed twins, are not what the first layer
# mostly receives (the share was set between those: 1 in 6 is the lowest named and 3 in 449 the highest not)
FAR_FEATURES_SHARE = 0.1


def check_inputs(ad, rep, min_samples, seen=None):
    """The scale of the inputs; ``seen``: what the first layer with weights receives, if not x."""
    if is_structured(ad.x) and seen is None:
        rep.skip("unscaled-inputs", "the model takes several inputs (a dict, list or tuple): their scale is not judged")
        return
    x = np.asarray(to_numpy(seen if is_structured(ad.x) else ad.x))
    if not np.issubdtype(x.dtype, np.floating):
        rep.skip("unscaled-inputs", f"the inputs are {x.dtype} (indices for an embedding?), not measurements")
        return
    if seen is not None:
        x = seen
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        rep.add("unscaled-inputs", [f"{percent(_fraction(~np.isfinite(x)))} of the input values are NaN or infinite"])
        return
    v = _feature_axis_values(ad, x)
    if v.shape[0] < min_samples:
        rep.skip("unscaled-inputs", f"{v.shape[0]} value(s) per feature: too few to estimate a scale "
                                    f"(need >= {min_samples})")
        return
    mean, std = v.mean(axis=0), v.std(axis=0)
    rms = np.sqrt(mean ** 2 + std ** 2)
    evidence = []
    if rms.max() > 10:
        j = int(np.argmax(rms))
        evidence.append(f"feature {j} has mean {sig(mean[j])}, std {sig(std[j])}: values of order {sig(rms.max())} "
                        "(healthy: about 1)")
    varying = std > 0
    if varying.any():
        offsets = np.abs(mean[varying]) / std[varying]
        offset = np.median(offsets)
        if offset > 5:
            evidence.append(f"a typical feature sits at {sig(offset)} standard deviations from zero "
                            f"(overall mean {sig(v.mean())}, typical std {sig(np.median(std[varying]))}): "
                            "every sample looks alike")
        elif np.mean(offsets > 5) >= FAR_FEATURES_SHARE:  # iris-like: a few features far from zero, moderate scale
            j = np.flatnonzero(varying)[int(np.argmax(offsets))]
            far = int(np.sum(offsets > 5))
            evidence.append(f"{far} of {int(varying.sum())} features sit more than 5 standard deviations from zero; "
                            f"feature {j}: mean {sig(mean[j])}, std {sig(std[j])}")
    if 0 < rms.max() < 0.1:  # e.g. scikit-learn's diabetes features (std 0.05): the first layer sees little change
        evidence.append(f"every input feature is small: the largest has scale {sig(rms.max())} (healthy: about 1)")
    if evidence:
        where = ["(measured on what the first layer with weights receives, after the model's own preprocessing)"]
        rep.add("unscaled-inputs", evidence + (where if seen is not None else []))
    else:
        rep.passed.append("unscaled-inputs")


def check_linear_stack(ad, rep, model, trace):
    from .linearity import linear_pairs

    found = linear_pairs(model)
    pairs = list(found.pairs)
    if ad.framework == "torch" and pairs and not isinstance(model, ad.nn.Sequential):
        pairs = [p for p in pairs if _torch_pair_flows(ad, p, trace)]
    linked = {(p.first, p.second) for p in pairs}
    maps = list(found.maps)
    whole = len(maps) >= 2 and all((a, b) in linked for a, b in zip(maps, maps[1:]))
    if whole and _targets_are_inputs(ad, np.asarray(to_numpy(ad.y))):
        # a linear autoencoder is a textbook model in its own right: it learns the inputs' principal subspace (PCA)
        rep.notes.append(f"all {len(maps)} layers with weights compose into one linear map, and the targets are the "
                         "inputs: a linear autoencoder, which can keep only the inputs' principal directions (as PCA "
                         "does); if you meant a non-linear one, put an activation after each hidden layer")
        rep.passed.append("linear-stack")
    elif whole:
        # every layer with weights feeds the next with nothing non-linear between: one linear map in all
        rep.add("linear-stack", [f"{p}: these compose into one linear map" for p in pairs]
                + [f"all {len(maps)} layers with weights compose into one linear map (plus the output activation): "
                   "the model can fit only what a linear model can"])
    else:
        # a linear pair inside a non-linear network wastes a layer but does not stop it fitting (lesson 02):
        # worth a note, not a finding (a linear bottleneck or output stretch is often on purpose)
        rep.notes += [f"{p}: compose into one linear map; the rest of the model is non-linear, so this does not stop "
                      "it fitting (if you meant an activation there, add one)" for p in pairs]
        rep.passed.append("linear-stack")


def _torch_pair_flows(ad, pair, trace):
    """For a module with its own forward: does the first layer's output reach the second unchanged?

    The registration order of a custom module is not its execution order, and a
    functional F.relu in forward is invisible to the module list; the values
    tell: the second layer's input must equal the first layer's output passed
    through the (linear) layers listed between them.
    """
    labels = [pair.first, *pair.between, pair.second]
    names = [lab.split(" (")[0] for lab in labels]
    by_name = {}
    for name, module, inp, out in trace:
        by_name.setdefault(name, (inp, out))
    if any(n not in by_name for n in names):
        return False
    for a, b in zip(names, names[1:]):
        out_a, in_b = by_name[a][1], by_name[b][0]
        if out_a.numel() != in_b.numel() or not ad.torch.allclose(out_a.reshape(-1), in_b.reshape(-1)):
            return False
    return True


def _bn_inputs(ad, model):
    """name -> (input of every BatchNorm layer in a training-mode pass, channel axis)."""
    if ad.framework == "torch":
        bns = {n: m for n, m in model.named_modules() if isinstance(m, ad.nn.modules.batchnorm._BatchNorm)}
        seen, handles = {}, []
        def keep(name, inputs):
            seen.setdefault(name, inputs[0].detach().numpy())  # returns None: the input is left as it is

        for n, m in bns.items():
            handles.append(m.register_forward_pre_hook(lambda mod, i, n=n: keep(n, i)))
        error = None
        try:
            ad.output(model, training=True)
        except ValueError as e:  # torch refuses to normalise one value per channel in training mode
            error = e
        finally:
            for h in handles:
                h.remove()
        return {n: (a, 1) for n, a in seen.items()}, error
    layers = [l for l in keras_layers(model) if type(l).__name__ == "BatchNormalization"]
    if not layers:
        return {}, None
    probe = ad.keras.Model(model.inputs, [l.input for l in layers])
    saved = [v.numpy() for v in model.non_trainable_variables]
    outs = probe(ad.x, training=True)
    for var, value in zip(model.non_trainable_variables, saved):
        var.assign(value)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {l.name: (np.asarray(o), getattr(l, "axis", -1)) for l, o in zip(layers, outs)}, None


def check_batchnorm(ad, rep, model):
    if not ad.has_batchnorm(model):
        return
    try:
        inputs, error = _bn_inputs(ad, model)
    except Exception as e:  # noqa: BLE001
        rep.skip("degenerate-batchnorm", f"could not read the BatchNorm inputs: {e}")
        return
    evidence = []
    for name, (a, axis) in inputs.items():
        axis = axis[0] if isinstance(axis, (list, tuple)) else axis
        a = np.moveaxis(a.astype(np.float64), axis, -1)
        per_channel = a.reshape(-1, a.shape[-1])
        count = per_channel.shape[0]
        var = per_channel.var(axis=0)
        scale = np.abs(per_channel).max(axis=0) + 1e-12
        flat = var <= (1e-6 * scale) ** 2
        if count <= 1:
            evidence.append(f"{name}: normalises over {count} value per feature: its output is its bias, whatever the input")
        elif _fraction(flat) >= 0.5:
            evidence.append(f"{name}: {percent(_fraction(flat))} of its {len(var)} features have zero variance over the "
                            f"{count} values in the batch (identical samples): the output is its bias")
    if error is not None and "more than 1 value per channel" in str(error):
        evidence.append(f"PyTorch refuses a training step: {error}")
    if evidence:
        rep.add("degenerate-batchnorm", evidence + ["its gradient to everything before it is exactly 0"])
    else:
        rep.passed.append("degenerate-batchnorm")


def _layer_weight_norms(model):
    from .. import instruments

    snap = instruments.snapshot_weights(model)
    return {k: float(np.sqrt(sum(float((np.asarray(to_numpy(w), dtype=np.float64) ** 2).sum()) for w in ws)))
            for k, ws in snap.items()}


def _loss_detached(ad, model) -> bool:
    """PyTorch: the model has weights to train, but the loss it gives is a tensor with no gradient history."""
    if ad.framework != "torch" or not any(p.requires_grad for p in model.parameters()):
        return False
    try:
        loss = ad.loss(model(ad.x), ad.y)
    except Exception:  # noqa: BLE001
        return False
    return isinstance(loss, ad.torch.Tensor) and not loss.requires_grad


def _zero_only_at_start(ad, zero) -> bool:
    """Every layer in ``zero`` gets a non-zero gradient once a copy of the model has taken one step of Adam."""
    from .. import instruments

    try:
        model = ad.copy()
        ad.train(model, ad.probe_optimizer(model, 1e-3), 1)
        norms = instruments.grad_norms(model, ad.x, ad.y, ad.loss)
    except Exception:  # noqa: BLE001  (no step to take: the zeros stay a finding)
        return False
    return all(norms.get(name, 0) > 0 for name in zero)


def check_gradients(ad, rep, model, vanish=1e-3, explode=1e3, too_large=1e2):
    from .. import instruments

    if ad.framework == "torch":
        model.train()
    try:
        norms = instruments.grad_norms(model, ad.x, ad.y, ad.loss)
    except Exception as e:  # noqa: BLE001
        if _loss_detached(ad, model):
            rep.add("no-gradient-path", [f"backward refuses: {error_text(e)}", "the loss does not require a gradient: "
                                         "somewhere between the output and the loss the chain of tensors is cut (an "
                                         "argmax, a round, .detach(), .item(), .numpy())"])
        elif not check_inplace_writes(ad, rep, model, e):
            rep.skip("gradient-flow", f"could not compute gradients in training mode: {error_text(e)}")
        return
    if not norms:
        rep.skip("gradient-flow", "the model has no trainable layers")
        return
    names = list(norms)
    values = np.array([norms[n] for n in names])
    if not np.all(np.isfinite(values)):
        bad = [n for n, v in zip(names, values) if not math.isfinite(v)]
        rep.add("exploding-gradients", [f"non-finite gradient in {', '.join(bad)}"])
        return
    if values.max() == 0 and len(instruments.unreached_layers(model, ad.x, ad.y, ad.loss)) == len(names):
        rep.add("no-gradient-path", [f"the gradient of every one of the {len(names)} layers is None, not 0: no path "
                                     "leads from the loss back to any weight, so backward() leaves .grad empty"])
        return
    if values.max() == 0:
        rep.add("zero-gradients", [f"all {len(names)} layers receive a gradient of exactly 0: the loss does not "
                                   "depend on any weight"], zero=names)
        return
    zero = [n for n, v in zip(names, values) if v == 0]
    if zero and _zero_only_at_start(ad, zero):
        rep.notes.append(f"{len(zero)} of {len(names)} layers receive a gradient of exactly 0 at initialisation "
                         f"({', '.join(zero)}) but not after one step of Adam: a layer after them passes no gradient back "
                         "until its weights move (as a zeros initialiser does)")
    elif zero:
        rep.add("zero-gradients", [f"{len(zero)} of {len(names)} layers receive exactly 0: {', '.join(zero)}"],
                zero=zero, reading=True)  # a note if the rest memorises the batch
    weights = _layer_weight_norms(model)
    rel = {n: norms[n] / weights[n] for n in names if norms[n] > 0 and weights.get(n, 0) > 0}
    if len(rel) >= 2:
        order = [n for n in names if n in rel]
        first, last = order[0], order[-1]
        ratio = rel[first] / rel[last]
        if ratio < vanish:
            rep.add("vanishing-gradients",
                    [f"gradient/weight norm: {first} {sig(rel[first])} vs {last} {sig(rel[last])} "
                     f"({sig(ratio)} times; healthy: within {sig(1 / vanish)}x)"])
        elif ratio > explode:
            rep.add("exploding-gradients",
                    [f"gradient/weight norm: {first} {sig(rel[first])} vs {last} {sig(rel[last])} "
                     f"({sig(ratio)} times; healthy: within {sig(explode)}x)"])
        elif max(rel.values()) > too_large:
            worst = max(rel, key=rel.get)
            rep.add("exploding-gradients",
                    [f"{worst}: gradient norm {sig(norms[worst])} is {sig(rel[worst])} times its weights' norm "
                     f"(flagged above {sig(too_large)}): one step at lr 0.01 would more than replace the weights"],
                    large_step=True)
        else:
            rep.passed.append("gradient-flow")
    rep.gradient_norms = norms


def check_recurrent_steps(ad, rep, model, min_steps=50, floor=1e-6):
    """A recurrent layer over a long sequence: how many of its last time steps the loss's gradient still reaches
    (above ``floor`` times the largest step's). Over hundreds of steps it dies out long before the first ones,
    so the model cannot learn from what they hold."""
    from .. import instruments

    if "samples-mixed" in rep.codes:
        return  # the time axis is not where the layer thinks it is
    try:
        measured = instruments.step_gradients(model, ad.x, ad.y, ad.loss)
    except Exception as e:  # noqa: BLE001
        rep.skip("rnn-too-many-steps", f"could not compute the gradient at each time step: {error_text(e)}")
        return
    if measured is None:
        return
    layer, per_step = measured
    steps = len(per_step)
    if steps < min_steps or not np.all(np.isfinite(per_step)) or per_step.max() == 0:
        rep.passed.append("rnn-too-many-steps")
        return
    reached = steps - int(np.argmax(per_step >= floor * per_step.max()))
    side, words = _padding(ad, steps)
    if side == "after" and steps - reached >= words:
        rep.add("rnn-too-many-steps",
                [f"the sequences are padded after their words: half of them end by step {words} of {steps}, "
                 "and 0s fill the rest",
                 f"{layer} runs on through the padding, and the loss's gradient reaches only the last {reached} "
                 f"steps, padding in half the sequences or more: their words get a gradient below {sig(floor)} of "
                 "the largest step's"],
                fix="Mask the padding (Embedding(mask_zero=True) in Keras, pack_padded_sequence in PyTorch), or pad "
                    "before the words (padding='pre'), so that the steps the gradient reaches hold them.")
        return
    if side == "before" and reached >= words:  # the words are the last steps, and the gradient reaches them
        rep.passed.append("rnn-too-many-steps")
        return
    if reached >= steps / 4:
        rep.passed.append("rnn-too-many-steps")
        return
    rep.add("rnn-too-many-steps",
            [f"{layer} reads {steps} time steps, and the loss's gradient reaches only the last {reached} of them "
             f"(at the first step it is {sig(per_step[0] / per_step.max())} of the largest step's, below "
             f"{sig(floor)} for the first {steps - reached} steps)",
             f"so nothing in the first {percent((steps - reached) / steps)} of each sequence can be learned from"])


def _padding(ad, steps):
    """Token sequences padded with 0s, most of them by a quarter of their length or more: ("after", the step by
    which half of them end) or ("before", how many last steps hold the words in half of them); else (None, 0)."""
    if is_structured(ad.x):
        return None, 0
    tokens = np.asarray(to_numpy(ad.x))
    if tokens.ndim != 2 or tokens.shape[1] != steps or not np.issubdtype(tokens.dtype, np.integer):
        return None, 0
    used = tokens != 0
    if not used.any(axis=1).all():
        return None, 0
    before, after = np.argmax(used, axis=1), np.argmax(used[:, ::-1], axis=1)  # 0s before and after the words
    if np.median(after) >= steps / 4:
        return "after", int(np.median(steps - after))
    if np.median(before) >= steps / 4:
        return "before", int(np.median(steps - before))
    return None, 0


def _dead(ad, model):
    """Dead fraction of the layers where off means no gradient (ReLU): a LeakyReLU unit below zero still learns."""
    from .. import instruments

    if ad.framework == "torch":
        model.train(ad.has_batchnorm(model))
    return instruments.dead_relu_fraction(model, ad.x)


def distinct_inputs(ad) -> int:
    """How many different input rows the batch holds (every sample counted for several inputs at once)."""
    if is_structured(ad.x):
        return ad.n
    rows = np.asarray(to_numpy(ad.x)).reshape(ad.n, -1)
    return len(np.unique(rows, axis=0))


def targets_as_read(ad) -> np.ndarray:
    """The targets as the loss reads them: class indices for a sparse cross-entropy are whole numbers (a float
    label like 7/255 becomes class 0)."""
    y = np.asarray(to_numpy(ad.y)).reshape(ad.n, -1)
    if ad.info.kind == "cross_entropy" and ad.info.sparse and y.shape[1] == 1 and np.issubdtype(y.dtype, np.floating):
        return np.trunc(y)
    return y


def distinct_targets(ad) -> int:
    return len(np.unique(targets_as_read(ad), axis=0))


def check_varied_targets(ad, rep, min_samples, model):
    """Different inputs that all carry the same target: there is nothing to learn but a constant."""
    if ad.n < min_samples or is_structured(ad.x):
        return
    if _kept_labels_one_class(ad, rep):
        return
    if distinct_inputs(ad) < 2 or distinct_targets(ad) > 1:
        rep.passed.append("constant-targets")
        return
    try:
        noisy = draws_noise(ad, model)
    except Exception:  # noqa: BLE001  (an output of several tensors: not judged)
        noisy = False
    if noisy:
        rep.notes.append(f"all {ad.n} samples carry the same target, but the model draws noise of its own (two "
                         "evaluations of this batch differ): like a GAN player's 'real' and 'fake' labels, the same "
                         "target for every sample is then by design")
        return
    raw = np.asarray(to_numpy(ad.y), dtype=np.float64)
    read = targets_as_read(ad)
    as_classes = (f" (the labels range {sig(raw.min())}..{sig(raw.max())}, and the loss reads each as the whole "
                  f"class {int(read.flat[0])})" if not np.array_equal(read, raw.reshape(read.shape)) else "")
    rep.add("constant-targets", [f"all {ad.n} samples carry the same target{as_classes}, while their inputs "
                                 f"differ: the best model outputs one constant"])


TORN_SHARE = 0.5  # most samples share their input with another target: the data, not the model, stops the fit

ONE_STEP_FIX = ("Lay x out as whole sequences, (samples, time steps, features), with a target for each step "
                "(return_sequences=True in Keras) or for each sequence's end, so the recurrent layer carries what "
                "came before a step to it.")


def _kept_labels_one_class(ad, rep) -> bool:
    """Class indices where every label the loss keeps is one class, the others skipped as its ignore_index (object
    pixels stored as the ignored value): the finding, and whether it was added."""
    if ad.info.kind != "cross_entropy" or not ad.info.sparse or ad.info.ignored is None:
        return False
    labels = targets_as_read(ad)
    skipped = labels == ad.info.ignored
    if not skipped.any():
        return False
    kept = np.unique(labels[~skipped])
    if len(kept) != 1 or distinct_inputs(ad) < 2:  # the inputs' rows compared last: the costly test
        return False
    rep.add("constant-targets", [f"the loss skips the label {ad.info.ignored} (its ignore_index), {int(skipped.sum())} "
                                 f"of the {labels.size} labels here, and every label it keeps is class {int(kept[0])}: "
                                 "the best model outputs that class everywhere"])
    return True


def check_varied_inputs(ad, rep, model):
    """Identical inputs with different targets: no function of the input can tell the samples apart. Every input
    the same, or most samples sharing their input with a sample of another target (pixels truncated to 0, a
    sequence cut into single steps)."""
    if is_structured(ad.x) or ad.n < 2:
        return
    distinct, targets = distinct_inputs(ad), distinct_targets(ad)
    if distinct == 1 and targets > 1:
        rep.add("constant-inputs", [f"all {ad.n} input rows are identical, and the targets take {targets} different "
                                    "values: the model sees nothing that tells the samples apart"])
        return
    found = repeated_inputs(ad)
    torn = found[1] if found else 0
    if torn <= TORN_SHARE * ad.n:
        rep.passed.append("constant-inputs")
        return
    evidence = [f"{torn} of the {ad.n} samples share their input with a sample of another target (the batch holds "
                f"{distinct} different inputs): no function of the input can fit them all"]
    recurrent = _recurrent_layer(ad, model)
    shape = np.shape(to_numpy(ad.x))
    if recurrent and len(shape) == 3 and shape[1] == 1:
        rep.add("input-layout", evidence + [
            f"x has shape {shape}: each sample is a single time step, so {recurrent} never sees the steps before "
            "it, and the targets depend on them"], fix=ONE_STEP_FIX)
    else:
        rep.add("constant-inputs", evidence)


def _recurrent_layer(ad, model) -> str:
    """The name of the model's first recurrent layer that reads x's axis 1 as time, or ''."""
    if ad.framework == "torch":  # without batch_first, axis 1 is the batch
        return next((name or type(m).__name__ for name, m in model.named_modules()
                     if isinstance(m, ad.nn.RNNBase) and m.batch_first), "")
    return next((layer.name for layer in keras_layers(model) if type(layer).__name__ in RECURRENT), "")


def check_dead(ad, rep, model, threshold, min_samples, label="at initialisation"):
    n = ad.n
    if n < min_samples:
        rep.skip("dead-relu", f"batch of {n}: a unit is 'dead' only if it is off for many samples (need >= {min_samples})")
        return None
    distinct = distinct_inputs(ad)
    if distinct < min_samples:
        rep.skip("dead-relu", f"the batch holds {distinct} different input(s): a unit is 'dead' only if it is off "
                              f"for many different samples (need >= {min_samples})")
        return None
    try:
        dead = _dead(ad, model)
    except Exception as e:  # noqa: BLE001
        rep.skip("dead-relu", f"could not read the activations: {e}")
        return None
    bad = {k: v for k, v in dead.items() if v >= threshold}
    if bad:
        rep.add("dead-relu", [f"{k}: {percent(v)} of units are 0 for all {n} samples {label}" for k, v in bad.items()],
                dead=dead)
    elif dead:
        rep.passed.append("dead-relu")
    return dead


def _without_floor(losses) -> bool:
    """The loss went below zero and kept falling, to more than ten times its first size below it."""
    first, last = float(losses[0]), float(losses[-1])
    return bool(np.isfinite(last) and last < 0 and last < first - 10 * abs(first))


OUTPUT_SCALES = (1.0, 10.0, 100.0)


def _falls_as_outputs_grow(ad, model):
    """The loss at the model's outputs times 1, 10 and 100, when it goes below zero and keeps falling as they grow
    (the second fall at least half the first): a loss with no floor, such as a cross-entropy written for
    probabilities given raw scores. A loss that nears its floor (a negative Dice, near -1) falls less and less;
    one blind to scale (a negative cosine) does not move. None otherwise, if the loss refuses scaled outputs, or if
    every output is within [-1, 1]: a softmax, sigmoid or tanh gives those, and scaling them leaves their range."""
    try:
        out = ad.output(model, False)
        if not np.max(np.abs(to_numpy(out))) > 1.0:
            return None
        losses = [ad.loss_of(out * scale) for scale in OUTPUT_SCALES]
    except Exception:  # noqa: BLE001 (structured outputs, a loss that checks its input's range)
        return None
    first_fall, second_fall = losses[0] - losses[1], losses[1] - losses[2]
    falls = np.all(np.isfinite(losses)) and first_fall > 0 and second_fall >= 0.5 * first_fall
    return losses if falls and losses[-1] < 0 else None


RAW_SCORES_FIX = ("If the loss takes logs of probabilities (log p, log(1 - p)), give it probabilities: a softmax or "
                  "sigmoid on the outputs before it, or a loss that takes raw scores. Otherwise check its sign: "
                  "minimise a negative log-likelihood, not the log-likelihood.")


def check_floor(ad, rep, model, run, losses, memorised=False) -> bool:
    """loss-without-floor, from a run (``run`` says which) that trained ``model``: True if found.

    A loss diagnose knows has a known floor, so its run going far below zero is enough. For one it does not know,
    the run must have gone far below zero or "memorised" the batch (a loss with no floor passes a tenth of its
    start on its way down), and the trained outputs, scaled up, must take it further below zero: a negative cosine
    also goes below zero, to its floor of -1."""
    far_below = _without_floor(losses)
    scaled = None if ad.info.kind is not None or not (far_below or memorised) else _falls_as_outputs_grow(ad, model)
    found = scaled is not None or (far_below and ad.info.kind is not None)
    if not found or "loss-without-floor" in rep.codes:
        return found
    seen = f"{run}: loss {sig(losses[0])} -> {sig(losses[-1])}" + (", below zero and still falling" if far_below else "")
    seen += (f"; the same outputs times 10 and 100 give {sig(scaled[1])} and {sig(scaled[2])}: below zero and falling "
             "as the outputs grow, so this loss rewards larger outputs, not outputs nearer the targets" if scaled else "")
    rep.add("loss-without-floor", [seen, "a loss to minimise has a floor (0 for a cross-entropy or a squared error); "
                                         "one that falls without end is being maximised the wrong way round"],
            fix=RAW_SCORES_FIX if scaled else "")
    return True


def probe_lr(ad, rep, steps):
    """A few steps at the student's learning rate, and at a tenth of it, on copies.

    Returns (run, median per-step update/weight ratio) at the student's rate when it did not diverge, else None.
    """
    model = ad.copy()
    run, ratio = step_size(ad, model, ad.optimizer_for(model), steps)
    first = float(run.losses[0])
    tail = np.asarray(run.losses[-max(steps // 4, 1):], dtype=np.float64)
    losses = np.asarray(run.losses, dtype=np.float64)
    peak = int(np.argmax(np.where(np.isfinite(losses), losses, -np.inf)))
    if check_floor(ad, rep, model, f"{steps} steps at {'lr ' + sig(ad.lr()) if ad.lr() else 'your settings'}", losses):
        return None
    # a jump to 10x the first loss is a blow-up even when the loss then settles (often on a plateau of dead units),
    # unless it settles below a quarter of the first loss: then the steps, jump and all, are training the model
    # (two repaired programs settled at 0.05 and 0.19 times their first loss; an SGD at 0.1 on unscaled targets,
    # the bug, at 0.49)
    blew_up = first > 0 and float(losses[peak]) > 10 * first and float(np.median(tail)) >= 0.25 * first
    diverged = run.diverged or not np.all(np.isfinite(tail)) or float(np.median(tail)) > 1.5 * first or blew_up
    if diverged:  # the same steps at a tenth of the learning rate, for the evidence
        model = ad.copy()
        calm_final = float(ad.train(model, ad.optimizer_for(model, 0.1), steps).losses[-1])
        if not math.isfinite(calm_final) and _nan_at_any_rate(ad, rep, steps, first):
            return None
        lr = ad.lr()
        rep.add("lr-too-high", [f"{steps} steps at {'lr ' + sig(lr) if lr else 'your settings'}: loss {sig(first)} -> "
                                + ("not finite or exploding" if run.diverged or not np.all(np.isfinite(tail))
                                   else f"{sig(float(losses[peak]))} at step {peak}, then about "
                                        f"{sig(float(np.median(tail)))}" if blew_up
                                   else f"about {sig(float(np.median(tail)))}"),
                                f"at a tenth of the learning rate: loss {sig(first)} -> {sig(calm_final)}"])
        return None
    rep.passed.append("lr-too-high")
    return run, ratio


TINY_RATE = 1e-4  # a step this much smaller than the student's cannot blow a finite loss up to NaN


def _nan_at_any_rate(ad, rep, steps, first) -> bool:
    """The loss turns NaN at the student's rate, at a tenth of it, and at TINY_RATE of it: the step itself
    computes NaN (0/0, log 0), so lowering the learning rate is not the fix. Adds the finding; False otherwise."""
    model = ad.copy()
    tiny = np.asarray(ad.train(model, ad.optimizer_for(model, TINY_RATE), steps).losses, dtype=np.float64)
    if np.all(np.isfinite(tiny)):
        return False
    evidence = [f"{steps} steps at your learning rate, at a tenth of it and at {TINY_RATE:g} of it: loss "
                f"{sig(first)} -> not finite each time (first non-finite step at the smallest rate: "
                f"{int(np.argmin(np.isfinite(tiny)))})",
                "a step scaled down this far cannot blow the loss up, so the step computes NaN itself"]
    lost = _epsilon_lost(ad)
    if lost:
        evidence.append(f"the optimizer's epsilon {lost[0]:g} is 0 in {lost[1]}, the weights' dtype: a weight whose "
                        "gradient is 0 gets the update 0/0 = NaN")
        fix = (f"Give the optimizer an epsilon {lost[1]} can hold (e.g. 1e-4), or keep the weights in float32 "
               "(mixed precision); the learning rate is not the cause.")
    else:
        fix = ("Find the operation that gives NaN in a training step (a log or a division of 0 in the loss, a "
               "square root of 0, an optimizer's epsilon that rounds to 0); the learning rate is not the cause.")
    rep.add("non-finite-loss", evidence, fix=fix)
    return True


def _epsilon_lost(ad):
    """(epsilon, dtype name) when the student's optimizer has an epsilon that is 0 in its weights' dtype."""
    if ad.optimizer is None:
        return None
    if ad.framework == "torch":
        epsilon, weights = ad.optimizer.param_groups[0].get("eps"), list(ad.original.parameters())
    else:
        epsilon, weights = ad.optimizer.get_config().get("epsilon"), ad.original.weights
    dtype = str(weights[0].dtype).replace("torch.", "") if weights else None
    try:
        lost = isinstance(epsilon, float) and epsilon > 0 and np.asarray(epsilon, dtype=np.dtype(dtype)) == 0
    except TypeError:  # a dtype numpy does not have (bfloat16)
        return None
    return (epsilon, dtype) if lost else None


def _rate(lr) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")  # 1e-2, as the lessons write it


PROBE_RATES = (1e-2, 1e-3, 1e-4)  # the overfit probe's Adam: the next one only if the previous diverged
UNKNOWN_FLOOR = 0.5  # a loss diagnose does not know: falling below this share of its first value is progress


def perfect_loss(ad) -> tuple:
    """(the lowest loss any model can give this batch, where that is above zero, else 0; what that floor is, in
    words).

    Where the same input comes with different targets (a row repeated with another label), no model can give
    both: the floor is the loss of each input's best single output (repeated_inputs_floor). Else it is the loss of
    outputs equal to the targets: Poisson's y - y log y, a binary cross-entropy's entropy of soft targets. A loss
    measured from 0 would call such a batch never memorised. 0 where the loss wants logits or class indices, or
    where it is a PyTorch loss diagnose does not know (its input may be a log-rate or log-probabilities, not a
    value in the targets' space)."""
    repeated, torn = repeated_inputs_floor(ad)
    if repeated:
        return repeated, (f"the lowest any model can reach: {torn} of the {ad.n} samples share their input with a "
                          "sample of another target")
    info = ad.info
    if info.expects == "logits" or (info.kind == "cross_entropy" and info.sparse) or (
            ad.framework == "torch" and info.kind is None):
        return 0.0, ""
    try:
        y = np.asarray(to_numpy(ad.y), dtype=np.float32)
        floor = ad.loss_of(ad.values(y))
    except Exception:  # noqa: BLE001  (targets the loss will not take as outputs)
        return 0.0, ""
    return (floor, "its value at outputs equal to the targets") if math.isfinite(floor) and floor > 1e-6 else (0.0, "")


def repeated_inputs(ad):
    """(each sample's group of identical inputs, how many samples share an input with a different target), or None
    where no input repeats with another target, or where every input is the same (constant-inputs names that)."""
    if is_structured(ad.x) or ad.n < 3:
        return None
    try:
        rows = np.asarray(to_numpy(ad.x)).reshape(ad.n, -1)
        _, group = np.unique(rows, axis=0, return_inverse=True)
        group = group.reshape(-1)
        if not 2 <= group.max() + 1 < ad.n:
            return None
        targets = targets_as_read(ad)
    except Exception:  # noqa: BLE001  (targets of several tensors, a dict: not judged)
        return None
    first = np.unique(group, return_index=True)[1]  # each group's first sample
    differs = np.any(targets != targets[first[group]], axis=1)
    torn = np.isin(group, group[differs])  # every sample of a group whose targets disagree
    return (group, int(torn.sum())) if torn.any() else None


REPEATED_FLOOR_CLIP = 1e-7  # a probability of 0 as a logit or a log-probability: a finite value the loss can take


def repeated_inputs_floor(ad) -> tuple:
    """(the lowest loss on a batch where the same input comes with different targets, how many samples share an
    input with another target): each group of identical inputs gets the best single output for its targets (their
    mean; their median under MAE; for class indices, the share of each class), turned into what the loss wants
    (logits, log-probabilities) and scored by the loss itself. (0, 0) where no input repeats with another target,
    or for a PyTorch loss diagnose does not know."""
    found = repeated_inputs(ad)
    info = ad.info
    if found is None or (ad.framework == "torch" and info.kind is None):
        return 0.0, 0
    group, torn = found
    try:
        y = np.asarray(to_numpy(ad.y))
        if info.kind == "cross_entropy" and info.sparse:
            if y.size != ad.n:  # a label per pixel or time step: not handled
                return 0.0, 0
            labels = targets_as_read(ad)[:, 0].astype(int)
            rows = np.eye(labels.max() + 1)[labels]  # one-hot over the classes the batch holds
            shape = rows.shape
        else:
            rows = y.reshape(ad.n, -1).astype(np.float64)
            shape = y.shape
        best = np.zeros((group.max() + 1, rows.shape[1]))
        if info.kind == "mae":
            for g in range(len(best)):
                best[g] = np.median(rows[group == g], axis=0)
        else:
            np.add.at(best, group, rows)
            best /= np.bincount(group)[:, None]
        best = best[group]
        clipped = np.clip(best, REPEATED_FLOOR_CLIP, 1 - REPEATED_FLOOR_CLIP)
        if info.expects == "logits" and info.kind == "binary_cross_entropy":
            best = np.log(clipped) - np.log1p(-clipped)
        elif info.expects in ("logits", "log_probabilities"):
            best = np.log(clipped)
        floor = ad.loss_of(ad.values(best.reshape(shape)))
    except Exception:  # noqa: BLE001  (outputs of that shape the loss will not take)
        return 0.0, 0
    return (floor, torn) if math.isfinite(floor) and floor > 1e-6 else (0.0, 0)


def _floor_of(losses, floor) -> float:
    """``floor`` where the probe's losses bear it out, else 0: a floor the loss went below (or started under) is
    not the loss's floor."""
    first, best = float(losses[0]), float(np.min(losses))
    return floor if floor * (1 - 1e-3) <= best and floor < first else 0.0


def _goal_reached(losses, target, floor) -> np.ndarray:
    """Per step, whether the loss had reached the overfit test's goal: ``target`` of the way from its first value to
    its floor (``_floor_of``), or below 1e-4. The callers pass finite losses (a diverged run is judged before)."""
    losses = np.asarray(losses, dtype=np.float64)
    first, floor = float(losses[0]), _floor_of(losses, floor)
    return (losses - floor <= target * (first - floor)) | (losses < 1e-4)


def _memorised(losses, target, floor=0.0) -> bool:
    """The overfit test's verdict: the loss reached its goal at some step (``_goal_reached``)."""
    return bool(_goal_reached(losses, target, floor).any())


def _probe_rounds(ad, model, optimizer, steps, target, rounds, floor=0.0):
    """Train up to ``rounds`` x ``steps`` steps while the loss still falls; (losses, diverged)."""
    parts = []
    for _ in range(rounds):
        run = ad.train(model, optimizer, steps)
        parts.append(np.asarray(run.losses, dtype=np.float64))
        losses = np.concatenate(parts)
        if run.diverged or not np.all(np.isfinite(losses)):
            return losses, True
        q = max(steps // 4, 1)
        if _memorised(losses, target, floor) or losses[-1] > 0.95 * float(np.min(losses[:-q])):
            break  # memorised, or flat
    return losses, False


def parameter_count(ad, model) -> int:
    """Every weight of the model, frozen or not: its capacity were it all trained."""
    if ad.framework == "torch":
        return sum(p.numel() for p in model.parameters())
    return sum(int(np.prod(w.shape)) for w in model.weights)


def target_values(ad) -> int:
    """How many numbers the model must get right: one class per sample for cross-entropy, else every target value,
    except that targets the same for every sample need only one output's worth (a bias fits them)."""
    y = np.asarray(to_numpy(ad.y))
    if ad.n > 1 and distinct_targets(ad) == 1:
        return y.size // ad.n
    return ad.n if ad.info.kind == "cross_entropy" else int(y.size)


def _memorises(ad, variant, steps, target, rounds) -> tuple | None:
    """The overfit probe (its first rate, regularisers off) on ``variant``, ``ad`` with one thing changed:
    (first loss, best loss, steps) if it memorised the batch, else None."""
    model = ad.copy()
    ad.switch_off_regularisers(model)
    floor = perfect_loss(variant)[0]
    losses, diverged = _probe_rounds(variant, model, ad.probe_optimizer(model, PROBE_RATES[0]), steps, target, rounds,
                                     floor)
    if diverged or not _memorised(losses, target, floor):
        return None
    return float(losses[0]), float(np.min(losses)), len(losses)


def probe_without_mae(ad, rep, steps, target, rounds=3):
    """Mean absolute error's gradient has the same size however close the output is, so a small model can stall
    on it. Where the overfit probe could not memorise the batch under MAE, the same probe under mean squared
    error tells whether the loss, not the model, is what stops the fit."""
    if "cannot-overfit" not in rep.codes or ad.info.kind != "mae":
        return
    squared = copy.copy(ad)
    squared.loss = ad.torch.nn.MSELoss() if ad.framework == "torch" else "mse"
    if ad.framework == "keras":
        squared.loss_fn = ad.keras.losses.get("mse")
    fitted = _memorises(ad, squared, steps, target, rounds)
    if fitted is None:
        return
    stalled = rep.finding("cannot-overfit").evidence[0]
    rep.add("loss-stalls-fit", [f"under {ad.info.name}: {stalled}",
                                f"the same probe under mean squared error memorised it: loss {sig(fitted[0])} -> "
                                f"{sig(fitted[1])} in {fitted[2]} steps"])


LARGE_TARGETS = 10.0  # regression targets whose mean or spread is beyond this are far from an untrained output


def probe_scaled_targets(ad, rep, steps, target, rounds=3):
    """Regression targets on a large scale take an untrained model (outputs near 0, spread near 1) many steps
    to reach. Where the overfit probe did not memorise the batch, the same probe on standardised targets tells
    whether their scale, not the model, is what stops the fit."""
    stuck = [code for code in ("cannot-overfit", "too-few-steps") if code in rep.codes]
    if not stuck or ad.info.kind not in ("mse", "mae"):
        return
    y = np.asarray(to_numpy(ad.y), dtype=np.float64)
    mean, spread = float(y.mean()), float(y.std())
    if max(abs(mean), spread) < LARGE_TARGETS:
        return
    if spread > 0:
        standard, words = (y - mean) / spread, "(y - mean) / std"
    else:  # one target value (a batch of one, say): only its size can be taken out
        standard, words = y / abs(mean), f"y / {sig(abs(mean))}"
    scaled = copy.copy(ad)
    standard = standard.astype(np.float32)
    scaled.y = ad.torch.as_tensor(standard) if ad.framework == "torch" else standard
    fitted = _memorises(ad, scaled, steps, target, rounds)
    if fitted is None:
        return
    rep.add("unscaled-targets", [f"the targets have mean {sig(mean)} and standard deviation {sig(spread)}: "
                                 f"{rep.finding(stuck[0]).evidence[0]}",
                                 f"the same probe on {words} memorised the batch: loss {sig(fitted[0])} -> "
                                 f"{sig(fitted[1])} in {fitted[2]} steps"])


# the program-length check runs the student's optimizer at most this many steps, in chunks, and for at most this
# many seconds: a longer program is judged on what that much of it does
PROGRAM_STEPS_CAP, PROGRAM_CHUNK, PROGRAM_SECONDS = 2000, 250, 20.0


def probe_program_length(ad, rep, train_steps, target, probe_losses):
    """The student's own optimizer, on a copy, for the steps the program takes (``train_steps``), on the batch that
    the overfit probe's Adam memorised.

    Judged only after the probe memorised the batch, so the model, the loss and the data can fit it and what is
    left is the settings against the program's length; lenient, with the same rows every step and regularisers off.
    A finding only when the whole program leaves the loss where it was (moved less than STILL_LOSS): healthy
    programs fall short of memorising the batch in their steps and still work, so anything between is a note
    with the numbers (measured on the held-out set told its programs' lengths: see benchmarks/README.md).
    """
    if "overfit-one-batch" not in rep.passed:
        rep.skip("program-length", "the overfit probe did not memorise the batch, so the settings are not judged "
                                   "against the program's length")
        return
    model = ad.copy()
    ad.switch_off_regularisers(model)
    optimizer, floor = ad.optimizer_for(model), perfect_loss(ad)[0]
    losses, started, limit = np.zeros(0), time.perf_counter(), min(train_steps, PROGRAM_STEPS_CAP)
    while len(losses) < limit and time.perf_counter() - started < PROGRAM_SECONDS:
        run = ad.train(model, optimizer, min(PROGRAM_CHUNK, limit - len(losses)))
        losses = np.concatenate([losses, np.asarray(run.losses, dtype=np.float64)])
        if run.diverged or not np.all(np.isfinite(losses)):
            rep.notes.append(f"program-length: your settings' loss stopped being finite after {len(losses)} of your "
                             f"program's {train_steps} steps on this batch")
            return
        if _memorised(losses, target, floor):
            rep.passed.append("program-length")
            rep.notes.append(f"your settings memorised this batch in {_steps_to_goal(losses, target, floor)} of your "
                             f"program's {train_steps} steps")
            return
    ran, first, best = len(losses), float(losses[0]), float(np.min(losses))
    goal_floor, lr = _floor_of(losses, floor), ad.lr()
    said = (f"your optimizer{f' (lr {sig(lr)})' if lr else ''}, for {ran} steps on this batch alone: loss "
            f"{sig(first)} -> {sig(float(losses[-1]))} (the overfit test's goal: below "
            f"{sig(goal_floor + target * (first - goal_floor))})")
    probe = (f"the overfit probe's Adam memorised it in {_steps_to_goal(probe_losses, target, floor)} steps"
             if probe_losses is not None else "the overfit probe's Adam memorised it")
    moved = (first - best) / max(abs(first), 1e-12)
    if ran < train_steps:  # a long program: only its first steps were run
        rep.notes.append(f"program-length: {said}; your program takes {train_steps} steps, more than this check runs "
                         f"({PROGRAM_STEPS_CAP} steps or {PROGRAM_SECONDS:g} s), so it is not judged")
    elif moved < STILL_LOSS:
        rep.add("too-few-steps", [f"{said}: in all the {train_steps} steps your program takes, the loss moves "
                                  f"{sig(100 * moved, 2)}%",
                                  f"{probe}, so the model can learn it: your learning rate or optimizer is too slow "
                                  "for your program's length"])
    else:  # learning, short of memorising: many working programs stop there
        rep.notes.append(f"program-length: {said}, {percent(moved)} lower, where {probe}: if your training falls "
                         "short, more steps or a larger learning rate is the first thing to try")


def _steps_to_goal(losses, target, floor) -> int:
    """The first step at which a run's loss reached the overfit test's goal (the run's length if it never did)."""
    reached = np.flatnonzero(_goal_reached(losses, target, floor))
    return int(reached[0]) if reached.size else len(losses)


def _one_output_for_all(ad, model) -> bool:
    """After the probe: every sample gets the same output (to 1e-6 of its size) while the targets differ."""
    if ad.n < 2 or distinct_targets(ad) == 1:
        return False
    try:
        out = np.asarray(to_numpy(ad.output(model, True)), dtype=np.float64)
    except Exception:  # noqa: BLE001  (an output of several tensors: not judged)
        return False
    return bool(np.all(np.isfinite(out)) and np.all(np.abs(out - out[:1]) <= 1e-6 * (1.0 + np.abs(out).max())))


def _fell_to_one_answer(ad, model, losses, target, floor) -> bool:
    """The loss fell to the overfit test's goal from a bad start, but to one output for every sample: not memorised."""
    return float(np.min(losses)) >= 1e-4 and _memorised(losses, target, floor) and _one_output_for_all(ad, model)


def probe_overfit(ad, rep, steps, target, dead_threshold, min_samples, rounds=3):
    """Adam on a copy, on this batch only: can the model memorise it?

    The probe tests the model, the loss and the data, not the student's
    optimizer settings (the learning-rate probe does that). It starts at
    Adam's lr 1e-2 and, only if that diverges or leaves one output for every
    sample (at the goal or short of it, from a start that told the samples
    apart), tries 1e-3 then 1e-4: a deep network that 1e-2 blows up (or whose
    ReLUs it silences) is not broken, and the probe must not blame it for its
    own step size. A lower rate that does no better leaves the first result
    standing. While the loss is still falling it gets up to ``rounds`` x
    ``steps`` steps.
    """
    blown = []  # (lr, loss it reached, steps) of the rates that diverged or left the loss higher than it started
    fell = []  # the rates at which the copy fell to one output for every sample (its ReLUs can die at a large step)
    first_fall = None  # (lr, copy, what was switched off, losses, whether it reached the goal) of the first
    q = max(steps // 4, 1)  # "the last steps" of a probe: still falling, flat, or ended higher than it began
    floor, floor_said = perfect_loss(ad)
    for lr in PROBE_RATES:
        model = ad.copy()
        switched_off = ad.switch_off_regularisers(model)  # the overfit test's rule: memorise with them off
        losses, diverged = _probe_rounds(ad, model, ad.probe_optimizer(model, lr), steps, target, rounds, floor)
        worse = not diverged and float(np.min(losses[-q:])) > float(losses[0])
        collapsed = not (diverged or worse) and _fell_to_one_answer(ad, model, losses, target, floor)
        # stalled short of the goal at one output for every sample, from a start that told the samples apart: the
        # probe's step silenced the model, as in a collapse (a model that starts with one output stalls at any rate)
        stalled = (not (diverged or worse or collapsed or _memorised(losses, target, floor))
                   and _one_output_for_all(ad, model) and not _one_output_for_all(ad, ad.copy()))
        if (collapsed or stalled) and lr != PROBE_RATES[-1]:
            fell.append(lr)
            first_fall = first_fall or (lr, model, switched_off, losses, collapsed)
            continue
        if not (diverged or worse) or (worse and lr == PROBE_RATES[-1]):
            break
        blown.append((lr, losses[-1], len(losses)))
    if fell and (diverged or not _memorised(losses, target, floor)
                 and float(np.min(losses)) >= float(np.min(first_fall[3]))):  # a lower rate did no better: it stands
        lower = [r for r in PROBE_RATES if lr <= r < first_fall[0]]
        (lr, model, switched_off, losses, collapsed), diverged, fell, blown = first_fall, False, [], []
    else:
        lower = []
    adam = f"Adam (lr {_rate(lr)})"
    first = float(losses[0])
    if diverged:
        if "non-finite-loss" not in rep.codes:  # (the step-size probe may have said why already)
            rep.add("non-finite-loss", ["the overfit probe's loss diverged at every learning rate it tried: "
                                        + "; ".join(f"lr {_rate(r)}: {sig(v)} after {n} steps" for r, v, n in blown)])
    else:
        final = float(losses[-1])
        earlier = float(np.min(losses[:-q]))
        best = float(losses.min())
        calmer = ([f"(the probe's Adam diverged or raised the loss at lr {', '.join(_rate(r) for r, _, _ in blown)} "
                   f"on this model, so it used lr {_rate(lr)})"] if blown else [])
        decay = ad.weight_decay()
        switched_off += [f"your optimizer's weight decay {decay:g} (the probe uses its own Adam)"] if decay else []
        calmer += [f"(with {' and '.join(switched_off)} switched off)"] if switched_off else []
        fell_first = (f"at lr {', '.join(_rate(r) for r in fell)} the probe's copy fell to one output for every sample "
                      f"(a step that large can silence its ReLU units), so it tried lr {_rate(lr)}" if fell else "")
        calmer += [f"({fell_first})"] if fell else []
        calmer += ([f"(it tried lr {', '.join(_rate(r) for r in lower)} too, since this rate's copy gave one output for "
                    "every sample, and did no better there)"] if lower else [])
        parameters, values = parameter_count(ad, model), target_values(ad)
        memorised, floor = _memorised(losses, target, floor), _floor_of(losses, floor)
        if check_floor(ad, rep, model, f"{len(losses)} steps of the overfit probe's {adam}", losses, memorised):
            pass  # "memorised" means nothing for a loss with no floor
        elif collapsed:  # fell from a bad start to one answer for all
            rep.add("cannot-overfit", [f"{len(losses)} steps of {adam} on one batch of {ad.n}: loss {sig(first)} -> "
                                       f"{sig(final)}, a tenth of where it started",
                                       "but the model now gives the same output for every sample while the targets "
                                       "differ: it fell to one answer for all, it did not memorise them"] + calmer)
        elif memorised:
            rep.passed.append("overfit-one-batch")
            if fell:
                rep.notes.append(f"{fell_first}; there it memorised the batch")
            if floor:
                rep.notes.append(f"{ad.info.name} cannot go below {sig(floor)} on this batch, {floor_said}; the "
                                 f"overfit probe brought the loss from {sig(first)} to {sig(best)}, close to it: "
                                 "memorised")
            if switched_off:  # the overfit test's rule, said so: the student's own test must switch them off too
                rep.notes.append(f"the overfit probe memorised the batch with {' and '.join(switched_off)} switched "
                                 "off; run your own overfit test without them too")
        elif final < 0.95 * earlier and parameters < values:
            rep.notes.append(f"{len(losses)} steps of the overfit probe's {adam}: loss {sig(first)} -> {sig(final)}, "
                             f"still falling; with {parameters} parameters for {values} "
                             "target values the model may never memorise the batch, and a loss still falling is "
                             "learning, not a sign of a bug")
        elif final < 0.95 * earlier:
            rep.add("too-few-steps", [f"{len(losses)} steps of {adam} on one batch: loss {sig(first)} -> "
                                      f"{sig(final)}",
                                      f"still falling: {percent(1 - final / earlier)} lower than {q} steps earlier"]
                    + calmer, severity="warning")
        else:
            evidence = [f"{len(losses)} steps of {adam} on one batch of {ad.n}: loss {sig(first)} -> {sig(final)} "
                        f"(goal: below {sig(floor + target * (first - floor))}"
                        + (f", a tenth of the way down to {sig(floor)}, {floor_said})" if floor else ")"),
                        f"flat: the last {q} steps lowered it by less than 5%"]
            if parameters < values and first - best > STILL_LOSS * abs(first):
                # too few parameters to interpolate: the loss stops at the best fit this model has, not at a bug
                # (a loss that never moved has not found any fit: that stays a finding)
                rep.notes.append(f"{evidence[0]}, {evidence[1]}; with {parameters} parameters for {values} "
                                 "target values the model cannot memorise the batch, so this floor is its best fit, "
                                 "not a sign of a bug")
            elif ad.info.kind is None and best <= UNKNOWN_FLOOR * first:
                # a loss of its own (a VAE's, a ranking loss) may level off far above zero: its floor is not known
                rep.notes.append(f"{evidence[0]}, {evidence[1]}; the loss fell by more than half and levelled off, "
                                 f"and diagnose does not know how low {ad.info.name} can go, so it cannot tell whether "
                                 "the batch is memorised (pass loss_kind=... if it is a standard loss)")
            else:
                stuck = ([f"with {parameters} parameters for {values} target values it could not memorise them, but "
                          f"the loss moved less than {percent(STILL_LOSS)}: that is no fit at all, not its best one"]
                         if parameters < values else [])
                rep.add("cannot-overfit", evidence + stuck + calmer)
    # units that died while the probe trained (the lesson 03 mechanism): often not the ones dead at the start
    if distinct_inputs(ad) >= min_samples:
        try:
            dead = _dead(ad, model)
        except Exception:  # noqa: BLE001
            dead = {}
        at_start = rep.finding("dead-relu").data.get("dead", {}) if "dead-relu" in rep.codes else {}
        died = {k: v for k, v in dead.items() if v >= dead_threshold and v > at_start.get(k, 0.0)}
        evidence = [f"{k}: {percent(v)} of units are 0 for all {ad.n} samples after the probe's {len(losses)} "
                    f"steps ({percent(at_start.get(k, 0.0)) if at_start else 'below the threshold'} before)"
                    for k, v in died.items()]
        probe_failed = any(code in rep.codes for code in ("cannot-overfit", "too-few-steps", "non-finite-loss"))
        if evidence and not probe_failed:
            # memorised, or levelled off where this model or loss can go: these deaths, at the probe's own rate,
            # are not what stopped it
            anyway = "it memorised the batch anyway" if "overfit-one-batch" in rep.passed else "the probe did not fail"
            rep.notes += [f"{e}, at the probe's lr {_rate(lr)}; {anyway}" for e in evidence]
        elif evidence and at_start:
            rep.finding("dead-relu").evidence += evidence
        elif evidence:
            rep.add("dead-relu", evidence, dead=dead)
    return losses
