"""The inputs and targets against what the model and the loss take: a layout or a dtype they refuse.

A model that cannot run on ``x`` is tried on a few rearrangements of it that fix the common layout bugs
(whole numbers where float32 is needed, a missing feature or channel axis, channels on the wrong side, two
axes swapped, an extra axis of length one, a Keras model's declared sample shape); the first one it runs
on is named, and the other checks run on it. PyTorch refuses a float64 tensor for float32 weights, and
its binary losses refuse integer targets, where diagnose itself would quietly cast them.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..frameworks import error_text, input_shapes, is_structured, keras_layers, map_inputs, to_numpy


def _layouts(array: np.ndarray) -> list:
    """(what was done, rearranged array) for the layouts worth trying, by the array's rank; whole numbers or
    booleans (0/1 fingerprint bits, say) are first tried as float32, which a Linear or Conv layer needs."""
    if array.dtype.kind in "biu":
        values = array.astype(np.float32)
        return [("cast to float32, x.float()", values)] + _layouts(values)
    n, rank = len(array), array.ndim
    if rank == 1:
        return [("given a feature axis, x.reshape(-1, 1)", array[:, None])]
    if rank == 2:
        return [("given a channel axis, x[:, None]", array[:, None, :]),
                ("given a trailing axis, x[..., None]", array[..., None])]
    if rank == 3:
        return [("with its last two axes swapped, axes (0, 2, 1)", array.transpose(0, 2, 1)),
                ("given a channel axis, x[:, None]", array[:, None]),
                ("given a trailing channel axis, x[..., None]", array[..., None]),
                ("flattened, x.reshape(len(x), -1)", array.reshape(n, -1))]
    if rank == 4:
        return [("with channels moved first, axes (0, 3, 1, 2)", array.transpose(0, 3, 1, 2)),
                ("with channels moved last, axes (0, 2, 3, 1)", array.transpose(0, 2, 3, 1)),
                ("flattened, x.reshape(len(x), -1)", array.reshape(n, -1))] + _squeezed(array)
    return _squeezed(array)


def _squeezed(array: np.ndarray) -> list:
    """An axis of length one that a sample does not need (images kept as (n, 1, h, w, c) after stacking), dropped."""
    return [(f"with its axis {axis} of length one dropped, np.squeeze(x, axis={axis})", array.squeeze(axis))
            for axis in range(1, array.ndim) if array.shape[axis] == 1]


def _declared_reshape(ad, array: np.ndarray) -> list:
    """Keras: x's samples reshaped to the sample shape the model was declared for, where they hold as many values
    in another shape (images read as flat rows of pixels for a model declared for (h, w, 1))."""
    declared = declared_sample_shape(ad.original) if ad.framework == "keras" else ()
    if not declared or None in declared or array.ndim < 2 or array.shape[1:] == declared:
        return []
    if math.prod(declared) != math.prod(array.shape[1:]):
        return []
    sizes = ", ".join(map(str, declared))
    return [(f"reshaped to the sample shape the model was declared for, x.reshape(-1, {sizes})",
             array.reshape(len(array), *declared))]


def runnable_layout(ad) -> str:
    """Try the model on rearrangements of x; keep the first it runs on in ``ad.x`` and say what it was ("" if
    none: ``ad.x`` is left as it was). Only for one input array."""
    if is_structured(ad.x):
        return ""
    given = ad.x
    values = np.asarray(to_numpy(given))
    for words, array in _layouts(values) + _declared_reshape(ad, values):
        ad.x = ad.as_input(np.ascontiguousarray(array))
        try:
            model = ad.copy()
            ad.output(model, False, map_inputs(lambda a: a[:4], ad.x))
            return words
        except Exception:  # noqa: BLE001  (this layout is refused too: try the next)
            continue
    ad.x = given
    return ""


# the frameworks' words when two paths of a model meet with maps of different sizes (a concatenation or a sum)
PATHS_DISAGREE = ("Sizes of tensors must match", "must match the size of tensor", "matching shapes",
                  "incompatible shapes", "Incompatible shapes", "in both shapes must be equal")


def runnable_crop(ad, refused: Exception) -> tuple:
    """Images on which two of the model's paths meet at different sizes, while the same images cropped to sides
    that are a multiple of a power of two run: ((height, width), that multiple); else None. A U-Net halves the
    side at every pooling and joins each upsampled map to the skip connection of its level: sides divisible by 16."""
    if is_structured(ad.x) or not any(words in str(refused) for words in PATHS_DISAGREE):
        return None
    array = np.asarray(to_numpy(ad.x))
    if array.ndim != 4:
        return None
    axes = (2, 3) if ad.framework == "torch" else (1, 2)
    given = [array.shape[a] for a in axes]
    for multiple in (2, 4, 8, 16, 32, 64):
        sides = [side // multiple * multiple for side in given]
        if min(sides) == 0:
            return None
        if sides == given:
            continue
        window = [slice(None)] * 4
        for axis, side in zip(axes, sides):
            window[axis] = slice(0, side)
        try:
            ad.output(ad.copy(), False, ad.as_input(np.ascontiguousarray(array[tuple(window)][:4])))
            return tuple(sides), multiple
        except Exception:  # noqa: BLE001  (refused at this size too: try the next multiple)
            continue
    return None


RESHAPE_FIX = ("Reshape with the batch axis kept, x.view(x.size(0), -1) or nn.Flatten() (Keras: Flatten), and size the "
               "next layer to the features per sample that really reach it.")


def reshape_refused(ad, refused: Exception) -> list:
    """Evidence that a reshape with a fixed feature count, x.view(-1, k), met a batch whose samples do not hold k
    values each (PyTorch's words: "shape '[-1, k]' is invalid for input of size N"; TensorFlow's: "Input to reshape
    is a tensor with N values, but the requested shape requires a multiple of k"), else []."""
    words = re.search(r"shape '\[-1, (\d+)\]' is invalid for input of size (\d+)", str(refused))
    if words:
        wanted, size = int(words.group(1)), int(words.group(2))
        return [str(refused), f"a reshape to (-1, {wanted}) met {size} values for a batch of {ad.n}: "
                              f"{size / ad.n:g} per sample, not {wanted}, so the -1 cannot keep one row per sample"]
    if ad.framework != "keras" or "requested shape requires a multiple of" not in str(refused):
        return []
    try:  # TensorFlow's words do not say how many samples ran (a Keras model is built on one): run one alone
        ad.output(ad.copy(), False, map_inputs(lambda a: a[:1], ad.x))
        return []
    except Exception as e:  # noqa: BLE001
        words = re.search(r"tensor with (\d+) values, but the requested shape requires a multiple of (\d+)", str(e))
    if not words:
        return []
    size, wanted = int(words.group(1)), int(words.group(2))
    return [str(refused), f"a reshape to (-1, {wanted}) met {size} values for one sample, not {wanted}, so the -1 "
                          "cannot keep one row per sample"]


BATCH_SIZE_FIX = ("Take the batch size from the input where the model needs one (keras.ops.shape(x)[0], "
                  "tf.shape(x)[0], x.size(0)), not a constant: a test set or an epoch's last batch rarely has the "
                  "training batch's size.")


def batch_size_in_model(ad, refused: Exception, most_tried: int = 4) -> list:
    """Evidence that the model runs only on batches of a size written into it (noise drawn for 128 rows, a
    reshape to (128, -1)): a copy runs on a batch of a size the error names, not n. Else []."""
    if is_structured(ad.x):
        return []
    named = [int(s) for s in re.findall(r"\d+", str(refused))]
    sizes = [size for size in dict.fromkeys(named) if 2 <= size <= 4096 and size != ad.n][:most_tried]
    for rows in sizes:
        index = [i % ad.n for i in range(rows)]  # the batch's own samples, repeated when it has fewer
        try:
            out = ad.output(ad.copy(), False, ad.x[index])
        except Exception:  # noqa: BLE001
            continue
        if len(out) == rows:
            taken = f"the first {rows} samples" if rows < ad.n else f"its {ad.n} samples repeated to {rows} rows"
            return [str(refused), f"a copy runs on a batch of {rows} rows ({taken}): a batch size of {rows} is "
                                  f"written into the model, and this batch has {ad.n}"]
    return []


def add_batch_folded_finding(rep, rows: int, n: int):
    """The model returned ``rows`` rows for ``n`` samples: a reshape with a fixed feature count folded the batch."""
    rep.add("layer-size-mismatch",
            [f"the model returned {rows} output rows for a batch of {n} ({rows / n:g} per sample)",
             "a reshape such as x.view(-1, k), with k smaller than the features each sample has by then, folds "
             "samples into the batch axis: the layer after it was sized for fewer features than it receives"],
            fix=RESHAPE_FIX)


def add_batch_on_axis_one_finding(rep, ad, rows: int) -> bool:
    """The model returned as many rows as x has on axis 1, not one per sample: the batch axis was indexed or swapped
    away (outputs[-1] on a batch-first output; a PyTorch RNN without batch_first=True). Or, for sequences, a row for
    each sample and step: the batch and time axes were merged. Whether it was added."""
    shape = tuple(np.shape(to_numpy(ad.x))) if not is_structured(ad.x) else ()
    if len(shape) < 3 or rows == ad.n:
        return False
    if shape[1] == rows:
        rep.add("samples-mixed", [f"the model returned {rows} output rows for a batch of {ad.n} samples, and {rows} is "
                                  f"the length of x's axis 1 (x has shape {shape})",
                                  "the output's rows follow x's axis 1, not its samples: somewhere the batch axis was "
                                  "indexed or swapped away, as outputs[-1] does on a (samples, steps, units) output "
                                  "(the last sample at every step), or a PyTorch RNN without batch_first=True, which "
                                  "reads (steps, samples, features)"])
    elif len(shape) == 3 and rows == ad.n * shape[1]:
        rep.add("samples-mixed", [f"the model returned {rows} output rows for a batch of {ad.n} samples: {ad.n} x "
                                  f"{shape[1]}, the length of x's axis 1 (x has shape {shape})",
                                  "a row for each sample and step: the batch and time axes were merged into one on "
                                  "the way, as torch.cat of per-sample outputs along axis 0 does (torch.stack keeps "
                                  "the batch axis), or a reshape to (-1, units) of a (samples, steps, units) tensor"])
    else:
        return False
    return True


def add_crop_finding(rep, refused: Exception, crop, ad):
    (height, width), multiple = crop
    given = input_shapes(ad.x)
    rep.add("input-layout",
            [str(refused), f"cropped to {height} x {width}, a multiple of {multiple} on each side, the same images "
             f"run: the model's poolings and the connections that join its paths need sides divisible by {multiple}, "
             f"and x of shape {given} does not have them"],
            fix=f"Give the images sides that are a multiple of {multiple} (resize, crop or pad them, and the masks "
                "with them), or build the model for the size you have.")


def embedding_too_small(ad, model) -> list:
    """Evidence that x holds token indices beyond an embedding table that reads x, else []."""
    if is_structured(ad.x):
        return []
    tokens = np.asarray(to_numpy(ad.x))
    if tokens.size == 0 or not np.issubdtype(tokens.dtype, np.number) or np.any(np.mod(tokens, 1) != 0):
        return []
    if ad.framework == "torch":
        tables = [(name, m.num_embeddings) for name, m in model.named_modules() if isinstance(m, ad.nn.Embedding)]
    else:
        tables = [(layer.name, layer.input_dim) for layer in keras_layers(model) if type(layer).__name__ == "Embedding"]
    largest = int(tokens.max())
    return [f"x holds token indices up to {largest}, but the embedding {name} has {rows} rows (indices 0..{rows - 1}): "
            f"{int(np.sum(tokens >= rows))} of {tokens.size} indices have no row" for name, rows in tables if largest >= rows]


def declared_sample_shape(model) -> tuple:
    """Keras: the shape of one sample the model was declared to take, Input(shape=...) (None where any size goes);
    () for a model with no declared input (or a PyTorch model)."""
    try:
        return tuple(model.inputs[0].shape)[1:]
    except Exception:  # noqa: BLE001  (a model built without a declared input, or not a Keras model)
        return ()


def fits_declared(declared: tuple, given: tuple) -> bool:
    """A sample's shape ``given`` is one the declared shape takes (None there: any size)."""
    return len(declared) == len(given) and all(d is None or d == g for d, g in zip(declared, given))


def declared_rank_refused(ad) -> list:
    """Keras: samples of x with another number of axes than the model was declared to take, where no rearrangement
    of x ran (an axes tuple transposed instead of the images, a list of values instead of a batch). Evidence, else
    []: a model with no declared input cannot say what it takes."""
    if ad.framework != "keras" or is_structured(ad.x):
        return []
    declared, given = declared_sample_shape(ad.original), tuple(np.shape(ad.x))[1:]
    if not declared or len(declared) == len(given):
        return []
    return [f"x has shape {tuple(np.shape(ad.x))}, so each of its {ad.n} samples has shape {given}, with {len(given)} "
            f"ax{'i' if len(given) == 1 else 'e'}s; the model was declared to take samples of shape {declared}, with "
            f"{len(declared)}: x is not a batch of the model's samples"]


UNBATCHED_FIX = ("The first axis of x and y counts the samples. If x is one sample, give it and its target that axis: "
                 "np.expand_dims(x, 0). If x holds many samples, the model was declared with the whole array's shape "
                 "(input_shape=x.shape): declare one sample's shape, x.shape[1:] (a column of n values: (1,), with "
                 "x.reshape(-1, 1)).")


def one_sample_without_batch_axis(model, x, framework) -> list:
    """Keras: x has exactly the shape the model was declared to take for one sample: one sample with no batch axis,
    or a model declared with input_shape=x.shape. Evidence, else []."""
    if framework != "keras" or is_structured(x):
        return []
    declared, given = declared_sample_shape(model), tuple(np.shape(x))
    if all(d is None for d in declared) or not fits_declared(declared, given):
        return []
    return [f"x has shape {given}, the shape the model was declared to take for one sample, {declared}: either x is "
            f"one sample without its batch axis, or the model was declared with the shape of all of x"]


def add_layout_finding(rep, refused: Exception, words: str, ad):
    rep.add("input-layout",
            [str(refused), f"x {words}, of shape {input_shapes(ad.x)}, the model runs: the checks below ran on that"])


def check_input_dtype(ad, rep, model):
    """PyTorch: a float64 tensor x that diagnose cast to float32 to run, and that the model itself refuses.
    (A NumPy array is left alone: float64 is NumPy's default, and how it becomes a tensor is not known here.)"""
    if ad.framework != "torch" or not ad.torch.is_tensor(ad.given_x) or ad.given_x.dtype != ad.torch.float64:
        return
    weights = next(iter(model.parameters()), None)
    if weights is None or weights.dtype == ad.torch.float64:
        return
    try:
        with ad.torch.no_grad():
            model.eval()
            model(ad.given_x[:2])
        rep.passed.append("input-layout")
    except Exception as e:  # noqa: BLE001
        rep.add("input-layout",
                [f"x is float64 and the model's weights are {str(weights.dtype).replace('torch.', '')}: the model "
                 f"refuses it ({error_text(e)})", "the checks below ran on x.float()"],
                fix="Cast the inputs to float32 (x.float(), or torch.tensor(x, dtype=torch.float32)); NumPy arrays "
                    "are float64 unless told otherwise.")


def _loss_weights(loss, torch) -> list:
    """(name, value) of a PyTorch loss's weight-like arguments: its buffers and plain attributes whose name holds
    "weight" and whose value is a tensor or a NumPy value (weight, pos_weight, class_weights, ...)."""
    held = {**getattr(loss, "_buffers", {}), **{k: v for k, v in vars(loss).items() if not k.startswith("_")}}
    return [(name, value) for name, value in held.items()
            if "weight" in name.lower() and (torch.is_tensor(value) or isinstance(value, (np.ndarray, np.generic)))]


def _with_argument(loss, name, value):
    """A copy of ``loss`` with its argument ``name`` replaced by ``value``."""
    import copy

    changed = copy.deepcopy(loss)
    buffers = getattr(changed, "_buffers", {})
    if name in buffers:
        buffers[name] = value
    else:
        object.__setattr__(changed, name, value)
    return changed


def check_loss_arguments(ad, rep, out_t, problem):
    """PyTorch: a loss that refuses this batch because of a weight it was built with (a NumPy value where it takes a
    tensor, class weights of shape (1, C) where it takes (C,)): named when the same loss computes with that argument
    as a flat float tensor, or without it."""
    if ad.framework != "torch" or isinstance(ad.loss, type):
        return
    torch = ad.torch
    for name, value in _loss_weights(ad.loss, torch):
        given = (f"a tensor of shape {tuple(value.shape)}" if torch.is_tensor(value) else
                 f"a NumPy {value.dtype} scalar" if isinstance(value, np.generic) else
                 f"a NumPy array of shape {value.shape}")
        flat = torch.as_tensor(np.asarray(to_numpy(value)), dtype=out_t.dtype).reshape(-1)
        values = f"{flat.numel()} value{'s' if flat.numel() != 1 else ''}"
        for replacement, words in ((flat, f"as a flat float tensor of {values}"), (None, "without it")):
            try:
                _with_argument(ad.loss, name, replacement)(out_t, ad.y)
            except Exception:  # noqa: BLE001  (refused this way too)
                continue
            rep.add("loss-arguments",
                    [f"{ad.info.name} was built with {name} = {given}, and refuses the batch ({problem})",
                     f"{words}, the same loss computes on the same outputs and targets"])
            return


def _one_hot(values: np.ndarray) -> bool:
    """Every value 0 or 1 and a single 1 along the last axis (Keras's class axis)."""
    return bool(set(np.unique(values)) <= {0, 1} and np.all(values.sum(axis=-1) == 1))


def check_target_dtype(ad, rep, out_t, problem):
    """PyTorch: integer targets that a binary or regression loss refuses, where float targets are taken; integer
    one-hot rows (or masks) of the output's shape, which CrossEntropyLoss refuses: it takes class indices.
    Keras: one-hot rows of the output's shape, which a sparse cross-entropy refuses: it takes class indices."""
    y = ad.y
    if ad.framework == "keras":
        sparse = ad.info.kind == "cross_entropy" and ad.info.sparse
        if sparse and tuple(y.shape) == tuple(out_t.shape) and y.ndim >= 2 and _one_hot(y):
            rep.add("labels-not-class-indices",
                    [f"the targets are one-hot rows of the output's shape {tuple(y.shape)}, and {ad.info.name} "
                     f"refuses them ({problem})", "it takes one class index per sample"],
                    fix="Give the loss class indices, y.argmax(axis=-1); or keep the one-hot rows and train with "
                        "categorical_crossentropy.")
        return
    if y.is_floating_point():
        return
    if ad.info.kind == "cross_entropy" and tuple(y.shape) == tuple(out_t.shape) and y.ndim >= 2:
        if _one_hot(np.moveaxis(to_numpy(y), 1, -1)):  # PyTorch's class axis is 1
            rep.add("labels-not-class-indices",
                    [f"the targets are integer one-hot {'rows' if y.ndim == 2 else 'masks'} of the output's shape "
                     f"{tuple(y.shape)}, and {ad.info.name} refuses them ({problem})",
                     "it takes one class index per sample (per pixel), or float class probabilities"],
                    fix="Give the loss class indices: y.argmax(dim=1) (int64), the output's shape without its class "
                        "axis; or, for class probabilities, y.float().")
        return
    if ad.info.kind not in ("binary_cross_entropy", "mse", "mae"):
        return
    try:
        ad.loss_of(out_t, y.to(out_t.dtype))
    except Exception:  # noqa: BLE001  (refused for another reason)
        return
    rep.add("targets-wrong-dtype",
            [f"the targets are {ad.given_target_dtype} and {ad.info.name} refuses them ({problem})",
             f"cast to {str(out_t.dtype).replace('torch.', '')}, the same targets are taken"])
