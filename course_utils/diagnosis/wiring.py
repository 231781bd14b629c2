"""How the layers meet: a Dense/Linear layer fed feature maps (no Flatten before it), a layer sized for inputs
other than the ones it receives, and (PyTorch) a tensor written in place after autograd saved it.

Each finding names the layer and the shapes that reached it, measured by running the model on a few samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frameworks import error_text, is_structured, keras_activation, keras_layers, map_inputs, to_numpy
from .inputs import declared_sample_shape, fits_declared

SAMPLES = 4  # enough to run the layers; the shapes do not depend on the batch


@dataclass
class LayerCall:
    name: str
    kind: str  # "dense", "conv" or "recurrent"
    width: int | None  # the features (Dense/Linear, recurrent) or channels (convolution) the layer was built for
    received: tuple  # the shape of its input, batch axis included
    returned: tuple | None  # the shape of its output; None when the layer refused its input
    takes_rank: int | None = None  # Keras convolutions: the axes their input must have, batch included


def _shape(value) -> tuple:
    return tuple(int(d) for d in value.shape)


def _torch_calls(ad, model):
    """The Linear and convolution layers in the order they ran, and the error that stopped the forward pass."""
    nn = ad.nn
    calls, handles = [], []

    def entered(module, inputs, name):
        if isinstance(module, nn.Linear):
            kind, width = "dense", module.in_features
        elif isinstance(module, nn.RNNBase):
            kind, width = "recurrent", module.input_size
        else:
            kind, width = "conv", module.in_channels
        if inputs and ad.torch.is_tensor(inputs[0]):
            calls.append(LayerCall(name, kind, width, _shape(inputs[0]), None))

    def left(module, inputs, output):
        output = output[0] if isinstance(output, tuple) else output  # a recurrent layer's (outputs, state)
        if calls and ad.torch.is_tensor(output):
            calls[-1].returned = _shape(output)

    watched = (nn.Linear, nn.modules.conv._ConvNd, nn.RNNBase)
    for name, m in model.named_modules():
        if isinstance(m, watched) and not isinstance(m, nn.modules.lazy.LazyModuleMixin):
            handles.append(m.register_forward_pre_hook(lambda mod, i, name=name: entered(mod, i, name)))
            handles.append(m.register_forward_hook(left))
    try:
        ad.output(model, False, map_inputs(lambda a: a[:SAMPLES], ad.x))
        return calls, None
    except Exception as e:  # noqa: BLE001
        return calls, e
    finally:
        for h in handles:
            h.remove()


RECURRENT = ("LSTM", "GRU", "SimpleRNN", "RNN")


def _keras_width(layer):
    recurrent = type(layer).__name__ in RECURRENT
    kernel = getattr(getattr(layer, "cell", None), "kernel", None) if recurrent else getattr(layer, "kernel", None)
    if kernel is None:
        return None
    return int(kernel.shape[0] if type(layer).__name__ == "Dense" or recurrent else kernel.shape[-2])


def _keras_kind(layer):
    name = type(layer).__name__
    if name in RECURRENT:
        return "recurrent"
    return "dense" if name == "Dense" else "conv" if name.startswith("Conv") and "Transpose" not in name else None


def _keras_calls(ad, model):
    """As _torch_calls, for a Keras model: a Sequential model is run layer by layer on a few samples; for other
    models the shapes the layers were built with are read (no error can be located there)."""
    import keras

    def call(layer, received, returned):
        kind, rank = _keras_kind(layer), getattr(layer, "rank", None)
        takes_rank = rank + 2 if kind == "conv" and isinstance(rank, int) else None
        return LayerCall(layer.name, kind, _keras_width(layer), received, returned, takes_rank)

    if not isinstance(model, keras.Sequential):
        calls = []
        for layer in filter(_keras_kind, model.layers):
            try:
                calls.append(call(layer, tuple(layer.input.shape), tuple(layer.output.shape)))
            except Exception:  # noqa: BLE001  (a layer used twice, or not built: its shapes are not known)
                continue
        return calls, None
    calls, h = [], np.asarray(ad.x[:SAMPLES])
    for layer in model.layers:
        try:
            out = layer(h)
        except Exception as e:  # noqa: BLE001
            calls += [call(layer, _shape(h), None)] if _keras_kind(layer) else []
            return calls, e
        calls += [call(layer, _shape(h), _shape(out))] if _keras_kind(layer) else []
        h = out
    return calls, None


def layer_calls(ad, model):
    """(the Dense/Linear and convolution layers that ran, with their shapes; the error that stopped the run)."""
    if is_structured(ad.x):
        return [], None
    return (_torch_calls if ad.framework == "torch" else _keras_calls)(ad, model)


def _per_sample(shape) -> int | None:
    """Features per sample once flattened (None when an axis is not known, as in a Keras symbolic shape)."""
    dims = shape[1:]
    return int(np.prod(dims)) if all(isinstance(d, int) for d in dims) else None


RETURN_SEQUENCES_FIX = ("Give the recurrent layer before it return_sequences=True, so that it hands on every step, "
                        "(samples, steps, units), and keep return_sequences=False on the last one only (or Flatten "
                        "after it).")


CONV_AXES = {3: "(samples, steps, channels)", 4: "(samples, height, width, channels)",
             5: "(samples, depth, height, width, channels)"}
CONV_RANK_FIX = ("Use the convolution made for x's axes: Conv1D for sequences (samples, steps, channels), Conv2D for "
                 "images (samples, height, width, channels), Conv3D for volumes; or reshape x to the axes the model's "
                 "convolution takes.")


def refusing_layer(ad, model) -> tuple:
    """For a model that cannot run on x: (code, evidence, fix or None) naming the layer that refused and why, or
    ("", [], None)."""
    calls, error = layer_calls(ad, model)
    if error is None or not calls or calls[-1].returned is not None:
        return "", [], None
    call = calls[-1]
    got = call.received
    if call.kind == "recurrent" and ad.framework == "keras" and len(got) == 2:  # (PyTorch takes it as one sequence)
        evidence = [f"the recurrent layer {call.name} needs sequences, (samples, steps, features), and receives one "
                    f"vector per sample, shape {got}: {error_text(error)}"]
        before = [c for c in calls[:-1] if c.kind == "recurrent" and c.returned == got]
        if not before:
            return "layer-size-mismatch", evidence, None
        evidence.append(f"{before[-1].name}, the recurrent layer before it, returns only its last step "
                        "(return_sequences=False)")
        return "layer-size-mismatch", evidence, RETURN_SEQUENCES_FIX
    if call.takes_rank and len(got) != call.takes_rank:
        return "layer-size-mismatch", [f"the convolution {call.name} takes inputs of {call.takes_rank} axes, "
                                       f"{CONV_AXES[call.takes_rank]}, and receives {len(got)}, shape {got}: "
                                       f"{error_text(error)}"], CONV_RANK_FIX
    if call.width is None:
        return "", [], None
    if call.kind == "conv":
        channels = got[1] if ad.framework == "torch" else got[-1]
        if channels == call.width:
            return "", [], None
        return "layer-size-mismatch", [f"the convolution {call.name} was built for {call.width} input channels and "
                                       f"receives {channels} (its input has shape {got}): {error_text(error)}"], None
    flat = _per_sample(got)
    if len(got) > 2 and flat == call.width and call.kind == "dense":
        return "missing-flatten", [f"{call.name} was built for {call.width} features, the flattened size of the "
                                   f"feature maps of shape {got[1:]} it receives unflattened: {error_text(error)}"], None
    if got[-1] == call.width:
        return "", [], None
    evidence = [f"{call.name} was built for {call.width} input features and receives {got[-1]} (its input has shape "
                f"{got}): {error_text(error)}"]
    if len(got) > 2 and call.kind == "dense":
        evidence.append(f"its input is not flattened either: flattened, it would have {flat} features per sample")
    declared = _declared_input(ad, model)
    if declared:
        evidence.append(declared)
    return "layer-size-mismatch", evidence, None


def _declared_input(ad, model) -> str:
    """Keras: the input shape the model was declared with, when x does not have it."""
    declared = declared_sample_shape(model)
    if ad.framework != "keras" or not declared:
        return ""
    given = tuple(np.shape(ad.x))[1:]
    if fits_declared(declared, given):
        return ""
    return f"the model was declared for inputs of shape {declared} per sample, and x has {given}"


def _output_rank_wanted(ad) -> int:
    """The rank the loss wants the output to have: the targets', one more for class indices."""
    targets = np.asarray(to_numpy(ad.y))
    class_indices = ad.info.kind == "cross_entropy" and ad.info.sparse and (
        ad.framework == "keras" or not np.issubdtype(targets.dtype, np.floating))  # torch: float rows are probabilities
    return targets.ndim + (1 if class_indices else 0)


def check_dense_on_feature_maps(ad, rep, model, out):
    """A Dense/Linear layer applied to each position of a feature map (rank 3 or more), where the targets want one
    output per sample: the output keeps axes the targets do not have."""
    if out.ndim <= max(_output_rank_wanted(ad), 2) or is_structured(ad.x) or ad.info.kind is None:
        return  # (a loss of the student's own, such as CTC, may want an output per position)
    calls, _ = layer_calls(ad, model)
    unflat = [c for c in calls if c.kind == "dense" and len(c.received) > 2 and c.returned is not None]
    if not unflat:
        return
    first = unflat[0]
    maps = any(c.kind == "conv" for c in calls[:calls.index(first)])  # a convolution's maps, though only 1 x 1
    if not maps and all(d == 1 for d in first.received[1:-1]):  # one extra axis of length 1 rides along
        drop = "output.squeeze(1)" if len(first.received) == 3 else "output.flatten(1)"
        rep.add("target-shape-broadcast", [
            f"{first.name} receives input of shape {first.received}: one vector per sample with an extra axis of "
            f"length 1, which it keeps, returning {first.returned}",
            f"so the model outputs shape {tuple(out.shape)} against targets of shape {tuple(np.shape(to_numpy(ad.y)))}"],
            fix=f"Drop the extra axis of length 1 from the output ({drop} in PyTorch, a Reshape or Flatten in "
                "Keras), or the unsqueeze, expand_dims or [None] that added it, so the output has the targets' shape.")
        return
    rep.add("missing-flatten", [
        f"{first.name} receives input of shape {first.received} and works on each position of it separately, "
        f"returning {first.returned}",
        f"so the model outputs shape {tuple(out.shape)} against targets of shape {tuple(np.shape(to_numpy(ad.y)))}"
        + (f": flattened, {first.name} would see {_per_sample(first.received)} features per sample"
           if _per_sample(first.received) else "")])


def _saving_line(ad, model) -> str:
    """Where the tensor that was overwritten was saved: the forward line of the model's own code that autograd's
    anomaly mode blames for the failing backward step ("" if none is found)."""
    import os
    import re
    import warnings

    torch = ad.torch
    ours = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.autograd.detect_anomaly(check_nan=False):
            try:
                model.train()
                torch.as_tensor(ad.loss(model(ad.x), ad.y)).backward()
            except Exception:  # noqa: BLE001  (the error is known: only the warning's traceback is wanted)
                pass
    for message in (str(w.message) for w in caught):
        frames = re.findall(r'File "([^"]+)", line (\d+), in \S+\n\s+(.*)', message)
        theirs = [(path, line, code) for path, line, code in frames if not path.startswith(ours)]
        if "Traceback of forward call" in message and theirs:
            path, line, code = theirs[-1]
            return f"`{code.strip()}` ({os.path.basename(path)}, line {line})"
    return ""


def check_inplace_writes(ad, rep, model, error: Exception) -> bool:
    """PyTorch: backward refused because a tensor it saved was overwritten in place. Add the finding, with the
    forward line whose saved tensor was overwritten; True if the error was that."""
    if ad.framework != "torch" or "modified by an inplace operation" not in str(error):
        return False
    evidence = [f"backward refuses: {error_text(error).split(' Hint:')[0]}"]
    line = _saving_line(ad, model)
    if line:
        evidence.append(f"the tensor was saved for backward by {line} and written in place after that line")
    rep.add("inplace-write", evidence)
    return True


RELU_KINDS = ("relu", "relu6")


def _relu_before_binary_output(ad, model, trace) -> str:
    """The name of a ReLU whose values feed a binary output's sigmoid (the model's last layer, or the one a
    logits loss applies), else ""."""
    if ad.framework == "torch":
        kinds = [(name, type(module).__name__.lower()) for name, module, _, _ in trace]
        if len(kinds) > 1 and kinds[-1][1] == "sigmoid" and kinds[-2][1] in RELU_KINDS:
            return kinds[-2][0]
        return kinds[-1][0] if kinds and ad.info.expects == "logits" and kinds[-1][1] in RELU_KINDS else ""
    layers = list(keras_layers(model))
    if len(layers) > 1 and type(layers[-1]).__name__ == "Activation" and keras_activation(layers[-1]) == "sigmoid" \
            and keras_activation(layers[-2]) in RELU_KINDS:
        return layers[-2].name
    return layers[-1].name if layers and ad.info.expects == "logits" and keras_activation(layers[-1]) in RELU_KINDS \
        else ""


def check_logits_activation(ad, rep, out, activation):
    """The last layer's activation limits the logits of a loss that applies its own softmax or sigmoid.

    A ReLU: no logit can be negative, and a class whose logit is clipped to 0 passes no gradient back (measured:
    the share of logits at exactly 0). A tanh: every logit stays within [-1, 1], so no probability can get near 1
    (measured: the highest probability and the lowest loss such logits allow)."""
    if ad.info.expects != "logits" or out.ndim < 2:
        return
    if activation == "relu" and ad.info.kind == "cross_entropy":
        rep.add("output-cannot-reach-target", [
            f"the model's last layer ends in a ReLU and {ad.info.name} applies a softmax to what it gets, so its "
            "logits can never be negative",
            f"{np.mean(out == 0):.0%} of the {out.size} logits on this batch are clipped to exactly 0 and pass no "
            "gradient back to the layer"],
            fix="Remove the ReLU after the last layer: the loss's softmax needs the layer's raw logits, which can be "
                "negative.")
    elif activation == "tanh" and ad.info.kind in ("cross_entropy", "binary_cross_entropy"):
        best, classes = tanh_logits_ceiling(ad.info.kind, out)
        if classes < 2:
            return
        rep.add("output-cannot-reach-target", [
            f"the model's last layer ends in tanh, so the logits {ad.info.name} turns into probabilities stay "
            "within [-1, 1]",
            f"no probability can pass {best:.3g}" + (f" with {classes} classes" if ad.info.kind == "cross_entropy"
                                                      else "") +
            f": the loss cannot fall below {-np.log(best):.3g} per sample, however long it trains"],
            fix="Remove the tanh after the last layer: the loss's softmax or sigmoid needs unbounded logits.")


def tanh_logits_ceiling(kind, out) -> tuple:
    """(the highest probability logits within [-1, 1] allow, the classes): a softmax over the last axis of ``out``
    gives the right class +1 and every other -1; a binary loss's sigmoid gets +1."""
    if kind == "cross_entropy":
        classes = out.shape[-1] if out.ndim >= 2 else 1
        return np.e / (np.e + (classes - 1) / np.e), classes
    return 1 / (1 + np.exp(-1.0)), 2


def check_relu_before_sigmoid(ad, rep, model, trace, out):
    """A binary output whose logits come out of a ReLU: never negative, so the probability never falls below 0.5
    and targets of 0 are out of reach. Measured: every probability on the batch is at least 0.5."""
    if ad.info.kind != "binary_cross_entropy":
        return
    relu = _relu_before_binary_output(ad, model, trace)
    targets = np.asarray(to_numpy(ad.y), dtype=np.float64)
    probabilities = 1 / (1 + np.exp(-out)) if ad.info.expects == "logits" else out
    if not relu or probabilities.min() < 0.5 or not np.any(targets < 0.5):
        return
    rep.add("output-cannot-reach-target", [
        f"{relu} (a ReLU) feeds the output's sigmoid: its values are never negative, so no predicted "
        f"probability can fall below 0.5 (the lowest on this batch: {probabilities.min():.3g})",
        f"{int(np.sum(targets < 0.5))} of {targets.size} targets are below 0.5"],
        fix="Remove the ReLU after the last layer: the sigmoid (or the logits loss) needs the layer's raw values, "
            "which can be negative.")
