"""Instruments for PyTorch models. Use them through ``course_utils.instruments``.

A "layer" is a module that owns parameters directly (Linear, Conv1d, ...),
named as in ``model.named_modules()``. An "activation layer" is a ReLU-family
module (ReLU, ReLU6, LeakyReLU, PReLU, ELU); activations applied with
``torch.nn.functional`` inside ``forward`` cannot be watched.
"""
from __future__ import annotations

import torch
from torch import nn

from . import layers_without_gradient, norms_by_layer, ratios_by_layer

ACTIVATION_TYPES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU)


def layer_label(name: str, module: nn.Module) -> str:
    """A readable name: 'fc1', or '0 Linear' for the numbered children of a Sequential."""
    kind = type(module).__name__
    if not name:
        return kind
    return f"{name} {kind}" if name.split(".")[-1].isdigit() else name


def parametric_layers(model: nn.Module) -> dict:
    """label -> list of that layer's own trainable parameters."""
    layers = {}
    for name, module in model.named_modules():
        params = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if params:
            layers[layer_label(name, module)] = params
    return layers


def activation_layers(model: nn.Module) -> dict:
    return {layer_label(name, m): m for name, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)}


def gradient_stopping_layers(model: nn.Module) -> set:
    """Labels of the activation layers that pass no gradient below zero (ReLU, ReLU6, LeakyReLU with slope 0).

    Only there does "<= 0 for every sample" mean dead: a LeakyReLU, PReLU or
    ELU unit in its negative region still passes a gradient and can recover.
    """
    return {name for name, m in activation_layers(model).items()
            if isinstance(m, (nn.ReLU, nn.ReLU6)) or (isinstance(m, nn.LeakyReLU) and m.negative_slope == 0)}


def _norm(tensors) -> float:
    return float(torch.sqrt(sum((t.detach().double() ** 2).sum() for t in tensors)))


def stored_grad_norms(model: nn.Module) -> dict:
    """Norm of what each layer's ``.grad`` holds now (accumulated or not).

    This is the reading for a loop you wrote yourself: call it after
    ``loss.backward()``. A layer whose gradients are all None reads 0.
    """
    norms = {}
    for name, params in parametric_layers(model).items():
        grads = [p.grad for p in params if p.grad is not None]
        norms[name] = _norm(grads) if grads else 0.0
    return norms


def fresh_grad_norms(model: nn.Module, x, y, loss_fn) -> dict:
    """Norm of each layer's gradient of ``loss_fn(model(x), y)``, computed anew.

    Leaves the parameters' ``.grad`` untouched, so it can be called in the
    middle of anyone's training loop.
    """
    layers, grads = _fresh_grads(model, x, y, loss_fn)
    return norms_by_layer(layers, grads, _norm)


def _fresh_grads(model: nn.Module, x, y, loss_fn):
    """The parametric layers, and the gradient of ``loss_fn(model(x), y)`` for each of their weights (None where
    no path leads from the loss to the weight)."""
    layers = parametric_layers(model)
    params = [p for ps in layers.values() for p in ps]
    loss = loss_fn(model(x), y)
    return layers, torch.autograd.grad(loss, params, allow_unused=True)


def unreached_layers(model: nn.Module, x, y, loss_fn) -> list:
    """Layers none of whose weights the loss reaches (their gradient is None, not 0)."""
    return layers_without_gradient(*_fresh_grads(model, x, y, loss_fn))


def step_gradients(model: nn.Module, x, y, loss_fn):
    rnn = next(((name, m) for name, m in model.named_modules() if isinstance(m, nn.RNNBase)), None)
    if rnn is None:
        return None
    name, module = rnn
    seen = []

    def watch_input(m, inputs):  # the recurrent layer's input becomes a leaf whose gradient we read
        if not inputs or not torch.is_tensor(inputs[0]) or inputs[0].dim() != 3:
            return None  # a PackedSequence or an unbatched sequence: not measured
        leaf = inputs[0].detach().requires_grad_(True)
        seen.append(leaf)
        return (leaf,) + tuple(inputs[1:])

    handle = module.register_forward_pre_hook(watch_input)
    try:
        loss = loss_fn(model(x), y)
    finally:
        handle.remove()
    if not seen:
        return None
    (grad,) = torch.autograd.grad(loss, seen[0], allow_unused=True)
    if grad is None:
        return None
    time_axis = 1 if module.batch_first else 0
    per_step = grad.detach().double().pow(2).movedim(time_axis, 0).reshape(grad.shape[time_axis], -1).sum(1).sqrt()
    return layer_label(name, module), per_step.numpy()


def _capture_activations(model: nn.Module, x, side: str) -> dict:
    """name -> what goes into (side="input") or comes out of (side="output") every activation layer."""
    captured, handles = {}, []
    for name, module in activation_layers(model).items():
        if side == "input":
            # a pre-hook, and a copy: an in-place ReLU (nn.ReLU(True)) overwrites its input
            handles.append(module.register_forward_pre_hook(
                lambda m, inputs, name=name: captured.__setitem__(name, inputs[0].detach().clone())))
        else:
            handles.append(module.register_forward_hook(lambda m, i, o, name=name: captured.__setitem__(name, o.detach())))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return captured


def activation_outputs(model: nn.Module, x) -> dict:
    """name -> output tensor of every activation layer on input ``x`` (no grad)."""
    return _capture_activations(model, x, "output")


def activation_inputs(model: nn.Module, x) -> dict:
    """name -> input tensor (the pre-activation) of every activation layer on input ``x`` (no grad)."""
    return _capture_activations(model, x, "input")


def _units_last(t: torch.Tensor) -> torch.Tensor:
    """(N, C, ...) -> (samples, C): a unit is a feature/channel, at every position."""
    if t.dim() == 1:
        return t.reshape(-1, 1)
    return t.movedim(1, -1).reshape(-1, t.shape[1])


def dead_fraction(model: nn.Module, x) -> dict:
    """Fraction of units per activation layer that are <= 0 for every sample.

    For ReLU that is an output of exactly zero everywhere, hence no gradient:
    the unit is dead on this batch.
    """
    return {name: float((_units_last(out) <= 0).all(dim=0).double().mean()) for name, out in activation_outputs(model, x).items()}


def activation_stats(model: nn.Module, x) -> dict:
    """name -> {mean, std, zero_fraction} of each activation layer's output."""
    stats = {}
    for name, out in activation_outputs(model, x).items():
        out = out.double()
        stats[name] = {
            "mean": float(out.mean()),
            "std": float(out.std()) if out.numel() > 1 else 0.0,
            "zero_fraction": float((out == 0).double().mean()),
        }
    return stats


def snapshot_weights(model: nn.Module) -> dict:
    return {name: [p.detach().clone() for p in params] for name, params in parametric_layers(model).items()}


def update_ratios(before: dict, model: nn.Module) -> dict:
    """||w_now - w_before|| / ||w_before|| per layer."""
    return ratios_by_layer(before, parametric_layers(model),
                           lambda params, old: _norm([p.detach() - o for p, o in zip(params, old)]), _norm)


def loss_value(model: nn.Module, x, y, loss_fn, training: bool = False) -> float:
    return float(loss_fn(torch.from_numpy(predict(model, x, training)), y))


def predict(model: nn.Module, x, training: bool = False):
    """The model's output as NumPy, in inference mode unless ``training``."""
    was_training = model.training
    model.train(training)
    try:
        with torch.no_grad():
            return model(x).detach().cpu().numpy()
    finally:
        model.train(was_training)
