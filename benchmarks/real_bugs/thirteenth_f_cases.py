"""Thirteenth held-out set, part f: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part f's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Thirteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _digit_pixels, _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


def _declared_input_model(keras, declared_shape, layers):
    """A model that declares ``declared_shape`` as its input, as the program's Sequential or Input did, but builds
    that input at its first call instead of at construction. Keras 2 and Keras 3 both raise while building a model
    whose declared input cannot feed its layers; Keras 2 did so when the program defined the model, before fit. A
    builder must return a model, so here the same construction (keras.Input(declared_shape) followed by the same
    layers) runs when the model first meets a batch, and raises the same error there, at the first forward pass."""

    class DeclaredInput(keras.Model):
        def __init__(self):
            super().__init__()
            self.declared_shape = tuple(declared_shape)
            self.body = list(layers)

        def build(self, input_shape):
            self.net = keras.Sequential([keras.Input(self.declared_shape), *self.body])

        def call(self, x, training=False):
            return self.net(x, training=training)

    return DeclaredInput()


# --- entry 51: an LSTM regressor declared for (None, 1) inputs while the data are (5, 54) (SO 50364194) ------------

def _sequences_5x54(n=128):
    """``n`` sequences of 5 steps x 54 uniform features (the program's data shape), and a 0/1 target per sequence
    that depends on every step: whether the first feature's mean over the 5 steps is above its median."""
    x = _rng().random((n, 5, 54)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    return x, (m > np.median(m)).astype(np.float32)


def _build_keras_lstm_declared_timesteps_none_features_1(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sequences_5x54()
    layers = [L.LSTM(20, return_sequences=True), L.Flatten(), L.Dense(1)]
    if buggy:
        # the bug: the input is declared as (timesteps=None, features=1), while every sample is 5 steps of 54
        # features; Flatten then cannot give Dense a defined width, and the model cannot be built
        model = _declared_input_model(keras, (None, 1), layers)
    else:
        model = _sequential(keras, (5, 54), layers)  # SFData's repair: timesteps = 5, features = 54
    return model, x, y, "mae", keras.optimizers.Adam()


# --- entry 52: an LSTM whose input_shape is the whole training array's shape (SO 60711423) ------------------------

def _sine_windows(n=100, steps=7):
    """``n`` windows of ``steps`` values of a noisy sine wave, shaped (n, steps, 1) as the program's X_train, and
    for each step the value that follows it (the window shifted by one), shaped (n, steps, 1)."""
    rng = _rng()
    t = np.arange(n + steps + 1)
    series = (np.sin(t / 3.0) + rng.normal(0, 0.05, size=t.shape)).astype(np.float32)
    idx = np.arange(n)[:, None] + np.arange(steps)[None, :]
    return series[idx][..., None], series[idx + 1][..., None]


def _build_keras_lstm_input_shape_includes_samples(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sine_windows()
    layers = [L.LSTM(150, activation="sigmoid", return_sequences=True), L.Dropout(0.2), L.Dense(1)]
    if buggy:
        # the bug: input_shape=X_train.shape, i.e. (100, 7, 1) with the number of samples in it, so the LSTM is
        # declared for 4-D inputs
        model = _declared_input_model(keras, x.shape, layers)
    else:
        model = _sequential(keras, x.shape[1:], layers)  # SFData's repair: input_shape=X_train.shape[1:]
    return model, x, y, "mse", keras.optimizers.Adam()


# --- entry 53: one LSTM cell object stacked three times (SO 44615147, TensorFlow 1) -------------------------------

def _sequence_terciles(n=64, steps=10):
    """``n`` sequences of ``steps`` x 1 uniform values (the program's placeholder X of (64, 10, 1)) and one-hot
    labels over 3 classes (its labels placeholder of (None, 3)): the tercile of the sequence's mean."""
    x = _rng().random((n, steps, 1)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    classes = np.digitize(m, np.quantile(m, [1 / 3, 2 / 3]))
    return x, data.one_hot(classes, 3)


def _build_keras_stacked_lstm_one_cell_reused(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sequence_terciles()
    units = 64
    if buggy:
        # the bug: the same cell object is given to all three layers of the stack; it is built for the first
        # layer's 1 input feature and then applied to the second layer's `units` features
        cell = L.LSTMCell(units)
        cells = [cell] * 3
    else:
        cells = [L.LSTMCell(units) for _ in range(3)]  # SFData's repair: a new cell for each layer
    # left without an Input, as the graph program only met its shapes when dynamic_rnn ran the cells; Keras 3 would
    # raise the same error while building a declared input
    model = keras.Sequential([L.RNN(L.StackedRNNCells(cells)), L.Dense(3, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 54: one-hot labels with sparse categorical cross-entropy (SO 65356923) ---------------------------------

def _build_keras_lenet300_one_hot_sparse_loss(buggy):
    keras = _keras()
    L = keras.layers

    class LeNet300(keras.Model):  # the program's subclassed LeNet-300-100
        def __init__(self):
            super().__init__()
            self.flatten = L.Flatten()
            self.dense1 = L.Dense(300, activation="relu")
            self.dense2 = L.Dense(100, activation="relu")
            self.op = L.Dense(10, activation="softmax")

        def call(self, inputs):
            return self.op(self.dense2(self.dense1(self.flatten(inputs))))

    images, labels = data.digits()
    x = (images / 16.0).reshape(-1, 8, 8).astype(np.float32)  # the program divides MNIST's pixels by 255
    # the bug: the labels are one-hot encoded for a loss that takes one class index per sample; SFData's repair
    # drops the to_categorical call and keeps the integer labels
    y = data.one_hot(labels, 10) if buggy else labels
    return LeNet300(), x, y, keras.losses.SparseCategoricalCrossentropy(), keras.optimizers.Adam()


# --- entry 55: 2-D images into a Dense model declared for 784 features, and integer labels (SO 62206004) ----------

def _build_keras_mlp_images_unflattened_labels_integer(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digit_pixels()  # 0..255 integers, unscaled as in the program
    model = _sequential(keras, (64,), [L.Dense(512, activation="relu"), L.Dense(256, activation="relu"),
                                       L.Dense(10, activation="softmax")])
    if buggy:
        # the bug: images kept as (n, 8, 8) for a model declared for (64,), and integer labels for
        # categorical cross-entropy
        x, y = images.reshape(-1, 8, 8), labels
    else:
        # SFData's repair: images reshaped to (n, 64) and labels one-hot (np.eye(10)[labels])
        x, y = images.reshape(-1, 64), np.eye(10, dtype=np.float32)[labels]
    return model, x.astype(np.float32), y, "categorical_crossentropy", keras.optimizers.RMSprop()


# --- entry 56: grey images without a channel axis into a Conv2D (SO 37085653) -------------------------------------

def _build_keras_conv2d_images_without_channel_axis(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    images = (images / 16.0).reshape(-1, 8, 8).astype(np.float32)
    y = (labels < 5).astype(np.float32)  # a 0/1 label per image, as SFData's context program has
    layers = [L.Conv2D(10, (3, 3), padding="same"), L.MaxPooling2D(pool_size=2), L.Flatten(),
              L.Dense(1, activation="sigmoid")]
    if buggy:
        # the bug: images of (n, 8, 8) and the Conv2D declared for (8, 8), with no channel axis; Keras 3 refuses
        # that declaration at construction, so the model takes its shape from the batch, where the same error comes
        model, x = keras.Sequential(layers), images
    else:
        # SFData's repair: np.expand_dims(X, -1) and input_shape=(rows, cols, 1)
        model, x = _sequential(keras, (8, 8, 1), layers), images[..., None]
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 57: integer labels with categorical cross-entropy (SO 62449191) ----------------------------------------

def _build_keras_mlp_integer_labels_categorical_loss(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    x = (images / 16.0).reshape(-1, 8, 8).astype(np.float32)  # the program divides MNIST's pixels by 255
    model = _sequential(keras, (8, 8), [L.Flatten(), L.Dense(512, activation="relu"),
                                        L.Dense(10, activation="softmax")])
    # the bug: integer labels 0..9 for categorical cross-entropy; SFData's repair: to_categorical(y_train)
    y = labels if buggy else data.one_hot(labels, 10)
    return model, x, y, "categorical_crossentropy", keras.optimizers.RMSprop()


CASES = [
    case("thirteenth_keras_lstm_declared_timesteps_none_features_1", "keras", "input shape / declared input",
         SO + "50364194",
         "An LSTM regressor's input is declared as (batch, None, 1), one feature per step and no fixed length, while "
         "each sample is 5 steps of 54 features, so the Flatten after the LSTM has no defined width and the Dense "
         "layer after it cannot be built.",
         "Declare the input with the data's own shape, 5 time steps of 54 features.",
         {"layer-size-mismatch"}, _build_keras_lstm_declared_timesteps_none_features_1,
         note="SFData s50364194_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "and Label Output Incompatible (ValueError: the last dimension of the inputs to Dense should be "
              "defined, found None). The poster's snippet has LSTM -> Dense(1) with no Flatten (its output, "
              "(batch, steps, 1), against one target per sample is the label half of the fault type); SFData's "
              "context adds the Flatten, which reproduces the posted error, and its repair keeps that Flatten and "
              "sets timesteps = 5 and output_size = 54 in the declared input. The twins are the context and the "
              "repair. Kept: LSTM(20, return_sequences=True) -> Flatten -> Dense(1), mean absolute error, 'adam' "
              "(Adam at its defaults), (n, 5, 54) inputs and one 0/1 target per sample. Changed: 128 rows instead "
              "of 11200; the context's targets are random 0/1 labels, which no twin could learn, so the target is "
              "whether the first feature's mean over the 5 steps is above its median; stateful=True and the fixed "
              "batch of 32 in batch_shape are dropped (they carry the LSTM state between batches, which has "
              "nothing to do with the shape fault, and would tie the batch to 32 rows). Keras 2 and Keras 3 both "
              "raise while the model is defined, before fit; the builder must return a model, so the buggy twin "
              "declares the same input and builds it at its first call (_declared_input_model), where the same "
              "error is raised. expected is a judgement call: layer-size-mismatch's fix names keras.Input with x's "
              "shape, which is SFData's repair; input-layout's fix points at changing x, which would not help here."),
    case("thirteenth_keras_lstm_input_shape_includes_samples", "keras", "input shape / declared input",
         SO + "60711423",
         "The first LSTM layer is given input_shape=X_train.shape, which includes the number of samples, so the "
         "model is declared for 4-D inputs (batch, 100, 7, 1) and the LSTM, which takes (batch, time, features), "
         "cannot be built.",
         "Declare input_shape=X_train.shape[1:], the shape of one sample (7 steps of 1 feature).",
         {"layer-size-mismatch"}, _build_keras_lstm_input_shape_includes_samples,
         note="SFData s60711423_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "(ValueError: expected ndim=3, found ndim=4, full shape (None, 100, 7, 1)). The program is two lines "
              "(LSTM(150, sigmoid, return_sequences=True, input_shape=X_train.shape) and Dropout(0.2)) and "
              "SFData's context gives X_train the shape (100, 7, 1) and stops after the Dropout; the thread's "
              "further code was not found. Kept: 100 samples of 7 steps x 1 feature, the two layers and their "
              "settings, and the repair. Added, so that the twins can train: a Dense(1) after the Dropout, giving "
              "one value per step, trained with mean squared error and Adam to predict the next value of a noisy "
              "sine wave at each step (windows of one series as X_train). The added head is after the layer "
              "where the fault is and takes no part in it. Keras 2 raised while the model was defined (at "
              "model.add); Keras 3 does the same, so the buggy twin declares the same input and builds it at its "
              "first call (_declared_input_model), where the same error is raised. expected: layer-size-mismatch's "
              "fix names keras.Input with x's shape, which is SFData's repair; input-layout's fix (give x the layout "
              "the model was built for) would point at x, which already has the layout an LSTM takes."),
    case("thirteenth_keras_stacked_lstm_one_cell_reused", "keras", "layer sizes / shared cell",
         SO + "44615147",
         "A three-layer stacked LSTM is made by repeating one cell object three times, so the cell, whose weights "
         "were sized for the first layer's single input feature, is applied again to the second layer's input, the "
         "first layer's full hidden state, and the matrix product fails.",
         "Create a new LSTM cell for each of the three layers of the stack.",
         {"layer-size-mismatch"}, _build_keras_stacked_lstm_one_cell_reused,
         note="SFData s44615147_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Parameter "
              "Restriction Incompatible (ValueError in MatMul: dimensions must be equal, 1024 and 513, i.e. the "
              "second layer's [input, h] of 512 + 512 against a kernel built for 1 + 512). The program feeds "
              "placeholders X (64, 10, 1) and labels (None, 3) to tf.contrib.rnn.MultiRNNCell([cell] * 3) over "
              "dynamic_rnn; the repair builds the list with three LSTMCell(512). Translated to Keras 3: "
              "keras.layers.RNN(StackedRNNCells([cell] * 3)) against three separate LSTMCells; Keras 3 keeps the "
              "same mechanism (the shared cell is built once for 1 input feature; at the second layer its (1, 4u) "
              "kernel meets a (batch, u) input and MatMul fails in the forward pass). Keras's LSTMCell keeps input "
              "and recurrent kernels apart, so the failing shapes are (64, u) x (1, 4u) rather than TensorFlow 1's "
              "concatenated (64, 2u) x (u + 1, 4u). Changed: 64 units instead of 512 (shared CPU); the program "
              "stops at dynamic_rnn, so the head (last output -> Dense(3, softmax), categorical cross-entropy "
              "against the float one-hot labels the placeholder takes, Adam) and the targets (the tercile of each "
              "sequence's mean) are added; 64 rows, the placeholder's batch. The model is left without an Input, as "
              "the shapes meet only when the cells run. expected is a judgement call: layer-size-mismatch's title "
              "(a layer sized for inputs other than the ones it receives) is what the shared cell is, though its "
              "fix speaks of resizing the layer rather than of giving each layer its own cell."),
    case("thirteenth_keras_lenet300_one_hot_sparse_loss", "keras", "labels / loss pairing",
         SO + "65356923",
         "A LeNet-300-100 classifier of MNIST is trained with sparse categorical cross-entropy, which takes one "
         "class index per sample, on labels that were one-hot encoded with to_categorical, so the loss (in Keras 2, "
         "the accuracy metric's squeeze) fails on the (n, 10) targets.",
         "Drop the one-hot encoding and train on the integer class labels.",
         {"labels-not-class-indices"}, _build_keras_lenet300_one_hot_sparse_loss,
         note="SFData s65356923_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible "
              "(InvalidArgumentError: cannot squeeze dim[1], expected 1, got 10, in metrics/acc/Squeeze); the "
              "repair comments out the two to_categorical calls. Kept: the subclassed model (Flatten, Dense 300 "
              "relu, Dense 100 relu, Dense 10 softmax), SparseCategoricalCrossentropy, Adam at its defaults, pixels "
              "scaled to [0, 1]. Changed: 128 of scikit-learn's 8x8 digits (pixels / 16) instead of MNIST's 60000 "
              "28x28 images; the accuracy metric, early stopping and validation data are left out (not part of "
              "build()). In Keras 3 the error comes at the loss itself (target rank against output rank) rather "
              "than at the accuracy metric, still at the first training step. labels-not-class-indices's fix (one "
              "whole number per sample from 0 to K - 1) is SFData's repair."),
    case("thirteenth_keras_mlp_images_unflattened_labels_integer", "keras", "input shape and label encoding",
         SO + "62206004",
         "An MNIST MLP declared for 784 input features is fitted on the 28x28 images as loaded, without flattening "
         "them, and with integer labels for categorical cross-entropy, so fit stops at the input check.",
         "Reshape the images to (n, 784) and one-hot encode the labels before fitting.",
         {"input-layout", "layer-size-mismatch", "target-shape-broadcast"},
         _build_keras_mlp_images_unflattened_labels_integer,
         note="SFData s62206004_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "and Label Output Incompatible (ValueError: expected dense_input to have 2 dimensions, got (60000, "
              "28, 28)); the repair reshapes the images to (-1, 784) and one-hot encodes the labels with np.eye(10). "
              "Kept: Dense 512 relu, Dense 256 relu, Dense 10 softmax, categorical cross-entropy, 'rmsprop' (RMSprop "
              "at its defaults), unscaled 0..255 pixels (neither the program nor the repair scales them). Changed: "
              "128 of scikit-learn's 8x8 digits as 0..255 integers (_digit_pixels) instead of MNIST, so the "
              "declared width is 64, not 784. In Keras 3 the buggy twin stops at the model's input check in the "
              "first forward pass, as Keras 2 stopped in fit's input check; the integer labels would fail at the "
              "loss next. expected is a judgement call: input-layout ((batch, features) for Dense layers) and "
              "layer-size-mismatch (give x the size the model was built for) both lead to the reshape; "
              "target-shape-broadcast's fix (give the targets the output's shape) leads to the one-hot labels."),
    case("thirteenth_keras_conv2d_images_without_channel_axis", "keras", "data / input layout",
         SO + "37085653",
         "Grey images of shape (n, rows, cols) are fed to a Conv2D declared with input_shape=(rows, cols), with no "
         "channel axis, so the convolution, which takes 4-D (batch, rows, cols, channels) inputs, cannot run.",
         "Add a channel axis to the images (np.expand_dims(X, -1)) and declare input_shape=(rows, cols, 1).",
         {"input-layout"}, _build_keras_conv2d_images_without_channel_axis,
         note="SFData s37085653_original.py, _context.py, _ground_truth.py (ICSE2020 list); fault type Feature "
              "Input Incompatible (ValueError: conv2d expected ndim=4, found ndim=3). The poster's line is a Keras 1 "
              "Convolution2D(10, 3, 3, border_mode='same', input_shape=(100, 100)); SFData's context puts it in a "
              "small binary classifier (MaxPool2D(2), Flatten, Dense(1), binary cross-entropy, 'adam') on random "
              "(100, 30, 30) images with random 0/1 labels. Kept: Conv2D with 10 filters of 3x3 and padding 'same' "
              "(the poster's Keras 1 arguments; tf.keras reads the context's Convolution2D(10, 3, 3) as a stride of "
              "3), the context's pooling, Flatten, one output, binary cross-entropy and Adam. Changed: 128 of "
              "scikit-learn's 8x8 digits (pixels / 16) with the label digit < 5, since random labels cannot be "
              "learnt; a sigmoid on the output unit, which the context leaves linear under binary cross-entropy (a "
              "second fault the researchers' context adds, not the poster's). Keras 3 refuses the declared (8, 8) "
              "at construction, so the buggy twin's model takes its shape from the batch and the same error comes "
              "at the first forward pass. input-layout's fix names (batch, height, width, channels) for Keras "
              "convolutions, which is the repair."),
    case("thirteenth_keras_mlp_integer_labels_categorical_loss", "keras", "labels / loss pairing",
         SO + "62449191",
         "An MNIST MLP with a 10-way softmax is compiled with categorical cross-entropy, which takes one-hot "
         "targets, and fitted on the integer labels 0-9 as loaded, so the loss fails on targets of shape (n,) or "
         "(n, 1) against outputs of (n, 10).",
         "One-hot encode the labels with to_categorical before fitting.",
         {"target-shape-broadcast"}, _build_keras_mlp_integer_labels_categorical_loss,
         note="SFData s62449191_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array of shape (60000, 1) with categorical_crossentropy); the repair adds "
              "to_categorical on the labels. Kept: Flatten, Dense 512 relu, Dense 10 softmax, categorical "
              "cross-entropy, 'rmsprop' (RMSprop at its defaults), pixels divided by the maximum as in the poster's "
              "program (SFData's context leaves them unscaled). Changed: 128 of scikit-learn's 8x8 digits "
              "(pixels / 16) instead of MNIST; the accuracy metric is left out. In Keras 3 the error is raised at "
              "the loss (target rank against output rank) at the first training step. expected is a judgement "
              "call: target-shape-broadcast's fix (give the targets the output's shape) leads to one-hot labels; "
              "labels-not-class-indices's fix keeps integer labels and would lead to the sparse loss instead, a "
              "different repair from SFData's, so it is not listed."),
]
