"""The course's figures: loss curves, prediction against target, per-layer bars.

Figures are made with ``matplotlib.figure.Figure`` rather than pyplot, so
nothing is kept in pyplot's registry: a figure lives as long as the notebook
holds it, and a panel redraws the one figure it owns. In a notebook, end a
cell with the figure (or ``display(fig)``) to show it as a PNG.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .runs import TrainingRun

PANEL_SIZE = (3.6, 2.8)  # inches per axes: two side by side fit a notebook column


def figure(ncols: int = 1, nrows: int = 1, size=PANEL_SIZE):
    """A new Figure and its axes (a single Axes, or an array when there are several)."""
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def _losses(run_or_losses):
    return run_or_losses.losses if isinstance(run_or_losses, TrainingRun) else np.asarray(run_or_losses, dtype=float)


def loss_curve(ax, runs, chance: float | None = None, title: str = "training loss"):
    """Loss per step on a log axis, one line per run; divergence marked with an x.

    runs: a TrainingRun, an array of losses, or a dict label -> either.
    chance: draw the chance level as a dashed line.
    """
    if not isinstance(runs, dict):
        runs = {None: runs}
    for label, run in runs.items():
        losses = _losses(run)
        steps = np.arange(1, len(losses) + 1)
        shown = np.where(np.isfinite(losses) & (losses > 0), losses, np.nan)
        (line,) = ax.plot(steps, shown, label=label, linewidth=1.2)
        if isinstance(run, TrainingRun) and run.diverged:
            ax.plot([run.diverged_at + 1], [np.nanmax(shown) if np.isfinite(shown).any() else 1.0], "x", color=line.get_color(), markersize=9)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if any(label is not None for label in runs) or chance is not None:
        ax.legend(fontsize=8)
    return ax


def metric_curve(ax, run: TrainingRun, names, title: str = "", ylabel: str = ""):
    """Metrics recorded at the sampled steps (e.g. train and test accuracy)."""
    for name in [names] if isinstance(names, str) else names:
        ax.plot(run.sampled_steps[: len(run.metric(name))], run.metric(name), marker=".", label=name)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def pred_vs_target(ax, predictions, targets, title: str = "prediction vs target"):
    """Scatter of predictions against targets with the line of perfect fit."""
    predictions = np.asarray(predictions, dtype=float).ravel()
    targets = np.asarray(targets, dtype=float).ravel()
    if predictions.shape != targets.shape:
        raise ValueError(f"{predictions.size} predictions for {targets.size} targets")
    ax.scatter(targets, predictions, s=12, alpha=0.7)
    finite = np.concatenate([targets, predictions[np.isfinite(predictions)]])
    low, high = float(finite.min()), float(finite.max())
    ax.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel("target")
    ax.set_ylabel("prediction")
    ax.set_title(title)
    return ax


def layer_bars(ax, values: dict, title: str, log: bool = False, ylabel: str = ""):
    """One bar per layer, in the model's order (e.g. gradient norms, dead fractions)."""
    names = list(values)
    heights = np.array([values[n] for n in names], dtype=float)
    bars = ax.bar(range(len(names)), heights, color="tab:blue")
    ax.bar_label(bars, labels=[f"{h:.2g}" for h in heights], fontsize=7)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    positive = heights[heights > 0]
    if log and positive.size:
        ax.set_yscale("log")
        # whole decades around the bars, so that small differences are not blown up
        ax.set_ylim(10 ** (np.floor(np.log10(positive.min())) - 1), 10 ** (np.ceil(np.log10(positive.max())) + 0.3))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return ax
