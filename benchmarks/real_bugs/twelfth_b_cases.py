"""Twelfth held-out set, part b: bugs of defects4ML (Morovati et al., EMSE 2023), each rebuilt from the benchmark's
buggy and fixed programs as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`twelfth_frame.txt`, part b's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Twelfth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _rng
from .keras_cases import _keras, _sequential


# --- an age classifier compiled with Adam at a learning rate of 100 (defects4ML bug 038) ----------------------

def _ages(pairs=128, flipped=6):
    """Synthetic ages as in the program: each pair is one age drawn from 13-64 and one from 65-100; in most pairs the
    younger is labelled 0 and the older 1, in ``flipped`` pairs the other way round (the program's 1000 and 50 pairs,
    about 95 % and 5 %). Returns the two blocks (typical, flipped), each as (ages, labels) in the program's order of
    appending: younger, older, younger, older, ..."""
    rng = _rng()

    def block(n, young_label):
        young = rng.integers(13, 65, size=n)
        old = rng.integers(65, 101, size=n)
        ages = np.stack([young, old], axis=1).reshape(-1)
        labels = np.tile([young_label, 1 - young_label], n)
        return ages, labels

    return block(pairs - flipped, 0), block(flipped, 1)


def _build_keras_age_classifier_adam_lr_100(buggy):
    keras = _keras()
    L = keras.layers
    typical, flipped = _ages()
    # the buggy program appends the typical pairs first; the fixed one appends the flipped pairs first
    blocks = (typical, flipped) if buggy else (flipped, typical)
    ages = np.concatenate([b[0] for b in blocks]).astype(np.float32)
    labels = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    x = ((ages - ages.min()) / (ages.max() - ages.min())).reshape(-1, 1)  # MinMaxScaler to [0, 1]
    model = _sequential(keras, (1,), [L.Dense(16, activation="relu"), L.Dense(32, activation="relu"),
                                      L.Dense(2, activation="softmax")])
    # the bug: Adam with a learning rate of 100; defects4ML's fix: 0.0001
    optimizer = keras.optimizers.Adam(learning_rate=100.0 if buggy else 1e-4)
    return model, x.astype(np.float32), labels, "sparse_categorical_crossentropy", optimizer


# --- MNIST reshaped channels first for a channels-last Conv2D (defects4ML bug 081, Stack Overflow 41651628) ----

def _build_keras_mnist_cnn_channels_first_input(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits()
    x = (x / 16.0).astype(np.float32)
    y = data.one_hot(labels, 10)
    layers = [L.Conv2D(32, 3, padding="valid", activation="relu"), L.Conv2D(32, 3, activation="relu"),
              L.MaxPooling2D(2), L.Dropout(0.25), L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.5),
              L.Dense(10, activation="softmax")]
    if buggy:
        # the bug: images as (n, 1, 8, 8) and the model declared for (1, rows, cols); Keras reads that as one row of
        # 8 columns with 8 channels, so the 3x3 kernel cannot fit. Keras 3 refuses such an input at construction,
        # so the model takes its shape from the first batch, where the same error comes in the forward pass.
        model = keras.Sequential(layers)
        x = x.reshape(len(x), 1, 8, 8)
    else:
        # defects4ML's fix: images as (n, cols, rows, 1) and input_shape=(cols, rows, 1), channels last
        model = _sequential(keras, (8, 8, 1), layers)
        x = x.reshape(len(x), 8, 8, 1)
    # 'adadelta' by name in Keras 2 meant Adadelta with a learning rate of 1.0
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adadelta(learning_rate=1.0)


CASES = [
    case("twelfth_keras_age_classifier_adam_lr_100", "keras", "optimizer / learning rate too high",
         "https://github.com/NikhilM98/learning-deeplearning/commit/eb24906",
         "A small ReLU network (Dense 16, Dense 32, two-way softmax) that tells older from younger ages, scaled to "
         "[0, 1], is compiled with Adam at a learning rate of 100, so every step throws the weights far from where "
         "the previous one left them and training accuracy stays at chance (the two classes are equally common).",
         "Compile with Adam at a learning rate of 0.0001 instead of 100.",
         {"lr-too-high", "update-ratio-high", "dead-relu", "non-finite-loss"},
         _build_keras_age_classifier_adam_lr_100,
         note="defects4ML bug 038 (conf.ini: suboptimal learning rate, bad performance; its test asks for accuracy "
              "of at least 0.65). The program makes 1000 pairs of random ages (13-64 labelled 0, 65-100 labelled 1) "
              "and 50 pairs labelled the other way, 2100 rows scaled to [0, 1] with MinMaxScaler, and trains for 20 "
              "epochs of batches of 10 with shuffling. Rebuilt on 256 rows: 122 typical and 6 flipped pairs (the "
              "same 95/5 share), drawn with _rng(). The fixed program also appends the flipped pairs before the "
              "typical ones (kept: the fixed twin's rows come in that order, which does not matter for whole-batch "
              "training) and adds validation_split=0.1 to fit (left out: a fit argument, not in what build() "
              "returns, and only holds out rows for reporting). It also comments out two no-op lines that set and "
              "read model.loss. Translated from Keras 2: Adam(lr=...) becomes keras.optimizers.Adam(learning_rate="
              "...). expected is a judgement call: lr-too-high's and update-ratio-high's fixes are to lower the "
              "learning rate; dead-relu's and non-finite-loss's fixes also begin with lowering it, and a step of "
              "100 may kill the ReLU units or overflow the loss, so they are listed too. At a learning rate of 1e-4 the "
              "fixed twin learns slowly: the program ran 20 epochs of 210 batches (4200 steps)."),
    case("twelfth_keras_mnist_cnn_channels_first_input", "keras", "data / input layout",
         "https://stackoverflow.com/questions/41651628",
         "MNIST images are reshaped to (n, 1, 28, 28) and the first Conv2D is declared with input_shape=(1, 28, 28), "
         "channels first, while the TensorFlow backend's Conv2D takes channels last, so the 3x3 convolution meets "
         "an input one row high and building the model fails with a negative dimension size.",
         "Reshape the images to (n, 28, 28, 1) and declare input_shape=(28, 28, 1), channels last.",
         {"input-layout"},
         _build_keras_mnist_cnn_channels_first_input,
         note="defects4ML bug 081 (conf.ini: wrong shape of input data, crash). The program is the Keras MNIST CNN "
              "example (two 3x3 Conv2D of 32 filters with ReLU, 2x2 max-pooling, Dropout 0.25, Dense 128 ReLU, "
              "Dropout 0.5, Dense 10 softmax, categorical cross-entropy, 'adadelta'), written for channels-first "
              "ordering. Rebuilt on scikit-learn's 128 8x8 digits (pixels / 16) instead of 60000 28x28 MNIST "
              "images, so the 3x3 kernel still cannot fit a one-row input. Translated from Keras 1/2: "
              "Convolution2D(32, 3, 3, border_mode='valid') becomes Conv2D(32, 3, padding='valid'), and 'adadelta' "
              "becomes keras.optimizers.Adadelta(learning_rate=1.0), Keras 2's default for it (Keras 3's default "
              "is 0.001). Keras 3 raises at construction for an Input of (1, 8, 8) under these layers, so the buggy "
              "twin's model is left without an Input and takes its shape from the batch, where the same error is "
              "raised in the forward pass (as seventh_keras_digits_channels_first does). input-layout's fix names "
              "(batch, height, width, channels) for Keras convolutions, which is defects4ML's fix."),
]
