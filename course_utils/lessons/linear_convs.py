"""Lesson 02 ("Linear convs"): windows of a slowly varying series, the lab's readings, the notebook's plumbing.

The question behind lesson 02 fed a conv net 47,666 inputs of shape
(10, 10, 4) whose values all sat near -0.82 and moved by about 0.01, with
binary labels close to coin flips. ``seed_like`` makes data with the same
shape and statistics, generated here:

- a 4-channel series that drifts slowly (a smoothed random walk) around
  ``offset``, with a typical deviation of ``spread`` inside one window;
- sample ``n`` is a 10 x 10 grid built from steps n .. n+9 of the series:
  ``x[n, i, j, c] = offset + (u[n+i, c] + u[n+j, c]) / 2`` where ``u`` is the
  series' deviation from its offset. Like the question's data, the grid is
  symmetric (``x[n, i, j] == x[n, j, i]``) and consecutive samples overlap:
  sample n+1 is sample n moved by one step (``x[n+1, i, j] == x[n, i+1, j+1]``);
- a hidden binary *pattern* that can be read from the window: does channel
  0 end the window higher than it started? (about half the windows do);
- the label is that pattern with probability ``signal`` and a fair coin flip
  otherwise, so ``signal=0`` gives pure coin flips and the best possible
  accuracy is ``0.5 + signal / 2``.

Train and validation sets are split in time (the last ``val_fraction`` of
the windows, like Keras' ``validation_split``), so overlapping windows do
not leak from one set into the other (a 10-step gap is left between them).

``Standardizer`` scales inputs per channel with the training set's mean and
standard deviation; ``scale_report`` reads how far inputs are from that.

The notebook's plumbing lives here too, so that its cells show the model,
the runs and the measurements: ``tail_loss`` and ``stuck`` read a run's end,
``first_steps`` reads a long run as a short one, ``candidate_row`` prints one
row of section 5's table, ``draw_smoothed_losses`` draws the loss curves, and
``ExploreRuns`` holds the callbacks of section 9's panel.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..fmt import claim, percent, sig, whole

WINDOW = 10
CHANNELS = 4
OFFSET = -0.82
SPREAD = 0.01


@dataclass(frozen=True)
class Windows:
    """Train and validation windows, their labels, and the hidden pattern."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    pattern_train: np.ndarray
    pattern_val: np.ndarray
    signal: float

    @property
    def best_accuracy(self) -> float:
        """Expected accuracy of a model that knows the pattern exactly."""
        return 0.5 + self.signal / 2


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _series(length: int, rng: np.random.Generator, memory: float = 0.9, smooth: int = 4) -> np.ndarray:
    """(length, CHANNELS) slowly varying deviations around 0 (a smoothed AR(1) process).

    ``memory`` close to 1 makes the series wander slowly and come back: the
    level changes little within a window and stays near 0 over the whole set.
    """
    noise = rng.standard_normal((length + smooth + 100, CHANNELS))
    series = np.empty_like(noise)
    series[0] = noise[0]
    for t in range(1, len(noise)):
        series[t] = memory * series[t - 1] + noise[t]
    kernel = np.ones(smooth) / smooth
    smoothed = np.stack([np.convolve(series[:, c], kernel, mode="valid") for c in range(CHANNELS)], axis=1)
    smoothed = smoothed[100 : 100 + length]  # drop the start-up
    # mix the channels a little, so that they move together as related features do
    mix = np.eye(CHANNELS) * 0.8 + 0.2 / CHANNELS
    return smoothed @ mix


def _up(rows: np.ndarray) -> np.ndarray:
    """1 where channel 0 ends the window higher than it started."""
    return (rows[:, -1, 0] > rows[:, 0, 0]).astype(np.int64)


def seed_like(n: int = 4000, signal: float = 0.0, val_fraction: float = 0.2, offset: float = OFFSET,
              spread: float = SPREAD, seed: int = 0) -> Windows:
    """``n`` windows of shape (10, 10, 4) in the question's statistics, split in time.

    signal: the fraction of labels that follow the hidden pattern (the rest
        are fair coin flips); 0 gives labels with no information at all.
    offset, spread: the values' level and their typical deviation within a
        window (the question's data: about -0.82 and 0.01).
    Returns float32 inputs and int64 labels of shape (n,).
    """
    n = _check_positive_int("n", n)
    if not 0.0 <= float(signal) <= 1.0:
        raise ValueError(f"signal must be between 0 and 1, got {signal!r}")
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")
    rng = np.random.default_rng(seed)
    u = _series(n + WINDOW + WINDOW, rng)
    # windows 0..n_train-1 for training, then a gap of WINDOW steps, then validation
    n_val = max(int(round(n * float(val_fraction))), 1)
    n_train = n - n_val
    if n_train < 1:
        raise ValueError(f"n={n} is too small to split off a validation set")
    index = np.concatenate([np.arange(n_train), np.arange(n_train + WINDOW, n + WINDOW)])
    rows = np.stack([u[k : k + WINDOW] for k in index])  # (n, WINDOW, CHANNELS)
    grids = 0.5 * (rows[:, :, None, :] + rows[:, None, :, :])
    # scale so that a window's values deviate from their own mean by `spread` (root mean square)
    within = float(np.sqrt(np.mean(grids.reshape(len(grids), -1).var(axis=1))))
    x = offset + grids * (float(spread) / within)
    pattern = _up(rows)
    coin = rng.integers(0, 2, size=len(index))
    follows = rng.uniform(size=len(index)) < float(signal)
    y = np.where(follows, pattern, coin).astype(np.int64)
    x = x.astype(np.float32)
    return Windows(x[:n_train], y[:n_train], x[n_train:], y[n_train:], pattern[:n_train], pattern[n_train:],
                   float(signal))


@dataclass(frozen=True)
class Standardizer:
    """x -> (x - mean) / std per channel (last axis), with a training set's statistics."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x) -> "Standardizer":
        x = np.asarray(x, dtype=np.float64)
        axes = tuple(range(x.ndim - 1))
        std = x.std(axis=axes)
        std[std == 0] = 1.0
        return cls(x.mean(axis=axes), std)

    def __call__(self, x) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.std).astype(np.float32)


@dataclass(frozen=True)
class ScaleReading:
    """How far a batch of inputs is from zero mean and unit spread."""

    mean: float
    std: float
    offset_to_spread: float

    @property
    def healthy(self) -> bool:
        """Mean within 1 spread of zero and spread between 0.1 and 10."""
        return abs(self.mean) <= max(self.std, 1e-12) and 0.1 <= self.std <= 10.0

    def __str__(self) -> str:
        verdict = "well scaled" if self.healthy else "BADLY SCALED: standardise with the training set's statistics"
        if self.offset_to_spread < 1e-3:  # zero up to rounding: print no float noise
            return f"inputs: mean 0 (to within 0.001 of the spread), spread {sig(self.std)}: {verdict}"
        return (f"inputs: mean {sig(self.mean)}, spread {sig(self.std)}, "
                f"|mean| / spread {sig(self.offset_to_spread)}: {verdict}")

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


def scale_report(x) -> ScaleReading:
    """Mean and spread of the inputs (the spread is averaged over features, per feature).

    A network's first layer sees mean + variation; when the mean is many
    times the variation, the part that tells samples apart is a small ripple
    on a constant, and plain SGD moves the weights that read it very slowly.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or x.ndim < 2:
        raise ValueError(f"expected a batch of inputs (n, ...), got shape {x.shape}")
    flat = x.reshape(len(x), -1)
    mean = float(flat.mean())
    std = float(flat.std(axis=0).mean())
    ratio = abs(mean) / std if std > 0 else float("inf")
    return ScaleReading(mean, std, ratio)


# --- the lab's data: three temperature sensors in kelvin --------------------

LAB_LENGTH = 32
LAB_SENSORS = 3
LAB_LEVEL = 293.15
LAB_SPREAD = 0.05


def lab_readings(n: int = 1500, val_fraction: float = 0.2, seed: int = 2) -> Windows:
    """``n`` sequences of shape (32, 3): three room-temperature sensors in kelvin.

    The readings sit near 293.15 K and move by about 0.05 K within a
    sequence. The label says whether sensor 0 *shifted* between the first
    and the second half of the sequence by more than the median shift, up
    or down: a non-linear pattern (it depends on the size of a difference,
    not its sign), so a purely linear model scores no better than a coin.
    Every label follows the pattern (``signal`` is 1). Split in time like
    ``seed_like``.
    """
    n = _check_positive_int("n", n)
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")
    rng = np.random.default_rng(seed)
    n_val = max(int(round(n * float(val_fraction))), 1)
    n_train = n - n_val
    if n_train < 1:
        raise ValueError(f"n={n} is too small to split off a validation set")
    base = rng.standard_normal((n, 1, LAB_SENSORS)) * 0.6
    noise = rng.standard_normal((n, LAB_LENGTH, LAB_SENSORS)) * 0.35
    shift = rng.standard_normal(n) * 1.0
    step = np.zeros((n, LAB_LENGTH, LAB_SENSORS))
    step[:, LAB_LENGTH // 2 :, 0] = shift[:, None]
    step[:, LAB_LENGTH // 2 :, 1] = 0.3 * rng.standard_normal(n)[:, None]
    sequences = base + noise + step
    halves = sequences[:, LAB_LENGTH // 2 :, 0].mean(axis=1) - sequences[:, : LAB_LENGTH // 2, 0].mean(axis=1)
    pattern = (np.abs(halves) > np.median(np.abs(halves))).astype(np.int64)
    scale = LAB_SPREAD / float(np.sqrt(np.mean(sequences.reshape(n, -1).var(axis=1))))
    x = (LAB_LEVEL + sequences * scale).astype(np.float32)
    return Windows(x[:n_train], pattern[:n_train], x[n_train:], pattern[n_train:], pattern[:n_train],
                   pattern[n_train:], 1.0)


# --- the notebook's plumbing: reading runs, the table, the figures, the panel ---

LN2 = math.log(2)  # the loss of a binary classifier that answers 0.5 to every input
TAIL_STEPS = 40  # a run's loss is read as its mean over this many last steps (one reading interval)
STUCK_WITHIN = 0.01  # a tail loss this close to ln 2 has not left chance


def tail_loss(run, last: int = TAIL_STEPS) -> float:
    """The mean training loss over the last ``last`` steps of a TrainingRun."""
    return float(np.mean(run.losses[-last:]))


def stuck(run) -> bool:
    """Still within STUCK_WITHIN of ln 2 over the last TAIL_STEPS steps (and not diverged)."""
    return (not run.diverged) and abs(tail_loss(run) - LN2) < STUCK_WITHIN


def first_steps(run, steps: int):
    """The first ``steps`` steps of a longer TrainingRun, read as if it had stopped there.

    Losses are cut at ``steps``; metrics and readings keep the sampled steps up to ``steps``.
    """
    keep = [i for i, step in enumerate(run.sampled_steps) if step <= steps]
    return dataclasses.replace(run, losses=run.losses[:steps], sampled_steps=[run.sampled_steps[i] for i in keep],
                               metrics={k: [v[i] for i in keep] for k, v in run.metrics.items()},
                               readings=[r for i, r in enumerate(run.readings) if i in keep])


def candidate_row(name: str, run, learns: bool) -> str:
    """One row of section 5's table: how the run ended, checked against what the lesson claims.

    learns: the lesson claims this change leaves ln 2 (tail loss below 0.65, validation accuracy
        above 65%); otherwise it claims the loss stays on ln 2 and validation accuracy below 65%.
    A diverged run is claimed to blow up within 20 steps. Raises ClaimFailed when a claim fails.
    """
    if run.diverged:
        return f"{name:32s} " + claim("diverged at step", run.diverged_at, less_than=20, style=whole)
    val = run.metric("val_accuracy")[-1]
    if learns:
        return (f"{name:32s} " + claim("loss", tail_loss(run), less_than=0.65) + "         "
                + claim("validation accuracy", val, more_than=0.65, style=percent))
    return (f"{name:32s} " + claim("loss", tail_loss(run), more_than=0.68, less_than=0.71) + "  "
            + claim("validation accuracy", val, less_than=0.65, style=percent))


def moving_average(losses, window: int):
    """(steps, values): the mean of each ``window`` consecutive losses, at the step each window ends."""
    losses = np.asarray(losses, dtype=np.float64)
    if not len(losses):
        return np.arange(0), losses
    values = np.convolve(losses, np.ones(window) / window, mode="valid")
    return np.arange(len(values)) + window, values


def draw_smoothed_losses(ax, runs: dict, window: int = 25, **line_style):
    """One averaged loss curve per run (label -> TrainingRun) and ln 2 as a dashed line; diverged runs are left out."""
    for name, run in runs.items():
        if not run.diverged:
            steps, values = moving_average(run.losses, window)
            ax.plot(steps, values, label=name, **line_style)
    ax.axhline(LN2, color="gray", linestyle="--", linewidth=1, label="ln 2")
    ax.set_xlabel("step")
    ax.set_ylabel(f"loss ({window}-step average)")
    return ax


class ExploreRuns:
    """The callbacks of section 9's panel: fresh windows per label signal, one retrain, its figure, a refusal.

    trainer: the notebook's CachedTrainer of the question's model; batch: the batch size;
    metrics: name -> metric, read on the training and validation windows once per epoch.
    Each label signal gets its own ``n`` windows (seed ``seed``), made once and kept.
    """

    ADAM_MAX_LR = 0.1  # above this Adam only diverges on these windows

    def __init__(self, trainer, batch: int, metrics: dict, n: int = 800, seed: int = 1):
        self.trainer, self.batch, self.metrics, self.n, self.seed = trainer, batch, metrics, n, seed
        self.windows_by_signal: dict = {}

    def windows(self, signal: float) -> Windows:
        """The panel's windows for one label signal (rounded to 0.01), made on first use."""
        key = round(float(signal), 2)
        if key not in self.windows_by_signal:
            self.windows_by_signal[key] = seed_like(self.n, signal=key, seed=self.seed)
        return self.windows_by_signal[key]

    def train(self, values: dict, progress):
        """Retrain the question's model with the panel's values; returns the TrainingRun."""
        d = self.windows(values["signal"])
        xt, xv = d.x_train, d.x_val
        if values["standardise"]:
            scale = Standardizer.fit(xt)
            xt, xv = scale(xt), scale(xv)
        epoch = len(xt) // self.batch
        steps = values["epochs"] * epoch
        _, run = self.trainer.train(xt, d.y_train.astype("float32")[:, None],
                                    {"conv_activation": "relu" if values["relu"] else None}, values["optimizer"],
                                    values["lr"], steps, batch_size=self.batch, metrics=self.metrics,
                                    sample_every=epoch, eval_sets={"train": (xt, d.y_train), "val": (xv, d.y_val)},
                                    on_sample=progress.on_sample(steps))
        return run

    def draw(self, fig, run, values: dict) -> None:
        """Training loss (1-epoch average) beside train and validation accuracy and the best possible."""
        ax_loss, ax_acc = fig.subplots(1, 2)
        epoch = len(self.windows(values["signal"]).x_train) // self.batch
        steps, smooth = moving_average(run.losses, max(min(epoch, len(run.losses)), 1))
        ax_loss.plot(steps, smooth, color="tab:blue")
        ax_loss.axhline(LN2, color="gray", linestyle="--", linewidth=1)
        ax_loss.set_xlabel("step")
        ax_loss.set_title("training loss (1-epoch average)", fontsize=9)
        if run.metrics:
            for name in ("train_accuracy", "val_accuracy"):
                ax_acc.plot(run.sampled_steps[:len(run.metric(name))], run.metric(name), marker=".",
                            label=name.split("_")[0])
        ax_acc.axhline(0.5 + values["signal"] / 2, color="gray", linestyle=":", linewidth=1, label="best possible")
        ax_acc.set_ylim(0.3, 1.02)
        ax_acc.set_xlabel("step")
        ax_acc.set_title("accuracy", fontsize=9)
        ax_acc.legend(fontsize=7)

    def refuse(self, values: dict):
        """A message that refuses a setting that can only diverge, else None."""
        if values["optimizer"] == "adam" and values["lr"] > self.ADAM_MAX_LR:
            return f"Adam above {self.ADAM_MAX_LR:g} only diverges here; pick {self.ADAM_MAX_LR:g} or less."
        return None
