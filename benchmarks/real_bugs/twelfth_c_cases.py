"""Twelfth held-out set, part c: bugs of defects4ML (Morovati et al., EMSE 2023), each rebuilt from the benchmark's
buggy and fixed programs as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`twelfth_frame.txt`, part c's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Twelfth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import GH, _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- MNIST reshaped channels first for a channels-last Conv2D (defects4ML bug 036, kyuhyoung/keras_exercise) ---

def _build_keras_mnist_cnn_channels_first_reshape(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    images = images / 16.0  # the program divides its 0-255 pixels by 255; digits run 0-16
    y = data.one_hot(labels, 10)
    layers = [L.Conv2D(32, (3, 3), activation="relu"), L.Conv2D(32, (3, 3), activation="relu"),
              L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25), L.Flatten(),
              L.Dense(128, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")]
    if buggy:
        # the bug: images reshaped to (n, 1, h, w) and the model declared for (1, h, w), while Keras convolutions
        # take channels last, so the 3x3 kernel meets an input one row high. Keras 3 would refuse the declared
        # shape at construction; the model takes its shape from the first batch instead, where the same error
        # is raised in the forward pass.
        model = keras.Sequential(layers)
        x = images.reshape(len(images), 1, 8, 8)
    else:  # defects4ML's fix: (n, h, w, 1) and input_shape=(h, w, 1)
        model = _sequential(keras, (8, 8, 1), layers)
        x = images.reshape(len(images), 8, 8, 1)
    return model, x.astype(np.float32), y, "categorical_crossentropy", keras.optimizers.Adam()


# --- a Conv1D stack ending in Dense(1) with no Flatten (defects4ML bug 093, Stack Overflow 53119432) -------------

def _build_keras_conv1d_dense_without_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x = _rng().normal(size=(24, 30, 1)).astype(np.float32)  # stands in for the program's np.empty([24, 30])
    y = np.eye(24, 1, dtype=np.float32)  # the program's labels: 1 for the first row, 0 for the others
    layers = [L.Conv1D(64, 3, activation="relu"), L.Conv1D(64, 3, activation="relu"),
              L.MaxPooling1D(pool_size=4, strides=None, padding="valid"),
              L.Conv1D(128, 3, activation="relu"), L.Conv1D(128, 3, activation="relu"), L.Dropout(0.5)]
    if not buggy:
        layers.append(L.Flatten())  # defects4ML's fix
    # the bug: without Flatten the last Dense gives one sigmoid per remaining time step, (n, 2, 1), against (n, 1)
    layers.append(L.Dense(1, activation="sigmoid"))
    return _sequential(keras, (30, 1), layers), x, y, "binary_crossentropy", keras.optimizers.Adam()


CASES = [
    case("twelfth_keras_mnist_cnn_channels_first_reshape", "keras", "data / input layout",
         GH + "kyuhyoung/keras_exercise/commit/c4332f1",
         "An MNIST CNN tutorial program reshapes the images to (n, 1, 28, 28) and declares input_shape=(1, 28, 28), "
         "channels first, while its Keras convolutions take channels last, so the first 3x3 convolution sees an "
         "input one row high and the program stops with a negative-dimension error before training.",
         "Reshape the images to (n, 28, 28, 1) and declare input_shape=(28, 28, 1), channels last.",
         {"input-layout"}, _build_keras_mnist_cnn_channels_first_reshape,
         note="defects4ML bug 036 (the commit's buggy and fixed keras_cnn_example.py; conf.ini: crash, wrong shape of "
              "input data). Rebuilt on 128 of scikit-learn's 8x8 digits (pixels / 16, standing in for MNIST / 255), "
              "so the 3x3 kernel still cannot fit an input one row high; the layers (two Conv2D(32, 3x3, relu), "
              "2x2 max-pool, Dropout 0.25, Flatten, Dense(128, relu), Dropout 0.5, Dense(10, softmax)), one-hot "
              "targets, categorical cross-entropy and 'adam' by name (Adam at its defaults) are the program's. "
              "Translated to Keras 3: np_utils.to_categorical becomes data.one_hot; the buggy model is left to take "
              "its input shape from the first batch, since Keras 3 refuses the declared (1, 28, 28) at "
              "construction (in the program, Keras 2.3.1 also raised while adding the first Conv2D), so the error "
              "comes at the forward pass. The fix also changes the fit's batch size (2 to 1000) and print "
              "statements, which are not part of build(). Judged: the program follows a tutorial written for "
              "Theano's channels-first ordering, but under the program's own Keras and TensorFlow the bug is the "
              "data's layout, not a moved API, so rule 1 holds. The seventh set's "
              "seventh_keras_digits_channels_first has the same mechanism from another source."),
    case("twelfth_keras_conv1d_dense_without_flatten", "keras", "missing flatten",
         SO + "53119432",
         "A Conv1D binary classifier of 30-step sequences ends its convolution stack in Dropout and then "
         "Dense(1, sigmoid) with no Flatten, so the output keeps a time axis, (n, 2, 1), and fitting it to "
         "labels of shape (n, 1) fails with a shape error.",
         "Put a Flatten layer between the last convolution block (its Dropout) and the Dense(1, sigmoid) output.",
         {"missing-flatten"}, _build_keras_conv1d_dense_without_flatten,
         note="defects4ML bug 093 (buggy and fixed script.py; conf.ini: crash, tensor shape mismatch). The program's "
              "inputs are np.empty([24, 30]) reshaped to (24, 30, 1), i.e. whatever memory holds, and its labels "
              "np.eye(24, 1); the rebuild keeps the labels and the shapes and draws the 24 x 30 inputs from a "
              "standard normal (a stand-in for uninitialised memory). Layers, binary cross-entropy and 'adam' by "
              "name (Adam at its defaults) are the program's. In Keras 2 the error was raised when fit checked "
              "the targets against the 3-D output; in Keras 3 it is raised at the loss (target (24, 1) against "
              "output (24, 2)). missing-flatten's title and fix name this change; no other code's fix does."),
]
