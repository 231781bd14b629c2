"""Lab 00: the student writes the overfit test; this check tries it on models
whose answer we know.

The student's function ``overfit_test(model, x, y, steps, lr)`` must return a
dict with ``initial_loss``, ``chance_loss``, ``final_loss`` (numbers: floats,
NumPy scalars or one-value tensors) and ``passed`` (True or False, or a
one-value bool tensor). The check runs it on four cases:

1. a healthy classifier, which memorises the batch: the test must pass;
2. the same MLP with two hidden units, whose loss falls a long way but stays
   far above 0.01 (too narrow to memorise 32 digits): the test must fail, so
   "the loss fell" or "below half the chance level" is not a pass;
3. the healthy classifier on the batch with two rows repeated under another
   label: no model can go below 2 ln 2 / 16 = 0.0866 there, so a loose
   threshold (a tenth of the chance level, 0.1) is not a pass;
4. a classifier that cannot learn (its output goes through a ReLU whose
   units start dead, so every gradient is exactly zero): the test must fail.

On every case the reported initial and final losses must be the model's real
losses on the x, y given (before and after the call), and the chance level
ln 10: hard-coded numbers, a loss measured on another batch or after
training, or training a copy are caught there. Every call runs under a time
limit and a budget of ``steps`` backward passes through the model, so a loop
that trains "until the loss is small" is stopped with a message.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import data
from ..fmt import below, sig
from ..labs import BackwardCount, Stopped, call_student, report

CHECK = "overfit test"
N_CLASSES = 10
CHANCE = math.log(N_CLASSES)
REQUIRED_KEYS = ("initial_loss", "chance_loss", "final_loss", "passed")
MEMORISED = 0.01  # the lab's threshold: below it, the batch is memorised
REPEATED_ROWS = 2  # rows of the batch repeated under another label in case 3
TIME_LIMIT_S = 30  # for one call of the student's test; the official one takes well under a second
SAME_INITIAL = 1e-3  # relative: the loss before training is a few deterministic operations
SAME_FINAL = 0.1  # relative (or 1e-4 absolute): room for the loss of the last training step

HINT_FORM = ("Return a dict with initial_loss, chance_loss and final_loss as numbers (loss.item()) "
             "and passed as True or False.")
HINT_EMPTY = "Fill in the four steps in the exercise cell and return the dict."
HINT_STEPS = ("Train for exactly `steps` steps (for _ in range(steps)). A loop that runs until the loss is small "
              "never ends on a model that cannot memorise the batch.")
HINT_NO_BACKWARD = ("Nothing was trained in that time: call loss.backward() before each optimizer.step(), "
                    "and train for exactly `steps` steps.")
HINT_INITIAL = "Measure the loss on the x and y passed in, before the first optimizer step (under torch.no_grad())."
HINT_CHANCE = f"A model that knows nothing spreads its probability evenly over {N_CLASSES} classes: -ln(1/{N_CLASSES})."
HINT_FINAL = "Measure final_loss on the x and y passed in, with the trained model, after the last optimizer step."
HINT_TRAIN = "Train the model passed in, on the whole batch x, y: Adam(model.parameters(), lr=lr), `steps` steps."
HINT_WEAK = ("Your test trains the model, but not far enough to memorise the batch: use "
             "Adam(model.parameters(), lr=lr) for `steps` steps.")
HINT_AS_GIVEN = "Train with the lr and the number of steps your function is given, not more."
HINT_LOOSE = ("'passed' must mean the final loss is below a small threshold (0.01): a loss that fell, or one below "
              "a fraction of the chance level, is also what a model that cannot memorise the batch shows.")
HINT_STRICT = "The healthy model memorised the batch; compare the final loss with 0.01."
HINT_TOUCHED = "Change the model only through optimizer steps: do not re-initialise or edit its weights."


# --- the lab's batch and the models the check knows the answer for ------------------

def batch(n: int = 32):
    """The one batch the lab overfits: n standardised digits as torch tensors."""
    x, y = data.one_batch(n)
    return torch.from_numpy(x), torch.from_numpy(y)


def make_model(width: int = 64, seed: int = 0) -> nn.Sequential:
    """The model the lab gives: a small healthy MLP for 8x8 digits."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, N_CLASSES))


def make_narrow_model(seed: int = 1) -> nn.Sequential:
    """The lab's MLP with two hidden units: too narrow to memorise 32 digits of 10 classes.

    Measured over seeds 0-5 with Adam, AdamW, RMSprop or SGD with momentum at
    lr 1e-2 for 300 steps: its loss falls from about 2.4 to between 0.6 and
    1.2 (0.78 for this seed with Adam), and it labels about 70% of the batch
    right; plain SGD leaves it near 2. It never comes near 0.01.
    """
    return make_model(width=2, seed=seed)


def make_stuck_model(seed: int = 0) -> nn.Sequential:
    """The same MLP with a ReLU after the output layer whose units start dead.

    Every output is exactly 0 for every input, so the loss sits at ln 10 and
    every gradient is exactly zero: no optimizer can move it.
    """
    model = make_model(seed=seed)
    with torch.no_grad():
        model[2].bias.fill_(-100.0)
    return nn.Sequential(*model, nn.ReLU())


def repeated_rows_batch(x, y, repeats: int = REPEATED_ROWS):
    """(x, y) with its last ``repeats`` rows replaced by copies of its first ones, under another label.

    No model can tell a row from its copy, so the best it can do is give each
    of the two labels probability 1/2: the mean loss cannot go below
    ``loss_floor(repeats, len(y))``.
    """
    x, y = x.clone(), y.clone()
    for first in range(repeats):
        last = len(y) - 1 - first
        x[last] = x[first]
        if y[last] == y[first]:
            y[last] = (y[first] + 1) % N_CLASSES
    return x, y


def loss_floor(repeats: int, n: int) -> float:
    """The lowest mean cross-entropy on a batch of n rows where ``repeats`` rows repeat others under another label."""
    return 2 * repeats * math.log(2) / n


@dataclass
class Case:
    """A model and a batch whose right verdict the check knows."""

    name: str  # as the evidence names it
    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    should_pass: bool  # the right verdict of an overfit test
    can_learn: bool = True  # False: no optimizer step can move its loss


def cases(x, y) -> list:
    """The four cases of the check, in the order they run (each model with its own start)."""
    repeated_x, repeated_y = repeated_rows_batch(x, y)
    floor = loss_floor(REPEATED_ROWS, len(y))
    return [
        Case("healthy model", make_model(), x, y, True),
        Case("two hidden units (too narrow to memorise the batch)", make_narrow_model(), x, y, False),
        Case(f"{REPEATED_ROWS} digits repeated with another label (no model goes below {sig(floor)})",
             make_model(seed=3), repeated_x, repeated_y, False),
        Case("stuck model (every gradient is exactly zero)", make_stuck_model(), x, y, False, can_learn=False),
    ]


# --- calling the student's test --------------------------------------------------

def _loss(model, x, y) -> float:
    """The model's cross-entropy on (x, y); nan if the model no longer runs on it."""
    try:
        with torch.no_grad():
            return float(nn.functional.cross_entropy(model(x), y))
    except Exception:  # the student's code may have broken the model
        return math.nan


def _one_value(value):
    """A tensor or array holding one value -> that Python scalar; anything else unchanged (None if several)."""
    if isinstance(value, torch.Tensor):
        return value.detach().reshape(-1)[0].item() if value.numel() == 1 else None
    if isinstance(value, (np.ndarray, np.generic)):
        return value.reshape(-1)[0].item() if value.size == 1 else None
    return value


def _describe(value) -> str:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return f"a {type(value).__name__.lower()} of shape {tuple(value.shape)}"
    return repr(value) if isinstance(value, (str, bool, int, float)) else f"a {type(value).__name__}"


def _read_answer(answer):
    """The student's dict as floats and a bool: (numbers, None) or (None, what is wrong)."""
    expected = "it should return a dict with " + ", ".join(REQUIRED_KEYS)
    if answer is None:
        return None, f"overfit_test returned None: {expected}"
    if not isinstance(answer, Mapping):
        return None, f"overfit_test returned a {type(answer).__name__}; {expected}"
    missing = [k for k in REQUIRED_KEYS if k not in answer]
    if missing:
        return None, f"the dict has no {', '.join(missing)}"
    numbers = {}
    for key in REQUIRED_KEYS[:3]:
        value = _one_value(answer[key])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, (f"{key} must be one number (a float, loss.item(), or a tensor holding one value); "
                          f"got {_describe(answer[key])}")
        if not math.isfinite(value):
            return None, f"{key} must be a finite number, got {value}"
        numbers[key] = float(value)
    passed = _one_value(answer["passed"])
    if not isinstance(passed, bool):
        return None, (f"passed must be True or False (or a tensor holding one bool, like final_loss < 0.01); "
                      f"got {_describe(answer['passed'])}")
    numbers["passed"] = passed
    return numbers, None


def _run(student_fn, case: Case, steps: int, lr: float):
    """Call the student's test on one case: (reported, real losses, None) or (None, None, (problem, hint))."""
    initial = _loss(case.model, case.x, case.y)
    with BackwardCount(case.model, most=steps) as backwards:
        answer, problem = call_student("overfit_test", student_fn, case.model, case.x.clone(), case.y.clone(),
                                       steps=steps, lr=lr, limit_s=TIME_LIMIT_S)
    if backwards.count > steps:
        return None, None, (f"your test ran more than steps={steps} training steps (backward passes) and was stopped",
                            HINT_STEPS)
    if isinstance(problem, Stopped):  # the time limit
        if backwards.count == 0:
            return None, None, (f"{problem}, before any backward pass", HINT_NO_BACKWARD)
        return None, None, (f"{problem}, after {backwards.count} backward passes", HINT_STEPS)
    if problem:
        return None, None, (problem, "Fix the error in the exercise cell.")
    reported, problem = _read_answer(answer)
    if problem:
        return None, None, (problem, HINT_EMPTY if answer is None else HINT_FORM)
    return reported, (initial, _loss(case.model, case.x, case.y)), None


# --- reading what the student's test said ------------------------------------------

def _above(value: float, bound: float) -> str:
    """'> bound' if value is above bound, else the value to 3 significant figures."""
    return f"> {bound:g}" if value > bound else sig(value)


def _start_wrong(case: Case, reported, initial: float, final: float):
    """(evidence, hint) if the reported initial loss or chance level is not the real one, else None."""
    if not abs(reported["initial_loss"] - initial) <= SAME_INITIAL * initial:
        return (f"{case.name}: initial_loss is {sig(reported['initial_loss'])}, but its loss before training is "
                f"{sig(initial)}: measure it before the first optimizer step", HINT_INITIAL)
    if case.should_pass and abs(reported["chance_loss"] - CHANCE) > 0.01 * CHANCE:  # said once, on the first case
        return (f"chance_loss is {sig(reported['chance_loss'])}; a model that knows nothing about {N_CLASSES} "
                f"classes has cross-entropy ln {N_CLASSES} = {sig(CHANCE)}", HINT_CHANCE)
    return None


def _training_wrong(case: Case, steps: int, lr: float, initial: float, final: float):
    """(evidence, hint) if the model was not trained as asked, else None."""
    if math.isnan(final):
        return f"{case.name}: after your test the model no longer runs on the batch", HINT_TOUCHED
    if not case.can_learn and abs(final - initial) > 1e-4:
        return (f"{case.name}: its loss moved from {sig(initial)} to {sig(final)} during your test, though no "
                "optimizer step can move it: your test changed the model some other way (re-initialised it?)",
                HINT_TOUCHED)
    if case.should_pass and final > 0.5 * initial:
        return (f"{case.name}: after your test its loss on this batch is still {sig(final)} (it was {sig(initial)}): "
                "the test did not train the model it was given on this batch", HINT_TRAIN)
    if not case.should_pass and final < MEMORISED:
        return (f"{case.name}: after your test its loss is {sig(final)}, which Adam at lr={lr:g} for {steps} steps "
                "does not reach: train with the lr and steps given", HINT_AS_GIVEN)
    return None


def _final_wrong(case: Case, reported, initial: float, final: float):
    """(evidence, hint) if the reported final loss is not the model's real one, else None."""
    if not abs(reported["final_loss"] - final) <= max(SAME_FINAL * final, 1e-4):
        return (f"{case.name}: final_loss is {sig(reported['final_loss'])}, but its loss on the batch it was given "
                f"is {sig(final)} after your test: report the loss of the trained model", HINT_FINAL)
    return None


def _verdict_wrong(case: Case, steps: int, lr: float, initial: float, final: float):
    """(evidence, hint) if the test's verdict on this case is wrong, else None."""
    if case.should_pass:
        if final < MEMORISED:
            return (f"{case.name}: your test says it failed, but it memorised the batch (loss {below(final, 1e-3)} "
                    "after your test): the threshold is too strict", HINT_STRICT)
        return (f"{case.name}: your test says it failed; after your test its loss is {sig(final)}, but Adam at "
                f"lr={lr:g} for {steps} steps brings it below 0.001", HINT_WEAK)
    if not case.can_learn:
        return (f"{case.name}: your test says this model, which cannot learn, passed (its loss stays at "
                f"{sig(final)}): 'passed' must depend on the final loss", HINT_LOOSE)
    return (f"{case.name}: your test says it passed, but its loss only went from {sig(initial)} to {sig(final)}; "
            f"a model that memorised the batch is below {MEMORISED:g}", HINT_LOOSE)


def _verdict_right(case: Case, reported, initial: float, final: float) -> str:
    if case.should_pass:
        return (f"{case.name}: loss {sig(initial)} before training, chance level {sig(reported['chance_loss'])} "
                f"= ln {N_CLASSES}, trained to {below(final, 1e-3)} as reported; your test passed it, as it should")
    if not case.can_learn:
        return f"{case.name}: loss stays at {sig(final)}; your test failed it, as it should"
    return f"{case.name}: loss went from {sig(initial)} to {_above(final, 0.05)}; your test failed it, as it should"


def _what_is_wrong(case: Case, steps: int, lr: float, reported, real, problem):
    """(rank, evidence, hint) of the first thing wrong on this case, or None; rank 0 is the most basic."""
    if problem:
        return 0, f"{case.name}: {problem[0]}", problem[1]
    findings = (_start_wrong(case, reported, *real), _training_wrong(case, steps, lr, *real),
                _final_wrong(case, reported, *real),
                _verdict_wrong(case, steps, lr, *real) if reported["passed"] != case.should_pass else None)
    for rank, finding in enumerate(findings, start=1):
        if finding:
            return (rank, *finding)
    return None


def check_overfit_test(student_fn, steps: int = 300, lr: float = 1e-2):
    """Run the student's overfit test on the four cases; pass only if every verdict and number is right."""
    if not callable(student_fn):
        return report(CHECK, False, [f"expected a function, got {type(student_fn).__name__}"],
                      "Define overfit_test(model, x, y, steps, lr) in the exercise cell.")
    x, y = batch()
    evidence, wrongs = [], []
    for case in cases(x, y):
        reported, real, problem = _run(student_fn, case, steps, lr)
        if problem and case.should_pass:  # no verdict to read: say why and stop here
            return report(CHECK, False, [f"{case.name}: {problem[0]}"], problem[1])
        wrong = _what_is_wrong(case, steps, lr, reported, real, problem)
        if wrong:
            wrongs.append(wrong)
            evidence.append(wrong[1])
        else:
            evidence.append(_verdict_right(case, reported, *real))
    hint = min(wrongs, key=lambda wrong: wrong[0])[2] if wrongs else ""  # the most basic problem first
    return report(CHECK, not wrongs, evidence, hint)
