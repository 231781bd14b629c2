"""Lab 01: a regression script whose loss climbs after the first epoch.

The lab hands the student a ``fit(model, optimizer, loss_fn, x, y, epochs,
batch_size)`` function with a bug in its training loop. ``check_fit(fit)``
trains a fresh model of its own with the student's function and reports, in
words and numbers:

- what ``.grad`` held each time ``optimizer.step()`` ran: the gradient of the
  batch just seen (healthy), that gradient plus everything held before
  (gradients accumulate), or nothing at all (zeroed between backward and
  step);
- whether the trained model fits the data (share of the targets' variance
  it explains).

The fresh gradient of each batch is computed by the loss function the check
passes in, at the moment the student's code calls it, with
``torch.autograd.grad(..., retain_graph=True)``: that reads the gradient
without touching ``.grad`` and leaves the graph for the student's own
``backward()``.

The check never raises on a student's answer: a wrong type, an exception in
the student's code, a loop that runs away or ignores the optimizer or loss it
was given all come back as "not fixed yet" with the reason.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..fmt import below, percent
from ..labs import RanTooLong, report, time_limit

CHECK_NAME = "lab 01: the regression loop"
N_SAMPLES = 512
N_FEATURES = 6
EPOCHS = 30
BATCH_SIZE = 32
LEARNING_RATE = 0.03
FIT_THRESHOLD = 0.9  # share of the targets' variance a fixed loop explains (it reaches about 0.99)
SAME = 1e-4  # relative difference below which two gradients count as the same
TIME_LIMIT_S = 60
_HINT = ("Compare what .grad holds when optimizer.step() runs with the gradient of the batch just seen. "
         "What has to happen to .grad before each backward pass?")


# --- the lab's data and model ------------------------------------------------

def lab_data(n: int = N_SAMPLES, seed: int = 0):
    """Six standardised sensor readings -> one target (energy use), as float32 tensors.

    The target is mostly linear in the readings, with one interaction term
    and a little noise: a small MLP fits it to R^2 of about 0.99.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N_FEATURES)).astype(np.float32)
    weights = np.array([1.5, -2.0, 1.0, 0.5, 0.0, -1.0], dtype=np.float32)
    y = x @ weights + np.tanh(2 * x[:, 0] * x[:, 1]) + 0.1 * rng.standard_normal(n)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.float32)[:, None])


def make_model(seed: int = 0) -> nn.Module:
    """The lab's regressor, 6-32-1 with tanh, initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(N_FEATURES, 32), nn.Tanh(), nn.Linear(32, 1))


def explained_variance(model: nn.Module, x, y) -> float:
    """1 - MSE / Var(y) of ``model`` on (x, y) (R^2); nan when predictions are not finite."""
    with torch.no_grad():
        prediction = model(x)
        if prediction.shape != y.shape or not torch.isfinite(prediction).all():
            return math.nan
        mse = float(((prediction.double() - y.double()) ** 2).mean())
    return 1.0 - mse / float(y.double().var(unbiased=False))


# --- instruments the check hands to the student's code -------------------------

class _FreshGradientMSE(nn.Module):
    """Mean squared error that also records the fresh gradient of every loss it computes."""

    def __init__(self, params):
        super().__init__()
        self._params = list(params)
        self.calls = 0
        self.fresh = None  # gradient of the latest loss, per parameter

    def forward(self, prediction, target):
        loss = nn.functional.mse_loss(prediction, target)
        self.calls += 1
        if loss.requires_grad:
            grads = torch.autograd.grad(loss, self._params, retain_graph=True, allow_unused=True)
            self.fresh = [torch.zeros_like(p) if g is None else g.detach().clone() for p, g in zip(self._params, grads)]
        return loss


class _RecordingSGD(torch.optim.SGD):
    """Plain SGD that records, at every step, what .grad holds and the loss's fresh gradient."""

    def __init__(self, params, lr, loss_fn: _FreshGradientMSE, max_steps: int):
        super().__init__(params, lr=lr)
        self._loss_fn = loss_fn
        self._max_steps = max_steps
        self.records = []  # (stored grads or None per parameter, fresh grads or None)

    @torch.no_grad()
    def step(self, closure=None):
        if len(self.records) >= self._max_steps:
            raise RanTooLong(f"your loop called optimizer.step() more than {self._max_steps} times")
        params = [p for group in self.param_groups for p in group["params"]]
        stored = [None if p.grad is None else p.grad.detach().clone() for p in params]
        fresh = None if self._loss_fn.fresh is None else [g.clone() for g in self._loss_fn.fresh]
        self.records.append((stored, fresh))
        return super().step(closure)


# --- reading the records ------------------------------------------------------

def _flat(tensors):
    return torch.cat([t.reshape(-1).double() for t in tensors])


def _relative(a, b) -> float:
    scale = max(float(b.norm()), 1e-12)
    return float((a - b).norm()) / scale


def classify_steps(records):
    """One word per optimizer step after the first: what .grad held when step() ran.

    'fresh': the gradient of the batch just seen; 'accumulated': that plus
    what .grad held at the previous step; 'empty': nothing (None or zeros);
    'other': neither. Also returns the relative difference from the fresh
    gradient at the second step (nan when it cannot be read).
    """
    words, second = [], math.nan
    previous = None
    for index, (stored, fresh) in enumerate(records):
        if fresh is None:
            words.append("other")
            previous = None
            continue
        fresh_flat = _flat(fresh)
        if all(g is None for g in stored):
            stored_flat = None
        else:
            stored_flat = _flat([torch.zeros_like(f) if g is None else g for g, f in zip(stored, fresh)])
        if index > 0:
            if stored_flat is None or float(stored_flat.abs().max()) == 0.0:
                word = "empty"
            elif _relative(stored_flat, fresh_flat) < SAME:
                word = "fresh"
            elif previous is not None and _relative(stored_flat, previous + fresh_flat) < SAME:
                word = "accumulated"
            else:
                word = "other"
            words.append(word)
            if index == 1 and stored_flat is not None:
                second = _relative(stored_flat, fresh_flat)
        previous = stored_flat
    return words, second


# --- the check ----------------------------------------------------------------

def _describe_type(value) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}".replace("builtins.", "")


def check_fit(fit, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE, seed: int = 0,
              time_limit_s: float = TIME_LIMIT_S):
    """Train a fresh model with the student's ``fit`` and say whether the loop is fixed.

    The student's code is stopped after ``time_limit_s`` seconds (on Unix, in the
    main thread) or after four times the expected number of optimizer steps.
    Returns a course_utils.labs.CheckResult; never raises on the answer.
    """
    signature = "fit(model, optimizer, loss_fn, x, y, epochs, batch_size)"
    if not callable(fit):
        return report(CHECK_NAME, False, [f"expected a function {signature}, got {_describe_type(fit)}"],
                      "Run the cell that defines fit, then pass the function itself: check_fit(fit).")
    x, y = lab_data()
    model = make_model(seed)
    loss_fn = _FreshGradientMSE(model.parameters())
    steps_per_epoch = math.ceil(len(x) / batch_size)
    expected = epochs * steps_per_epoch
    optimizer = _RecordingSGD(model.parameters(), lr, loss_fn, max_steps=4 * expected)
    try:
        with time_limit(time_limit_s, "your fit"):
            fit(model, optimizer, loss_fn, x, y, epochs=epochs, batch_size=batch_size)
    except RanTooLong as error:
        return report(CHECK_NAME, False, [f"{error} (expected about {expected})"],
                      "Keep the loop's structure: one optimizer step per mini-batch, for the given number of epochs.")
    except Exception as error:  # the student's code failed: report it, never raise
        return report(CHECK_NAME, False, [f"{signature} raised {type(error).__name__}: {error}"], _HINT)

    evidence = []
    records = optimizer.records
    if len(records) < 2:
        evidence.append(f"your fit called optimizer.step() {len(records)} time(s) on the optimizer it was given "
                        f"(expected {expected}); a loop must step the optimizer it receives")
        return report(CHECK_NAME, False, evidence, _HINT)
    if loss_fn.calls == 0:
        evidence.append("your fit never called the loss_fn it was given, so the check cannot see the fresh gradients")
        return report(CHECK_NAME, False, evidence, "Compute the loss with the loss_fn argument.")

    words, second = classify_steps(records)
    counts = {w: words.count(w) for w in ("fresh", "accumulated", "empty", "other")}
    n = len(words)
    evidence.append(f"your fit ran {len(records)} optimizer steps (expected {expected})")
    if words[0] == "fresh":
        evidence.append(f"at step 2, .grad held the gradient of batch 2 alone "
                        f"(relative difference from the fresh gradient {below(second, 1e-5)})")
    elif words[0] == "accumulated":
        evidence.append(f"at step 2, .grad held the gradients of batches 1 and 2 added together "
                        f"(relative difference from the fresh gradient of batch 2: {below(second, 1e-5)})")
    elif words[0] == "empty":
        evidence.append("at step 2, .grad was empty when optimizer.step() ran: the gradient was cleared "
                        "after backward() and before step(), so the step moved nothing")
    else:
        evidence.append("at step 2, .grad matched neither the fresh gradient of batch 2 nor an accumulated sum")
    if counts["fresh"] == n:
        evidence.append(f"gradients do not accumulate: at all {n} steps after the first, .grad was the fresh gradient")
    else:
        parts = [f"{counts[w]} {w}" for w in ("accumulated", "empty", "other") if counts[w]]
        evidence.append(f"gradients are not fresh at {n - counts['fresh']} of {n} steps after the first ({', '.join(parts)})")

    r2 = explained_variance(model, x, y)
    fits = math.isfinite(r2) and r2 >= FIT_THRESHOLD
    if not math.isfinite(r2):
        evidence.append("after training, the model's predictions are not finite (the weights blew up)")
    elif fits:
        evidence.append(f"after {epochs} epochs the model explains more than {percent(FIT_THRESHOLD)} of the targets' variance")
    else:
        shown = f"explains {percent(r2)} of the targets' variance" if r2 >= 0 else \
            "has an error larger than the targets' variance (it explains none of it)"
        evidence.append(f"after {epochs} epochs the model {shown} (a fixed loop explains more than {percent(FIT_THRESHOLD)})")
    passed = counts["fresh"] == n and fits
    return report(CHECK_NAME, passed, evidence, "" if passed else _HINT)
