"""Tenth held-out set, part d: real faults of the DeepFD benchmark (Cao et al., ICSE 2022), rebuilt as (buggy,
fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`tenth_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Tenth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import LOWER_LR
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


CASES = []


# --- one softmax unit as a binary classifier's output (DeepFD No 41, Stack Overflow 42800203) ------------

def _build_keras_binary_one_unit_softmax(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.breast_cancer(200)
    x = data.standardise(x)
    y = labels.reshape(-1, 1)  # one 0/1 target per row, the shape a one-unit output takes
    # the bug: a softmax over the single output unit, which is 1.0 whatever its input; DeepFD's patch: sigmoid
    head = L.Dense(1, activation="softmax" if buggy else "sigmoid")
    model = _sequential(keras, x.shape[1:], [L.Dense(16, activation="relu"), L.Dense(8, activation="relu"), head])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-3)


CASES.append(
    case("tenth_keras_binary_one_unit_softmax", "keras", "output activation", SO + "42800203",
         "A Keras binary classifier ends in Dense(1, activation='softmax'): a softmax over one unit always "
         "outputs 1.0, so every sample gets the same prediction and the loss does not move.",
         "Use a sigmoid on the single output unit (DeepFD's patch: Dense(1, activation='sigmoid')).",
         {"one-unit-softmax"}, _build_keras_binary_one_unit_softmax,
         note="The Stack Overflow thread could not be found with the search tool (searched by its id and by the "
              "symptom in words); DeepFD's patch is the only part of the program read: it changes the last "
              "layer's activation from softmax to sigmoid on one unit (DeepFD's fault type: activation). The "
              "rest is ours: binary cross-entropy (the loss a one-unit sigmoid output goes with), Adam at its "
              "default rate, two ReLU hidden layers (16, 8), and 200 standardised rows of scikit-learn's "
              "breast-cancer table as the two-class data with (n, 1) targets. The mechanism does not depend on "
              "those choices: the one-unit softmax is 1.0 whatever reaches it, so every sample is predicted "
              "positive. Under Keras 3 the binary cross-entropy reads the score before the softmax, so the "
              "buggy twin's training loss falls while its output stays 1.0 for every row (as in "
              "third_keras_lstm_one_unit_softmax); under the Keras of 2017 the loss stayed flat. "
              "one-unit-softmax's title and fix name this bug and DeepFD's fix."))


# --- SGD at 0.1 with Nesterov momentum on a two-class CNN (DeepFD No 34, Stack Overflow 37624102) -----------

def _keras2_binary_crossentropy(keras):
    """Binary cross-entropy on the output probabilities, clipped to [1e-7, 1 - 1e-7], as Keras 1/2 computed it.
    Keras 3's own binary_crossentropy reads the scores before a final softmax instead of its output."""
    ops = keras.ops

    def binary_crossentropy(y_true, y_pred):
        p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
        return -ops.mean(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p), axis=-1)

    return binary_crossentropy


def _build_keras_two_class_cnn_sgd_lr_0_1(buggy):
    keras = _keras()
    L = keras.layers
    side, half = 64, 16
    # the post's data: images that are all ones (class [1, 0]) or all zeros (class [0, 1]), one channel, mixed
    x = np.concatenate([np.ones((half, side, side, 1)), np.zeros((half, side, side, 1))]).astype(np.float32)
    y = np.concatenate([np.tile([1.0, 0.0], (half, 1)), np.tile([0.0, 1.0], (half, 1))]).astype(np.float32)
    order = np.random.default_rng(0).permutation(2 * half)
    x, y = x[order], y[order]
    layers = [L.Conv2D(32, 3), L.Activation("relu"), L.Conv2D(32, 3), L.Activation("relu"), L.MaxPooling2D(2),
              L.Flatten(), L.Dense(128), L.Activation("relu"), L.Dense(2), L.Activation("softmax")]
    model = _sequential(keras, x.shape[1:], layers)
    # the bug: SGD at 0.1 (decay 1e-6, Nesterov momentum 0.9); DeepFD's patch lowers the rate to 0.01.
    # Keras 1's decay, lr / (1 + 1e-6 * iterations), is the inverse-time schedule below.
    rate = keras.optimizers.schedules.InverseTimeDecay(0.1 if buggy else 0.01, decay_steps=1, decay_rate=1e-6)
    optimizer = keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)
    return model, x, y, _keras2_binary_crossentropy(keras), optimizer


CASES.append(
    case("tenth_keras_two_class_cnn_sgd_lr_0_1", "keras", "optimizer settings / learning rate", SO + "37624102",
         "A two-convolution Keras CNN told to separate all-ones images from all-zeros images (two softmax units, "
         "binary cross-entropy) is trained with SGD at a rate of 0.1 with Nesterov momentum 0.9, and the loss does "
         "not come down: it jumps to the saturated value of predicting one class for every image.",
         "Lower SGD's rate from 0.1 to 0.01 (DeepFD's patch), keeping decay, momentum and Nesterov.",
         LOWER_LR | {"dead-relu"}, _build_keras_two_class_cnn_sgd_lr_0_1,
         note="The Stack Overflow thread could not be found with the search tool; the program was read in two "
              "public copies found by code search (a notebook and a re-run script, with other rates: 1e-4 and "
              "1e-3) and in DeepFD's patch, which sets the buggy rate (0.1) and the fix (0.01). Kept: 100 "
              "all-ones and 100 all-zeros one-channel images with one-hot targets ([1, 0] for ones), the "
              "layers (Conv2D 32 3x3 valid, ReLU, Conv2D 32 3x3, ReLU, 2x2 max-pool, Flatten, Dense 128, ReLU, "
              "Dense 2, softmax), binary cross-entropy, SGD with decay 1e-6, momentum 0.9 and Nesterov. "
              "Translated: Keras 1's Convolution2D(32, 3, 3) on channels-first input, SGD(lr=..., decay=...) as "
              "an inverse-time schedule. Differences: 32 images of 64x64 (16 of each class, one batch of the "
              "program's size 32) instead of 172 training images of 100x100, for the CPU; the loss is written "
              "out as Keras 1/2's binary cross-entropy on the clipped softmax probabilities, because Keras 3's "
              "binary_crossentropy reads the scores before the softmax and then trains at 0.1 (the program's "
              "Keras scored the probabilities). The failure depends on the flattened width and the "
              "initialisation: in plain training at 0.1 it fails for 4 of 4 seeds at 64x64, for 3 of 6 runs at "
              "the program's 100x100, and never at 48x48; at 0.01 it learns for every seed tried. Expected codes "
              "are the learning-rate group (lr-too-high, update-ratio-high, exploding-gradients, "
              "non-finite-loss), whose fixes lower the rate as the patch does; the loss here saturates at the "
              "clipped value rather than going NaN. dead-relu is added as a judgement call: its fix starts with "
              "lowering the rate, and after 60 plain steps at 0.1 most ReLU units are dead (28 of 32 and 21 of 32 "
              "channels, 87 of 128 Dense units) while the two scores run to tens of thousands, so the "
              "saturation, not the dead units alone, is what fixes the prediction."))
