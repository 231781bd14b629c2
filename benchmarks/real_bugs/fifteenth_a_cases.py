"""Fifteenth held-out set, part a: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 1-7) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _digit_pixels
from .keras_cases import _keras, _sequential

CASES = []


# --- entry 2: interpolated images (floats in [0, 1]) stored into a uint8 array without conversion (ludwig #107) ----

def _resized_images(buggy, size=12):
    """scikit-learn's 8x8 digits as 0..255 pixel images, resized to ``size`` x ``size`` by bilinear interpolation the
    way skimage's ``resize`` does it (the uint8 image is first turned into floats in [0, 1]), then stored in a uint8
    array, as Ludwig's image feature stores them for training. The buggy twin stores the floats as they are, so the
    cast truncates every pixel below 1.0 to 0; the fixed twin converts them back to 0..255 first (``img_as_ubyte``)."""
    from scipy import ndimage

    pixels, labels = _digit_pixels(128)
    images = pixels.reshape(-1, 8, 8)
    resized = np.stack([ndimage.zoom(im.astype(np.float64) / 255.0, size / 8, order=1, mode="nearest")
                        for im in images])
    resized = np.clip(resized, 0.0, 1.0)
    if buggy:
        stored = resized.astype(np.uint8)  # the bug: floats in [0, 1] cast straight into the uint8 dataset
    else:
        stored = np.round(resized * 255.0).astype(np.uint8)  # the fix: img_as_ubyte(resize(...))
    # the image input takes the stored uint8 values as float32, unscaled, as Ludwig's placeholder does
    return stored[..., None].astype(np.float32), labels.astype(np.int64)


def _build_keras_ludwig_interpolate_resize_uint8(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _resized_images(buggy)
    # Ludwig's default stacked_cnn encoder (conv 3x3, 7x7, 7x7, each with a 2x2 max-pool of stride 1, 'same'
    # convolutions, then one fully connected ReLU layer) and a category output (logits, softmax cross-entropy),
    # narrowed from 256 filters / 256 units to 16 / 64 for the shared CPU
    model = _sequential(keras, (12, 12, 1), [
        L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2, strides=1),
        L.Conv2D(16, 7, padding="same", activation="relu"), L.MaxPooling2D(2, strides=1),
        L.Conv2D(16, 7, padding="same", activation="relu"), L.MaxPooling2D(2, strides=1),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(10)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return model, x, y, loss, keras.optimizers.Adam(learning_rate=0.001)


CASES.append(case(
    "fifteenth_keras_ludwig_interpolate_resize_uint8",
    "keras",
    "missing conversion of resized images back to 8-bit integers",
    "https://github.com/uber/ludwig/issues/107",
    "Images resized with interpolation come back as floats between 0 and 1 and are written into a uint8 array "
    "unconverted, so nearly every pixel the model trains on is 0.",
    "Convert the resized image back to 0..255 integers (skimage's img_as_ubyte) before storing it.",
    {"constant-inputs"},
    _build_keras_ludwig_interpolate_resize_uint8,
    note="Read from the stored issue thread (github.com/ludwig-ai/ludwig/issues/107: training on images hardly lowers "
         "the loss; with resize_method interpolate the stored hdf5 images are almost all zeros, sums of 4, 2 and 0 "
         "per image) and the fix in the ludwig-ai/ludwig snapshot, pull request #133 (commits 63235294/a119e4c4, "
         "ludwig/utils/image_utils.py: resize_image returns img_as_ubyte(resize(img, size)) for 'interpolate'), "
         "whose description names the floats-into-uint8 storage. Taxonomy tag: missing preprocessing step "
         "(conversion to 8-bit unsigned integer format for images), 5.4.1 Training. Kept: the resize by bilinear "
         "interpolation of uint8 images through floats in [0, 1], the uint8 storage, the unscaled float input, "
         "Ludwig's default stacked_cnn layout (conv 3x3, 7x7, 7x7 'same' with ReLU, each followed by a 2x2 max-pool "
         "of stride 1; one fully connected ReLU layer), a category output with softmax cross-entropy on logits, "
         "Adam at 0.001 (Ludwig's default trainer). Changed: 128 of scikit-learn's 8x8 digits as 0..255 images "
         "resized to 12x12 with scipy.ndimage.zoom(order=1) (skimage is not installed) instead of the poster's "
         "photos; 16 filters and 64 units instead of 256. In the buggy twin 78% of the images are all zeros and the "
         "rest hold a few ones, as in the issue. TensorFlow 1 (Ludwig's graph) -> Keras 3. expected = "
         "{constant-inputs}, a judgement call: most samples (not every one) share the same all-zero input, and its "
         "fix, check the preprocessing that made the inputs alike, leads to the missing conversion; unscaled-inputs' "
         "fix (standardise) would not restore the truncated pixels."))
