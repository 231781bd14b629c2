"""Fourteenth held-out set, part h: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 131-140) by someone who read only
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
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- entry 131: an Estimator CNN with one-hot labels for sparse softmax cross-entropy (SO 50448601, TF 1) -----------

def _build_keras_estimator_cnn_one_hot_sparse_loss(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    # grey 8x8 digits repeated over 3 channels (the program reads colour JPEGs of 168 x 84 x 3)
    x = np.repeat((images / 16.0).reshape(-1, 8, 8, 1), 3, axis=-1).astype(np.float32)
    classes = (labels < 5).astype(np.int64)  # two classes, as the program's labels
    # the bug: the labels are one-hot encoded (tf.one_hot / np.eye) for a loss that takes one class index per
    # sample; SFData's repair drops the one-hot encoding
    y = data.one_hot(classes, 2) if buggy else classes
    model = _sequential(keras, (8, 8, 3), [
        L.Conv2D(32, (5, 5), padding="same", activation="relu"), L.MaxPooling2D((2, 2), strides=2),
        L.Conv2D(64, (5, 5), padding="same", activation="relu"), L.MaxPooling2D((2, 2), strides=2),
        L.Reshape((2 * 2 * 64,)),  # the program's tf.reshape(pool2, [-1, 42 * 21 * 64]) at this image size
        L.Dense(4, activation="relu"), L.Dropout(0.4), L.Dense(2)])  # logits
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # plain gradient descent as in the program, at 0.05 instead of its 0.001: the Estimator trains for as many steps
    # as it is given, and at 0.001 the repaired twin barely moves in a 200-step check
    return model, x, y, loss, keras.optimizers.SGD(learning_rate=0.05)


# --- entry 132: one-hot labels with sparse categorical cross-entropy; the repair changes the loss (SO 61116088) ----

def _build_keras_categorical_labels_sparse_loss(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits(256)
    keep = labels < 5  # five classes, as the program's
    x = (images[keep] / 16.0).astype(np.float32)
    y = data.one_hot(labels[keep], 5)  # to_categorical(train_labels, 5), in both twins
    model = _sequential(keras, (64,), [L.Dense(30, activation="relu"), L.Dense(30, activation="relu"),
                                       L.Dense(5, activation="softmax")])
    # the bug: sparse categorical cross-entropy on the one-hot labels; SFData's repair: categorical cross-entropy
    loss = "sparse_categorical_crossentropy" if buggy else "categorical_crossentropy"
    return model, x, y, loss, keras.optimizers.Adam()


# --- entry 133: (n, 3, 12) channel matrices into a Conv2D declared for (3, 12, 1) (SO 63687794) ---------------------

def _channel_matrices(n=256, classes=6):
    """``n`` matrices of 3 x 12 values (the program's (3, 12) readings per sample) and one-hot labels over 6 classes;
    class k raises columns 2k and 2k + 1 of every row, so the labels can be learnt."""
    rng = _rng()
    labels = rng.integers(0, classes, n)
    x = 0.5 * rng.random((n, 3, 12))
    for k in range(classes):
        x[labels == k, :, 2 * k:2 * k + 2] += 1.0
    return x.astype(np.float32), data.one_hot(labels, classes)


def _build_keras_reshape_channel_conv2d_missing_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _channel_matrices()
    layers = [L.Conv2D(8, kernel_size=(3, 3), padding="same"), L.BatchNormalization(), L.Activation("relu"),
              L.Conv2D(8, kernel_size=(3, 3), padding="same"), L.BatchNormalization(), L.Activation("relu"),
              L.Flatten(), L.Dense(8, activation="relu"), L.Dense(6, activation="softmax")]
    if buggy:
        # the bug: the data are (n, 3, 12), with no channel axis, for a Conv2D declared for (3, 12, 1). Keras 3 adds
        # a missing trailing axis of size 1 to a declared input by itself, so the model is left without an Input and
        # takes the batch's shape, where the Conv2D meets a 3-D input as Keras 2's input check did
        model = keras.Sequential(layers)
    else:
        # SFData's repair: np.expand_dims(X_train, -1), giving (n, 3, 12, 1)
        model, x = _sequential(keras, (3, 12, 1), layers), x[..., None]
    return model, x, y, "categorical_crossentropy", keras.optimizers.Nadam()


# --- entry 134: custom one-hot labels of shape (n, 1, 3) for a (None, 3) softmax (SO 60129234) ---------------------

def _volumes(n=64, side=16):
    """``n`` grey volumes of side^3 voxels with one channel (the program's (160, 192, 192, 1) scans, smaller) and 3
    classes: class k brightens the k-th third of the volume along its first axis."""
    rng = _rng()
    labels = rng.integers(0, 3, n)
    x = 0.5 * rng.random((n, side, side, side, 1))
    third = side // 3
    for k in range(3):
        x[labels == k, k * third:(k + 1) * third] += 0.5
    return x.astype(np.float32), labels


def _build_keras_conv3d_custom_one_hot_extra_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _volumes()
    # the program's custom_one_hot: each label becomes a (1, 3) row, so the labels are (n, 1, 3)
    y = np.eye(3, dtype=np.float32)[labels].reshape(-1, 1, 3)
    if not buggy:
        y = np.squeeze(y, 1)  # SFData's repair: np.squeeze(y, 1), giving (n, 3)
    model = _sequential(keras, x.shape[1:], [
        L.Conv3D(8, kernel_size=(3, 3, 3), strides=2, padding="same", activation="relu"),
        L.MaxPooling3D(pool_size=(2, 2, 2)), L.Dropout(0.1),
        L.Conv3D(16, kernel_size=(3, 3, 3), padding="same", activation="relu"),
        L.MaxPooling3D(pool_size=(2, 2, 2)), L.Dropout(0.1),
        L.Flatten(), L.Dense(3, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(learning_rate=0.0015)


# --- entry 136: 30 tabular features into a Conv1D declared for (30, 1) (SO 43396572) -------------------------------

def _build_keras_cancer_conv1d_features_without_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = data.breast_cancer()  # the 30 features of Wisconsin's breast cancer set, as the program's CSV columns
    x = data.standardise(x)
    layers = [L.Conv1D(2, 2, activation="relu"), L.Flatten(), L.Dense(1, activation="sigmoid")]
    if buggy:
        # the bug: X is (n, 30), with no feature axis, for a Conv1D declared for (30, 1); Keras 3 would add the
        # missing axis of size 1 to a declared input by itself, so the model takes the batch's shape instead
        model = keras.Sequential(layers)
    else:
        # SFData's repair: np.expand_dims(X, -1), giving (n, 30, 1)
        model, x = _sequential(keras, (30, 1), layers), x[..., None]
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 137: a 16-unit output for 3 one-hot classes (SO 64577667) -----------------------------------------------

def _build_keras_glcm_output_16_units_3_classes(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.blobs(n=256, classes=3, features=24)  # 24 features per row, 3 classes, as the program's
    x = data.standardise(x)
    y = data.one_hot(labels, 3)  # to_categorical of the encoded labels
    # the bug: the last Dense layer has 16 units for 3 classes; SFData's repair: Dense(3)
    width = 16 if buggy else 3
    model = _sequential(keras, (24,), [
        L.Dense(32, activation="elu"), L.Dense(1024, activation="elu"), L.Dense(512, activation="elu"),
        L.Dense(256, activation="elu"), L.Dense(128, activation="elu"), L.Dense(width), L.Activation("sigmoid")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 138: rows of measurements into a Conv1D declared for (length, 1), softplus regression (SO 64277744) -----

def _build_keras_softplus_conv1d_rows_without_axis(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    x = (images / 16.0).astype(np.float32)  # 64 values per row (the program's rows have 3841)
    y = (labels < 5).astype(np.float32)  # a 0/1 target per row, regressed with MSE as in the program
    layers = [L.Conv1D(64, 2, activation="relu"), L.Flatten(), L.BatchNormalization(),
              L.Dense(128, activation="relu"), L.BatchNormalization(), L.Dense(1, activation="softplus")]
    if buggy:
        # the bug: trainX is (n, 64), with no feature axis, for a Conv1D declared for (x_train.shape[1], 1); Keras 3
        # would add the missing axis of size 1 to a declared input by itself, so the model takes the batch's shape
        model = keras.Sequential(layers)
    else:
        # SFData's repair: np.expand_dims(trainX, -1), giving (n, 64, 1)
        model, x = _sequential(keras, (64, 1), layers), x[..., None]
    return model, x, y, "mse", keras.optimizers.Adam()


# --- entry 139: the LSTM's outputs indexed [-1] on the batch axis, not the last step (SO 54806450, TF 1) ----------

class _LastOutputLSTM(nn.Module):
    """The program's graph: an LSTM of 128 units over (batch, time, 9) inputs (dynamic_rnn is batch-major), then
    one output row per sample times out_weights plus out_bias."""

    def __init__(self, buggy, features=9, units=128, classes=2):
        super().__init__()
        self.buggy = buggy
        self.lstm = nn.LSTM(features, units, batch_first=True)
        self.out = nn.Linear(units, classes)

    def forward(self, x):
        outputs, _ = self.lstm(x)  # (batch, time, units)
        if self.buggy:
            last = outputs[-1]  # the bug: the last sample's outputs at every step, (time, units)
        else:
            last = outputs[:, -1, :]  # SFData's repair: every sample's output at the last step, (batch, units)
        return self.out(last)


def _build_torch_lstm_outputs_last_sample_not_step(buggy):
    torch.manual_seed(0)
    n, steps = 128, 20
    x = _rng().random((n, steps, 9)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    y = data.one_hot((m > np.median(m)).astype(np.int64), 2)  # two classes, one-hot as the program's labels
    model = _LastOutputLSTM(buggy)
    return (model, torch.as_tensor(x), torch.as_tensor(y), nn.BCEWithLogitsLoss(),
            torch.optim.Adam(model.parameters()))


CASES = [
    case("fourteenth_keras_estimator_cnn_one_hot_sparse_loss", "keras", "labels / loss pairing",
         SO + "50448601",
         "A two-class image CNN written as an Estimator model function takes its loss from sparse softmax "
         "cross-entropy, which wants one class index per image, but its labels were one-hot encoded into two "
         "columns, so the loss fails on the (n, 2) labels.",
         "Drop the one-hot encoding and give the loss the integer class labels.",
         {"labels-not-class-indices"}, _build_keras_estimator_cnn_one_hot_sparse_loss,
         note="SFData s50448601_original.py, _context.py, _ground_truth.py; TensorFlow 1 (tf.estimator, tf.layers); "
              "fault type Parameter Restriction Incompatible (ValueError: cannot squeeze dim[1], expected 1, got 2, "
              "in sparse_softmax_cross_entropy's remove_squeezable_dimensions). The program one-hot encodes the ten "
              "labels (tf.one_hot; the context, np.eye) and feeds them to tf.losses.sparse_softmax_cross_entropy; "
              "the repair deletes the np.eye line. Translated TensorFlow 1 -> Keras 3: the model function's layers "
              "become a Sequential (Conv2D 32 5x5 same relu, max-pool 2/2, Conv2D 64 5x5 same relu, max-pool 2/2, "
              "a reshape to one row per image, Dense 4 relu, Dropout 0.4, Dense 2 logits), the loss "
              "SparseCategoricalCrossentropy(from_logits=True), plain gradient descent as in the program. "
              "The mechanism survives: Keras 3's sparse loss also refuses (n, 2) targets against (n, 2) scores at "
              "the first step. Changed: 128 of scikit-learn's 8x8 digits (pixels / 16, repeated over 3 channels) "
              "with the label digit < 5, instead of ten 168x84x3 JPEGs (the context's are random), so the reshape "
              "is to 2 * 2 * 64 instead of 42 * 21 * 64; the learning rate is 0.05 instead of 0.001 (in a 200-step check the "
              "repaired twin at 0.001 went from 0.702 to 0.695 with 51% accuracy, at 0.05 it fits the batch; the "
              "Estimator program trains for as many steps as it is given). labels-not-class-indices's fix (one whole number per "
              "sample) is SFData's repair."),
    case("fourteenth_keras_categorical_labels_sparse_loss", "keras", "labels / loss pairing",
         SO + "61116088",
         "A five-class MLP is compiled with sparse categorical cross-entropy but fitted on labels one-hot encoded "
         "with to_categorical, so the loss (in Keras 2, the accuracy metric's squeeze) fails on the (n, 5) targets.",
         "Compile with categorical cross-entropy, the loss that takes one-hot targets.",
         {"labels-not-class-indices"}, _build_keras_categorical_labels_sparse_loss,
         note="SFData s61116088_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible "
              "(InvalidArgumentError: cannot squeeze dim[1], expected 1, got 5, in metrics/acc/Squeeze); the repair "
              "changes the loss to categorical_crossentropy and keeps the one-hot labels. Kept: Dense 30 relu, "
              "Dense 30 relu, Dense 5 softmax, 'adam' (Adam at its defaults), one-hot labels over 5 classes. "
              "Changed: the digits 0-4 among the first 256 of scikit-learn's 8x8 digits (pixels / 16), 64 features "
              "instead of 3277 and about 130 rows instead of 439 (the context's data and labels are random); the "
              "accuracy metric is left out, so Keras 3 raises at the loss itself at the first step. expected is a "
              "judgement call: labels-not-class-indices's title is the fault (targets the sparse loss cannot use), "
              "but its fix leads to integer labels, which is the poster's own alternative (the commented line B, "
              "fit on train_labels) and trains the same model; SFData's repair changes the loss instead. No code's "
              "fix names switching to categorical cross-entropy for one-hot targets."),
    case("fourteenth_keras_reshape_channel_conv2d_missing_axis", "keras", "data / input layout",
         SO + "63687794",
         "Samples of 3 x 12 readings, arranged as (n, 3, 12), are fed to a Conv2D network declared for "
         "(3, 12, 1), so the convolution, which takes 4-D (batch, rows, cols, channels) inputs, gets 3-D data.",
         "Add a channel axis to the data (np.expand_dims(X_train, -1)) so each sample is (3, 12, 1).",
         {"input-layout"}, _build_keras_reshape_channel_conv2d_missing_axis,
         note="SFData s63687794_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "(ValueError: expected conv2d_input to have 4 dimensions, but got array with shape (6500, 3, 12)). "
              "The poster loads .mat files; SFData's context makes random (3, 12, 6500) data, transposes it to "
              "(6500, 3, 12) and uses 6 softmax classes with categorical cross-entropy (the poster's sigmoid with "
              "binary cross-entropy is the context's change, kept here since both twins are the context and the "
              "repair). Kept: Conv2D 8 3x3 same, BatchNormalization, relu, twice, Flatten, Dense 8 relu, Dense 6 "
              "softmax, categorical cross-entropy, 'nadam' (Nadam at its defaults), (n, 3, 12) samples. Changed: "
              "256 synthetic samples whose class raises two of the 12 columns (random labels cannot be learnt) "
              "instead of 6500 random ones. Keras 3 quietly adds a missing trailing axis of size 1 to an input "
              "declared (3, 12, 1), so the buggy twin's model has no Input and takes its shape from the batch, "
              "where the Conv2D raises the same kind of error at the first forward pass; the model is constructed "
              "without error. input-layout's fix names (batch, height, width, channels) for Keras convolutions, "
              "which is the repair."),
    case("fourteenth_keras_conv3d_custom_one_hot_extra_axis", "keras", "labels / target shape",
         SO + "60129234",
         "A 3-D CNN classifying scans into 3 classes gets labels from a custom one-hot function that makes each "
         "label a (1, 3) row, so the targets are (n, 1, 3) against a (None, 3) softmax and categorical "
         "cross-entropy refuses them.",
         "Squeeze the labels' extra axis (np.squeeze(y, 1)) so they are (n, 3), the output's shape.",
         {"target-shape-broadcast"}, _build_keras_conv3d_custom_one_hot_extra_axis,
         note="SFData s60129234_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array with shape (8, 1, 3) was passed for an output of shape (None, 3) with "
              "categorical_crossentropy); the repair squeezes axis 1 of the training and test labels. Kept: the "
              "custom one-hot mapping to (1, 3) rows, Conv3D -> max-pool -> Dropout 0.1 blocks, Flatten, Dense 3 "
              "softmax, categorical cross-entropy, Adam at 0.0015, one-channel volumes. Changed for a shared CPU: "
              "64 synthetic 16^3 volumes (class k brightens the k-th third of the volume) instead of 160x192x192 "
              "scans (the context's are random with random labels), and two smaller Conv3D blocks (8 filters 3^3 "
              "stride 2, 16 filters 3^3) instead of four large ones; the test labels (squeezed too by the repair) "
              "take no part in training. Keras 3 raises at the loss (target rank against output rank) at the first "
              "step. target-shape-broadcast's fix (give the targets the output's shape) is the repair."),
    case("fourteenth_keras_cancer_conv1d_features_without_axis", "keras", "data / input layout",
         SO + "43396572",
         "A one-layer Conv1D classifier of 30 tabular features is fed the (n, 30) feature matrix as it is, with no "
         "feature axis, so the 1-D convolution, which takes (batch, steps, channels), gets 2-D data.",
         "Add a trailing axis to the features (np.expand_dims(X, -1)) so each sample is (30, 1).",
         {"input-layout"}, _build_keras_cancer_conv1d_features_without_axis,
         note="SFData s43396572_original.py, _context.py, _ground_truth.py (ICSE2020 list); fault type Feature Input "
              "Incompatible (ValueError: expected conv1d_input to have 3 dimensions, but got array with shape "
              "(100, 30)). The poster declares input_shape=X.shape; SFData's context declares (30, 1) and adds "
              "Flatten and Dense(1) so that a model exists to train, and the repair expands X (and X_test) to "
              "(n, 30, 1); the twins are the context and the repair. Kept: Conv1D(2, 2, relu), Flatten, one output "
              "unit, binary cross-entropy, 'adam'. Changed: 128 rows of scikit-learn's breast cancer set (its 30 "
              "features are what the poster's CSV columns 1-30 look like; the context's data and labels are random), "
              "standardised per feature because the CSV's scaling is unknown; a sigmoid on the output unit, which the "
              "context leaves linear under binary cross-entropy (a second fault of the context, not the poster's). "
              "Keras 3 quietly adds a missing trailing axis of size 1 to an input declared (30, 1), so the buggy "
              "twin's model has no Input and meets the 2-D batch at its first forward pass, where the Conv1D raises "
              "the same kind of error; the model is constructed without error. input-layout's fix (give x the "
              "layout the model takes; the evidence names the reshape) leads to the expand_dims."),
    case("fourteenth_keras_glcm_output_16_units_3_classes", "keras", "output width",
         SO + "64577667",
         "A deep ELU MLP for three one-hot classes ends in a 16-unit layer (with a sigmoid), so categorical "
         "cross-entropy gets (n, 3) targets against (n, 16) outputs and refuses them.",
         "Make the last Dense layer 3 units wide, one per class.",
         {"output-width-mismatch"}, _build_keras_glcm_output_16_units_3_classes,
         note="SFData s64577667_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array with shape (585, 3) was passed for an output of shape (None, 16) with "
              "categorical_crossentropy); the repair changes Dense(16) to Dense(3) and keeps the sigmoid. Kept: "
              "Dense 32, 1024, 512, 256, 128 (elu), the last Dense and its sigmoid, categorical cross-entropy, "
              "'adam', 24 features per row, 3 one-hot classes. Changed: 256 rows of scikit-learn's make_blobs with "
              "24 features and 3 centres, standardised, instead of the poster's GLCM features (the context's are "
              "780 random rows with random labels); the precision and recall metrics and validation data are left "
              "out. Keras 3 raises at the loss (shape mismatch) at the first step. output-width-mismatch's fix "
              "(make the last layer as wide as the number of classes) is the repair; the sigmoid that both twins "
              "keep under categorical cross-entropy is SFData's choice and is not the bug of record."),
    case("fourteenth_keras_softplus_conv1d_rows_without_axis", "keras", "data / input layout",
         SO + "64277744",
         "A Conv1D regressor declared for (x_train.shape[1], 1) is fitted on the (n, length) matrix of rows as it "
         "is, with no trailing axis, so the 1-D convolution gets 2-D data.",
         "Add a trailing axis to the training (and validation) rows with np.expand_dims(trainX, -1).",
         {"input-layout"}, _build_keras_softplus_conv1d_rows_without_axis,
         note="SFData s64277744_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "(ValueError: expected conv1d_input to have 3 dimensions, but got array with shape (1125, 3841)); the "
              "repair expands trainX and validX to (n, 3841, 1). Kept: Conv1D(64, 2, relu), Flatten, "
              "BatchNormalization, Dense 128 relu, BatchNormalization, Dense 1 softplus, mean squared error, 'adam', "
              "a 0/1 target per row regressed with MSE as in the program. Changed: 128 of scikit-learn's 8x8 digits "
              "as rows of 64 values (pixels / 16) with the target digit < 5, instead of 1125 rows of 3841 "
              "measurements (the context's are random with random targets); validation data left out. Keras 3 "
              "quietly adds a missing trailing axis of size 1 to an input declared (64, 1), so the buggy twin's "
              "model has no Input and meets the 2-D batch at its first forward pass, where the Conv1D raises the same "
              "kind of error; the model is constructed without error. input-layout's fix leads to the expand_dims."),
    case("fourteenth_torch_lstm_outputs_last_sample_not_step", "torch", "batch axis / indexing",
         SO + "54806450",
         "An LSTM classifier takes outputs[-1] of the batch-major LSTM output, (batch, time, units), meaning the "
         "last time step, but gets the last sample's outputs at every step, so the logits have one row per time "
         "step instead of one per sample and the loss fails against the labels.",
         "Take every sample's output at the last step, outputs[:, -1, :], before the output layer.",
         {"samples-mixed"}, _build_torch_lstm_outputs_last_sample_not_step,
         note="SFData s54806450_original.py, _context.py, _ground_truth.py; TensorFlow 1 (placeholders, dynamic_rnn, "
              "session); fault type Parameter Restriction Incompatible (InvalidArgumentError: incompatible shapes "
              "[8, 2] vs. [555, 2] in the sigmoid cross-entropy's gradient); the repair indexes outputs[:, -1, :]. "
              "Translated TensorFlow 1 -> PyTorch: dynamic_rnn is batch-major, so nn.LSTM(batch_first=True); the "
              "matmul with out_weights plus out_bias becomes nn.Linear(128, 2); sigmoid_cross_entropy_with_logits "
              "with reduce_mean becomes BCEWithLogitsLoss; AdamOptimizer() becomes Adam at its defaults. The "
              "mechanism survives: outputs[-1] picks a (time, units) slice, the logits are (time, 2) against (batch, "
              "2) labels, and the loss raises at the first step. Kept: 9 features, 128 units, 2 one-hot classes as "
              "float labels. Changed: 128 sequences of 20 steps (uniform values; the class is whether the first "
              "feature's mean is above its median) instead of 555 steps of random data with random labels, so the "
              "mismatch is 20 against 128 rather than 555 against 8 (any time length other than the batch size "
              "shows it). The original's leftover line logit = (logit, [-1]) is the poster's, dropped by SFData's "
              "context. expected is a judgement call: samples-mixed's fix asks to keep the batch on axis 0 through "
              "every indexing and reshape, which is the repair; target-shape-broadcast's fix (reshape the targets) "
              "would not lead there."),
]
