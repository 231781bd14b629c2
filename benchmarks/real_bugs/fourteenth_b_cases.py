"""Fourteenth held-out set, part b: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 71-80) by someone who read only
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


def _rgb_digits(n=128, scale=2):
    """``n`` of scikit-learn's 8x8 digits as small colour images: pixels / 16 (the programs rescale to [0, 1]),
    each pixel repeated ``scale`` x ``scale`` times (8 * scale pixels a side) and the grey value copied into three
    channels, laid out (n, rows, cols, 3) as Keras takes them; and the digits' labels 0..9."""
    images, labels = data.digits(n)
    grey = (images / 16.0).reshape(-1, 8, 8)
    grey = np.kron(grey, np.ones((scale, scale), dtype=np.float32))
    return np.repeat(grey[..., None], 3, axis=-1).astype(np.float32), labels


# --- entry 71: Conv1D layers on colour images, and no declared input (SO 65047573) ---------------------------------

def _build_keras_cassava_conv1d_on_rgb_images(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _rgb_digits(scale=2)  # (128, 16, 16, 3), for the program's (150, 150, 3) crops
    y = data.one_hot(labels % 5, 5)  # five classes, one-hot, as the program's five leaf-disease labels
    conv = L.Conv1D if buggy else L.Conv2D
    layers = [conv(filters=16, kernel_size=2, strides=1, activation="relu"), L.BatchNormalization(),
              conv(filters=16, kernel_size=2, strides=1, activation="relu"), L.BatchNormalization(),
              L.Flatten(), L.Dense(5, activation="softmax")]
    if buggy:
        # the bug: 1-D convolutions (which take (batch, steps, channels)) for (batch, rows, cols, channels) images,
        # in a Sequential model with no declared input, so the mismatch comes when the model first meets the batch
        model = keras.Sequential(layers)
    else:
        # SFData's repair: an Input of the images' shape and 2-D convolutions
        model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 72: two sigmoid units for one 0/1 label per image (SO 64435490) -----------------------------------------

def _build_keras_simplemlp_two_sigmoid_units_binary_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _rgb_digits(scale=1)  # (128, 8, 8, 3), for the program's (32, 32, 3) windows
    y = (labels < 5).astype(np.float32).reshape(-1, 1)  # class_mode='binary': one 0/1 label per image
    width = int(np.prod(x.shape[1:]))
    model = _sequential(keras, x.shape[1:], [
        L.Flatten(), L.Dense(width // 2, activation="relu"), L.Dense(width // 2, activation="relu"),
        # the bug: two sigmoid units for a single 0/1 target per sample; SFData's repair: one unit
        L.Dense(2 if buggy else 1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


# --- entry 75: one-hot labels fed where the loss takes class indices (SO 51444101, TensorFlow 1) -------------------

def _build_keras_tf1_mnist_cnn_one_hot_into_index_labels(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits()
    x = (images / 16.0).astype(np.float32)  # flat rows, as the placeholder X of (None, 784) takes MNIST's images
    model = _sequential(keras, (64,), [
        L.Reshape((8, 8, 1)),
        L.Conv2D(32, 3, strides=1, padding="same", activation="relu"),
        L.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        L.MaxPooling2D(pool_size=2, strides=2, padding="valid"),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(10)])  # logits
    # the bug: the batches come one-hot (read_data_sets(one_hot=True)), shape (n, 10), while the labels
    # placeholder and sparse_softmax_cross_entropy_with_logits take one class index per sample; SFData's repair:
    # argmax of each one-hot row
    y = data.one_hot(labels, 10) if buggy else labels
    return model, x, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True), keras.optimizers.Adam()


# --- entry 76: four softmax units for two one-hot classes (SO 62643682) --------------------------------------------

def _images_29x29(n=128):
    """``n`` digits scaled up to 24x24 (each pixel repeated 3x3, pixels / 16) and padded with zeros to the program's
    29x29 single-channel windows, laid out (n, 29, 29, 1); and two one-hot classes (digit < 5 or not)."""
    images, labels = data.digits(n)
    grey = np.kron((images / 16.0).reshape(-1, 8, 8), np.ones((3, 3), dtype=np.float32))
    x = np.pad(grey, ((0, 0), (2, 3), (2, 3)))[..., None].astype(np.float32)
    return x, data.one_hot((labels >= 5).astype(np.int64), 2)


def _build_keras_vgglike_four_softmax_units_two_classes(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _images_29x29()
    inputs = keras.Input(shape=(29, 29, 1))
    h = inputs
    for i, filters in enumerate((16, 16, 32), start=1):
        h = L.Conv2D(filters, kernel_size=(3, 3), name=f"Conv_{i}")(h)
        h = L.LeakyReLU(0.1)(h)
        h = L.MaxPooling2D((2, 2), name=f"MaxPool_{i}")(h)
    h = L.Flatten(name="Flatten")(h)
    h = L.ReLU(name="ReLU_dense_1")(L.Dense(64, name="Dense_1")(h))
    h = L.ReLU(name="ReLU_dense_2")(L.Dense(64, name="Dense_2")(h))
    # the bug: a 4-way softmax for labels one-hot over 2 classes; SFData's repair: Dense(2)
    outputs = L.Dense(4 if buggy else 2, activation="softmax", name="Output")(h)
    model = keras.Model(inputs=inputs, outputs=outputs, name="VGGlike_CNN")
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(learning_rate=0.01)


# --- entry 77: Dense layers straight after a Conv1D, with no Flatten (SO 62300118) ---------------------------------

def _signals_23_classes(n=128, steps=64):
    """``n`` 1-D signals of ``steps`` x 1 values (the program's (828, 1) series, shorter) over 23 classes, one-hot:
    class c is a sine wave of c + 1 cycles over the window with a random phase, plus a little noise."""
    rng = _rng()
    classes = np.arange(n) % 23
    t = np.arange(steps)[None, :] / steps
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = np.sin(2 * np.pi * (classes[:, None] + 1) * t + phase) + rng.normal(0, 0.1, size=(n, steps))
    return x[..., None].astype(np.float32), data.one_hot(classes, 23)


def _build_keras_float16_conv1d_dense_without_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _signals_23_classes()
    layers = [L.Conv1D(kernel_size=3, filters=64)]
    if not buggy:
        layers.append(L.Flatten())  # SFData's repair: flatten the (steps, filters) maps before the Dense layers
    # the bug (buggy twin): the Dense layers act on each of the convolution's steps, so the output is
    # (batch, steps - 2, 23) against one-hot targets of (batch, 23)
    layers += [L.Dense(256, activation="relu"), L.Dropout(0.2), L.Dense(y.shape[1], activation="softmax")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 80: a CNN whose Dense layers get the pooled feature maps, with no Flatten (SO 62299824) ----------------

def _build_keras_animals_cnn_dense_without_flatten(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _rgb_digits(scale=2)  # (128, 16, 16, 3), for the program's (64, 64, 3) images
    y = data.one_hot((labels >= 5).astype(np.int64), 2)  # class_mode='categorical' over the context's 2 classes
    layers = [L.Conv2D(filters=32, kernel_size=2, activation="relu"), L.MaxPooling2D(pool_size=2, strides=2),
              L.Conv2D(filters=32, kernel_size=2, activation="relu"), L.MaxPooling2D(pool_size=2, strides=2)]
    if not buggy:
        layers.append(L.Flatten())  # SFData's repair
    # the bug (buggy twin): no Flatten, so the Dense layers act on every position of the (3, 3, 32) maps and the
    # output is (batch, 3, 3, 2) against one-hot targets of (batch, 2)
    layers += [L.Dense(units=128, activation="relu"), L.Dense(units=2, activation="softmax")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


CASES = [
    case("fourteenth_keras_cassava_conv1d_on_rgb_images", "keras", "input shape / layer kind",
         SO + "65047573",
         "A classifier of colour crops (150x150x3) is built from Conv1D layers, which take (batch, steps, channels), "
         "in a Sequential model with no declared input, so the first layer meets 4-D images at the first training "
         "step and cannot run on them.",
         "Declare an Input of the images' shape (150, 150, 3) and use Conv2D layers instead of Conv1D.",
         {"layer-size-mismatch"}, _build_keras_cassava_conv1d_on_rgb_images,
         note="SFData s65047573_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible, "
              "repair pattern Add Input Layer (ValueError: input 0 of layer sequential expected ndim=3, found ndim=4, "
              "full shape (None, 150, 150, 3)). The twins are SFData's context (Conv1D, no input) and its repair "
              "(keras Input((150, 150, 3)) and Conv2D). Kept: two convolutions of 16 filters, kernel 2, stride 1, "
              "relu, each followed by BatchNormalization, Flatten, Dense(5, softmax) (the context's softmax; the "
              "poster's program has a sigmoid there), categorical cross-entropy against one-hot labels over 5 "
              "classes, 'adam' (Adam at its defaults; the program builds Adam(1e-4) but never passes it). Changed: "
              "128 of scikit-learn's 8x8 digits, each pixel repeated 2x2 into 16x16 and copied into 3 channels "
              "(pixels / 16), for the Cassava crops of 150x150x3 read from disk (the context uses random images); "
              "the label is the digit mod 5, five learnable classes instead of random ones. The poster's repeated "
              "third BatchNormalization is left out, as in the context. Translated tf.keras -> Keras 3: the buggy "
              "model has no Input, as in the program, so Keras builds Conv1D from the batch's last axis and raises "
              "at the first forward pass (Keras 3 names the kernel and input ranks rather than ndim=3/4). expected is "
              "a judgement call: layer-size-mismatch's fix names keras.Input with x's shape, half of SFData's repair, "
              "and with that Input a Conv1D is refused at once, which leads to Conv2D; input-layout's title fits too, "
              "but its fix changes x (a reshape to 3-D would make the Conv1D run), not the model, so it is not "
              "listed."),
    case("fourteenth_keras_simplemlp_two_sigmoid_units_binary_labels", "keras", "output width / labels",
         SO + "64435490",
         "An MLP for two classes of colour images ends in Dense(2, sigmoid) under binary cross-entropy, while the "
         "generator's class_mode='binary' gives one 0/1 label per image, so the loss gets targets of shape (n, 1) "
         "for outputs of shape (n, 2).",
         "Give the output layer a single sigmoid unit, Dense(1, activation='sigmoid').",
         {"output-width-mismatch"}, _build_keras_simplemlp_two_sigmoid_units_binary_labels,
         note="SFData s64435490_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible, "
              "repair pattern Model Output Shape (ValueError: a target array of shape (1, 1) for an output of shape "
              "(None, 2) with binary_crossentropy). Kept: Input of an image window, Flatten, two Dense layers of "
              "half the flattened width with relu, the output layer (2 units buggy, 1 fixed) with sigmoid, binary "
              "cross-entropy, 'adam' (Adam at its defaults), one 0/1 label per image. Changed: 128 of scikit-learn's "
              "8x8 digits (pixels / 16, as the generator's rescale=1/255 does) copied into 3 channels, windows of "
              "(8, 8, 3) instead of (32, 32, 3) (the context's (10, 10, 3) read from a folder of images), so the "
              "hidden layers have 96 units; the label is digit < 5; the targets are (n, 1), as Keras 2 reshaped "
              "them in its error; the image augmentation and the validation generator are left out. Keras 3 raises "
              "at the loss (target and output shapes differ) at the first training step, as Keras 2 raised at "
              "fit's target check. expected: output-width-mismatch's fix (make the last layer as wide as the number "
              "of target columns) is SFData's repair; target-shape-broadcast's fix would change the targets "
              "instead, so it is not listed."),
    case("fourteenth_keras_tf1_mnist_cnn_one_hot_into_index_labels", "keras", "labels / loss pairing",
         SO + "51444101",
         "A TensorFlow 1 MNIST CNN trained with sparse softmax cross-entropy, whose labels placeholder takes one "
         "class index per sample, is fed the one-hot (batch, 10) label arrays that read_data_sets(one_hot=True) "
         "returns, so the first training step fails on the labels' shape.",
         "Turn each one-hot label row into its class index (argmax) before feeding it.",
         {"labels-not-class-indices"}, _build_keras_tf1_mnist_cnn_one_hot_into_index_labels,
         note="SFData s51444101_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Label Output "
              "Incompatible, repair pattern Label Data Shape (ValueError: cannot feed value of shape (100, 10) for "
              "tensor 'y:0' of shape (?,)); the repair maps y_batch to np.argmax of each row in the training loop. "
              "Translated TensorFlow 1 -> Keras 3 with the same shapes: the flat placeholder X (None, n_inputs) "
              "reshaped to (rows, cols, 1) becomes Input((64,)) and Reshape((8, 8, 1)); conv1 32 filters 3x3 stride "
              "1 'same' relu, conv2 64 filters 3x3 stride 2 'same' relu, max pooling 2x2 stride 2 'valid', the "
              "flattening reshape (64 * 2 * 2 here for 64 * 7 * 7), fc1 Dense(64, relu), logits Dense(10); "
              "sparse_softmax_cross_entropy_with_logits becomes SparseCategoricalCrossentropy(from_logits=True); "
              "AdamOptimizer at its defaults becomes Adam. The placeholder's shape check has no Keras counterpart: "
              "in Keras 3 the same one-hot (n, 10) labels reach the sparse loss, which raises a ValueError on their "
              "rank at the first training step; the mechanism (one-hot labels where class indices are taken) and "
              "the place (the labels given to the training step) are the program's. Changed: 128 of scikit-learn's "
              "8x8 digits, flattened and scaled to [0, 1] as read_data_sets gives MNIST, for batches of 100 MNIST "
              "images; the accuracy op, the evaluation on the test set (whose labels needed the same argmax) and "
              "the saver are left out. expected: labels-not-class-indices's fix (one whole number per sample from "
              "0 to K - 1) is SFData's repair."),
    case("fourteenth_keras_vgglike_four_softmax_units_two_classes", "keras", "output width / labels",
         SO + "62643682",
         "A VGG-like CNN ends in a 4-way softmax under categorical cross-entropy while its labels are one-hot over "
         "2 classes, so the loss gets targets of shape (n, 2) for outputs of shape (n, 4).",
         "Make the output layer as wide as the number of classes, Dense(2, activation='softmax').",
         {"output-width-mismatch"}, _build_keras_vgglike_four_softmax_units_two_classes,
         note="SFData s62643682_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible, "
              "repair pattern Model Output Shape (ValueError: a target array of shape (10, 2) for an output of shape "
              "(None, 4) with categorical_crossentropy). Kept: the functional model on Input((29, 29, 1)): three "
              "blocks of Conv2D 3x3 (16, 16, 32 filters) + LeakyReLU(0.1) + MaxPool2D 2x2, Flatten, Dense(64) + "
              "ReLU twice, the softmax output (4 units buggy, 2 fixed), categorical cross-entropy, Adam at the "
              "context's learning rate 0.01, one-hot labels over 2 classes as in SFData's context. Changed: 128 of "
              "scikit-learn's 8x8 digits, each pixel repeated 3x3 (24x24, pixels / 16) and padded with zeros to "
              "29x29, with the label digit < 5, for the context's random images and random labels (the post does "
              "not show its data); the learning-rate schedule, checkpoint callback and accuracy metric are left out. "
              "Keras 3 raises at the loss (target and output shapes differ) at the first training step. expected: "
              "output-width-mismatch's fix (make the last layer as wide as the number of classes) is SFData's "
              "repair; target-shape-broadcast's fix would change the targets instead, so it is not listed."),
    case("fourteenth_keras_float16_conv1d_dense_without_flatten", "keras", "missing flatten",
         SO + "62300118",
         "A 1-D signal classifier puts Dense layers straight after a Conv1D, so they act on every step of the "
         "(steps, filters) feature maps and the softmax output is (batch, steps, 23) against one-hot targets of "
         "(batch, 23), and the loss fails at the first step.",
         "Put a Flatten layer between the Conv1D and the first Dense layer.",
         {"missing-flatten"}, _build_keras_float16_conv1d_dense_without_flatten,
         note="SFData s62300118_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible, "
              "repair pattern Add Flatten Layer (ValueError: a target array of shape (10, 23) for an output of shape "
              "(None, 826, 23) with categorical_crossentropy). Kept: Conv1D(kernel_size=3) on (steps, 1) inputs, "
              "Dense(256, relu), Dropout(0.2), Dense(23, softmax), categorical cross-entropy against one-hot "
              "targets over 23 classes, 'adam' (Adam at its defaults). Changed: the program's data are all zeros "
              "(np.zeros for X and y), which nothing can learn, so 128 synthetic signals of 64 steps x 1 value (a "
              "sine of c + 1 cycles with a random phase and a little noise for class c) stand for its 828-step "
              "series; 64 filters instead of 512 (shared CPU: 512 filters on a flattened series would make a Dense "
              "layer of millions of weights); set_floatx('float16') and the layers' float16 dtype are dropped "
              "(precision has nothing to do with the shape fault). Keras 3 raises at the loss (target and output "
              "ranks differ) at the first training step. expected: missing-flatten (a Dense layer receives feature "
              "maps; put a Flatten between the convolution and the first Dense) is SFData's repair."),
    case("fourteenth_keras_animals_cnn_dense_without_flatten", "keras", "missing flatten",
         SO + "62299824",
         "An image CNN goes from its last max pooling straight to Dense layers with no Flatten, so the Dense layers "
         "act on every position of the feature maps and the softmax output is (batch, rows, cols, classes) against "
         "one-hot targets of (batch, classes), and the loss fails at the first step.",
         "Add a Flatten layer after the last pooling layer, before the first Dense layer.",
         {"missing-flatten"}, _build_keras_animals_cnn_dense_without_flatten,
         note="SFData s62299824_original.py, _context.py, _ground_truth.py; fault type Adjacent Layer Incompatible, "
              "repair pattern Add Flatten Layer (ValueError: a target array of shape (6, 2) for an output of shape "
              "(None, 15, 15, 2) with categorical_crossentropy). Kept: Conv2D(32, kernel 2, relu) with the declared "
              "image input, MaxPool2D(2, strides 2), a second Conv2D(32, 2, relu) and MaxPool2D, Dense(128, relu), "
              "Dense(2, softmax) (SFData's context has 2 classes; the poster's program 3), categorical cross-entropy "
              "against one-hot labels (class_mode='categorical'), 'adam' (Adam at its defaults). Changed: 128 of "
              "scikit-learn's 8x8 digits, each pixel repeated 2x2 into 16x16 and copied into 3 channels (pixels / "
              "16, as rescale=1/255), label digit < 5, for the 64x64x3 animal pictures read from folders; so the "
              "buggy output is (batch, 3, 3, 2) rather than (batch, 15, 15, 2); the augmentation and the test "
              "generator are left out. Keras 3 raises at the loss (target and output ranks differ) at the first "
              "training step. expected: missing-flatten's fix is SFData's repair."),
]
