"""Lesson 08 ("The weights never move"): made-up names in four languages, the asker's character RNN,
the family of loops that never move the weights, and the panel wiring.

- ``name_data()``: names from four invented languages, one-hot encoded: x (n, 9, 26), zero rows pad
  a name shorter than 9 letters; y (n,), the language index 0..3;
- ``NameRNN``: the tutorial's RNN cell (i2h and i2o over the letter and the hidden state, log-softmax
  out) run over a whole batch of padded names, with an optional dropout on [letter, hidden];
- ``overfit_case(**switches)``: one batch trained with one of the family's bugs switched on; the
  record (``CaseRun``) holds the losses, the update ratio per layer, what the optimizer held and
  what ``.grad`` held;
- ``family_table(runs)``, ``explore_panel()``: the comparison table and the "Explore" panel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..fmt import sig
from ..instruments.updates import grad_states, optimizer_coverage, ratios_since, regularised_loss, snapshot

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_LETTERS = 9
# language -> (letters it favours, its usual endings): invented, so nothing is downloaded
LANGUAGES = {
    "Aurelian": ("aeilmnorstu", ("o", "a", "i")),
    "Borvic": ("bdgkrvzoai", ("ic", "ov", "ak")),
    "Celyth": ("cehlnwyth", ("yth", "wen", "el")),
    "Dumari": ("dmakhsiu", ("ari", "am", "uk")),
}
OWN_LETTERS = 0.75  # share of a name's letters drawn from its language's favourites


def make_names(n: int, seed: int) -> list:
    """``n`` (name, language index) pairs, the languages in turn; 2 to 5 letters and an ending."""
    rng = np.random.default_rng(seed)
    names = []
    for i in range(n):
        k = i % len(LANGUAGES)
        own, endings = list(LANGUAGES.values())[k]
        letters = [rng.choice(list(own)) if rng.random() < OWN_LETTERS else rng.choice(list(LETTERS))
                   for _ in range(rng.integers(2, 6))]
        names.append(("".join(letters) + endings[rng.integers(len(endings))], k))
    return names


def encode(names) -> tuple:
    """One-hot letters x (n, 9, 26), zero rows after the name's end, and languages y (n,)."""
    x = torch.zeros(len(names), MAX_LETTERS, len(LETTERS))
    for i, (name, _) in enumerate(names):
        for t, letter in enumerate(name[:MAX_LETTERS]):
            x[i, t, LETTERS.index(letter)] = 1.0
    return x, torch.tensor([k for _, k in names])


def name_data(n_train: int = 800, n_test: int = 400):
    """(x_train, y_train, x_test, y_test, train names): the lesson's data, the same on every machine."""
    train, test = make_names(n_train, seed=0), make_names(n_test, seed=1)
    return (*encode(train), *encode(test), train)


class NameRNN(nn.Module):
    """The tutorial's RNN: at each letter, i2h and i2o read [letter, hidden]; the last letter's i2o output,
    log-softmaxed, scores the languages. x: (n, 9, 26) padded one-hot names -> (n, 4) log-probabilities."""

    def __init__(self, n_letters: int = 26, n_hidden: int = 32, n_languages: int = 4, dropout: float = 0.0):
        super().__init__()
        self.n_hidden = n_hidden
        self.i2h = nn.Linear(n_letters + n_hidden, n_hidden)
        self.i2o = nn.Linear(n_letters + n_hidden, n_languages)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        hidden = x.new_zeros(len(x), self.n_hidden)
        output = None
        for t in range(x.shape[1]):
            letter = x[:, t]
            both = self.drop(torch.cat([letter, hidden], dim=1))
            going = letter.sum(dim=1, keepdim=True) > 0        # this name still has letters
            new_output = self.i2o(both)
            hidden = torch.where(going, self.i2h(both), hidden)
            output = new_output if output is None else torch.where(going, new_output, output)
        return F.log_softmax(output, dim=1)


def accuracy(model: nn.Module, x, y) -> float:
    """Share of names whose highest-scoring language is theirs (inference mode)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        right = (model(x).argmax(dim=1) == y).double().mean().item()
    model.train(was)
    return right


# --- the family: one batch, one bug at a time ------------------------------------------------

OVERFIT_BATCH = 16
OVERFIT_STEPS = 150
OVERFIT_LR = 0.02
MEMORISED = 0.05  # a healthy run ends below this loss on its one batch (it reaches about 0.002)
LOSS_FLOOR = 0.1  # a run that moved but ends above this has not memorised its batch
MAX_DROPOUT = 0.9
MAX_DECAY = 1.0


@dataclass
class CaseRun:
    """One batch trained with some of the family's bugs on.

    losses: the training-mode loss at every step; ratios: per layer, ||w_end - w_start|| / ||w_start||
    (exactly 0 for a layer nothing moved); coverage, grads: what the optimizer held and what .grad held
    after the last backward; clean_loss: the final loss in inference mode with the weight-decay term left out;
    model: the trained network.
    """

    losses: list = field(default_factory=list)
    ratios: dict = field(default_factory=dict)
    coverage: object = None
    grads: object = None
    clean_loss: float = math.nan
    diverged_at: int | None = None
    switches: dict = field(default_factory=dict)
    model: nn.Module | None = None

    @property
    def last_losses(self) -> float:
        """The training-mode loss at the end: the mean of the last 20 steps (dropout makes it noisy)."""
        return float(np.mean(self.losses[-20:]))

    @property
    def memorised(self) -> bool:
        """What the overfit test reads: the training-mode loss ended below MEMORISED."""
        return self.last_losses < MEMORISED

    def describe(self) -> str:
        """One line for the panel's status."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}: the loss was not finite"
        moved = ", ".join(f"{name} {'0' if r == 0 else sig(r, 2)}" for name, r in self.ratios.items())
        return (f"loss {sig(self.losses[0])} -> {sig(self.losses[-1])} (inference mode {sig(self.clean_loss)}); "
                f"weights moved: {moved}; {self.coverage}")


def overfit_case(freeze=False, wrong_optimizer=False, skip_step=False, detach_loss=False, dropout=0.0,
                 weight_decay=0.0, steps=OVERFIT_STEPS, seed=0, on_step=None) -> CaseRun:
    """Train a NameRNN on one batch of 16 names with Adam (lr 0.02) and the chosen bugs; a CaseRun.

    freeze: requires_grad=False on every parameter after the optimizer is built; wrong_optimizer: the
    optimizer is built over an earlier NameRNN; skip_step: optimizer.step() is never called;
    detach_loss: the loss is rebuilt as torch.tensor(loss.item(), requires_grad=True);
    dropout, weight_decay: regularisers left on (clamped to [0, 0.9] and [0, 1]).
    on_step(run, step): called every 10 steps (the panel's progress).
    """
    dropout = min(max(float(dropout), 0.0), MAX_DROPOUT)
    weight_decay = min(max(float(weight_decay), 0.0), MAX_DECAY)
    x_all, y_all, *_ = name_data()
    x, y = x_all[:OVERFIT_BATCH], y_all[:OVERFIT_BATCH]
    torch.manual_seed(seed)
    earlier = NameRNN(dropout=dropout)
    model = NameRNN(dropout=dropout)
    optimizer = torch.optim.Adam((earlier if wrong_optimizer else model).parameters(), lr=OVERFIT_LR,
                                 weight_decay=weight_decay)
    if freeze:
        model.requires_grad_(False)
    run = CaseRun(switches=dict(freeze=freeze, wrong_optimizer=wrong_optimizer, skip_step=skip_step,
                                detach_loss=detach_loss, dropout=dropout, weight_decay=weight_decay))
    start = snapshot(model)
    generator = torch.random.fork_rng()
    with generator:
        torch.manual_seed(seed + 1)  # the dropout masks
        model.train()
        for step in range(steps):
            optimizer.zero_grad()
            loss = F.nll_loss(model(x), y)
            if detach_loss or not loss.requires_grad:
                loss = torch.tensor(loss.item(), requires_grad=True)
            loss.backward()
            if not skip_step:
                optimizer.step()
            run.losses.append(loss.detach().item())
            if not math.isfinite(run.losses[-1]):
                run.diverged_at = step
                break
            if on_step is not None and step % 10 == 0:
                on_step(run, step)
    run.model = model
    run.ratios = ratios_since(start, model)
    run.coverage = optimizer_coverage(model, optimizer)
    run.grads = grad_states(model)
    run.clean_loss = regularised_loss(model, x, y, F.nll_loss).inference
    return run


FAMILY = {  # row name -> the switches of overfit_case
    "healthy": {},
    "frozen (requires_grad=False)": {"freeze": True},
    "optimizer over an earlier model": {"wrong_optimizer": True},
    "no optimizer.step()": {"skip_step": True},
    "loss rebuilt from loss.item()": {"detach_loss": True},
    "dropout 0.5 left on": {"dropout": 0.5},
    "weight decay 0.1": {"weight_decay": 0.1},
}


def family_runs() -> dict:
    """Every row of FAMILY trained: name -> CaseRun."""
    return {name: overfit_case(**switches) for name, switches in FAMILY.items()}


def _ratio_text(ratios: dict) -> str:
    values = list(ratios.values())
    if all(r == 0 for r in values):
        return "0 (exactly)"
    return f"> {sig(min(values) / 2, 1)}" if min(values) > 0 else "some 0"


def _loss_text(value: float, moved: bool) -> str:
    """A loss as the table prints it: below the memorised bound, the untouched start exactly, else a bound."""
    if value < MEMORISED:
        return f"< {MEMORISED}"
    return f"> {LOSS_FLOOR}" if moved and value > LOSS_FLOOR else sig(value)


def family_table(runs: dict) -> str:
    """One row per case: the training-mode loss at the end (mean of the last 20 steps), the inference-mode
    loss, the layers' update ratios, how many trainable tensors the optimizer held, and .grad."""
    head = f"{'case':<33}{'train loss':>11}{'eval loss':>10}{'moved':>13}{'held':>6}  .grad None/0/grad"
    rows = [head]
    for name, run in runs.items():
        held = f"{len(run.coverage.held)}/{len(run.coverage.trainable)}"
        g = run.grads
        moved = any(r > 0 for r in run.ratios.values())
        rows.append(f"{name:<33}{_loss_text(run.last_losses, moved):>11}{_loss_text(run.clean_loss, moved):>10}"
                    f"{_ratio_text(run.ratios):>13}{held:>6}  {g.count('none')}/{g.count('zero')}/{g.count('nonzero')}")
    return "\n".join(rows)


# --- the "Explore" panel ----------------------------------------------------------------------

def draw_case(fig, run: CaseRun, values: dict):
    """Left: the training-mode loss per step; right: how far each layer moved (0 written as text)."""
    left, right = fig.subplots(1, 2)
    left.plot(np.arange(1, len(run.losses) + 1), run.losses, color="tab:blue")
    left.axhline(MEMORISED, color="gray", linestyle=":", linewidth=0.8)
    left.set_yscale("log")
    left.set_xlabel("step")
    left.set_title("training loss, one batch of 16", fontsize=9)
    names = list(run.ratios)
    heights = [run.ratios[n] for n in names]
    right.bar(names, [h if h > 0 else np.nan for h in heights], color="tab:orange")
    for i, h in enumerate(heights):
        if h == 0:
            right.text(i, 1e-3, "0", ha="center", fontsize=11)
    right.set_yscale("log")
    right.set_ylim(1e-4, 10)
    right.set_title("||w_end - w_start|| / ||w_start||", fontsize=9)


def explore_panel():
    """The "Explore" panel: the family's switches, dropout and weight decay; one batch retrained on change."""
    from ..panel import Panel, float_slider, toggle

    def train(values, progress):
        return overfit_case(freeze=values["freeze"], wrong_optimizer=values["wrong_optimizer"],
                            skip_step=values["skip_step"], dropout=values["dropout"],
                            weight_decay=values["weight_decay"],
                            on_step=lambda run, step: progress.report(step / OVERFIT_STEPS, run))

    def check(values):
        if values["dropout"] > MAX_DROPOUT:
            return f"a dropout rate above {MAX_DROPOUT} leaves almost nothing to learn from: choose at most {MAX_DROPOUT}"
        return None

    return Panel(
        controls={
            "freeze": toggle("freeze every layer (requires_grad=False)", False),
            "wrong_optimizer": toggle("optimizer over an earlier model", False),
            "skip_step": toggle("skip optimizer.step()", False),
            "dropout": float_slider("dropout rate", 0.0, 0.95, 0.0, step=0.05),
            "weight_decay": float_slider("weight decay", 0.0, 0.5, 0.0, step=0.01),
        },
        train=train, draw=draw_case, check=check, title="One batch of 16 names, Adam, 150 steps",
    )
