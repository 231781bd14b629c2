"""What one training step costs per counted multiply-add, layer kind by layer kind, as ratios measured in one run.

    python benchmarks/diagnose_cost.py

diagnose's overfit probes train on rows spread over a batch whose forward pass costs more than
PROBE_MULTIPLY_ADDS, counted from each layer's weights and output shape (checklist._rows_for_probes). The count
stands for time only if every kind of layer trains at about the same speed per counted multiply-add. This prints,
for small Keras and PyTorch models of one layer kind each (16 samples, Adam, full batch), the seconds of a training
step divided by the count, and that figure over the Keras Dense model's. Two weights make the count: a Keras
strided Conv3D counts ``STRIDED_CONV3D_SLOWDOWN`` times its multiply-adds, and every convolution adds
``CONV_WINDOW_COST`` for each kernel element at each output position (the rows with one or four channels); both
are right if every row comes out within a few times of 1. "plain x Dense" is the same figure without the two
weights, the multiply-adds alone.
"""
from __future__ import annotations

import time
from unittest import mock

import numpy as np

import course_utils as cu

cu.setup(frameworks=("torch", "tensorflow"))

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.diagnosis import adapters  # noqa: E402
from course_utils.diagnosis.adapters import (CONV_WINDOW_COST, STRIDED_CONV3D_SLOWDOWN, KerasAdapter,  # noqa: E402
                                             TorchAdapter)

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
    "Conv1D k5 1->1 channel": ((4000, 1), [K.Conv1D(1, 5, padding="same"), K.GlobalAveragePooling1D()]),
    "Conv2D k3 1->1 channel": ((128, 128, 1), [K.Conv2D(1, 3, padding="same"), K.GlobalAveragePooling2D()]),
    "Conv2D k3 4->4 channels": ((128, 128, 4), [K.Conv2D(4, 3, padding="same"), K.GlobalAveragePooling2D()]),
    "Conv3D k3 1->1 channel": ((32, 32, 32, 1), [K.Conv3D(1, 3, padding="same"), K.GlobalAveragePooling3D()]),
    "Conv3D k3 1->4 channels": ((32, 32, 32, 1), [K.Conv3D(4, 3, padding="same"), K.GlobalAveragePooling3D()]),
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
    "Conv1d k5 1->1 channel": ((1, 4000), [nn.Conv1d(1, 1, 5, 1, 2), nn.AdaptiveAvgPool1d(1), nn.Flatten()], 1),
    "Conv2d k3 1->1 channel": ((1, 128, 128), [nn.Conv2d(1, 1, 3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()], 1),
    "Conv3d k3 1->1 channel": ((1, 32, 32, 32), [nn.Conv3d(1, 1, 3, 1, 1), nn.AdaptiveAvgPool3d(1), nn.Flatten()], 1),
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


def plain_count(ad, model, trace) -> float:
    """The count without its two weights: multiply-adds alone."""
    with mock.patch.object(adapters, "STRIDED_CONV3D_SLOWDOWN", 1), mock.patch.object(adapters, "CONV_WINDOW_COST", 0):
        return ad.multiply_adds(model, trace)


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
        yield name, ad.multiply_adds(model, []) * N, plain_count(ad, model, []) * N, seconds_per_step(ad, ad.copy())


def torch_rows():
    y = torch.arange(N) % 2
    for name, (shape, layers, width) in TORCH.items():
        cu.seed(0)
        model = nn.Sequential(*layers, nn.Linear(width, 2))
        x = torch.rand((N,) + shape)
        ad = TorchAdapter(model, x, y, nn.CrossEntropyLoss(), None)
        trace, _ = ad.leaf_trace(model, False)
        yield name, ad.multiply_adds(model, trace) * N, plain_count(ad, model, trace) * N, seconds_per_step(ad, ad.copy())


def main():
    print(f"{N} samples, Adam, full batch; seconds per step / counted multiply-adds of one forward pass over the batch")
    print(f"{'framework':9s} {'model':36s} {'counted':>9s} {'s/step':>8s} {'ns per':>7s} {'x Dense':>8s} "
          f"{'plain x Dense':>13s}")
    base = None
    for framework, rows in (("keras", keras_rows()), ("torch", torch_rows())):
        for name, counted, plain, seconds in rows:
            ns = seconds / counted * 1e9
            base = base or ns  # the first row: Keras Dense, whose count is its multiply-adds
            print(f"{framework:9s} {name:36s} {counted:9.3g} {seconds:8.4f} {ns:7.2f} {ns / base:8.1f} "
                  f"{seconds / plain * 1e9 / base:13.1f}")
    print(f"STRIDED_CONV3D_SLOWDOWN = {STRIDED_CONV3D_SLOWDOWN}, CONV_WINDOW_COST = {CONV_WINDOW_COST}: every row's "
          "'x Dense' should be within a few times of 1")


if __name__ == "__main__":
    main()
