"""Thirteenth held-out set, part b: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part b's slice) by someone who read only
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


# --- a churn classifier declared for 11 inputs, given a table of 16934 columns (Stack Overflow 60297871) --------

def _wide_table(n=128, width=16934):
    """``n`` rows of ``width`` uniform features in [0, 1), as SFData's context draws them, with a binary label that
    depends on the first ten columns (so that a model that reads the table can learn it)."""
    rng = _rng()
    x = rng.random((n, width), dtype=np.float32)
    score = x[:, :10].sum(axis=1)
    y = (score > np.median(score)).astype(np.float32)
    return x, y


def _build_keras_dense_input_dim_11_for_16934_columns(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _wide_table()
    # the bug: the first Dense layer is declared for 11 inputs while every row has 16934 columns;
    # SFData's repair: input_dim=16934, the width of the table the model is given
    width = 11 if buggy else x.shape[1]
    model = _sequential(keras, (width,), [
        L.Dense(6, kernel_initializer="random_uniform", activation="relu"),
        L.Dense(6, kernel_initializer="random_uniform", activation="relu"),
        L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- a SimpleRNN given a 2-D table with no time axis (Stack Overflow 36241731) ----------------------------------

def _predictor_table(n=119, features=80):
    """``n`` rows of ``features`` standard-normal predictors (SFData's context: 119 x 80) and one continuous target
    per row that a one-unit tanh layer can reach: 0.8 * tanh of a fixed linear score."""
    rng = _rng()
    x = rng.normal(size=(n, features)).astype(np.float32)
    w = rng.normal(size=features).astype(np.float32) / np.sqrt(features)
    y = (0.8 * np.tanh(x @ w)).reshape(-1, 1).astype(np.float32)
    return x, y


def _build_keras_simple_rnn_two_dim_table(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _predictor_table()
    # the recurrent layer is declared as in Keras 1's SimpleRNN(input_dim=k): any number of steps of k features
    model = _sequential(keras, (None, x.shape[1]), [L.SimpleRNN(1, kernel_initializer="uniform")])
    if not buggy:
        # the repair: give x the axis a recurrent layer needs, np.expand_dims; with one target per row (the poster's
        # program) each row becomes a sequence of one step, (119, 1, 80)
        x = np.expand_dims(x, 1)
    # the bug: x stays (119, 80), rows x predictors, with no time axis
    return model, x, y, "mse", keras.optimizers.SGD(learning_rate=0.01)


# --- a TensorFlow 1 CNN fed images with an extra axis, (n, 1, 32, 32, 3) (Stack Overflow 35673874) --------------

def _colour_digits(n=32, scale=4):
    """scikit-learn's 8x8 digits enlarged ``scale`` times (32x32 for 4), pixels / 16, repeated over three colour
    channels; two classes (digit < 5 or not), one-hot as in the program."""
    images, labels = data.digits(n)
    images = images.reshape(-1, 8, 8) / 16.0
    images = np.kron(images, np.ones((1, scale, scale), dtype=np.float32))
    x = np.repeat(images[..., None], 3, axis=-1).astype(np.float32)
    return x, data.one_hot((labels >= 5).astype(np.int64), 2)


def _build_keras_cnn_images_with_extra_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _colour_digits()
    # the placeholder x of shape (None, 32, 32, 3) becomes the model's declared input
    model = _sequential(keras, (32, 32, 3), [
        L.Conv2D(32, 5, padding="same", activation="relu", bias_initializer=keras.initializers.Constant(0.1)),
        L.MaxPooling2D(2, padding="same"),
        L.Conv2D(64, 5, padding="same", activation="relu", bias_initializer=keras.initializers.Constant(0.1)),
        L.MaxPooling2D(2, padding="same"),
        L.Flatten(),
        L.Dense(1024, activation="relu", bias_initializer=keras.initializers.Constant(0.1)),
        L.Dropout(0.5),
        L.Dense(2, activation="softmax", bias_initializer=keras.initializers.Constant(0.1))])
    if buggy:
        # the bug: every image keeps an extra axis of length 1, so the batch is (n, 1, 32, 32, 3);
        # SFData's repair: np.squeeze the batch before it is fed
        x = np.expand_dims(x, 1)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(learning_rate=1e-4)


# --- a text classifier declared for one input, given 5000-column document vectors (Stack Overflow 63205737) -----

def _bag_of_words(n=128, vocabulary=5000, words=40):
    """``n`` synthetic documents as word-count vectors over ``vocabulary`` words: each draws ``words`` words from a
    Zipf-like distribution over the whole vocabulary, plus a few from one of two small sets of class words (the
    label)."""
    rng = _rng()
    p = 1.0 / np.arange(1, vocabulary + 1)
    p /= p.sum()
    y = (np.arange(n) % 2).astype(np.float32)
    rng.shuffle(y)
    x = np.zeros((n, vocabulary), dtype=np.float32)
    for i in range(n):
        np.add.at(x[i], rng.choice(vocabulary, size=words, p=p), 1.0)
        start = 100 if y[i] else 200
        np.add.at(x[i], rng.integers(start, start + 20, size=3), 1.0)
    return x, y


def _build_keras_dense_input_shape_1_for_5000_columns(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _bag_of_words()
    # the bug: input_shape=(1,), one feature per document, while each document is a vector of 5000 columns;
    # SFData's repair: input_shape=(5000,)
    width = 1 if buggy else x.shape[1]
    model = _sequential(keras, (width,), [L.Dense(5, activation="relu"), L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- seven-class images with integer labels under categorical cross-entropy (Stack Overflow 62148508) ----------

def _faces_like_digits(n=32, scale=6, classes=7):
    """scikit-learn's 8x8 digits of classes 0..6 enlarged ``scale`` times (48x48, one grey channel, as the program's
    48x48x1 images), pixels / 16; labels as whole numbers 0..6."""
    images, labels = data.digits(128)
    keep = labels < classes
    images, labels = images[keep][:n], labels[keep][:n]
    images = np.kron(images.reshape(-1, 8, 8) / 16.0, np.ones((1, scale, scale), dtype=np.float32))
    return images[..., None].astype(np.float32), labels.astype(np.int64)


def _build_keras_categorical_crossentropy_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _faces_like_digits()
    # the program's layers, with a quarter of its filters (64/128/256 -> 16/32/64) to fit the shared CPU
    model = _sequential(keras, (48, 48, 1), [
        L.Conv2D(16, 5), L.Conv2D(16, 5, strides=(1, 1), padding="valid"), L.BatchNormalization(),
        L.MaxPooling2D(pool_size=(2, 2), strides=1, padding="valid"), L.Activation("relu"),
        L.Conv2D(32, 5), L.Conv2D(32, 5), L.BatchNormalization(), L.MaxPooling2D(pool_size=(2, 2)),
        L.Activation("relu"),
        L.Conv2D(64, 5), L.Conv2D(64, 5), L.BatchNormalization(), L.MaxPooling2D(pool_size=(2, 2)),
        L.Activation("relu"),
        L.Flatten(), L.Dense(128), L.BatchNormalization(), L.Activation("relu"), L.Dropout(0.25),
        L.Dense(7, activation="softmax")])
    # the bug: the labels stay one whole number per image, shape (n,), under categorical cross-entropy;
    # SFData's repair: one-hot them, np.eye(7)[labels], shape (n, 7)
    y = labels if buggy else data.one_hot(labels, 7)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


CASES = [
    case("thirteenth_keras_dense_input_dim_11_for_16934_columns", "keras", "input shape / declared input width",
         "https://stackoverflow.com/questions/60297871",
         "A binary classifier (Dense 6, Dense 6, one sigmoid unit) declares input_dim=11 for its first layer, while "
         "the table it is trained on has 16934 columns per row, so the first training step stops with an input "
         "shape error.",
         "Declare the first Dense layer with input_dim=16934, the number of columns the table really has.",
         {"layer-size-mismatch"},
         _build_keras_dense_input_dim_11_for_16934_columns,
         note="SFData s60297871_original.py / _context.py / _ground_truth.py (fault type: Feature Input Incompatible; "
              "repair: model input shape). Kept: the three Dense layers (6 and 6 ReLU units with random_uniform "
              "kernels, one sigmoid unit), binary cross-entropy, Adam at its default rate, and the table's 16934 "
              "columns. Changed: 128 rows instead of the context's 7500; the context's features are uniform in "
              "[0, 1) with random labels, which no model could learn, so the label here is whether the sum of the "
              "first ten columns is above its median. Translated from tf.keras 2 to Keras 3 (input_dim becomes a "
              "keras.Input of that width). The buggy twin's model is built with its declared width of 11 and fails "
              "when it is called on the batch. expected: layer-size-mismatch's fix (size the layer from the shape it "
              "really receives, keras.Input with x's shape) is SFData's repair; input-layout was left out because "
              "its fix changes x to fit the model, the other way round."),
    case("thirteenth_keras_simple_rnn_two_dim_table", "keras", "input shape / recurrent layer without a time axis",
         "https://stackoverflow.com/questions/36241731",
         "A one-unit SimpleRNN regression is trained on a 2-D table of rows x predictors, while a recurrent layer "
         "takes (batch, time steps, features), so the first training step stops because the input has two axes "
         "where three are expected.",
         "Add the missing axis to the table with np.expand_dims before training, so the recurrent layer gets a "
         "3-D array.",
         {"input-layout"},
         _build_keras_simple_rnn_two_dim_table,
         note="SFData s36241731_original.py / _context.py / _ground_truth.py (ICSE2020 list; fault type: Feature "
              "Input Incompatible; repair: feature data shape, np.expand_dims(X_train, 0)). Kept from the poster's "
              "program: SimpleRNN with one unit and 'uniform' kernel initialisation, declared for the table's number "
              "of columns as input_dim (Keras 1: any number of steps of that many features), mean squared error, "
              "SGD at Keras 1's default rate of 0.01, the whole table as one batch; SFData's context's 119 rows x "
              "80 columns. Changed: the context's features are uniform noise with a single target [[1]]; here they "
              "are standard-normal predictors with one continuous target per row (0.8 * tanh of a fixed linear "
              "score, reachable by a tanh unit), as in the poster's program (target_train, batch_size=len(rows)). "
              "Judgement call on the axis: SFData's context has one target for the whole table, so its repair adds "
              "the axis in front, (1, 119, 80); with one target per row that shape cannot match the targets, so the "
              "fixed twin adds it after the rows, (119, 1, 80), each row a one-step sequence; the mechanism (a 2-D "
              "table given to a recurrent layer) and the repair (np.expand_dims on x) are the same. The context's "
              "SimpleRNN(100) is not used: it would put 100 outputs against one target, a change SFData's context "
              "made and the poster's program does not have. Translated from Keras 1 (init=, output_dim=, input_dim=) "
              "to Keras 3. expected: input-layout's fix names (batch, time, features) for recurrent layers."),
    case("thirteenth_keras_cnn_images_with_extra_axis", "keras", "input shape / extra axis",
         "https://stackoverflow.com/questions/35673874",
         "A two-convolution CNN declared for (32, 32, 3) images is fed a batch in which every image keeps an extra "
         "axis of length one, (n, 1, 32, 32, 3), so the first training step stops because the batch has five axes "
         "where the model takes four.",
         "Squeeze the extra axis out of the batch (np.squeeze) so the images reach the model as (n, 32, 32, 3).",
         {"input-layout"},
         _build_keras_cnn_images_with_extra_axis,
         note="SFData s35673874_original.py / _context.py / _ground_truth.py (ICSE2020 list; fault type: Feature "
              "Input Incompatible; repair: feature data shape, np.squeeze on the batch in feed_dict). Translated "
              "from TensorFlow 1 to Keras 3 with the same shapes: the placeholder of shape (None, 32, 32, 3) becomes "
              "keras.Input((32, 32, 3)), and the feed of a (n, 1, 32, 32, 3) array becomes the same array given to "
              "the model; the placeholder's shape check and Keras's input check refuse it in the same place, at the "
              "first training step. Kept: 5x5 convolutions of 32 and 64 filters with ReLU, 'SAME' padding and biases "
              "of 0.1, 2x2 max-pooling ('SAME'), 8*8*64 -> 1024 ReLU, dropout with keep_prob 0.5, 2 softmax units, "
              "cross-entropy on one-hot labels, Adam at 1e-4. Changed: the program's -reduce_sum(labels * log(p)) "
              "sums over the batch; Keras's categorical cross-entropy averages (the same direction of each step, "
              "which Adam's scaling makes nearly the same update). The truncated-normal (0.1) kernels become Keras's "
              "default initialisers. Data: the context draws 10 random images with random labels; here 32 of "
              "scikit-learn's 8x8 digits enlarged to 32x32, pixels / 16, repeated over three channels, labelled "
              "digit < 5 or not (two classes, one-hot). The buggy twin's model is built for (32, 32, 3) and fails "
              "when called on the 5-axis batch. expected: input-layout's fix (give x the layout the model was built "
              "for, (batch, height, width, channels) for Keras convolutions) is SFData's squeeze."),
    case("thirteenth_keras_dense_input_shape_1_for_5000_columns", "keras", "input shape / declared input width",
         "https://stackoverflow.com/questions/63205737",
         "A binary text classifier (Dense 5 ReLU, one sigmoid unit) declares input_shape=(1,), one feature per "
         "document, while each document is a vector of 5000 columns, so the first training step stops with an "
         "input shape error.",
         "Declare the first Dense layer with input_shape=(5000,), the length of the document vectors.",
         {"layer-size-mismatch"},
         _build_keras_dense_input_shape_1_for_5000_columns,
         note="SFData s63205737_original.py / _context.py / _ground_truth.py (fault type: Feature Input "
              "Incompatible; repair: model input shape). Kept: Dense(5, ReLU) -> Dense(1, sigmoid), binary "
              "cross-entropy, Adam at its default rate, 5000 columns per document. Changed: the context draws 10 "
              "rows of uniform noise with random labels; here 128 synthetic documents as word counts over a "
              "5000-word vocabulary (40 words each from a Zipf-like distribution, plus 3 words from one of two "
              "20-word sets that carry the label). The program's batch_size=1 is a fit argument; the builder gives "
              "the whole batch. Translated from Keras 2 (standalone keras, as the poster imported it; the context "
              "uses tf.keras) to Keras 3. The buggy twin's model is built with its declared width of 1 and fails "
              "when called on the batch. expected: layer-size-mismatch's fix (size the layer from the shape it "
              "really receives, keras.Input with x's shape) is SFData's repair; input-layout was left out because "
              "its fix changes x to fit the model."),
    case("thirteenth_keras_categorical_crossentropy_integer_labels", "keras", "loss / label encoding",
         "https://stackoverflow.com/questions/62148508",
         "A seven-class CNN for 48x48 grey images ends in seven softmax units under categorical cross-entropy, "
         "but the labels are one whole number per image, shape (n,), where the loss takes one-hot rows of shape "
         "(n, 7), so the loss stops training at the first step with a shape error.",
         "One-hot encode the labels (np.eye(7)[labels]) so that each target row has the output's shape (n, 7).",
         {"target-shape-broadcast"},
         _build_keras_categorical_crossentropy_integer_labels,
         note="SFData s62148508_original.py / _context.py / _ground_truth.py (fault type: Feature Input "
              "Incompatible, though the repair is to the labels; repair: feature data shape, "
              "output_array = np.eye(class_n)[output_array]). Kept: 48x48x1 inputs, the program's layer sequence "
              "(three blocks of two 5x5 convolutions, BatchNormalization, 2x2 max-pooling, ReLU; Flatten, Dense 128, "
              "BatchNormalization, ReLU, Dropout 0.25, Dense 7 softmax), categorical cross-entropy, Adam at its "
              "default rate. Changed: a quarter of the filters (16/32/64 instead of 64/128/256) to fit the shared CPU "
              "(the labels' shape, not the width, is what fails); 32 rows instead of the context's 100 (its images "
              "are uniform noise with random labels): scikit-learn's 8x8 digits of classes 0-6 enlarged six times to "
              "48x48, pixels / 16, labels 0..6. The program's batch_size=64 and validation_split are fit arguments. "
              "Translated from tf.keras 2 to Keras 3: Keras 2 refused the targets before training ('a target array "
              "of shape (100, 1) while using categorical_crossentropy'); Keras 3 raises at the loss instead (target "
              "and output must have the same rank). expected is a judgement call: target-shape-broadcast's fix "
              "(give the targets the output's shape) is SFData's one-hot repair, though its title describes a loss "
              "that broadcasts rather than one that raises; labels-not-class-indices was left out because its fix "
              "keeps whole-number labels (which would lead to the sparse loss, not to SFData's repair)."),
]
