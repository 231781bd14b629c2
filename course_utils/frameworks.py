"""Tell a PyTorch model from a Keras model without importing either framework."""
from __future__ import annotations

import sys


def is_torch_model(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def is_keras_model(model) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def framework_of(model) -> str:
    """'torch' or 'keras'; a clear error for anything else."""
    if is_torch_model(model):
        return "torch"
    if is_keras_model(model):
        return "keras"
    raise TypeError(
        f"expected a torch.nn.Module or a keras.Model, got {type(model).__module__}.{type(model).__name__}"
    )


def keras_layers(model):
    """A Keras model's layers in order, with nested models opened up."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from keras_layers(layer)
        else:
            yield layer


def keras_activation(layer):
    """What a Keras layer applies last: "softmax" or "relu" for those layers, else the name of its activation
    function; None for none (linear)."""
    kind = type(layer).__name__
    if kind in ("Softmax", "ReLU"):
        return kind.lower()
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name if name not in (None, "linear") else None


def to_numpy(value):
    """A NumPy array from a NumPy array, a torch tensor or a TensorFlow tensor."""
    import numpy as np

    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # TensorFlow eager tensor
        return value.numpy()
    return np.asarray(value)


def map_inputs(fn, x):
    """``fn`` applied to each array of ``x``: one array, or a dict, list or tuple of them (a model with several inputs)."""
    if isinstance(x, dict):
        return {key: map_inputs(fn, value) for key, value in x.items()}
    if is_structured(x):
        return type(x)(map_inputs(fn, value) for value in x)
    return fn(x)


def is_structured(x) -> bool:
    """True for several inputs given together (a dict, or a list or tuple of arrays), False for one array
    (a nested list of numbers is one array)."""
    if isinstance(x, dict):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(hasattr(v, "shape") or isinstance(v, dict) for v in x)


def input_arrays(x) -> list:
    """The arrays of ``x``, in order: ``[x]`` for one array, each input's for several."""
    if isinstance(x, dict):
        return [array for value in x.values() for array in input_arrays(value)]
    if is_structured(x):
        return [array for value in x for array in input_arrays(value)]
    return [x]


def batch_size(x) -> int:
    """How many samples ``x`` holds; with several inputs, each must hold the same number."""
    sizes = [len(array) for array in input_arrays(x)]
    if not sizes:
        raise ValueError("the inputs are empty: no array in them")
    if len(set(sizes)) > 1:
        raise ValueError(f"the model's inputs hold different numbers of samples: {sizes}")
    return sizes[0]


def error_text(error: Exception) -> str:
    """An exception in one line, with Keras' wrapper lines ("Exception encountered when calling ...",
    "Arguments received ...") and terminal colour codes left out: the line that says what was refused."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("Exception encountered when calling",
                                                             "Arguments received by", "•"))]
    return f"{type(error).__name__}: {(useful or lines or [''])[0]}"


def input_shapes(x):
    """The shape of ``x``, or of each of its arrays, for a message."""
    return map_inputs(lambda array: tuple(to_numpy(array).shape), x)
