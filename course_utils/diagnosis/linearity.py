"""Find the places where a network is silently linear (lesson 02 and its lab).

Two layers with weights (Dense / Linear, any convolution) that follow each
other with nothing non-linear in between compose into ONE linear map: a
stack of convolutions without activations is a single, larger convolution,
however many layers you write. ``linear_pairs(model)`` walks a Keras
``Sequential`` (or functional) model or a PyTorch module (in the order its
layers are registered, which is the order of an ``nn.Sequential``) and
returns every such pair with the layers found between them.

What counts as what:

- *a linear map*: Dense, Conv1D/2D/3D, their transposes, depthwise and
  separable convolutions (Keras); nn.Linear and every nn.ConvNd (PyTorch).
  A Keras layer with ``activation=None`` / ``"linear"`` ends linear; with any
  other activation it ends non-linear.
- *linear in between* (does not break a chain): Dropout, Flatten, Reshape,
  padding, cropping, average pooling, up-sampling, identity, and
  BatchNormalization (at inference it is a per-channel scale and shift; in
  training it also subtracts the batch mean, still nothing a ReLU does).
- *non-linear* (breaks a chain): activation layers (ReLU, tanh, ...), max
  pooling, LayerNorm / GroupNorm, softmax.
- Keras activations are *measured*, not read by name: a layer's activation
  (``activation=...`` or an ``Activation`` layer, a function of your own
  included) and any other Keras layer without weights (``Lambda``, a custom
  layer) are called on random inputs and count as linear when they are
  affine there (f(3u - 2v) = 3 f(u) - 2 f(v)), non-linear otherwise. So
  ``Lambda(tf.nn.relu)`` breaks a chain and ``Activation(lambda t: 2 * t)``
  does not.
- anything else is *unknown* (a layer with weights of another kind, a layer
  that cannot be called on its own): it breaks the chain (we cannot tell)
  and is listed in ``unknown`` so that a check can say so.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from ..frameworks import keras_layers

# --- Keras ---------------------------------------------------------------

KERAS_MAPS = {"Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
              "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"}
KERAS_LINEAR = {"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Identity",
                "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
                "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
                "GlobalAveragePooling2D", "GlobalAveragePooling3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
                "BatchNormalization", "Rescaling", "Normalization"}
KERAS_NONLINEAR = {"ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
                   "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "LayerNormalization",
                   "GroupNormalization", "UnitNormalization"}

# --- PyTorch ---------------------------------------------------------------

TORCH_LINEAR = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Identity", "Flatten", "Unflatten",
                "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
                "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReplicationPad1d", "ReplicationPad2d", "Upsample", "PixelShuffle", "PixelUnshuffle"}
TORCH_NONLINEAR_EXTRA = {"MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                         "AdaptiveMaxPool3d", "LayerNorm", "GroupNorm", "LocalResponseNorm"}


@dataclass(frozen=True)
class LinearPair:
    """Two linear maps with nothing non-linear between them."""

    first: str
    second: str
    between: tuple = ()

    def __str__(self) -> str:
        middle = " -> ".join(self.between)
        return f"{self.first} -> {middle + ' -> ' if middle else ''}{self.second}"


@dataclass
class LinearityReport:
    """What ``linear_pairs`` found: the pairs, and layers it could not classify."""

    pairs: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    maps: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.pairs

    def __str__(self) -> str:
        if not self.pairs:
            text = f"{len(self.maps)} layers with weights; a non-linearity follows every one that feeds another"
        else:
            text = f"{len(self.pairs)} place(s) where two layers with weights compose into one linear map:\n" + \
                "\n".join(f"  {pair}" for pair in self.pairs)
        if self.unknown:
            text += f"\n  (could not classify: {', '.join(self.unknown)})"
        return text

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


PROBE_SHAPE = (4, 8)  # for an activation function: any shape will do


def is_affine(fn, shape=PROBE_SHAPE):
    """True if ``fn`` is affine on random inputs of ``shape``, False if not, None if it cannot be called.

    An affine f (a linear map plus a constant) satisfies f(3u - 2v) = 3 f(u) - 2 f(v);
    a ReLU, a square or a max does not on inputs of both signs.
    """
    rng = np.random.default_rng(0)  # its own generator: probing leaves the global seeds alone
    u, v = rng.standard_normal((2, *shape)).astype(np.float32)
    try:
        fu, fv, fw = (np.asarray(fn(t), dtype=np.float64) for t in (u, v, 3 * u - 2 * v))
        expected = 3 * fu - 2 * fv
    except Exception:  # a layer that cannot be called on its own
        return None
    if fw.shape != expected.shape or not (np.all(np.isfinite(fw)) and np.all(np.isfinite(expected))):
        return None
    scale = max(float(np.abs(fu).max(initial=0)), float(np.abs(fv).max(initial=0)), 1e-6)
    return bool(np.abs(fw - expected).max(initial=0) <= 5e-4 * scale)  # float32 rounding, with room


def _activation_is_linear(layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is None or is_affine(activation) is True  # one that cannot be probed breaks the chain


def _probe_shape(layer):
    """The shape of one small batch of the layer's input, or None when the model does not say."""
    try:
        shape = tuple(layer.input.shape)
    except Exception:  # a layer outside a built functional graph
        return None
    if len(shape) < 2 or any(size is None for size in shape[1:]):
        return None
    return (2, *shape[1:])


def _probe_layer(layer):
    """'linear' | 'nonlinear' | 'unknown' for a Keras layer without weights, by calling it."""
    shape = _probe_shape(layer)
    affine = None if shape is None else is_affine(lambda t: layer(t, training=False), shape)
    return {True: "linear", False: "nonlinear", None: "unknown"}[affine]


def keras_role(layer):
    """What ``layer`` is to a chain of linear maps: ('map', ends_linear) | ('linear', None) |
    ('nonlinear', None) | ('unknown', None)."""
    kind = type(layer).__name__
    if kind in KERAS_MAPS:
        return "map", _activation_is_linear(layer)
    if kind == "Activation":
        return ("linear" if _activation_is_linear(layer) else "nonlinear"), None
    if kind in KERAS_LINEAR:
        return "linear", None
    if kind in KERAS_NONLINEAR:
        return "nonlinear", None
    if not layer.weights:
        return _probe_layer(layer), None
    return "unknown", None


def _torch_leaves(model):
    for name, module in model.named_modules():
        if not list(module.children()):
            yield (name or type(module).__name__), module


def _classify_torch(module):
    from torch import nn

    kind = type(module).__name__
    if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd, nn.Bilinear)):
        return "map", True
    if kind in TORCH_LINEAR:
        return "linear", None
    if kind in TORCH_NONLINEAR_EXTRA or type(module).__module__ == "torch.nn.modules.activation":
        return "nonlinear", None
    return "unknown", None


def layer_label(name: str, kind: str) -> str:
    """How a report names a layer: its name, with its class when the name does not say it."""
    return name if kind in name else f"{name} ({kind})"


def linear_pairs(model) -> LinearityReport:
    """Every pair of linear maps in ``model`` with nothing non-linear between them.

    Accepts a Keras model or a torch.nn.Module; raises TypeError otherwise.
    """
    from ..frameworks import framework_of

    framework = framework_of(model)
    if framework == "torch":
        items = [(name, type(m).__name__, _classify_torch(m)) for name, m in _torch_leaves(model)]
    else:
        items = [(layer.name, type(layer).__name__, keras_role(layer)) for layer in keras_layers(model)]
    report = LinearityReport()
    last, between = None, []
    for name, kind, (role, ends_linear) in items:
        label = layer_label(name, kind)
        if role == "map":
            report.maps.append(label)
            if last is not None:
                report.pairs.append(LinearPair(last, label, tuple(between)))
            last, between = (label, []) if ends_linear else (None, [])
        elif role == "linear":
            if last is not None:
                between.append(label)
        elif role == "nonlinear":
            last, between = None, []
        else:
            report.unknown.append(label)
            last, between = None, []
    return report


def is_keras_or_torch(model) -> bool:
    """True for a Keras model or a torch module (without importing either)."""
    keras = sys.modules.get("keras")
    torch = sys.modules.get("torch")
    return bool((keras is not None and isinstance(model, keras.Model))
                or (torch is not None and isinstance(model, torch.nn.Module)))
