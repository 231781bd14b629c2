"""Fourteenth held-out set, part g: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 121-130) by someone who read only
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


# --- entry 123: a TF1 CNN whose flatten reshape keeps MNIST's 7*7*64 for larger images (SO 33889366) -------------

def _flatten_as_mnist(t):
    """tf.reshape(h_pool2, [-1, 7 * 7 * 64]), the program's flatten: the batch axis is folded into the -1."""
    from keras import ops

    return ops.reshape(t, (-1, 7 * 7 * 64))


def _flatten_as_digits(t):
    """SFData's repair for the program's own image size, here 8x8 pooled twice: tf.reshape(h_pool2, [-1, 2*2*64])."""
    from keras import ops

    return ops.reshape(t, (-1, 2 * 2 * 64))


def _build_keras_tf1_cnn_reshape_7x7x64_for_larger_images(buggy):
    keras = _keras()
    L = keras.layers
    images, digits = data.digits()
    x = (images / 16.0).astype(np.float32)  # flat rows, as the placeholder x of shape [None, 388*191] takes them
    y = data.one_hot((digits < 5).astype(np.int64), 2)  # one-hot rows over 2 classes, as the placeholder y_
    # the bug: the flatten reshape (and the first fully connected weight) keep MNIST's 7*7*64, while 8x8 images
    # pooled twice give 2*2*64 values per image; SFData's repair: the size the program's own images give
    flatten = _flatten_as_mnist if buggy else _flatten_as_digits
    model = _sequential(keras, (64,), [
        L.Reshape((8, 8, 1)),
        L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2, padding="same"),
        L.Conv2D(64, 5, padding="same", activation="relu"), L.MaxPooling2D(2, padding="same"),
        L.Lambda(flatten),
        L.Dense(1024, activation="relu"), L.Dropout(0.5),
        L.Dense(2, activation="softmax")])
    # -tf.reduce_sum(y_ * tf.log(y_conv)): cross-entropy summed over the batch
    loss = keras.losses.CategoricalCrossentropy(reduction="sum")
    return model, x, y, loss, keras.optimizers.Adam(1e-4)


# --- entry 124: a GloVe review classifier with 2 output units for 5 one-hot classes (SO 65166479) ----------------

def _reviews(n=128, length=100, vocab=1000, classes=5):
    """``n`` token sequences of ``length`` ids below ``vocab`` and a class 0..4 per sequence: half of a sequence's
    tokens come from the fifth of the vocabulary that belongs to its class, the rest from the whole vocabulary."""
    rng = _rng()
    c = rng.integers(0, classes, n)
    band = vocab // classes
    tokens = rng.integers(1, vocab, (n, length))
    mask = rng.random((n, length)) < 0.5
    own = c[:, None] * band + rng.integers(0, band, (n, length))
    return np.where(mask, own, tokens).astype(np.int32), c


def _build_keras_glove_review_two_units_five_classes(buggy):
    keras = _keras()
    L = keras.layers
    vocab, length = 1000, 100  # SFData's context: vocab_size = 1000, MAX_SEQUENCE_LENGTH = 100
    x, classes = _reviews(length=length, vocab=vocab)
    y = data.one_hot(classes, 5)  # tf.one_hot(y_train, 5)
    embedding_matrix = _rng(1).random((vocab, 100)).astype(np.float32)  # stands in for the GloVe 100d vectors
    review_input = keras.Input(shape=(length,), dtype="int32")
    embed = L.Embedding(vocab, 100, trainable=True)
    h = L.Flatten()(embed(review_input))
    h = L.Dense(100, activation="relu")(h)
    h = L.Dense(32, activation="relu")(h)
    # the bug: the output layer has 2 units while the labels are one-hot over 5 classes;
    # SFData's repair: Dense(5, activation='softmax')
    predict = L.Dense(2 if buggy else 5, activation="softmax")(h)
    model = keras.Model(inputs=review_input, outputs=predict)  # the program passes one-element lists
    embed.set_weights([embedding_matrix])
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 126: a UTKFace CNN ending in one ReLU unit and a softmax, for 2-column labels (SO 59619015) -----------

def _colour_images(n=128, size=32):
    """``n`` RGB images of ``size`` x ``size`` with 0..255 pixels scaled to [0, 1] (as the program divides by 255),
    and a 0/1 label: images of class 1 have a brighter red channel."""
    rng = _rng()
    labels = rng.integers(0, 2, n)
    pixels = rng.integers(0, 196, (n, size, size, 3)).astype(np.float32)
    pixels[..., 0] += 60.0 * labels[:, None, None]
    return (pixels / 255.0).astype(np.float32), labels


def _build_keras_utkface_one_relu_unit_softmax_two_column_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _colour_images()
    y = data.one_hot(labels, 2)  # to_categorical(trainY, 2)
    if buggy:
        # the bug: one output unit (ReLU, then a softmax over that single unit) for labels of two columns
        head = [L.Dense(1, activation="relu"), L.Activation("softmax")]
    else:
        head = [L.Dense(2, activation="sigmoid")]  # SFData's repair: two sigmoid units
    model = _sequential(keras, (32, 32, 3), [
        L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2), strides=(2, 2)),
        L.Conv2D(64, (1, 1), activation="relu"), L.MaxPooling2D(pool_size=(2, 2), strides=(2, 2)),
        L.Conv2D(128, (1, 1), activation="relu"), L.MaxPooling2D(pool_size=(2, 2), strides=(2, 2)),
        L.Conv2D(256, (1, 1), activation="relu"), L.MaxPooling2D(pool_size=(2, 2), strides=(2, 2)),
        L.Flatten(), L.Dense(256, activation="relu"), L.Dense(256, activation="relu"), L.Dropout(0.5),
        *head])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 127: a spectrogram CNN given integer labels for categorical cross-entropy (SO 46501505) ---------------

def _spectrograms(n=96, frames=24, bins=16):
    """``n`` single-channel (frames x bins) spectrogram-like arrays of uniform noise and a 0/1 label: class 1 has
    more energy in its four lowest frequency bins."""
    rng = _rng()
    labels = rng.integers(0, 2, n)
    x = rng.random((n, frames, bins, 1)).astype(np.float32)
    x[:, :, :4, 0] += 0.5 * labels[:, None, None]
    return x, labels.astype(np.int64)


def _build_keras_spectrogram_cnn_integer_labels_categorical_loss(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _spectrograms()
    model = _sequential(keras, x.shape[1:], [
        L.Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same"),
        L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)), L.Flatten(),
        L.Dense(128, activation="relu"), L.Dropout(0.1), L.Dense(64, activation="relu"), L.Dropout(0.1),
        L.Dense(16, activation="relu"), L.Dense(2, activation="softmax")])
    # the bug: one integer label per clip for categorical cross-entropy over 2 softmax units;
    # SFData's repair: np.eye(2)[Y_train], one-hot rows
    y = labels if buggy else data.one_hot(labels, 2)
    return model, x, y, keras.losses.CategoricalCrossentropy(), keras.optimizers.SGD(learning_rate=0.01)


CASES = [
    case("fourteenth_keras_tf1_cnn_reshape_7x7x64_for_larger_images", "keras", "layer sizes / flatten reshape",
         SO + "33889366",
         "A two-convolution network copied from the MNIST tutorial flattens its pooled feature maps with a reshape "
         "to (-1, 7*7*64), and sizes its first fully connected weight to match, while the program's own images are "
         "larger than 28x28 and give many more values per image, so the reshape fails in the forward pass.",
         "Reshape to (and size the first fully connected weight for) the flattened width the program's images really "
         "give after two poolings.",
         {"layer-size-mismatch"}, _build_keras_tf1_cnn_reshape_7x7x64_for_larger_images,
         note="SFData s33889366_original.py, _context.py, _ground_truth.py (ICSE2020 list); TensorFlow 1; fault "
              "type Parameter Restriction Incompatible (InvalidArgumentError: input to reshape is a tensor with "
              "2979840 values, but the requested shape requires a multiple of 3136); the repair changes 7 * 7 * 64 "
              "to 97 * 48 * 64 in W_fc1 and in the reshape. Translated TensorFlow 1 -> Keras 3 with the same "
              "layers: flat input rows reshaped to (rows, cols, 1), conv 5x5x32 relu, 2x2 max-pool (same), conv "
              "5x5x64 relu, 2x2 max-pool (same), the flatten as the same reshape with -1 on the batch axis (a Lambda "
              "calling keras.ops.reshape(t, (-1, 7*7*64)), so that the Dense after it is sized for 3136 as W_fc1 "
              "was), Dense 1024 relu, dropout 0.5 (keep_prob 0.5 in training), Dense 2 softmax, the cross-entropy "
              "summed over the batch (CategoricalCrossentropy(reduction='sum') for -reduce_sum(y_ * log(y_conv))), "
              "Adam 1e-4. Changed: 128 of scikit-learn's 8x8 digits (pixels / 16, flat rows of 64) with one-hot "
              "labels digit < 5 instead of 10 random 388x191 images with random labels (a 297984 -> 1024 weight "
              "would not fit the shared machine); so the repaired width is 2*2*64 = 256, not 97*48*64. The "
              "mismatch is the same: the batch's 128 * 256 values are not a multiple of 3136, and Keras 3 raises a "
              "ValueError at the reshape while tracing the first training step (TensorFlow 1 raised at run time). "
              "Keras's default initialisers replace the program's truncated normal (0.1) and 0.1 biases. The model "
              "is constructed without error (the declared input has no batch size, so the reshape cannot be "
              "checked before data arrive, as in the graph program). expected: layer-size-mismatch's fix (size the "
              "layer from the shape it really receives) is SFData's repair. Not listed: missing-flatten (there is a "
              "flatten; its title, feature maps reaching a Dense layer, does not fit) and samples-mixed (the -1 on "
              "the batch axis would mix samples only for batch sizes whose values divide by 3136; here it raises)."),
    case("fourteenth_keras_glove_review_two_units_five_classes", "keras", "output width / targets",
         SO + "65166479",
         "A review classifier on GloVe embeddings ends in a 2-unit softmax copied from a binary sentiment example, "
         "while its labels are one-hot over 5 ratings, so categorical cross-entropy fails on (n, 5) targets against "
         "(n, 2) outputs.",
         "Give the output layer 5 softmax units, one per class.",
         {"output-width-mismatch"}, _build_keras_glove_review_two_units_five_classes,
         note="SFData s65166479_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(InvalidArgumentError: logits and labels must be broadcastable: logits_size=[64,2] "
              "labels_size=[64,5]); the repair changes Dense(2, softmax) to Dense(5, softmax). Kept: the functional "
              "model (int32 Input of 100 tokens, Embedding(1000, 100) initialised from a given matrix and "
              "trainable, Flatten, Dense 100 relu, Dense 32 relu, the softmax output), categorical cross-entropy, "
              "'adam', labels one-hot over 5 classes, vocabulary 1000 and length 100 as in SFData's context. "
              "Changed: 128 rows; a random uniform matrix stands in for GloVe, as in the context; the context's "
              "X_train is random floats in [0, 1) cast to token 0 everywhere (no information), so the token "
              "sequences here are drawn so that half of each sequence's tokens come from its class's fifth of the "
              "vocabulary, and the label can be learnt. Keras 3 raises at the loss at the first training step "
              "(target and output shapes differ). expected: output-width-mismatch's fix (make the last layer as "
              "wide as the number of classes) is SFData's repair; target-shape-broadcast's fix would change the "
              "targets instead, so it is not listed."),
    case("fourteenth_keras_utkface_one_relu_unit_softmax_two_column_labels", "keras",
         "output width / one-unit softmax",
         SO + "59619015",
         "A face-image CNN for a two-class label ends in one ReLU unit followed by a softmax over that single unit, "
         "while the labels are one-hot with two columns (to_categorical(y, 2)) under binary cross-entropy, so the "
         "loss fails on (n, 2) targets against (n, 1) outputs.",
         "End the network in two sigmoid units, one per label column, instead of one ReLU unit and a softmax.",
         {"output-width-mismatch", "one-unit-softmax"}, _build_keras_utkface_one_relu_unit_softmax_two_column_labels,
         note="SFData s59619015_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array with shape (7, 2) was passed for an output of shape (None, 1) while "
              "using binary_crossentropy); the repair replaces Dense(1, relu) + Activation('softmax') with Dense(2, "
              "sigmoid). The poster's snippet is the data preparation (UTKFace images, to_categorical(., 2)); "
              "SFData's context adds the posted model. Kept: the four conv/pool stages (32 3x3, then 64, 128, 256 "
              "1x1 filters, each with 2x2 max-pooling), Flatten, Dense 256 relu twice, Dropout 0.5, the head of "
              "each twin, binary cross-entropy, 'adam', pixels as 0..255 integers divided by 255, two-column one-hot "
              "labels. Changed: 128 synthetic 32x32 RGB images (the smallest size that survives four poolings) "
              "instead of the context's 10 random 100x100 images with random labels; class 1 has a brighter red "
              "channel, so the labels can be learnt. Keras 3 raises at the loss at the first training step (target "
              "and output shapes differ), as Keras 2 did at fit's check. expected is a judgement call: "
              "output-width-mismatch's fix (give every target column its own output unit) gives the 2 units, and "
              "one-unit-softmax's fix (replace a softmax over one unit, e.g. by sigmoid) gives the sigmoid of "
              "SFData's repair; together they are the repair. target-shape-broadcast (change the targets) and "
              "binary-loss-on-one-class-rows (K softmax units with categorical cross-entropy) lead elsewhere and "
              "are not listed."),
    case("fourteenth_keras_spectrogram_cnn_integer_labels_categorical_loss", "keras", "labels / loss pairing",
         SO + "46501505",
         "A CNN on music spectrograms with a 2-unit softmax is compiled with categorical cross-entropy and fitted "
         "on one integer label (0 or 1) per clip, so the loss fails on targets of shape (n,) or (n, 1) against "
         "outputs of (n, 2).",
         "One-hot encode the labels (np.eye(2)[y]) before fitting.",
         {"target-shape-broadcast"}, _build_keras_spectrogram_cnn_integer_labels_categorical_loss,
         note="SFData s46501505_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array of shape (100, 1) while using categorical_crossentropy); the repair "
              "one-hot encodes Y_train and Y_test. The poster's program also swaps axes and sets Keras 1's "
              "channels-first ordering; SFData's context takes channels-last (1366, 96, 1) inputs and keeps only "
              "the label fault, and the twins follow the context and the repair. Kept: Conv2D 32 3x3 relu (same), "
              "Conv2D 64 3x3 relu, 2x2 max-pool, Flatten, Dense 128 relu, Dropout 0.1, Dense 64 relu, Dropout "
              "0.1, Dense 16 relu, Dense 2 softmax, categorical cross-entropy, SGD at 0.01, integer 0/1 labels. "
              "Changed: 96 clips of 24 frames x 16 bins x 1 channel of noise instead of 100 random (1366, 96, 1) "
              "arrays (a (682*47*64) -> 128 Dense would not fit the shared machine), with class 1 given more "
              "energy in its four lowest bins so the label can be learnt; the accuracy metric and validation data "
              "are left out. Keras 3 raises at the loss at the first training step (target rank against output "
              "rank). expected is a judgement call, as for the thirteenth set's integer-label cases: "
              "target-shape-broadcast's fix (give the targets the output's shape) leads to the one-hot labels; "
              "labels-not-class-indices's fix keeps integer labels and would lead to the sparse loss, a different "
              "repair from SFData's, so it is not listed."),
]
