"""Fourteenth held-out set, part e: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 101-110) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fourteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- entry 101: one-hot labels built with an extra axis, (n, 1, 2) for a (None, 2) label input (SO 51724377) -------

def _table_two_classes(n=100, width=10):
    """``n`` rows of ``width`` uniform features (SFData's context: 100 x 10) and a 0/1 label per row, shaped (n, 1)
    as the program's y_train, that depends on the first three columns (so that the twins can learn it)."""
    x = _rng().random((n, width)).astype(np.float32)
    score = x[:, :3].sum(axis=1)
    return x, (score > np.median(score)).astype(np.int32)[:, None]


def _build_keras_arange_one_hot_labels_extra_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y_train = _table_two_classes()
    # the program's one-hot encoding: y_train is already (n, 1), so y_train[:, None] is (n, 1, 1) and the comparison
    # with np.arange(2) gives (n, 1, 2)
    labels = (np.arange(2) == y_train[:, None]).astype(np.float32)
    # the bug: the (n, 1, 2) labels go to the loss as they are; SFData's repair: labels.reshape(-1, 2)
    y = labels if buggy else labels.reshape(-1, 2)
    small = keras.initializers.RandomNormal(stddev=0.01)  # tf.random_normal(..., stddev=0.01) for the weights
    model = _sequential(keras, (10,), [
        L.Dense(128, activation="relu", kernel_initializer=small, bias_initializer=keras.initializers.Constant(0.1)),
        L.Dropout(0.5),
        L.Dense(256, activation="relu", kernel_initializer=small, bias_initializer=keras.initializers.Constant(0.1)),
        L.Dropout(0.5),
        L.Dense(2, kernel_initializer=small, bias_initializer=keras.initializers.RandomNormal(stddev=1.0))])
    # softmax_cross_entropy_with_logits on the logits yo; GradientDescentOptimizer at the first learning rate, 0.05
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    return model, x, y, loss, keras.optimizers.SGD(0.05)


# --- entry 105: a 2-D table of 6 columns into a Conv1D declared for (6, 1) (SO 57423915) ---------------------------

def _six_column_table(n=128):
    """``n`` rows of 6 standard-normal columns (the program's rp, x, y, class, at, dt, standardised) and two
    continuous targets per row (its ap, dp), both functions of the first five columns."""
    rng = _rng()
    x = rng.normal(size=(n, 6)).astype(np.float32)
    s = np.tanh(x[:, :5] @ np.array([0.6, -0.4, 0.3, 0.5, -0.2], dtype=np.float32))
    y = np.stack([s + 0.1 * x[:, 5], -0.5 * s], axis=1).astype(np.float32)
    return x, y


def _build_keras_conv1d_baseline_table_without_channel_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _six_column_table()
    layers = [L.Conv1D(1, 5, activation="tanh"), L.MaxPooling1D(pool_size=2), L.Flatten(), L.Dense(2)]
    if buggy:
        # the bug: X stays (n, 6), with no channel axis, for a Conv1D that takes (batch, steps, channels). Keras 3's
        # functional input would add a missing trailing axis of size 1 by itself, so the model is left without an
        # Input and the Conv1D meets the 2-D batch, as Keras 2's input check did
        model = keras.Sequential(layers)
    else:
        # SFData's repair: X = np.expand_dims(X, -1), for the declared input_shape=(6, 1)
        model, x = _sequential(keras, (6, 1), layers), x[..., None]
    return model, x, y, "mean_squared_error", keras.optimizers.Adam()


# --- entry 106: MNIST softmax regression fed integer labels for a (None, 10) label input (SO 38157794) -------------

def _build_keras_mnist_softmax_regression_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    x = (images / 16.0).astype(np.float32)  # flattened images in [0, 1], as input_data gives MNIST's 784 pixels
    # the bug: read_data_sets(..., one_hot=False) gives one class index per image, fed where one-hot rows of 10 are
    # expected; SFData's repair: np.eye(10)[labels]
    y = labels if buggy else np.eye(10, dtype=np.float32)[labels]
    zeros = keras.initializers.Zeros()  # W and b start at tf.zeros
    model = _sequential(keras, (64,), [L.Dense(10, activation="softmax", kernel_initializer=zeros,
                                               bias_initializer=zeros)])
    # -tf.reduce_sum(y_ * tf.log(y)): cross-entropy summed over the batch, not averaged
    loss = keras.losses.CategoricalCrossentropy(reduction="sum")
    return model, x, y, loss, keras.optimizers.SGD(0.01)


# --- entry 108: (n, 25, 4) examples into an MLP declared for 100 features (SO 51118584, TensorFlow 1) --------------

def _examples_25x4(n=128):
    """``n`` examples of 25 x 4 uniform values (SFData's context: (1000, 25, 4)) and one-hot labels over 2 classes:
    whether the mean of the first of the 4 values over the 25 rows is above its median."""
    x = _rng().random((n, 25, 4)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    return x, data.one_hot((m > np.median(m)).astype(np.int64), 2)


def _build_keras_mlp_adagrad_examples_25x4_unflattened(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _examples_25x4()
    init = keras.initializers.TruncatedNormal(stddev=0.035)  # weights and biases: truncated_normal(stddev=0.035)
    model = _sequential(keras, (25 * 4,), [
        L.Dense(300, activation="relu", kernel_initializer=init, bias_initializer=init),
        L.Dense(100, activation="relu", kernel_initializer=init, bias_initializer=init),
        L.Dense(100, activation="relu", kernel_initializer=init, bias_initializer=init),
        L.Dense(2, kernel_initializer=init, bias_initializer=init)])
    # the bug: the examples are fed as (n, 25, 4) where the input is declared (None, 100); SFData's repair:
    # X_input.reshape(-1, 100)
    if not buggy:
        x = x.reshape(-1, 25 * 4)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)  # softmax_cross_entropy_with_logits
    return model, x, y, loss, keras.optimizers.Adagrad(learning_rate=0.08)


# --- entry 109: a Conv3D model with no Flatten before its Dense output (SO 57928270) --------------------------------

def _volumes_32_classes(n=16, side=50):
    """``n`` volumes of side**3 voxels with one channel (the program's (50, 50, 50, 1)), noise in [0, 0.5) with one
    of 32 slabs along the first axis brightened by 0.5, and the slab's index one-hot over 32 columns (SFData's
    context: np.eye(32) targets)."""
    rng = _rng()
    x = (0.5 * rng.random((n, side, side, side, 1))).astype(np.float32)
    classes = rng.integers(0, 32, n)
    slabs = np.array_split(np.arange(side), 32)
    for i, c in enumerate(classes):
        x[i, slabs[c]] += 0.5
    return x, data.one_hot(classes, 32)


def _build_keras_conv3d_missing_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _volumes_32_classes()
    layers = [L.Conv3D(1, kernel_size=(3, 3, 3), activation="relu", padding="same"),
              L.MaxPooling3D(pool_size=(2, 2, 2))]
    # the bug: Dense(32) straight after the pooling, so it acts on the last axis of every voxel and the output is
    # (n, 25, 25, 25, 32) against (n, 32) targets; SFData's repair: a Flatten between the pooling and the Dense
    if not buggy:
        layers.append(L.Flatten())
    layers.append(L.Dense(32))
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "mean_squared_error", keras.optimizers.Adam()


CASES = [
    case("fourteenth_keras_arange_one_hot_labels_extra_axis", "keras", "label shape / one-hot encoding",
         SO + "51724377",
         "The labels are one-hot encoded by comparing np.arange(2) with y_train[:, None] while y_train is already a "
         "column of shape (n, 1), so each label becomes a (1, 2) block and the targets, (n, 1, 2), do not have the "
         "(n, 2) shape of the network's two output scores.",
         "Reshape the one-hot labels to (-1, 2) before they are given to the training step.",
         {"target-shape-broadcast"}, _build_keras_arange_one_hot_labels_extra_axis,
         note="SFData s51724377_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Label Output "
              "Incompatible (ValueError: cannot feed value of shape (1, 1, 2) for the labels placeholder of shape "
              "(?, 2)). The twins are SFData's context (buggy) and ground truth (fixed), which adds .reshape(-1, 2) "
              "to the fed labels. Translated TensorFlow 1 -> Keras 3: the placeholders (None, 10) and (None, 2) are "
              "the model's Input and the targets; the hand-written layers (tf.matmul(w, inputs^T) + b, ReLU, "
              "dropout at keep_prob 0.5, twice, then a 2-unit linear output transposed back) are Dense(128, relu), "
              "Dropout(0.5), Dense(256, relu), Dropout(0.5), Dense(2) with the program's initialisers (weights "
              "normal with stddev 0.01, hidden biases 0.1, output bias standard normal); "
              "softmax_cross_entropy_with_logits is CategoricalCrossentropy(from_logits=True) and "
              "GradientDescentOptimizer at the first of its learning rates is SGD(0.05). Kept: 100 rows of 10 "
              "uniform features (SFData's context) and the program's own one-hot construction. Changed: the "
              "context's random 0/1 labels are replaced by whether the sum of the first three features is above "
              "its median, so that the fixed twin can learn; the program trains one row per step, the twins on the "
              "whole batch. In TensorFlow 1 the feed of the (1, 1, 2) labels is refused at the first training "
              "step; in Keras 3 the loss refuses (n, 1, 2) targets against (n, 2) outputs at the first step: the "
              "same mismatch at the same place (the labels as the loss gets them). expected: target-shape-broadcast's "
              "fix (give the targets the output's shape, y.reshape) is SFData's repair."),
    case("fourteenth_keras_conv1d_baseline_table_without_channel_axis", "keras", "data / input layout",
         SO + "57423915",
         "A regression table of shape (n, 6) is given to a Conv1D model declared for inputs of (6, 1), one channel "
         "per step, without the channel axis, so the convolution, which takes (batch, steps, channels), cannot run.",
         "Add a channel axis to the inputs with np.expand_dims(X, -1) before fitting.",
         {"input-layout"}, _build_keras_conv1d_baseline_table_without_channel_axis,
         note="SFData s57423915_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "and Label Output Incompatible (ValueError: expected conv1d_input to have 3 dimensions, but got array "
              "with shape (3780, 6)); SFData's repair adds X = np.expand_dims(X, -1) and leaves the labels as they "
              "are (the poster's commented-out expand_dims on y is not part of it). Kept: Conv1D(1, 5, tanh) on a "
              "(6, 1) input, MaxPool1D(2), Flatten, Dense(2), mean squared error, Adam at its defaults, two "
              "continuous targets per row (the program's ap, dp). Changed: 128 rows of 6 standard-normal columns "
              "instead of the poster's 4725 unscaled rows (SFData's context draws uniform features and random "
              "one-hot targets), with targets that are a tanh of a weighted sum of the first five columns (and a "
              "little of the sixth), so that the fixed twin can learn them; the accuracy metric and the validation "
              "data are left out. Keras 2 -> Keras 3: a Keras 3 functional input declared (6, 1) adds a missing "
              "trailing axis of size 1 to a (n, 6) batch by itself, so the buggy twin would train; the buggy twin's "
              "Sequential is therefore left without an Input and the Conv1D meets the (n, 6) batch at the first "
              "forward pass, where Keras 3 raises the rank error Keras 2 raised at fit's input check (a judgement "
              "call: the model differs from the program only in not declaring its input; the fixed twin declares "
              "(6, 1) as the program does). expected: input-layout's fix names the layout the convolution takes "
              "and a reshape of x, which is SFData's repair; layer-size-mismatch is not listed, since no layer is "
              "sized wrongly (the declared (6, 1) is right, the data lack an axis)."),
    case("fourteenth_keras_mnist_softmax_regression_integer_labels", "keras", "label encoding / target shape",
         SO + "38157794",
         "A softmax regression on MNIST whose label input takes one-hot rows of 10 is fed the digit labels as single "
         "class indices (the data were read with one_hot=False), so the targets, of shape (n,), do not match the "
         "(n, 10) output.",
         "One-hot encode the labels, np.eye(10)[labels], before feeding them to the training step.",
         {"target-shape-broadcast"}, _build_keras_mnist_softmax_regression_integer_labels,
         note="SFData s38157794_original.py, _context.py, _ground_truth.py (ICSE2020 list); TensorFlow 1; fault type "
              "Label Output Incompatible (ValueError: cannot feed value of shape (50,) for the (?, 10) label "
              "placeholder). The repair wraps the fed labels (training and test) in np.eye(10)[...]. Translated "
              "TensorFlow 1 -> Keras 3: x placeholder (None, 784) -> Input, W and b at tf.zeros -> Dense(10, "
              "softmax) with zero initialisers, -tf.reduce_sum(y_ * tf.log(y)) -> "
              "CategoricalCrossentropy(reduction='sum') (summed over the batch like the program's loss), "
              "GradientDescentOptimizer(0.01) -> SGD(0.01). Kept: a one-layer softmax regression on flattened "
              "images in [0, 1], zero initial weights, the summed cross-entropy and the learning rate. Changed: 128 "
              "of scikit-learn's 8x8 digits (pixels / 16, 64 inputs) instead of MNIST's 784-pixel images in batches "
              "of 50; the test-set accuracy is left out. In TensorFlow 1 the (50,) labels are refused when fed at "
              "the first training step; in Keras 3 the loss refuses (n,) targets against (n, 10) outputs at the "
              "first step (target rank against output rank): the same mismatch at the same place. expected is a "
              "judgement call: target-shape-broadcast's fix (give the targets the output's shape) leads to the "
              "one-hot rows; labels-not-class-indices (one whole number per sample) would keep the integer labels "
              "and lead to a sparse loss, not to SFData's repair, so it is not listed."),
    case("fourteenth_keras_mlp_adagrad_examples_25x4_unflattened", "keras", "input shape / flattening",
         SO + "51118584",
         "Examples of shape (25, 4) are fed unflattened, as a (n, 25, 4) array, to a four-layer MLP whose input is "
         "declared for 100 features per example, so the first layer cannot take them.",
         "Reshape the examples to (-1, 100), one row of 25 * 4 features each, before training.",
         {"input-layout", "layer-size-mismatch"}, _build_keras_mlp_adagrad_examples_25x4_unflattened,
         note="SFData s51118584_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Feature Input "
              "Incompatible (ValueError: cannot feed value of shape (100, 25, 4) for the X placeholder of shape "
              "(?, 100)). The poster reshaped each batch inside the loop; SFData's context feeds the batches "
              "without it, which gives the posted error, and its repair reshapes X_input to (-1, 100) once. The "
              "twins are the context and the repair. Translated TensorFlow 1 -> Keras 3: the X placeholder -> "
              "Input((100,)); the matmul + bias layers -> Dense(300, relu), Dense(100, relu), Dense(100, relu), "
              "Dense(2) with weights and biases from truncated_normal(stddev=0.035); "
              "softmax_cross_entropy_with_logits -> CategoricalCrossentropy(from_logits=True); "
              "AdagradOptimizer(0.08) -> Adagrad(0.08); the y placeholder (None, 2) -> float one-hot targets. Kept: "
              "(n, 25, 4) examples, 2 classes, the layer sizes, initialisers and optimizer. Changed: 128 examples "
              "instead of 630 in batches of 100; the context's random labels are replaced by whether the mean of "
              "the first of the 4 values over the 25 rows is above its median, so that the fixed twin can learn. "
              "The feed check of TensorFlow 1 becomes Keras 3's input check at the first forward pass (declared "
              "(None, 100) against a (n, 25, 4) batch): same mismatch, same place. expected is a judgement call: "
              "input-layout ((batch, features) for Dense layers) and layer-size-mismatch (give x the size the model "
              "was built for) both lead to the reshape of the data; missing-flatten's fix (a Flatten layer in the "
              "model) would reach the same shapes by changing the model rather than the data as SFData does, so "
              "it is not listed."),
    case("fourteenth_keras_conv3d_missing_flatten", "keras", "architecture / missing flatten",
         SO + "57928270",
         "A Conv3D regression model on (50, 50, 50, 1) volumes puts its Dense(32) output straight after the 3-D "
         "pooling with no Flatten, so the Dense acts on every voxel and the output, (n, 25, 25, 25, 32), cannot be "
         "compared with the (n, 32) targets under mean squared error.",
         "Add a Flatten layer between the MaxPooling3D layer and the Dense(32) output.",
         {"missing-flatten"}, _build_keras_conv3d_missing_flatten,
         note="SFData s57928270_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible "
              "(ValueError: a target array of shape (7, 32) was passed for an output of shape (None, 25, 25, 25, "
              "32) with mean_squared_error). The poster's listing already shows a Flatten while the posted error is "
              "the one the model gives without it; SFData's context leaves it out and its repair adds it. The twins "
              "are the context and the repair. Kept: Conv3D(1, 3x3x3, relu, padding 'same') on (50, 50, 50, 1) "
              "volumes, MaxPooling3D(2), Dense(32), mean squared error, Adam at its defaults, one-hot targets over "
              "32 columns as in the context. Changed: 16 volumes instead of the context's 7 training ones (the "
              "number is not 25, where the loss would broadcast (n, 32) against the (25, 32) of the last two axes "
              "without an error); the context's random classes are made learnable by brightening, in each volume, "
              "the slab of the first axis whose index is its class; the accuracy metric and evaluate are left out. "
              "Keras 3 builds both models; the buggy twin fails at the loss at the first training step "
              "(incompatible shapes), where Keras 2 failed at fit's target check. expected: missing-flatten's title "
              "and fix (a Flatten between the last pooling layer and the first Dense layer) are SFData's repair; "
              "target-shape-broadcast would reshape the targets instead, not the repair, so it is not listed."),
]
