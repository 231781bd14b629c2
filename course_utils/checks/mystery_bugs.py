"""Check for the mystery-bugs lab (lesson 06): five short training scripts, each with a bug.

Each script is a function the student fixes. ``check_mysteries(...)`` runs
every one and decides from measurements, never from the code, so a
hard-coded answer cannot pass:

- a script that returns a setup (model, x, y, loss, optimizer) is run through
  ``diagnose``. It is fixed when its bug's finding is gone, the report has no
  other finding, and x and y are still the script's own data, row for row
  (mystery C may rescale each feature of x; the targets never change);
- the loop script (B) trains the check's own model on the check's own data,
  under ``watch``. It is fixed when ``.grad`` is reset before every
  ``backward()``, it steps the optimizer it was given once per step, the
  losses it returns are the model's real losses, and the model's loss,
  measured again after the loop, has fallen by at least 30%.

Every call into the student's code (the script, the diagnosis of its model,
the loop) runs under a time limit. The check never raises on a student's
answer: an exception, a wrong type, changed data or a limit that was hit is
"not fixed yet", with what happened and a hint that follows from it.
"""
from __future__ import annotations

import numpy as np

from ..fmt import sig
from ..labs import BackwardCount, StepLimit, Stopped, call_student, report

CHECK_NAME = "mystery bugs"
TIME_LIMIT_S = 60  # for each call into the student's code (a script, the diagnosis of its model, the loop)
LOOP_STEPS = 60  # steps the loop check asks for
LOOP_FALL = 0.7  # the model's loss must end below this fraction of where it started
SAME_FIRST_LOSS = 0.02  # relative: the loop's first loss is the untrained model's loss
SAME_LAST_LOSS = 0.1  # relative: its last loss is within one step of the trained model's loss

# mystery name -> the finding its bug produces (mystery C has two bugs)
MYSTERIES = {
    "mystery_a": ("softmax-before-crossentropy",),
    "mystery_b": ("gradients-accumulate",),
    "mystery_c": ("linear-stack", "unscaled-inputs"),
    "mystery_d": ("degenerate-batchnorm",),
    "mystery_e": ("output-cannot-reach-target",),
}
# a finding that is still there -> a question that points at its cause, not at the fix
HINTS = {
    "softmax-before-crossentropy": "what does the loss do to the model's output before it compares it with the labels?",
    "gradients-accumulate": "what happens to .grad between two optimizer steps?",
    "linear-stack": "what sits between the layers with weights? With nothing there they compose into one linear map",
    "unscaled-inputs": "at what scale are the values the first layer receives?",
    "degenerate-batchnorm": "how many values does the BatchNorm normalise over?",
    "output-cannot-reach-target": "compare the output activation's range with the targets' range",
}
RESCALED_X = ("mystery_c",)  # scripts whose bug is the scale of x: each feature may be rescaled


def data(name: str):
    """The data of each script (the same for the lab, the solution and the check)."""
    rng = np.random.default_rng({"mystery_a": 1, "mystery_b": 2, "mystery_c": 3, "mystery_d": 4, "mystery_e": 5}[name])
    if name in ("mystery_a", "mystery_b"):
        return rng.normal(size=(48, 12)).astype("float32"), rng.integers(0, 4, 48)
    if name == "mystery_c":
        x = (300.0 + 40.0 * rng.normal(size=(40, 5))).astype("float32")
        return x, rng.integers(0, 3, 40)
    if name == "mystery_d":
        return rng.normal(size=(24, 8)).astype("float32"), rng.normal(size=(24, 2)).astype("float32")
    x = rng.normal(size=(36, 6)).astype("float32")
    return x, (x[:, :1] - 0.5 * x[:, 1:2] - 0.3).astype("float32")


def symptom(setup: dict, steps: int = 100) -> str:
    """What a script's own optimizer does to the loss of its batch (on a copy): the symptom, not the cause."""
    from ..diagnosis.adapters import KerasAdapter, TorchAdapter
    from ..frameworks import framework_of

    adapter_class = TorchAdapter if framework_of(setup["model"]) == "torch" else KerasAdapter
    adapter = adapter_class(setup["model"], setup["x"], setup["y"], setup["loss"], setup.get("optimizer"))
    model = adapter.copy()
    run = adapter.train(model, adapter.optimizer_for(model), steps)
    return (f"loss on its own batch of {len(setup['y'])}: {sig(run.initial_loss)} before training, "
            f"{sig(run.final_loss, 2)} after {steps} steps of its optimizer")


# --- the script's own data ------------------------------------------------------

def _rows(value):
    """``value`` (NumPy, torch, TensorFlow, a list) as float64 rows (n, values per row); None if it is not numbers."""
    from ..frameworks import to_numpy

    try:
        array = np.asarray(to_numpy(value), dtype=np.float64)
    except Exception:  # noqa: BLE001  (a string, a ragged list, a model...)
        return None
    return array.reshape(len(array), -1) if array.ndim >= 1 else None


def _feature_rescaled(mine, theirs) -> bool:
    """``mine`` is ``theirs`` times a factor plus an offset (a standardisation, a min-max scaling...)."""
    if np.ptp(mine) == 0:
        return False
    return abs(float(np.corrcoef(mine, theirs)[0, 1])) > 0.999  # float16 rounding stays far above this


def data_changed(name, x, y):
    """What differs between the student's x, y and the script's own data, row for row; None if nothing."""
    for what, mine, theirs in (("y", y, data(name)[1]), ("x", x, data(name)[0])):
        rows, own = _rows(mine), _rows(theirs)
        if rows is None:
            return f"{what} is not an array of numbers (got {type(mine).__name__})"
        if len(rows) != len(own):
            return f"{what} has {len(rows)} rows, the script's data has {len(own)}: every row must stay"
        if rows.shape[1] != own.shape[1]:
            return f"each row of {what} holds {rows.shape[1]} values, the script's holds {own.shape[1]}"
        if what == "x" and name in RESCALED_X:
            moved = [j for j in range(own.shape[1]) if not _feature_rescaled(rows[:, j], own[:, j])]
            if moved:
                return (f"x feature {moved[0]} is not the script's feature {moved[0]}, rescaled "
                        f"({len(moved)} of {own.shape[1]} features are something else)")
            continue
        differ = ~np.all(np.isclose(rows, own, rtol=2e-3, atol=1e-3), axis=1)
        if differ.any():
            return (f"{what} differs from the script's own {what} in {int(differ.sum())} of {len(own)} rows "
                    f"(first: row {int(np.argmax(differ))})")
    return None


def _keep_data_hint(name):
    rescale = " (you may rescale each feature of x)" if name in RESCALED_X else ""
    return (f"keep the script's data: every row of data(\"{name}\"), in order, targets unchanged{rescale}; "
            "the bug is in the model, the loss or the loop")


# --- scripts that return a setup (A, C, D, E) ---------------------------------------

def _judge_setup(name, script, limit_s=TIME_LIMIT_S):
    """(fixed, evidence, hint) for a script that returns dict(model, x, y, loss, optimizer)."""
    from ..diagnosis import diagnose

    setup, error = call_student(f"{name}()", script, limit_s=limit_s)
    if error:
        return False, error, (f"{name}() only builds a setup: it should return within a second"
                              if isinstance(error, Stopped)
                              else f"run {name}() in a cell and read the error")
    if not isinstance(setup, dict) or not {"model", "x", "y", "loss"} <= set(setup):
        return (False, f"{name}() returned {type(setup).__name__}, not a dict with model, x, y, loss (and optimizer)",
                "return dict(model=..., x=..., y=..., loss=..., optimizer=...) as the script did")
    changed, error = call_student(f"reading {name}()'s x and y", data_changed, name, setup["x"], setup["y"],
                                  limit_s=limit_s)
    if error:
        return False, error, _keep_data_hint(name)
    rep, error = call_student(f"diagnose(**{name}())", diagnose, setup["model"], setup["x"], setup["y"],
                              setup["loss"], optimizer=setup.get("optimizer"), limit_s=limit_s)
    if error and changed:
        return False, changed, _keep_data_hint(name)
    if error:
        return False, error, ("the model takes too long: look for what in its forward pass does not finish"
                              if isinstance(error, Stopped) else f"run diagnose(**{name}()) in a cell and read the error")
    left = [code for code in MYSTERIES[name] if rep.mentions(code)]  # a note counts: the bug is still there
    if left:
        as_notes = [code for code in left if code not in rep.codes]
        return (False, f"diagnose still reports {', '.join(left)}"
                + (f" ({', '.join(as_notes)} as a note: the model fits anyway, the cause is still there)"
                   if as_notes else ""), "; ".join(HINTS[code] for code in left))
    if changed:
        return False, changed, _keep_data_hint(name)
    other = [code for code in rep.codes if code != "too-few-steps"]
    if other:
        return (False, f"the bug is gone but diagnose now reports {', '.join(other)}",
                f"run diagnose(**{name}()) and read the evidence of {', '.join(other)}")
    return True, "diagnose: clean" + (" (the probe's loss was still falling)" if rep.codes else ""), ""


# --- the loop script (B) -----------------------------------------------------------

def _loop_data(name):
    import torch

    x, y = data(name)
    return torch.from_numpy(x), torch.from_numpy(y).long()


def _loss_now(model, x, y) -> float:
    import torch

    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(x), y))


def _run_loop(name, script, steps, limit_s):
    """Train the check's own model with the student's loop, watched; what happened, measured."""
    from types import SimpleNamespace

    import torch
    from torch import nn

    from ..diagnosis import watch

    x, y = _loop_data(name)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    before = _loss_now(model, x, y)

    def train_and_measure():  # the student gets copies: x and y stay the check's
        return script(model, optimizer, x.clone(), y.clone(), steps), _loss_now(model, x, y)

    with StepLimit(optimizer, most=4 * steps) as step_limit, BackwardCount(model) as backwards, \
            watch(model, optimizer=optimizer, every=5) as w:
        answer, error = call_student(f"{name}(model, optimizer, x, y, {steps})", train_and_measure,
                                     limit_s=limit_s)
    losses, after = answer or (None, None)
    return SimpleNamespace(losses=losses, error=error, stopped=isinstance(error, Stopped), before=before,
                           after=after, steps=step_limit.steps, backwards=backwards.count, codes=w.report().codes)


def _judge_loop(name, script, limit_s=TIME_LIMIT_S, steps=LOOP_STEPS):
    """(fixed, evidence, hint) for the training loop: the check's model and data, watched."""
    run = _run_loop(name, script, steps, limit_s)
    if run.error:
        return False, run.error, (f"the loop must stop after {steps} optimizer steps" if run.stopped
                                  else f"run {name}'s cell and the cell under it, and read the error")
    if "gradients-accumulate" in run.codes:
        return (False, "watch: .grad still holds the previous step's gradient when backward() adds the next",
                HINTS["gradients-accumulate"])
    if run.steps != steps:
        return (False, f"the loop stepped the optimizer it was given {run.steps} times, not {steps}",
                "train with the model and optimizer the function receives: one optimizer.step() per step")
    if run.backwards == 0:
        return (False, "the loop never called backward(): no gradient reached the model's weights",
                "each step needs the gradient of its loss before optimizer.step()")
    if "zero-gradients" in run.codes:
        return (False, "watch: .grad was exactly 0 whenever optimizer.step() ran, so no step moved the weights",
                "clear .grad before backward(), not between backward() and optimizer.step()")
    try:
        losses = [float(value) for value in run.losses]
    except (TypeError, ValueError):
        return (False, f"the loop returned {type(run.losses).__name__}, not its list of losses",
                "append each step's loss.item() to a list and return the list")
    finite = bool(np.all(np.isfinite(losses)))
    if len(losses) != steps or not finite:
        return (False, f"{len(losses)} losses returned for {steps} steps" + ("" if finite else ", some not finite"),
                "append each step's loss.item() to a list and return the list")
    before, after = run.before, run.after
    first_ok = abs(losses[0] - before) <= SAME_FIRST_LOSS * before
    last_ok = abs(losses[-1] - after) <= SAME_LAST_LOSS * max(after, losses[-1])
    if not (first_ok and last_ok):
        return (False, f"the losses returned ({sig(losses[0])} first, {sig(losses[-1])} last) are not the model's: "
                       f"its loss was {sig(before)} before the loop and is {sig(after)} after it",
                "return each step's loss as the loop computed it, on the x and y the function receives")
    if not after < LOOP_FALL * before:
        return (False, f"the model's loss went from {sig(before)} to {sig(after)}: it should fall by at least "
                       f"{1 - LOOP_FALL:.0%}",
                "keep the loop's training as it was: its loss, the optimizer and its settings as given, every step")
    return (True, f"watch: .grad was reset between all {steps} optimizer steps; the model's loss, measured "
                  f"again after the loop, fell by more than {1 - LOOP_FALL:.0%}", "")


def check_mysteries(*, time_limit_s: float = TIME_LIMIT_S, **scripts):
    """check_mysteries(mystery_a=..., ..., mystery_e=...): which scripts are fixed.

    time_limit_s: the limit of each call into the student's code (a script, the diagnosis of its model, the loop).
    """
    evidence, hints, fixed = [], [], 0
    for name in MYSTERIES:
        script = scripts.get(name)
        if not callable(script):
            ok, why, hint = False, "no function given", f"pass your function: check_mysteries({name}={name}, ...)"
        else:
            judge = _judge_loop if name == "mystery_b" else _judge_setup
            ok, why, hint = judge(name, script, time_limit_s)
        fixed += ok
        evidence.append(f"{name}: {'fixed' if ok else 'not fixed yet'} - {why}")
        if not ok:
            hints.append(f"{name}: {hint}")
    evidence.insert(0, f"{fixed} of {len(MYSTERIES)} scripts fixed")
    return report(CHECK_NAME, fixed == len(MYSTERIES), evidence, "; ".join(hints))
