"""What one training step costs per multiply-add, layer kind by layer kind, as ratios measured in one run.

    python benchmarks/diagnose_cost.py

diagnose's overfit probes train on rows spread over a batch whose forward pass costs more than
PROBE_MULTIPLY_ADDS, counted from each layer's weights and output shape (checklist._rows_for_probes). A count
stands for time only if every kind of layer trains at about the same speed per multiply-add. This prints, for
small Keras and PyTorch models of one layer kind each (16 samples, Adam, full batch), the seconds of a training
step divided by the count, and that figure over the Keras Dense model's. The Keras rows behind
``STRIDED_CONV3D_SLOWDOWN`` are the strided Conv3D ones (marked "(strided)"; their count is taken back to the plain
one): the weight is right if they come out near it and every other row near 1.
"""
from __future__ import annotations

import time

import numpy as np

import course_utils as cu

cu.setup(frameworks=("torch", "tensorflow"))

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.diagnosis.adapters import (STRIDED_CONV3D_SLOWDOWN, KerasAdapter, TorchAdapter,  # noqa: E402
                                             strided_conv3d)

N, WARM, TIMED = 16, 4, 40
K = keras.layers
KERAS = {  # name: (one sample's shape, the layers before a two-way softmax)
    "Dense 512-1024-1024": ((512,), [K.Dense(1024, activation="relu"), K.Dense(1024, activation="relu")]),
    "Conv1D k5": ((200, 16), [K.Conv1D(64, 5, padding="same"), K.GlobalAveragePooling1D()]),
    "Conv1D k5 stride 2": ((200, 16), [K.Conv1D(64, 5, strides=2, padding="same"), K.GlobalAveragePooling1D()]),
    "Conv2D k3": ((32, 32, 3), [K.Conv2D(64, 3, padding="same"), K.GlobalAveragePooling2D()]),
    "Conv2D k4 stride 2": ((32, 32, 3), [K.Conv2D(64, 4, strides=2, padding="same"), K.GlobalAveragePooling2D()]),
    "Conv3D k3": ((8, 8, 8, 3), [K.Conv3D(64, 3, padding="same"), K.GlobalAveragePooling3D()]),
    "Conv3D k4": ((8, 8, 8, 3), [K.Conv3D(64, 4, padding="same"), K.GlobalAveragePooling3D()]),
    "Conv3DTranspose k3 stride 2": ((4, 4, 4, 8), [K.Conv3DTranspose(16, 3, strides=2, padding="same"),
                                                   K.GlobalAveragePooling3D()]),
    "Conv3D k3 stride 2 (strided)": ((8, 8, 8, 3), [K.Conv3D(64, 3, strides=2, padding="same"),
                                                    K.GlobalAveragePooling3D()]),
    "Conv3D k4 stride 2 (strided)": ((8, 8, 8, 3), [K.Conv3D(64, 4, strides=2, padding="same"),
                                                    K.GlobalAveragePooling3D()]),
    "Conv3D k2 stride 2 valid (strided)": ((8, 8, 8, 3), [K.Conv3D(64, 2, strides=2), K.GlobalAveragePooling3D()]),
}
TORCH = {  # name: (one sample's shape, the layers before a two-way Linear)
    "Linear 512-1024-1024": ((512,), [nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU()], 1024),
    "Conv2d k4 stride 2": ((3, 32, 32), [nn.Conv2d(3, 64, 4, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()], 64),
    "Conv3d k3": ((3, 8, 8, 8), [nn.Conv3d(3, 64, 3, 1, 1), nn.AdaptiveAvgPool3d(1), nn.Flatten()], 64),
    "Conv3d k4 stride 2": ((3, 8, 8, 8), [nn.Conv3d(3, 64, 4, 2, 1), nn.AdaptiveAvgPool3d(1), nn.Flatten()], 64),
}


def seconds_per_step(ad, model):
    """Median over five timed stretches of TIMED // 5 steps, after WARM untimed ones (tracing, first allocations)."""
    optimizer = ad.probe_optimizer(model)
    ad.train(model, optimizer, WARM)
    stretches = []
    for _ in range(5):
        started = time.perf_counter()
        ad.train(model, optimizer, TIMED // 5)
        stretches.append((time.perf_counter() - started) / (TIMED // 5))
    return float(np.median(stretches))


def keras_rows():
    y = np.eye(2, dtype=np.float32)[np.arange(N) % 2]
    for name, (shape, layers) in KERAS.items():
        cu.seed(0)
        inputs = keras.Input(shape)
        h = inputs
        for layer in layers:
            h = layer(h)
        model = keras.Model(inputs, K.Dense(2, activation="softmax")(h))
        x = np.random.default_rng(0).random((N,) + shape, dtype=np.float32)
        ad = KerasAdapter(model, x, y, "categorical_crossentropy", None)
        counted = ad.multiply_adds(model, []) * N
        if any(strided_conv3d(layer) for layer in model.layers):  # the plain count, to time against
            counted /= STRIDED_CONV3D_SLOWDOWN
        yield name, counted, seconds_per_step(ad, ad.copy())


def torch_rows():
    y = torch.arange(N) % 2
    for name, (shape, layers, width) in TORCH.items():
        cu.seed(0)
        model = nn.Sequential(*layers, nn.Linear(width, 2))
        x = torch.rand((N,) + shape)
        ad = TorchAdapter(model, x, y, nn.CrossEntropyLoss(), None)
        trace, _ = ad.leaf_trace(model, False)
        yield name, ad.multiply_adds(model, trace) * N, seconds_per_step(ad, ad.copy())


def main():
    print(f"{N} samples, Adam, full batch; seconds per step / multiply-adds of one forward pass over the batch")
    print(f"{'framework':9s} {'model':36s} {'multiply-adds':>13s} {'s/step':>8s} {'ns per':>7s} {'x Dense':>8s}")
    base = None
    for framework, rows in (("keras", keras_rows()), ("torch", torch_rows())):
        for name, counted, seconds in rows:
            ns = seconds / counted * 1e9
            base = base or ns  # the first row: Keras Dense
            print(f"{framework:9s} {name:36s} {counted:13.3g} {seconds:8.4f} {ns:7.2f} {ns / base:8.1f}")
    print(f"STRIDED_CONV3D_SLOWDOWN = {STRIDED_CONV3D_SLOWDOWN}: the Keras strided rows' 'x Dense' should be near it")


if __name__ == "__main__":
    main()
