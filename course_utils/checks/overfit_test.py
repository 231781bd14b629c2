"""Lab 00: the student writes the overfit test; this check tries it on models
whose answer we know.

The student's function ``overfit_test(model, x, y, steps, lr)`` must return a
dict with ``initial_loss``, ``chance_loss``, ``final_loss`` and ``passed``.
The check runs it

1. on a healthy classifier: the reported initial loss must be the loss
   *before* training, the chance level must be ln(number of classes), the
   reported final loss must be the model's real loss afterwards, and the test
   must pass;
2. on a classifier that cannot learn (its output goes through a ReLU whose
   units start dead, so no gradient reaches any weight): the test must fail.

A test that always says "passed", measures the initial loss after training,
or trains a model other than the one it was given, is caught by one of these.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import data
from ..fmt import below, sig
from ..labs import report

CHECK = "overfit test"
N_CLASSES = 10
REQUIRED_KEYS = ("initial_loss", "chance_loss", "final_loss", "passed")


def batch(n: int = 32):
    """The one batch the lab overfits: n standardised digits as torch tensors."""
    x, y = data.one_batch(n)
    return torch.from_numpy(x), torch.from_numpy(y)


def make_model(width: int = 64, seed: int = 0) -> nn.Sequential:
    """The model the lab gives: a small healthy MLP for 8x8 digits."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, N_CLASSES))


def make_stuck_model(seed: int = 0) -> nn.Sequential:
    """The same MLP with a ReLU after the output layer whose units start dead.

    Every output is exactly 0 for every input, so the loss sits at ln 10 and
    every gradient is exactly zero: no optimizer can move it.
    """
    model = make_model(seed=seed)
    with torch.no_grad():
        model[2].bias.fill_(-100.0)
    return nn.Sequential(*model, nn.ReLU())


def _loss(model, x, y) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(x), y))


def _answer(student_fn, model, x, y, steps, lr):
    """Call the student's function; return (answer dict, problem text)."""
    try:
        answer = student_fn(model, x, y, steps=steps, lr=lr)
    except Exception as error:  # the student's code: report, never raise
        return None, f"overfit_test raised {type(error).__name__}: {error}"
    if answer is None:
        return None, "overfit_test returned None: it should return a dict with " + ", ".join(REQUIRED_KEYS)
    if not isinstance(answer, dict):
        return None, f"overfit_test returned a {type(answer).__name__}; it should return a dict with " + ", ".join(REQUIRED_KEYS)
    missing = [k for k in REQUIRED_KEYS if k not in answer]
    if missing:
        return None, f"the dict has no {', '.join(missing)}"
    try:
        numbers = {k: float(answer[k]) for k in REQUIRED_KEYS[:3]}
    except (TypeError, ValueError):
        return None, "initial_loss, chance_loss and final_loss must be numbers (use loss.item())"
    if not all(math.isfinite(v) for v in numbers.values()):
        return None, f"the losses must be finite numbers, got {numbers}"
    numbers["passed"] = answer["passed"]
    if not isinstance(numbers["passed"], (bool, np.bool_)):
        return None, f"passed must be True or False, got {answer['passed']!r}"
    return numbers, None


def check_overfit_test(student_fn, steps: int = 300, lr: float = 1e-2):
    """Run the student's overfit test on a healthy and a stuck model."""
    if not callable(student_fn):
        return report(CHECK, False, [f"expected a function, got {type(student_fn).__name__}"],
                      "Define overfit_test(model, x, y, steps, lr) in the exercise cell.")
    x, y = batch()
    evidence, ok = [], True

    healthy = make_model()
    true_initial = _loss(healthy, x, y)
    answer, problem = _answer(student_fn, healthy, x, y, steps, lr)
    if problem:
        return report(CHECK, False, [f"healthy model: {problem}"], "Fill in the four steps in the exercise cell.")
    true_final = _loss(healthy, x, y)

    if abs(answer["initial_loss"] - true_initial) > 0.05 * true_initial:
        ok = False
        evidence.append(f"initial_loss is {sig(answer['initial_loss'])}, but this model's loss before training is "
                        f"{sig(true_initial)}: measure it before the first optimizer step")
    else:
        evidence.append(f"initial loss {sig(answer['initial_loss'])}: measured before training")
    chance = math.log(N_CLASSES)
    if abs(answer["chance_loss"] - chance) > 0.01 * chance:
        ok = False
        evidence.append(f"chance_loss is {sig(answer['chance_loss'])}; a model that knows nothing about "
                        f"{N_CLASSES} classes has cross-entropy ln {N_CLASSES} = {sig(chance)}")
    else:
        evidence.append(f"chance level {sig(answer['chance_loss'])} = ln {N_CLASSES}")
    if true_final > 0.5 * true_initial:
        ok = False
        evidence.append(f"after your test the model's loss is still {sig(true_final)}: the test did not train "
                        "the model it was given on this batch")
    elif abs(answer["final_loss"] - true_final) > max(0.1 * true_final, 1e-4):
        ok = False
        evidence.append(f"final_loss is {sig(answer['final_loss'])}, but the model's loss after your test is "
                        f"{sig(true_final)}: report the loss of the trained model")
    else:
        evidence.append(f"healthy model trained to loss {below(true_final, 1e-3)}, as reported")
    if not answer["passed"]:
        ok = False
        evidence.append("your test says the healthy model failed: it memorises this batch, so the test should pass")
    else:
        evidence.append("healthy model: passed, as it should")

    stuck = make_stuck_model()
    answer, problem = _answer(student_fn, stuck, x, y, steps, lr)
    if problem:
        ok = False
        evidence.append(f"stuck model: {problem}")
    elif answer["passed"]:
        ok = False
        evidence.append(f"your test says a model that cannot learn passed (its loss stays at "
                        f"{sig(_loss(stuck, x, y))}): 'passed' must depend on the final loss")
    else:
        evidence.append(f"stuck model: failed, as it should (loss stays at {sig(_loss(stuck, x, y))})")

    return report(CHECK, ok, evidence,
                  "Measure the loss before training, train on this one batch only, then compare the final "
                  "loss with a small threshold.")
