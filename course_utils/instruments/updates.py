"""Instruments for weights that never move: what the optimizer holds, .grad None or 0, how far a step moves
each layer, and the loss of one batch with and without the regularisers.

    held = optimizer_coverage(model, optimizer)   # the model's trainable tensors the optimizer holds
    grads = grad_states(model)                    # PyTorch: per parameter, .grad is None, 0 or not 0
    moved = step_ratios(model, one_step, steps=3) # per layer ||w_after - w_before|| / ||w_before||, frozen ones too
    reg = regularised_loss(model, x, y, loss, optimizer)  # dropout on / off, the weight-decay term

Both frameworks. ``step_ratios`` counts every layer with weights, frozen ones
included, so a layer nothing moves reads exactly 0 (``update_ratios`` in this
package lists only the trainable ones). The frozen layers and the verdict on
the optimizer come from ``diagnosis.setup_checks``: ``diagnose`` and these
instruments say the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from ..diagnosis.findings import Report
from ..diagnosis.setup_checks import check_optimizer_holds_model, frozen_layers, parameters_left_out
from ..fmt import sig
from ..frameworks import framework_of, keras_layers
from . import float64_norm, ratios_by_layer

# --- which parameters the optimizer holds --------------------------------------------


@dataclass
class Coverage:
    """The model's trainable tensors against the ones the optimizer holds (names as the framework gives them)."""

    trainable: tuple        # the model's trainable tensors
    held: tuple             # those of them the optimizer holds
    foreign: int            # tensors the optimizer holds that are not the model's
    frozen_layers: tuple    # layers whose weights are all frozen (requires_grad=False / trainable=False)
    verdict: str = ""       # diagnose's finding about it, or "" when the optimizer holds every trainable tensor
    built: bool = True      # Keras: False while the optimizer has not been built (it holds nothing yet)

    @property
    def missing(self) -> tuple:
        return tuple(name for name in self.trainable if name not in self.held)

    @property
    def complete(self) -> bool:
        return bool(self.trainable) and not self.missing

    def __str__(self) -> str:
        if not self.built:
            return (f"the optimizer is not built yet: it holds no tensor until its first step "
                    f"(the model has {len(self.trainable)} trainable)")
        text = (f"the optimizer holds {len(self.held)} of the model's {len(self.trainable)} trainable tensors"
                f" and {self.foreign} other tensor(s)")
        if self.frozen_layers:
            text += f"; frozen layers: {', '.join(self.frozen_layers)}"
        return text

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


def _torch_coverage(model, optimizer) -> Coverage:
    held_ids, named, left_out = parameters_left_out(model, optimizer)
    model_ids = {id(p) for _, p in model.named_parameters()}
    rep = Report()
    check_optimizer_holds_model(SimpleNamespace(framework="torch", optimizer=optimizer, original=model), rep, model)
    verdict = "; ".join(rep.finding("optimizer-not-on-model").evidence) if rep.codes else ""
    frozen, _ = frozen_layers(SimpleNamespace(framework="torch"), model)
    return Coverage(tuple(name for name, _ in named), tuple(name for name, _ in named if name not in left_out),
                    len(held_ids - model_ids), tuple(frozen), verdict)


def _keras_held(optimizer):
    """The variables a Keras optimizer was built over, or None when it is not built yet."""
    if not getattr(optimizer, "built", False):
        return None
    return list(getattr(optimizer, "_trainable_variables", []))


def _keras_coverage(model, optimizer) -> Coverage:
    trainable = list(model.trainable_weights)
    names = tuple(v.path for v in trainable)
    frozen, _ = frozen_layers(SimpleNamespace(framework="keras"), model)
    held = _keras_held(optimizer)
    if held is None:
        return Coverage(names, (), 0, tuple(frozen), "", built=False)
    held_ids = {id(v) for v in held}
    model_ids = {id(v) for v in model.weights}
    held_names = tuple(v.path for v in trainable if id(v) in held_ids)
    missing = [n for n in names if n not in held_names]
    verdict = ""
    if missing:
        verdict = (f"the optimizer leaves out {len(missing)} of the model's {len(names)} trainable tensors: "
                   f"{', '.join(missing[:6])}" + (" ..." if len(missing) > 6 else ""))
    return Coverage(names, held_names, len(held_ids - model_ids), tuple(frozen), verdict)


def optimizer_coverage(model, optimizer) -> Coverage:
    """Which of the model's trainable tensors the optimizer holds, and how many it holds that are not the model's.

    PyTorch: ``optimizer.param_groups``; Keras: the variables the optimizer was built over (after its first
    step, ``fit`` or ``optimizer.build``) against ``model.trainable_weights``.
    """
    if framework_of(model) == "torch":
        return _torch_coverage(model, optimizer)
    return _keras_coverage(model, optimizer)


# --- .grad: None, 0, or a gradient ------------------------------------------------------

GRAD_STATES = ("none", "zero", "nonzero")


@dataclass
class GradStates:
    """Per parameter: 'none' (no gradient reached it), 'zero' (a gradient of exactly 0) or 'nonzero'."""

    states: dict = field(default_factory=dict)

    def count(self, state: str) -> int:
        return sum(1 for s in self.states.values() if s == state)

    def names(self, state: str) -> list:
        return [name for name, s in self.states.items() if s == state]

    def __str__(self) -> str:
        n = len(self.states)
        return (f"of {n} parameters: .grad is None for {self.count('none')}, exactly 0 for {self.count('zero')}, "
                f"a gradient for {self.count('nonzero')}")

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


def _state(grad) -> str:
    if grad is None:
        return "none"
    values = np.asarray(grad.detach().cpu().numpy() if hasattr(grad, "detach") else grad)
    return "nonzero" if np.any(values != 0) else "zero"


def grad_states(model, x=None, y=None, loss=None) -> GradStates:
    """PyTorch without ``x``: what each parameter's ``.grad`` holds now (after your backward()).

    With ``x, y, loss`` (PyTorch or Keras): the gradient of ``loss`` on that batch, computed anew in
    training mode; a parameter the loss does not reach reads 'none' (frozen ones too: no gradient is asked).
    """
    if framework_of(model) == "torch":
        if x is None:
            return GradStates({name: _state(p.grad) for name, p in model.named_parameters()})
        import torch

        named = list(model.named_parameters())
        asked = [p for _, p in named if p.requires_grad]
        value = loss(model(x), y)
        grads = iter(torch.autograd.grad(value, asked, allow_unused=True)) if value.requires_grad else None
        return GradStates({name: _state(next(grads)) if (grads and p.requires_grad) else "none" for name, p in named})
    if x is None:
        raise TypeError("Keras keeps no .grad: call grad_states(model, x, y, loss)")
    from .for_keras import line_up, loss_function, tf

    loss_fn = loss_function(loss)
    weights = model.trainable_weights
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(loss_fn(*line_up(y, model(x, training=True))))
    grads = dict(zip((id(w) for w in weights), tape.gradient(value, weights)))
    return GradStates({w.path: _state(grads.get(id(w))) for w in model.weights if id(w) in grads or not w.trainable})


# --- how far a few steps move each layer ----------------------------------------------


def layer_weights(model) -> dict:
    """layer -> its weights, frozen ones included (PyTorch: parameters by module; Keras: a trainable layer's
    trainable weights, every weight of a frozen one)."""
    if framework_of(model) == "torch":
        layers = {}
        for name, p in model.named_parameters():
            layers.setdefault(name.rpartition(".")[0] or name, []).append(p)
        return layers
    layers = {}
    for layer in keras_layers(model):
        weights = layer.trainable_weights if layer.trainable else layer.weights
        if weights:
            layers[layer.name] = list(weights)
    return layers


def _values(weight) -> np.ndarray:
    value = weight.detach().cpu().numpy() if hasattr(weight, "detach") else np.asarray(weight)
    return value.astype(np.float64, copy=True)


def snapshot(model) -> dict:
    """Every layer's weights as float64 copies (frozen ones included)."""
    return {name: [_values(w) for w in ws] for name, ws in layer_weights(model).items()}


def ratios_since(before: dict, model) -> dict:
    """layer -> ||w_now - w_before|| / ||w_before||: exactly 0.0 for a layer nothing moved."""
    return ratios_by_layer(before, layer_weights(model),
                           lambda ws, old: float64_norm(_values(w) - o for w, o in zip(ws, old)), float64_norm)


def step_ratios(model, step, steps: int = 1) -> dict:
    """Call ``step()`` (one step of your own training loop) ``steps`` times; per layer, how far the weights
    moved as a fraction of their norm, over all the steps. Healthy: about 1e-3 per step; nothing moved: 0."""
    before = snapshot(model)
    for _ in range(steps):
        step()
    return ratios_since(before, model)


def describe_ratios(ratios: dict) -> str:
    """One line: each layer's ratio (3 significant digits), exact zeros written as 0."""
    parts = [f"{name} {'0' if r == 0 else sig(r)}" for name, r in ratios.items()]
    still = sum(1 for r in ratios.values() if r == 0)
    return f"{still} of {len(ratios)} layers did not move at all: " + ", ".join(parts)


# --- the loss with and without the regularisers ------------------------------------------


@dataclass
class RegularisedLoss:
    """One batch's loss with the regularisers on and off.

    training: the mean loss in training mode (dropout on) over ``draws`` dropout masks;
    inference: the loss in inference mode (dropout off); penalty: the weight-decay term the optimizer adds
    (``weight_decay / 2 * sum ||w||²`` for PyTorch's coupled decay; Keras: ``model.losses`` plus the
    optimizer's ``weight_decay / 2 * sum ||w||²``), 0 when there is none.
    """

    training: float
    inference: float
    penalty: float
    weight_decay: float

    @property
    def dropout_gap(self) -> float:
        return self.training - self.inference

    def __str__(self) -> str:
        return (f"loss with dropout on {sig(self.training)}, off {sig(self.inference)}; "
                f"weight decay {self.weight_decay:g} adds {sig(self.penalty)}")

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


def weight_decay(optimizer) -> float:
    """The optimizer's weight decay, 0 without one (PyTorch: the largest among its parameter groups)."""
    if optimizer is None:
        return 0.0
    if hasattr(optimizer, "param_groups"):
        return max((float(group.get("weight_decay") or 0.0) for group in optimizer.param_groups), default=0.0)
    return float(optimizer.get_config().get("weight_decay") or 0.0)


def regularised_loss(model, x, y, loss, optimizer=None, draws: int = 8, seed: int = 0) -> RegularisedLoss:
    """The loss of (x, y) in training mode (dropout on, mean over ``draws`` masks drawn from ``seed``) and in
    inference mode, and the weight-decay term. Nothing in the model changes (PyTorch's RNG is forked; Keras
    draws from its dropout layers' own seed generators, so there ``seed`` is unused)."""
    if framework_of(model) == "torch":
        import torch

        was = model.training
        try:
            with torch.no_grad(), torch.random.fork_rng():
                torch.manual_seed(seed)
                model.train()
                training = float(np.mean([float(loss(model(x), y)) for _ in range(draws)]))
                model.eval()
                inference = float(loss(model(x), y))
        finally:
            model.train(was)
        decay = weight_decay(optimizer)
        squares = sum(float((p.detach().double() ** 2).sum()) for p in model.parameters() if p.requires_grad)
        return RegularisedLoss(training, inference, decay / 2 * squares, decay)
    from .for_keras import line_up, loss_function, tf

    loss_fn = loss_function(loss)
    mean = lambda out: float(tf.reduce_mean(loss_fn(*line_up(y, out))))  # noqa: E731
    training = float(np.mean([mean(model(x, training=True)) for _ in range(draws)]))
    inference = mean(model(x, training=False))
    decay = weight_decay(optimizer)
    squares = sum(float(np.sum(np.asarray(w, dtype=np.float64) ** 2)) for w in model.trainable_weights)
    penalty = decay / 2 * squares + sum(float(v) for v in model.losses)
    return RegularisedLoss(training, inference, penalty, decay)
