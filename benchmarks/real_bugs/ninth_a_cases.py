"""Ninth held-out set, part a: bug-fix commits from the GitHub half of Islam et al.'s benchmark, rebuilt as
(buggy, fixed) twins, for one final measurement.

The commits were taken in a fixed shuffled order (`ninth_frame.txt`, part a's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or small synthetic
data of the same kind and scale as the repository's (at most 256 rows). ``check_fresh_fidelity.py --ninth``
trains both twins with plain code to confirm that the buggy twin shows the failure and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import GH
from .keras_cases import _keras


# --- a GAN's real images replaced by a transposed axis tuple (bstriner/keras-adversarial 91bafef) ---------

LATENT = 16


def _gan_discriminator_player(keras, side=8, nch=32, dropout_rate=0.5):
    """keras-adversarial's simple_gan seen from its discriminator player: the model takes real images x
    (batch, side, side, 1), draws z ~ N(0, 1) for each of them, and returns the discriminator's scores on
    the generated image and on the real one, (batch, 2) = [D(G(z)), D(x)]. The generator (Dense, BatchNorm,
    upsampling, two 3x3 convolutions, a 1x1 sigmoid convolution, as the example's, at a quarter of its width
    per side) is frozen, as it is in the discriminator player's update."""
    L = keras.layers
    ops = keras.ops

    class NormalLatent(L.Layer):  # normal_latent_sampling: one z per sample of the batch
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed = keras.random.SeedGenerator(0)

        def call(self, x):
            return keras.random.normal((ops.shape(x)[0], LATENT), seed=self.seed)

    half = side // 2
    g_input = keras.Input((LATENT,))
    h = L.Activation("relu")(L.BatchNormalization()(L.Dense(nch * half * half)(g_input)))
    h = L.UpSampling2D(2)(L.Reshape((half, half, nch))(h))
    h = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(nch // 2, 3, padding="same")(h)))
    h = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(nch // 4, 3, padding="same")(h)))
    generator = keras.Model(g_input, L.Activation("sigmoid")(L.Conv2D(1, 1, padding="same")(h)))
    generator.trainable = False

    d_input = keras.Input((side, side, 1))
    h = L.Conv2D(nch // 2, 5, strides=2, padding="same", activation="relu")(d_input)
    h = L.Dropout(dropout_rate)(L.LeakyReLU(0.2)(h))
    h = L.Conv2D(nch, 5, strides=2, padding="same", activation="relu")(h)
    h = L.Dropout(dropout_rate)(L.LeakyReLU(0.2)(h))
    h = L.Dropout(dropout_rate)(L.LeakyReLU(0.2)(L.Dense(nch // 2)(L.Flatten()(h))))
    discriminator = keras.Model(d_input, L.Dense(1, activation="sigmoid")(h))

    x = keras.Input((side, side, 1))
    fake = generator(NormalLatent()(x))
    return keras.Model(x, L.concatenate([discriminator(fake), discriminator(x)]))


def _build_keras_gan_real_images_transposed_tuple(buggy):
    keras = _keras()
    images, _ = data.digits(128)
    images = (images * 255.0 / 16.0).astype(np.float32) / 255.0  # mnist_process: pixel values / 255
    images = images.reshape((-1, 1, 8, 8))  # the example's channels-first layout
    if buggy:  # dim_ordering_fix as before the commit: transposes the axes tuple, not the images
        x = np.transpose((0, 2, 3, 1))
    else:  # the commit: transpose the images to channels last for the TensorFlow backend
        x = np.transpose(images, (0, 2, 3, 1))
    y = np.tile(np.array([[0.0, 1.0]], dtype=np.float32), (x.shape[0], 1))  # gan_targets: fake 0, real 1
    model = _gan_discriminator_player(keras)
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-3)


CASES = [
    case("ninth_keras_gan_real_images_transposed_tuple", "keras", "data layout",
         GH + "bstriner/keras-adversarial/commit/91bafef18fee48be2d59d71f3269cc45efe21fde",
         "The convolutional GAN example converts its MNIST images to channels-last for the TensorFlow backend with "
         "np.transpose((0, 2, 3, 1)), which transposes the axes tuple instead of the images, so the model is fitted "
         "on the array [0, 2, 3, 1] (with targets for 4 samples) instead of the images and fit stops with an "
         "input-shape error.",
         "Pass the images to the transpose: np.transpose(x, (0, 2, 3, 1)) (the commit).",
         {"input-layout"}, _build_keras_gan_real_images_transposed_tuple,
         note="keras-adversarial trains the generator and the discriminator as two players with their own "
              "optimizers; the rebuild keeps the discriminator player's half of simple_gan: the model takes the real "
              "images, samples z, and returns the discriminator's scores on G(z) and on x against gan_targets' "
              "fake-0 / real-1 targets, with the generator frozen, Adam(1e-3) (the discriminator's rate; Keras 3 has "
              "no decay argument) and binary cross-entropy as in the example. The 60000 MNIST digits become 128 "
              "8x8 digits scaled by /255 as mnist_process does; the layers keep the example's kinds and order "
              "(Dense-BatchNorm-upsampling-convolutions-sigmoid generator, strided 5x5 convolutions with "
              "LeakyReLU and dropout 0.5 in the discriminator) at 32 filters instead of 256/512. The same commit "
              "casts nch / 2 filter counts to int, which only Python 3 needed; the rebuild uses whole numbers in "
              "both twins. input-layout's fix (give x the layout the model was built for, (batch, height, width, "
              "channels) for Keras convolutions; the reshape or transpose that makes the model run) leads to the "
              "commit's fix."),
]
