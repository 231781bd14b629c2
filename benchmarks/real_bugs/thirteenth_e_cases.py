"""Thirteenth held-out set, part e: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part e's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Thirteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _rng
from .keras_cases import _keras, _sequential


def _digits_scaled(n=128, factor=3, pad=2):
    """scikit-learn's 8x8 digits, pixels / 16, each pixel repeated ``factor`` x ``factor`` times and the image padded
    by ``pad`` zero pixels on each side (3 and 2 give 28x28, MNIST's size). Shapes (n, side, side, 1), (n,)."""
    x, labels = data.digits(n)
    x = (x / 16.0).reshape(-1, 8, 8)
    x = np.kron(x, np.ones((factor, factor), dtype=np.float32))
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    return x[..., None].astype(np.float32), labels


# --- entry 41: one-hot folder labels for a one-unit sigmoid output (SFData s61435176) ---------------------------

def _build_keras_folder_labels_one_hot_for_sigmoid(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digits_scaled(128, factor=3, pad=0)  # 24x24
    x = np.repeat(x, 3, axis=-1)  # three colour channels, as the folder's RGB images
    binary = (labels >= 5).astype(np.float32)  # two image folders
    # the bug: flow_from_directory's default class_mode gives one-hot rows (n, 2); SFData's repair:
    # class_mode='binary', one 0/1 label per image, shape (n,)
    y = data.one_hot(binary.astype(np.int64), 2) if buggy else binary
    model = _sequential(keras, x.shape[1:], [
        L.Conv2D(32, 4, activation="relu"), L.Conv2D(32, 4, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(64, activation="relu"), L.Dropout(0.35),
        L.Dense(32, activation="relu"), L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 43: integer labels for a 24-way softmax with categorical cross-entropy (SFData s56479008) -----------

def _build_keras_cnn_integer_labels_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)
    # the bug: integer class labels, shape (n,), with categorical cross-entropy; SFData's repair: to_categorical
    y = labels if buggy else data.one_hot(labels, 10)
    conv = dict(kernel_size=4, activation="relu", padding="same")
    model = _sequential(keras, (8, 8, 1), [
        L.Conv2D(64, strides=1, **conv), L.Conv2D(64, strides=2, **conv), L.Dropout(0.2),
        L.Conv2D(128, strides=1, **conv), L.Conv2D(128, strides=2, **conv), L.Dropout(0.2),
        L.Conv2D(256, strides=1, **conv), L.Conv2D(256, strides=2, **conv),
        L.Flatten(), L.Dropout(0.3), L.Dense(512, activation="relu"), L.Dense(10, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 46: an LSTM declared for (1, 20) and fed (20, 1) sequences (SFData s42855033) -------------------------

def _build_keras_lstm_input_shape_transposed(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.random((100, 20, 1)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    y = ((m - m.min()) / (m.max() - m.min())).astype(np.float32)  # one value per sequence, shape (n,)
    # the bug: input_shape=(1, 20), one step of 20 features, for data of 20 steps of one feature;
    # SFData's repair: input_shape=(20, 1)
    model = _sequential(keras, (1, 20) if buggy else (20, 1), [L.LSTM(4), L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.Adam()


# --- entry 48: 0/1 labels for a two-unit sigmoid output with binary cross-entropy (SFData s51755160) -------------

def _build_keras_binary_labels_two_sigmoid_units(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.random((100, 1)).astype(np.float32)  # one hashed value per text, scaled to [0, 1)
    labels = (x[:, 0] > 0.5).astype(np.int64)
    # the bug: one 0/1 label per sample, shape (n,), for an output of two sigmoid units;
    # SFData's repair: one-hot rows, np.eye(2)[labels], shape (n, 2)
    y = labels.astype(np.int32) if buggy else data.one_hot(labels, 2)
    model = _sequential(keras, (1,), [L.Dense(64, activation="relu"), L.Dense(32, activation="relu"),
                                      L.Dense(2, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.RMSprop()


# --- entry 49: MNIST read without one-hot labels for the deep-MNIST CNN (SFData s46053363, TensorFlow 1) --------

def _build_keras_deep_mnist_labels_not_one_hot(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digits_scaled(128)  # 28x28, as MNIST
    x = images.reshape(len(images), 784)  # the program feeds flat 784-pixel rows
    # the bug: read_data_sets(one_hot=False) gives integer labels, shape (n,), where the labels placeholder takes
    # (n, 10); SFData's repair: one_hot=True
    y = labels if buggy else data.one_hot(labels, 10)
    w = dict(kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.1),
             bias_initializer=keras.initializers.Constant(0.1))
    model = _sequential(keras, (784,), [
        L.Reshape((28, 28, 1)),
        L.Conv2D(32, 5, padding="same", activation="relu", **w), L.MaxPooling2D(2, padding="same"),
        L.Conv2D(64, 5, padding="same", activation="relu", **w), L.MaxPooling2D(2, padding="same"),
        L.Reshape((7 * 7 * 64,)), L.Dense(1024, activation="relu", **w), L.Dropout(0.5),
        L.Dense(10, **w)])
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    return model, x, y, loss, keras.optimizers.Adam(learning_rate=1e-4)


# --- entry 50: integer Fashion-MNIST labels with categorical cross-entropy (SFData s60949314) -------------------

def _build_keras_fashion_cnn_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digits_scaled(128)  # 28x28x1, pixels in [0, 1]
    # the bug: the csv's integer labels, shape (n,), with categorical cross-entropy; SFData's repair: to_categorical
    y = labels if buggy else data.one_hot(labels, 10)
    model = _sequential(keras, (28, 28, 1), [
        L.Conv2D(16, 3), L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(),
        L.Conv2D(16, 3), L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(),
        L.Flatten(), L.Dense(400, activation="relu"), L.Dropout(0.2), L.Dense(10, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


CASES = [
    case("thirteenth_keras_folder_labels_one_hot_for_sigmoid", "keras", "labels / output shape",
         "https://stackoverflow.com/questions/61435176",
         "A two-class image CNN ending in one sigmoid unit with binary cross-entropy is trained on labels from a "
         "folder iterator left at its default class mode, which yields one-hot rows of two columns, so the (n, 2) "
         "targets do not match the (n, 1) output and the loss refuses them at the first step.",
         "Ask the folder iterator for binary labels (class_mode='binary'), one 0/1 value per image, to match the "
         "single sigmoid output.",
         {"target-shape-broadcast", "binary-loss-on-one-class-rows"}, _build_keras_folder_labels_one_hot_for_sigmoid,
         note="SFData s61435176_original.py / _context.py / _ground_truth.py; fault type Parameter Restriction "
              "Incompatible (repair: OP parameter shape; error: a (6, 2) target for a (None, 1) output under "
              "binary_crossentropy). The repair adds class_mode='binary' to flow_from_directory, which changes the "
              "labels as the model gets them, not the file handling, so rule 1 holds. Kept: the layer stack (Conv2D "
              "32 4x4 twice, max-pool, Conv2D 64 3x3 twice, max-pool, Flatten, Dense 128/64, Dropout 0.35, Dense 32, "
              "Dense 1 sigmoid), binary cross-entropy, Adam at its default rate, three-channel inputs scaled to "
              "[0, 1], one-hot (n, 2) labels in the buggy twin. Changed: 128 of scikit-learn's 8x8 digits, each "
              "pixel repeated 3x3 to 24x24 and copied to three channels, two classes (digit < 5 and >= 5), instead "
              "of 300x300 photographs from two folders; the generator's augmentation (rotation, shifts, flips) is "
              "left out; whole-batch training instead of fit_generator. Translated from tf.keras 2 to Keras 3; "
              "Keras 3 still refuses a (n, 2) target for a (n, 1) output under binary cross-entropy, at the loss. "
              "expected is a judgement call: target-shape-broadcast's fix (give the targets the output's shape) is "
              "the repair; binary-loss-on-one-class-rows' title names the buggy targets (one-hot rows under binary "
              "cross-entropy) and its fix keeps binary cross-entropy for two classes, which with one sigmoid unit "
              "means one 0/1 label per sample."),
    case("thirteenth_keras_cnn_integer_labels_categorical", "keras", "labels / output shape",
         "https://stackoverflow.com/questions/56479008",
         "A strided CNN for hand-sign images ends in a 24-way softmax with categorical cross-entropy but is trained "
         "on integer class labels, one number per image, so the labels do not have the output's one-hot shape "
         "and the loss refuses them.",
         "Convert the labels to one-hot rows with to_categorical(y, number of classes) before fitting.",
         {"target-shape-broadcast"}, _build_keras_cnn_integer_labels_categorical,
         note="SFData s56479008_original.py / _context.py / _ground_truth.py; fault type Label Output Incompatible "
              "(repair: label data shape; error: a (128, 1) target under categorical_crossentropy). Kept: the six "
              "4x4 'same' Conv2D layers (64, 64/2, 128, 128/2, 256, 256/2) with ReLU, the two Dropout(0.2), "
              "Flatten, Dropout(0.3), Dense 512 ReLU, the softmax output, categorical cross-entropy, Adam at its "
              "default rate, integer labels in the buggy twin. Changed: 128 of scikit-learn's 8x8 digits (pixels "
              "/ 16) instead of 64x64 hand-sign images, so the output has 10 units and to_categorical uses 10 "
              "classes, not 24; whole-batch training. Translated from tf.keras 2 to Keras 3, which refuses (n,) "
              "labels for an (n, 10) output at the loss. target-shape-broadcast's fix names giving the targets "
              "the output's shape; labels-not-class-indices' fix keeps class indices (with a sparse loss), which "
              "is not SFData's repair, so it was not listed."),
    case("thirteenth_keras_lstm_input_shape_transposed", "keras", "input shape / recurrent layer",
         "https://stackoverflow.com/questions/42855033",
         "An LSTM regression model is declared with input_shape=(1, 20), one time step of 20 features, but the "
         "sequences are shaped (samples, 20, 1), twenty steps of one feature, so the model refuses the data at "
         "the first step.",
         "Declare the LSTM's input_shape as (20, 1), time steps first and features last, as the data are laid out.",
         {"input-layout", "layer-size-mismatch"}, _build_keras_lstm_input_shape_transposed,
         note="SFData s42855033 (ICSE2020 folder); fault type Feature Input Incompatible (repair: model input "
              "shape; error: lstm_input expected shape (1, 20) but got (20, 1)). SFData's _original.py holds a "
              "different snippet (two Sequential models joined by Concatenate); its _context.py and "
              "_ground_truth.py are the LSTM program and their diff is the one change of input_shape, which is the "
              "fix of record used here. Kept: 100 sequences of 20 steps x 1 value in [0, 1), LSTM(4) -> Dense(1), "
              "mean squared error, Adam at its default rate, targets of shape (100,). Changed: the context's "
              "targets are uniform noise, which no twin could learn, so the target is the mean of each sequence "
              "rescaled to [0, 1]; validation_split and predict are left out. Translated from tf.keras 2 to Keras 3, "
              "where the model declared for (1, 20) refuses a (n, 20, 1) batch when it is called in training. "
              "input-layout's fix names (batch, time, features) for recurrent layers and layer-size-mismatch's fix "
              "names declaring keras.Input with x's shape: both lead to input_shape=(20, 1)."),
    case("thirteenth_keras_binary_labels_two_sigmoid_units", "keras", "labels / output shape",
         "https://stackoverflow.com/questions/51755160",
         "A small dense network on one hashed text feature ends in two sigmoid units with binary cross-entropy, "
         "but each sample's label is a single 0/1 number, so the (n,) labels do not match the (n, 2) output and "
         "the loss refuses them.",
         "One-hot encode the labels (np.eye(2)[labels]) so each sample has one target per output unit.",
         {"target-shape-broadcast"}, _build_keras_binary_labels_two_sigmoid_units,
         note="SFData s51755160 (ICSE2020 folder); fault type Label Output Incompatible (repair: label data "
              "shape; error: a (100, 1) target for a (None, 2) output under binary_crossentropy). The poster's "
              "program has one two-unit output per word with loss weights; SFData's context keeps one such output "
              "and its ground truth one-hot encodes the labels; the context is followed. Kept: Input(1) -> Dense 64 "
              "ReLU -> Dense 32 ReLU -> Dense 2 sigmoid, binary cross-entropy, RMSprop at its default rate, 100 "
              "rows of one value in [0, 1), int32 0/1 labels in the buggy twin. Changed: the context's labels are "
              "random, which no twin could learn, so the label is whether the value exceeds 0.5; the no-op "
              "keras.regularizers.l2(0.1) line is left out. Translated from tf.keras 2 to Keras 3, which refuses "
              "(n,) targets for an (n, 2) output under binary cross-entropy, at the loss. target-shape-broadcast's "
              "fix names giving the targets the output's shape; output-width-mismatch was not listed because its "
              "fix would narrow the output to one unit, not SFData's repair."),
    case("thirteenth_keras_deep_mnist_labels_not_one_hot", "keras", "labels / output shape",
         "https://stackoverflow.com/questions/46053363",
         "The deep-MNIST CNN (two 5x5 convolutions with pooling, a 1024-unit layer, dropout, ten logits) trains "
         "with a softmax cross-entropy on ten label columns, but MNIST was read with integer labels, one number "
         "per image, which do not fit the ten-column labels and cannot be fed to the loss.",
         "Read MNIST with one-hot labels (one_hot=True) so each label is a row of ten columns.",
         {"target-shape-broadcast"}, _build_keras_deep_mnist_labels_not_one_hot,
         note="SFData s46053363_original.py / _context.py / _ground_truth.py; fault type Label Output Incompatible "
              "(repair: label data shape; error: cannot feed a value of shape (50,) to a (?, 10) placeholder). "
              "The repair changes read_data_sets' one_hot flag, which changes the labels as the model gets them, "
              "not the file handling. TensorFlow 1 program rebuilt in Keras 3 with the same shapes: flat 784-pixel "
              "rows reshaped to 28x28x1 inside the model, Conv2D 32 5x5 'same' ReLU, 2x2 max-pool, Conv2D 64 5x5 "
              "'same' ReLU, 2x2 max-pool, reshape to 7*7*64, Dense 1024 ReLU, Dropout 0.5 (keep_prob 0.5 in "
              "training), Dense 10 logits; weights from a truncated normal of standard deviation 0.1 and biases "
              "0.1, softmax_cross_entropy_with_logits as CategoricalCrossentropy(from_logits=True), Adam at 1e-4. "
              "The labels placeholder (?, 10) becomes the loss's target: the feed's shape check in TensorFlow 1 is "
              "the loss's shape check in Keras 3, at the same place. Changed: 128 of scikit-learn's 8x8 digits, "
              "pixels / 16, each pixel repeated 3x3 and padded by 2 to 28x28 (MNIST's size, so every shape of the "
              "program is kept), instead of batches of 50 MNIST images; whole-batch training. "
              "target-shape-broadcast's fix names giving the targets the output's shape."),
    case("thirteenth_keras_fashion_cnn_integer_labels", "keras", "labels / output shape",
         "https://stackoverflow.com/questions/60949314",
         "A small batch-normalised CNN for Fashion-MNIST ends in a ten-way softmax with categorical cross-entropy "
         "but is fitted on the csv's integer labels, one number per image, so the labels do not have the "
         "output's one-hot shape and the loss refuses them.",
         "Convert the labels with to_categorical(y, 10) before fitting.",
         {"target-shape-broadcast"}, _build_keras_fashion_cnn_integer_labels,
         note="SFData s60949314_original.py / _context.py / _ground_truth.py; fault type Label Output Incompatible "
              "(repair: label data shape; error: a (55000, 1) target under categorical_crossentropy). Kept: "
              "28x28x1 inputs in [0, 1], Conv2D 16 3x3 -> BatchNormalization -> ReLU -> max-pool twice, Flatten, "
              "Dense 400 ReLU, Dropout 0.2, Dense 10 softmax, categorical cross-entropy, Adam at its default rate, "
              "integer labels in the buggy twin. Changed: 128 of scikit-learn's 8x8 digits, pixels / 16, each "
              "pixel repeated 3x3 and padded by 2 to 28x28, instead of the Fashion-MNIST csv (SFData's context "
              "reads MNIST and divides pixels already in [0, 1] by 255 again; the poster's csv pixels were 0-255, "
              "so [0, 1] is kept); whole-batch training without validation_split. Translated from Keras 2 to "
              "Keras 3, which refuses (n,) labels for an (n, 10) output at the loss. target-shape-broadcast's fix "
              "names giving the targets the output's shape; labels-not-class-indices' fix keeps class indices with "
              "a sparse loss, not SFData's repair, so it was not listed."),
]
