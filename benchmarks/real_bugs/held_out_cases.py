"""Held-out cases: DeepLocalize's Stack Overflow benchmark, rebuilt as (buggy, fixed) twins.

The programs are in github.com/Wardat-ISU/DeepLocalize, Benchmark/StackOverflow/<post id>
(a buggy and a correct version each; the fix of each post is also listed in that folder's
Benchmark.xlsx). The detectors were not tuned on them: run them with
``python -m benchmarks.real_bugs --held-out``. ``expected`` was written before diagnose was
run on any of them. Where DeepLocalize's recorded fix is something no catalogue code points to,
``expected`` is empty and ``note`` says so: the case counts as a miss.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the post's (at most 256 rows).
"""
from __future__ import annotations

import numpy as np
from sklearn import datasets

from . import case, data
from .keras_cases import _keras, _sequential

SO = "https://stackoverflow.com/questions/"
OUTSIDE = "Outside what diagnose can see: "


def _rng(seed: int = 0):
    return np.random.default_rng(seed)


def _dense(L, units, activation=None, init="glorot_uniform"):
    return L.Dense(units, activation=activation, kernel_initializer=init)


# --- data of the posts' kinds -------------------------------------------------------------------

def _xor_column(n=16):
    x, y = data.xor(n)
    return x, y.reshape(-1, 1)


def _titanic_like(n=128):
    """Ten label-encoded passenger columns at their raw scales (class, name code, sex, age, ...)."""
    rng = _rng()
    pclass, sex = rng.integers(1, 4, n), rng.integers(0, 2, n)
    columns = [pclass, rng.integers(0, 891, n), sex, rng.uniform(1, 80, n), rng.integers(0, 5, n),
               rng.integers(0, 4, n), rng.integers(0, 681, n), rng.exponential(32, n), rng.integers(0, 148, n),
               rng.integers(0, 4, n)]
    survived = ((sex == 1) & (pclass < 3)) | (rng.uniform(size=n) < 0.2)
    return np.stack(columns, axis=1).astype(np.float32), survived.astype(np.int64)


def _county_like(n=32):
    """Sixteen county statistics at their raw scales (population in the 1e5s down to shares around 0.5)."""
    rng = _rng()
    scales = np.array([3e5, 40, 40, 15, 15, 15, 5e4, 5e4, 2.5, 55, 20, 20, 7e4, 0.5, 0.5, 0.5])
    x = rng.uniform(0.2, 1.8, (n, 16)) * scales
    winner = (x[:, 9] / 55 + x[:, 13] + rng.normal(0, 0.2, n) > 1.5).astype(np.int64)
    return x.astype(np.float32), data.one_hot(winner, 2)


def _raw_multilabel(n=128, features=20, labels=3):
    x, y = datasets.make_multilabel_classification(n_samples=n, n_features=features, n_classes=labels,
                                                   random_state=0)
    return x.astype(np.float32), y.astype(np.float32)


def _bit_rows():
    """All 256 rows of 8 bits."""
    return ((np.arange(256)[:, None] >> np.arange(7, -1, -1)) & 1).astype(np.float32)


def _letter_codes(n=64):
    """Three integer features between 65 and 70 (character codes), and a binary label."""
    rng = _rng()
    x = rng.integers(65, 71, (n, 3)).astype(np.float32)
    return x, ((x[:, 0] + x[:, 1] - x[:, 2]) > 67.5).astype(np.float32)


def _network_packets(n=64):
    """Eleven packet fields: IP addresses as integers (~3.2e9), protocol, sizes, ports, flags."""
    rng = _rng()
    src, dst = 3232235770 + rng.integers(0, 10, n), 3232235779 + rng.integers(0, 3, n)
    port, flags = rng.integers(1000, 60000, n), rng.integers(0, 2, n)
    columns = [src, dst, np.full(n, 6), np.full(n, 128), rng.integers(500000, 530000, n), port,
               12 * flags, 61 * flags, 6 * flags, np.zeros(n), 206 * flags]
    attack = (flags == 1) & (port > 30000)
    return np.stack(columns, axis=1).astype(np.float32), attack.astype(np.float32)


def _adult_like(n=128):
    """Fourteen census columns, label-encoded and unscaled (fnlwgt in the 1e5s, capital gain to 1e5)."""
    rng = _rng()
    age, education, hours = rng.integers(17, 91, n), rng.integers(1, 17, n), rng.integers(1, 100, n)
    gain = np.where(rng.uniform(size=n) < 0.1, rng.integers(1000, 99999, n), 0)
    columns = [age, rng.integers(0, 9, n), rng.integers(10000, 1000000, n), rng.integers(0, 16, n), education,
               rng.integers(0, 7, n), rng.integers(0, 14, n), rng.integers(0, 6, n), rng.integers(0, 5, n),
               rng.integers(0, 2, n), gain, rng.integers(0, 4357, n) * (gain == 0), hours, rng.integers(0, 41, n)]
    rich = (education > 12) & (hours > 40) | (gain > 5000)
    return np.stack(columns, axis=1).astype(np.float32), data.one_hot(rich.astype(np.int64), 2)


def _digit_images(n=128, classes=10, scale=1.0):
    """8x8x1 digit images of the first ``classes`` digits, pixels in [0, scale], and their labels."""
    x, labels = datasets.load_digits(n_class=classes, return_X_y=True)
    return (x[:n] / 16.0 * scale).reshape(-1, 8, 8, 1).astype(np.float32), labels[:n].astype(np.int64)


def _number_digits(n=128):
    """One huge number per row (1e13 to 1e16) and 69 multi-hot columns: its first six digits and its length."""
    rng = _rng()
    numbers = rng.integers(10 ** 13, 10 ** 16, n)
    y = np.zeros((n, 69), dtype=np.float32)
    for row, number in enumerate(numbers):
        text = str(number)
        y[row, [10 * position + int(digit) for position, digit in enumerate(text[:6])]] = 1
        y[row, 60 + len(text) - 14] = 1
    return numbers.reshape(-1, 1).astype(np.float32), y


# --- builders ----------------------------------------------------------------------------------

def _build_31556268(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _xor_column()
    model = _sequential(keras, (2,), [_dense(L, 4, "sigmoid"), _dense(L, 1, "sigmoid")])
    if buggy:
        return model, x, y, "mean_absolute_error", keras.optimizers.SGD(0.05, momentum=0.11, nesterov=True)
    return model, x, y, "mse", keras.optimizers.Adam()


def _build_31627380(buggy):
    keras = _keras()
    L = keras.layers
    x, survived = _titanic_like()
    head = L.Dense(2, activation="softmax" if buggy else "sigmoid")
    model = _sequential(keras, (10,), [L.Dense(512, activation="relu"), L.Dropout(0.5), head])
    loss = "categorical_crossentropy" if buggy else "binary_crossentropy"
    return model, x, data.one_hot(survived, 2), loss, keras.optimizers.Adam()


def _build_31880720(buggy):
    keras = _keras()
    L = keras.layers
    x = np.repeat(np.array([[1.0], [0.0]], dtype=np.float32), 32, axis=0) * np.ones((1, 128), dtype=np.float32)
    y = x[:, :1].copy()  # rows of ones are True, rows of zeros False
    layers = [L.Dense(50, activation="relu"), L.Dropout(0.2), L.Dense(50, activation="relu"), L.Dropout(0.2),
              L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    return _sequential(keras, (128,), layers), x, y, "binary_crossentropy", keras.optimizers.RMSprop()


def _build_33969059(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = (10000 * rng.uniform(size=(128, 3))).astype(np.float32)
    y = (x @ np.array([2.0, 1.0, 0.5]) + 2.2).astype(np.float32).reshape(-1, 1)
    layers = [_dense(L, 3, "tanh", "random_uniform"), L.Dropout(0.5), _dense(L, 2, "tanh", "random_uniform"),
              L.Dropout(0.5), _dense(L, 1, "softmax" if buggy else None, "random_uniform")]
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    return _sequential(keras, (3,), layers), x, y, "mean_squared_error", optimizer


def _build_34311586(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _xor_column()
    layers = [_dense(L, 2, "sigmoid", "random_uniform"), _dense(L, 3, "sigmoid", "random_uniform"),
              _dense(L, 1, "softmax" if buggy else "sigmoid", "random_uniform")]
    optimizer = keras.optimizers.SGD(0.001 if buggy else 0.1, momentum=0.9, nesterov=True)
    return _sequential(keras, (2,), layers), x, y, "mean_squared_error", optimizer


def _build_34673164(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _county_like()
    body = [_dense(L, 64, "tanh", "random_uniform"), L.Dropout(0.5), _dense(L, 64, "tanh", "random_uniform"),
            L.Dropout(0.5), _dense(L, 2, "softmax" if buggy else "sigmoid", "random_uniform")]
    layers = body if buggy else [L.BatchNormalization(), *body]
    loss = "mean_squared_error" if buggy else "binary_crossentropy"
    return _sequential(keras, (16,), layers), x, y, loss, keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True)


def _build_38648195(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _raw_multilabel()
    layers = [L.Dense(20, activation="relu"), L.Dropout(0.5), L.Dense(20, activation="relu"), L.Dropout(0.5),
              L.Dense(3, activation="softmax" if buggy else "sigmoid")]
    loss = "mean_squared_error" if buggy else "binary_crossentropy"
    return _sequential(keras, (20,), layers), x, y, loss, keras.optimizers.SGD()


def _build_39217567(buggy):
    keras = _keras()
    L = keras.layers
    x = _bit_rows()
    y = x[_rng().permutation(256)] if buggy else x.copy()  # the correct program drops the shuffle of y
    hidden = "sigmoid" if buggy else "relu"
    layers = [_dense(L, 8, hidden, "random_normal"), _dense(L, 8, hidden, "random_normal"),
              _dense(L, 8, "sigmoid", "random_normal")]
    loss = "mse" if buggy else "binary_crossentropy"
    return _sequential(keras, (8,), layers), x, y, loss, keras.optimizers.SGD()


def _build_39525358(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _letter_codes()
    layers = [_dense(L, 12, "relu", "random_uniform"), _dense(L, 3, "relu", "random_uniform"),
              _dense(L, 1, "sigmoid", "random_uniform")]
    x = x if buggy else data.standardise(x)
    return _sequential(keras, (3,), layers), x, y, "binary_crossentropy", keras.optimizers.Adam()


def _build_44066044(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _network_packets()
    layers = [_dense(L, 12, "relu", "random_normal"), _dense(L, 12, "relu", "random_normal"),
              _dense(L, 1, "relu" if buggy else "sigmoid", "random_normal")]
    x = x if buggy else data.standardise(x)
    return _sequential(keras, (11,), layers), x, y, "binary_crossentropy", keras.optimizers.Adam()


def _build_44164749(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    layers = [L.Dense(512, activation="relu"), L.Dropout(0.1), L.Dense(128, activation="relu"), L.Dropout(0.1),
              L.Dense(10, activation="softmax" if buggy else "sigmoid")]
    loss = "categorical_crossentropy" if buggy else "binary_crossentropy"
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True)
    return _sequential(keras, (64,), layers), x / 16.0, data.one_hot(labels, 10), loss, optimizer


def _build_45337371(buggy):
    keras = _keras()
    L = keras.layers
    x = _rng().uniform(size=(64, 5)).astype(np.float32)
    y = (x.sum(axis=1) > 2.5).astype(np.float32).reshape(-1, 1)
    layers = [L.Dense(60, activation="relu"), L.Dense(50, activation="relu"),
              L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    return _sequential(keras, (5,), layers), x, y, "binary_crossentropy", keras.optimizers.Adam()


def _build_45442843(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.uniform(15000, 25000, (128, 1)).astype(np.float32)
    y = ((x[:, 0] + rng.normal(0, 1500, 128)) < 20000).astype(np.float32)
    head = _dense(L, 1, "softmax" if buggy else "sigmoid", "random_normal")
    model = _sequential(keras, (1,), [L.Dense(1, activation="sigmoid"), head])
    x = x if buggy else data.standardise(x)
    loss = "mean_absolute_error" if buggy else "binary_crossentropy"
    return model, x, y, loss, keras.optimizers.RMSprop()


def _build_47352366(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    bias = keras.initializers.Constant(0.1)
    layers = [L.Reshape((8, 8, 1)),
              L.Conv2D(32, 5, padding="same", activation="relu", bias_initializer=bias), L.MaxPooling2D(padding="same"),
              L.Conv2D(64, 5, padding="same", activation="relu", bias_initializer=bias), L.MaxPooling2D(padding="same"),
              L.Dense(128, activation="relu", bias_initializer=bias), L.Dropout(0.5), L.Flatten(),
              L.Dense(10, activation="relu" if buggy else "softmax")]
    model = _sequential(keras, (64,), layers)
    return model, x / 16.0, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam()


def _build_47724077(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _adult_like()
    model = _sequential(keras, (14,), [L.Dense(21, activation="relu"), L.Dense(2, activation="softmax")])
    optimizer = keras.optimizers.Adam() if buggy else keras.optimizers.SGD()
    return model, x, y, "categorical_crossentropy", optimizer


def _build_48221692(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(-10, 10, 0.2, dtype=np.float32).reshape(-1, 1)
    y = x ** 2 + 3
    layers = [L.Dense(5, activation="sigmoid"), L.Dense(1, activation="sigmoid" if buggy else None)]
    model = _sequential(keras, (1,), layers)
    return model, x, y, "mean_squared_error", keras.optimizers.SGD()


def _build_48251943(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = rng.normal(0.6, 0.9, (32, 2)).astype(np.float32)
    y = (0.8 + 0.5 * x[:, 0] - 0.3 * x[:, 1] + rng.normal(0, 0.6, 32)).astype(np.float32)  # about -1 to 2.7
    layers = [L.Dense(4, activation="relu"), L.Dense(1, activation="relu" if buggy else "tanh")]
    model = _sequential(keras, (2,), layers)
    return model, x, y, "mean_squared_error", keras.optimizers.SGD()


def _build_48385830(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    init = {"kernel_initializer": keras.initializers.RandomNormal(stddev=1.0),
            "bias_initializer": keras.initializers.RandomNormal(stddev=1.0)}
    layers = [L.Dense(30, activation=None if buggy else "sigmoid", **init),
              L.Dense(10, activation=None if buggy else "softmax", **init)]
    loss = "mean_squared_error" if buggy else "categorical_crossentropy"
    return _sequential(keras, (64,), layers), x / 16.0, data.one_hot(labels, 10), loss, keras.optimizers.SGD(3.0)


def _build_48594888(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_images(scale=1.0 if not buggy else 255.0)
    kernel, width, dropout = (3, 64, 0.3) if buggy else (2, 128, 0.4)
    layers = [L.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal"), L.MaxPooling2D(2),
              L.Conv2D(32, kernel, padding="same", activation="relu", kernel_initializer="he_normal"),
              L.MaxPooling2D(2), L.Flatten(), L.Dense(width, activation="relu"), L.Dropout(dropout),
              L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam()


def _build_48934338(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(0.0, 5.0, 0.1, dtype=np.float32).reshape(-1, 1)
    y = (5 * x ** 2 + _rng().normal(size=(50, 1)) ** 3).astype(np.float32)
    layers = [L.Dense(50, activation="relu"), _dense(L, 30, "relu", "random_uniform"), L.Dense(1)]
    return _sequential(keras, (1,), layers), x, y, "mse", keras.optimizers.SGD(0.1 if buggy else 0.001)


def _build_50079585(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_images(classes=3)
    conv = [L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2)]
    head = [L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.5),
            L.Dense(1, activation="sigmoid") if buggy else L.Dense(3, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), conv + head)
    if buggy:  # class_mode="binary" with three class folders: labels 0, 1 and 2
        return model, x, labels.astype(np.float32).reshape(-1, 1), "binary_crossentropy", keras.optimizers.RMSprop()
    return model, x, data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.RMSprop()


def _build_50306988(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    x = np.concatenate([rng.uniform(0.2, 0.4, (64, 2)), rng.uniform(0.5, 0.7, (64, 2))]).astype(np.float32)
    labels = np.repeat([0, 1], 64)
    hidden = L.Dense(2, activation="sigmoid")
    if buggy:
        model = _sequential(keras, (2,), [hidden, L.Dense(2, activation="softmax")])
        return model, x, data.one_hot(labels, 2), "categorical_crossentropy", keras.optimizers.Adam()
    model = _sequential(keras, (2,), [hidden, L.Dense(1, activation="sigmoid")])
    return model, x, labels.astype(np.float32), "binary_crossentropy", keras.optimizers.Adam()


def _build_50481178(buggy):
    keras = _keras()
    L = keras.layers
    x, y = datasets.make_multilabel_classification(n_samples=128, n_features=4, n_classes=1, random_state=0)
    hidden = [L.Dense(units, activation="relu") for units in (10, 20, 30, 40, 50)]
    if buggy:
        model = _sequential(keras, (4,), hidden + [L.Dense(1, activation="sigmoid")])
        return model, x.astype(np.float32), y.astype(np.float32), "binary_crossentropy", keras.optimizers.Adam()
    model = _sequential(keras, (4,), hidden + [L.Dense(2, activation="softmax")])
    return model, x.astype(np.float32), y.ravel(), "sparse_categorical_crossentropy", keras.optimizers.Adam()


def _build_iris_sigmoid_categorical(buggy, hidden_widths, scale):
    keras = _keras()
    L = keras.layers
    x, labels = data.iris(120)
    hidden = [_dense(L, width, "relu", "random_normal") for width in hidden_widths]
    head = _dense(L, 3, "sigmoid" if buggy else "softmax", "random_normal")
    model = _sequential(keras, (4,), hidden + [head])
    x = x if buggy else scale(x)
    return model, x, data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.Adam()


def _min_max(x):
    return ((x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))).astype(np.float32)


def _build_51930566(buggy):
    return _build_iris_sigmoid_categorical(buggy, (4,), data.standardise)


def _build_59278771(buggy):
    return _build_iris_sigmoid_categorical(buggy, (4,) if buggy else (4, 8), _min_max)


def _build_52800582(buggy):
    keras = _keras()
    L = keras.layers
    x = np.arange(-100, 100, 1.0, dtype=np.float32).reshape(-1, 1)
    y = x ** 4
    if not buggy:
        x, y = data.standardise(x), data.standardise(y)
    layers = [L.Dense(50, activation="sigmoid" if buggy else "relu"), L.Dense(50, activation="elu"), L.Dense(1)]
    return _sequential(keras, (1,), layers), x, y, "mse", keras.optimizers.Adam()


def _build_55328966(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    pixels = x * (255.0 / 16.0)
    layers = [L.Dense(64), L.Dense(50, activation="relu"), L.Dense(10, activation="sigmoid" if buggy else "softmax")]
    x = pixels if buggy else pixels / 255.0
    model = _sequential(keras, (64,), layers)
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.SGD(1e-4)


def _build_58609115(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _number_digits()
    if buggy:
        activations, loss = ("relu", "relu", "softmax"), "categorical_crossentropy"
    else:
        activations, loss = ("sigmoid", "sigmoid", "sigmoid"), "binary_crossentropy"
    layers = [_dense(L, 69, activation, "random_normal") for activation in activations]
    return _sequential(keras, (1,), layers), x, y, loss, keras.optimizers.Adam()


def _build_59325381(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_images()
    layers = [L.Conv2D(64, 3, padding="same"), L.MaxPooling2D(2), L.Conv2D(32, 3, padding="same"),
              L.MaxPooling2D(2), L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    if buggy:  # the labels, not the pixels, were divided by 255
        return model, x, (labels / 255.0).astype(np.float32), "sparse_categorical_crossentropy", keras.optimizers.Adam()
    return model, x, data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam()


K = "keras"
CASES = [
    case("so_31556268_xor_mae_slow_sgd", K, "learning rate too low / slow optimizer", SO + "31556268",
         "A 2-4-1 sigmoid net learns XOR with mean absolute error and SGD at 0.05 (momentum 0.11) and stays at 0.5.",
         "Train with MSE and Adam (and for more epochs).", {"too-few-steps", "update-ratio-low"}, _build_31556268,
         note="The four XOR corners repeated with a little noise (16 rows)."),
    case("so_31627380_titanic_two_unit_softmax", K, "loss/output pairing", SO + "31627380",
         "A Titanic classifier ends in two softmax units with categorical cross-entropy on one-hot labels.",
         "Use two sigmoid units with binary cross-entropy (DeepLocalize's recorded fix).", set(), _build_31627380,
         note=OUTSIDE + "softmax with categorical cross-entropy on one-hot rows is a valid pairing, and no catalogue "
              "code leads to the recorded fix. Synthetic label-encoded passenger columns at the post's raw scales "
              "(unscaled in both twins, as in both programs)."),
    case("so_31880720_one_unit_softmax_constant_rows", K, "loss/output pairing", SO + "31880720",
         "A 128-50-50-1 ReLU net ends in Dense(1) with softmax under binary cross-entropy, so it always outputs 1.",
         "Use a sigmoid on the single output unit.", {"one-unit-softmax"}, _build_31880720,
         note="As in the post, every row is all ones (True) or all zeros (False); 64 rows instead of 20000."),
    case("so_33969059_one_unit_softmax_regression", K, "output activation", SO + "33969059",
         "A 3-3-2-1 tanh regressor with Dropout ends in Dense(1) with softmax, so it predicts 1 for every sample.",
         "Use a linear output unit.", {"one-unit-softmax", "output-cannot-reach-target"}, _build_33969059,
         note="Inputs uniform in [0, 10000] and a linear target of them, as the post's generator; both stay "
              "unscaled in the fixed program too."),
    case("so_34311586_xor_one_unit_softmax", K, "loss/output pairing", SO + "34311586",
         "A 2-2-3-1 sigmoid XOR net ends in Dense(1) with softmax, trained with MSE and SGD at 0.001.",
         "Use a sigmoid output unit and SGD at 0.1.", {"one-unit-softmax"}, _build_34311586,
         note="16 noisy XOR rows instead of the post's 6."),
    case("so_34673164_county_features_softmax_mse", K, "unscaled inputs", SO + "34673164",
         "A 16-feature election classifier is fed raw county statistics (up to the 1e5s) through tanh layers, "
         "with two softmax units under MSE.",
         "Normalise the inputs (a BatchNormalization first layer) and use sigmoid outputs with binary "
         "cross-entropy.", {"unscaled-inputs"}, _build_34673164,
         note="Synthetic county statistics at the scales of the post's CSV; 32 rows instead of 9."),
    case("so_38648195_multilabel_softmax_mse", K, "softmax vs multi-hot targets", SO + "38648195",
         "A multi-label net (three labels, several on per row) ends in softmax and is trained with MSE.",
         "Use sigmoid outputs with binary cross-entropy.", {"output-cannot-reach-target"}, _build_38648195,
         note="make_multilabel_classification as in the post (raw counts as features), 128 rows."),
    case("so_39217567_sigmoid_stack_mse_bits", K, "vanishing gradients / slow optimizer", SO + "39217567",
         "An 8-8-8-8 sigmoid net is trained with MSE and plain SGD to map 8-bit rows to a shuffled copy of them.",
         "Use ReLU hidden layers, binary cross-entropy and batches of one (the fix also drops the shuffle).",
         {"vanishing-gradients", "too-few-steps", "update-ratio-low"}, _build_39217567,
         note="All 256 8-bit rows, as in the post; the fixed twin learns the identity, as the correct program does."),
    case("so_39525358_unscaled_offset_features", K, "unscaled inputs", SO + "39525358",
         "A 3-12-3-1 binary classifier is fed three integer features between 65 and 70, unscaled.",
         "Standardise the inputs.", {"unscaled-inputs"}, _build_39525358,
         note="Synthetic character-code features and a label rule of them, 64 rows."),
    case("so_44066044_ip_address_features_relu_output", K, "unscaled inputs / output activation", SO + "44066044",
         "A packet classifier is fed raw IP addresses (~3.2e9) and ports, and ends in a ReLU unit under binary "
         "cross-entropy.",
         "Scale the inputs and use a sigmoid output unit.", {"unscaled-inputs", "logits-into-probability-loss"},
         _build_44066044,
         note="Synthetic packet rows of the CSV's kind (64 instead of 20)."),
    case("so_44164749_mnist_softmax_to_sigmoid", K, "loss/output pairing", SO + "44164749",
         "An MNIST MLP ends in ten softmax units with categorical cross-entropy.",
         "Use sigmoid outputs with binary cross-entropy (DeepLocalize's recorded fix).", set(), _build_44164749,
         note=OUTSIDE + "softmax with categorical cross-entropy is right for one label per image; the recorded fix "
              "changes the reported accuracy, not a bug diagnose could see. Digits stand in for MNIST, and the "
              "5000-600 hidden layers are 512-128."),
    case("so_45337371_one_unit_softmax_gradient", K, "loss/output pairing", SO + "45337371",
         "A 5-60-50-1 binary classifier ends in Dense(1) with softmax, so its output and its gradient are constant.",
         "Use a sigmoid on the single output unit.", {"one-unit-softmax"}, _build_45337371,
         note="The post only takes the gradient of the output with respect to the input; a label rule of the "
              "uniform inputs is ours, so that there is a loss to diagnose."),
    case("so_45442843_unscaled_feature_one_unit_softmax", K, "loss/output pairing / unscaled inputs", SO + "45442843",
         "A one-feature classifier (values near 20000, unscaled) ends in Dense(1) with softmax under mean absolute "
         "error.",
         "Scale the input, use a sigmoid output and binary cross-entropy.", {"one-unit-softmax", "unscaled-inputs"},
         _build_45442843,
         note="Synthetic feature at the CSV's scale, 128 rows."),
    case("so_47352366_relu_output_categorical_cnn", K, "loss/output pairing", SO + "47352366",
         "An MNIST CNN ends in Dense(10) with ReLU and is trained with categorical cross-entropy; the loss turns NaN.",
         "Use a softmax output layer.", {"logits-into-probability-loss", "rows-not-probabilities"}, _build_47352366,
         note="8x8 digits stand in for MNIST; the 1024-unit Dense layer is 128 units."),
    case("so_47724077_adult_adam_vs_sgd", K, "optimizer choice", SO + "47724077",
         "A 14-21-2 census classifier on unscaled label-encoded columns is trained with Adam; the loss stays near 30.",
         "Train with SGD instead of Adam (DeepLocalize's recorded fix).", set(), _build_47724077,
         note=OUTSIDE + "no catalogue code leads to swapping Adam for SGD. The columns are unscaled in both "
              "programs (unscaled-inputs would be the sensible finding, but it is not the recorded fix). "
              "Synthetic census columns at the adult data's scales, 128 rows."),
    case("so_48221692_sigmoid_output_regression", K, "output activation", SO + "48221692",
         "A 1-5-1 regressor of y = x**2 + 3 (targets up to 103) ends in a sigmoid unit.",
         "Use a linear output unit.", {"output-cannot-reach-target"}, _build_48221692,
         note="The post's curve on x in [-10, 10) at step 0.2 (100 rows)."),
    case("so_48251943_relu_output_negative_target", K, "output activation", SO + "48251943",
         "A 2-4-1 regressor ends in a ReLU unit while some targets are negative.",
         "Use a tanh output unit (DeepLocalize's recorded fix).", {"output-cannot-reach-target", "dead-relu"},
         _build_48251943,
         note="Synthetic rows of the CSV's kind (targets about -1 to 2.7, 32 rows instead of 17). Most targets "
              "exceed 1, which the recorded tanh fix cannot reach either."),
    case("so_48385830_linear_stack_mse_lr3", K, "linear stack", SO + "48385830",
         "A 784-30-10 MNIST net has no activation at all, weights drawn with standard deviation 1, MSE and SGD at 3.0.",
         "Add a sigmoid to the hidden layer and a softmax output with categorical cross-entropy.", {"linear-stack"},
         _build_48385830,
         note="Digits (scaled to [0, 1]) stand in for MNIST; the learning rate of 3.0 is kept in the fixed twin, "
              "as in the correct program."),
    case("so_48594888_unscaled_cifar_pixels", K, "unscaled inputs", SO + "48594888",
         "A CIFAR-10 CNN is trained on raw 0-255 pixel values.",
         "Scale the pixels to [0, 1] (the fix also narrows a kernel, widens the Dense layer and raises Dropout).",
         {"unscaled-inputs"}, _build_48594888,
         note="8x8 digits rescaled to 0-255 stand in for CIFAR-10; filters 16/32 instead of 64/256."),
    case("so_48934338_sgd_lr_0_1_regression", K, "learning rate too high", SO + "48934338",
         "A 1-50-30-1 ReLU regressor of y = 5x**2 (targets up to 125) is trained with SGD at 0.1 and diverges.",
         "Lower the learning rate to 0.001.", {"lr-too-high", "non-finite-loss", "exploding-gradients"},
         _build_48934338,
         note="The post's own data: 50 points of 5x**2 plus cubed noise."),
    case("so_50079585_three_classes_one_sigmoid", K, "output activation", SO + "50079585",
         "A three-class image CNN ends in one sigmoid unit with binary cross-entropy, so labels 0, 1, 2 are fed to it.",
         "Use three softmax units with categorical cross-entropy (class_mode='categorical').",
         {"output-cannot-reach-target"}, _build_50079585,
         note="8x8 digits of classes 0-2 stand in for 150x150 photos; 'same' padding keeps the three pooling stages "
              "possible."),
    case("so_50306988_two_unit_softmax_few_epochs", K, "loss/output pairing / too few epochs", SO + "50306988",
         "A 2-2-2 classifier of two well separated clusters ends in two softmax units and is trained for 5 epochs.",
         "Use one sigmoid unit with binary cross-entropy (and train 50 epochs, as the correct program does).",
         {"too-few-steps"}, _build_50306988,
         note="The output change alone is equivalent; the correct program also trains ten times longer, which "
              "too-few-steps would point to. Clusters as in the post, 128 rows."),
    case("so_50481178_sigmoid_to_two_unit_softmax", K, "loss/output pairing", SO + "50481178",
         "A binary classifier with five ReLU layers ends in one sigmoid unit with binary cross-entropy.",
         "Use two softmax units with sparse categorical cross-entropy (DeepLocalize's recorded fix).", set(),
         _build_50481178,
         note=OUTSIDE + "the buggy program already reaches 99.4% accuracy in DeepLocalize's table; the pairing is "
              "valid. make_multilabel_classification with one class, as in the post, 128 rows."),
    case("so_51930566_iris_sigmoid_categorical", K, "sigmoid into categorical cross-entropy", SO + "51930566",
         "An iris classifier trained on unscaled features ends in three sigmoid units with categorical cross-entropy.",
         "Use a softmax output layer (the correct program also trains on the standardised features).",
         {"rows-not-probabilities", "unscaled-inputs"}, _build_51930566),
    case("so_52800582_unscaled_quartic", K, "unscaled inputs", SO + "52800582",
         "A 1-50-50-1 net regresses y = x**4 on raw x in [-100, 100], so targets reach 1e8.",
         "Standardise x and y (the fix also uses ReLU in the first layer).",
         {"unscaled-inputs", "exploding-gradients", "non-finite-loss"}, _build_52800582,
         note="Step 1 instead of 0.5 (200 rows)."),
    case("so_55328966_raw_pixels_sigmoid_categorical", K, "unscaled inputs / sigmoid into categorical",
         SO + "55328966",
         "An MNIST MLP is trained on raw 0-255 pixels with ten sigmoid outputs under categorical cross-entropy.",
         "Divide the pixels by 255 and use a softmax output layer.", {"unscaled-inputs", "rows-not-probabilities"},
         _build_55328966,
         note="8x8 digits rescaled to 0-255 stand in for MNIST; the 784-unit linear first layer is 64 units."),
    case("so_58609115_multi_hot_softmax_huge_input", K, "softmax vs multi-hot targets", SO + "58609115",
         "A net maps one huge number (1e13 to 1e16) to 69 multi-hot columns through ReLU layers and a softmax "
         "output with categorical cross-entropy.",
         "Use sigmoid layers and outputs with binary cross-entropy.", {"output-cannot-reach-target"},
         _build_58609115,
         note="The post's CSV is not in the repository; the correct program generates such numbers, here their "
              "first six digits and length are the multi-hot targets. The input stays unscaled in both twins."),
    case("so_59278771_iris_sigmoid_categorical", K, "sigmoid into categorical cross-entropy", SO + "59278771",
         "An iris classifier on raw features ends in three sigmoid units with categorical cross-entropy.",
         "Use a softmax output (the fix also min-max scales the inputs and adds a Dense(8) layer).",
         {"rows-not-probabilities", "unscaled-inputs"}, _build_59278771),
    case("so_59325381_labels_divided_by_255", K, "corrupted labels", SO + "59325381",
         "An MNIST CNN divides the labels (not the test pixels) by 255, so sparse categorical cross-entropy "
         "sees labels that all round down to 0.",
         "Keep the labels as integers (one-hot with categorical cross-entropy) and scale the test pixels.",
         {"init-loss-off"}, _build_59325381,
         note="No catalogue code names corrupted labels; init-loss-off, whose fix says to check the labels, is the "
              "closest. 8x8 digits stand in for MNIST."),
]

# 41372874 is not rebuilt: its folder holds no correct program and DeepLocalize's table records
# "No issue in the structure", so there is no bug and no fix to pair.
NOT_REBUILT = {"41372874": "no correct program; DeepLocalize records no issue in the structure"}
