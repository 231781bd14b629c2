"""Fourteenth held-out set, part d: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 91-100) by someone who read only
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
from .fourteenth_b_cases import _rgb_digits
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- entry 92: a Dense layer declared for 5 inputs, fed one column per row (SO 46858890) --------------------------

def _build_keras_rmsprop_dense_input_dim_5_one_column(buggy):
    keras = _keras()
    L = keras.layers
    # the program's data: five rows of one value each, and the same values as targets
    x = np.array([[1], [2], [3], [4], [5]], dtype=np.float32)
    y = x.copy()
    # the bug: input_dim=5, the number of rows, while every row has one column; SFData's repair: input_dim=1
    model = _sequential(keras, (5,) if buggy else (1,), [L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.RMSprop()


# --- entry 94: a CIFAR-style CNN with its Flatten commented out before Dense(10) (SO 56912176) ----------------------

def _build_keras_cifar_conv_no_flatten_before_dense(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _rgb_digits(scale=4)  # CIFAR's (32, 32, 3) images scaled to [0, 1]: digits enlarged 4 times
    y = data.one_hot(labels, 10)  # the program's to_categorical labels
    layers = [L.Conv2D(64, (3, 3)), L.Activation("relu"), L.MaxPooling2D(pool_size=(2, 2)),
              L.Conv2D(64, (3, 3)), L.Activation("relu"), L.MaxPooling2D(pool_size=(2, 2))]
    # the bug: no Flatten between the last pooling layer and Dense(10), so the softmax output keeps the (6, 6) map;
    # SFData's repair: put the Flatten back
    if not buggy:
        layers.append(L.Flatten())
    layers += [L.Dense(10), L.Activation("softmax")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 96: integer labels for a 14-way softmax under categorical cross-entropy (SO 55093959) ------------------

def _table_14_classes(n=128, features=8, classes=14):
    """``n`` rows of ``features`` uniform values in [0, 1) (as SFData's context draws them) and a class 0..13 per row
    that a model can learn: the arg-max of a fixed random linear score of the centred features."""
    rng = _rng()
    x = rng.random((n, features)).astype(np.float32)
    w = rng.normal(size=(features, classes)).astype(np.float32)
    return x, ((x - 0.5) @ w).argmax(axis=1).astype(np.int64)


def _build_keras_env_model_integer_labels_categorical_loss(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _table_14_classes()
    model = _sequential(keras, (8,), [L.Dense(8, activation="relu"), L.Dense(128, activation="relu"),
                                      L.Dense(256, activation="relu"), L.Dense(512, activation="relu"),
                                      L.Dense(14, activation="softmax")])
    # the bug: one integer class per row for categorical cross-entropy, which takes one-hot rows;
    # SFData's repair: np.eye(class_n)[train_y]
    y = labels if buggy else np.eye(14, dtype=np.float32)[labels]
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 99: a TimeDistributed CNN + LSTM fed single images with no time axis (SO 63732431) ----------------------

def _grey_digits_48(n=64):
    """scikit-learn's 8x8 digits enlarged 6 times to the program's 48x48 grey images, pixels / 16, (n, 48, 48, 1),
    and a 0/1 label per image (digit < 5)."""
    images, labels = data.digits(n)
    images = np.kron((images / 16.0).reshape(-1, 8, 8), np.ones((1, 6, 6)))
    return images[..., None].astype(np.float32), (labels < 5).astype(np.float32)


def _build_keras_timedistributed_cnn_lstm_no_time_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _grey_digits_48()
    widths = (16, 32, 128, 128)  # the program's 64, 128, 512, 512 filters, divided by 4 for the shared CPU
    blocks = []
    for width, kernel in zip(widths, (3, 5, 3, 3)):
        blocks += [L.Conv2D(width, (kernel, kernel), padding="same"), L.BatchNormalization(), L.Activation("relu"),
                   L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.5)]
    blocks += [L.Flatten()]
    for units in (64, 128):  # the program's Dense 256 and 512, divided by 4
        blocks += [L.Dense(units), L.BatchNormalization(), L.Activation("relu"), L.Dropout(0.5)]
    cnn = _sequential(keras, (48, 48, 1), blocks)
    head = [L.TimeDistributed(cnn), L.LSTM(2), L.Dropout(0.2), L.Dense(1, activation="sigmoid")]
    if buggy:
        # the bug: the model is declared for sequences of one 48x48x1 frame, (1, 48, 48, 1), and fitted on the
        # images as they are, (n, 48, 48, 1), with no time axis
        model = _sequential(keras, (1, 48, 48, 1), head)
    else:
        # SFData's repair: a Reshape((1, 48, 48, 1)) as the model's first layer, which gives every image its time
        # axis; the model then takes its input shape from the batch (the TimeDistributed's input_shape is ignored
        # once it is not the first layer)
        model = keras.Sequential([L.Reshape((1, 48, 48, 1)), *head])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 100: NCE output weights sized by the batch instead of the embedding width (SO 46687091, TensorFlow 1) ---

class _SummedGloveClassifier(nn.Module):
    """The program's graph: a fixed (not trained) table of word vectors looked up for each of a row's tokens and
    summed over the tokens (tf.reduce_sum(embed, 1)), then the output weights and biases of the NCE loss. PyTorch's
    Linear keeps its weight as (classes, inputs), the layout of the program's nce_weights."""

    def __init__(self, table, width):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(table, freeze=True)
        self.out = nn.Linear(width, table.shape[0])

    def forward(self, tokens):
        return self.out(self.embed(tokens).sum(dim=1))


def _build_torch_glove_nce_weights_sized_by_batch(buggy):
    torch.manual_seed(0)
    rng = _rng()
    batch_size, tokens, vocabulary, emb_size = 4, 7, 10, 32  # the program's constants
    table = torch.as_tensor(rng.random((vocabulary, emb_size)), dtype=torch.float32)  # its random "GloVe" table
    x = torch.as_tensor(rng.integers(0, vocabulary, (batch_size, tokens)), dtype=torch.long)
    y = x[:, 0].clone()  # one word label per row (the labels placeholder, (4, 1), as class indices): its first token
    # the bug: nce_weights is [vocabulary_size, batch_size], so the output layer takes 4 inputs while every summed
    # row has emb_size = 32 values; SFData's repair: [vocabulary_size, emb_size]
    model = _SummedGloveClassifier(table, batch_size if buggy else emb_size)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1.0)


CASES = [
    case("fourteenth_keras_rmsprop_dense_input_dim_5_one_column", "keras", "input shape / declared input",
         SO + "46858890",
         "A one-layer linear regression is declared with input_dim=5, the number of training rows, while every row "
         "of x holds a single value, so fit stops at the input check.",
         "Declare input_dim=1, the number of columns of each row.",
         {"layer-size-mismatch"}, _build_keras_rmsprop_dense_input_dim_5_one_column,
         note="SFData s46858890_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible, "
              "repair pattern Model Input Shape (ValueError: expected dense_input to have shape (5,) but got array "
              "with shape (1,)). The repair changes only input_dim from 5 to 1. Kept: the program's five rows x = "
              "1..5 as a (5, 1) column with the same values as targets, Dense(1), mean squared error, 'rmsprop' "
              "(RMSprop at its defaults). Changed: the validation data are left out (not part of build(); the "
              "original program also misspells y_val). Translated tf.keras -> Keras 3: input_dim becomes "
              "keras.Input((5,)) against keras.Input((1,)); Keras 3 builds the buggy model and refuses the batch "
              "at its first forward pass. expected: layer-size-mismatch's fix names sizing the layer from the shape "
              "it really receives (keras.Input with x's shape), which is SFData's repair; input-layout's fix "
              "(give x the layout the model was built for) points at x, which is already (batch, features)."),
    case("fourteenth_keras_cifar_conv_no_flatten_before_dense", "keras", "architecture / missing flatten",
         SO + "56912176",
         "A CIFAR-10 CNN has its Flatten (and a hidden Dense) commented out, so Dense(10) and the softmax act on "
         "each position of the last (6, 6) feature map and the output (batch, 6, 6, 10) does not match the one-hot "
         "targets (batch, 10) at the loss.",
         "Put a Flatten layer between the last pooling layer and the Dense(10) output.",
         {"missing-flatten"}, _build_keras_cifar_conv_no_flatten_before_dense,
         note="SFData s56912176_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer "
              "Incompatible, repair pattern Add Flatten Layer (ValueError: a target array with shape (10000, 10) "
              "for an output of shape (None, 6, 6, 10) with categorical_crossentropy). The repair uncomments only "
              "the Flatten (the Dense(64) and its ReLU stay commented out). Kept: Conv2D(64, 3x3) -> ReLU -> "
              "MaxPool(2) twice, Dense(10) -> softmax, categorical cross-entropy, 'adam' (Adam at its defaults), "
              "(32, 32, 3) inputs scaled to [0, 1], one-hot labels over 10 classes, so the buggy output is the "
              "program's (6, 6, 10). Changed: 128 of scikit-learn's 8x8 digits (pixels / 16) enlarged 4 times to "
              "32x32 and copied into three channels, instead of CIFAR-10's 10000 images (SFData's context draws "
              "random images and labels, which could not be learnt); validation split, metric and TensorBoard left "
              "out. Keras 3 raises at the loss (target and output ranks differ) at the first training step, as "
              "Keras 2 refused the targets at fit. missing-flatten's fix is the repair."),
    case("fourteenth_keras_env_model_integer_labels_categorical_loss", "keras", "labels / loss pairing",
         SO + "55093959",
         "A 14-way softmax classifier is compiled with categorical cross-entropy, which takes one-hot rows, and "
         "fitted on one integer class per sample, so the loss fails on the first step.",
         "One-hot encode the labels (np.eye(14)[y]) before fitting.",
         {"target-shape-broadcast"}, _build_keras_env_model_integer_labels_categorical_loss,
         note="SFData s55093959_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible, "
              "repair pattern Label Data Shape (ValueError: a target array of shape (10, 1) with "
              "categorical_crossentropy). The poster's program only defines, summarises and saves the model; "
              "SFData's context adds compile('categorical_crossentropy', 'adam') and fit on 10 random rows of 8 "
              "features with random integer labels 0..13, and the repair one-hot encodes them. Kept: Dense 8 (on 8 "
              "inputs), 128, 256, 512 (ReLU) and 14 (softmax), categorical cross-entropy, Adam at its defaults, "
              "uniform features in [0, 1), integer labels over 14 classes. Changed: 128 rows instead of 10, and "
              "labels that depend on the features (arg-max of a fixed random linear score) instead of random ones. "
              "Keras 3 raises at the loss (target rank against output rank) at the first training step. expected "
              "is a judgement call: target-shape-broadcast's fix (give the targets the output's shape) leads to "
              "one-hot labels, SFData's repair; labels-not-class-indices's fix would keep the integer labels and "
              "lead to the sparse loss, a different repair, so it is not listed."),
    case("fourteenth_keras_timedistributed_cnn_lstm_no_time_axis", "keras", "data / input layout",
         SO + "63732431",
         "A TimeDistributed CNN followed by an LSTM is declared for sequences of frames, (time, 48, 48, 1), but is "
         "fitted on single images of (48, 48, 1) with no time axis, so the model cannot take the batch.",
         "Give each image a time axis of one frame (a Reshape((1, 48, 48, 1)) in front of the TimeDistributed "
         "layer).",
         {"input-layout"}, _build_keras_timedistributed_cnn_lstm_no_time_axis,
         note="SFData s63732431_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer "
              "Incompatible, repair pattern Add Common Layer (ValueError: expected time_distributed_input to have "
              "5 dimensions, but got array with shape (100, 48, 48, 1)). The poster declares input_shape=(None, 48, "
              "48, 1); SFData's context uses (1, 48, 48, 1) and fits 100 random images with random targets; the "
              "repair adds Reshape((1, 48, 48, 1)) as the model's first layer. Kept: the CNN's four blocks "
              "(Conv2D 3x3, 5x5, 3x3, 3x3 with padding 'same', BatchNormalization, ReLU, MaxPool(2), Dropout(0.5)), "
              "Flatten, two Dense + BatchNormalization + ReLU + Dropout(0.5) blocks, TimeDistributed(cnn), "
              "LSTM(2), Dropout(0.2), Dense(1, sigmoid), binary cross-entropy, Adam, 48x48x1 inputs and the "
              "declared (1, 48, 48, 1) of the context. Changed: every width divided by 4 (filters 16, 32, 128, 128 "
              "instead of 64, 128, 512, 512; Dense 64 and 128 instead of 256 and 512) for the shared CPU; 64 of "
              "scikit-learn's 8x8 digits (pixels / 16) enlarged 6 times to 48x48 with the label digit < 5, instead "
              "of random images and targets. Translated tf.keras -> Keras 3: the fixed twin's model has no Input "
              "(the repair's Reshape is the first layer and takes its shape from the batch; the TimeDistributed's "
              "input_shape, no longer on the first layer, is dropped). Keras 2 refused the 4-D batch at fit's input"
              " check; Keras 3 gives a 4-D batch whose declared input ends in an axis of 1 that axis itself, so the"
              " images are read as 48 frames of 48x1 strips and the first MaxPooling2D in the TimeDistributed CNN "
              "fails (negative dimension) at the first forward pass: the same fault and the same kind of error, one"
              " layer further in. expected: input-layout's fix (give x the "
              "layout the model was built for, (batch, time, ...) for recurrent layers; the reshape that made the "
              "model run) leads to the added time axis; the repair does the reshape inside the model."),
    case("fourteenth_torch_glove_nce_weights_sized_by_batch", "torch", "layer sizes / output weights",
         SO + "46687091",
         "The output weights of a word classifier over summed GloVe vectors (the NCE loss's weights) are created "
         "with batch_size columns instead of the embedding width, so the matrix product of the (4, 32) summed "
         "embeddings with weights made for 4 inputs fails.",
         "Create the output weights with the embedding width (emb_size) as their input size.",
         {"layer-size-mismatch"}, _build_torch_glove_nce_weights_sized_by_batch,
         note="SFData s46687091_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Adjacent "
              "Layer Incompatible, repair pattern Layer Input Shape (ValueError: Dimensions must be equal, but are "
              "32 and 4 for nce_loss/MatMul, input shapes [4,32], [1,4]). The program: placeholders for (4, 7) "
              "token ids and (4, 1) labels, a constant (10, 32) word-vector table looked up and summed over the 7 "
              "tokens, tf.nn.nce_loss with nce_weights of [vocabulary_size, batch_size] = [10, 4], SGD at 1.0; "
              "the repair makes nce_weights [vocabulary_size, emb_size] = [10, 32]. Translated TensorFlow 1 -> "
              "PyTorch: the table is a frozen nn.Embedding (the program's constant, not trained), the NCE weights "
              "and biases are an nn.Linear, whose (out, in) weight has the program's [classes, dim] layout, so the "
              "bug is nn.Linear(batch_size, vocabulary) and the repair nn.Linear(emb_size, vocabulary); the "
              "mechanism survives (the summed (4, 32) rows against a weight made for 4 inputs fail in the matrix "
              "product of the forward pass). TensorFlow 1 raised while building the graph; PyTorch builds the "
              "layer and refuses the batch at the first forward pass. Kept: the program's constants (batch 4, 7 "
              "tokens, vocabulary 10, width 32, a uniform random table as in the context), SGD at 1.0. Changed: "
              "NCE with one sampled class becomes the full softmax cross-entropy over the 10 words it approximates "
              "(nn.CrossEntropyLoss; the fault is before the loss); labels (4, 1) become class indices (4,), set "
              "to each row's first token so that there is something to learn (the program has no data). expected: "
              "layer-size-mismatch's fix (size the layer from the shape it really receives) is the repair."),
]
