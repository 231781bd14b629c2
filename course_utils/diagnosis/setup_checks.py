"""Checks of the student's training set-up rather than the model: frozen parameters, an optimizer
over other tensors, a learning rate too small to move anything."""
from __future__ import annotations

import numpy as np

from ..fmt import percent, sig
from ..frameworks import error_text, keras_layers, map_inputs

# per optimizer step, ||w_after - w_before|| / ||w_before||: healthy training moves weights by about 1e-3
LOW_UPDATE_RATIO = 1e-5
STILL_LOSS = 0.01  # the loss moved by less than this fraction of itself over the learning-rate probe


def frozen_layers(ad, model) -> tuple:
    """(layers whose weights are all frozen, layers with weights): requires_grad=False, or trainable=False."""
    if ad.framework == "torch":
        layers = {}
        for name, parameter in model.named_parameters():
            layers.setdefault(name.rpartition(".")[0] or name, []).append(parameter.requires_grad)
        return [name for name, trains in layers.items() if not any(trains)], list(layers)
    with_weights = [layer for layer in keras_layers(model) if layer.weights]
    # a Normalization layer's weights never train, by design: only a layer switched off counts
    return [layer.name for layer in with_weights if not layer.trainable], [layer.name for layer in with_weights]


def check_frozen(ad, rep, model):
    """A finding now when nothing can train; when part of the model is frozen, its evidence, to judge after the probe."""
    frozen, layers = frozen_layers(ad, model)
    if not frozen:
        rep.passed.append("frozen-parameters")
        return None
    switch = "requires_grad=False" if ad.framework == "torch" else "trainable=False"
    evidence = (f"{len(frozen)} of {len(layers)} layers with weights are frozen ({switch}): {', '.join(frozen[:6])}"
                + (" ..." if len(frozen) > 6 else ""))
    if len(frozen) == len(layers):
        rep.add("frozen-parameters", [evidence, "no weight can change, whatever the optimizer does"])
        return None
    return evidence  # fine-tuning freezes layers on purpose: judged by whether the rest can fit


def judge_frozen_after_probe(rep, evidence):
    """Part of the model frozen: a finding if the rest could not memorise the batch, else a note."""
    if evidence is None:
        return
    if "cannot-overfit" in rep.codes or "too-few-steps" in rep.codes:
        rep.add("frozen-parameters", [evidence, "the layers left to train could not memorise this batch"])
    else:
        rep.notes.append(f"{evidence}; the rest memorised the batch, so this is fine if you froze them on purpose")


def parameters_left_out(model, optimizer) -> tuple:
    """PyTorch: (ids of the tensors the optimizer holds, the model's trainable (name, parameter) pairs, the names
    of those the optimizer does not hold)."""
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    return held, trainable, [name for name, p in trainable if id(p) not in held]


def unregistered_tensors(model, loss) -> list:
    """PyTorch: the tensors ``loss`` depends on that require a gradient but are not ``model.parameters()``
    (layers kept in a Python list instead of an nn.ModuleList, a tensor not wrapped in nn.Parameter)."""
    registered = {id(p) for p in model.parameters()}
    found, seen, stack = {}, set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # an AccumulateGrad node: a leaf that receives a gradient
        if variable is not None and id(variable) not in registered:
            found[id(variable)] = variable
        stack += [next_node for next_node, _ in node.next_functions]
    return list(found.values())


def untracked_variables(model, x) -> list:
    """Keras: trainable TensorFlow variables the forward pass reads that are not among ``model.weights``
    (a layer that makes its weights with tf.Variable instead of self.add_weight): fit never trains them."""
    import tensorflow as tf

    tracked = {id(v) for w in model.weights for v in (w, getattr(w, "value", w))}
    with tf.GradientTape() as tape:
        model(map_inputs(lambda array: array[:2], x), training=True)  # which variables are read: two rows tell
    return [v for v in tape.watched_variables() if id(v) not in tracked]


def check_unregistered(ad, rep, model):
    """Weights the model uses that no optimizer built from its parameters (or fit) will ever hold."""
    if ad.framework == "keras":
        try:
            hidden = untracked_variables(model, ad.x)
        except Exception as e:  # noqa: BLE001
            rep.skip("unregistered-parameters", f"could not watch the forward pass: {error_text(e)}")
            return
        if hidden:
            rep.add("unregistered-parameters",
                    [f"the forward pass reads {len(hidden)} trainable variable(s) that are not among model.weights: "
                     + ", ".join(f"{v.name} {tuple(v.shape)}" for v in hidden[:6]) + (" ..." if len(hidden) > 6 else ""),
                     "fit and model.trainable_variables leave them out, so they never change"])
        else:
            rep.passed.append("unregistered-parameters")
        return
    try:
        model.train()
        loss = ad.loss(model(ad.x), ad.y)
    except Exception as e:  # noqa: BLE001  (several inputs passed another way, a loss on other terms)
        rep.skip("unregistered-parameters", f"could not trace the loss back: {error_text(e)}")
        return
    hidden = unregistered_tensors(model, loss)
    if not hidden:
        rep.passed.append("unregistered-parameters")
        return
    shapes = ", ".join(str(tuple(t.shape)) for t in hidden[:6]) + (" ..." if len(hidden) > 6 else "")
    rep.add("unregistered-parameters",
            [f"the loss depends on {len(hidden)} tensor(s) that require a gradient but are not among "
             f"model.parameters() (shapes {shapes}): an optimizer built from model.parameters() never updates them"])


SECOND_BACKWARD = "backward through the graph a second time"  # PyTorch's words when a step reaches into the last


def graph_holding_attributes(model) -> list:
    """PyTorch: the module attributes (not parameters or buffers) that hold a tensor with a gradient history after a
    forward pass, alone or in a tuple or list: a recurrent state kept in ``self``, say."""
    import torch

    held = []
    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            values = value if isinstance(value, (tuple, list)) else (value,)
            if not attr.startswith("_") and any(isinstance(v, torch.Tensor) and v.grad_fn is not None for v in values):
                held.append(f"{prefix}.{attr}" if prefix else attr)
    return held


def check_state_across_steps(ad, rep, model):
    """PyTorch: a training probe failed because backward reached the graph of the step before (freed by then): the
    model carries a tensor from one step into the next without detaching it. ``model`` has run forward."""
    reasons = [reason for _, reason in rep.skipped if SECOND_BACKWARD in reason]
    if ad.framework != "torch" or not reasons:
        return
    held = graph_holding_attributes(model)
    rep.add("state-across-steps",
            ["the second training step on a copy refused: its backward pass reached into the graph of the first"]
            + ([f"after a forward pass the model's {', '.join(held)} {'holds' if len(held) == 1 else 'hold'} a tensor "
                "with that graph, and the next forward starts from it"] if held else []))


def check_optimizer_holds_model(ad, rep, model):
    """PyTorch: the optimizer must hold the parameters of the model that is trained (not of an earlier one)."""
    if ad.framework != "torch" or ad.optimizer is None:
        return
    held, trainable, left_out = parameters_left_out(ad.original, ad.optimizer)
    if not trainable or not left_out:
        rep.passed.append("optimizer-not-on-model")
        return
    if len(left_out) == len(trainable):
        rep.add("optimizer-not-on-model",
                [f"the optimizer holds {len(held)} tensors, none of them among the model's {len(trainable)} trainable "
                 "parameters: optimizer.step() changes other tensors (a model built before this one?)"])
    else:
        rep.add("optimizer-not-on-model",
                [f"the optimizer leaves out {len(left_out)} of the model's {len(trainable)} trainable parameters: "
                 f"{', '.join(left_out[:6])}" + (" ..." if len(left_out) > 6 else "")])


def step_size(ad, model, optimizer, steps):
    """Train ``model`` ``steps`` steps; (run, median per-step update/weight ratio over the layers)."""
    from .. import instruments

    before = instruments.snapshot_weights(model)
    run = ad.train(model, optimizer, steps)
    ratios = [r for r in instruments.update_ratios(before, model).values() if np.isfinite(r)]
    return run, (float(np.median(ratios)) / max(steps, 1) if ratios else float("nan"))


def judge_step_size(ad, rep, lr_run, ratio, steps, probe_losses=None):
    """The student's settings move nothing within the probe: name the learning rate, not the model.

    Only this end is judged from the step size. A large step, or a loss that falls slowly, is not a
    bug on its own: small healthy models move their weights by large fractions early on, and plain
    SGD lowers the loss more slowly than the probe's Adam (measured on the real-bug benchmark).
    """
    if lr_run is None or not np.isfinite(ratio):
        return
    moved = loss_moved(lr_run)
    if ratio >= LOW_UPDATE_RATIO or moved >= STILL_LOSS:
        return
    first, last = float(lr_run.losses[0]), float(lr_run.losses[-1])
    lr = ad.lr()
    evidence = [f"{steps} steps at {f'lr {lr:.3g}' if lr else 'your settings'}: each step changed the weights by about "
                f"{sig(ratio)} of their norm (healthy: about 1e-3), and the loss moved {percent(moved)} "
                f"({sig(first)} -> {sig(last)})"]
    probe_moved = _probe_progress(probe_losses, steps)
    if probe_moved is not None and probe_moved > STILL_LOSS:
        evidence.append(f"the probe's own Adam lowered the loss {percent(probe_moved)} in as many steps on a copy: "
                        "the model can learn; your steps are too small to show it")
    rep.add("update-ratio-low", evidence)


def loss_moved(run) -> float:
    """How far a run moved its loss, as a fraction of where it started."""
    first, last = float(run.losses[0]), float(run.losses[-1])
    return abs(first - last) / max(abs(first), 1e-12)


def stalls(lr_probe) -> bool:
    """The student's own settings left the loss where it was (False when they were not probed)."""
    return lr_probe is not None and loss_moved(lr_probe[0]) < STILL_LOSS


def _probe_progress(probe_losses, steps):
    """How much the overfit probe lowered the loss in its first ``steps`` steps (a fraction), or None."""
    if probe_losses is None or len(probe_losses) <= steps:
        return None
    first, later = float(probe_losses[0]), float(probe_losses[steps])
    return (first - later) / max(abs(first), 1e-12) if np.isfinite(later) else None


def _unit_weights(ad, model) -> list:
    """(layer name, one row per output unit: its weights, then its bias) for the Dense/Linear and convolution layers, in
    order."""
    from ..frameworks import to_numpy

    layers = []
    if ad.framework == "torch":
        for name, m in model.named_modules():
            if isinstance(m, (ad.nn.Linear, ad.nn.modules.conv._ConvNd)) and getattr(m, "weight", None) is not None:
                w = to_numpy(m.weight.detach())
                bias = to_numpy(m.bias.detach()) if m.bias is not None else np.zeros(len(w))
                if isinstance(m, ad.nn.modules.conv._ConvTransposeNd):
                    w = np.moveaxis(w, 1, 0)  # (in, out, ...) -> (out, in, ...)
                layers.append((name, np.column_stack([w.reshape(len(w), -1), bias])))
        return layers
    for layer in keras_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is None or type(layer).__name__ not in ("Dense", "Conv1D", "Conv2D", "Conv3D"):
            continue
        w = np.asarray(kernel.numpy()).reshape(-1, kernel.shape[-1]).T
        bias = layer.bias.numpy() if getattr(layer, "bias", None) is not None else np.zeros(len(w))
        layers.append((layer.name, np.column_stack([w, bias])))
    return layers


def check_symmetric_weights(ad, rep, model):
    """Hidden layers (every layer with weights but the last) whose units all start with the same weights: they
    compute nearly the same value (the same one if their biases are equal too) and get nearly the same gradient."""
    hidden = _unit_weights(ad, model)[:-1]
    same = [(name, units) for name, units in hidden if len(units) > 1 and np.all(units[:, :-1] == units[0, :-1])]
    if not same:
        rep.passed.append("symmetric-weights")
        return
    rep.add("symmetric-weights", [
        f"{name}: all {len(units)} units start with the same weights"
        + (f" (every one {float(units[0][0]):.3g})" if np.all(units[:, :-1] == units[0][0]) else "")
        + (" and bias, so they compute one value between them for every sample" if np.all(units == units[0])
           else "; only their biases differ") for name, units in same], reading=True)  # a note if it fits anyway
