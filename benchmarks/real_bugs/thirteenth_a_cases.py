"""Thirteenth held-out set, part a: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part a's slice) by someone who read only
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


def _digits_16x16(n=128):
    """scikit-learn's 8x8 digits, each pixel repeated 2x2 into a 16x16 image (so that two 3x3 convolutions with 2x2
    pooling after each still leave a 2x2 map, as 28x28 MNIST leaves 5x5), shape (n, 16, 16), pixel values 0..16,
    and the labels 0..9."""
    x, labels = data.digits(n)
    images = np.stack([np.kron(img.reshape(8, 8), np.ones((2, 2), dtype=np.float32)) for img in x])
    return images.astype(np.float32), labels


# --- entry 1: MNIST images without a channel axis fed to a Conv2D stack (SFData s63279168) ---------------------

def _build_keras_mnist_cnn_missing_channel_axis(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digits_16x16()
    x = images * (255.0 / 16.0)  # the program feeds raw pixel values (0..255), unscaled
    if not buggy:
        x = np.expand_dims(x, -1)  # SFData's repair: add the channel axis, (n, 16, 16) -> (n, 16, 16, 1)
    y = data.one_hot(labels, 10)
    # as in the program, the model declares no input shape: it takes its shape from the first batch, so the buggy
    # twin's (n, 16, 16) batch reaches the first Conv2D with three axes
    model = keras.Sequential([
        L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
    return model, x.astype(np.float32), y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 3: flat 784-pixel rows fed to a CNN declared for (28, 28, 1) (SFData s63141076) ---------------------

def _build_keras_flat_pixels_into_conv_input(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digits_16x16()
    images = images / 16.0  # the tutorial reader gives pixels in [0, 1]
    # the bug: the reader returns each image as one flat row, (n, 256) here as (55000, 784) in the program;
    # SFData's repair: reshape to (n, 16, 16, 1) before fit
    x = images.reshape(len(images), -1) if buggy else images.reshape(len(images), 16, 16, 1)
    model = _sequential(keras, (16, 16, 1), [
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")])
    return model, x.astype(np.float32), labels, "sparse_categorical_crossentropy", keras.optimizers.Adam()


# --- entry 4: class indices fed where one-hot rows of 1161 classes are expected (SFData s44890067) -------------

def _build_keras_integer_labels_for_one_hot_loss(buggy, n=10, n_inputs=5000, n_classes=1161):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.random((n, n_inputs)).astype(np.float32)  # the program's random features
    labels = rng.integers(0, n_classes, n)
    # the bug: the labels stay class indices, shape (n,); SFData's repair: one-hot rows, shape (n, 1161)
    y = labels.astype(np.int64) if buggy else data.one_hot(labels, n_classes)
    normal = keras.initializers.RandomNormal(stddev=1.0)  # tf.random_normal, as the program's variables
    model = _sequential(keras, (n_inputs,), [
        L.Dense(256, activation="relu", kernel_initializer=normal, bias_initializer=normal),
        L.Dropout(0.3),  # keep_prob 0.7
        L.Dense(n_classes, activation="relu", kernel_initializer=normal, bias_initializer=normal),
        L.Dropout(0.3)])
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)  # softmax_cross_entropy_with_logits
    return model, x, y, loss, keras.optimizers.SGD(learning_rate=0.001)


# --- entry 5: a sonar classifier declared for 33 inputs and 122 classes, fed 60 features and 0/1 labels ---------
#     (SFData s42492824)

def _build_keras_sonar_input_and_output_widths(buggy, n=208):
    keras = _keras()
    L = keras.layers
    x, labels = data.binary_blobs(n, features=60)  # sonar's 208 rows of 60 features, two classes
    x = data.standardise(x)  # the program's pipeline standardises the features
    labels = labels.astype(np.int64)  # LabelEncoder's 0/1
    if buggy:
        # the bug: input declared as 33 features, a 122-unit softmax output, and the labels left as 0/1 integers
        inputs, width, y = 33, 122, labels
    else:
        # SFData's repair: input of 60 features, a 2-unit softmax output, one-hot labels
        inputs, width, y = 60, 2, data.one_hot(labels, 2)
    model = _sequential(keras, (inputs,), [
        L.Dropout(0.2), L.Dense(33, activation="relu"), L.Dense(16, activation="relu"),
        L.Dense(width, activation="softmax")])
    optimizer = keras.optimizers.SGD(learning_rate=0.1, momentum=0.8)
    return model, x, y, "categorical_crossentropy", optimizer


# --- entry 6: Dense(50) straight after a convolution, no Flatten (SFData s38584268) -----------------------------

def _build_keras_conv_dense_without_flatten(buggy, n=32, classes=50):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.random((n, 100, 100, 3)).astype(np.float32)  # the program's random 100x100 RGB images
    y = data.one_hot(rng.integers(0, classes, n), classes)
    # tf.keras reads the program's Convolution2D(15, 7, 7) as 15 filters, kernel 7, strides 7 (and (250, 5, 5) as
    # kernel 5, strides 5): 100x100 -> 14x14 -> 7x7 -> 1x1x250
    layers = [L.Conv2D(15, 7, strides=7, activation="relu"), L.MaxPooling2D((2, 2)),
              L.Conv2D(250, 5, strides=5, activation="relu")]
    if not buggy:
        layers.append(L.Flatten())  # SFData's repair
    # the bug: without Flatten, Dense acts on each position: output (n, 1, 1, 50). The context's Dense(50) has no
    # activation, under which even the repaired program cannot learn (see the note); both twins get a softmax
    layers.append(L.Dense(50, activation="softmax"))
    model = _sequential(keras, (100, 100, 3), layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 7: a Dense input declared with the whole data array's shape (SFData s58963889) -----------------------

def _build_keras_input_shape_from_data_array(buggy, n=128):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.uniform(-np.pi, np.pi, n).astype(np.float32)  # one column of x values read from a CSV: shape (n,)
    y = np.sin(x).astype(np.float32)  # and y = sin(x), shape (n,)
    # the bug: input_shape=x.shape, the whole array's shape (batch included); SFData's repair: input_shape=(1,)
    model = _sequential(keras, x.shape if buggy else (1,), [
        L.Dense(7, activation="relu"), L.Dense(4, activation="relu"), L.Dense(1)])
    return model, x, y, "mean_squared_error", keras.optimizers.Adam()


# --- entry 8: class indices fed where one-hot rows are expected, softmax regression (SFData s49065312) ----------

def _digits_22x22(n=50):
    """The first ``n`` digits, resized from 8x8 to 22x22 (bilinear) and flattened to 484 values in [0, 1], as the
    program resizes 28x28 MNIST to 22x22; and their labels."""
    from scipy.ndimage import zoom

    x, labels = data.digits(n)
    images = np.stack([zoom(img.reshape(8, 8) / 16.0, 22 / 8, order=1) for img in x])
    return np.clip(images, 0.0, 1.0).reshape(n, 484).astype(np.float32), labels


def _build_keras_softmax_regression_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digits_22x22()  # one batch of 50, the program's batch size
    # the bug: the reader's labels are class indices, shape (50,), fed where (50, 10) one-hot rows are expected;
    # SFData's repair: one-hot them
    y = labels if buggy else data.one_hot(labels, 10)
    normal = keras.initializers.RandomNormal(stddev=1.0)  # tf.random_normal_initializer()
    model = _sequential(keras, (484,), [
        L.Dense(10, activation="softmax", kernel_initializer=normal, bias_initializer=normal)])
    return model, x, y, "categorical_crossentropy", keras.optimizers.SGD(learning_rate=0.2)


# --- entry 9: a steering-angle regressor with a 4-unit output for one target per image (SFData s42235611) -------

def _road_images(n=128, rows=20, cols=40):
    """Synthetic dashboard images, 0..255: dim noise with one bright vertical lane line; the target is the line's
    horizontal offset from the centre, in [-1, 1] (a steering angle), one float per image, shape (n,)."""
    rng = _rng()
    x = rng.uniform(0, 80, (n, rows, cols, 3))
    col = rng.integers(8, cols - 8, n)  # inside the columns the cropping keeps
    for i, c in enumerate(col):
        x[i, :, c - 1:c + 2, :] = 255.0
    y = (col - cols / 2) / (cols / 2 - 8)
    return x.astype(np.float32), y.astype(np.float32)


def _build_keras_steering_regression_four_outputs(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _road_images()
    model = _sequential(keras, (20, 40, 3), [
        L.Cropping2D(cropping=((0, 0), (6, 3))),  # the program's ((0, 0), (50, 20)) on 320 columns, scaled by 1/8
        L.Lambda(lambda t: t / 127.5 - 1.0),
        L.Conv2D(32, 3), L.Activation("relu"),
        L.Conv2D(32, 3), L.Activation("relu"),
        L.Flatten(), L.Dense(128), L.Activation("relu"),
        # the bug: four output units for one steering value per image; SFData's repair: Dense(1)
        L.Dense(4 if buggy else 1)])
    return model, x, y, "mse", keras.optimizers.Adam()


# --- entry 10: an LSTM declared with input_shape=(look_back,), no feature axis (SFData s42532386) ----------------

def _series_windows(n=128, look_back=3, features=3):
    """A 3-feature daily series (two seasonal cycles and a trend, with noise), min-max scaled to [0, 1], cut into
    windows of ``look_back`` steps of all features; the target is feature 2 on the step after the window."""
    rng = _rng()
    t = np.arange(n + look_back + 1, dtype=np.float64)
    series = np.stack([np.sin(2 * np.pi * t / 7), np.cos(2 * np.pi * t / 30), 0.5 * np.sin(2 * np.pi * t / 7 + 1)
                       + 0.3 * np.cos(2 * np.pi * t / 30) + 0.002 * t], axis=1)
    series += rng.normal(0, 0.05, series.shape)
    series = (series - series.min(axis=0)) / (series.max(axis=0) - series.min(axis=0))
    x = np.stack([series[i:i + look_back] for i in range(n)])
    y = series[look_back:look_back + n, 2]
    return x.astype(np.float32), y.astype(np.float32)


def _build_keras_lstm_input_shape_without_features(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _series_windows()  # (n, 3, 3): samples, time steps, features
    if buggy:
        # the bug: the LSTM's input declared as (look_back,), with no feature axis. tf.keras refused it when the
        # layer was added; Keras 3 refuses it when the model is built, so the layers are added without building,
        # and the model meets the declared shape at its first call (the first training step)
        model = keras.Sequential()
        model.add(keras.Input(shape=(3,)), rebuild=False)
        model.add(L.LSTM(4), rebuild=False)
        model.add(L.Dense(1), rebuild=False)
    else:
        model = _sequential(keras, (3, 3), [L.LSTM(4), L.Dense(1)])  # SFData's repair: input_shape=(look_back, 3)
    return model, x, y, "mean_squared_error", keras.optimizers.Adam()


CASES = [
    case("thirteenth_keras_mnist_cnn_missing_channel_axis", "keras", "data / input layout",
         "https://stackoverflow.com/questions/63279168",
         "Grayscale images of shape (n, 28, 28), with no channel axis, are fed to a Sequential CNN whose first layer is "
         "a Conv2D, so the first training step fails because the convolution needs four axes and gets three.",
         "Add a trailing channel axis to the images (np.expand_dims(x, -1), giving (n, 28, 28, 1)) and cast them to "
         "float32 before fitting.",
         {"input-layout"}, _build_keras_mnist_cnn_missing_channel_axis,
         note="SFData s63279168_original.py / _context.py / _ground_truth.py, fault type Feature Input Incompatible "
              "(repair: feature data shape; ValueError, expected ndim=4, found ndim=3). Kept: the model (Conv2D 16 "
              "3x3 ReLU, 2x2 max-pooling, Conv2D 32 3x3 ReLU, 2x2 max-pooling, Flatten, Dense 64 ReLU, Dense 10 "
              "softmax) declared without an input shape, categorical cross-entropy on one-hot labels (the context's "
              "np.eye), Adam, and unscaled pixel values (the repair only adds the axis and casts). Changed: 128 of "
              "scikit-learn's 8x8 digits, each pixel repeated 2x2 into 16x16 images (so the two conv/pool stages "
              "still leave a 2x2 map), pixel values rescaled from 0..16 to 0..255 like MNIST's, instead of 60000 "
              "28x28 MNIST images. Translated from tf.keras 2 to Keras 3; the buggy twin's error comes at the first "
              "forward pass, as in the program. expected: input-layout's fix names (batch, height, width, channels) "
              "for Keras convolutions, which is SFData's repair."),
    case("thirteenth_keras_flat_pixels_into_conv_input", "keras", "data / input layout",
         "https://stackoverflow.com/questions/63141076",
         "A CNN declared with input_shape=(28, 28, 1) is fitted on images that the data reader returns as flat rows "
         "of 784 pixels, so the first training step fails because the input has two axes where four are expected.",
         "Reshape the images to (n, 28, 28, 1) before fitting.",
         {"input-layout"}, _build_keras_flat_pixels_into_conv_input,
         note="SFData s63141076_original.py / _context.py / _ground_truth.py, fault type Feature Input Incompatible "
              "(repair: feature data shape; ValueError, expected conv2d_input to have 4 dimensions, got (55000, "
              "784)). The poster's program loads Fashion-MNIST as (n, 28, 28); SFData's context (whose error and "
              "repair are the fix of record) reads MNIST with TensorFlow 1's tutorial reader, which gives flat rows "
              "in [0, 1] and class indices, and that is what was rebuilt. Kept: Conv2D 64 3x3 ReLU, 2x2 max-pooling, "
              "Conv2D 64 3x3 ReLU, 2x2 max-pooling, Flatten, Dense 128 ReLU, Dense 10 softmax, sparse categorical "
              "cross-entropy, Adam. Changed: 128 of scikit-learn's digits, pixels / 16, each repeated 2x2 into "
              "16x16 images, so the flat rows have 256 values and the model is declared for (16, 16, 1). "
              "Translated from tf.keras 2 to Keras 3."),
    case("thirteenth_keras_integer_labels_for_one_hot_loss", "keras", "targets / label shape",
         "https://stackoverflow.com/questions/44890067",
         "A two-layer network over 1161 classes, trained with softmax cross-entropy on logits, is given its labels "
         "as one class index per sample, shape (n,), where the loss needs one-hot rows of shape (n, 1161), so the "
         "first training step fails.",
         "One-hot encode the labels (np.eye(1161)[labels]) before feeding them.",
         {"target-shape-broadcast"}, _build_keras_integer_labels_for_one_hot_loss,
         note="SFData s44890067_original.py / _context.py / _ground_truth.py, TensorFlow, fault type Label Output "
              "Incompatible (repair: label data shape; ValueError, cannot feed value of shape (10,) for a "
              "placeholder of shape (?, 1161)). TensorFlow 1 rebuilt in Keras 3 with the same shapes: the labels "
              "placeholder (None, 1161) becomes the loss's target, so the feed-time shape check becomes the "
              "categorical cross-entropy's shape check at the first step; the mechanism (class indices where one-hot "
              "rows are expected, at the loss) survives. Kept: 5000 uniform random features and random labels over "
              "1161 classes as in the context, matmul+bias layers as Dense layers with tf.random_normal (stddev 1) "
              "weights and biases, ReLU on the hidden layer and on the logits, dropout with keep_prob 0.7 after "
              "both, softmax cross-entropy on logits (from_logits=True), plain gradient descent at 0.001, and one "
              "batch of 10 rows, the context's train_n and batch size. (With the poster's batch size of 128 "
              "random-label rows the fixed twin's loss fell from 2526 to 9 in 1000 steps while its training "
              "accuracy stayed near chance: the ReLU on the logits and the stddev-1 weights, which SFData's repair "
              "keeps and so does the rebuild, make that batch too hard; on the context's 10 rows it memorises.) "
              "expected is a judgement call: "
              "target-shape-broadcast's fix (give the targets the output's shape) is the one-hot repair; no code "
              "names one-hot labels directly, and labels-not-class-indices points the other way."),
    case("thirteenth_keras_sonar_input_and_output_widths", "keras", "model / input and output widths",
         "https://stackoverflow.com/questions/42492824",
         "A sonar classifier with 60 features and two classes is declared with an input of 33 features and a "
         "122-unit softmax output and trained with categorical cross-entropy on 0/1 integer labels, so the first "
         "training step fails at the input.",
         "Declare the input as 60 features, make the softmax output 2 units wide and one-hot encode the labels.",
         {"layer-size-mismatch", "output-width-mismatch", "target-shape-broadcast"},
         _build_keras_sonar_input_and_output_widths,
         note="SFData s42492824 (ICSE2020), _original.py / _context.py / _ground_truth.py, fault types Label Output "
              "Incompatible and Feature Input Incompatible (repair: label data shape, model input shape, model "
              "output shape; ValueError, expected dropout_input to have shape (33,) but got (60,)). Kept: Dropout "
              "0.2 on the input, Dense 33 ReLU, Dense 16 ReLU, softmax output, categorical cross-entropy, SGD at "
              "0.1 with momentum 0.8, standardised inputs (the program's StandardScaler step). The context (SFData's "
              "program of record) drops the original's init='normal' and maxnorm(3) constraints; so does the "
              "rebuild. Changed: the Sonar CSV is not bundled, so 208 rows of 60 features and two classes come from "
              "make_classification (data.binary_blobs), standardised; the KerasClassifier/cross-validation wrapper "
              "is left out (training code). Translated from Keras 1 to Keras 3 (SGD(lr=...) -> learning_rate). The "
              "buggy twin stops at the input width first, as the program did. expected is a judgement call over a "
              "three-part repair: layer-size-mismatch (declare the input from the shape it receives), "
              "output-width-mismatch (make the last layer as wide as the number of classes) and "
              "target-shape-broadcast (give the targets the output's shape: the one-hot part)."),
    case("thirteenth_keras_conv_dense_without_flatten", "keras", "model / missing Flatten",
         "https://stackoverflow.com/questions/38584268",
         "A Dense(50) layer is placed straight after the last convolution, whose output is a 1x1x250 map, so the "
         "model's output is (n, 1, 1, 50) while the one-hot targets are (n, 50), and the loss fails at the first "
         "step.",
         "Add a Flatten layer between the last convolution and the Dense layer.",
         {"missing-flatten"}, _build_keras_conv_dense_without_flatten,
         note="SFData s38584268 (ICSE2020), _original.py / _context.py / _ground_truth.py, fault type Adjacent Layer "
              "Incompatible (repair: add Flatten layer; ValueError, a target of shape (10, 50) for an output of "
              "shape (None, 1, 1, 50)). Kept: the context's model as tf.keras reads it: Convolution2D(15, 7, 7) is "
              "15 filters of kernel 7 with strides 7, MaxPooling 2x2, Convolution2D(250, 5, 5) is kernel 5 with "
              "strides 5, so 100x100x3 images reach Dense(50) as a 1x1x250 map, the output shape in SFData's error; "
              "categorical cross-entropy, Adam; random 100x100x3 images with random labels over 50 classes, as in the "
              "context. (The poster's Keras 1 program meant 7x7 and 5x5 kernels with 'same' padding; the context "
              "and its error are the record.) Changed: 32 rows instead of 10; and a judgement call: the context's "
              "last layer is Dense(50) without an activation, so categorical cross-entropy gets unnormalised "
              "scores and even SFData's repaired program cannot learn (plain training of it on the context's 10 "
              "rows: loss 8.96 -> 16.1, stuck, training accuracy 0.2); the poster's fragment elides the layers "
              "after this F6 layer of a LeNet, so both twins give Dense(50) a softmax. The missing Flatten, its "
              "place and the shapes are unchanged. "
              "Translated from tf.keras 2 to Keras 3 (Convolution2D -> Conv2D with explicit strides); in Keras 3 the "
              "error is a rank mismatch at the loss, the same place."),
    case("thirteenth_keras_input_shape_from_data_array", "keras", "model / declared input shape",
         "https://stackoverflow.com/questions/58963889",
         "A small regression network for y = sin(x) declares its Dense input with input_shape=x.shape, the shape of "
         "the whole data array (the number of samples), instead of one feature per sample, so the first training "
         "step fails because the inputs do not match the declared shape.",
         "Declare the first layer with input_shape=(1,), one feature per sample.",
         {"input-layout", "layer-size-mismatch"}, _build_keras_input_shape_from_data_array,
         note="SFData s58963889_original.py / _context.py / _ground_truth.py, fault type Feature Input Incompatible "
              "(repair: model input shape; ValueError, expected dense_input to have 3 dimensions, got (7, 1)). "
              "Kept: Dense 7 ReLU, Dense 4 ReLU, Dense 1, mean squared error, Adam; input_shape=x.shape in the "
              "buggy twin, (1,) in the fixed one. Changed: SFData's context feeds x of shape (7, 1), which makes the "
              "declared input (7, 1); Keras 3 silently inserts an axis for such an input and trains, so that form "
              "shows no failure here. The poster's own program reads x and y as one CSV column each, shape (n,), "
              "so the declared input is (n,); that form was rebuilt, and Keras 3 rejects it at the first step. "
              "Data: 128 x values uniform in [-pi, pi] and y = sin(x), both of shape (n,) as the poster's columns "
              "(the CSV is not available). Translated from tf.keras 2 to Keras 3. expected: input-layout (the "
              "inputs do not fit the layout the model was declared for; (batch, features) for Dense layers) and "
              "layer-size-mismatch (size the first layer from the shape it really receives)."),
    case("thirteenth_keras_softmax_regression_integer_labels", "keras", "targets / label shape",
         "https://stackoverflow.com/questions/49065312",
         "A softmax regression over 22x22 resized digit images expects one-hot labels of shape (batch, 10) but is "
         "fed the reader's class indices, shape (batch,), so the first training step fails.",
         "One-hot encode the batch's labels (np.eye(10)[labels]) before feeding them.",
         {"target-shape-broadcast"}, _build_keras_softmax_regression_integer_labels,
         note="SFData s49065312_original.py / _context.py / _ground_truth.py, TensorFlow, fault type Label Output "
              "Incompatible (repair: label data shape; ValueError, cannot feed value of shape (50,) for a "
              "placeholder of shape (?, 10)). TensorFlow 1 rebuilt in Keras 3 with the same shapes: x (None, 484) "
              "-> softmax(xW + b) with tf.random_normal_initializer (stddev 1) weights and bias, the labels "
              "placeholder (None, 10) becomes the loss's target, and the hand-written -sum(y_ * log(y)) becomes "
              "categorical cross-entropy (which also checks the target's shape, so the feed-time error becomes an "
              "error at the loss); gradient descent at 0.2, one batch of 50. Changed: the first 50 of "
              "scikit-learn's 8x8 digits, pixels / 16, resized to 22x22 with bilinear zoom (as the program resizes "
              "28x28 MNIST to 22x22), flattened to 484. The program also opens a new session per step (a separate "
              "bug, not SFData's fix; left out). expected is a judgement call, as for the other one-hot case: "
              "target-shape-broadcast's fix gives the targets the output's shape."),
    case("thirteenth_keras_steering_regression_four_outputs", "keras", "model / output width",
         "https://stackoverflow.com/questions/42235611",
         "A CNN that predicts one steering angle per camera image ends in Dense(4), so its output has four columns "
         "for one target per image and the mean squared error fails at the first step.",
         "Make the last layer Dense(1), one output for the one target.",
         {"output-width-mismatch"}, _build_keras_steering_regression_four_outputs,
         note="SFData s42235611_original.py / _context.py / _ground_truth.py, fault type Label Output Incompatible "
              "(repair: model output shape; ValueError, a target of shape (100, 1) for an output of shape (None, "
              "4)). Kept: Cropping2D of columns, a Lambda scaling x / 127.5 - 1, two 3x3 Conv2D of 32 with ReLU, "
              "Flatten, Dense 128 ReLU, Dense 4 (fixed: Dense 1), mean squared error, Adam, targets of shape (n,) "
              "as in the context. Changed: 160x320x3 images scaled down by 8 to 20x40x3 (the program's Flatten "
              "gives 869632 features and a 111M-weight Dense layer), cropping (50, 20) columns scaled to (6, 3); "
              "SFData's random images and targets replaced by 128 synthetic images with a bright lane line whose "
              "offset from the centre is the target in [-1, 1], so the fixed twin has something to learn. "
              "Translated from Keras 1 to Keras 3 (Convolution2D(32, 3, 3) with Keras 1's meaning, a 3x3 kernel). "
              "In Keras 3 the (n,) targets against the (n, 4) output give a shape error in the loss's subtraction "
              "at the first step, as Keras 2's target check did before it."),
    case("thirteenth_keras_lstm_input_shape_without_features", "keras", "model / declared input shape",
         "https://stackoverflow.com/questions/42532386",
         "An LSTM for windows of 3 time steps x 3 features is declared with input_shape=(look_back,), a shape with "
         "no feature axis, so the recurrent layer cannot be built for its input and the model cannot be trained.",
         "Declare the LSTM's input as input_shape=(look_back, 3): time steps and features.",
         {"layer-size-mismatch", "input-layout"}, _build_keras_lstm_input_shape_without_features,
         note="SFData s42532386 (ICSE2020), _original.py / _context.py / _ground_truth.py, fault type Feature Input "
              "Incompatible (repair: model input shape; ValueError, input 0 of layer lstm: expected ndim=3, found "
              "ndim=2, full shape (None, 3)). Kept: LSTM(4) -> Dense(1), mean squared error, Adam, windows of "
              "look_back = 3 steps of 3 features scaled to [0, 1], target of shape (n,). Changed: the poster's "
              "water-consumption CSV is not available and SFData's context uses random numbers, so a 3-feature "
              "synthetic daily series (weekly and monthly cycles, a trend, noise) is min-max scaled and cut into "
              "128 windows, the target being feature 2 on the next day. Translated from Keras 1 / tf.keras 2 to "
              "Keras 3. Judgement call on where it fails: tf.keras raised when the layer was added, before fit; "
              "Keras 3 raises at construction too, which a builder cannot return, so the buggy twin's layers are "
              "added with rebuild=False and the declared (None, 3) input meets the (n, 3, 3) batch at the first "
              "call, where Keras 3 raises a ValueError about the declared input shape. expected: "
              "layer-size-mismatch's fix (keras.Input with x's shape) is SFData's repair; input-layout names "
              "(batch, time, features) for recurrent layers."),
]
