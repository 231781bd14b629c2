"""Lab 07: an appliance tagger whose output cannot say what its targets say.

A home-energy monitor reads eight smart-meter features and tags which of four
appliances (kettle, oven, washer, heater) are running; several can run at
once, so the targets are multi-hot rows (n, 4). The shipped model ends in a
softmax over the batch axis and trains with ``BCELoss``.

``check_tagger(build_model, loss_fn)`` measures the student's answer, never its source:

- the untrained model's outputs on a batch, read with ``read_outputs`` (what
  they look like, row and column sums, the loss floor they impose);
- whether a sample's output depends on the other samples of its batch (the
  same inputs alone, then in the batch);
- a fresh model trained by the check itself (Adam, full batch) with the
  student's loss, then its tags on held-out homes: the outputs are read as
  the loss reads them (a sigmoid first when the loss expects logits).

Every call into the student's code goes through ``labs.call_student`` (a time
limit); nothing the answer does makes the check raise.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import nn

from ..diagnosis.losses import loss_info
from ..fmt import below, percent, sig
from ..instruments.outputs import read_outputs, sum_range
from ..labs import Stopped, call_student, report
from ..training.torch_loop import train_torch

CHECK_NAME = "lab 07: the appliance tagger"
APPLIANCES = ("kettle", "oven", "washer", "heater")
N_FEATURES = 8
N_TRAIN, N_HELD_OUT = 512, 512
STEPS, LR = 300, 1e-2
EXACT_MATCH = 0.9  # share of held-out homes with all four tags right (a fixed tagger reaches about 0.97)
TIME_LIMIT_S = 60


def lab_data(n: int = N_TRAIN, seed: int = 0):
    """x (n, 8) standardised meter features, y (n, 4) multi-hot float32: which appliances run.

    Each appliance runs with probability 0.4, independently of the others, and adds its own signature
    to the features; noise on top. A small MLP tags held-out homes almost perfectly.
    """
    rng = np.random.default_rng(seed)
    signatures = np.random.default_rng(12345).normal(size=(4, N_FEATURES))  # the same appliances in every set
    on = (rng.random((n, 4)) < 0.4).astype(np.float32)
    x = on @ signatures + 0.3 * rng.standard_normal((n, N_FEATURES))
    x = (x - 1.0) / 1.5  # roughly standardised
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(on)


def tag_probabilities(outputs: torch.Tensor, loss_fn) -> torch.Tensor:
    """The outputs as the loss reads them: a sigmoid first when it expects logits."""
    info = loss_info(loss_fn, "torch")
    return torch.sigmoid(outputs) if info.expects == "logits" else outputs


def _hint_for(reading, depends_on_batch: bool, error: str | None = None) -> str:
    if depends_on_batch or "softmax-over-batch" in reading.mismatches:
        return ("Each COLUMN of the outputs sums to 1 over the batch, not each row: which axis does the output "
                "activation normalise, and what should one home's answer depend on?")
    if "output-cannot-reach-target" in reading.mismatches or (reading.row_sums and "probability rows" in reading.looks_like):
        return ("Each row sums to 1, but a home can run two or three appliances at once: a softmax makes the tags "
                "compete. What output lets each tag be 0 or 1 on its own, and which loss reads it?")
    if "softmax-before-crossentropy" in reading.mismatches:
        return ("Your outputs are already in [0, 1], and your loss applies its own sigmoid to them: give the loss "
                "what it expects (raw scores for a *WithLogits loss, probabilities for BCELoss).")
    return ("Read the outputs against the loss with read_outputs(model(x), y, loss_fn): what does the loss "
            "expect, and what does the output give it?")


def _batch_dependence(model, x) -> float:
    """Largest change of a home's outputs between its own batch of one and the full batch."""
    with torch.no_grad():
        together = model(x)[:8]
        alone = torch.cat([model(x[i:i + 1]) for i in range(8)])
    return float((together - alone).abs().max())


def _train(model, loss_fn, x, y):
    """The check's own training: Adam, full batch, STEPS steps (stopped if the loss diverges); returns the losses."""
    run = train_torch(model, x, y, loss_fn, torch.optim.Adam(model.parameters(), lr=LR), steps=STEPS,
                      sample_every=STEPS)
    return np.asarray(run.losses, dtype=np.float64)


def _fresh_model(build_model, x, label="build_model()"):
    """(model, None) or (None, what is wrong): a torch module whose output for x is (n, 4)."""
    model, error = call_student(label, build_model, limit_s=TIME_LIMIT_S)
    if error:
        return None, error
    if not isinstance(model, nn.Module):
        return None, f"{label} returned a {type(model).__name__}, not a torch.nn.Module"
    out, error = call_student("your model(x)", model, x.clone(), limit_s=TIME_LIMIT_S)
    if error:
        return None, error
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (len(x), 4):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return None, f"your model must return one output per appliance, shape ({len(x)}, 4); it returned {shape}"
    return model, None


def check_tagger(build_model, loss_fn, seed: int = 0):
    """Train a fresh model from ``build_model()`` with ``loss_fn`` and say whether the tagger is fixed."""
    x, y = lab_data(seed=seed)
    x_new, y_new = lab_data(N_HELD_OUT, seed=seed + 1)
    if not callable(loss_fn):
        return report(CHECK_NAME, False, [f"loss_fn must be a loss such as nn.BCELoss(), got {type(loss_fn).__name__}"],
                      "Define loss_fn in the exercise cell, e.g. loss_fn = nn.SomeLoss().")
    torch.manual_seed(seed)
    model, error = _fresh_model(build_model, x)
    if error:
        return report(CHECK_NAME, False, [error], "Run the exercise cell; build_model() must return a fresh "
                      "torch.nn.Module that maps x (n, 8) to one output per appliance (n, 4).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reading, error = call_student("reading your outputs with your loss_fn", read_outputs,
                                      model(x).detach(), y, loss_fn, limit_s=TIME_LIMIT_S)
        if error:
            return report(CHECK_NAME, False, [error], "Your loss_fn cannot read your model's outputs: BCELoss "
                          "needs probabilities in [0, 1]; BCEWithLogitsLoss takes raw scores.")
        shift = _batch_dependence(model, x)
        depends = shift > 1e-5
        evidence = [f"untrained outputs: {reading.looks_like}"
                    + (f"; rows sum to {sum_range(reading.row_sums)}" if reading.row_sums else "")
                    + (f"; columns sum to {sum_range(reading.column_sums)}" if reading.column_sums else ""),
                    ("a home's outputs change with the other homes in its batch (by up to " + sig(shift) + ")"
                     if depends else "a home's outputs do not depend on the rest of its batch")]
        torch.manual_seed(seed)
        model, error = _fresh_model(build_model, x)
        if error:
            return report(CHECK_NAME, False, evidence + [error], _hint_for(reading, depends))
        losses, error = call_student("training with your loss_fn", _train, model, loss_fn, x, y, limit_s=TIME_LIMIT_S)
    if error:
        hint = "Your model and loss ran too slowly for the check." if isinstance(error, Stopped) else _hint_for(reading, depends)
        return report(CHECK_NAME, False, evidence + [error], hint)
    floor = reading.floor
    line = (f"the check's training ({len(losses)} Adam steps, full batch): loss {sig(losses[0])} -> "
            f"{below(losses[-1], 0.01)}")
    if floor is not None and math.isfinite(floor):
        line += f"; the floor your outputs impose on it: {sig(floor)}"
    evidence.append(line)
    with torch.no_grad():
        tags = tag_probabilities(model(x_new), loss_fn) > 0.5
    exact = float((tags == (y_new > 0.5)).all(dim=1).double().mean())
    several = int(tags.sum(dim=1).ge(2).sum())
    per_tag = (tags == (y_new > 0.5)).double().mean(dim=0)
    truly = float((y_new.sum(dim=1) >= 2).double().mean())
    evidence.append(f"held-out homes with all four tags right: {percent(exact)} (needed: {percent(EXACT_MATCH)}); "
                    f"homes given two or more appliances: {'none' if several == 0 else percent(several / len(x_new))} "
                    f"(truly: {percent(truly)})")
    evidence.append("per appliance: " + ", ".join(f"{a} {percent(p)}" for a, p in zip(APPLIANCES, per_tag.tolist())))
    passed = (not depends) and exact >= EXACT_MATCH and not reading.mismatches
    if passed:
        return report(CHECK_NAME, True, evidence)
    if not (depends or reading.mismatches):
        return report(CHECK_NAME, False, evidence, "The outputs and the loss agree now, but the tagger does not "
                      "learn the tags: keep the shipped network's size and train it as the check does.")
    return report(CHECK_NAME, False, evidence, _hint_for(reading, depends))
