"""Lesson 07 ("The loss and the output disagree"): the forum's data, the family's runs, their table, the panel.

The notebook keeps what a student must read: the asker's model and loop with
its ``mse(out, y)`` line, and the family of mismatches as a dictionary of
output heads and losses (the buggy line of each, then its fix). This module
holds what those cells use:

- ``asker_data``: the forum's 1024 points in [0, 1)^3 and their sum;
- ``bias_free_floor(x, y)``: the lowest loss the asker's bias-free linear model can reach when every output
  is compared with every target (computed by least squares, in float64);
- ``digits_targets``: one batch of 64 digits with four kinds of target (class, value, odd, three tags);
- ``run_case`` / ``CaseRun`` / ``family_table``: one output head and loss trained on the batch, measured with
  ``read_outputs`` before and after, and the table of them all;
- ``FamilyPanel``: the "Explore" panel's wiring.

Shapes: x (64, 64) standardised pixels; the targets' shapes are the loss's own (see ``digits_targets``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import data
from ..fmt import below, sig
from ..instruments import grad_norms
from ..instruments.outputs import read_outputs
from ..repro import seed as seed_everything
from ..training.torch_loop import train_torch

HIDDEN = 32  # the trunk every head of the family sits on: 64 -> 32 -> ReLU
STEPS, LR = 200, 1e-2  # Adam, full batch: the healthy heads reach a loss below 1e-3 in this many steps (printed: < 0.01)


def asker_data(n: int = 1024, seed: int = 0):
    """The forum's data: x (n, 3) uniform in [0, 1), y (n,) the sum of each row (float32 tensors)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((n, 3), generator=generator)
    return x, x.sum(dim=1)


def bias_free_floor(x, y) -> tuple:
    """(variance of y, the floor) for a bias-free linear model whose every output meets every target.

    The broadcast loss is mean_i (x_i.w - mean(y))^2 + var(y): the model must put every output at the
    targets' mean, and without a bias the best it can do is the least-squares fit of that constant.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    target = np.full(len(x), y.mean())
    w, *_ = np.linalg.lstsq(x, target, rcond=None)
    return float(y.var()), float(y.var() + np.mean((x @ w - target) ** 2))


def distinct_warnings(caught) -> list:
    """The different messages among warnings caught with ``warnings.catch_warnings(record=True)``."""
    return list(dict.fromkeys(str(w.message) for w in caught))


def digits_targets(n: int = 64):
    """One batch of n digits and four targets for it: x (n, 64) float32 and a dict of
    class (n,) int64, value (n,) float32 (the digit as a number), odd (n, 1) float32 and
    tags (n, 3) float32: even, five or more, has a closed loop (0, 6, 8, 9)."""
    x, digit = data.one_batch(n)
    x = torch.as_tensor(x, dtype=torch.float32)
    digit = torch.as_tensor(digit).long()
    loops = torch.isin(digit, torch.tensor([0, 6, 8, 9]))
    tags = torch.stack([digit % 2 == 0, digit >= 5, loops], dim=1).float()
    return x, {"class": digit, "value": digit.float(), "odd": (digit % 2).float().unsqueeze(1), "tags": tags}


def trunk_with(head, seed: int = 0) -> nn.Module:
    """64 -> 32 -> ReLU, then ``head()`` (a factory of the module that maps 32 features to the outputs).

    Seeded before anything is built, so a head's initial weights do not depend on what ran before.
    """
    seed_everything(seed)
    trunk = [nn.Linear(64, HIDDEN), nn.ReLU()]
    return nn.Sequential(*trunk, head())


@dataclass
class CaseRun:
    """One head and loss, trained on the digits batch: readings before and after, zero-gradient layers."""

    name: str
    before: object  # OutputReading of the untrained model
    after: object  # OutputReading after training
    zero_layers: int  # layers whose gradient is exactly 0 at the start
    layers: int
    run: object  # the TrainingRun
    model: nn.Module

    @property
    def reached(self) -> float:
        return float(np.min(self.run.losses))

    def describe(self) -> str:
        floor = self.before.floor
        text = f"{self.name}: loss {sig(self.run.losses[0])} -> {sig(self.run.losses[-1])}"
        if floor is not None and np.isfinite(floor):
            text += f"; floor {sig(floor)} computed from the targets"
        if self.reached < 0:
            text += "; the loss went below 0, which no cross-entropy can"
        return text + f"; exactly-zero gradients in {self.zero_layers}/{self.layers} layers at the start"


def run_case(name, head, loss, x, y, steps: int = STEPS, lr: float = LR, seed: int = 0, on_sample=None) -> CaseRun:
    """Train the trunk with ``head`` (a module factory) on (x, y) with ``loss``; Adam, full batch."""
    model = trunk_with(head, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcast warning: the reading reports it in numbers
        before = read_outputs(model(x), y, loss)
        norms = grad_norms(model, x, y, loss)
        run = train_torch(model, x, y, loss, torch.optim.Adam(model.parameters(), lr=lr), steps=steps,
                          sample_every=max(steps // 10, 1), on_sample=on_sample)
        after = read_outputs(model(x), y, loss)
    zero = sum(value == 0 for value in norms.values())
    return CaseRun(name, before, after, zero, len(norms), run, model)


def floor_text(floor) -> str:
    if floor is None:
        return "none"
    return "-inf (no floor)" if floor == -np.inf else sig(floor)


def reached_text(run: CaseRun) -> str:
    """The lowest loss reached, as a fact that survives another CPU: its gap to the floor, or a bound."""
    floor, reached = run.before.floor, run.reached
    if floor is not None and np.isfinite(floor):
        gap = reached - floor
        return "below the floor?!" if gap < -1e-6 else f"floor + {below(gap, 0.01)}"  # gaps are ~1e-4 here
    if reached < 0:
        return f"< 0 ({'< -100' if reached < -100 else sig(reached, 2)})"
    return below(reached, 0.01)


def family_table(runs) -> str:
    """One line per CaseRun: what the outputs look like, the floor, what training reached, zero gradients."""
    rows = [("case", "outputs (untrained)", "floor", f"lowest loss in {runs[0].run.steps_done} steps", "zero-grad layers")]
    for r in runs:
        rows.append((r.name, r.before.looks_like.split(" (")[0].split(":")[0], floor_text(r.before.floor),
                     reached_text(r), f"{r.zero_layers}/{r.layers}"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


# --- the "Explore" panel -------------------------------------------------------------------

class FamilyPanel:
    """Wiring for cu.Panel: one mismatch of the family at a time, broken or fixed, retrained on the digits batch.

    cases: name -> (broken, fixed), each (head factory, loss, target name in ``digits_targets``).
    """

    MAX_STEPS = 1000

    def __init__(self, cases: dict):
        self.cases = cases
        self.x, self.targets = digits_targets()

    def check(self, values) -> str | None:
        if values["steps"] > self.MAX_STEPS:
            return f"{values['steps']} steps would take more than a few seconds; at most {self.MAX_STEPS}"
        return None

    def train(self, values, progress) -> CaseRun:
        broken, fixed = self.cases[values["case"]]
        head, loss, target = fixed if values["fixed"] else broken
        label = ("fixed: " if values["fixed"] else "broken: ") + values["case"]
        return run_case(label, head, loss, self.x, self.targets[target], steps=int(values["steps"]),
                        lr=float(values["lr"]), on_sample=progress.on_sample(int(values["steps"])))

    @staticmethod
    def draw(fig, result, values):
        """The loss per step and the floor; ``result`` is a CaseRun, or the TrainingRun so far while training."""
        ax = fig.subplots()
        run = getattr(result, "run", result)
        losses = np.asarray(run.losses, dtype=float)
        ax.plot(np.arange(1, len(losses) + 1), losses, label="training loss")
        floor = result.before.floor if isinstance(result, CaseRun) else None
        if floor is not None and np.isfinite(floor):
            ax.axhline(floor, color="tab:red", linestyle="--", linewidth=1, label=f"floor {sig(floor)}")
        if np.all(losses > 0):
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(getattr(result, "name", values["case"]), fontsize=9)
        ax.legend(fontsize=8)
