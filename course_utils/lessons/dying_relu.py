"""1-D signals for lesson 03 ("Dying ReLU") and its lab, and the plumbing its notebook would carry.

The data:

- ``bump_signals(n)``: ``n`` deterministic signals of length 1024, each a
  Gaussian bump on top of a constant offset; offsets take both signs, so
  part of every batch lies below zero (the information a ReLU can clip);
- ``offset_variance(x)``: the MSE of a model that outputs the batch's mean
  signal for every input (what an autoencoder whose decoder is cut off from
  its code can reach at best);
- ``preactivations(model, x)``: the *inputs* of every ReLU-family layer of a
  PyTorch model (what the unit computed before the activation clipped it),
  for histograms of pre-activations.

Arrays are float32 NumPy, shape (n, length), like ``course_utils.data``.

What the lesson prints and draws, kept out of its cells:

- ``coarse_loss(loss)``: a final loss read coarsely ("< 0.3"), so that it
  survives another CPU;
- ``dead_fraction_table(run)``: a run's dead-fraction readings as one
  (sampled steps, layers) array;
- ``one_channel_unit(model, run)``: "dead", "alive", "leaks below 0" or
  "no activation" for the decoder's one-channel stretch;
- ``FirstStep`` and ``first_steps_table(rows)``: the record of one training
  step of section 4 and the table of them;
- ``PanelWiring(build_model, signals)``: the train, draw, describe and check
  callbacks of the lesson's panel.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..fmt import approx, sig

LENGTH = 1024
# The decoder's last stretch, one channel wide: dec5_conv's ReLU, the ReLU before
# tail_conv and the one after it. If any is dead for the whole batch, the output
# no longer depends on the code.
ONE_CHANNEL = ("dec5_act", "tail_act", "out_act")
# The panel's longest run, in signal-steps (steps x signals): about a minute on a CPU.
MAX_SIGNAL_STEPS = 1600


def bump_signals(n: int, length: int = LENGTH, seed: int = 0, offset_range: float = 1.0):
    """``n`` signals: offset + amplitude * exp(-(t - centre)^2 / (2 width^2)).

    Per signal, drawn from ``seed``: an offset uniform in
    [-offset_range, offset_range] (signs alternate, so any batch of two or
    more has offsets of both signs), an amplitude in [0.5, 1.5], a centre in
    the middle 60% of the signal and a width of 3% to 10% of its length.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"length must be an integer >= 2, got {length!r}")
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.1, 1.0, size=n) * offset_range
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    offsets = signs * size
    amplitudes = rng.uniform(0.5, 1.5, size=n)
    centres = rng.uniform(0.2, 0.8, size=n) * length
    widths = rng.uniform(0.03, 0.10, size=n) * length
    t = np.arange(length, dtype=np.float64)
    bumps = amplitudes[:, None] * np.exp(-((t[None, :] - centres[:, None]) ** 2) / (2 * widths[:, None] ** 2))
    return (offsets[:, None] + bumps).astype(np.float32)


def offset_variance(x) -> float:
    """MSE of predicting the batch's mean signal for every sample (0 for one sample)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected signals of shape (n, length), got {x.shape}")
    return float(np.mean((x - x.mean(axis=0, keepdims=True)) ** 2))


def preactivations(model, x) -> dict:
    """name -> NumPy array of what flows *into* each ReLU-family layer (no grad).

    Names are those of ``course_utils.instruments`` (e.g. '1 ReLU'), so a
    histogram lines up with the dead fraction of the same layer. A value
    <= 0 going into a ReLU comes out as 0, with zero gradient.
    """
    from ..instruments.for_torch import activation_inputs

    return {name: value.double().numpy() for name, value in activation_inputs(model, x).items()}


def coarse_loss(loss: float) -> str:
    """A coarse reading of a final loss, one that survives another CPU: < 0.001, < 0.3, or the value."""
    for bound in (1e-3, 0.3):
        if loss < bound:
            return f"< {bound:g}"
    return sig(loss)


def dead_fraction_table(run):
    """(layer names, array of shape (sampled steps, layers)): the run's dead fraction of every activation layer."""
    layers = list(run.readings[0]["dead_fraction"])
    return layers, np.array([[reading["dead_fraction"][name] for name in layers] for reading in run.readings])


def one_channel_fractions(reading: dict) -> list:
    """The dead fractions of the one-channel stretch's activations (ONE_CHANNEL) in one reading: layer -> fraction."""
    return [fraction for name, fraction in reading.items() if name in ONE_CHANNEL]


def one_channel_unit(model, run) -> str:
    """'dead' / 'alive' for ReLU; a LeakyReLU unit is never dead, whichever side of zero it ends on.

    "no activation" when the model has none on the one-channel stretch; "leaks below 0" when its
    activations there pass a gradient for negative inputs (``gradient_stopping_layers``).
    """
    from ..instruments import gradient_stopping_layers

    path = one_channel_fractions(run.reading("dead_fraction"))
    if not path:
        return "no activation"
    if not set(ONE_CHANNEL) & gradient_stopping_layers(model):
        return "leaks below 0"
    return "dead" if max(path) == 1.0 else "alive"


class FirstStep(NamedTuple):
    """One row of section 4's table: the autoencoder after ``step`` steps.

    low, high: the range of what flows into dec5_act (over signals and positions);
    feed: the spread (std) of dec5_conv's 8 input channels after their ReLU;
    bias: dec5_conv's bias; moved: the median size of the step just taken over all
    parameters, in units of the learning rate (nan at step 0).
    """

    step: int
    low: float
    high: float
    feed: float
    bias: float
    moved: float


def _three_decimals(value) -> str:
    return f"{value:.3f}"


def first_steps_table(rows) -> str:
    """Section 4's table of ``FirstStep`` rows; the figures that vary between CPUs are marked with ≈."""
    lines = ["step  into dec5_act (min .. max)   8 input channels (std)   dec5_conv bias   median step / lr"]
    for row in rows:
        moved = approx(row.moved, lambda v: f"{v:.2f}") if row.step else ""
        lines.append(f"{row.step:>4}  {approx(row.low, _three_decimals):>9} .. {approx(row.high, _three_decimals):>7}  "
                     f"{'(dead)' if row.high <= 0 else '      '}    {approx(row.feed, _three_decimals):>10}          "
                     f"{row.bias:+.3f}   {moved:>13}")
    return "\n".join(lines)


class PanelWiring:
    """Connects the lesson's panel to training runs of the conv autoencoder.

    build_model(activation, slope): a fresh autoencoder; signals: (n, length) tensor, of which a
    run trains on the first ``values["signals"]``. ``train``, ``draw``, ``describe`` and ``check``
    are the callbacks ``cu.Panel`` takes; ``model`` and ``x`` are the run in progress, for the redraws.
    """

    def __init__(self, build_model, signals):
        self.build_model, self.signals = build_model, signals
        self.model = self.x = None

    def train(self, values: dict, progress):
        """Full-batch Adam on the MSE from seed ``values["seed"]``, the dead fraction read about 15 times."""
        import torch
        from torch.nn import functional as F

        from ..repro import seed
        from ..training.torch_loop import train_torch

        steps = values["steps"]
        seed(values["seed"])
        model = self.build_model(values["activation"], values["slope"])
        x = self.signals[: values["signals"]]
        optimizer = torch.optim.Adam(model.parameters(), lr=values["lr"])
        self.model, self.x = model, x
        return train_torch(model, x, x, F.mse_loss, optimizer, steps=steps, sample_every=max(steps // 15, 1),
                           instruments=("dead_fraction",), on_sample=progress.on_sample(steps))

    def draw(self, fig, run, values: dict):
        """Left: the dead fraction of every activation layer over the run; right: signal 1 and its reconstruction."""
        from ..instruments import predict

        ax_dead, ax_signal = fig.subplots(1, 2)
        if run.readings:
            names, table = dead_fraction_table(run)
            ax_dead.imshow(table.T, aspect="auto", cmap="Reds", vmin=0, vmax=1, interpolation="nearest")
            ax_dead.set_yticks(range(len(names)), names, fontsize=6)
            ax_dead.set_xticks(range(len(run.sampled_steps)),
                               [str(s) if i % 3 == 0 else "" for i, s in enumerate(run.sampled_steps)], fontsize=6)
            ax_dead.set_xlabel("step")
        ax_dead.set_title("dead fraction (red = all dead)", fontsize=9)
        index = 1 if len(self.x) > 1 else 0
        ax_signal.plot(self.x[index].numpy(), color="black", linewidth=1.2, label=f"signal {index}")
        ax_signal.plot(predict(self.model, self.x[index:index + 1])[0], linewidth=1, label="reconstruction")
        ax_signal.set_title(f"{values['activation']}, lr {values['lr']:.0e}, {values['signals']} signal(s)", fontsize=9)
        ax_signal.legend(fontsize=7)

    @staticmethod
    def describe(run) -> str:
        """The status line: the run's own line, and whether the one-channel path ended with all inputs <= 0."""
        text = run.describe()
        if run.readings and not run.diverged:
            path = one_channel_fractions(run.readings[-1]["dead_fraction"])
            text += "; one-channel path: " + ("all inputs <= 0" if max(path) == 1.0 else "alive")
        return text

    @staticmethod
    def check(values: dict):
        """A refusal (text) for runs longer than MAX_SIGNAL_STEPS signal-steps, else None."""
        if values["steps"] * values["signals"] > MAX_SIGNAL_STEPS:
            return (f"{values['steps']} steps of {values['signals']} signals would take a minute or more on a CPU: "
                    f"use at most {MAX_SIGNAL_STEPS} signal-steps (e.g. 100 steps of 16 signals)")
        return None
