"""Lab 03: a regression MLP whose ReLU units are dead before training starts.

The lab gives the student ``build_model()``, a 4-64-64-64-64-1 ReLU network
for a small tabular regression (``lab_data()``: four sensor readings -> one
standardised target). Its ``init_weights`` gives every bias a large negative
value, so the deeper ReLU layers output zero for every sample from the first
step on: no gradient reaches them, and the loss stays near the targets'
variance.

``check_build_model(build_model)`` builds a fresh model with the student's
function and first makes sure it is still the lab's network, as the task
asks: Linear layers 4 -> 64 -> 64 -> 64 -> 64 -> 1 with ReLU between them and
nothing else (no other activation, no normalisation). It decides that by
measuring, not by reading code: hooks on the ``nn.Linear`` layers record what
each one receives and returns in a forward pass (``linear_trace``), and the
input of every Linear layer must be ReLU of the previous one's output, however
the ReLU is written (``nn.ReLU``, ``F.relu``, ``clamp``). The probe runs before
and after training, on the lab's inputs and on inputs eight times larger (where
a cap on large values, as in ReLU6, shows).

Then it reads the dead fraction of every hidden layer (units whose
pre-activation is <= 0 for every training sample, so their ReLU outputs 0)
before and after training the model with a fixed recipe (full-batch Adam,
``LEARNING_RATE``, ``STEPS`` steps), and reports whether the model now fits.
Every call into the student's code runs under a time limit. It never raises
on a student's answer.

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

from ..fmt import below, percent, sig
from ..labs import STUDENT_TIME_LIMIT_S, Stopped, call_student, report

CHECK_NAME = "lab 03: dead units"
N_SAMPLES = 256
N_FEATURES = 4
STEPS = 300
LEARNING_RATE = 3e-3
FIT_THRESHOLD = 0.05  # training MSE (the targets have variance 1); a healthy net reaches about 0.001
FRESH_FRACTION = 0.5  # an untrained model's MSE is at least this share of the variance
LAYER_SIZES = [(4, 64), (64, 64), (64, 64), (64, 64), (64, 1)]  # (in, out) of the Linear layers, in order
LARGE_INPUTS = 8.0  # the probe also feeds inputs this many times larger, so that a cap on large values shows
BUILD_LIMIT_S = 30  # for build_model() and for one forward pass
TRAIN_LIMIT_S = STUDENT_TIME_LIMIT_S  # for the check's training (a healthy model takes about a second)
_HINT_LAYOUT = ("Keep the lab's network: Linear layers 4 -> 64 -> 64 -> 64 -> 64 -> 1 with a ReLU after each "
                "hidden one, and nothing else. The bug is in how build_model starts it, not in its layers.")
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


# --- measuring the network through its Linear layers ---------------------------------

def linear_trace(model: nn.Module, x):
    """Run ``model`` on ``x`` once: ([(layer, what it received, what it returned)] in the order
    the nn.Linear layers ran, the model's output). Copies: an in-place ReLU cannot change them."""
    calls = []

    def record(layer, inputs, output):
        calls.append((layer, inputs[0].detach().clone(), output.detach().clone()))

    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            output = model(x.clone())
    finally:
        for handle in handles:
            handle.remove()
    return calls, output


def hidden_dead_fractions(calls) -> dict:
    """'layer 1' -> share of its units whose pre-activation is <= 0 for every sample (ReLU outputs 0)."""
    return {f"layer {k}": float((output <= 0).all(dim=0).double().mean())
            for k, (_, _, output) in enumerate(calls[:-1], start=1)}


def dead_report(model: nn.Module, x, trained: bool = False) -> str:
    """'layer 1 0%, layer 2 50%, ...': the dead fraction of every hidden layer of an MLP of nn.Linear layers.

    trained=True: after training, in the ranges of ``trained_percent``.
    """
    calls, _ = linear_trace(model, x)
    return _layers(hidden_dead_fractions(calls), trained_percent if trained else percent)


def _layers(reading: dict, style) -> str:
    return ", ".join(f"{name} {style(v)}" for name, v in reading.items())


def _chain(sizes) -> str:
    """[(4, 64), (64, 1)] -> '4 -> 64 -> 1'; layers that do not chain are listed one by one."""
    if all(a[1] == b[0] for a, b in zip(sizes, sizes[1:])):
        return " -> ".join(str(n) for n in [sizes[0][0]] + [out for _, out in sizes])
    return ", ".join(f"{a} -> {b}" for a, b in sizes)


def _same(a, b) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-6)


def _not_relu(pre, received) -> str:
    """How what a Linear layer received differs from ReLU of the previous layer's output."""
    if received.shape != pre.shape:
        return f"receives shape {tuple(received.shape)} where ReLU would give {tuple(pre.shape)}"
    positive = pre > 0
    if not _same(received[positive], pre[positive]):
        return "does not receive the positive pre-activations unchanged, as ReLU passes them"
    return "receives non-zero values for negative pre-activations, where ReLU outputs 0"


def layout_problem(model: nn.Module, calls, output, inputs):
    """None if ``model`` computed the lab's network on ``inputs``, else what differs (one sentence)."""
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    linear_params = {id(p) for m in linear for p in m.parameters()}
    outside = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in linear_params]
    if outside:
        return f"it has trainable parameters outside its Linear layers ({', '.join(outside)})"
    if not calls:
        return "no nn.Linear layer ran in its forward pass (the check measures the network through them)"
    sizes = [(layer.in_features, layer.out_features) for layer, _, _ in calls]
    if sizes != LAYER_SIZES:
        return f"its Linear layers run {_chain(sizes)}; the lab's network is {_chain(LAYER_SIZES)}"
    if len({id(layer) for layer, _, _ in calls}) < len(calls):
        return "one of its Linear layers runs more than once"
    if not _same(calls[0][1], inputs):
        return "its first Linear layer does not receive the inputs as they are (something changes them first)"
    for k, ((_, _, pre), (_, received, _)) in enumerate(zip(calls, calls[1:]), start=1):
        if not _same(received, pre.clamp(min=0)):
            return f"Linear layer {k + 1} {_not_relu(pre, received)}"
    if not _same(output, calls[-1][2]):
        return "its output is not what its last Linear layer returns (something comes after it)"
    return None


def _modules_besides_linear_and_relu(model: nn.Module) -> str:
    """' (its modules besides Linear and ReLU: GELU, BatchNorm1d)', or '' (the ReLU may be F.relu)."""
    names = sorted({type(m).__name__ for m in model.modules()
                    if not list(m.children()) and not isinstance(m, (nn.Linear, nn.ReLU))})
    return f" (its modules besides Linear and ReLU: {', '.join(names)})" if names else ""


def _layout(model, x, when: str):
    """None if the model computes the lab's network, else a sentence: what differs, or what went wrong."""
    probes = ((x, f"the lab's inputs {tuple(x.shape)}"), (LARGE_INPUTS * x, f"inputs {LARGE_INPUTS:g} times larger"))
    for inputs, which in probes:
        traced, error = call_student(f"your model's forward pass on {which}", linear_trace, model, inputs,
                                     limit_s=BUILD_LIMIT_S)
        if error:
            return error
        problem = layout_problem(model, *traced, inputs)
        if problem:
            named = _modules_besides_linear_and_relu(model)
            return f"{when}, the model is not the lab's ReLU network: {problem}{named}"
    return None


def _measure(model, x, y):
    """(dead fraction per hidden layer, MSE on (x, y); nan if not finite)."""
    calls, output = linear_trace(model, x)
    if not torch.isfinite(output).all():
        return hidden_dead_fractions(calls), math.nan
    return hidden_dead_fractions(calls), float(((output.double() - y.double()) ** 2).mean())


def _train(model, x, y, steps: int, lr: float) -> None:
    """The check's recipe: full-batch Adam on the MSE, stopped early if the loss is not finite."""
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x.clone()), y)
        if not torch.isfinite(loss):
            break
        loss.backward()
        optimizer.step()


def _lab_network_measured(model, x, y, when: str, what: str):
    """((dead fraction per layer, MSE), None) when the model is still the lab's network, else (None, why not)."""
    problem = _layout(model, x, when)
    if problem:
        return None, problem
    return call_student(what, _measure, model, x, y, limit_s=BUILD_LIMIT_S)


def _not_yet(reason: str, hint: str = _HINT, evidence=()):
    return report(CHECK_NAME, False, [reason, *evidence], hint)


def check_build_model(build_model, steps: int = STEPS, lr: float = LEARNING_RATE, seed: int = 0):
    """Build, check the network is the lab's, measure, train and measure again.

    Passes when the model is still the lab's ReLU network, fits, and no layer is all dead.
    """
    if not callable(build_model):
        return _not_yet(f"expected a function build_model(), got {type(build_model).__name__}",
                        "Run the exercise cell, then pass the function itself: check_build_model(build_model).")
    x, y = lab_data()
    variance = float(y.double().var(unbiased=False))
    torch.manual_seed(seed)
    model, error = call_student("build_model()", build_model, limit_s=BUILD_LIMIT_S)
    timed_out = isinstance(error, Stopped)
    if error:
        return _not_yet(error, "build_model() only builds a network, in a moment: look for a loop in it that "
                               "never ends." if timed_out else
                               "Run build_model() yourself in a cell: the error above says where it stops.")
    if isinstance(model, type):
        return _not_yet(f"build_model() must return a torch.nn.Module, got the class {model.__name__} itself",
                        f"Return a network, not its class: {model.__name__}(), with the parentheses.")
    if not isinstance(model, nn.Module):
        return _not_yet(f"build_model() must return a torch.nn.Module, got {type(model).__name__}",
                        "Return the network, e.g. nn.Sequential(...).")
    measured, problem = _lab_network_measured(model, x, y, "before training", "measuring your model")
    if problem:
        return _not_yet(problem, _HINT_LAYOUT)
    dead_before, initial = measured
    lowest_bias = _lowest_bias(model)
    if not initial >= FRESH_FRACTION * variance:  # also catches NaN
        return _not_yet(f"the model fits before any training (MSE {sig(initial)}, the targets' variance is "
                        f"{sig(variance)})", "build_model() must return a new, untrained network.")

    _, error = call_student("training your model", _train, model, x, y, steps, lr, limit_s=TRAIN_LIMIT_S)
    timed_out = isinstance(error, Stopped)
    if error:
        return _not_yet(error, f"The check's {steps} steps take about a second on the lab's network: look for a "
                               "wait or a loop in your model's forward." if timed_out else
                               "The check trains your model with full-batch Adam on the MSE, as the cell "
                               "\"Before and after\" does: run that cell to see where it stops.")
    measured, problem = _lab_network_measured(model, x, y, "after training", "measuring your trained model")
    if problem:
        return _not_yet(problem, _HINT_LAYOUT)
    dead_after, final = measured

    fits = bool(math.isfinite(final) and final < FIT_THRESHOLD)
    evidence = [
        f"the network is the lab's: Linear layers {_chain(LAYER_SIZES)} with ReLU between them, nothing else",
        f"dead units before training: {_layers(dead_before, percent)}",
        f"dead units after {steps} steps of Adam (lr {lr:g}): {_layers(dead_after, trained_percent)}",
        f"training MSE {sig(initial)} -> {below(final, 1e-3) if fits else sig(final)} "
        f"(fits: below {FIT_THRESHOLD}; the targets' variance is {sig(variance)})",
    ]
    all_dead = [name for name, v in dead_after.items() if v >= 1.0]
    if all_dead:
        return _not_yet(f"{', '.join(all_dead)} {'is' if len(all_dead) == 1 else 'are'} dead for every sample "
                        "after training", _dead_hint(all_dead, dead_before), evidence)
    if not fits:
        return _not_yet("no layer is entirely dead, but the model does not fit yet",
                        _no_fit_hint(lowest_bias, dead_before), evidence)
    return report(CHECK_NAME, True, evidence)


def _dead_hint(all_dead, dead_before) -> str:
    if all(dead_before[name] >= 1.0 for name in all_dead):
        return _HINT
    return (f"{', '.join(all_dead)} had live units before training and lost them all during it: something "
            "(the size of the weights, the biases) pushed every pre-activation below zero. Compare what goes "
            "into those ReLUs before and after training.")


def _lowest_bias(model) -> float:
    """The lowest bias of any Linear layer (0 when they have none)."""
    biases = [float(m.bias.detach().min()) for m in model.modules() if isinstance(m, nn.Linear) and m.bias is not None]
    return min(biases, default=0.0)


def _no_fit_hint(lowest_bias: float, dead_before) -> str:
    if lowest_bias < 0 and max(dead_before.values()) >= 0.5:
        return (f"A layer starts mostly dead ({_layers(dead_before, percent)}) and starves the layers after it. "
                f"Your biases still start below zero (the lowest at {sig(lowest_bias)}): what does that do to "
                "the pre-activations when the weights contribute little?")
    return ("The units are alive, yet the model does not fit in the check's steps: compare the scale of your "
            "weights and biases at the start with the shipped He initialisation.")
