"""Ninth held-out set, part f: the subjects of Zhang et al.'s TensorFlow bug study (ISSTA 2018), rebuilt as
(buggy, fixed) twins, for one final measurement.

The subjects were taken in a fixed shuffled order (`ninth_frame.txt`, part f's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".

Every builder returns (model, x, y, loss, optimizer). The subjects are TensorFlow 1 graph programs; each is
rebuilt in Keras (or PyTorch where the note says so) on scikit-learn's bundled data or small synthetic data
(at most 256 rows). ``expected`` was written from the catalogue's codes, titles and fix sentences only.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import LOWER_LR, OUTSIDE, _rng, _tensors  # noqa: F401  (OUTSIDE: for cases outside the catalogue)
from .held_out_cases import SO
from .keras_cases import _keras, _sequential

ZHANG = "https://github.com/ForeverZyh/TensorFlow-Program-Bugs/tree/master/"


def _digit_colour_images(n=128):
    """8x8 digits in [0, 1] as three identical colour channels (n, 8, 8, 3), Keras's layout, and labels 0..9."""
    images, labels = data.digits(n)
    x = np.repeat((images / 16.0).reshape(-1, 8, 8, 1), 3, axis=3).astype(np.float32)
    return x, labels


# --- integer class labels fed where the loss takes one-hot rows (Stack Overflow 44124668, Zhang UT-4) ---

def _build_keras_cnn_integer_labels_one_hot_loss(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_colour_images()
    model = _sequential(keras, x.shape[1:], [
        L.Conv2D(16, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    # the bug: one integer label per image for a cross-entropy over one-hot rows; the fix one-hots them
    y = labels if buggy else data.one_hot(labels, 10)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(1e-3)


# --- Adam's default epsilon in a float16 model: it rounds to 0 and a zero gradient gives 0/0 (Stack Overflow 42064941, Zhang IPS-10) ---

def _build_keras_float16_adam_default_epsilon(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits(128)
    x = (images / 16.0).reshape(-1, 8, 8, 1).astype(np.float16)
    model = keras.Sequential([keras.Input(x.shape[1:], dtype="float16"),
                              L.Conv2D(16, 3, padding="same", activation="relu", dtype="float16"),
                              L.Flatten(dtype="float16"), L.Dense(10, activation="softmax", dtype="float16")])
    # the bug: TensorFlow 1's Adam epsilon (1e-8) is below float16's smallest step and becomes 0; the fix: 1e-4
    optimizer = keras.optimizers.Adam(1e-3, epsilon=1e-8 if buggy else 1e-4)
    return model, x, labels, "sparse_categorical_crossentropy", optimizer


# --- plain gradient descent at 0.1 on a line through points in [-8, 8] diverges (Stack Overflow 39939881, Zhang IPS-5) ---

def _build_keras_line_fit_sgd_diverges(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    w, b = rng.uniform(-8, 8, size=2)
    x = rng.uniform(-8, 8, size=(8, 1)).astype(np.float32)  # eight points, as in the subject
    y = (w * x + b + rng.uniform(-1, 1, size=(8, 1))).astype(np.float32)
    model = _sequential(keras, (1,), [L.Dense(1, kernel_initializer="zeros")])
    # the bug: gradient descent at 0.1, too large a step for inputs of this size; the fix: Adam at the same rate
    optimizer = keras.optimizers.SGD(0.1) if buggy else keras.optimizers.Adam(0.1)
    return model, x, y, "mse", optimizer


# --- gradient descent at 0.5 on a time index 0..99 (Stack Overflow 43636736, Zhang IPS-15) ---

def _half_mean_squared_error(keras):
    """(1 / 2T) * sum((y - y_hat)^2), the subject's loss: half of Keras's mean squared error."""
    ops = keras.ops

    def half_mse(y_true, y_pred):
        return 0.5 * ops.mean(ops.square(y_true - y_pred))

    return half_mse


def _build_keras_time_index_regression_sgd_diverges(buggy):
    keras = _keras()
    L = keras.layers
    steps = 100
    t = np.arange(steps, dtype=np.float32)
    x = np.stack([t, np.ones(steps, dtype=np.float32)], axis=1)  # the raw time index and a column of ones
    y = (2 * t + 4 + 10 * _rng().random(steps)).astype(np.float32).reshape(-1, 1)
    model = _sequential(keras, (2,), [L.Dense(1, use_bias=False, kernel_initializer="ones")])
    # the bug: plain gradient descent at 0.5 on an input that reaches 99; the fix lowers the rate to 0.0005
    optimizer = keras.optimizers.SGD(0.5 if buggy else 0.0005)
    return model, x, y, _half_mean_squared_error(keras), optimizer


# --- 'VALID' convolutions under a flatten sized for 'SAME' ones (Stack Overflow 38167455, Zhang UT-1) ---

def _digits_28(n=128):
    """8x8 digits blown up to MNIST's 28x28 (each pixel 3x3, a 2-pixel margin), in [0, 1], as (n, 1, 28, 28)."""
    images, labels = data.digits(n)
    big = np.kron(images.reshape(-1, 8, 8) / 16.0, np.ones((3, 3)))
    return np.pad(big, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32), labels


class _TutorialCnn(nn.Module):
    """The TensorFlow tutorial's two 5x5 convolutions (ReLU, 2x2 max-pooling each), then a flatten written as
    view(-1, side * side * filters), a ReLU layer with dropout and ten class scores."""

    def __init__(self, padding, side=7, filters=(8, 16), hidden=64):
        super().__init__()
        self.flat = side * side * filters[1]
        self.conv1 = nn.Conv2d(1, filters[0], 5, padding=padding)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 5, padding=padding)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)  # TensorFlow's 'SAME' pooling
        self.fc1 = nn.Linear(self.flat, hidden)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        h = h.view(-1, self.flat)  # the tutorial's reshape(h, [-1, side * side * filters])
        return self.fc2(self.drop(torch.relu(self.fc1(h))))


def _build_torch_valid_conv_flatten_sized_for_same(buggy):
    torch.manual_seed(0)
    images, labels = _digits_28()
    # the bug: 'VALID' convolutions (28 -> 24 -> 12 -> 8 -> 4); the fix: 'SAME' ones (28 -> 14 -> 7)
    model = _TutorialCnn(padding=0 if buggy else 2, side=7)  # 7x7: the size 'SAME' convolutions leave
    x, y = _tensors(images, labels, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), 1e-3)


# --- integer labels for a cross-entropy over one-hot rows under an LSTM (Stack Overflow 43676638, Zhang UT-5) ---

def _build_keras_lstm_integer_labels_dense_softmax_loss(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits(128)
    x = (images / 16.0).reshape(-1, 8, 8).astype(np.float32)  # each image read as 8 time steps of 8 pixels
    model = _sequential(keras, x.shape[1:], [L.LSTM(32), L.Dense(10)])  # class scores, no softmax
    # the bug: integer labels for the one-hot cross-entropy; the fix: the sparse cross-entropy for integer labels
    loss = (keras.losses.CategoricalCrossentropy(from_logits=True) if buggy
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, x, labels, loss, keras.optimizers.Adam(1e-3)


# --- a (3,) target against a (3, 1) output: the squared error broadcasts to 3x3 (Stack Overflow 38447935, Zhang UT-15) ---

def _build_torch_line_fit_target_broadcast(buggy):
    torch.manual_seed(0)
    x = torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])  # the subject's three points, a column of ones first
    y = torch.tensor([1.0, 2.0, 3.0])
    if not buggy:  # the fix: give the target the output's shape (3, 1)
        y = y.unsqueeze(1)
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():  # the subject's initialisation: truncated normal with standard deviation 0.1
        nn.init.trunc_normal_(model.weight, std=0.1, a=-0.2, b=0.2)
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-2)


# --- a flatten and dense layer sized for 4x4 maps that are 8x8, so the reshape makes 4 rows per image (Stack Overflow 43285733, Zhang UT-12) ---

def _build_torch_flatten_sized_for_smaller_maps(buggy):
    torch.manual_seed(0)
    images, labels = data.digits(128)
    big = np.kron(images.reshape(-1, 8, 8) / 16.0, np.ones((3, 3)))  # 24x24, then a 3-pixel margin: 30x30
    x = (np.pad(big, ((0, 0), (3, 3), (3, 3)))[:, None] - 0.5).astype(np.float32)  # in [-0.5, 0.5] as the subject's
    # 30 -> 15 -> 8 after the two 'SAME' poolings; the bug sizes the flatten and the dense layer for 4x4 maps
    model = _TutorialCnn(padding=2, side=4 if buggy else 8)
    x, y = _tensors(x, labels, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), 1e-3)


CASES = []

CASES += [
    case("ninth_keras_cnn_integer_labels_one_hot_loss", "keras", "target format / one-hot",
         SO + "44124668",
         "A two-convolution TensorFlow CNN for ten classes takes its targets through a placeholder of shape "
         "(None, 10) for a cross-entropy over one-hot rows, but is fed one integer label per image, so training "
         "stops with 'Cannot feed value of shape (50,) for Tensor ... which has shape (?, 10)'.",
         "Take the labels as integers and one-hot them (tf.one_hot(y, 10)) before the cross-entropy and the "
         "accuracy.",
         {"target-shape-broadcast"}, _build_keras_cnn_integer_labels_one_hot_loss,
         note="TensorFlow 1 graph program (Zhang et al.'s UT-4) rebuilt in Keras: softmax output with categorical "
              "cross-entropy stands for the hand-written -sum(y * log(softmax)), and the fixed twin one-hots the "
              "labels before they reach the loss, as the fix does inside the graph. The subject's 56x56x3 noise "
              "images with random labels (batches of 50) are rebuilt as 128 8x8 digits copied into three channels; "
              "convolutions of 16 and 32 filters and a 64-unit layer instead of 32, 64 and 1024; Adam at 1e-3 "
              "instead of 1e-4 on a summed loss so the fixed twin learns in a few hundred steps (the rate plays no "
              "part in the bug). TensorFlow 1 stops at the feed; Keras 3 stops at the loss (target (128,) against "
              "output (128, 10)), the same shape error at the same place. target-shape-broadcast's fix asks for "
              "targets of the output's shape, which one-hot rows give; a judgement call, as no code's fix names "
              "one-hot encoding."),
]

CASES += [
    case("ninth_keras_float16_adam_default_epsilon", "keras", "optimizer settings / float16",
         SO + "42064941",
         "A float16 convolution layer trained with Adam at its default epsilon of 1e-8, which float16 cannot hold "
         "and rounds to 0, so a weight whose gradient is exactly zero gets the update 0 / 0 and the weights and "
         "the loss become NaN after the first step.",
         "Give Adam an epsilon that float16 can represent (AdamOptimizer(1e-3, epsilon=1e-4)).",
         {"non-finite-loss"}, _build_keras_float16_adam_default_epsilon,
         note="TensorFlow 1 graph program (Zhang et al.'s IPS-10, the poster's minimal repro) rebuilt in Keras with "
              "every layer, the input and the weights in float16. The subject trains a zero-initialised 3x3 slim "
              "convolution (ReLU) on an all-zero input of shape (4, 16, 16, 3) with the mean of its output as the "
              "loss, which makes every kernel gradient exactly zero; the rebuild trains a small digit classifier "
              "instead (128 8x8 digits in [0, 1], Conv2D(16, 3, ReLU), Flatten, a softmax layer, sparse "
              "categorical cross-entropy) with Keras's default initialisation, where the exactly-zero gradients "
              "come from blank pixels and inactive ReLU units: the same 0 / 0 in Adam's update, at the same place, "
              "with the subject's rate 1e-3 and both epsilons. No code names float16 or Adam's epsilon; "
              "non-finite-loss is a judgement call: its title names the symptom and its fix (find the first "
              "non-finite step, check division) points at the division whose epsilon vanished."),
]

CASES += [
    case("ninth_keras_line_fit_sgd_diverges", "keras", "optimizer settings / learning rate",
         SO + "39939881",
         "A one-weight linear regression y = W x + B on eight points with x in [-8, 8], trained with plain gradient "
         "descent at a rate of 0.1 on the mean squared error, diverges: the loss and the weights grow until they "
         "are NaN ('NaNs without any division').",
         "Train with AdamOptimizer(0.1) instead of GradientDescentOptimizer(0.1).",
         LOWER_LR, _build_keras_line_fit_sgd_diverges,
         note="TensorFlow 1 graph program (Zhang et al.'s IPS-5) rebuilt in Keras as Dense(1) with zero-initialised "
              "weight and bias, mean squared error and the subject's rates; the subject's data generator (a line "
              "with slope and intercept drawn from [-8, 8], eight x values in [-8, 8], uniform noise in [-1, 1]) is "
              "redrawn with numpy's generator. Keras takes the targets as (8, 1) where the subject used (8,). "
              "Expected codes are the learning-rate group (lr-too-high, update-ratio-high, exploding-gradients, "
              "non-finite-loss): the fix swaps the optimizer at the same rate rather than lowering it, but the cause "
              "is gradient descent's step being too large for inputs of this size (any rate below about 0.05 "
              "converges), and Adam's steps are bounded by the rate; a judgement call."),
]

CASES += [
    case("ninth_keras_time_index_regression_sgd_diverges", "keras", "optimizer settings / learning rate",
         SO + "43636736",
         "A linear regression of y = 2t + 4 + noise on the raw time index t = 0..99 (with a column of ones for the "
         "intercept), trained with plain gradient descent at a rate of 0.5 on half the mean squared error, "
         "diverges: the weights and the loss grow until they are NaN.",
         "Lower gradient descent's rate to 0.0005.",
         LOWER_LR, _build_keras_time_index_regression_sgd_diverges,
         note="TensorFlow 1 graph program (Zhang et al.'s IPS-15) rebuilt in Keras: a bias-free Dense(1) initialised "
              "to ones over the two input columns [t, 1] stands for the subject's W (1x2) times X (2xT), and the "
              "loss is the subject's (1 / 2T) * sum of squares; its 100 points and noise (10 * uniform[0, 1)) are "
              "redrawn with numpy's generator. The subject lays the samples along the second axis (X of shape "
              "(2, 100)); Keras takes them along the first. The fix lowers the rate, which the learning-rate group "
              "of codes names. The inputs are also unscaled (t up to 99), and unscaled-inputs' fix (standardise the "
              "inputs) would cure it another way; not counted, as the subject's fix keeps the raw index."),
]

CASES += [
    case("ninth_torch_valid_conv_flatten_sized_for_same", "torch", "model structure / layer sizes",
         SO + "38167455",
         "The TensorFlow MNIST tutorial's CNN with its convolutions switched to 'VALID' padding keeps the flatten "
         "reshape(-1, 7*7*64) and a first dense layer sized for 'SAME' padding, but 'VALID' leaves 4x4 maps, so "
         "the reshape cannot split the batch's values into rows of 7*7*64 and training stops with an error.",
         "Use 'SAME' padding in the convolutions, so that the two poolings leave the 7x7 maps the reshape and the "
         "dense layer were sized for.",
         {"layer-size-mismatch"}, _build_torch_valid_conv_flatten_sized_for_same,
         note="TensorFlow 1 graph program (Zhang et al.'s UT-1) rebuilt in PyTorch, because its mechanism is the "
              "hand-written flatten reshape(-1, 7*7*64), written here as view(-1, 7*7*filters) in forward(); "
              "padding 0 stands for 'VALID' and padding 2 for 'SAME' with 5x5 kernels, and ceil-mode pooling for "
              "TensorFlow's 'SAME' pooling. MNIST is rebuilt as 128 8x8 digits blown up to 28x28; 8 and 16 filters "
              "and a 64-unit layer instead of 32, 64 and 1024; cross-entropy on the scores instead of the "
              "subject's summed, clipped log of the softmax; Adam at 1e-3 instead of 1e-4 so the fixed twin learns "
              "in a few hundred steps (neither plays a part in the bug). With 128 images the view fails as the "
              "subject's reshape does with its batches of 50 (the values are not a multiple of the row size). "
              "layer-size-mismatch names the bug (the flatten and the dense layer are sized for 7x7 maps and "
              "receive 4x4 ones); its fix sentence offers sizing the layer from what it receives or giving it the "
              "input it was built for, which the subject's padding change does. samples-mixed (a view that does "
              "not keep the batch axis) is not counted: its fix would turn the error into a size mismatch at the "
              "dense layer, not lead to the padding."),
]

CASES += [
    case("ninth_keras_lstm_integer_labels_dense_softmax_loss", "keras", "target format / loss pairing",
         SO + "43676638",
         "An LSTM that reads MNIST images row by row (28 steps of 28 pixels) loads the labels as integers "
         "(one_hot=False) but keeps a label placeholder of shape (None, 10) and softmax_cross_entropy_with_logits, "
         "so training stops with 'Cannot feed value of shape (64,) for Tensor ... which has shape (?, 10)'.",
         "Take the labels as integers (a placeholder of shape (None,)) and use "
         "sparse_softmax_cross_entropy_with_logits.",
         {"target-shape-broadcast"}, _build_keras_lstm_integer_labels_dense_softmax_loss,
         note="TensorFlow 1 graph program (Zhang et al.'s UT-5) rebuilt in Keras: LSTM and a linear ten-unit layer "
              "(the subject's static_rnn over BasicLSTMCell(128) and its output weights), categorical cross-entropy "
              "from logits in the buggy twin and the sparse one in the fixed twin, Adam at the subject's 1e-3. "
              "MNIST's 28x28 rows are rebuilt as 128 8x8 digits read as 8 steps of 8 pixels, and LSTM(32) "
              "instead of 128 units. TensorFlow 1 stops at the feed; Keras 3 stops at the loss (target (128,) "
              "against output (128, 10)), the same mismatch at the same place. Judgement call: "
              "target-shape-broadcast's fix (give the targets the output's shape, i.e. one-hot rows) is the other "
              "way to make the labels and the loss agree, not the subject's switch to the sparse loss; no code's "
              "fix names the sparse loss. The same bug in a CNN is ninth_keras_cnn_integer_labels_one_hot_loss "
              "(Stack Overflow 44124668), fixed there by one-hot encoding."),
]

CASES += [
    case("ninth_torch_line_fit_target_broadcast", "torch", "target shape / broadcasting",
         SO + "38447935",
         "A linear fit y = x w through three points keeps its targets as a vector of shape (3,) while x w has "
         "shape (3, 1), so the squared error broadcasts to a 3x3 matrix and the model learns to predict the "
         "targets' mean for every point ('model always produces mean').",
         "Give the targets the output's shape with tf.expand_dims(y_, axis=1).",
         {"target-shape-broadcast"}, _build_torch_line_fit_target_broadcast,
         note="TensorFlow 1 graph program (Zhang et al.'s UT-15) rebuilt in PyTorch, whose MSELoss broadcasts a (3,) "
              "target against a (3, 1) output as tf.square(y_ - y) does (Keras 3 reshapes the target to the "
              "output's rank instead, so it cannot show the bug). A bias-free Linear(2, 1) over the subject's three "
              "rows [1, t] with the subject's truncated-normal start and targets 1, 2, 3; float32 instead of "
              "float64, and Adam at 1e-2 instead of 1e-4 so that 300 steps do what the subject's 50,000 do (the "
              "rate plays no part in the bug). target-shape-broadcast's title and fix name the bug and the fix."),
]

CASES += [
    case("ninth_torch_flatten_sized_for_smaller_maps", "torch", "model structure / layer sizes",
         SO + "43285733",
         "A copy of the TensorFlow MNIST tutorial's CNN for 30x30 images keeps the tutorial's arithmetic for the "
         "flatten, reshape(-1, 4*4*64) and a dense layer of 4*4*64 inputs, but two 'SAME' poolings of 30x30 leave "
         "8x8 maps, so the reshape makes four rows per image and the loss stops with 'Incompatible shapes'.",
         "Size the flatten and the first dense layer for the 8x8 maps: reshape(-1, 8*8*64) and weights of "
         "8*8*64 rows.",
         {"layer-size-mismatch"}, _build_torch_flatten_sized_for_smaller_maps,
         note="TensorFlow 1 graph program (Zhang et al.'s UT-12) rebuilt in PyTorch, because its mechanism is the "
              "hand-written flatten with -1 (view(-1, 4*4*filters) in forward()), which merges the batch axis; "
              "Keras's Flatten cannot make that mistake. The subject's 100 noise images of 30x30 in [-0.5, 0.5] "
              "with random labels from 62 classes are rebuilt as 128 8x8 digits blown up to 30x30 and shifted to "
              "[-0.5, 0.5], ten classes; 8 and 16 filters and a 64-unit layer instead of 32, 64 and 1024; "
              "cross-entropy on the scores as in the subject; Adam at 1e-3 instead of 1e-4 so the fixed twin "
              "learns in a few hundred steps (the rate plays no part in the bug). The buggy twin stops at the "
              "loss (512 rows of scores against 128 labels), as the subject's does (40 against 10). "
              "layer-size-mismatch's title and fix (size the layer from the shape it really receives) name the "
              "subject's fix; samples-mixed (a view that does not keep the batch axis) is not counted, as its fix "
              "would only move the error to the dense layer."),
]
