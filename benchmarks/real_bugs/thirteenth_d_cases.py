"""Thirteenth held-out set, part d: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Thirteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import _rng, _tensors
from .keras_cases import _keras, _sequential


# --- entry 31: Dense layers on 2-D images without a Flatten (SFData s65387184) ---------------------------------

def _build_keras_dense_on_images_no_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)  # raw pixels 0..16, as the program fed raw 0..255 MNIST pixels
    x = x.reshape(-1, 8, 8)
    y = data.one_hot(labels, 10)
    # the bug: the Dense layers act on the last axis of each (rows, cols) image, so the model gives one 10-way
    # softmax per image row, (batch, rows, 10), against one-hot targets of (batch, 10); the fix: Flatten first
    head = [] if buggy else [L.Flatten()]
    model = _sequential(keras, (8, 8), head + [
        L.Dense(128, activation="relu"), L.Dense(128, activation="relu"), L.Dense(28, activation="relu"),
        L.Dense(10, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 32: a first Dense layer declared for three features when the data have two (SFData s59305008) --------

def _age_sex(n=128):
    """Two columns as in the program (age, sex encoded 0/1), standardised, and a binary label that depends on both."""
    rng = _rng()
    age = rng.integers(18, 90, size=n).astype(np.float32)
    sex = rng.integers(0, 2, size=n).astype(np.float32)
    score = (age - 50) / 15 + 1.5 * (sex - 0.5) + rng.normal(0, 0.3, n)
    labels = (score > 0).astype(np.int64)
    return data.standardise(np.stack([age, sex], axis=1)), labels


def _build_keras_input_dim_three_for_two_features(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _age_sex()
    y = data.one_hot(labels, 2)
    # the bug: input_dim=3 while X holds two columns (age, sex); SFData's fix: input_dim=2
    model = _sequential(keras, (3 if buggy else 2,), [
        L.Dense(10, activation="relu"), L.Dense(10, activation="relu"), L.Dense(2, activation="softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 33: the MNIST tutorial's 7*7*64 flatten size kept for larger images (SFData s33974231, TF1) ----------

def _wide_images(n=128, height=40, width=20):
    """Grey images in [0, 1) like the program's random 388 x 191 inputs, scaled down about tenfold; class 1 has a
    brighter block in its upper half, so the two classes can be told apart. Shapes (n, height, width, 1), one-hot."""
    rng = _rng()
    labels = rng.integers(0, 2, size=n)
    x = rng.random((n, height, width, 1)).astype(np.float32) * 0.6
    x[labels == 1, 4:16, 4:16, 0] += 0.4
    return x, data.one_hot(labels, 2)


def _build_keras_tutorial_flatten_size_wrong_image(buggy):
    keras = _keras()
    L = keras.layers
    ops = keras.ops
    x, y = _wide_images()
    w = keras.initializers.TruncatedNormal(stddev=0.1)
    b = keras.initializers.Constant(0.1)
    # two 'SAME' 2x2 poolings take 40 x 20 to 10 x 5; the program's 388 x 191 went to 97 x 48
    flat = 7 * 7 * 64 if buggy else 10 * 5 * 64  # the bug: the tutorial's size for 28 x 28 MNIST images
    layers = [
        L.Conv2D(32, 5, padding="same", activation="relu", kernel_initializer=w, bias_initializer=b),
        L.MaxPooling2D(2, padding="same"),
        L.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=w, bias_initializer=b),
        L.MaxPooling2D(2, padding="same"),
        # tf.reshape(h_pool2, [-1, flat]): the batch axis takes whatever is left over
        L.Lambda(lambda t: ops.reshape(t, (-1, flat)), output_shape=(flat,)),
        L.Dense(1024, activation="relu", kernel_initializer=w, bias_initializer=b),
        L.Dropout(0.5),
        L.Dense(2, activation="softmax", kernel_initializer=w, bias_initializer=b)]
    # the buggy graph fails only when a batch flows through the reshape, so its model is built from the batch
    model = keras.Sequential(layers) if buggy else _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(learning_rate=1e-4)


# --- entry 34: integer labels given to categorical cross-entropy (SFData s64381457) ----------------------------

def _token_sequences(n=128, length=20, vocab=2500, signal=50):
    """Padded token-index sequences (0 = padding, at the front as pad_sequences does) for a two-class text task:
    class 1 texts hold a few tokens from a small keyword set (indices 1..signal), class 0 texts none."""
    rng = _rng()
    labels = rng.integers(0, 2, size=n)
    x = np.zeros((n, length), dtype=np.int64)
    for i in range(n):
        size = int(rng.integers(8, length + 1))
        tokens = rng.integers(signal + 1, vocab, size=size)
        if labels[i] == 1:
            spots = rng.choice(size, size=3, replace=False)
            tokens[spots] = rng.integers(1, signal + 1, size=3)
        x[i, length - size:] = tokens
    return x, labels


def _build_keras_lstm_text_integer_labels_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _token_sequences()
    # the bug: the 0/1 target column goes to categorical cross-entropy as it is, shape (n,); SFData's fix one-hot
    # encodes it to (n, 2), the shape of the two-unit output
    y = labels.astype(np.float32) if buggy else data.one_hot(labels, 2)
    model = _sequential(keras, (x.shape[1],), [
        L.Embedding(2500, 128), L.Dropout(0.2), L.LSTM(200), L.Dense(2, activation="sigmoid")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 35: two stacked LSTMs where the first returns only its last state (SFData s40331510) ------------------

def _sequence_classes(n=128, steps=10, features=10):
    """Sequences of uniform values; the class is whether the first feature's mean over the steps is above 0.5."""
    rng = _rng()
    x = rng.random((n, steps, features)).astype(np.float32)
    labels = (x[:, :, 0].mean(axis=1) > 0.5).astype(np.int64)
    return x, data.one_hot(labels, 2)


def _build_keras_stacked_lstm_no_return_sequences(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sequence_classes()
    # the bug: the first LSTM gives (batch, 100), and the second LSTM needs (batch, steps, features); SFData's fix
    # makes both return their sequences (the Flatten then joins the second one's steps)
    layers = [L.LSTM(100, return_sequences=not buggy), L.LSTM(100, return_sequences=not buggy), L.Flatten(),
              L.Dense(100, activation="relu"), L.Dropout(0.5), L.Dense(2, activation="softmax")]
    # Keras 3 raises at construction for the buggy stack under an Input, so that model takes its shape from the batch
    model = keras.Sequential(layers) if buggy else _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 36: a Dense softmax straight after a Conv1D, without a Flatten (SFData s58277932) --------------------

def _bump_signals(n=100, length=150, classes=9):
    """Noisy 1-D signals of the program's length; class k carries a raised stretch at positions 16k..16k+8."""
    rng = _rng()
    labels = rng.integers(0, classes, size=n)
    x = rng.normal(size=(n, length)).astype(np.float32)
    for i, k in enumerate(labels):
        x[i, 16 * k:16 * k + 8] += 2.0
    return x.reshape(n, length, 1), data.one_hot(labels, classes)


def _build_keras_conv1d_dense_no_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _bump_signals()
    # the bug: Dense(9) acts on each of the 148 positions the convolution leaves, (batch, 148, 9) against (batch, 9);
    # SFData's fix: a Flatten between them
    middle = [] if buggy else [L.Flatten()]
    model = _sequential(keras, (150, 1), [L.Conv1D(1, kernel_size=3, activation="relu"), *middle,
                                          L.Dense(9), L.Activation("softmax")])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 37: input_shape given the data's whole shape, batch axis included (SFData s63536948) ------------------

def _mfcc_like(n=128, rows=20, frames=130, classes=11):
    """Spectrogram-like arrays (rows x frames x 1) in [0, 1), the program's 20 x 130 per sample; class k raises rows
    k..k+4 over frames 10k..10k+19, so every class has its own place."""
    rng = _rng()
    labels = rng.integers(0, classes, size=n)
    x = rng.random((n, rows, frames, 1)).astype(np.float32) * 0.5
    for i, k in enumerate(labels):
        x[i, k:k + 5, 10 * k:10 * k + 20, 0] += 0.5
    return x, data.one_hot(labels, classes)


def _build_keras_conv2d_input_shape_with_batch_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _mfcc_like()
    layers = [L.Conv2D(32, (3, 3), activation="relu"), L.MaxPool2D(2, 2), L.Conv2D(32, (3, 3), activation="relu"),
              L.MaxPool2D(2, 2), L.Flatten(), L.Dense(128, activation="relu"), L.Dense(34, activation="relu"),
              L.Dense(11)]
    if buggy:
        # the bug: input_shape=train_data.shape, (n, rows, frames, 1), so the model expects 5-D samples. Keras 3
        # refuses that while building the model, so the layers are added without rebuilding and the model meets
        # the same mismatch when the first batch arrives
        model = keras.Sequential()
        for layer in [keras.Input(x.shape), *layers]:
            model.add(layer, rebuild=False)
    else:
        model = _sequential(keras, x.shape[1:], layers)  # SFData's fix: input_shape=train_data.shape[1:]
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    return model, x, y, loss, keras.optimizers.SGD()


# --- entry 38: a one-step sequence fed without the axis the LSTM's input declares (SFData s44111687, TF1) -------

def _build_keras_lstm_one_step_missing_axis(buggy):
    keras = _keras()
    L = keras.layers
    features, labels = data.binary_blobs(128, features=2)
    y = data.one_hot(labels.astype(np.int64), 2)
    # the bug: each sample reshaped to [1, 2] for a placeholder of [None, 1, 2] (n_steps=1, n_input=2); SFData's fix
    # adds the missing axis (np.expand_dims), giving (batch, 1 step, 2 features)
    x = features.reshape(-1, 2) if buggy else features.reshape(-1, 1, 2)
    normal = keras.initializers.RandomNormal(stddev=1.0)  # tf.random_normal for the output weights and bias
    model = _sequential(keras, (1, 2), [L.LSTM(128, unit_forget_bias=True),
                                        L.Dense(2, kernel_initializer=normal, bias_initializer=normal)])
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    return model, x, y, loss, keras.optimizers.Adam(learning_rate=0.001)


# --- entry 39: (n,) labels against a (n, 1) sigmoid output under a loss that needs equal shapes (s48851558) ------

def _bag_of_words(n=256, vocab=10000, words=40, cue=5):
    """Multi-hot review vectors like the program's vectorize_sequences on IMDB (10000 words): each review sets
    ``words`` word indices, ``cue`` of them from a positive (100..199) or a negative (200..299) word list."""
    rng = _rng()
    labels = rng.integers(0, 2, size=n)
    x = np.zeros((n, vocab), dtype=np.float32)
    for i, label in enumerate(labels):
        x[i, rng.integers(300, vocab, size=words - cue)] = 1.0
        base = 100 if label == 1 else 200
        x[i, rng.integers(base, base + 100, size=cue)] = 1.0
    return x, labels.astype(np.float32)


def _build_torch_bce_labels_without_output_axis(buggy):
    torch.manual_seed(0)
    x, labels = _bag_of_words()
    # the bug: the labels stay a vector (n,) against the (n, 1) output, and the loss refuses unequal shapes;
    # SFData's fix: labels.reshape((-1, 1))
    y = labels if buggy else labels.reshape(-1, 1)
    model = nn.Sequential(nn.Linear(10000, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1),
                          nn.Sigmoid())
    for layer in model:
        if isinstance(layer, nn.Linear):  # Keras' defaults: Glorot-uniform weights, zero biases
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    x, y = _tensors(x, y)
    # Keras' 'rmsprop': learning rate 0.001, rho 0.9, epsilon 1e-7
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    return model, x, y, nn.BCELoss(), optimizer


# --- entry 40: one-hot labels given to sparse categorical cross-entropy (SFData s53697858) ----------------------

def _build_keras_one_hot_labels_sparse_crossentropy(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.blobs(256, classes=6, features=18)
    x = data.standardise(x)
    # the bug: one-hot rows (n, 6) go to sparse_categorical_crossentropy; SFData's fix: np.argmax(y, axis=1)
    y = data.one_hot(labels, 6) if buggy else labels
    init = keras.initializers.RandomUniform(-0.05, 0.05)  # Keras 2's 'uniform'
    model = _sequential(keras, (18,), [
        L.Dense(9, kernel_initializer=init, activation="relu"), L.Dense(9, kernel_initializer=init, activation="relu"),
        L.Dense(9, kernel_initializer=init, activation="relu"),
        L.Dense(6, kernel_initializer=init, activation="softmax")])
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam()


_SO = "https://stackoverflow.com/questions/"

CASES = [
    case("thirteenth_keras_dense_on_images_no_flatten", "keras", "architecture / missing flatten",
         _SO + "65387184",
         "An MNIST classifier declares Input(shape=(28, 28)) and stacks Dense layers straight on it, so each Dense "
         "acts on every image row and the 10-way softmax comes out as (batch, 28, 10) against one-hot targets of "
         "(batch, 10), and fit stops with a shape error.",
         "Put a Flatten layer between the input and the first Dense layer so each image becomes one vector.",
         {"missing-flatten"}, _build_keras_dense_on_images_no_flatten,
         note="SFData s65387184_original.py / _context.py / _ground_truth.py, fault type Adjacent Layer Incompatible "
              "(repair: add a Flatten layer; ValueError on the target array (60000, 10) for an output (None, 28, 10)). "
              "Kept: the functional model Input -> Dense 128 ReLU -> Dense 128 ReLU -> Dense 28 ReLU -> Dense 10 "
              "softmax, categorical cross-entropy on one-hot labels, Adam at its default rate, unscaled pixels (the "
              "program fed raw 0..255 MNIST pixels). Changed: scikit-learn's 128 8x8 digits (raw 0..16) instead of "
              "60000 28x28 MNIST images, so the buggy output is (batch, 8, 10). Translated from tf.keras 2 to "
              "Keras 3. expected: missing-flatten's title and fix (a Flatten before the first Dense) are SFData's "
              "repair."),
    case("thirteenth_keras_input_dim_three_for_two_features", "keras", "architecture / input size",
         _SO + "59305008",
         "A small classifier of (age, sex) rows declares its first Dense layer with input_dim=3 while X has only "
         "two columns, so the first training step fails on the input's shape.",
         "Declare the first Dense layer with input_dim=2, the number of columns X really has.",
         {"layer-size-mismatch"}, _build_keras_input_dim_three_for_two_features,
         note="SFData s59305008 (original, context, ground_truth), fault type Feature Input Incompatible (repair: "
              "model input shape; ValueError: expected dense_input to have shape (3,) but got (2,)). Kept: Dense 10 "
              "ReLU -> Dense 10 ReLU -> Dense 2 softmax, categorical cross-entropy on one-hot labels, Adam, "
              "standardised inputs (the program's StandardScaler). Changed: the poster's CSV (3356 rows of age and "
              "label-encoded sex) is replaced by 128 synthetic rows of age 18-89 and sex 0/1 drawn with _rng(), "
              "standardised, with a label that depends on both (SFData's context uses random inputs and labels, "
              "which nothing could learn). Translated from Keras 2 (input_dim=) to Keras 3 (keras.Input). "
              "expected: layer-size-mismatch's fix names sizing the layer from what it receives (keras.Input with "
              "x's shape), which is SFData's repair; input-layout was left out because its fix changes x, not the "
              "model."),
    case("thirteenth_keras_tutorial_flatten_size_wrong_image", "keras", "architecture / layer size",
         _SO + "33974231",
         "A TensorFlow 1 CNN copied from the MNIST tutorial flattens its last pooled maps with reshape(-1, 7*7*64) "
         "and sizes the first fully connected layer for 7*7*64 inputs, but its images are larger than 28x28, so "
         "the reshape cannot split the batch's values into rows of that size and the first training step fails.",
         "Compute the flattened size from the real pooled maps (height/4 * width/4 * 64) and use it in both the "
         "reshape and the fully connected layer's weights.",
         {"layer-size-mismatch"}, _build_keras_tutorial_flatten_size_wrong_image,
         note="SFData s33974231 (ICSE2020 folder; original, context, ground_truth), fault type Parameter "
              "Restriction Incompatible (repair: OP parameter shape; InvalidArgumentError: input to reshape has "
              "2979840 values, not a multiple of 3136). Rebuilt from the context and ground-truth programs (the "
              "post's 'original' file in SFData is the tutorial it started from). TensorFlow 1 -> Keras 3: the "
              "placeholders become the batch; conv 5x5x32 'SAME' + ReLU, 2x2 'SAME' max-pool, conv 5x5x64, pool, "
              "tf.reshape(h, [-1, flat]) as a Lambda around keras.ops.reshape with -1 on the batch axis (the "
              "mechanism survives: the batch axis absorbs the leftover and the division fails), a fully connected "
              "1024 ReLU layer sized for `flat`, dropout 0.5, 2-way softmax; weights truncated-normal (0.1) and "
              "biases 0.1 as in the program; Adam at 1e-4. Changed: 128 synthetic 40x20 images in [0, 1) instead "
              "of 10 random 388x191 images (whose fixed model would need a 297984 x 1024 weight matrix), with a "
              "brighter block marking class 1 (the context's labels are random); pooled maps are 10 x 5 x 64 = "
              "3200 per image, and 3200 * 128 is not a multiple of 3136, so the buggy twin fails in the same "
              "place. The loss is Keras' mean cross-entropy where the program summed it over the batch (a constant "
              "factor under Adam). The buggy model is left without an Input, so the error comes in the first "
              "forward pass, as in the program's first sess.run. expected: layer-size-mismatch (a layer sized for "
              "inputs other than the ones it receives; size it from the shape it really receives) is SFData's "
              "repair."),
    case("thirteenth_keras_lstm_text_integer_labels_categorical", "keras", "labels / target shape",
         _SO + "64381457",
         "A text classifier (Embedding, LSTM, Dense(2, sigmoid)) is compiled with categorical cross-entropy but "
         "trained on the 0/1 target column as it is, one integer per text, so the targets do not have the "
         "two-column shape of the output and fit fails.",
         "One-hot encode the 0/1 targets into two columns (np.eye(2)[y]) so they match the two-unit output.",
         {"target-shape-broadcast"}, _build_keras_lstm_text_integer_labels_categorical,
         note="SFData s64381457 (original, context, ground_truth), fault type Label Output Incompatible (repair: "
              "label data shape; ValueError: a target array of shape (80, 1) for categorical_crossentropy). Kept: "
              "Embedding(2500, 128) -> Dropout 0.2 -> LSTM(200) -> Dense(2, sigmoid), categorical cross-entropy, "
              "Adam; the sigmoid output is the program's and SFData's repair keeps it. Changed: the poster's "
              "tokenised tweets (unknown length) are replaced by 128 synthetic padded sequences of 20 token indices "
              "below 2500, where class 1 texts hold three keyword tokens (SFData's context uses random floats as "
              "token ids and random labels); input_length is dropped (Keras 3). Translated from Keras 2 to Keras 3. "
              "expected: target-shape-broadcast's fix (give the targets the output's shape) is SFData's repair; "
              "labels-not-class-indices was left out, since its fix (one index per sample) fits a sparse loss, not "
              "this one."),
    case("thirteenth_keras_stacked_lstm_no_return_sequences", "keras", "architecture / recurrent layer",
         _SO + "40331510",
         "Two LSTM layers are stacked but the first one returns only its last state, (batch, 100), so the second "
         "LSTM gets a 2-D input where it needs (batch, steps, features) and the model cannot run.",
         "Set return_sequences=True on the first LSTM (SFData sets it on both and flattens after the second).",
         {"layer-size-mismatch", "input-layout"}, _build_keras_stacked_lstm_no_return_sequences,
         note="SFData s40331510 (ICSE2020 folder; original, context, ground_truth), fault type Parameter Restriction "
              "Incompatible (repair: OP parameter shape; ValueError: lstm_1 expected ndim=3, found ndim=2). The "
              "post's program is the two LSTM lines only; the head (Flatten, Dense 100 ReLU, Dropout 0.5, Dense 2 "
              "softmax), the categorical cross-entropy and Adam come from SFData's context and are kept, with "
              "(10 steps, 10 features). Changed: 128 synthetic sequences in [0, 1) whose class is whether the first "
              "feature's mean is above 0.5 (the context has 2 random sequences and random labels). Keras 3 raises "
              "this error while building a model with an Input, so the buggy model is left without one and meets "
              "the error in its first forward pass. expected is a judgement call: layer-size-mismatch (a layer "
              "receives another shape than it was built for; print the shape that reaches it) and input-layout "
              "(recurrent layers take (batch, time, features)) both point at the 2-D tensor reaching the second "
              "LSTM; neither names return_sequences."),
    case("thirteenth_keras_conv1d_dense_no_flatten", "keras", "architecture / missing flatten",
         _SO + "58277932",
         "A Conv1D layer over 150-step signals is followed directly by Dense(9) and a softmax, so the model gives "
         "9 class scores at each of the 148 positions, (batch, 148, 9), against one-hot targets of (batch, 9), and "
         "fit fails on the shapes.",
         "Add a Flatten layer between the Conv1D and the Dense layer.",
         {"missing-flatten"}, _build_keras_conv1d_dense_no_flatten,
         note="SFData s58277932 (original, context, ground_truth), fault type Adjacent Layer Incompatible (repair: "
              "add a Flatten layer; ValueError: target (100, 9) for an output (None, 148, 9)). Kept from the "
              "context and ground truth: 100 signals of 150 x 1, Conv1D(1 filter, kernel 3, ReLU) -> Dense(9) -> "
              "softmax, categorical cross-entropy on one-hot labels of 9 classes, Adam; input_shape (150, 1) and "
              "targets (100, 9) as SFData's context has them (the post's original declared (None, 1) and reshaped "
              "the targets to (100, 9, 1)). Changed: normal noise with a raised stretch whose position gives the "
              "class, drawn with _rng() (the context's labels are random). Translated from Keras 2 to Keras 3. "
              "expected: missing-flatten's title and fix are SFData's repair."),
    case("thirteenth_keras_conv2d_input_shape_with_batch_axis", "keras", "architecture / declared input shape",
         _SO + "63536948",
         "A Conv2D audio classifier is declared with input_shape=train_data.shape, which includes the number of "
         "samples, so the model expects 5-D inputs, (None, n, 20, 130, 1), and cannot take the 4-D batches it is "
         "given.",
         "Declare input_shape=train_data.shape[1:], the shape of one sample.",
         {"layer-size-mismatch"}, _build_keras_conv2d_input_shape_with_batch_axis,
         note="SFData s63536948 (original, context, ground_truth), fault type Feature Input Incompatible (repair: "
              "model input shape; ValueError: conv2d expected ndim=4, found ndim=5, shape [None, 100, 20, 130, 1]). "
              "Kept: inputs of 20 x 130 x 1 per sample, Conv2D 32 3x3 ReLU -> MaxPool 2 -> Conv2D 32 3x3 ReLU -> "
              "MaxPool 2 -> Flatten -> Dense 128 ReLU -> Dense 34 ReLU -> Dense 11, SGD at its default rate. "
              "Changed: 128 synthetic spectrogram-like arrays with 11 classes marked by a raised patch (SFData's "
              "context gives every sample class 0); the post shows no loss, and SFData's context pairs the linear "
              "Dense(11) with categorical cross-entropy on probabilities, so the rebuild uses "
              "CategoricalCrossentropy(from_logits=True) to leave out a second bug the post does not have. Keras 3 "
              "refuses the 5-D input while building the model (as Keras 2 did at model.add), so the buggy twin "
              "adds its layers with Sequential.add(..., rebuild=False) and meets the mismatch of the declared input "
              "against the 4-D batch at its first training step (Keras 3 says the model was configured for input "
              "(None, 128, 20, 130, 1)). expected: layer-size-mismatch's fix names keras.Input with x's shape, "
              "which is SFData's repair; input-layout was left out because its fix changes x, not the model."),
    case("thirteenth_keras_lstm_one_step_missing_axis", "keras", "data / input layout",
         _SO + "44111687",
         "A TensorFlow 1 LSTM classifier declares its input as (None, 1 step, 2 features) but its training loop "
         "reshapes the data to [1, 2], without the length-1 axis, so the input cannot be fed and training stops "
         "at its first step.",
         "Add the missing axis with np.expand_dims so the input is (batch, 1, 2), the shape the placeholder "
         "declares.",
         {"input-layout"}, _build_keras_lstm_one_step_missing_axis,
         note="SFData s44111687 (original, context, ground_truth), fault type Feature Input Incompatible (repair: "
              "feature data shape; ValueError: cannot feed value of shape (1, 2) for a placeholder of (?, 1, 2)). "
              "TensorFlow 1 -> Keras 3: the placeholder x becomes keras.Input((1, 2)), BasicLSTMCell(128, "
              "forget_bias=1.0) with static_rnn's last output becomes LSTM(128, unit_forget_bias=True), the output "
              "matmul a Dense(2) with normal(0, 1) weights and bias (tf.random_normal), softmax cross-entropy on "
              "logits, Adam at 0.001. Changed: the program trains one sample per step (each reshaped to [1, 2], "
              "and its label left as a (2,) vector); the rebuild gives the whole batch at once, 128 rows of "
              "make_classification with 2 features through data.binary_blobs and one-hot labels, reshaped to "
              "(128, 2) in the buggy twin and (128, 1, 2) in the fixed one: the same missing length-1 axis, while "
              "the labels' missing batch axis, which only comes from indexing one sample, does not carry over. "
              "expected: input-layout's fix names (batch, time, features) for recurrent layers and the reshape "
              "that makes the model run, which is SFData's repair."),
    case("thirteenth_torch_bce_labels_without_output_axis", "torch", "labels / target shape",
         _SO + "48851558",
         "A bag-of-words sentiment classifier with one sigmoid output unit, (batch, 1), is trained on labels "
         "shaped (batch,), and the loss, which requires equal shapes, stops at the first step.",
         "Reshape the labels to (batch, 1), the output's shape.",
         {"target-shape-broadcast"}, _build_torch_bce_labels_without_output_axis,
         note="SFData s48851558 (original, context, ground_truth), fault type Label Output Incompatible (repair: "
              "label data shape; ValueError: logits and labels must have the same shape ((?, 1) vs (?,))). The "
              "program is a tf.keras model (Dense 16 ReLU -> Dense 16 ReLU -> Dense 1 sigmoid, binary "
              "cross-entropy, 'rmsprop') trained through keras.estimator.model_to_estimator, a TensorFlow 1 API "
              "whose loss demands identical shapes; Keras 3's fit would quietly match (n,) labels to a (n, 1) "
              "output, so the error exists only under the estimator there. Rebuilt in PyTorch, where nn.BCELoss "
              "likewise refuses a (n,) target for a (n, 1) output: Linear 10000->16 ReLU -> 16 ReLU -> 1 -> "
              "Sigmoid with Glorot-uniform weights and zero biases (Keras' defaults), RMSprop with Keras' settings "
              "(lr 0.001, rho 0.9, eps 1e-7). Changed: 256 synthetic multi-hot reviews over 10000 words, five of "
              "whose words come from a positive or a negative word list, instead of 15000 IMDB reviews in batches "
              "of 512. expected: target-shape-broadcast's fix (y.reshape(-1, 1)) is SFData's repair."),
    case("thirteenth_keras_one_hot_labels_sparse_crossentropy", "keras", "labels / loss pairing",
         _SO + "53697858",
         "A 6-class classifier of 18 features is compiled with sparse categorical cross-entropy but given one-hot "
         "label rows, (batch, 6), where that loss takes one class index per sample, so the first training step "
         "fails.",
         "Turn the one-hot rows back into class indices with np.argmax(y, axis=1) before training.",
         {"labels-not-class-indices"}, _build_keras_one_hot_labels_sparse_crossentropy,
         note="SFData s53697858 (original, context, ground_truth), fault type Label Output Incompatible (repair: "
              "label data shape; InvalidArgumentError: can not squeeze dim[1], expected 1, got 6, in the accuracy "
              "metric). Kept: Dense 9 -> 9 -> 9 ReLU -> Dense 6 softmax with 'uniform' kernels (Keras 2's "
              "RandomUniform(-0.05, 0.05)), sparse categorical cross-entropy, Adam. Changed: 256 rows of "
              "make_blobs with 6 centres in 18 features, standardised (SFData's context has 352 random rows and "
              "random labels; the poster's data are not shown). The program's error came from the accuracy "
              "metric; the rebuild compiles no metric, so any failure comes from the loss. Translated from Keras 2 "
              "to Keras 3. expected: labels-not-class-indices's fix (one whole number per sample from 0 to K-1) "
              "is SFData's repair."),
]
