"""Tenth held-out set, part b: real faults of the DeepFD benchmark (Cao et al., ICSE 2022), rebuilt as (buggy,
fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`tenth_frame.txt`, part b's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Tenth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .held_out_cases import SO
from .keras_cases import _keras


# --- entry 7: bags of six volumes squeezed through one ReLU unit (Stack Overflow 58237726, DeepFD No 33) ---

def _build_keras_volume_bags_one_relu_unit(buggy):
    keras = _keras()
    L, ops = keras.layers, keras.ops
    side, bag, n = 8, 6, 16
    label = np.array([1] * (n // 2) + [0] * (n // 2))  # all-ones volumes are class 1, all-zeros class 0
    y = np.stack([1 - label, label], axis=1).astype(np.float32)
    volume = (side, side, side, 3)
    if buggy:  # each sample is a bag of six volumes; the model folds the bag into the batch and back
        x = np.zeros((n, bag) + volume, dtype=np.float32)
        x[label == 1] = 1.0
        inputs = keras.Input((bag,) + volume)
        h = L.Lambda(lambda t: ops.reshape(t, (-1,) + volume), output_shape=volume)(inputs)
        h = L.ReLU()(L.Conv3D(64, 4, strides=2, padding="same")(h))
        h = L.GlobalAveragePooling3D()(h)
        h = L.Lambda(lambda t: ops.reshape(t, (-1, 1, bag * 64)), output_shape=(1, bag * 64))(h)
        h = L.ReLU()(L.Conv1D(1, 1)(h))  # the whole bag passes through a single ReLU unit
        h = L.Lambda(lambda t: ops.squeeze(t, 1), output_shape=(1,))(h)
        outputs = L.Dense(2, activation="softmax")(h)
        learning_rate = 1e-3
    else:  # the benchmark's repair: one volume per sample, two ReLU convolutions, Adam at 1e-2
        x = np.zeros((n,) + volume, dtype=np.float32)
        x[label == 1] = 1.0
        inputs = keras.Input(volume)
        h = L.Conv3D(64, 4, strides=2, padding="same", activation="relu")(inputs)
        h = L.Conv3D(8, 2, strides=2, padding="same", activation="relu")(h)
        h = L.GlobalAveragePooling3D()(h)
        outputs = L.Dense(2, activation="softmax")(h)
        learning_rate = 1e-2
    model = keras.Model(inputs, outputs)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(learning_rate)

CASES = [
    case("tenth_keras_volume_bags_one_relu_unit", "keras", "model structure / dead unit",
         SO + "58237726",
         "A classifier of bags of six 3-D volumes folds each bag into the batch with a Lambda reshape, runs a Conv3D, "
         "pools, folds the six feature vectors back into one row and sends that row through a single Conv1D filter "
         "with a ReLU before the two-way softmax (Adam at 1e-3); the lone ReLU unit gives zero for every bag, so "
         "the model predicts 0.5/0.5 for everything and the loss stays at ln 2.",
         "Feed one volume per sample and drop the reshape Lambdas and the one-filter Conv1D: two ReLU Conv3D layers, "
         "global average pooling and the softmax layer, with Adam at 1e-2 (DeepFD's repair).",
         {"dead-relu", "zero-gradients"}, _build_keras_volume_bags_one_relu_unit,
         note="The thread itself could not be found with the search tool; the rebuild follows DeepFD's patch, whose "
              "removed lines show the buggy program (generator of all-ones and all-zeros bags of six 16x16x16x3 "
              "volumes with one-hot labels, the Lambda reshapes, Conv3D(64, 8, strides 2) + ReLU, "
              "GlobalAveragePooling3D, Conv1D(1, 1) + ReLU, softmax Dense(2), Adam at 1e-3, categorical "
              "cross-entropy) and whose added lines are the fixed twin (single volumes, Conv3D(64, 8, strides 2, "
              "relu), Conv3D(8, 4, strides 2, relu), GlobalAveragePooling3D, softmax Dense(2), Adam at 1e-2). Sizes "
              "shrunk to run on two shared cores: 8x8x8x3 volumes, the first kernel 4 instead of 8 and the second 2 "
              "instead of 4, 16 samples (8 of each class) instead of 240; the patch's batch-size change (12 to 6) "
              "has no counterpart in one full-batch step. Keras 3 translation: keras.ops.reshape/squeeze in the "
              "Lambdas with explicit output shapes. Whether the lone ReLU unit is dead from the start depends on "
              "the initialisation (the all-zeros bags give it exactly zero, the all-ones bags a value whose sign "
              "is set by the random weights); under seed 0 it is dead from the first step, which matches a loss "
              "flat at ln 2 and one prediction for every input. DeepFD files the fault under learning rate and "
              "wrong preprocessing; the part of the patch that matters for this failure is taking the bag apart "
              "and dropping the one-unit ReLU bottleneck. dead-relu's fix ('keep narrow layers alive') and "
              "zero-gradients' fix (walk back to the first layer that passes no gradient, a dead ReLU) lead there; "
              "update-ratio-low (raise the learning rate) names the patch's other half but raising the rate does "
              "not revive a unit that passes no gradient, so it is left out (a judgement call)."),
]
