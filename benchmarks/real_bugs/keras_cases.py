"""Keras cases: each ``_build_*(buggy)`` returns (model, x, y, loss, optimizer) for one twin.

Keras is imported inside the builders, so that listing or running only the
PyTorch cases never imports TensorFlow.
"""
from __future__ import annotations

import numpy as np

from . import case, data

AUTOTRAINER = "https://github.com/shiningrain/AUTOTRAINER/blob/master/AutoTrainer/demo_case/"


def _keras(seed: int = 0):
    from course_utils.repro import import_tensorflow

    import_tensorflow()  # quietly: TensorFlow's start-up notices would land in the middle of the table
    import keras

    keras.utils.set_random_seed(seed)
    return keras


def _sequential(keras, input_shape, layers):
    return keras.Sequential([keras.Input(input_shape), *layers])


def _build_one_unit_softmax_conv1d(buggy):
    keras = _keras()
    L = keras.layers
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 10, 4)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1, keepdims=True) > 0).astype(np.float32)  # (n, 1), as in the post
    blocks = [L.Conv1D(16, 4, padding="same"), L.BatchNormalization(), L.LeakyReLU(),
              L.Conv1D(8, 4, padding="same"), L.BatchNormalization(), L.LeakyReLU(), L.Flatten(),
              L.Dense(64), L.BatchNormalization(), L.LeakyReLU(),
              L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    return _sequential(keras, (10, 4), blocks), x, y, "binary_crossentropy", keras.optimizers.Adam()


def _build_one_unit_softmax_cnn(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    x = (x / 16.0).reshape(-1, 8, 8, 1)
    y = (labels < 5).astype(np.float32).reshape(-1, 1)  # (n, 1), as in the post
    blocks = [L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
              L.Conv2D(32, 3, padding="same", activation="relu"), L.Flatten(),
              L.Dense(64, activation="relu"), L.Dropout(0.2),
              L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    return _sequential(keras, (8, 8, 1), blocks), x, y, "binary_crossentropy", keras.optimizers.Adam()


def _build_multilabel_softmax(buggy):
    keras = _keras()
    L = keras.layers
    x, y = data.multilabel(128, features=20, labels=5)
    head = L.Dense(5, activation="softmax" if buggy else "sigmoid")
    model = _sequential(keras, (20,), [L.Dense(64, activation="relu"), L.Dense(32, activation="relu"), head])
    loss = "categorical_crossentropy" if buggy else "binary_crossentropy"
    return model, x, y, loss, keras.optimizers.Adam(1e-2)


def _build_sigmoid_into_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.wine(128)
    head = L.Dense(3, activation="sigmoid" if buggy else "softmax")
    model = _sequential(keras, (13,), [L.Dense(32, activation="relu"), head])
    return model, data.standardise(x), data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _advertising_like(n=64):
    """One feature in the hundreds (spend) and a target in the tens (sales): a straight line with noise."""
    rng = np.random.default_rng(0)
    spend = rng.uniform(0, 300, n).astype(np.float32)
    sales = (0.05 * spend + 7 + rng.normal(0, 1.5, n)).astype(np.float32)
    return spend.reshape(-1, 1), sales


def _build_unscaled_linear_regression(buggy):
    keras = _keras()
    x, y = _advertising_like()
    if not buggy:
        x, y = data.standardise(x), data.standardise(y.reshape(-1, 1)).ravel()
    model = _sequential(keras, (1,), [keras.layers.Dense(1)])
    return model, x, y, "mse", keras.optimizers.SGD(0.01)


def _build_relu_output_negative_targets(buggy):
    keras = _keras()
    L = keras.layers
    x = np.linspace(-1, 5, 16, dtype=np.float32).reshape(-1, 1)
    y = 2 * x - 1
    layers = [L.Dense(4, activation="relu"), L.Dense(2, activation="relu"),
              L.Dense(1, activation="relu" if buggy else None)]
    return _sequential(keras, (1,), layers), x, y, keras.losses.MeanSquaredError(), keras.optimizers.Adam(1e-3)


def _build_sigmoid_output_targets_above_one(buggy):
    keras = _keras()
    L = keras.layers
    x = np.tile(np.array([[1, 2, 3]], dtype=np.float32), (16, 1))
    layers = [L.Dense(3, activation="relu"), L.Dense(3, activation="sigmoid" if buggy else None)]
    # Keras 2's Adadelta, which the thread used, defaulted to a learning rate of 1.0
    return _sequential(keras, (3,), layers), x, x.copy(), "mse", keras.optimizers.Adadelta(1.0)


def _build_unscaled_pixels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    pixels = x.reshape(-1, 8, 8, 1) * (255.0 / 16.0)
    x = pixels if buggy else pixels / 255.0
    layers = [L.Conv2D(16, 3, activation="relu", kernel_initializer="he_uniform"), L.MaxPooling2D(2), L.Dropout(0.25),
              L.Flatten(), L.Dense(64, activation="relu", kernel_initializer="he_uniform"), L.Dropout(0.25),
              L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _dense_stack(L, width, depth, activation, initializer):
    return [L.Dense(width, activation=activation, kernel_initializer=initializer) for _ in range(depth)]


def _build_relu_output_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.blobs(128, classes=3)
    head = L.Dense(3, activation="relu" if buggy else "softmax")
    model = _sequential(keras, (2,), _dense_stack(L, 50, 4, "relu", "he_uniform") + [head])
    return model, data.standardise(x), data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.Adam(1e-4)


def _build_double_softmax_mse(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.blobs(128, classes=3)
    head = [L.Dense(3, activation="softmax")] + ([L.Softmax()] if buggy else [])
    model = _sequential(keras, (2,), _dense_stack(L, 50, 4, "relu", "he_uniform") + head)
    loss = "mean_squared_error" if buggy else "categorical_crossentropy"
    return model, data.standardise(x), data.one_hot(labels, 3), loss, keras.optimizers.Adam(1e-4)


def _build_deep_sigmoid(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.blobs(128, classes=3)
    activation, initializer = ("sigmoid", "glorot_uniform") if buggy else ("relu", "he_uniform")
    hidden = _dense_stack(L, 32, 8, activation, initializer)
    model = _sequential(keras, (2,), hidden + [L.Dense(3, activation="softmax")])
    return model, data.standardise(x), labels, "sparse_categorical_crossentropy", keras.optimizers.SGD(0.01)


def _build_sgd_lr_far_too_high(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.wine(128)
    model = _sequential(keras, (13,), [L.Dense(64, activation="relu"), L.Dense(3, activation="softmax")])
    optimizer = keras.optimizers.SGD(10.0) if buggy else keras.optimizers.Adam()
    return model, data.standardise(x), labels, "sparse_categorical_crossentropy", optimizer


def _build_adam_lr_0_1_keypoints(buggy):
    keras = _keras()
    L = keras.layers
    x, _ = data.digits(128)
    x = x / 16.0
    projection = np.random.default_rng(1).normal(size=(64, 30)).astype(np.float32) / 4
    y = np.tanh(x @ projection).astype(np.float32)  # 30 coordinates in [-1, 1], like scaled keypoints
    model = _sequential(keras, (64,), [L.Dense(100, activation="relu"), L.Dense(30)])
    optimizer = (keras.optimizers.Adam(0.1) if buggy else
                 keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True, clipnorm=1.0))
    return model, x, y, "mean_squared_error", optimizer


def _build_batchnorm_batch_of_one(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.iris(120)
    rows = 1 if buggy else 32
    layers = [L.Dense(16), L.BatchNormalization(), L.Activation("relu"), L.Dense(3, activation="softmax")]
    model = _sequential(keras, (4,), layers)
    x = data.standardise(x)[:rows]
    return model, x, labels[:rows], "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _build_frozen_model(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.iris(120)
    model = _sequential(keras, (4,), [L.Dense(16, activation="relu"), L.Dense(3, activation="softmax")])
    model.trainable = not buggy
    return model, data.standardise(x), labels, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _averages(n=128):
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 101, size=(n, 2)).astype(np.float32)
    return pairs / 100, pairs.mean(axis=1) / 100


def _build_missing_hidden_layer(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _averages()
    middle = [] if buggy else [L.Dense(2, activation="relu")]
    model = _sequential(keras, (2,), [L.Dense(2), *middle, L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.RMSprop()


def _build_sgd_lr_far_too_low(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    model = _sequential(keras, (64,), [L.Dense(20, activation="relu"), L.Dense(10, activation="softmax")])
    optimizer = keras.optimizers.SGD(1e-5) if buggy else keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    return model, x / 16.0, data.one_hot(labels, 10), "categorical_crossentropy", optimizer


def _build_unscaled_pixels_dense(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    pixels = x * (255.0 / 16.0)
    layers = [L.Dense(128, activation="relu"), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")]
    model = _sequential(keras, (64,), layers)
    x = pixels if buggy else pixels / 255.0
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam()


K = "keras"
CASES = [
    case("keras_one_unit_softmax_conv1d", K, "loss/output pairing",
         "https://stackoverflow.com/questions/45378493",
         "A Conv1D binary classifier ends in Dense(1) followed by softmax, so its output is 1 for every sample.",
         "Use a sigmoid on the single output unit.", {"one-unit-softmax"}, _build_one_unit_softmax_conv1d,
         note="Found through defects4ml bug 086; the post's data were uninitialised arrays, here random sequences."),
    case("keras_one_unit_softmax_cnn", K, "loss/output pairing",
         "https://stackoverflow.com/questions/58844149",
         "A binary image CNN puts a softmax on one output unit and trains it with binary cross-entropy.",
         "Use a sigmoid on the single output unit.", {"one-unit-softmax"}, _build_one_unit_softmax_cnn,
         note="Found through defects4ml bug 092; 8x8 digits (scaled to [0, 1]) stand in for 300x300 images."),
    case("keras_multilabel_softmax", K, "softmax vs multi-hot targets",
         "https://stats.stackexchange.com/questions/207794",
         "A multi-label net (several 1s per target row) ends in softmax with categorical cross-entropy.",
         "Use independent sigmoid outputs with binary cross-entropy.", {"output-cannot-reach-target"},
         _build_multilabel_softmax,
         note="The catalogue has no code for 'softmax cannot produce multi-hot rows'; output-cannot-reach-target "
              "is the mechanism."),
    case("keras_sigmoid_into_categorical", K, "sigmoid into categorical cross-entropy",
         "https://stackoverflow.com/questions/49990816",
         "A 3-class classifier uses sigmoid output units with categorical cross-entropy: its rows do not sum to one.",
         "Use a softmax output layer.", {"logits-into-probability-loss", "rows-not-probabilities"},
         _build_sigmoid_into_categorical,
         note="Written with logits-into-probability-loss, the closest code then (its fix, from_logits=True, is not "
              "this case's); rows-not-probabilities was added to the catalogue for this mechanism and to this list "
              "after the first run."),
    case("keras_unscaled_linear_regression", K, "unscaled inputs",
         "https://stats.stackexchange.com/questions/284189",
         "A one-unit linear regression on a feature in the hundreds and a target in the tens diverges to NaN with SGD.",
         "Standardise the input and the target.", {"unscaled-inputs", "exploding-gradients", "non-finite-loss"},
         _build_unscaled_linear_regression,
         note="Synthetic spend/sales data of the thread's scale; targets are rank-1 (n,), as fit accepts."),
    case("keras_relu_output_negative_targets", K, "output activation",
         "https://community.deeplearning.ai/t/loss-values-do-not-change/324182",
         "A tiny 4-2-1 net fits y = 2x - 1 with ReLU on the output, which cannot produce the negative targets.",
         "Use a linear output unit.", {"output-cannot-reach-target", "dead-relu"}, _build_relu_output_negative_targets,
         note="16 points of the thread's line instead of 7, so that checks needing 8 samples can run."),
    case("keras_sigmoid_output_targets_above_one", K, "output activation",
         "https://stackoverflow.com/questions/44601367",
         "An autoencoder reconstructs rows [1, 2, 3] through a sigmoid output, which cannot exceed 1.",
         "Use a linear output (or scale the data into [0, 1]).", {"output-cannot-reach-target"},
         _build_sigmoid_output_targets_above_one,
         note="The thread's rows are all identical; that is kept in both twins."),
    case("keras_unscaled_pixels", K, "unscaled inputs",
         AUTOTRAINER + "Data_Issue_case/demo_data.py",
         "A CNN is trained on raw 0-255 pixel values because the preprocessing step was skipped.",
         "Scale the pixels to [0, 1].", {"unscaled-inputs"}, _build_unscaled_pixels,
         note="AutoTrainer's data-issue demo (CIFAR-10); here 8x8 digits rescaled to 0-255, Dropout kept."),
    case("keras_relu_output_categorical", K, "loss/output pairing",
         AUTOTRAINER + "Improper_Activation_case/demo_activation.py",
         "A blob classifier ends in Dense(3, relu) and is trained with categorical cross-entropy.",
         "Use a softmax output layer.", {"logits-into-probability-loss"}, _build_relu_output_categorical,
         note="AutoTrainer's improper-activation demo; blobs standardised as its data module does."),
    case("keras_double_softmax_mse", K, "loss/output pairing",
         AUTOTRAINER + "Loss_Issue_Case/demo.py",
         "A blob classifier applies softmax twice and is trained with MSE at Adam 1e-4, so outputs stay near uniform.",
         "Keep one softmax and train with categorical cross-entropy.", {"output-cannot-reach-target"},
         _build_double_softmax_mse,
         note="A softmax of values in [0, 1] can never reach a one-hot row: output-cannot-reach-target is the "
              "mechanism."),
    case("keras_deep_sigmoid", K, "vanishing gradients",
         AUTOTRAINER + "Gradient_Vanish_Case/demo.py",
         "A deep stack of sigmoid Dense layers trained with SGD passes almost no gradient to its first layers.",
         "Use ReLU with He initialisation in the hidden layers.", {"vanishing-gradients"}, _build_deep_sigmoid,
         note="The demo's model is a binary .h5 file; depth and activation follow the case's name and its repair "
              "(vanish_relu)."),
    case("keras_sgd_lr_far_too_high", K, "learning rate too high",
         AUTOTRAINER + "Oscillating_Loss_Case/demo.py",
         "Training with plain SGD at a learning rate far too high makes the loss oscillate and blow up.",
         "Switch to Adam at its default learning rate (AutoTrainer's repair).", {"lr-too-high", "non-finite-loss"},
         _build_sgd_lr_far_too_high,
         note="The demo's configuration is a pickle; the rate (10) is ours, the repair (unstable_adam) is the demo's."),
    case("keras_adam_lr_0_1_keypoints", K, "learning rate too high",
         "https://github.com/ShyamPoovaiah/FacialKeypointsDetection/commit/654392560f25688822862126005f576b682e38ad",
         "A one-hidden-layer keypoint regressor is compiled with Adam at learning rate 0.1.",
         "Use SGD at 0.01 with Nesterov momentum and gradient clipping, as the fix commit does.", {"lr-too-high"},
         _build_adam_lr_0_1_keypoints,
         note="DeepLocalize's GitHub benchmark, case 3; digits pixels and 30 synthetic targets in [-1, 1] stand in for "
              "96x96 faces and 15 keypoints."),
    case("keras_batchnorm_batch_of_one", K, "BatchNorm on tiny batches",
         "https://stackoverflow.com/questions/72646307",
         "A Dense-BatchNormalization-ReLU classifier is trained with batch_size=1.",
         "Train with batches of several samples (or drop the BatchNorm).", {"degenerate-batchnorm"},
         _build_batchnorm_batch_of_one),
    case("keras_frozen_model", K, "frozen parameters",
         "https://github.com/kota7/ilearn-gan",
         "model.trainable = False (meant for a GAN's discriminator) is set on the model that is then trained, "
         "so no weight changes.",
         "Leave the trained model trainable; freeze only the copy inside the combined model.",
         {"zero-gradients", "frozen-parameters"}, _build_frozen_model,
         note="Written with zero-gradients ('a layer not connected to the loss'), the closest code then; "
              "frozen-parameters was added to the catalogue for this mechanism and to this list after the first run."),
    case("keras_missing_hidden_layer", K, "linear stack",
         "https://github.com/vincenty2022/Averaging_Neural_Networks/commit/53c5940f199c8adb44c040d0a3ac03fed724ffbc",
         "Two Dense layers without activation meet directly, so the net is one linear map.",
         "Insert a Dense(2, relu) layer between them, as the fix commit does.", {"linear-stack"},
         _build_missing_hidden_layer,
         note="DeepLocalize's GitHub benchmark, case 12. The target (an average) is itself linear, and the fixed "
              "model still has a linear pair before its ReLU layer."),
    case("keras_sgd_lr_far_too_low", K, "learning rate too low / slow optimizer",
         "https://chenzhang.org/notes/developer/loss-and-accuracy-get-stuck-in-keras/",
         "A classifier is trained with SGD at a learning rate of 1e-5, so loss and accuracy stay where they started.",
         "Raise the learning rate (SGD at 0.1 with Nesterov momentum, as the note does).",
         {"too-few-steps", "update-ratio-low"}, _build_sgd_lr_far_too_low,
         note="A developer's note, not a thread; digits stand in for its data."),
    case("keras_unscaled_pixels_dense", K, "unscaled inputs",
         "https://stats.stackexchange.com/questions/367057",
         "A 128-128-10 ReLU MLP is trained with Adam on raw 0-255 pixel values and stays near chance.",
         "Divide the pixels by 255.", {"unscaled-inputs"}, _build_unscaled_pixels_dense,
         note="8x8 digits rescaled to 0-255 stand in for Fashion-MNIST."),
]
