"""Ninth held-out set, part e: the subjects of Zhang et al.'s TensorFlow bug study (ISSTA 2018), rebuilt as
(buggy, fixed) twins, for one final measurement.

The subjects were taken in a fixed shuffled order (`ninth_frame.txt`, part e's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".

Every builder returns (model, x, y, loss, optimizer). The subjects are TensorFlow 1 graph programs; each is
rebuilt in Keras (or PyTorch where its mechanism needs a hand-written loop's pieces), as its note says. Data are
scikit-learn's bundled sets or small synthetic data of the same kind (at most 256 rows). ``expected`` was written
from the catalogue's codes, titles and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential

ZHANG = GH + "ForeverZyh/TensorFlow-Program-Bugs/tree/master/"


# --- a VAE whose Gaussian noise is drawn for a fixed batch of 128 rows (Github/UT-1, tensorflow/models) -------

def _fixed_noise_sampling_class(keras, rows):
    """z = mean + sqrt(exp(log_sigma_sq)) * eps, adding the example's latent (KL) term to the model's losses; eps
    has ``rows`` rows when ``rows`` is given (the bug), else as many rows as the batch (the fix)."""
    ops = keras.ops

    class Sampling(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed = keras.random.SeedGenerator(0)

        def call(self, inputs):
            mean, log_sigma_sq = inputs
            latent = -0.5 * ops.sum(1.0 + log_sigma_sq - ops.square(mean) - ops.exp(log_sigma_sq), axis=-1)
            self.add_loss(ops.mean(latent))
            shape = (rows, ops.shape(mean)[1]) if rows else ops.shape(mean)
            eps = keras.random.normal(shape, seed=self.seed)
            return mean + ops.sqrt(ops.exp(log_sigma_sq)) * eps

    return Sampling


def _build_keras_vae_noise_fixed_batch(buggy):
    keras = _keras()
    L = keras.layers
    from sklearn import preprocessing

    images, _ = data.digits(200)  # a batch of another size than 128, as the example's test set is
    if buggy:  # the example's scaling: per-pixel standardisation
        x = preprocessing.StandardScaler().fit_transform(images).astype(np.float32)
    else:  # the fix: per-pixel min-max scaling to [0, 1]
        x = preprocessing.MinMaxScaler(feature_range=(0, 1)).fit_transform(images).astype(np.float32)
    pixels, hidden = x.shape[1], 16
    inputs = keras.Input((pixels,))
    z_mean, z_log_sigma_sq = L.Dense(hidden)(inputs), L.Dense(hidden)(inputs)
    z = _fixed_noise_sampling_class(keras, 128 if buggy else None)()([z_mean, z_log_sigma_sq])
    reconstruction = L.Dense(pixels, kernel_initializer="zeros")(z)  # linear decoder, zero-initialised as there
    model = keras.Model(inputs, reconstruction)

    def half_squared_error(y_true, y_pred):
        return 0.5 * keras.ops.sum(keras.ops.square(y_pred - y_true), axis=-1)

    return model, x, x.copy(), half_squared_error, keras.optimizers.Adam(1e-3)


# --- a weight helper whose `shape[shape == None] = 1` sets every kernel's depth to 1 (Stack Overflow 42938603) ---

def _weight_shape(shape, buggy):
    """The post's weight helper: meant to replace unknown (None) sizes by 1. On a Python list `shape == None` is
    False, i.e. index 0, so the buggy line overwrites the kernel's first spatial extent with 1."""
    shape = list(shape)
    if buggy:
        shape[shape == None] = 1  # noqa: E711 - the post's line, kept as the bug
    return shape


def _volume_net(keras, shapes, buggy, seed):
    """The post's 3-D fully convolutional regressor, smaller: VALID conv, front padding, 2x2x2 max-pool, two SAME
    convs, VALID convs, a 1x1x1 output conv; ReLU after every conv (the output's too) and biases of 0.1."""
    L = keras.layers
    layers = []
    for i, (shape, padding) in enumerate(shapes):
        shape = _weight_shape(shape, buggy)
        std = float(np.sqrt(2.0 / np.prod(shape)))
        layers.append(L.Conv3D(shape[4], tuple(shape[:3]), padding=padding, activation="relu",
                               kernel_initializer=keras.initializers.RandomNormal(stddev=std, seed=seed + i),
                               bias_initializer=keras.initializers.Constant(0.1)))
        if i == 0:
            layers += [L.ZeroPadding3D(((1, 0), (1, 0), (1, 0))), L.MaxPooling3D(2)]
    return layers


def _build_keras_conv3d_kernel_depth_overwritten(buggy):
    keras = _keras()
    shapes = [([3, 3, 3, 2, 8], "valid"), ([3, 3, 3, 8, 8], "same"), ([3, 3, 3, 8, 8], "same"),
              ([4, 4, 4, 8, 8], "valid"), ([5, 5, 5, 8, 8], "valid"), ([1, 1, 1, 8, 2], "valid")]
    x = _rng(0).normal(size=(16, 29, 29, 29, 2)).astype(np.float32)  # two-channel volumes
    # targets: (7, 7, 7, 2) maps from a fixed random network of the intended (3x3x3 ...) shapes
    teacher = _sequential(keras, x.shape[1:], _volume_net(keras, shapes, False, seed=100))
    y = np.asarray(teacher.predict(x, verbose=0), dtype=np.float32)
    model = _sequential(keras, x.shape[1:], _volume_net(keras, shapes, buggy, seed=0))
    return model, x, y, "mean_squared_error", keras.optimizers.Adam(1e-3)


CASES = []
CASES.append(case(
    "ninth_keras_vae_noise_fixed_batch", "keras", "tensor shape / batch size hard-coded",
    ZHANG + "Github/UT-1",
    "The variational autoencoder draws its Gaussian noise eps with a fixed shape (128, n_hidden), so any batch "
    "that does not have exactly 128 rows (the test set in the example) fails where eps is added to the batch's "
    "latent means.",
    "Draw eps with the batch's own size, tf.stack([tf.shape(x)[0], n_hidden]) (and scale the pixels to [0, 1] "
    "with a min-max scaler instead of standardising them).",
    {"layer-size-mismatch"},
    _build_keras_vae_noise_fixed_batch,
    note="From tensorflow/models (autoencoder/VariationalAutoencoder.py and its runner), a subject of Zhang et al.; "
         "TensorFlow 1 rebuilt in Keras: the same linear encoder (z_mean and log sigma^2 from the pixels), "
         "reparameterised sampling with the latent KL term, zero-initialised linear decoder, 0.5 * summed squared "
         "error and Adam(1e-3). Data: 200 8x8 digits (64 pixels, 16 latent units instead of 784 and 200), one "
         "batch of 200 rows standing for the example's test set (training batches there had exactly 128 rows, so "
         "the error came at the test-set cost); the reconstruction error is summed per sample and averaged over "
         "the batch, where the example sums it over the batch. The fixed twin applies both parts of the fix (the "
         "noise's shape and the min-max scaling). Judgement call: layer-size-mismatch's fix (size the layer from "
         "the shape it really receives) leads to drawing the noise with the batch's size; input-layout's fix "
         "(give x the layout the model was built for) would lead away from the commit's fix, so it is not "
         "expected."))
CASES.append(case(
    "ninth_keras_conv3d_kernel_depth_overwritten", "keras", "model structure / kernel shape",
    SO + "42938603",
    "The weight helper's `shape[shape == None] = 1` runs on a Python list, where `shape == None` is False (index 0), "
    "so every 3-D kernel gets depth 1; the first spatial axis is never reduced and the output volume does not "
    "match the (17, 17, 17, 2) targets.",
    "Remove the line from the weight helper so the kernels keep their 3x3x3 (4x4x4, 5x5x5) shapes.",
    set(),
    _build_keras_conv3d_kernel_depth_overwritten,
    note=OUTSIDE + "the output's first spatial axis is too long because the kernels were silently made one voxel "
         "deep; no catalogue fix leads to the weight helper (target-shape-broadcast's and output-width-mismatch's "
         "fixes would reshape the targets or resize the last layer, layer-size-mismatch's would resize a layer to "
         "its input). TensorFlow 1 rebuilt in Keras: the same helper line sets each Conv3D's kernel size; the "
         "network is the post's, smaller (29^3 two-channel volumes instead of 65^3, 8 filters per layer, two of the "
         "four VALID convolutions after the pool instead of four, so the intended output is 7^3 instead of 17^3), "
         "with its ReLU on every layer, bias 0.1 and normal init of std sqrt(2/n). The post's program only builds "
         "the loss; training with Adam(1e-3) and mean squared error (the post divides the sum by the voxels per "
         "sample) is ours. Data: 16 random volumes, targets from a fixed random network of the intended shapes. "
         "The buggy twin's output is (15, 7, 7, 2) per sample against (7, 7, 7, 2) targets."))
