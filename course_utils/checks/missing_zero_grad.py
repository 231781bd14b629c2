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

The student's code gets a plain ``torch.optim.SGD`` and a plain
``nn.MSELoss``, as the lab describes; the check watches them through hooks
(``GradientRecorder``). The fresh gradient of each batch is read when the
student's code computes the loss, with ``torch.autograd.grad(...,
retain_graph=True)``: that reads the gradient without touching ``.grad`` and
leaves the graph for the student's own ``backward()``. The trained weights are
measured in a model of the check's own, on data the student's code never held.

The check never raises on a student's answer: a wrong type, an exception in
the student's code, a loop that runs away, never returns, or ignores the optimizer or
loss it was given all come back as "not fixed yet" with the reason.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..fmt import below, percent
from ..labs import StepLimit, Stopped, call_student, report

CHECK_NAME = "lab 01: the regression loop"
N_SAMPLES = 512
N_FEATURES = 6
EPOCHS = 30
BATCH_SIZE = 32
LEARNING_RATE = 0.03
FIT_THRESHOLD = 0.9  # share of the targets' variance a fixed loop explains (it reaches about 0.99)
SAME = 1e-4  # relative difference below which two gradients count as the same
TIME_LIMIT_S = 60


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


# --- what the check watches, through hooks --------------------------------------

class GradientRecorder:
    """Watches the optimizer and the loss the check hands to the student's code.

    Both stay the plain objects the lab describes, a ``torch.optim.SGD`` and an
    ``nn.MSELoss`` (a student who prints them or checks their type sees just
    that): the recorder attaches hooks to them.

    - Every loss computed with the loss function also has its fresh gradient
      read, with ``torch.autograd.grad(..., retain_graph=True)``: that leaves
      ``.grad`` alone and the graph in place for the student's ``backward()``.
    - After every ``optimizer.step()`` it records what ``.grad`` held (plain
      SGD uses ``.grad`` without changing it), and the fresh gradient of the
      latest loss. Recording after the step also reads a step taken with a
      closure, where the loss is computed inside ``step()``.
    - A step past ``max_steps`` raises ``RanTooLong`` (``labs.StepLimit``).
    """

    def __init__(self, params, optimizer, loss_fn, max_steps: int):
        self.params = list(params)
        self.step_limit = StepLimit(optimizer, max_steps)
        self.loss_calls = 0
        self.fresh = None  # the gradient of the latest loss, per parameter
        self.records = []  # per step: (what .grad held, per parameter or None; the fresh gradient or None)
        loss_fn.register_forward_hook(self._loss_computed)
        optimizer.register_step_post_hook(self._after_step)

    def _loss_computed(self, loss_fn, inputs, loss):
        self.loss_calls += 1
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            grads = torch.autograd.grad(loss, self.params, retain_graph=True, allow_unused=True)
            self.fresh = [torch.zeros_like(p) if g is None else g.detach().clone() for p, g in zip(self.params, grads)]

    def _after_step(self, optimizer, args, kwargs):
        stored = [None if p.grad is None else p.grad.detach().clone() for p in self.params]
        fresh = None if self.fresh is None else [g.clone() for g in self.fresh]
        self.records.append((stored, fresh))


def settings(optimizer) -> dict:
    """The optimizer's numeric hyperparameters (lr, momentum, ...), as its first parameter group holds them."""
    group = optimizer.param_groups[0] if optimizer.param_groups else {}
    return {key: value for key, value in group.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


def changed_settings(before: dict, optimizer) -> list:
    """One line per hyperparameter the student's code changed (a scheduler's lr, a hand-set momentum)."""
    after = settings(optimizer)
    return [f"your fit changed the optimizer's {key} from {value:g} to {after[key]:g}"
            for key, value in before.items() if key in after and after[key] != value]


def trained_copy(params, seed: int):
    """A fresh lab model holding the values of ``params``, or None if their shapes no longer fit.

    The check measures the trained weights in a model of its own, so that
    nothing the student's code did to the model object (a patched forward, a
    hook, a swapped layer) runs after the student's time limit.
    """
    model = make_model(seed)
    targets = list(model.parameters())
    if [tuple(p.shape) for p in params] != [tuple(t.shape) for t in targets]:
        return None
    with torch.no_grad():
        for target, source in zip(targets, params):
            target.copy_(source.detach().to(target.dtype))
    return model


# --- reading the records ------------------------------------------------------

def _flat(tensors):
    return torch.cat([t.reshape(-1).double() for t in tensors])


def _relative(a, b) -> float:
    scale = max(float(b.norm()), 1e-12)
    return float((a - b).norm()) / scale


def _scaled_down(stored, fresh) -> bool:
    """stored is fresh times a factor in (0, 1): the batch's own gradient, clipped by its norm."""
    factor = float(stored @ fresh) / max(float(fresh @ fresh), 1e-300)
    return 0.0 < factor < 1.0 and _relative(stored, factor * fresh) < SAME


def classify_steps(records):
    """One word per optimizer step after the first: what .grad held when step() ran.

    'fresh': the gradient of the batch just seen; 'clipped': that gradient
    scaled down as a whole (clip_grad_norm_), its direction kept;
    'accumulated': it plus what .grad held at the previous step; 'empty':
    nothing (None or zeros); 'other': none of these. Also returns the relative difference from the fresh
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
            elif _scaled_down(stored_flat, fresh_flat):
                word = "clipped"
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


SIGNATURE = "fit(model, optimizer, loss_fn, x, y, epochs, batch_size)"
_HINT = ("Compare what .grad holds when optimizer.step() runs with the gradient of the batch just seen. "
         "What has to happen to .grad before each backward pass?")
_HINT_FAILED = (f"Keep the signature {SIGNATURE} and run your fit once yourself (the cell \"Run it\"): "
                "the error above says where it stops.")
_HINT_STRUCTURE = ("Keep the loop's structure: one optimizer.step() per mini-batch of batch_size samples, "
                   "for the given number of epochs.")
_HINT_TOO_SLOW = ("Look for what keeps your fit from returning: a loop that runs until a condition the model "
                  "never meets, or a wait inside the loop.")
_HINT_BY_WORD = {  # what .grad held at a step -> what to look at
    "accumulated": _HINT,
    "empty": ("Your loop cleared .grad after backward() and before step(), so those steps applied nothing. "
              "Clear it before backward() (or right after step()), never between the two."),
    "other": ("Between backward() and step() something changed .grad (a scaling by more than 1, clipping each "
              "value on its own, an extra loss term), "
              "or the step used a loss other than the batch's loss_fn loss. The lab's recipe steps on each "
              "mini-batch's gradient as backward() left it."),
}


def check_fit(fit, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE, seed: int = 0,
              time_limit_s: float = TIME_LIMIT_S):
    """Train a fresh model with the student's ``fit`` and say whether the loop is fixed.

    The student's code is stopped after ``time_limit_s`` seconds (on Unix, in the
    main thread) or after four times the expected number of optimizer steps.
    It gets copies of the data: what it does to them cannot change what the
    check measures. Returns a course_utils.labs.CheckResult; never raises on the answer.
    """
    if not callable(fit):
        return report(CHECK_NAME, False, [f"expected a function {SIGNATURE}, got {_describe_type(fit)}"],
                      "Run the cell that defines fit, then pass the function itself: check_fit(fit).")
    x, y = lab_data()
    model = make_model(seed)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=lr)
    loss_fn = nn.MSELoss()
    expected = epochs * math.ceil(len(x) / batch_size)
    recorder = GradientRecorder(params, optimizer, loss_fn, max_steps=4 * expected)
    settings_given = settings(optimizer)
    _, error = call_student("your fit", fit, model, optimizer, loss_fn, x.clone(), y.clone(),
                            epochs=epochs, batch_size=batch_size, limit_s=time_limit_s)
    if error:
        if recorder.step_limit.reached:  # the step limit stopped it
            return report(CHECK_NAME, False, [f"{error} (expected {expected})"], _HINT_STRUCTURE)
        if isinstance(error, Stopped):  # the time limit stopped it
            return report(CHECK_NAME, False, [f"{error}, after {len(recorder.records)} optimizer steps "
                                              f"(expected {expected}, about a second's work)"], _HINT_TOO_SLOW)
        return report(CHECK_NAME, False, [error], _HINT_FAILED)

    records = recorder.records
    if len(records) < 2:
        return report(CHECK_NAME, False,
                      [f"your fit called optimizer.step() {len(records)} time(s) on the optimizer it was given "
                       f"(expected {expected}); a loop must step the optimizer it receives"],
                      "Train with the optimizer argument: call optimizer.step() once per mini-batch.")
    if recorder.loss_calls == 0:
        return report(CHECK_NAME, False,
                      ["your fit never called the loss_fn it was given as loss_fn(prediction, target), "
                       "so the check cannot see the fresh gradients"],
                      "Compute the loss with the loss_fn argument: loss = loss_fn(prediction, y_batch).")

    words, second = classify_steps(records)
    counts = {w: words.count(w) for w in ("fresh", "clipped", "accumulated", "empty", "other")}
    all_fresh = counts["fresh"] + counts["clipped"] == len(words)
    right_count = len(records) == expected
    evidence = [_steps_line(len(records), expected, epochs), _second_step_line(words[0], second),
                _fresh_line(counts, len(words))]
    evidence += changed_settings(settings_given, optimizer)
    trained = trained_copy(params, seed)
    r2 = math.nan if trained is None else explained_variance(trained, x, y)
    fits = math.isfinite(r2) and r2 >= FIT_THRESHOLD
    evidence.append(_fit_line(trained, r2, fits, f"{epochs} epochs" if right_count else f"{len(records)} steps"))

    passed = all_fresh and right_count and fits
    if passed:
        return report(CHECK_NAME, True, evidence)
    if not all_fresh:
        hint = next(_HINT_BY_WORD[w] for w in ("accumulated", "empty", "other") if counts[w])
    elif not right_count:
        hint = _HINT_STRUCTURE
    else:
        hint = ("The gradient was right at every step, yet the model does not fit: train the model you were given "
                "on x and y as given, with the optimizer's settings unchanged.")
    return report(CHECK_NAME, False, evidence, hint)


def _steps_line(steps: int, expected: int, epochs: int) -> str:
    if steps == expected:
        return f"your fit ran {steps} optimizer steps (expected {expected})"
    return (f"your fit ran {steps} optimizer steps; expected {expected}, "
            f"one per mini-batch for each of the {epochs} epochs")


def _second_step_line(word: str, second: float) -> str:
    if word == "fresh":
        return (f"at step 2, .grad held the gradient of batch 2 alone "
                f"(relative difference from the fresh gradient {below(second, 1e-5)})")
    if word == "clipped":
        return "at step 2, .grad held the gradient of batch 2 alone, scaled down as a whole (clipped by its norm)"
    if word == "accumulated":
        return (f"at step 2, .grad held the gradients of batches 1 and 2 added together "
                f"(relative difference from the fresh gradient of batch 2: {below(second, 1e-5)})")
    if word == "empty":
        return ("at step 2, .grad was empty when optimizer.step() ran: the gradient was cleared "
                "after backward() and before step(), so the step moved nothing")
    return "at step 2, .grad matched neither the fresh gradient of batch 2 nor an accumulated sum"


def _fresh_line(counts: dict, n: int) -> str:
    if counts["fresh"] == n:
        return f"gradients do not accumulate: at all {n} steps after the first, .grad was the fresh gradient"
    if counts["fresh"] + counts["clipped"] == n:
        return (f"gradients do not accumulate: at all {n} steps after the first, .grad was the fresh gradient "
                f"({counts['clipped']} of them scaled down as a whole, as clip_grad_norm_ does: same direction)")
    parts = [f"{counts[w]} {w}" for w in ("clipped", "accumulated", "empty", "other") if counts[w]]
    return (f"gradients are not fresh at {n - counts['fresh'] - counts['clipped']} of {n} steps after the first "
            f"({', '.join(parts)})")


def _fit_line(trained, r2: float, fits: bool, trained_for: str) -> str:
    if trained is None:
        return "after training, the model's parameters no longer have the lab model's shapes"
    if not math.isfinite(r2):
        return "after training, the model's predictions are not finite (the weights blew up)"
    if fits:
        return f"after {trained_for} the model explains more than {percent(FIT_THRESHOLD)} of the targets' variance"
    shown = f"explains {percent(r2)} of the targets' variance" if r2 >= 0 else \
        "has an error larger than the targets' variance (it explains none of it)"
    return f"after {trained_for} the model {shown} (a fixed loop explains more than {percent(FIT_THRESHOLD)})"
