"""Lesson 01 ("Missing zero_grad"): the training run and its record, the figures, the panel wiring.

The notebook keeps what a student must read: the network that ends in a
softmax (bug 2) and the asker's loop, which never calls ``zero_grad`` (bug 1)
and builds a new optimizer at every step (bug 3). This module holds what that
loop and the cells around it use:

- ``accuracy(net, x, y)`` and ``Run``: what one call of the notebook's
  ``train`` recorded, epoch by epoch, and its summary in words;
- ``two_digits``: the style of the lesson's two-significant-figure claims;
- ``plot_accuracy``, ``accuracy_figure``, ``six_images_figure``,
  ``gradient_growth_figure``: the lesson's figures;
- ``explore_panel(train, optimizers)``: the "Explore" panel, wired to the
  notebook's ``train``.

Tensors are the lesson's: x of shape (n, 64), pixels in [0, 1]; y of shape
(n,), class indices 0..9.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..fmt import percent
from ..instruments import stored_grad_norms, total_norm
from ..plots import figure

CHANCE = 0.1  # ten classes: guessing scores one in ten


def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of the images in x (n, 64) whose highest score is their label y (n,)."""
    with torch.no_grad():
        return (net(x).argmax(dim=1) == y).double().mean().item()


@dataclass
class Run:
    """What one training run recorded, once per epoch (a per-epoch record, where cu.TrainingRun is per step).

    train_acc, test_acc: accuracy on the training and on the test set after each epoch;
    grad_norm: the norm of what ``.grad`` holds at the end of each epoch;
    steps: optimizer steps taken; diverged_at: the step whose loss was not finite, else None;
    net: the network being trained.
    """

    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    steps: int = 0
    diverged_at: int | None = None
    net: nn.Module | None = None

    @property
    def diverged(self) -> bool:
        """True once a step's loss was not finite."""
        return self.diverged_at is not None

    @property
    def peak(self) -> int:
        """The index of the epoch with the best train accuracy (the first, on a tie)."""
        return int(np.argmax(self.train_acc))

    def record_epoch(self, x_train, y_train, x_test, y_test):
        """Append this epoch's train and test accuracy and the norm of what ``.grad`` holds."""
        self.train_acc.append(accuracy(self.net, x_train, y_train))
        self.test_acc.append(accuracy(self.net, x_test, y_test))
        self.grad_norm.append(total_norm(stored_grad_norms(self.net)))

    def describe(self) -> str:
        """One line for the panel's status: the peak epoch and the last one, train and test."""
        if not self.train_acc:
            return f"diverged at step {self.diverged_at} before the first epoch ended"
        k = self.peak
        text = (f"train accuracy peaked at {percent(self.train_acc[k])} (test {percent(self.test_acc[k])}) "
                f"in epoch {k + 1}; after epoch {len(self.train_acc)}: train {percent(self.train_acc[-1])}, "
                f"test {percent(self.test_acc[-1])}")
        return f"diverged at step {self.diverged_at}; " + text if self.diverged else text


def two_digits(value) -> str:
    """A style for cu.claim: 40.8 -> '41', 1040 -> '1e+03'."""
    return f"{float(value):.2g}"


# --- figures -----------------------------------------------------------------

def plot_accuracy(ax, runs: dict):
    """Train (solid) and test (dashed) accuracy per epoch, one colour per run, and chance (dotted).

    runs: label -> Run; the label starts the legend's "train" and "test" ("" for none).
    """
    for label, run in runs.items():
        epochs = np.arange(1, len(run.train_acc) + 1)
        prefix = f"{label} " if label else ""
        (line,) = ax.plot(epochs, run.train_acc, label=f"{prefix}train")
        ax.plot(epochs, run.test_acc, linestyle="--", color=line.get_color(), label=f"{prefix}test")
    ax.axhline(CHANCE, color="gray", linewidth=0.8, linestyle=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    return ax


def accuracy_figure(runs: dict, title: str):
    """A figure of train and test accuracy per epoch for each run (label -> Run)."""
    fig, ax = figure()
    plot_accuracy(ax, runs)
    ax.set_title(title)
    ax.legend(fontsize=7)
    return fig


def six_images_figure(runs: dict, highlighted):
    """Images right (of 6) per epoch for each seed (seed -> Run); the seeds in ``highlighted`` drawn bold."""
    fig, ax = figure()
    for seed, run in runs.items():
        bold = seed in highlighted
        epochs = np.arange(1, len(run.train_acc) + 1)
        ax.plot(epochs, np.array(run.train_acc) * 6, linewidth=2 if bold else 0.8,
                label=f"seed {seed}" if bold else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("images right (of 6)")
    ax.set_title("six images, the asker's loop")
    ax.legend(fontsize=8)
    return fig


def gradient_growth_figure(fresh_norms, stored_norms):
    """Per step: the norm of what .grad holds, the norm of the fresh batch gradient, and the running sum of
    the fresh norms (what .grad would be if every batch gradient pointed the same way)."""
    fig, ax = figure()
    steps = np.arange(1, len(stored_norms) + 1)
    ax.plot(steps, stored_norms, label="|.grad| (what step() uses)")
    ax.plot(steps, fresh_norms, label="|fresh batch gradient|")
    ax.plot(steps, np.cumsum(fresh_norms), linestyle=":", color="gray",
            label="sum of |fresh| (perfect alignment)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.legend(fontsize=7)
    ax.set_title("the asker's loop, first 30 epochs")
    return fig


# --- the "Explore" panel ----------------------------------------------------------

def draw_run(fig, run: Run, values: dict):
    """The panel's figure: accuracy per epoch on the left, the norm of what .grad holds on the right."""
    left, right = fig.subplots(1, 2)
    plot_accuracy(left, {"": run})
    left.legend(fontsize=8)
    epochs = np.arange(1, len(run.grad_norm) + 1)
    norms = np.array(run.grad_norm, dtype=float)
    right.plot(epochs, np.where(norms > 0, norms, np.nan), color="tab:red")  # a log axis cannot show 0
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_title("|.grad| at the end of each epoch", fontsize=9)


def explore_panel(train, optimizers):
    """The "Explore" panel: the three bug switches, the optimizer, the learning rate and the epochs.

    train: the notebook's train(*, zero_grad, softmax_output, new_optimizer_each_step,
        optimizer, lr, epochs, on_epoch), which returns a Run;
    optimizers: the optimizer names to offer (the notebook's OPTIMIZERS).
    The defaults are the asker's loop at lr 0.03 for 40 epochs: the rise and the fall in about a second.
    """
    from ..panel import Panel, choice, int_slider, log_slider, toggle  # ipywidgets, only when a panel is made

    def train_from_controls(values, progress):
        return train(zero_grad=values["zero_grad"], softmax_output=values["softmax"],
                     new_optimizer_each_step=values["new_optimizer"], optimizer=values["optimizer"],
                     lr=values["lr"], epochs=values["epochs"],
                     on_epoch=lambda run: progress.report(len(run.train_acc) / values["epochs"], run))

    return Panel(
        controls={
            "zero_grad": toggle("call optimizer.zero_grad()", False),
            "softmax": toggle("softmax before F.cross_entropy", True),
            "new_optimizer": toggle("new optimizer each step", True),
            "optimizer": choice("optimizer", list(optimizers), "SGD"),
            "lr": log_slider("learning rate", 1e-4, 1.0, 0.03),
            "epochs": int_slider("epochs", 5, 150, 40, step=5),
        },
        train=train_from_controls, draw=draw_run, title="The asker's loop, one switch at a time",
    )
