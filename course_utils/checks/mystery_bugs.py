"""Check for the mystery-bugs lab (lesson 06): five short training scripts, each with a bug.

Each script is a function the student fixes. ``check_mysteries(...)`` runs
every one and decides with the course's own instruments, not by reading the
code, so a hard-coded answer cannot pass:

- scripts that return a setup (model, x, y, loss, optimizer) are run through
  ``diagnose``; the script is fixed when its bug's code is gone, the report
  has no other finding, the targets are still the script's own data, and the
  model memorises the batch;
- the loop script is run under ``watch`` on a fresh model: fixed when the
  gradients are reset between steps and the loss has fallen.

The check never raises on a student's answer: any exception, wrong type or
wrong data is "not fixed yet", with the reason.
"""
from __future__ import annotations

import numpy as np

from ..labs import report

# mystery name -> (the code its bug produces, a hint)
MYSTERIES = {
    "mystery_a": ("softmax-before-crossentropy", "read the report's output check: what does the loss do to the model's output?"),
    "mystery_b": ("gradients-accumulate", "what happens to .grad between two optimizer steps?"),
    "mystery_c": ("linear-stack", "the report has more than one finding: read the evidence of each"),
    "mystery_d": ("degenerate-batchnorm", "how many values does the BatchNorm normalise over?"),
    "mystery_e": ("output-cannot-reach-target", "compare the output activation with the targets' range"),
}
ALSO = {"mystery_c": ("unscaled-inputs",)}


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
    from ..fmt import sig
    from ..frameworks import framework_of

    adapter_class = TorchAdapter if framework_of(setup["model"]) == "torch" else KerasAdapter
    adapter = adapter_class(setup["model"], setup["x"], setup["y"], setup["loss"], setup.get("optimizer"))
    model = adapter.copy()
    run = adapter.train(model, adapter.optimizer_for(model), steps)
    return (f"loss on its own batch of {len(setup['y'])}: {sig(run.initial_loss)} before training, "
            f"{sig(run.final_loss, 2)} after {steps} steps of its optimizer")


def _same_targets(name, y) -> bool:
    """Every target row comes from the script's own data (a subset, maybe re-ordered)."""
    from ..frameworks import to_numpy

    _, y0 = data(name)
    y = np.asarray(to_numpy(y))
    if len(y) < 1:
        return False
    rows = {np.asarray(r, dtype=np.float64).tobytes() for r in np.asarray(y0, dtype=np.float64).reshape(len(y0), -1)}
    return all(np.asarray(r, dtype=np.float64).tobytes() in rows for r in y.astype(np.float64).reshape(len(y), -1))


def _judge_setup(name, script) -> tuple:
    from ..diagnosis import diagnose

    setup = script()
    if not isinstance(setup, dict) or not {"model", "x", "y", "loss"} <= set(setup):
        return False, "the script must return a dict with model, x, y, loss (and optimizer)"
    if not _same_targets(name, setup["y"]):
        return False, "y must be rows of the script's own targets (keep its data)"
    rep = diagnose(setup["model"], setup["x"], setup["y"], setup["loss"], optimizer=setup.get("optimizer"))
    code = MYSTERIES[name][0]
    bugs = [code, *ALSO.get(name, ())]
    left = [c for c in bugs if c in rep.codes]
    if left:
        return False, f"diagnose still reports {', '.join(left)}"
    if len(setup["y"]) < 8:
        return False, f"a batch of {len(setup['y'])}: too few samples to tell whether the model learns"
    other = [c for c in rep.codes if c != "too-few-steps"]
    if other:
        return False, f"the bug is gone but diagnose now reports {', '.join(other)}"
    return True, "diagnose: clean" + (" (the probe's loss was still falling)" if rep.codes else "")


def _judge_loop(name, script) -> tuple:
    import torch
    from torch import nn

    from ..diagnosis import watch

    x, y = data(name)
    x, y = torch.from_numpy(x), torch.from_numpy(y).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    with watch(model, optimizer=optimizer, every=5) as w:
        losses = script(model, optimizer, x, y, 60)
    rep = w.report()
    if "gradients-accumulate" in rep.codes:
        return False, "watch: .grad still holds the previous step's gradient when backward() adds the next"
    try:
        losses = [float(v) for v in losses]
    except TypeError:
        return False, "the training function must return its list of losses"
    if len(losses) < 10 or not all(np.isfinite(losses)):
        return False, f"{len(losses)} losses recorded (need 60, all finite)"
    if not losses[-1] < 0.7 * losses[0]:
        return False, f"loss {losses[0]:.3g} -> {losses[-1]:.3g}: it should fall by at least 30%"
    return True, "watch: gradients reset every step; the loss fell by more than 30%"


def check_mysteries(**scripts):
    """check_mysteries(mystery_a=..., ..., mystery_e=...): which scripts are fixed."""
    evidence, fixed = [], 0
    hints = []
    for name in MYSTERIES:
        script = scripts.get(name)
        if not callable(script):
            evidence.append(f"{name}: not fixed yet - no function given")
            hints.append(MYSTERIES[name][1])
            continue
        try:
            ok, why = (_judge_loop if name == "mystery_b" else _judge_setup)(name, script)
        except Exception as error:  # noqa: BLE001  (a student's exception is an answer, not a crash)
            ok, why = False, f"the script raised {type(error).__name__}: {error}"
        fixed += ok
        evidence.append(f"{name}: {'fixed' if ok else 'not fixed yet'} - {why}")
        if not ok:
            hints.append(f"{name}: {MYSTERIES[name][1]}")
    evidence.insert(0, f"{fixed} of {len(MYSTERIES)} scripts fixed")
    return report("mystery bugs", fixed == len(MYSTERIES), evidence, "; ".join(hints))
