"""Lab 03: a regression MLP whose ReLU units are dead before training starts.

The lab gives the student ``build_model()``, a 4-64-64-64-64-1 ReLU network
for a small tabular regression (``lab_data()``: four sensor readings -> one
standardised target). Its ``init_weights`` gives every bias a large negative
value, so the deeper ReLU layers output zero for every sample from the first
step on: no gradient reaches them, and the loss stays near the targets'
variance.

``check_build_model(build_model)`` builds a fresh model with the student's
function, reads the dead fraction of every ReLU-family layer (units that are
<= 0 for every training sample) before and after training it with a fixed
recipe (full-batch Adam, ``LEARNING_RATE``, ``STEPS`` steps), and reports
whether the model now fits. It never raises on a student's answer.

Dead fractions before training come from one forward pass and are printed
exactly. After training, whether one more unit of a healthy layer has died
depends on the machine's rounding, so ``trained_percent`` prints them in
ranges that hold on every CPU: 0%, < 10%, 10-49%, 50-99%, 100%.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import instruments_torch
from ..fmt import below, percent, sig
from ..labs import report

CHECK_NAME = "lab 03: dead units"
N_SAMPLES = 256
N_FEATURES = 4
STEPS = 300
LEARNING_RATE = 3e-3
FIT_THRESHOLD = 0.05  # training MSE (the targets have variance 1); a healthy net reaches about 0.001
FRESH_FRACTION = 0.5  # an untrained model's MSE is at least this share of the variance
_HINT = ("Measure before you change anything: cu.instruments.dead_fraction(model, x) on the untrained model. "
         "Which layers are dead before the first step, and what in build_model puts their pre-activations "
         "below zero for every sample?")


def lab_data(n: int = N_SAMPLES, seed: int = 3):
    """Four standardised readings -> one target (zero mean, unit variance), float32 tensors."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, N_FEATURES))
    y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * np.abs(x[:, 3])
    y = (y - y.mean()) / y.std()
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32)[:, None])


def broken_model(seed: int = 0) -> nn.Module:
    """The lab's network as shipped: every bias starts at -2 (for reference and tests)."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(N_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1),
    )
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.constant_(module.bias, -2.0)
    return model


def trained_percent(fraction: float) -> str:
    """A dead fraction after training, in a range that one unit more or less does not change:
    '0%' and '100%' exactly, otherwise '< 10%', '10-49%' or '50-99%'."""
    fraction = float(fraction)
    if fraction <= 0 or fraction >= 1:
        return percent(fraction)
    if fraction < 0.1:
        return "< 10%"
    return "10-49%" if fraction < 0.5 else "50-99%"


def dead_report(model: nn.Module, x, trained: bool = False) -> str:
    """'1 ReLU 0%, 3 ReLU 50%, ...': the dead fraction of every ReLU-family layer.

    trained=True: after training, in the ranges of ``trained_percent``.
    """
    style = trained_percent if trained else percent
    return ", ".join(f"{name} {style(v)}" for name, v in instruments_torch.dead_fraction(model, x).items())


def _mse(model, x, y) -> float:
    with torch.no_grad():
        prediction = model(x)
    if not isinstance(prediction, torch.Tensor) or prediction.shape != y.shape:
        shape = tuple(prediction.shape) if isinstance(prediction, torch.Tensor) else type(prediction).__name__
        raise ValueError(f"the model's output has shape {shape}; expected {tuple(y.shape)}")
    if not torch.isfinite(prediction).all():
        return math.nan
    return float(((prediction.double() - y.double()) ** 2).mean())


def _not_yet(reason: str, hint: str = _HINT, evidence=()):
    return report(CHECK_NAME, False, [reason, *evidence], hint)


def check_build_model(build_model, steps: int = STEPS, lr: float = LEARNING_RATE, seed: int = 0):
    """Build, measure, train and measure again; passes when the model fits and no layer is all dead."""
    try:
        return _check(build_model, steps, lr, seed)
    except Exception as error:  # a last guard: a check must not raise
        return _not_yet(f"the check could not run your model: {type(error).__name__}: {error}")


def _check(build_model, steps, lr, seed):
    if not callable(build_model):
        return _not_yet(f"expected a function build_model(), got {type(build_model).__name__}",
                        "Run the exercise cell, then pass the function itself: check_build_model(build_model).")
    x, y = lab_data()
    variance = float(y.double().var(unbiased=False))
    torch.manual_seed(seed)
    try:
        model = build_model()
    except Exception as error:
        return _not_yet(f"build_model() raised {type(error).__name__}: {error}")
    if not isinstance(model, nn.Module):
        return _not_yet(f"build_model() must return a torch.nn.Module, got {type(model).__name__}",
                        "Return the network, e.g. nn.Sequential(...).")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return _not_yet("the model has no trainable parameters", "Build a network the optimizer can train.")
    if not instruments_torch.activation_layers(model):
        return _not_yet("the model has no ReLU-family layer (nn.ReLU, nn.LeakyReLU, nn.ELU, ...) to measure",
                        "Keep the network's nonlinearity; find what kills its units instead of removing them.")
    try:
        initial = _mse(model, x, y)
        dead_before = instruments_torch.dead_fraction(model, x)
    except Exception as error:
        return _not_yet(f"the model cannot process the lab's inputs (256, 4): {type(error).__name__}: {error}",
                        "The network takes 4 features and returns one value per sample, shape (n, 1).")
    if not initial >= FRESH_FRACTION * variance:  # also catches NaN
        return _not_yet(f"the model fits before any training (MSE {sig(initial)}, the targets' variance is "
                        f"{sig(variance)})", "build_model() must return a new, untrained network.")

    optimizer = torch.optim.Adam(params, lr=lr)
    model.train()
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            if not torch.isfinite(loss):
                break
            loss.backward()
            optimizer.step()
        final = _mse(model, x, y)
        dead_after = instruments_torch.dead_fraction(model, x)
    except Exception as error:
        return _not_yet(f"training failed: {type(error).__name__}: {error}")

    # only where no gradient passes below zero (ReLU) is a unit that is off for every sample dead;
    # a LeakyReLU/ELU unit there still learns, so it is listed but never called dead
    stopping = instruments_torch.gradient_stopping_layers(model)

    def layers(reading, style):
        return ", ".join(f"{name} {style(v)}" + ("" if name in stopping else " (below zero, still passes a gradient)")
                         for name, v in reading.items())

    all_dead = [name for name, v in dead_after.items() if v >= 1.0 and name in stopping]
    fits = bool(math.isfinite(final) and final < FIT_THRESHOLD)
    evidence = [
        f"dead units before training: {layers(dead_before, percent)}",
        f"dead units after {steps} steps of Adam (lr {lr:g}): {layers(dead_after, trained_percent)}",
        f"training MSE {sig(initial)} -> {below(final, 1e-3) if fits else sig(final)} "
        f"(fits: below {FIT_THRESHOLD}; the targets' variance is {sig(variance)})",
    ]
    if all_dead:
        return _not_yet(f"layer(s) {', '.join(all_dead)} are dead for every sample after training", evidence=evidence)
    if not fits:
        return _not_yet("no layer is entirely dead, but the model does not fit yet", evidence=evidence,
                        hint="Look at the dead fraction before training too: a layer that starts mostly dead "
                             "starves the layers after it. Start the biases at zero (or small positive values).")
    return report(CHECK_NAME, True, evidence)
