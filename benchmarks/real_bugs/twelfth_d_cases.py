"""Twelfth held-out set, part d: bugs of defects4ML (Morovati et al., EMSE 2023), each rebuilt from the benchmark's
buggy and fixed programs as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`twelfth_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Twelfth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _rng
from .keras_cases import _keras, _sequential


# --- defects4ML bug 087: 20x56 one-channel arrays laid out channels-first for a channels-last Conv2D stack --------

def _bands(n=128, height=20, width=56, classes=10):
    """Synthetic one-channel 20x56 arrays of ten classes: a bright horizontal band whose row and length depend on
    the class, on top of noise. Shapes (n, height, width), (n,)."""
    rng = _rng()
    labels = np.arange(n) % classes
    x = 0.1 * rng.normal(size=(n, height, width))
    for i, k in enumerate(labels):
        row = 2 + (k % 5) * 3 + int(rng.integers(0, 2))
        start = int(rng.integers(0, 8))
        length = 20 if k < 5 else 40
        x[i, row:row + 2, start:start + length] += 1.0
    order = rng.permutation(n)
    return x[order].astype(np.float32), labels[order]


def _build_keras_conv2d_channels_first_arrays(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _bands()
    n = len(images)
    # the bug: the arrays are shaped (n, 1, 20, 56) and the first layer is told input_shape=(1, 20, 56), while
    # Keras convolves channels-last, so the "image" is 1 row high and 56 channels deep; defects4ML's fix: (n, 20, 56, 1)
    x = images.reshape(n, 1, 20, 56) if buggy else images.reshape(n, 20, 56, 1)
    layers = [
        L.Conv2D(32, (3, 3), padding="valid", activation="relu"), L.Dropout(0.25),
        L.Conv2D(32, (3, 3), padding="valid", activation="relu"), L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Conv2D(32, (3, 3), padding="valid", activation="relu"),
        L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Flatten(), L.Dense(1024, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")]
    # Keras 3 builds a Sequential with an Input at once, and the buggy stack cannot be built on (1, 20, 56); without an
    # Input it is built on the first batch, so the program's error comes at the forward pass
    model = keras.Sequential(layers) if buggy else _sequential(keras, (20, 56, 1), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam()


CASES = []

CASES += [
    case("twelfth_keras_conv2d_channels_first_arrays", "keras", "input layout",
         "https://stackoverflow.com/questions/45711636",
         "A four-convolution Conv2D classifier of 20x56 one-channel arrays gets them shaped (n, 1, 20, 56) with "
         "input_shape=(1, 20, 56), channels first, while Keras convolves channels last, so the first 3x3 "
         "convolution sees a map one row high and the model cannot be run.",
         "Put the channel axis last: shape the arrays (n, 20, 56, 1) and declare input_shape=(20, 56, 1).",
         {"input-layout"}, _build_keras_conv2d_channels_first_arrays,
         note="defects4ML bug 087 (a Stack Overflow post; the stored copies of the thread were not found in two "
              "searches, so the case rests on defects4ML's buggy and fixed programs). The program fills its 5000 "
              "training arrays with np.empty (uninitialised memory) and its targets with random whole numbers 0-8 "
              "in ten columns, placeholders for the poster's data; the rebuild uses 128 synthetic 20x56 "
              "one-channel arrays of ten classes (a band whose row and length depend on the class) with one-hot "
              "targets, the same in both twins, so that the fixed twin has something to learn. The layers, "
              "categorical cross-entropy and Adam at its default rate are the program's; translated from Keras 2 "
              "(keras.utils.np_utils is gone). defects4ML's fix also renames the target array c_y to y_3, the name "
              "fit() uses (the buggy script would stop there with a NameError if the model could be built): a "
              "Python slip, not part of the case. Judgement: Keras 3 builds a Sequential that starts with an Input "
              "at once, and the buggy stack raises already there, so the buggy twin has no Input and is built on "
              "its first batch, where it raises the program's error (a 3x3 kernel on a map one row high); the "
              "fixed twin keeps the program's declared input shape. input-layout's fix (give x the layout the "
              "model was built for, (batch, height, width, channels) for Keras convolutions) names the fix."),
]
