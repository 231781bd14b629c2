"""Ninth held-out set, part g: the subjects of Zhang et al.'s TensorFlow bug study (ISSTA 2018), rebuilt as
(buggy, fixed) twins, for one final measurement.

The subjects were taken in a fixed shuffled order (`ninth_frame.txt`, part g's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".

The subjects are TensorFlow 1 graph programs; each is rebuilt in Keras (or in PyTorch where its mechanism needs a
hand-written loop's pieces), as each case's note says. Every builder returns (model, x, y, loss, optimizer); data
are scikit-learn's bundled sets or small synthetic data of the same kind (at most 256 rows).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import GH, LOWER_LR, _rng, _tensors
from .fourth_cases import _real_and_fake_images
from .held_out_cases import SO
from .keras_cases import _keras, _sequential

TPB = GH + "ForeverZyh/TensorFlow-Program-Bugs/tree/master/"


def _digit_rows_unit(n=128):
    """8x8 digits flattened to 64 pixels in [0, 1] (as MNIST's reader gives them), labels 0..9."""
    x, labels = data.digits(n)
    return (x / 16.0).astype(np.float32), labels


def _colour_digits(n=128):
    """8x8 digits drawn in a random colour per image over a dark background: RGB images (n, 8, 8, 3) in [0, 1],
    channels last as an image loader returns them, and the digits 0..9 as labels."""
    x, labels = _digit_rows_unit(n)
    strokes = x.reshape(-1, 8, 8, 1)
    colours = _rng().uniform(0.4, 1.0, (len(x), 1, 1, 3))
    return (strokes * colours).astype(np.float32), labels


def _mnist_like_digits(n=205):
    """8x8 digits enlarged (bilinear) to 20x20 and centred in 28x28 with a 4-pixel border, as MNIST's digits sit,
    flattened to 784 pixels in [0, 1] (about MNIST's ink: a mean squared norm near 90), labels 0..9."""
    from scipy import ndimage

    x, labels = _digit_rows_unit(n)
    large = np.stack([ndimage.zoom(image, 2.5, order=1) for image in x.reshape(-1, 8, 8)]).clip(0.0, 1.0)
    return np.pad(large, ((0, 0), (4, 4), (4, 4))).reshape(-1, 784).astype(np.float32), labels


CASES = []


# --- a quadratic fitted by plain gradient descent at too high a rate (Stack Overflow 46577203) ----

class _Quadratic(nn.Module):
    """The post's model: three scalar parameters A, B, C, all starting at 0, and A x^2 + B x + C."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = (nn.Parameter(torch.zeros(1)) for _ in range(3))

    def forward(self, x):
        return self.a * x ** 2 + self.b * x + self.c


def _build_torch_quadratic_sgd_rate(buggy):
    torch.manual_seed(0)
    points = np.arange(4, dtype=np.float32).reshape(-1, 1)  # x = 0, 1, 2, 3 and y = x^2, as in the post
    model = _Quadratic()
    x, y = _tensors(points, points ** 2)
    # the loss is the sum (not the mean) of the squared errors; the fix lowers the rate from 0.01 to 0.001
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01 if buggy else 0.001)
    return model, x, y, nn.MSELoss(reduction="sum"), optimizer


CASES += [
    case("ninth_torch_quadratic_sgd_rate", "torch", "learning rate",
         SO + "46577203",
         "A quadratic A x^2 + B x + C fitted to four points (x = 0..3, y = x^2) with the summed squared error and "
         "plain gradient descent at 0.01 diverges: the x^2 column makes each step overshoot, and the loss grows.",
         "Lower the gradient-descent learning rate from 0.01 to 0.001.",
         LOWER_LR,
         _build_torch_quadratic_sgd_rate,
         note="TensorFlow 1 graph program (the study's StackOverflow/IPS-17 folder) with three hand-made scalar "
              "variables, rebuilt in PyTorch as a module with three nn.Parameter scalars (zeros, as in the post), "
              "nn.MSELoss(reduction='sum') for its reduce_sum of squares and torch.optim.SGD. Same four points; "
              "they are given as (4, 1) columns instead of the post's 1-D lists (the model is elementwise, so "
              "nothing else changes)."),
]


# --- an image transposed to channels first, fed to a channels-last input (Stack Overflow 41192992) ----

def _build_keras_image_transposed_channels_first(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _colour_digits()  # (n, 8, 8, 3), as img_to_array and expand_dims give them
    if buggy:  # the bug: the batch is transposed to (n, 3, 8, 8) before it is fed
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    layers = [L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(), L.Flatten(),
              L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 3), layers)  # the input is declared (None, h, w, 3), as the placeholder
    return model, images, labels, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


CASES += [
    case("ninth_keras_image_transposed_channels_first", "keras", "input layout",
         SO + "41192992",
         "RGB images read as (h, w, 3) arrays and given a batch axis are transposed to (batch, 3, h, w) before being "
         "fed to an input declared (None, h, w, 3), so feeding them fails with a shape error.",
         "Feed the (batch, h, w, 3) array as loaded, without the transpose.",
         {"input-layout"},
         _build_keras_image_transposed_channels_first,
         note="TensorFlow 1 program (the study's StackOverflow/UT-11 folder) that only feeds one 250x250 image to a "
              "float placeholder of shape (None, 250, 250, 3); it has no model and no training. Rebuilt in Keras with "
              "the placeholder stood in by a small CNN (conv 8, max-pool, dense softmax) whose Input is (8, 8, 3), "
              "trained on 128 scikit-learn digits drawn in colour (square 8x8 images, so the transposed batch has "
              "the same axes of other sizes, as 250x250 does), scaled to [0, 1] (the post's img_to_array gives "
              "0-255; the scale is not part of the bug). The model, labels and optimizer are stand-ins."),
]


# --- a DCGAN whose real-image input is declared at the output size (ForeverZyh/TensorFlow-Program-Bugs, Github/UT-7) ---

def _build_keras_dcgan_input_declared_at_output_size(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _real_and_fake_images()  # real digits in [-1, 1] (label 1) and noise images (label 0), 8x8
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # channels last, (n, 8, 8, 1), as the repository feeds them
    # the bug: without cropping, the real-image input is still declared (output_height, output_width, c), and the
    # width falls back to its default (64 against MNIST's 28; here 18 against 8); the fix declares the images' size
    side = (8, 18, 1) if buggy else x.shape[1:]
    layers = [L.Conv2D(8, 5, strides=2, padding="same"), L.LeakyReLU(0.2),
              L.Conv2D(16, 5, strides=2, padding="same"), L.BatchNormalization(), L.LeakyReLU(0.2),
              L.Flatten(), L.Dense(1)]
    model = _sequential(keras, side, layers)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)  # sigmoid_cross_entropy_with_logits
    return model, x, labels.reshape(-1, 1).astype(np.float32), loss, keras.optimizers.Adam(2e-4, beta_1=0.5)


CASES += [
    case("ninth_keras_dcgan_input_declared_at_output_size", "keras", "layer sizes",
         TPB + "Github/UT-7",
         "Trained on MNIST without cropping, the DCGAN still declares its real-image input at the output size, "
         "whose width falls back to the default 64, so the 28x28 images do not fit the discriminator's input and "
         "feeding the first batch fails with a shape error.",
         "Declare the real-image input at the images' own size (input height and width) when they are not cropped.",
         {"layer-size-mismatch"},
         _build_keras_dcgan_input_declared_at_output_size,
         note="From the DCGAN-tensorflow project (carpedm20/DCGAN-tensorflow), the study's Github/UT-7 subject; TensorFlow "
              "1 graph code rebuilt in Keras as the discriminator's step only, as the fourth set's GAN cases are: real "
              "8x8 digits in [-1, 1] (the repository's scaling) against uniform-noise images standing in for the "
              "generator's samples, a two-convolution DCGAN discriminator (5x5, stride 2, LeakyReLU 0.2, batch norm, "
              "one logit), sigmoid cross-entropy on logits and Adam 2e-4 with beta1 0.5 (the repository's defaults). "
              "The buggy input is declared 8x18 (28x64 in the repository: the height matches, the width is the "
              "default); Keras runs the convolutions and fails at the dense layer rather than at the feed. The "
              "flag changes that go with the fix (widths defaulting to the heights) are folded into the declared "
              "size. Judgement call: layer-size-mismatch's fix (size the model from x's shape, keras.Input with "
              "x's shape) is the commit's; input-layout's (give x the layout the model was built for) would crop "
              "or resize the images instead, so it is not listed."),
]


# --- a DBN's fine-tuning loss: clipped binary cross-entropy on the linear output (Github/IPS-7) ------

def _clipped_crossentropy(keras, softmax_first):
    """The repository's 'cross_entropy' cost: -mean(y log(clip(p, 1e-10, inf)) + (1 - y) log(clip(1 - p, 1e-10,
    inf))) over every entry; with softmax_first=True (the fix), p is the softmax of the model's output."""
    ops = keras.ops

    def cross_entropy(y_true, y_pred):
        p = ops.softmax(y_pred, axis=-1) if softmax_first else y_pred
        return -ops.mean(y_true * ops.log(ops.clip(p, 1e-10, 1e30))
                         + (1.0 - y_true) * ops.log(ops.clip(1.0 - p, 1e-10, 1e30)))

    return cross_entropy


def _build_keras_dbn_finetune_loss_on_linear_output(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_rows_unit()
    weights = keras.initializers.TruncatedNormal(stddev=0.1)  # the repository's no-pretraining initialisation
    bias = keras.initializers.Constant(0.1)
    layers = [L.Dense(512, activation="relu", kernel_initializer=weights, bias_initializer=bias),
              L.Dense(256, activation="relu", kernel_initializer=weights, bias_initializer=bias),
              L.Dense(10, kernel_initializer=weights, bias_initializer=bias)]  # 'softmax_out' is a linear layer
    model = _sequential(keras, (64,), layers)
    loss = _clipped_crossentropy(keras, softmax_first=not buggy)
    return model, x, data.one_hot(labels, 10), loss, keras.optimizers.SGD(0.01)


CASES += [
    case("ninth_keras_dbn_finetune_loss_on_linear_output", "keras", "loss/output pairing",
         TPB + "Github/IPS-7",
         "The DBN's fine-tuning cost is a clipped binary cross-entropy, -mean(y log(clip(p)) + (1 - y) log(clip(1 - "
         "p))), applied to the linear output of its last layer; the outputs are not probabilities, so the cost has no "
         "lower bound: the outputs grow without limit, the loss keeps falling and the accuracy stays at chance.",
         "Apply a softmax to the model's output before the cross-entropy cost.",
         {"logits-into-probability-loss", "loss-without-floor"},
         _build_keras_dbn_finetune_loss_on_linear_output,
         note="From the Deep-Learning-TensorFlow project (blackecho/Deep-Learning-TensorFlow), the study's Github/IPS-7 "
              "subject, run as run_dbn.py --finetune_loss_func=cross_entropy --rbm_layers=512,256 (upstream, the change is commit 20d1b59, "
              "which moved the softmax that commit 1bcc1ef had added to the last layer for the project's issue #5 into "
              "the cross-entropy cost). TensorFlow 1 "
              "graph code rebuilt in Keras: ReLU layers of 512 and 256 and a linear 10-unit output, truncated-normal "
              "(0.1) weights and 0.1 biases, the cost as a keras.ops function, plain SGD at the repository's 0.01. "
              "Differences: the RBM pre-training is left out (the repository's do_pretrain=False path, whose "
              "initialisation this is); 128 scikit-learn digits (64 pixels in [0, 1]) instead of MNIST, full batch "
              "instead of batches of 10. The fix puts the softmax inside the cost function, where the repository "
              "does, so the fixed model still outputs scores. Judgement calls: logits-into-probability-loss's fix "
              "(a loss that takes logits) amounts to the softmax the commit adds; loss-without-floor's symptom is "
              "the buggy twin's (plain training: the loss falls from 2.9 after the first steps to 0.05 after 2000, "
              "heading below zero, with outputs from -169 to 62 and chance accuracy) and its 'a loss to minimise "
              "must be bounded below' leads to the outputs that are not probabilities. binary-loss-on-one-class-rows is not listed: both twins keep the binary form of "
              "the cost on one-hot rows, and the commit does not change it."),
]


# --- softmax regression with a summed cross-entropy on batches of 205 (Stack Overflow 33641799) ------

def _summed_crossentropy(keras):
    """The tutorial's cost: -reduce_sum(y * log(softmax output)) over the whole batch (a sum, not a mean)."""
    ops = keras.ops

    def cross_entropy(y_true, y_pred):
        return -ops.sum(y_true * ops.log(y_pred))

    return cross_entropy


def _build_keras_softmax_regression_batch_205(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _mnist_like_digits(205)  # the post's batch of 205 MNIST images
    model = _sequential(keras, (784,), [L.Dense(10, activation="softmax", kernel_initializer="zeros")])
    # the fix halves plain gradient descent's rate, 0.01 -> 0.005
    optimizer = keras.optimizers.SGD(0.01 if buggy else 0.005)
    return model, x, data.one_hot(labels, 10), _summed_crossentropy(keras), optimizer


CASES += [
    case("ninth_keras_softmax_regression_batch_205", "keras", "learning rate",
         SO + "33641799",
         "TensorFlow's beginner softmax regression, whose cross-entropy is summed (not averaged) over the batch, is "
         "trained by plain gradient descent at 0.01 on batches of 205 images: the summed gradient makes the steps "
         "overshoot, the loss jumps and turns NaN within a few steps, and the accuracy stays at chance.",
         "Lower the gradient-descent learning rate from 0.01 to 0.005.",
         LOWER_LR,
         _build_keras_softmax_regression_batch_205,
         note="TensorFlow 1 graph program (the study's StackOverflow/IPS-14 folder; the post asks why the MNIST "
              "beginners' example stops converging when its batch grows from 204 to 205) rebuilt in Keras: one "
              "zero-initialised Dense(10) softmax layer on 784 pixels, the summed -sum(y log p) as a keras.ops "
              "function, SGD. Stand-in for MNIST: 205 scikit-learn digits enlarged to 20x20 and centred in 28x28 in "
              "[0, 1], close to MNIST's ink, since the overshoot depends on the inputs' scale; one fixed batch "
              "instead of a new batch each step. The post's answer also suggests other optimisers or "
              "softmax_cross_entropy_with_logits; the study's fix is the lower rate."),
]


# --- a ReLU on the logits of a CNN trained with softmax cross-entropy on logits (Stack Overflow 43239467) ----

def _build_keras_relu_on_logits(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_rows_unit()
    weights = keras.initializers.TruncatedNormal(stddev=0.1)  # the post's initialisation: weights 0.1, biases 0.1
    bias = keras.initializers.Constant(0.1)

    def conv(width):
        return [L.Conv2D(width, 5, padding="same", activation="relu", kernel_initializer=weights,
                         bias_initializer=bias), L.MaxPooling2D(padding="same")]

    layers = [*conv(32), *conv(64), L.Flatten(),
              L.Dense(1024, activation="relu", kernel_initializer=weights, bias_initializer=bias),
              # the bug: the post's fc_layer puts a ReLU on every layer, the logits layer included
              L.Dense(10, activation="relu" if buggy else None, kernel_initializer=weights, bias_initializer=bias)]
    model = _sequential(keras, (8, 8, 1), layers)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)  # softmax_cross_entropy_with_logits
    return model, x.reshape(-1, 8, 8, 1), data.one_hot(labels, 10), loss, keras.optimizers.Adam(1e-3)


CASES += [
    case("ninth_keras_relu_on_logits", "keras", "output activation",
         SO + "43239467",
         "A two-convolution MNIST CNN builds every fully connected layer with a ReLU, the 10-unit logits layer "
         "included, and trains it with softmax cross-entropy on logits: most logits are clipped at zero and pass "
         "no gradient, and the loss stalls with the accuracy far from what the network reaches.",
         "Leave the last fully connected layer without an activation, so it returns raw logits.",
         {"output-cannot-reach-target", "zero-gradients"},
         _build_keras_relu_on_logits,
         note="TensorFlow 1 graph program (the study's StackOverflow/IPS-11 folder, a TensorBoard MNIST demo) rebuilt in "
              "Keras with the post's layers (5x5 convolutions of 32 and 64 with ReLU and 2x2 max-pooling, dense 1024 "
              "ReLU, dense 10), truncated-normal 0.1 weights and 0.1 biases, CategoricalCrossentropy(from_logits=True) "
              "for softmax_cross_entropy_with_logits and Adam at 1e-3. Stand-in: 128 scikit-learn 8x8 digits in "
              "[0, 1] instead of 28x28 MNIST (so the flattened map is 2x2x64), one full batch instead of batches of "
              "100. Judgement calls: output-cannot-reach-target's fix (a linear output, no activation) is the "
              "commit's; zero-gradients' fix walks back from the output to the first layer passing no gradient, "
              "which is the ReLU on the logits. dead-relu is not listed: its fixes (lower rate, LeakyReLU) would "
              "keep an activation on the logits."),
]
