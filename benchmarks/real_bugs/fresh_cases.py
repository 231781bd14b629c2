"""Fresh held-out cases (the second held-out set): public threads rebuilt as (buggy, fixed) twins.

Nobody had run diagnose on these when they were written. They were chosen by a fixed rule from
fixed search queries (see the README, "Fresh held-out set (second)"), not by what diagnose can
detect, and ``expected`` was written from the catalogue's titles and fix sentences before any
diagnose run. Where no catalogue code leads to the thread's fix, ``expected`` is empty and
``note`` says so: the case counts as a miss. Run them with ``python -m benchmarks.real_bugs --fresh``.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the thread's (at most 256 rows).
``check_fresh_fidelity.py`` trains both twins with plain code to confirm the buggy twin shows the
thread's symptom and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .keras_cases import _keras, _sequential

GH = "https://github.com/"
OUTSIDE = "Outside what diagnose can see: "
LOWER_LR = {"lr-too-high", "update-ratio-high", "exploding-gradients", "non-finite-loss"}


def _rng(seed: int = 0):
    return np.random.default_rng(seed)


def _tensors(x, y, target_dtype=torch.float32):
    return torch.as_tensor(np.asarray(x), dtype=torch.float32), torch.as_tensor(np.asarray(y), dtype=target_dtype)


def _digit_pixels(n=128):
    """8x8 digit images as 0..255 integers (the scale of raw image files), and their labels."""
    x, y = data.digits(n)
    return np.round(x * 255.0 / 16.0).astype(np.uint8), y


# --- Keras --------------------------------------------------------------------------------------

def _build_keras_one_unit_softmax_next_char(buggy):
    keras = _keras()
    L = keras.layers
    x, y = data.binary_blobs(128, 10)
    layers = [L.Dense(32, activation="relu"), L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    model = _sequential(keras, (10,), layers)
    return model, x, y.reshape(-1, 1), "binary_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_integer_normalisation(buggy):
    keras = _keras()
    L = keras.layers
    pixels, labels = data.digits(128)
    pixels = np.round(pixels * 250.0 / 16.0).astype(np.uint8)  # screenshots: no pixel reaches 255
    if buggy:
        x = (pixels // 255).astype(np.float32)  # the old in-place integer division: every pixel becomes 0
    else:
        x = pixels.astype(np.float32) / 255.0
    model = _sequential(keras, (64,), [L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _build_keras_sgd_halving(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(1, 21, dtype=np.float32).reshape(-1, 1)
    y = x / 2.0
    model = _sequential(keras, (1,), [L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.SGD(0.01 if buggy else 1e-4)


def _build_keras_quadratic_unscaled_target(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(100, dtype=np.float32).reshape(-1, 1)
    y = x ** 2 + 3.0
    if not buggy:  # the poster's update: bring the data to a small range
        x, y = x / 99.0, y / y.max()
    model = _sequential(keras, (1,), [L.Dense(1), L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.SGD(0.01)


def _build_keras_tanh_output_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    x = data.standardise(x)
    layers = [L.Dense(32, activation="relu"), L.Dense(10, activation="tanh" if buggy else "softmax")]
    model = _sequential(keras, (64,), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _build_keras_linear_output_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.iris(120)
    x = data.standardise(x)
    layers = [L.Dense(16, activation="relu"), L.Dense(3, activation=None if buggy else "softmax")]
    model = _sequential(keras, (4,), layers)
    return model, x, data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_linear_regression_scores(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.uniform(25, 70, (100, 1)).astype(np.float32)  # test scores
    y = (1.3 * x + rng.normal(0, 8, (100, 1))).astype(np.float32)
    model = _sequential(keras, (1,), [L.Dense(1)])
    # the thread's rates were 1e-4 and 1e-6 on a summed loss over 100 points; Keras averages, so x100
    return model, x, y, "mse", keras.optimizers.SGD(1e-2 if buggy else 1e-4)


def _build_keras_slow_bias(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.uniform(1, 10, (64, 1)).astype(np.float32)  # house size in hundreds of square metres
    y = (2.0 * x + 10.0).astype(np.float32)
    model = _sequential(keras, (1,), [L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.SGD(1e-5 if buggy else 1e-3)


def _build_keras_nan_images(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    x = (x / 16.0).astype(np.float32)
    keep = np.ones(len(x), dtype=bool)
    keep[[5, 40, 77]] = False
    x[~keep, 2:4] = np.nan  # a few scans carry NaN voxels
    if not buggy:
        x, labels = x[keep], labels[keep]
    x = x.reshape(-1, 8, 8, 1)
    layers = [L.Conv2D(8, 3, padding="same", activation="elu"), L.Flatten(), L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _build_keras_linear_regression_doubling(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(200, dtype=np.float32).reshape(-1, 1)
    y = 2.0 * x
    model = _sequential(keras, (1,), [L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.SGD(1e-3 if buggy else 1e-5)


def _build_keras_autoencoder_raw_pixels(buggy):
    keras = _keras()
    L = keras.layers
    pixels, _ = _digit_pixels(128)
    x = pixels.astype(np.float32) if buggy else pixels.astype(np.float32) / 255.0
    model = _sequential(keras, (64,), [L.Dense(16, activation="relu"), L.Dense(64, activation="sigmoid")])
    return model, x, x.copy(), "binary_crossentropy", keras.optimizers.Adam(1e-3)


def _build_keras_integer_labels_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    y = labels.reshape(-1, 1).astype(np.float32) if buggy else data.one_hot(labels, 10)
    model = _sequential(keras, (64,), [L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")])
    return model, data.standardise(x), y, "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _build_keras_quadratic_fire_theft(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    fires = rng.uniform(2, 40, (42, 1)).astype(np.float32)  # fires per 1000 housing units
    thefts = (0.05 * fires ** 2 + 1.2 * fires + 15 + rng.normal(0, 8, (42, 1))).astype(np.float32)
    x = np.concatenate([fires ** 2, fires], axis=1)  # the quadratic model w*x^2 + u*x + b
    model = _sequential(keras, (2,), [L.Dense(1)])
    return model, x, thefts, "mse", keras.optimizers.SGD(1e-3 if buggy else 1e-6)


# --- PyTorch ------------------------------------------------------------------------------------

def _build_torch_polynomial_features(buggy):
    torch.manual_seed(0)
    rng = _rng()
    t = rng.uniform(1, 5, 64).astype(np.float32)
    y = (3.0 - 2.0 * t + 0.5 * t ** 2 + rng.normal(0, 0.1, 64)).astype(np.float32)
    features = np.stack([np.ones_like(t), t, t ** 2], axis=1)
    if not buggy:  # the answer: normalise the features, keep the constant column for the bias
        features[:, 1:] = data.standardise(features[:, 1:])
    model = nn.Linear(3, 1, bias=False)
    x, y = _tensors(features, y.reshape(-1, 1))
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)


def _build_torch_target_broadcast_linear(buggy):
    torch.manual_seed(0)
    rng = _rng()
    features = rng.normal(size=(256, 3)).astype(np.float32)
    target = features @ np.array([1.5, -2.0, 0.5], dtype=np.float32)
    model = nn.Linear(3, 1, bias=False)
    x, y = _tensors(features, target if buggy else target.reshape(-1, 1))
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.05)


def _build_torch_bce_on_raw_output(buggy):
    torch.manual_seed(0)
    x, y = data.binary_blobs(128, 10)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
    x, y = _tensors(data.standardise(x), y.reshape(-1, 1))
    loss = nn.BCELoss() if buggy else nn.BCEWithLogitsLoss()
    return model, x, y, loss, torch.optim.Adam(model.parameters(), lr=1e-2)


class _TinyFCN(nn.Module):
    """Per-pixel foreground score in [0, 1] (sigmoid), the piwise networks' binary output."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1), nn.Sigmoid())

    def forward(self, x):
        return self.body(x)


def _build_torch_bce_targets_relabelled(buggy):
    torch.manual_seed(0)
    images, _ = data.digits(64)
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    mask = (images > 0.4).astype(np.float32)
    if buggy:
        mask = mask * 21.0  # the label image kept its class index instead of 0/1
    model = _TinyFCN()
    x, y = _tensors(images, mask)
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


class _MemoryScorer(nn.Module):
    """Scores a sample by attention over a memory of learned keys and values."""

    def __init__(self, features=10, slots=8, learnable=True):
        super().__init__()
        self.query = nn.Linear(features, 16)
        keys, values = torch.randn(slots, 16), torch.randn(slots, 1)
        if learnable:
            self.keys, self.values = nn.Parameter(keys), nn.Parameter(values)
        else:  # plain tensors: not parameters, never trained
            self.register_buffer("keys", keys)
            self.register_buffer("values", values)

    def forward(self, x):
        attention = torch.softmax(self.query(x) @ self.keys.T, dim=1)
        return attention @ self.values


def _build_torch_memory_not_parameters(buggy):
    torch.manual_seed(0)
    x, y = data.binary_blobs(128, 10)
    model = _MemoryScorer(learnable=not buggy)
    x, y = _tensors(data.standardise(x), (3.0 * y - 1.5).reshape(-1, 1))
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


class _SqueezedHead(nn.Module):
    def __init__(self, squeeze):
        super().__init__()
        self.squeeze = squeeze
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        out = self.net(x)
        return out.squeeze(-1) if self.squeeze else out


def _build_torch_regression_head_squeezed(buggy):
    torch.manual_seed(0)
    rng = _rng()
    features = rng.normal(size=(128, 8)).astype(np.float32)
    target = (8.0 + 4.0 * features[:, 0] - 3.0 * features[:, 1] + 2.0 * np.tanh(features[:, 2])).astype(np.float32)
    model = _SqueezedHead(squeeze=buggy)
    x, y = _tensors(features, target.reshape(-1, 1))  # labels arrive as (n, 1)
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_softmax_into_crossentropy_imbalanced(buggy):
    torch.manual_seed(0)
    x, y = data.blobs(128, classes=4, features=16)
    rng = _rng()
    keep = (y == 0) | (rng.uniform(size=len(y)) < 0.3)  # most rows in class 0, as in the thread
    x, y = data.standardise(x[keep]), y[keep]
    tail = (nn.Softmax(dim=1),) if buggy else ()
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4), *tail)
    x, y = _tensors(x, y, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _build_torch_sigmoid_into_bce_with_logits(buggy):
    torch.manual_seed(0)
    x, y = data.binary_blobs(128, 10)
    tail = (nn.Sigmoid(),) if buggy else ()
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1), *tail)
    x, y = _tensors(data.standardise(x), y.reshape(-1, 1))
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


class _ListNet(nn.Module):
    """Hidden layers built in a loop; kept in a plain Python list (not registered) or in nn.ModuleList."""

    def __init__(self, registered, features=8, hidden=8, layers=2, classes=3):
        super().__init__()
        hids, width = [], features
        for _ in range(layers):
            hids += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        self.hids = nn.ModuleList(hids) if registered else hids
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, x):
        for layer in self.hids:
            x = layer(x)
        return self.classifier(x)


def _build_torch_layers_in_python_list(buggy):
    torch.manual_seed(0)
    x, y = data.xor(128)
    x = np.concatenate([x, _rng().normal(0, 0.05, (128, 6)).astype(np.float32)], axis=1)  # 6 noise columns
    model = _ListNet(registered=not buggy, classes=2)
    x, y = _tensors(data.standardise(x), y.astype(np.int64), torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


class _RewardWeightedNLL(nn.Module):
    """-reward * log p(action taken); the buggy version builds it from Python floats (.item()) and re-wraps."""

    def __init__(self, through_item):
        super().__init__()
        self.through_item = through_item

    def forward(self, log_probs, actions):
        reward = 1.0
        if self.through_item:
            total = sum(-log_probs[i, int(a)].item() * reward for i, a in enumerate(actions))
            return torch.tensor(total / len(actions), requires_grad=True)
        return -(log_probs.gather(1, actions.view(-1, 1)) * reward).mean()


def _build_torch_loss_through_item(buggy):
    torch.manual_seed(0)
    x, y = data.blobs(128, classes=4, features=6)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4), nn.LogSoftmax(dim=1))
    x, y = _tensors(data.standardise(x), y, torch.long)
    return model, x, y, _RewardWeightedNLL(through_item=buggy), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_course_linear_regression(buggy):
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(100, 1, generator=gen) * 10
    y = x + 3 * torch.randn(100, 1, generator=gen)
    model = nn.Linear(1, 1)
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01 if buggy else 1e-5)


class _Forecaster(nn.Module):
    """One-step-ahead forecaster: a window of past values in, a (batch, 1) prediction out."""

    def __init__(self, window=12):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(window, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


def _build_torch_forecast_target_broadcast(buggy):
    torch.manual_seed(0)
    rng = _rng()
    t = np.arange(12 + 128, dtype=np.float32)
    series = (np.sin(t / 5.0) + 0.5 * np.sin(t / 13.0) + rng.normal(0, 0.05, t.shape)).astype(np.float32)
    windows = np.stack([series[i:i + 12] for i in range(128)])
    target = series[12:12 + 128]
    model = _Forecaster()
    x, y = _tensors(windows, target if buggy else target.reshape(-1, 1))  # the loader gave (B,) targets
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


CASES = [
    # --- Keras ---
    case("fresh_keras_one_unit_softmax_next_char", "keras", "output activation", GH + "keras-team/keras/issues/500",
         "The output is a single Dense unit with softmax, so it is 1 for every input and nothing is learned.",
         "Use a sigmoid on the single unit (or two or more softmax units).",
         {"one-unit-softmax"}, _build_keras_one_unit_softmax_next_char,
         note="The thread predicts the next character of a text; rebuilt as a 10-feature binary task with the "
              "same one-unit softmax output. Keras 3 computes binary cross-entropy from the pre-softmax score, so "
              "the reported loss falls while the output stays 1 for every input (accuracy at chance)."),
    case("fresh_keras_integer_normalisation", "keras", "preprocessing", GH + "keras-team/keras/issues/255",
         "Images kept as an integer array are divided by 255 in place, so every pixel becomes 0 and the model "
         "cannot learn.",
         "Convert the images to float before dividing by 255.",
         {"constant-inputs"}, _build_keras_integer_normalisation,
         note="The old in-place integer division is written out as floor division; digits rescaled to 0..250 "
              "stand in for the game screenshots, so every pixel becomes 0, as in the thread."),
    case("fresh_keras_sgd_halving", "keras", "learning rate", "https://stackoverflow.com/questions/69755379",
         "A one-unit linear model learning y = x/2 on x from 1 to 20 diverges with SGD's default learning rate.",
         "Lower the SGD learning rate to 1e-4.",
         LOWER_LR, _build_keras_sgd_halving,
         note="Read through a mirror of the question (fixeme.com / py4u.org); the accepted answer lowers the "
              "learning rate."),
    case("fresh_keras_quadratic_unscaled_target", "keras", "unscaled data",
         "https://stats.stackexchange.com/questions/418955",
         "Two stacked linear Dense units are fitted to y = x^2 + 3 on x from 0 to 99 with raw-scale targets up to "
         "about 9800, and the loss blows up.",
         "Rescale the data (the poster's update names the target's scale) to a small range before training.",
         {"exploding-gradients", "non-finite-loss", "unscaled-inputs"}, _build_keras_quadratic_unscaled_target,
         note="Read through a mirror (wiki.hoelee.com). The fixed twin rescales x and y to [0, 1]; a linear "
              "model still cannot fit the curve, so 'learns' means the loss falls without diverging."),
    case("fresh_keras_tanh_output_categorical", "keras", "output activation", GH + "nndl/exercise/issues/12",
         "The last Dense layer of an MNIST classifier uses tanh while the loss is categorical cross-entropy.",
         "Use softmax on the last layer.",
         {"rows-not-probabilities"}, _build_keras_tanh_output_categorical,
         note="rows-not-probabilities is written for outputs in [0, 1]; tanh rows can also be negative, but its "
              "fix (a softmax output) is the thread's fix. Digits stand in for MNIST."),
    case("fresh_keras_linear_output_categorical", "keras", "loss/output pairing",
         GH + "karaage0703/karaage-ai-book/issues/26",
         "The final Dense layer has no activation while the loss is categorical cross-entropy on probabilities.",
         "Add a softmax activation to the final layer.",
         {"logits-into-probability-loss", "rows-not-probabilities"}, _build_keras_linear_output_categorical,
         note="Iris stands in for the book's image classes."),
    case("fresh_keras_linear_regression_scores", "keras", "learning rate",
         GH + "llSourcell/linear_regression_live/issues/4",
         "A linear regression on raw test scores (about 25-70) with plain gradient descent turns the loss into NaN.",
         "Lower the learning rate (the poster's 1e-6 on a summed loss); normalising the data also helps.",
         LOWER_LR | {"unscaled-inputs"}, _build_keras_linear_regression_scores,
         note="The thread's code is plain TensorFlow/NumPy gradient descent; rebuilt as Keras Dense(1) with SGD, "
              "rates scaled by 100 because Keras averages the loss over the 100 points."),
    case("fresh_keras_slow_bias", "keras", "learning rate", GH + "nethsix/gentle_tensorflow/issues/7",
         "A linear regression's bias barely moves in the given number of steps because the learning rate is tiny.",
         "Raise the learning rate (the maintainer's 0.001).",
         {"update-ratio-low", "too-few-steps"}, _build_keras_slow_bias,
         note="The thread is plain TensorFlow; rebuilt as Keras Dense(1) with SGD at the thread's rates."),
    case("fresh_keras_nan_images", "keras", "bad data", GH + "deepmedic/deepmedic/issues/66",
         "A few training images contain NaN values, so the training loss is NaN.",
         "Remove (or clean) the images that contain NaN.",
         {"non-finite-loss"}, _build_keras_nan_images,
         note="DeepMedic is a 3D segmentation CNN; rebuilt as a small Keras CNN on digits with three NaN images. "
              "non-finite-loss's fix points at the first NaN step but names lr/scale/log rather than the data."),
    case("fresh_keras_linear_regression_doubling", "keras", "learning rate", GH + "keras-team/keras/issues/3040",
         "A one-unit linear regression of y = 2x on x from 0 to 199 with SGD at 0.001 gives NaN weights.",
         "Lower the learning rate (the poster found it was too high).",
         LOWER_LR, _build_keras_linear_regression_doubling,
         note="The thread trains with batch size 1; the builder leaves batching to the caller. Fixed rate 1e-5."),
    case("fresh_keras_autoencoder_raw_pixels", "keras", "unscaled data", GH + "keras-team/keras/issues/3642",
         "The Keras blog's autoencoder is fed 0-255 integer pixels, with a sigmoid output and binary "
         "cross-entropy, and reconstructs badly.",
         "Cast the pixels to float and scale them to [0, 1].",
         {"unscaled-inputs", "output-cannot-reach-target"}, _build_keras_autoencoder_raw_pixels,
         note="Digits rescaled to 0..255 stand in for MNIST; Adam instead of the blog's adadelta."),
    case("fresh_keras_integer_labels_categorical", "keras", "targets", GH + "keras-team/keras/issues/193",
         "Integer class labels (one column) are passed to categorical cross-entropy, which needs one column per "
         "class, and training fails.",
         "Convert the labels to one-hot rows (to_categorical) before fitting.",
         {"target-shape-broadcast"}, _build_keras_integer_labels_categorical,
         note="The thread's failure is an error under Theano; target-shape-broadcast's fix (give the targets the "
              "output's shape) is the nearest code. Digits stand in for the poster's data."),
    case("fresh_keras_quadratic_fire_theft", "keras", "learning rate",
         GH + "chiphuyen/stanford-tensorflow-tutorials/issues/54",
         "A quadratic regression (w*x^2 + u*x + b) of thefts on fires per 1000 housing units has its loss grow to "
         "inf and NaN.",
         "Lower the learning rate (the poster traced the blow-up to it).",
         LOWER_LR | {"unscaled-inputs"}, _build_keras_quadratic_fire_theft,
         note="The thread is low-level TensorFlow on the Chicago fire/theft data (42 rows); rebuilt as Keras "
              "Dense(1) on [x^2, x] with SGD, synthetic rows of the same scale, fixed rate 1e-6."),
    # --- PyTorch ---
    case("fresh_torch_polynomial_features", "torch", "unscaled inputs", "https://stackoverflow.com/questions/66143829",
         "A linear model on features [1, x, x^2] with x from 1 to 5 and SGD at 0.01 has its loss explode.",
         "Normalise the features (keeping the constant column for the bias).",
         {"unscaled-inputs", "exploding-gradients", "non-finite-loss"}, _build_torch_polynomial_features,
         note="Read through a mirror of the question (codewithsundeep); the thread's hand-written weights are "
              "an nn.Linear without bias here."),
    case("fresh_torch_target_broadcast_linear", "torch", "shapes",
         "https://discuss.pytorch.org/t/output-of-the-model-depends-on-the-shape-of-the-weights-tensor/148155",
         "Targets of shape (n,) against outputs of shape (n, 1) make MSELoss broadcast to (n, n), and the fit "
         "is wrong.",
         "Give the targets the output's shape (unsqueeze them to (n, 1)).",
         {"target-shape-broadcast"}, _build_torch_target_broadcast_linear,
         note="256 rows instead of the thread's 1024."),
    case("fresh_torch_bce_on_raw_output", "torch", "loss/output pairing", GH + "frgfm/holocron/pull/118",
         "BCELoss is applied to a Linear layer's raw output, which is not a probability.",
         "Use BCEWithLogitsLoss on the raw output.",
         {"logits-into-probability-loss"}, _build_torch_bce_on_raw_output,
         note="Current PyTorch raises an error when BCELoss gets values outside [0, 1]; that error is the "
              "buggy twin's symptom."),
    case("fresh_torch_bce_targets_relabelled", "torch", "targets", GH + "bodokaiser/piwise/issues/9",
         "Binary masks relabelled with a class index (21) are fed to BCELoss against sigmoid outputs, so the loss "
         "goes negative and nothing sensible is learned.",
         "Keep the targets in [0, 1] (convert the masks the way the images are converted).",
         {"output-cannot-reach-target"}, _build_torch_bce_targets_relabelled,
         note="VOC segmentation rebuilt as stroke masks of 8x8 digits."),
    case("fresh_torch_memory_not_parameters", "torch", "frozen parameters",
         GH + "SimonThomine/RememberingNormality/issues/7",
         "A memory module's keys and values are made as plain tensors rather than nn.Parameter, so they are never "
         "trained.",
         "Wrap the keys and values in nn.Parameter so the optimizer updates them.",
         {"frozen-parameters"}, _build_torch_memory_not_parameters,
         note="The plain tensors are registered as buffers so they move with the model, as in the repository. "
              "frozen-parameters' fix (make them trainable, optimizer over them) is the nearest code; the "
              "tensors are not parameters at all, so a check over parameters may not see them."),
    case("fresh_torch_regression_head_squeezed", "torch", "shapes", GH + "deepset-ai/FARM/issues/229",
         "A regression head squeezes its output to (n,) while the labels are (n, 1), so MSELoss broadcasts "
         "to (n, n) and warns.",
         "Stop squeezing the head's output so it matches the labels' shape.",
         {"target-shape-broadcast"}, _build_torch_regression_head_squeezed,
         note="Maintainer's fix in FARM pull request #230; a small MLP head stands in for DistilBERT."),
    case("fresh_torch_softmax_into_crossentropy_imbalanced", "torch", "loss/output pairing",
         GH + "illiterate/BertClassifier/issues/2",
         "The classifier ends in softmax before CrossEntropyLoss, so the loss falls very slowly and predictions "
         "lean to the majority class.",
         "Remove the softmax from the model's output.",
         {"softmax-before-crossentropy"}, _build_torch_softmax_into_crossentropy_imbalanced,
         note="BERT rebuilt as an MLP on imbalanced 16-feature blobs (about 40% of rows in one class)."),
    case("fresh_torch_sigmoid_into_bce_with_logits", "torch", "loss/output pairing",
         GH + "yudi-mars/daisyRec/pull/15",
         "The model applies a sigmoid and then BCEWithLogitsLoss applies another, so the loss does not converge.",
         "Drop the model's sigmoid and let BCEWithLogitsLoss apply it.",
         {"softmax-before-crossentropy"}, _build_torch_sigmoid_into_bce_with_logits,
         note="A recommender rebuilt as a binary MLP classifier."),
    case("fresh_torch_layers_in_python_list", "torch", "unregistered parameters", GH + "pytorch/pytorch/issues/715",
         "Hidden layers built in a loop are kept in a plain Python list, so they are not registered, not in "
         "parameters() and never trained.",
         "Hold the layers in nn.ModuleList (a maintainer's answer).",
         {"frozen-parameters"}, _build_torch_layers_in_python_list,
         note="Rebuilt on XOR with six noise columns and narrow tanh layers. frozen-parameters (part of the model "
              "never changes; optimizer over the model's parameters) is the nearest code: the layers are not "
              "parameters of the model at all."),
    case("fresh_torch_loss_through_item", "torch", "no gradient path", GH + "isayev/ReLeaSE/issues/39",
         "The policy loss is assembled from .item() values and re-wrapped as a new tensor, so no gradient reaches "
         "the weights and they never change.",
         "Build the loss from the model's output tensors, without .item()/.numpy() detaching them.",
         {"no-gradient-path"}, _build_torch_loss_through_item,
         note="The thread's reinforcement-learning loss (log-probability times reward) is rebuilt as a "
              "reward-weighted log-likelihood of labelled actions with reward 1 on four-class blobs; the "
              "maintainer's reply names the detaching."),
    case("fresh_torch_course_linear_regression", "torch", "learning rate",
         GH + "rslim087a/PyTorch-for-Deep-Learning-and-Computer-Vision-Course-All-Codes-/issues/1",
         "A course's one-unit linear regression on x = 10 * randn with SGD at 0.01 diverges.",
         "Lower the learning rate drastically (1e-5, which the poster confirmed works).",
         LOWER_LR, _build_torch_course_linear_regression,
         note="Same data recipe and optimizer as the course notebook (100 rows)."),
    case("fresh_torch_forecast_target_broadcast", "torch", "shapes", GH + "jsboige/CoursIA/pull/926",
         "One-step forecasts of shape (B, 1) are compared with targets of shape (B,), so MSELoss broadcasts to "
         "(B, B) and the models train towards the wrong thing.",
         "Reshape the targets to the prediction's shape before the loss (view_as).",
         {"target-shape-broadcast"}, _build_torch_forecast_target_broadcast,
         note="The pull request fixes four forecasting architectures (Mamba, iTransformer, PatchTST, TFT); rebuilt "
              "as a small MLP on windows of a synthetic series."),
]
