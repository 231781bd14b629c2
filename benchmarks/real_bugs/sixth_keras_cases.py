"""Sixth held-out set, Keras half: public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Nobody had run diagnose on these when they were written, and ``expected`` was written from the
catalogue's codes, titles and fix sentences only (the CATALOGUE dict in
course_utils/diagnosis/findings.py), before any diagnose run. The threads were taken by a fixed rule
from written lists of search queries (see the README, "Sixth held-out set"), not by what diagnose
can detect. Run them once with ``python -m benchmarks.real_bugs --sixth``.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the thread's (at most 256 rows).
``check_fresh_fidelity.py --sixth`` trains both twins with plain code to confirm the buggy twin
shows the thread's symptom and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fourth_cases import _digit_images, _sensor_windows
from .fresh_cases import GH, OUTSIDE, _rng
from .keras_cases import _keras, _sequential


# --- a custom layer whose weight is not registered (haidark/WaveletDeconv#1) ------------------------

def _ricker_bank(ops, widths, length):
    """Ricker ("Mexican hat") wavelets of the given widths, as a (length, 1, len(widths)) Conv1D kernel."""
    t = ops.convert_to_tensor((np.arange(length) - (length - 1) / 2.0).astype(np.float32))[:, None]
    w = ops.abs(widths)[None, :] + 0.1  # keeps every width positive, as the original's constraint does
    amplitude = 2.0 / (ops.sqrt(3.0 * w) * np.pi ** 0.25)
    wavelets = amplitude * (1.0 - t ** 2 / w ** 2) * ops.exp(-t ** 2 / (2.0 * w ** 2))
    return ops.expand_dims(wavelets, 1)


def _wavelet_layer_class(keras, register):
    """A layer that convolves a 1-D signal with Ricker wavelets of learned widths (the widths start at
    1, 2, 4, ...). ``register=False`` keeps the widths in a bare tf.Variable, as the original layer kept
    them in K.variable and listed them in self.trainable_weights by hand, so Keras never trains them."""
    import tensorflow as tf

    ops = keras.ops

    class WaveletBank(keras.layers.Layer):
        def __init__(self, count, length=17, **kwargs):
            super().__init__(**kwargs)
            self.count, self.length = count, length

        def build(self, input_shape):
            start = (2.0 ** np.arange(self.count)).astype(np.float32)
            if register:
                self.widths = self.add_weight(shape=(self.count,), initializer=keras.initializers.Constant(start),
                                              name="widths")
            else:
                self.widths = tf.Variable(start, name="widths")

        def call(self, signal):
            return ops.conv(signal, _ricker_bank(ops, self.widths, self.length), padding="same")

    return WaveletBank


def _bumps(n=128, steps=64):
    """1-D signals with noise and one Ricker bump; the class says whether the bump is narrow (width 2)
    or wide (width 6), the kind of scale difference a bank of learned wavelet widths is meant to pick up."""
    rng = _rng()
    labels = rng.integers(0, 2, n)
    t = np.arange(steps, dtype=np.float32)[None, :] - rng.integers(16, steps - 16, n)[:, None]
    width = np.where(labels == 1, 6.0, 2.0)[:, None]
    bump = (1.0 - t ** 2 / width ** 2) * np.exp(-t ** 2 / (2.0 * width ** 2))
    signals = bump + rng.normal(0, 0.3, (n, steps))
    return signals.astype(np.float32)[..., None], labels.astype(np.int64)


def _build_keras_wavelet_widths_unregistered(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _bumps()
    bank = _wavelet_layer_class(keras, register=not buggy)(3)
    layers = [bank, L.Lambda(keras.ops.abs), L.GlobalAveragePooling1D(), L.Dense(2, activation="softmax")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


# --- a VAE whose reconstruction term is averaged over pixels (keras-team/keras#3373, PR#3383) -------

def _sampling_layer_class(keras):
    """Draws z from N(mean, exp(log_var)) and adds the KL divergence to N(0, 1), summed over the latent
    dimensions and averaged over the batch, to the model's losses (the example's kl_loss)."""
    ops = keras.ops

    class Sampling(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed = keras.random.SeedGenerator(0)

        def call(self, inputs):
            mean, log_var = inputs
            kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
            self.add_loss(ops.mean(kl))
            noise = keras.random.normal(ops.shape(mean), seed=self.seed)
            return mean + ops.exp(0.5 * log_var) * noise

    return Sampling


def _build_keras_vae_reconstruction_mean_over_pixels(buggy):
    keras = _keras()
    L = keras.layers
    images, _ = _digit_images(128)
    x = images.reshape(-1, 64)
    pixels = x.shape[1]
    inputs = keras.Input((pixels,))
    hidden = L.Dense(32, activation="relu")(inputs)
    z = _sampling_layer_class(keras)()([L.Dense(2)(hidden), L.Dense(2)(hidden)])
    decoded = L.Dense(pixels, activation="sigmoid")(L.Dense(32, activation="relu")(z))
    model = keras.Model(inputs, decoded)

    def summed_pixel_crossentropy(y_true, y_pred):  # the merged fix: original_dim * mean, i.e. the sum over pixels
        return pixels * keras.losses.binary_crossentropy(y_true, y_pred)

    loss = "binary_crossentropy" if buggy else summed_pixel_crossentropy
    return model, x, x.copy(), loss, keras.optimizers.Adam(1e-2)


# --- BP-MLL loss on samples with no label (vanHavel/bp-mll-tensorflow#3) --------------------------

def _bp_mll_loss(keras):
    """The BP-MLL ranking loss for multi-label outputs in [0, 1]: for each sample, the mean over every
    (label present, label absent) pair of exp(-(score present - score absent)). The mean divides by
    |present| * |absent|, which is 0 for a sample with no label or with every label."""
    ops = keras.ops

    def bp_mll(y_true, y_pred):
        present = ops.cast(ops.equal(y_true, 1.0), "float32")
        absent = 1.0 - present
        pairs = ops.expand_dims(present, 2) * ops.expand_dims(absent, 1)
        margins = ops.exp(-(ops.expand_dims(y_pred, 2) - ops.expand_dims(y_pred, 1)))
        per_sample = ops.sum(margins * pairs, axis=(1, 2)) / (ops.sum(present, axis=1) * ops.sum(absent, axis=1))
        return ops.mean(per_sample)

    return bp_mll


def _digit_tags(labels):
    """Four tags per digit, the way a poster has several genres: even, greater than 4, prime, has a
    closed loop. The digit 1 has none of them."""
    tags = [labels % 2 == 0, labels > 4, np.isin(labels, [2, 3, 5, 7]), np.isin(labels, [0, 6, 8, 9])]
    return np.stack(tags, axis=1).astype(np.float32)


def _build_keras_bp_mll_sample_without_labels(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digit_images(160)
    tags = _digit_tags(labels)
    if not buggy:  # the fix: leave out samples with no tag (or every tag), for which the loss is 0 / 0
        keep = (tags.sum(axis=1) > 0) & (tags.sum(axis=1) < tags.shape[1])
        images, tags = images[keep], tags[keep]
    layers = [L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(), L.Flatten(),
              L.Dense(32, activation="relu"), L.Dense(4, activation="sigmoid")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, images[..., None], tags, _bp_mll_loss(keras), keras.optimizers.Adam(1e-3)


# --- an LSTM with no output layer under binary cross-entropy (Cross Validated, via imathworks) ----

def _keras2_binary_crossentropy(keras):
    """Binary cross-entropy as Keras 2 computed it: a (batch, 1) target broadcast over every output
    column, then averaged. Keras 3 raises for a target narrower than the output; the thread's Keras 2
    trained on, which is the behaviour this case needs."""
    ops = keras.ops

    def binary_crossentropy(y_true, y_pred):
        target = ops.broadcast_to(ops.reshape(y_true, (-1, 1)), ops.shape(y_pred))
        return ops.mean(ops.binary_crossentropy(target, y_pred), axis=-1)

    return binary_crossentropy


def _build_keras_lstm_without_output_layer(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sensor_windows(128, steps=8, channels=3)
    head = [] if buggy else [L.Dense(1, activation="sigmoid")]  # the answer: a sigmoid unit after the LSTM
    model = _sequential(keras, x.shape[1:], [L.LSTM(4), *head])
    return model, x, y.reshape(-1), _keras2_binary_crossentropy(keras), keras.optimizers.Adam(1e-3)


CASES = [
    case("sixth_keras_wavelet_widths_unregistered", "keras", "model structure",
         GH + "haidark/WaveletDeconv/issues/1",
         "A custom wavelet-deconvolution layer creates its widths with K.variable and lists them in "
         "self.trainable_weights by hand, which newer Keras ignores, so the widths are never trained "
         "(\"trained for some time, but the weights didn't change\").",
         "Create the widths with self.add_weight(...) so Keras registers and trains them (the reporter's fix).",
         {"unregistered-parameters"}, _build_keras_wavelet_widths_unregistered,
         note="The Theano layer is rebuilt in Keras 3: a bank of 3 Ricker wavelets whose widths start at 1, 2, "
              "4, applied with one Conv1D-style convolution; the buggy twin keeps the widths in a bare "
              "tf.Variable, which Keras 3 does not track (the thread's K.variable plus a hand-set "
              "trainable_weights). TIMIT speaker recognition is rebuilt as 128 synthetic noisy signals of "
              "64 steps whose class is the width of one Ricker bump (2 or 6); |output|, global average "
              "pooling and a softmax head sit on top, so the head still trains in the buggy twin and the "
              "symptom is that the widths never move. unregistered-parameters' title names the bug; its fix "
              "is worded for PyTorch (nn.Parameter), whose Keras counterpart is add_weight."),
    case("sixth_keras_vae_reconstruction_mean_over_pixels", "keras", "loss",
         GH + "keras-team/keras/issues/3373",
         "The Keras variational-autoencoder example averages its binary cross-entropy over the 784 pixels "
         "while the KL term is summed over the latent dimensions, so the KL term dominates, the posterior "
         "collapses and every point of the latent space decodes to the same image.",
         "Multiply the reconstruction term by the number of pixels (original_dim * binary_crossentropy), as "
         "the merged pull request #3383 did.",
         set(), _build_keras_vae_reconstruction_mean_over_pixels,
         note=OUTSIDE + "no catalogue code names the weighting between a reconstruction term averaged over "
              "pixels and a KL term summed over latent dimensions. The fix was merged in keras-team/keras "
              "PR#3383 after issue #3373. MNIST's 784 pixels rebuilt as 128 8x8 digits (64 pixels) scaled "
              "to [0, 1]; the example's 784-256-2 encoder and decoder shrink to 64-32-2; the KL term is added "
              "by the sampling layer with add_loss (Keras 3 has no access to z_mean in a compiled loss)."),
    case("sixth_keras_bp_mll_sample_without_labels", "keras", "targets",
         GH + "vanHavel/bp-mll-tensorflow/issues/3",
         "A multi-label CNN trained with the BP-MLL ranking loss gets a NaN loss because some samples carry "
         "no label (or every label), for which the loss divides 0 by 0.",
         "Leave out the samples with no label or with every label (the maintainer's diagnosis, confirmed by "
         "the poster: \"there may be some datapoints with all genres. It's working now\").",
         {"non-finite-loss"}, _build_keras_bp_mll_sample_without_labels,
         note="Movie posters with several genres rebuilt as 160 8x8 digits with four tags (even, greater than 4, "
              "prime, has a loop); the digit 1 has none. The BP-MLL loss is rewritten from the paper's "
              "definition with a sigmoid output, as the repository requires. The thread's NaN came after some "
              "steps, when a minibatch first held such a sample; on one full batch it comes at the first step. "
              "non-finite-loss's fix ('check log/division') leads to the division by |labels| * |non-labels|."),
    case("sixth_keras_lstm_without_output_layer", "keras", "output layer",
         "https://imathworks.com/cv/solved-why-the-accuracy-of-the-neural-network-is-falling-when-epoch-increases",
         "A binary sequence classifier is a single LSTM(4) layer compiled with binary cross-entropy: the four "
         "tanh outputs of the LSTM are scored against one 0/1 target, and training accuracy falls and stays low.",
         "Add an output layer, Dense(1, activation='sigmoid'), after the LSTM (the best answer).",
         {"output-width-mismatch"}, _build_keras_lstm_without_output_layer,
         note="A mirror of a Cross Validated question (its post id is not in the stored copy). The thread's look_back "
              "windows and features are not shown: rebuilt as 128 windows of 8 steps of 3 synthetic channels whose "
              "label says whether channel 0 is above 0 on average; Adam at its default rate, as the thread's 'adam'. "
              "Keras 3 raises for a (batch, 1) target against a (batch, 4) output, so the loss is Keras 2's binary "
              "cross-entropy written out (the target broadcast over the four outputs), the same in both twins. "
              "output-width-mismatch's fix (make the last layer as wide as the target columns) leads to the added "
              "one-unit output; output-cannot-reach-target and logits-into-probability-loss were not listed, as their "
              "fixes (a linear output, from_logits=True) keep four tanh outputs."),
]


# --- cases added by the second Keras helper (README: "Sixth held-out set", second Keras part) ------

def _adadelta_or_adam(keras, buggy):
    """The threads' optimizer: Adadelta at its default learning rate (0.001 in tf.keras and Keras 3, 1.0 in
    Keras 2.2 and earlier) in the buggy twin; Adam, the threads' fix, in the fixed twin."""
    return keras.optimizers.Adadelta() if buggy else keras.optimizers.Adam()


def _build_keras_autoencoder_adadelta_default_rate(buggy):
    keras = _keras()
    L = keras.layers
    images, _ = _digit_images(256)
    x = images.reshape(len(images), -1)
    layers = [L.Dense(16, activation="relu"), L.Dense(x.shape[1], activation="sigmoid")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, x.copy(), "binary_crossentropy", _adadelta_or_adam(keras, buggy)


def _build_keras_mnist_cnn_adadelta_default_rate(buggy):
    from .data import one_hot

    keras = _keras()
    L = keras.layers
    images, labels = _digit_images(256)
    layers = [L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(),
              L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(), L.Flatten(),
              L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, images[..., None], one_hot(labels, 10), "categorical_crossentropy", _adadelta_or_adam(keras, buggy)


_ADADELTA_CODES = {"update-ratio-low", "too-few-steps"}
_ADADELTA_WHY = ("update-ratio-low (raise the learning rate) and too-few-steps (train longer or with a larger "
                 "learning rate) lead to an equivalent fix: Adadelta(learning_rate=1.0), or a faster optimizer; "
                 "no other code's fix does.")

CASES += [
    case("sixth_keras_autoencoder_adadelta_default_rate", "keras", "optimizer",
         GH + "tensorflow/tensorflow/issues/34380",
         "A one-hidden-layer Dense autoencoder on MNIST (784-64-784, sigmoid output, binary cross-entropy) compiled "
         "with optimizer='adadelta' converges under standalone Keras but stays at a loss of about 0.6 under tf.keras "
         "2.0, whose Adadelta defaults to a learning rate of 0.001 instead of 1.0.",
         "Train with Adam instead of Adadelta (the TensorFlow engineer's reply, which the poster accepted).",
         _ADADELTA_CODES, _build_keras_autoencoder_adadelta_default_rate,
         note="MNIST's 784 pixels rebuilt as 256 8x8 digits scaled to [0, 1] (64 pixels); the 64-unit code shrinks "
              "to 16. Keras 3's Adadelta keeps tf.keras's default learning rate of 0.001, so the buggy twin is the "
              "thread's 'adadelta' as written; maintainers name that default as the cause of the same symptom in "
              "tensorflow/tensorflow#32950 and keras-team/keras#13047. " + _ADADELTA_WHY),
    case("sixth_keras_mnist_cnn_adadelta_default_rate", "keras", "optimizer",
         GH + "GreenWaves-Technologies/gap_sdk/issues/217",
         "An SDK's MNIST example (two 5x5 convolutions with max pooling, then a softmax Dense layer, categorical "
         "cross-entropy on one-hot labels) compiles keras.optimizers.Adadelta() at its default learning rate, 0.001 "
         "in current Keras, and reaches an accuracy of 0.10 after its 5 epochs.",
         "Compile with the Adam optimizer (the poster's own test in the report: accuracy 0.96).",
         _ADADELTA_CODES, _build_keras_mnist_cnn_adadelta_default_rate,
         note="MNIST's 28x28 images rebuilt as 256 8x8 digits scaled to [0, 1]; the example's 5x5 convolutions with "
              "32 and 64 filters shrink to 3x3 with 8 and 16 filters and padding='same', so that both 2x2 poolings "
              "fit. The maintainer's reply only sends the poster to TensorFlow's developers; the fix is the "
              "poster's own measurement. The same mechanism as sixth_keras_autoencoder_adadelta_default_rate in "
              "another model kind (a CNN classifier rather than an autoencoder). " + _ADADELTA_WHY),
]


# --- an LSTM fed share prices divided by 100 (keras-team/keras#6004) ---------------------------------

def _share_prices(n=256, window=10, normalised=False):
    """Windows of a synthetic daily share price (Open, High, Close) drifting up from $300, as in the thread's
    GOOGL notebook; the target is the next day's Close. Prices divided by 100 (about 3 to 9) as the notebook
    does, or each column min-max normalised to [0, 1] (the poster's fix)."""
    rng = _rng()
    steps = n + window + 1
    close = 300 * np.exp(np.cumsum(rng.normal(0.0008, 0.015, size=steps)))
    open_ = close * (1 + rng.normal(0, 0.005, size=steps))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.005, size=steps)))
    data = np.stack([open_, high, close], axis=1)
    if normalised:
        data = (data - data.min(axis=0)) / (data.max(axis=0) - data.min(axis=0))
    else:
        data = data / 100.0
    windows = np.stack([data[i:i + window + 1] for i in range(n)]).astype(np.float32)
    return windows[:, :-1], windows[:, -1, -1:].copy()


def _build_keras_lstm_share_prices_not_normalised(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _share_prices(normalised=not buggy)
    uniform = keras.initializers.RandomUniform(-0.05, 0.05)  # Keras 1's init='uniform', as in the notebook
    layers = [L.LSTM(16, return_sequences=True), L.Dropout(0.2), L.LSTM(8), L.Dropout(0.2),
              L.Dense(16, activation="relu", kernel_initializer=uniform), L.Dense(1, kernel_initializer=uniform)]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "mse", keras.optimizers.Adam()


CASES += [
    case("sixth_keras_lstm_share_prices_not_normalised", "keras", "unscaled inputs",
         GH + "keras-team/keras/issues/6004",
         "A stock-price LSTM (two LSTM layers with Dropout 0.2, Dense(16, relu), Dense(1), MSE, Adam) is fed windows "
         "of GOOGL's Open, High and Close divided by 100 (about 3 to 9) and predicts the next Close; some runs reach a "
         "loss of 0.3 and others stay at 3.x after 1500 epochs.",
         "Normalise the data (the poster's follow-up: \"By applying normalization, the problem will be solved\").",
         {"unscaled-inputs", "unscaled-targets"}, _build_keras_lstm_share_prices_not_normalised,
         note="The thread's program is the notebook it links (etai83/lstm_stock_prediction, 'GOOGLE stock "
              "prediction'), read in the repository: prices / 100, windows of 22 days, LSTM(128) and LSTM(64). "
              "Rebuilt as 256 windows of 10 days of a synthetic price drifting up from $300, LSTM(16) and LSTM(8), "
              "Dense(16, relu) and Dense(1) with Keras 1's uniform initialisation; the fixed twin min-max normalises "
              "each column to [0, 1], inputs and target alike. In the rebuild the buggy twin predicts one value for "
              "every window (the thread's stalled runs) and the fixed twin follows the price. unscaled-inputs "
              "(standardise the inputs) and unscaled-targets (standardise the targets) each lead to part of that "
              "normalisation; the thread's data are the scale the issue names as missed (features up to about 8 "
              "with means far from 0)."),
]


# --- standardisation of all-zero feature columns inside the model (a CSDN post, Five_L) -------------

def _build_keras_standardise_all_zero_columns(buggy):
    from .data import breast_cancer

    keras = _keras()
    L = keras.layers
    x, y = breast_cancer(256)
    if buggy:
        x = np.concatenate([x, np.zeros((len(x), 2), np.float32)], axis=1)  # two continuous features always 0
    mean, std = x.mean(axis=0), x.std(axis=0)  # the model's own standardisation, with no guard against std 0
    layers = [L.Lambda(lambda t: (t - mean) / std), L.Dense(16, activation="relu"), L.Dense(8, activation="relu"),
              L.Dense(1)]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y.reshape(-1, 1), keras.losses.BinaryCrossentropy(from_logits=True), keras.optimizers.Adam(1e-3)


CASES += [
    case("sixth_keras_standardise_all_zero_columns", "keras", "preprocessing",
         "https://blog.csdn.net/Five_L/article/details/149088309",
         "A small three-layer tf.keras binary classifier (logits, BinaryCrossentropy(from_logits=True)) standardises "
         "its continuous features inside the model; some features are 0 in every row, so their mean and variance "
         "are 0, the standardisation divides 0 by 0 and the loss is NaN from the first step.",
         "Remove the features that are 0 in every row before standardising (the poster's own fix, found by "
         "printing each layer's output).",
         {"non-finite-loss"}, _build_keras_standardise_all_zero_columns,
         note="A CSDN blog post (its author's problem and fix; the stored copy is reached through a mirror at "
              "siteproxy.ruqli.workers.dev). The poster's data are not shown: rebuilt as 256 rows of breast-cancer data with two "
              "columns of zeros appended in the buggy twin; the standardisation is a Lambda layer with the data's mean "
              "and standard deviation and no epsilon, as the poster's preprocessing layer; the fixed twin leaves the "
              "zero columns out. non-finite-loss's fix ('check log/division') leads to the division by a standard "
              "deviation of 0; constant-inputs was not listed, as the rows still differ in their other features."),
]


# --- one bias asked to reach 42 under MAE and RMSprop (Stack Overflow 49867234) ----------------------

def _build_keras_mae_rmsprop_far_target(buggy):
    keras = _keras()
    x = np.zeros((1, 1), np.float32)  # the question's single sample: x = 0, so only the bias can move
    y = np.full((1, 1), 42.0 if buggy else 0.42, np.float32)  # fixed twin: the target scaled by 1/100
    model = _sequential(keras, x.shape[1:], [keras.layers.Dense(1)])
    return model, x, y, "mean_absolute_error", keras.optimizers.RMSprop()


CASES += [
    case("sixth_keras_mae_rmsprop_far_target", "keras", "unscaled targets",
         "https://stackoverflow.com/questions/49867234",
         "A one-unit linear model is trained with mean absolute error and RMSprop at its default rate to map x = 0 to "
         "y = 42; after 1000 epochs it predicts 1.009, because each step moves the bias by about the learning rate.",
         "Normalise the target (the answer: the optimisation is much harder without normalisation; the poster had "
         "found that a target of 0.42 trains).",
         {"unscaled-targets", "too-few-steps", "update-ratio-low"}, _build_keras_mae_rmsprop_far_target,
         note="Read through a Chinese mirror of the question (thinbug.com/q/49867234); the post id is the original "
              "Stack Overflow question, not in HELD_OUT_SO_IDS. The question's program is rebuilt as it is (one sample, "
              "Dense(1), MAE, RMSprop()): after 1000 full-batch steps the buggy twin predicts 1.0091327, the figure in "
              "the question. The fixed twin uses the target 0.42, which the poster reports trains. unscaled-targets "
              "(standardise the targets) is the answer's fix; too-few-steps (train longer) is the answer's other route "
              "(MSE for 50K epochs) and update-ratio-low (raise the learning rate) reaches the target the same way; "
              "loss-stalls-fit was not listed, as switching to MSE alone does not help: RMSprop's steps keep the same "
              "size."),
]
