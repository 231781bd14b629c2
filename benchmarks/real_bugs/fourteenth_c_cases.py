"""Fourteenth held-out set, part c: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 81-90) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fourteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- entry 83: a 3-unit softmax output for labels one-hot over 4 classes (SFData s51802524) -----------------------

def _four_class_table(n=100):
    """``n`` rows of 4 features (the program's X_train of (100, 4)) from four Gaussian blobs, and each row's blob
    one-hot over 4 classes (SFData's context one-hot encodes 4 classes with np.eye(4))."""
    x, labels = data.blobs(n, classes=4, features=4)
    return x, data.one_hot(labels, 4)


def _build_keras_iris_baseline_three_units_four_classes(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _four_class_table()
    # the bug: the output layer has 3 softmax units while every target row is one-hot over 4 classes;
    # SFData's repair: Dense(4, activation='softmax')
    width = 3 if buggy else 4
    model = _sequential(keras, (4,), [L.Dense(8, activation="relu"), L.Dense(width, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 89: a convolutional autoencoder whose output is twice the size and 1 channel (SFData s47842931) --------

def _colour_digits(n=128):
    """``n`` of scikit-learn's 8x8 digits, scaled to [0, 1], enlarged 4x to 32x32 and tinted into 3 colour channels,
    channels first for PyTorch: (n, 3, 32, 32), in [0, 1] as binary cross-entropy's targets must be."""
    images, _ = data.digits(n)
    big = np.kron((images / 16.0).reshape(-1, 8, 8), np.ones((4, 4), dtype=np.float32))
    tint = np.array([1.0, 0.7, 0.4], dtype=np.float32)
    return (big[:, None, :, :] * tint[None, :, None, None]).astype(np.float32)


def _build_torch_conv_autoencoder_missing_pool_one_channel(buggy):
    torch.manual_seed(0)

    def conv(cin, cout):  # Keras' Conv2D(cout, (3, 3), activation='relu', padding='same')
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]

    # the encoder: Conv 16, Conv 8, pool, Conv 8, pool; SFData's repair adds a pool after the first convolution
    encoder = conv(3, 16) + ([] if buggy else [nn.MaxPool2d(2)]) + conv(16, 8) + [nn.MaxPool2d(2)]
    encoder += conv(8, 8) + [nn.MaxPool2d(2)]
    # the decoder: three (Conv, upsample x2) stages and a sigmoid convolution; the bug: 1 output channel for
    # 3-channel images (and, with the encoder's two pools, an output twice the images' size);
    # SFData's repair: 3 output channels
    decoder = conv(8, 8) + [nn.Upsample(scale_factor=2)] + conv(8, 8) + [nn.Upsample(scale_factor=2)]
    decoder += conv(8, 16) + [nn.Upsample(scale_factor=2)]
    decoder += [nn.Conv2d(16, 1 if buggy else 3, 3, padding=1), nn.Sigmoid()]
    model = nn.Sequential(nn.Sequential(*encoder), nn.Sequential(*decoder))
    x = torch.as_tensor(_colour_digits())
    # an autoencoder: the targets are the images themselves; Keras' old 'adadelta' default learning rate of 1.0
    return model, x, x.clone(), nn.BCELoss(), torch.optim.Adadelta(model.parameters(), lr=1.0)


# --- entry 90: integer labels fed where a softmax regression takes one-hot rows (SFData s48250510, TF 1) ----------

def _build_keras_softmax_regression_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    x = (images / 16.0).astype(np.float32)  # 64 pixel features per row, for MNIST's 784
    # W and b start at zero, as tf.Variable(tf.zeros(...)) in the program; the model's output is the logits
    model = _sequential(keras, (64,), [L.Dense(10, kernel_initializer="zeros", bias_initializer="zeros")])
    # the bug: the labels are fed as integers 0..9 of shape (n,) to a loss that takes (n, 10) one-hot rows;
    # SFData's repair: y = np.eye(10)[y]
    y = labels if buggy else data.one_hot(labels, 10)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)  # softmax_cross_entropy_with_logits
    return model, x, y, loss, keras.optimizers.SGD(0.5)


CASES = [
    case("fourteenth_keras_iris_baseline_three_units_four_classes", "keras", "output width / labels",
         SO + "51802524",
         "A small softmax classifier (4 features, 8 ReLU units) ends in 3 softmax units while its one-hot targets "
         "have 4 columns, so categorical cross-entropy refuses the targets at the first training step.",
         "Make the output layer as wide as the number of classes: 4 softmax units.",
         {"output-width-mismatch"}, _build_keras_iris_baseline_three_units_four_classes,
         note="SFData s51802524_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array of shape (100, 4) for an output of shape (None, 3) with "
              "categorical_crossentropy). Judgement call on what the bug is: the poster's own program (iris, 3 "
              "classes) calls fit(X_train, X_test), so its (100, 4) targets are the test features; SFData's context "
              "instead gives 100 rows of 4 features and labels one-hot over 4 classes (np.eye(4)), and its repair "
              "widens the output to Dense(4). SFData's repair is the fix of record, so the twins are its context "
              "and repair. Kept: Dense(8, relu) -> Dense(3 or 4, softmax) on input_shape (4,), categorical "
              "cross-entropy, 'adam' (Adam at its defaults), 100 rows of 4 features. Changed: the context's random "
              "features and labels (which no twin could learn) are four make_blobs clusters in 4 features, one "
              "class each; the accuracy metric and the evaluate call (after training) are left out. In Keras 3 the "
              "loss raises at the first step (target and output shapes differ). expected: output-width-mismatch's "
              "fix (make the last layer as wide as the number of classes) is SFData's repair; target-shape-"
              "broadcast's fix would change the targets instead, so it is not listed."),
    case("fourteenth_torch_conv_autoencoder_missing_pool_one_channel", "torch", "output shape / autoencoder",
         SO + "47842931",
         "A convolutional autoencoder of RGB images pools twice in its encoder but upsamples three times in its "
         "decoder and ends in a single-channel convolution, so its output is twice the images' size with one "
         "channel, and binary cross-entropy against the 3-channel images fails at the first step.",
         "Add a third pooling layer to the encoder and give the decoder's last convolution 3 output channels.",
         {"output-width-mismatch"}, _build_torch_conv_autoencoder_missing_pool_one_channel,
         note="SFData s47842931_original.py, _context.py, _ground_truth.py; fault types Adjacent Layer Incompatible "
              "and Label Output Incompatible (ValueError: a target array of shape (300, 128, 128, 3) for an output "
              "of shape (None, 256, 256, 1) with binary_crossentropy); the repair adds MaxPooling2D((2, 2)) after "
              "the encoder's first convolution and makes the last Conv2D 3 filters. Translated Keras -> PyTorch, a "
              "judgement call: the program builds the encoder and decoder as two Models, the decoder declared with "
              "Input((4, 4, 8)) (a comment from a 28x28 example), and calls the decoder on the encoder's output. "
              "Keras 2 accepted that call and the program failed at fit's target check; Keras 3 refuses it while "
              "the autoencoder is constructed (expected (None, 4, 4, 8), found the encoder's feature maps), and at "
              "the program's 128x128 it refuses SFData's repaired model too ((16, 16, 8)), so a Keras 3 rebuild "
              "would fail at construction in both twins. PyTorch convolutions declare no input size, which keeps "
              "Keras 2's behaviour: the model is built and the loss refuses the output's shape at the first step "
              "(nn.BCELoss raises on a target size different from the input size), the same mechanism in the same "
              "place. Kept: Conv 16, Conv 8, pool, Conv 8, pool (3x3, ReLU, 'same' padding) and the decoder's "
              "Conv 8, up, Conv 8, up, Conv 16, up, Conv 1 or 3 with sigmoid, binary cross-entropy on the images "
              "as their own targets, Adadelta. Changed: 128 of scikit-learn's 8x8 digits (pixels / 16), enlarged "
              "4x to 32x32 and tinted into 3 channels, channels first, instead of 376 random 128x128x3 images; "
              "with 32x32 images the repaired encoder's output is (8, 4, 4), the decoder's declared (4, 4, 8). "
              "Adadelta at learning rate 1.0 (PyTorch's default and Keras 2's original one; tf.keras's 0.001 "
              "barely moves in 200 steps). The buggy output is (n, 1, 64, 64) for targets (n, 3, 32, 32). "
              "expected is a judgement call: output-width-mismatch (give every target its own output unit) leads "
              "to the 3-channel output convolution; no code's fix names the missing pooling layer (the output "
              "twice the targets' size)."),
    case("fourteenth_keras_softmax_regression_integer_labels", "keras", "labels / loss pairing",
         SO + "48250510",
         "A softmax regression of MNIST pixels (one zero-initialised weight matrix, softmax cross-entropy with "
         "logits, labels declared as (None, 10) one-hot rows) is fed the integer labels 0-9 as a vector of shape "
         "(n,), so the training step is refused.",
         "One-hot encode the labels (np.eye(10)[y]) before feeding them.",
         {"target-shape-broadcast"}, _build_keras_softmax_regression_integer_labels,
         note="SFData s48250510_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Label Output "
              "Incompatible (ValueError: cannot feed a value of shape (100,) for the (?, 10) labels placeholder); "
              "the repair adds y_bat = np.eye(10)[y_bat] in the training loop. Translated TensorFlow 1 -> Keras 3: "
              "the placeholders x (None, 784) and y (None, 10) with logits x @ W + b become a Dense(10) with zero "
              "kernel and bias initialisers on declared input (64,), tf.nn.softmax_cross_entropy_with_logits "
              "becomes CategoricalCrossentropy(from_logits=True), and GradientDescentOptimizer(0.5) SGD(0.5). The "
              "mechanism survives: the loss takes (n, 10) one-hot rows and refuses the (n,) integers at the first "
              "training step (in Keras 3 the loss's rank check, in TensorFlow 1 the placeholder's feed check). "
              "Changed: 128 of scikit-learn's 8x8 digits (pixels / 16, 64 features) instead of MNIST batches of "
              "100 with 784 features; the context's random pixels and labels are replaced by real digits. Zero "
              "initial weights are the program's and harmless here (a single linear layer). expected is a "
              "judgement call: target-shape-broadcast's fix (give the targets the output's shape) leads to the "
              "one-hot rows; labels-not-class-indices's fix keeps integer labels and would lead to a sparse loss, "
              "a different repair from SFData's, so it is not listed."),
]
