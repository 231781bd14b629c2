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


def to_numpy(value):
    """A NumPy array from a NumPy array, a torch tensor or a TensorFlow tensor."""
    import numpy as np

    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):  # TensorFlow eager tensor
        return value.numpy()
    return np.asarray(value)
