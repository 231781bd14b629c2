"""Fidelity check for the later held-out sets (fresh, third to seventeenth), without diagnose.

For every case in ``fresh_cases.py`` (``third_cases.py`` with ``--third``, ``fourth_cases.py`` with
``--fourth``, ``fifth_cases.py`` with ``--fifth``, the sixth and seventh sets' two files each with ``--sixth`` and ``--seventh``, the eighth set's three with ``--eighth``, the ninth's seven with ``--ninth``, the tenth's four with ``--tenth``, the eleventh's seven with ``--eleventh``,
the twelfth's six with ``--twelfth``, the thirteenth's six with ``--thirteenth``, the fourteenth's, fifteenth's and sixteenth's eight with ``--fourteenth``, ``--fifteenth`` and ``--sixteenth``, the seventeenth's seven with ``--seventeenth``), both twins are
trained with plain code on the case's own batch (PyTorch: a zero_grad/backward/step loop; Keras: compile + train_on_batch on the whole
batch), and one line per case prints the loss at the first and last step, whether a NaN/inf
appeared, the training accuracy where the targets are classes, for PyTorch how many of the
model's parameter tensors moved, or the error the twin raised.
The buggy twin should show the thread's symptom and the fixed twin should learn.

    python -m benchmarks.real_bugs.check_fresh_fidelity [--steps 300] [--third | --fourth | --fifth | --sixth | --seventh | --eighth | --ninth | --tenth | --eleventh | --twelfth | --thirteenth | --fourteenth | --fifteenth | --sixteenth | --seventeenth] [NAME ...]
"""
from __future__ import annotations

import argparse
import math
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def _accuracy_numpy(out, y, probabilities):
    """Training accuracy for class targets, or None for regression/reconstruction targets."""
    out, y = np.asarray(out, dtype=np.float64), np.asarray(y)
    if not np.all(np.isfinite(out)):
        return None
    if y.ndim > 2 and out.shape == y.shape:  # per-pixel (or per-step) class rows: score every position
        out, y = out.reshape(-1, out.shape[-1]), y.reshape(-1, y.shape[-1])
    if y.ndim == 1 and y.dtype.kind in "iu":  # integer labels
        return float((out.argmax(axis=1) == y).mean()) if out.ndim == 2 else None
    if y.ndim == 2 and y.shape[1] > 1 and set(np.unique(y)) <= {0.0, 1.0} and np.allclose(y.sum(axis=1), 1):
        return float((out.argmax(axis=1) == y.argmax(axis=1)).mean())  # one-hot
    if y.ndim == 2 and y.shape[1] == 1 and set(np.unique(y)) <= {0.0, 1.0}:
        threshold = 0.5 if probabilities else 0.0
        return float(((out.reshape(-1, 1) > threshold) == (y > 0.5)).mean())
    return None


def _train_keras(model, x, y, loss, optimizer, steps):
    model.compile(optimizer=optimizer, loss=loss)
    history = [float(np.asarray(model.train_on_batch(x, y)).reshape(-1)[0]) for _ in range(steps)]
    out = np.asarray(model.predict(x, verbose=0))
    return history, _accuracy_numpy(out, y, probabilities=True)


def _train_torch(model, x, y, loss, optimizer, steps):
    import torch
    from torch import nn

    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss(model(x), y)
        value.backward()
        optimizer.step()
        losses.append(float(value.detach()))
    with torch.no_grad():
        out = model(x)
    if out.dim() == 4:  # per-pixel class scores (n, classes, h, w) against (n, h, w) labels
        accuracy = float((out.argmax(dim=1) == y).float().mean()) if y.dtype == torch.long else None
        return losses, accuracy
    if out.dim() == 1:
        out = out.reshape(-1, 1)
    probabilities = not isinstance(loss, (nn.BCEWithLogitsLoss, nn.CrossEntropyLoss))
    y_np = y.numpy()
    if y.dim() == 1 and y.dtype != torch.long:
        y_np = y_np.reshape(-1, 1)
    return losses, _accuracy_numpy(out.numpy(), y_np, probabilities)


def _trainable_tensors(model):
    return len([p for p in model.parameters() if p.requires_grad])


def _summary(losses, accuracy):
    finite = [v for v in losses if math.isfinite(v)]
    bad = len(losses) - len(finite)
    first_bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    text = f"loss {losses[0]:.4g} -> {losses[-1]:.4g}"
    if finite:
        text += f" (min {min(finite):.4g})"
    if bad:
        text += f", non-finite from step {first_bad}"
    if accuracy is not None:
        text += f", acc {accuracy:.2f}"
    return text


def torch_equal(a, b):
    import torch

    return bool(torch.equal(a, b.detach()))


def run_twin(c, buggy, steps):
    try:
        model, x, y, loss, optimizer = c.build(buggy)
    except Exception as error:  # noqa: BLE001 - a broken builder is reported, not hidden
        return f"BUILD ERROR {type(error).__name__}: {str(error).splitlines()[0][:90]}"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if c.framework == "keras":
                losses, accuracy = _train_keras(model, x, y, loss, optimizer, steps)
            else:
                before = [p.detach().clone() for p in model.parameters()]
                losses, accuracy = _train_torch(model, x, y, loss, optimizer, steps)
                moved = sum(not torch_equal(b, p) for b, p in zip(before, model.parameters()))
        text = _summary(losses, accuracy)
        if c.framework == "torch":
            text += f", {moved}/{len(before)} parameter tensors moved"
        shape_warnings = [w for w in caught if "target size" in str(w.message)]
        if shape_warnings:
            text += ", warns 'target size differs'"
        return text
    except Exception as error:  # noqa: BLE001 - raising is the symptom of some threads
        return f"raises {type(error).__name__}: {str(error).splitlines()[0][:90]}"


def main(argv=None):
    from . import LATER_SETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--steps", type=int, default=300)
    sets = parser.add_mutually_exclusive_group()
    for name, cases_of_set in LATER_SETS.items():
        if name != "fresh":
            sets.add_argument(f"--{name}", dest="chosen", action="store_const", const=cases_of_set,
                              help=f"check the {name} held-out set instead of the fresh one")
    args = parser.parse_args(argv)
    pool = (args.chosen or LATER_SETS["fresh"])()
    unknown = set(args.names) - {c.name for c in pool}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    cases = [c for c in pool if not args.names or c.name in args.names]
    start = time.time()
    for c in cases:
        buggy, fixed = run_twin(c, True, args.steps), run_twin(c, False, args.steps)
        print(f"{c.name} [{c.framework}] buggy: {buggy} | fixed: {fixed}", flush=True)
    print(f"{len(cases)} cases, {args.steps} steps per twin, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
