"""Twelfth held-out set, part a: bugs of defects4ML (Morovati et al., EMSE 2023), each rebuilt from the benchmark's
buggy and fixed programs as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`twelfth_frame.txt`, part a's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Twelfth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _digit_pixels
from .keras_cases import _keras, _sequential


# --- a digit classifier whose Conv2D output goes into Dense layers with no Flatten (defects4ML bug 080) -------

def _build_keras_conv_dense_missing_flatten(buggy):
    keras = _keras()
    L = keras.layers
    pixels, labels = _digit_pixels(256)  # 0..255 pixel values, as the program's MNIST arrays are never rescaled
    x = pixels.reshape(-1, 8, 8, 1).astype(np.float32)
    # the bug: Dense layers straight after the convolution; defects4ML's fix: a Flatten layer between them
    middle = [] if buggy else [L.Flatten()]
    model = _sequential(keras, x.shape[1:], [
        L.Conv2D(8, kernel_size=(3, 3), padding="same", activation="relu"), *middle,
        L.Dense(64, activation="relu"), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
    return model, x, labels, "sparse_categorical_crossentropy", keras.optimizers.Adam()


CASES = [
    case("twelfth_keras_conv_dense_missing_flatten", "keras", "missing flatten",
         "https://stackoverflow.com/questions/55955130",
         "A digit classifier puts Dense(64), Dense(64) and a ten-unit softmax directly after a Conv2D layer, so "
         "the output keeps one ten-way row per pixel position and cannot be scored against one integer label "
         "per image under sparse categorical cross-entropy.",
         "Insert a Flatten layer between the convolution and the first Dense layer.",
         {"missing-flatten"}, _build_keras_conv_dense_missing_flatten,
         note="defects4ML bug 080 (conf.ini: missing Flatten layer, symptom Crash); the Stack Overflow thread was "
              "not read (one search of the stored pages found no copy), the fix is defects4ML's fixed program. "
              "The program trains on MNIST's 60,000 28x28 images with raw 0..255 pixel values and integer labels "
              "for 5 epochs; the rebuild uses the first 256 of scikit-learn's 8x8 digits, scaled to 0..255 "
              "(uint8-rounded, then float32, where the program passes the uint8 arrays and Keras casts them) "
              "and shaped (n, 8, 8, 1). The layers (Conv2D(8, 3x3, same, relu), Dense(64, relu) twice, "
              "Dense(10, softmax)), the loss and Adam at its default rate are the program's; both twins keep "
              "the unscaled pixels, as the fix does not touch them. Translated from Keras 2 "
              "(input_shape= becomes keras.Input; tensorflow.keras.activations.relu is given as 'relu'). "
              "expected: missing-flatten's title and fix sentence name the bug and defects4ML's change."),
]

