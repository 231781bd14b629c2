"""The inputs and targets against what the model and the loss take: a layout or a dtype they refuse.

A model that cannot run on ``x`` is tried on a few rearrangements of it that fix the common layout bugs
(a missing feature or channel axis, channels on the wrong side, two axes swapped); the first one it runs
on is named, and the other checks run on it. PyTorch refuses a float64 tensor for float32 weights, and
its binary losses refuse integer targets, where diagnose itself would quietly cast them.
"""
from __future__ import annotations

import numpy as np

from ..frameworks import error_text, input_shapes, is_structured, keras_layers, map_inputs, to_numpy


def _layouts(array: np.ndarray) -> list:
    """(what was done, rearranged array) for the layouts worth trying, by the array's rank."""
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
                ("flattened, x.reshape(len(x), -1)", array.reshape(n, -1))]
    return []


def runnable_layout(ad) -> str:
    """Try the model on rearrangements of x; keep the first it runs on in ``ad.x`` and say what it was ("" if
    none: ``ad.x`` is left as it was). Only for one input array."""
    if is_structured(ad.x):
        return ""
    given = ad.x
    for words, array in _layouts(np.asarray(to_numpy(given))):
        ad.x = ad.as_input(np.ascontiguousarray(array))
        try:
            model = ad.copy()
            ad.output(model, False, map_inputs(lambda a: a[:4], ad.x))
            return words
        except Exception:  # noqa: BLE001  (this layout is refused too: try the next)
            continue
    ad.x = given
    return ""


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


def check_target_dtype(ad, rep, out_t, problem):
    """PyTorch: integer targets that a binary or regression loss refuses, where float targets are taken."""
    y = ad.y
    if ad.framework != "torch" or y.is_floating_point() or ad.info.kind not in ("binary_cross_entropy", "mse", "mae"):
        return
    try:
        ad.loss_of(out_t, y.to(out_t.dtype))
    except Exception:  # noqa: BLE001  (refused for another reason)
        return
    rep.add("targets-wrong-dtype",
            [f"the targets are {ad.given_target_dtype} and {ad.info.name} refuses them ({problem})",
             f"cast to {str(out_t.dtype).replace('torch.', '')}, the same targets are taken"])
